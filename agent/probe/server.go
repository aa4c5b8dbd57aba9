package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// ServerConfig bounds what the probe server spends on its peers. Zero fields take the defaults.
type ServerConfig struct {
	// MaxConnections is how many sessions may be open at once; more are refused with ERROR busy.
	// MaxConnectionsPerPeer is how many of them one peer address (IPv6: one /64) may hold (ERROR
	// rate-limited above), so that one host cannot fill the server with silent or slow connections.
	MaxConnections        int
	MaxConnectionsPerPeer int
	// SessionsPerMinute and SessionBurst limit new sessions per peer address, IPv6 per /64 (a token bucket).
	SessionsPerMinute float64
	SessionBurst      int
	// MaxTrackedPeers bounds the rate limiter's memory; a new address is refused while it is full of active peers.
	MaxTrackedPeers int
	// MaxFrame is the largest DATA payload the server sends.
	MaxFrame uint32
	// IOTimeout bounds every read and write; SessionTimeout bounds a whole session.
	IOTimeout      time.Duration
	SessionTimeout time.Duration
	// MaxEchoes and MaxTransfers bound the work one session may ask for.
	MaxEchoes    uint32
	MaxTransfers uint32
	// MaxTransferBytes and MaxTransferDuration cap one transfer; requests above them are clamped.
	MaxTransferBytes    uint64
	MaxTransferDuration time.Duration
}

// DefaultServerConfig returns the limits an agent serves with unless configured otherwise.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		MaxConnections:        64,
		MaxConnectionsPerPeer: 4,
		SessionsPerMinute:     30,
		SessionBurst:          10,
		MaxTrackedPeers:       4096,
		MaxFrame:              DefaultMaxFrame,
		IOTimeout:             10 * time.Second,
		SessionTimeout:        60 * time.Second,
		MaxEchoes:             100,
		MaxTransfers:          1,
		MaxTransferBytes:      64 << 20,
		MaxTransferDuration:   5 * time.Second,
	}
}

func (c ServerConfig) withDefaults() ServerConfig {
	d := DefaultServerConfig()
	if c.MaxConnections == 0 {
		c.MaxConnections = d.MaxConnections
	}
	if c.MaxConnectionsPerPeer == 0 {
		c.MaxConnectionsPerPeer = d.MaxConnectionsPerPeer
	}
	if c.SessionsPerMinute == 0 {
		c.SessionsPerMinute = d.SessionsPerMinute
	}
	if c.SessionBurst == 0 {
		c.SessionBurst = d.SessionBurst
	}
	if c.MaxTrackedPeers == 0 {
		c.MaxTrackedPeers = d.MaxTrackedPeers
	}
	if c.MaxFrame == 0 {
		c.MaxFrame = d.MaxFrame
	}
	if c.IOTimeout == 0 {
		c.IOTimeout = d.IOTimeout
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = d.SessionTimeout
	}
	if c.MaxEchoes == 0 {
		c.MaxEchoes = d.MaxEchoes
	}
	if c.MaxTransfers == 0 {
		c.MaxTransfers = d.MaxTransfers
	}
	if c.MaxTransferBytes == 0 {
		c.MaxTransferBytes = d.MaxTransferBytes
	}
	if c.MaxTransferDuration == 0 {
		c.MaxTransferDuration = d.MaxTransferDuration
	}
	return c
}

// Validate reports the first limit that is out of range.
func (c ServerConfig) Validate() error {
	switch {
	case c.MaxConnections < 1:
		return fmt.Errorf("probe server: max connections %d must be at least 1", c.MaxConnections)
	case c.MaxConnectionsPerPeer < 1:
		return fmt.Errorf("probe server: max connections per peer %d must be at least 1", c.MaxConnectionsPerPeer)
	case c.SessionsPerMinute <= 0:
		return fmt.Errorf("probe server: sessions per minute %g must be positive", c.SessionsPerMinute)
	case c.SessionBurst < 1:
		return fmt.Errorf("probe server: session burst %d must be at least 1", c.SessionBurst)
	case c.MaxTrackedPeers < 1:
		return fmt.Errorf("probe server: max tracked peers %d must be at least 1", c.MaxTrackedPeers)
	case c.MaxFrame < MinMaxFrame || c.MaxFrame > 16<<20:
		return fmt.Errorf("probe server: max frame %d bytes must be between %d and %d", c.MaxFrame, MinMaxFrame, 16<<20)
	case c.IOTimeout <= 0 || c.SessionTimeout <= 0:
		return fmt.Errorf("probe server: timeouts must be positive (io %s, session %s)", c.IOTimeout, c.SessionTimeout)
	case c.MaxTransferDuration < time.Millisecond || c.MaxTransferDuration > time.Minute:
		return fmt.Errorf("probe server: max transfer duration %s must be between 1ms and 1m", c.MaxTransferDuration)
	case c.MaxTransferDuration >= c.SessionTimeout:
		return fmt.Errorf("probe server: max transfer duration %s must be shorter than the session timeout %s", c.MaxTransferDuration, c.SessionTimeout)
	}
	return nil
}

// ServerStats counts what the server did since it started.
type ServerStats struct {
	ActiveConnections   int64
	Sessions            uint64 // handshakes completed
	RejectedBusy        uint64
	RejectedRateLimited uint64
	RejectedPeerLimit   uint64 // the peer address had MaxConnectionsPerPeer open
	ProtocolErrors      uint64 // malformed, unexpected or oversized frames, wrong versions, exceeded session limits
	Timeouts            uint64
	Echoes              uint64
	BytesSent           uint64 // DATA payload bytes
}

// Server is an agent's probe endpoint. Create it with Listen, run it with Serve.
type Server struct {
	cfg     ServerConfig
	log     *slog.Logger
	ln      net.Listener
	limiter *peerLimiter
	slots   chan struct{} // one per open session
	refuse  chan struct{} // bounds connections being refused politely (ERROR busy) at once
	chunk   []byte        // DATA payload, shared read-only by all sessions

	serving atomic.Bool
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	perPeer map[string]int // open connections by peer IP address
	closed  bool
	wg      sync.WaitGroup

	active                                                  atomic.Int64
	sessions, busy, rateLimited, protocol, timeouts, echoes atomic.Uint64
	bytesSent, peerLimited                                  atomic.Uint64
}

// Listen binds addr (host:port; port 0 picks one) and returns a server ready to Serve.
func Listen(addr string, cfg ServerConfig, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("probe server: listen on %s: %w", addr, err)
	}
	return &Server{
		cfg:     cfg,
		log:     log,
		ln:      ln,
		limiter: newPeerLimiter(rate.Limit(cfg.SessionsPerMinute/60), cfg.SessionBurst, cfg.MaxTrackedPeers),
		slots:   make(chan struct{}, cfg.MaxConnections),
		refuse:  make(chan struct{}, 16),
		chunk:   make([]byte, cfg.MaxFrame),
		conns:   make(map[net.Conn]struct{}),
		perPeer: make(map[string]int),
	}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Limits are the per-session limits the server announces.
func (s *Server) Limits() Limits {
	return Limits{MaxFrame: s.cfg.MaxFrame, MaxEchoes: s.cfg.MaxEchoes, MaxTransferBytes: s.cfg.MaxTransferBytes,
		MaxTransferDuration: s.cfg.MaxTransferDuration}
}

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		ActiveConnections:   s.active.Load(),
		Sessions:            s.sessions.Load(),
		RejectedBusy:        s.busy.Load(),
		RejectedRateLimited: s.rateLimited.Load(),
		RejectedPeerLimit:   s.peerLimited.Load(),
		ProtocolErrors:      s.protocol.Load(),
		Timeouts:            s.timeouts.Load(),
		Echoes:              s.echoes.Load(),
		BytesSent:           s.bytesSent.Load(),
	}
}

// Close stops the listener; Serve then closes every open connection and returns.
func (s *Server) Close() error {
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// Serve accepts probe sessions until ctx is done or Close is called, then closes every open connection and waits
// for their goroutines before returning nil. It may be called once.
func (s *Server) Serve(ctx context.Context) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("probe server: Serve called twice")
	}
	stop := context.AfterFunc(ctx, func() { _ = s.ln.Close() })
	defer stop()
	defer s.shutdown()
	s.log.Info("probe server listening", "addr", s.ln.Addr().String(), "max_connections", s.cfg.MaxConnections,
		"sessions_per_minute_per_peer", s.cfg.SessionsPerMinute)

	const minBackoff, maxBackoff = 5 * time.Millisecond, time.Second
	backoff := minBackoff
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Running out of file descriptors and the like: wait instead of spinning.
			s.log.Warn("probe server: accept failed; retrying", "error", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		s.dispatch(ctx, conn)
	}
}

func (s *Server) dispatch(ctx context.Context, conn net.Conn) {
	host := peerHost(conn.RemoteAddr())
	if !s.openFrom(host) {
		s.peerLimited.Add(1)
		s.refuseWith(conn, CodeRateLimited, fmt.Sprintf("rate limited: %s has %d probe connections open, the most one peer may; retry later",
			host, s.cfg.MaxConnectionsPerPeer))
		return
	}
	select {
	case s.slots <- struct{}{}:
		s.spawn(conn, func() {
			defer func() { <-s.slots }()
			defer s.closeFrom(host)
			s.active.Add(1)
			defer s.active.Add(-1)
			s.session(ctx, conn)
		})
	default:
		s.closeFrom(host)
		s.busy.Add(1)
		s.refuseWith(conn, CodeBusy, fmt.Sprintf("busy: the server has %d probe connections open, its maximum; retry later", s.cfg.MaxConnections))
	}
}

// openFrom counts a new connection from host, unless host has MaxConnectionsPerPeer open.
func (s *Server) openFrom(host string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perPeer[host] >= s.cfg.MaxConnectionsPerPeer {
		return false
	}
	s.perPeer[host]++
	return true
}

func (s *Server) closeFrom(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perPeer[host]--; s.perPeer[host] <= 0 {
		delete(s.perPeer, host)
	}
}

// refuseWith answers ERROR code on conn from a bounded set of goroutines, or closes it without a word when
// that set is full too.
func (s *Server) refuseWith(conn net.Conn, code ErrorCode, msg string) {
	select {
	case s.refuse <- struct{}{}:
		s.spawn(conn, func() {
			defer func() { <-s.refuse }()
			s.refuseConn(conn, code, msg)
		})
	default:
		_ = conn.Close()
	}
}

// spawn runs fn for conn on a tracked goroutine, unless the server is shutting down.
func (s *Server) spawn(conn net.Conn, fn func()) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.Close()
		return
	}
	s.conns[conn] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
			_ = conn.Close()
		}()
		fn()
	}()
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.log.Info("probe server stopped", "addr", s.ln.Addr().String())
}

// refuseConn reads the client's HELLO (so that closing does not reset the connection before the client reads
// the answer) and answers ERROR code.
func (s *Server) refuseConn(conn net.Conn, code ErrorCode, msg string) {
	fc := newFrameConn(conn, controlFrameMax, controlFrameMax, min(s.cfg.IOTimeout, 2*time.Second))
	if _, _, err := fc.read(); err != nil {
		return
	}
	fc.writeError(code, msg)
}

func (s *Server) session(ctx context.Context, conn net.Conn) {
	fc := newFrameConn(conn, controlFrameMax, s.cfg.MaxFrame, s.cfg.IOTimeout)
	fc.end = time.Now().Add(s.cfg.SessionTimeout)
	err := s.serveSession(ctx, fc, peerHost(conn.RemoteAddr()))
	log := s.log.With("peer", conn.RemoteAddr().String())
	switch {
	case err == nil, errors.Is(err, io.EOF), ctx.Err() != nil:
		return
	case errors.Is(err, ErrRateLimited):
		log.Debug("probe session refused: rate limited")
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.timeouts.Add(1)
		log.Debug("probe session timed out", "error", err)
	case errors.Is(err, ErrProtocol), errors.Is(err, ErrFrameTooLarge), errors.Is(err, errSessionLimit), errors.Is(err, ErrVersion):
		s.protocol.Add(1)
		log.Debug("probe session ended on a protocol error", "error", err)
	default:
		log.Debug("probe session ended", "error", err)
	}
}

var errSessionLimit = errors.New("probe: session limit exceeded")

// fail answers ERROR code and returns err.
func fail(fc *frameConn, code ErrorCode, err error) error {
	fc.writeError(code, err.Error())
	return err
}

func (s *Server) serveSession(ctx context.Context, fc *frameConn, peer string) error {
	t, p, err := fc.read()
	if err != nil {
		if errors.Is(err, ErrFrameTooLarge) {
			return fail(fc, CodeFrameTooLarge, err)
		}
		return err
	}
	if t != frameHello {
		return fail(fc, CodeProtocol, fmt.Errorf("%w: expected HELLO, got %s", ErrProtocol, t))
	}
	h, err := parseHello(p)
	if err != nil {
		return fail(fc, CodeProtocol, err)
	}
	if h.version != ProtocolVersion {
		fc.writeError(CodeVersion, fmt.Sprintf("unsupported probe protocol version %d: this server speaks version %d", h.version, ProtocolVersion))
		return fmt.Errorf("%w: client version %d", ErrVersion, h.version)
	}
	if !s.limiter.allow(peer, time.Now()) {
		s.rateLimited.Add(1)
		fc.writeError(CodeRateLimited, fmt.Sprintf("rate limited: at most %g new probe sessions per minute (burst %d) from %s; retry later",
			s.cfg.SessionsPerMinute, s.cfg.SessionBurst, peer))
		return ErrRateLimited
	}
	if err := fc.write(frameHelloAck, helloAck{version: ProtocolVersion, limits: s.Limits()}.marshal()); err != nil {
		return err
	}
	s.sessions.Add(1)

	var echoes, transfers uint32
	for {
		t, p, err := fc.read()
		if err != nil {
			if errors.Is(err, ErrFrameTooLarge) {
				return fail(fc, CodeFrameTooLarge, err)
			}
			return err
		}
		switch t {
		case frameEcho:
			if len(p) == 0 || len(p) > MaxEchoPayload {
				return fail(fc, CodeProtocol, fmt.Errorf("%w: ECHO payload of %d bytes, want 1 to %d", ErrProtocol, len(p), MaxEchoPayload))
			}
			if echoes++; echoes > s.cfg.MaxEchoes {
				return fail(fc, CodeLimitExceeded, fmt.Errorf("%w: more than %d echoes in one session", errSessionLimit, s.cfg.MaxEchoes))
			}
			if err := fc.write(frameEchoReply, p); err != nil {
				return err
			}
			s.echoes.Add(1)
		case frameTransfer:
			req, err := parseTransferRequest(p)
			if err != nil {
				return fail(fc, CodeProtocol, err)
			}
			if transfers++; transfers > s.cfg.MaxTransfers {
				return fail(fc, CodeLimitExceeded, fmt.Errorf("%w: more than %d transfers in one session", errSessionLimit, s.cfg.MaxTransfers))
			}
			if err := s.transfer(ctx, fc, req); err != nil {
				return err
			}
		case frameBye:
			return nil
		case frameError:
			return parseError(p)
		default:
			return fail(fc, CodeProtocol, fmt.Errorf("%w: unexpected %s from a client", ErrProtocol, t))
		}
	}
}

// transfer streams DATA frames until the (clamped) byte count is sent or the (clamped) duration has passed, then
// TRANSFER_END with the count.
func (s *Server) transfer(ctx context.Context, fc *frameConn, req transferRequest) error {
	want := min(req.bytes, s.cfg.MaxTransferBytes)
	dur := s.cfg.MaxTransferDuration
	if req.duration > 0 {
		dur = min(req.duration, dur)
	}
	deadline := time.Now().Add(dur)
	var sent uint64
	for sent < want && time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(uint64(len(s.chunk)), want-sent)
		if err := fc.write(frameData, s.chunk[:n]); err != nil {
			return err
		}
		sent += n
		s.bytesSent.Add(n)
	}
	var end [transferEndSize]byte
	binary.BigEndian.PutUint64(end[:], sent)
	return fc.write(frameTransferEnd, end[:])
}

// peerHost is the address the server's per-peer limits count by: the peer's IPv4 address, or the /64 of an
// IPv6 one (a host usually holds a whole /64, so counting single IPv6 addresses would not limit it).
func peerHost(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() != nil {
		return host
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

// peerLimiter is a token bucket per peer address, with bounded memory.
type peerLimiter struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	max   int
	peers map[string]*peerBucket
}

type peerBucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newPeerLimiter(limit rate.Limit, burst, maxPeers int) *peerLimiter {
	return &peerLimiter{limit: limit, burst: burst, max: maxPeers, peers: make(map[string]*peerBucket)}
}

func (l *peerLimiter) allow(peer string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.peers[peer]
	if !ok {
		if len(l.peers) >= l.max {
			l.prune(now)
			if len(l.peers) >= l.max {
				return false
			}
		}
		b = &peerBucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.peers[peer] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

// prune forgets peers whose bucket has refilled: a fresh bucket would behave the same, so nothing is lost.
func (l *peerLimiter) prune(now time.Time) {
	refill := time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
	for p, b := range l.peers {
		if now.Sub(b.last) >= refill {
			delete(l.peers, p)
		}
	}
}
