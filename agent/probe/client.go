package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/consensus-nro/nro/agent/report"
)

// ClientConfig says how hard a client probes. Zero fields take the defaults.
type ClientConfig struct {
	// Echoes is how many timed echoes measure the RTT (the median is reported); at most MaxClientEchoes.
	Echoes int
	// TransferBytes caps the throughput transfer; TransferDuration caps its time. The server may clamp both lower.
	// NoTransfer skips the throughput measurement.
	TransferBytes    uint64
	TransferDuration time.Duration
	NoTransfer       bool
	// DialTimeout bounds connecting; IOTimeout bounds every read and write.
	DialTimeout time.Duration
	IOTimeout   time.Duration
	// MaxFrame is the largest DATA frame the client accepts.
	MaxFrame uint32
}

// MaxClientEchoes bounds ClientConfig.Echoes.
const MaxClientEchoes = 1000

// DefaultClientConfig returns what an agent measures each peer with unless configured otherwise.
func DefaultClientConfig() ClientConfig {
	return ClientConfig{
		Echoes:           10,
		TransferBytes:    8 << 20,
		TransferDuration: 2 * time.Second,
		DialTimeout:      5 * time.Second,
		IOTimeout:        5 * time.Second,
		MaxFrame:         DefaultMaxFrame,
	}
}

func (c ClientConfig) withDefaults() ClientConfig {
	d := DefaultClientConfig()
	if c.Echoes == 0 {
		c.Echoes = d.Echoes
	}
	if c.TransferBytes == 0 {
		c.TransferBytes = d.TransferBytes
	}
	if c.TransferDuration == 0 {
		c.TransferDuration = d.TransferDuration
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = d.DialTimeout
	}
	if c.IOTimeout == 0 {
		c.IOTimeout = d.IOTimeout
	}
	if c.MaxFrame == 0 {
		c.MaxFrame = d.MaxFrame
	}
	return c
}

// Validate reports the first setting that is out of range.
func (c ClientConfig) Validate() error {
	switch {
	case c.Echoes < 1 || c.Echoes > MaxClientEchoes:
		return fmt.Errorf("probe client: echoes %d must be between 1 and %d", c.Echoes, MaxClientEchoes)
	case c.TransferDuration < time.Millisecond || c.TransferDuration > time.Minute:
		return fmt.Errorf("probe client: transfer duration %s must be between 1ms and 1m", c.TransferDuration)
	case c.DialTimeout <= 0 || c.IOTimeout <= 0:
		return fmt.Errorf("probe client: timeouts must be positive (dial %s, io %s)", c.DialTimeout, c.IOTimeout)
	case c.MaxFrame < MinMaxFrame || c.MaxFrame > 16<<20:
		return fmt.Errorf("probe client: max frame %d bytes must be between %d and %d", c.MaxFrame, MinMaxFrame, 16<<20)
	}
	return nil
}

// Client measures peers. It is safe for concurrent use; each Measure is one session on its own connection.
type Client struct {
	cfg ClientConfig
}

// NewClient checks cfg (after defaults) and returns a client.
func NewClient(cfg ClientConfig) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Client{cfg: cfg}, nil
}

// Measurement is one session's result.
type Measurement struct {
	Address string
	// Limits are what the server announced.
	Limits Limits
	// RTTs are the echo round-trip times in the order measured.
	RTTs []time.Duration
	// TransferBytes were received in TransferTime, the timed window of the transfer (from the first DATA frame's
	// arrival to the last's, not counting the first frame, so that the request's round trip is not included).
	// Zero when no transfer ran.
	TransferBytes uint64
	TransferTime  time.Duration
	// ReceivedBytes is every DATA byte received, including the untimed first frame.
	ReceivedBytes uint64
}

// RTTMedian, RTTMin and RTTMax summarise RTTs (zero without samples). The median of an even count is the
// mean of the two middle samples.
func (m Measurement) RTTMedian() time.Duration {
	if len(m.RTTs) == 0 {
		return 0
	}
	s := slices.Clone(m.RTTs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// RTTMin is the fastest echo.
func (m Measurement) RTTMin() time.Duration {
	if len(m.RTTs) == 0 {
		return 0
	}
	return slices.Min(m.RTTs)
}

// RTTMax is the slowest echo.
func (m Measurement) RTTMax() time.Duration {
	if len(m.RTTs) == 0 {
		return 0
	}
	return slices.Max(m.RTTs)
}

// ThroughputKbps is TransferBytes over TransferTime in kbit/s; zero when nothing was timed.
func (m Measurement) ThroughputKbps() uint64 {
	if m.TransferTime <= 0 || m.TransferBytes == 0 {
		return 0
	}
	return uint64(float64(m.TransferBytes) * 8 / m.TransferTime.Seconds() / 1000)
}

// Link converts the measurement to the fixed-point link record an agent attests, source probe.
func (m Measurement) Link(peer string, at time.Time) report.Link {
	if peer == "" {
		peer = m.Address
	}
	return report.Link{
		Peer:           peer,
		Address:        m.Address,
		Source:         report.SourceProbe,
		MeasuredAt:     at,
		RTTMicros:      uint64(m.RTTMedian().Microseconds()),
		RTTMinMicros:   uint64(m.RTTMin().Microseconds()),
		RTTMaxMicros:   uint64(m.RTTMax().Microseconds()),
		RTTSamples:     uint32(len(m.RTTs)),
		ThroughputKbps: m.ThroughputKbps(),
		TransferBytes:  m.TransferBytes,
		TransferMicros: uint64(m.TransferTime.Microseconds()),
	}
}

// Measure runs one session against addr: handshake, the echoes, then (unless disabled) one bounded transfer.
// Every read and write has a deadline (IOTimeout), the echoes together one more (IOTimeout × (1 + echoes/10)),
// the transfer its duration plus IOTimeout; cancelling ctx aborts at once.
func (c *Client) Measure(ctx context.Context, addr string) (Measurement, error) {
	m := Measurement{Address: addr}
	d := net.Dialer{Timeout: c.cfg.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return m, fmt.Errorf("probe %s: connect: %w", addr, err)
	}
	defer func() { _ = conn.Close() }()
	// Closing the connection unblocks a pending read or write when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	wrap := func(step string, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return fmt.Errorf("probe %s: %s: %w", addr, step, err)
	}

	fc := newFrameConn(conn, controlFrameMax, controlFrameMax, c.cfg.IOTimeout)
	if err := fc.write(frameHello, hello{version: ProtocolVersion}.marshal()); err != nil {
		return m, wrap("handshake", err)
	}
	t, p, err := fc.read()
	if err != nil {
		return m, wrap("handshake", err)
	}
	switch t {
	case frameHelloAck:
	case frameError:
		return m, wrap("handshake", parseError(p))
	default:
		return m, wrap("handshake", fmt.Errorf("%w: expected HELLO_ACK, got %s", ErrProtocol, t))
	}
	ack, err := parseHelloAck(p)
	if err != nil {
		return m, wrap("handshake", err)
	}
	if ack.version != ProtocolVersion {
		return m, wrap("handshake", fmt.Errorf("%w: server answered version %d, this client speaks %d", ErrProtocol, ack.version, ProtocolVersion))
	}
	m.Limits = ack.limits

	echoes := c.cfg.Echoes
	if ack.limits.MaxEchoes > 0 && uint32(echoes) > ack.limits.MaxEchoes {
		echoes = int(ack.limits.MaxEchoes)
	}
	m.RTTs = make([]time.Duration, 0, echoes)
	// The echoes together get one IOTimeout plus a tenth of one per echo (10 echoes: 2 timeouts), so that a
	// peer answering each echo just inside the timeout costs that, not a timeout per echo.
	fc.end = time.Now().Add(c.cfg.IOTimeout + time.Duration(echoes)*c.cfg.IOTimeout/10)
	var payload [8]byte
	for i := range echoes {
		binary.BigEndian.PutUint64(payload[:], uint64(i))
		start := time.Now()
		if err := fc.write(frameEcho, payload[:]); err != nil {
			return m, wrap(fmt.Sprintf("echo %d", i+1), err)
		}
		t, p, err := fc.read()
		if err != nil {
			return m, wrap(fmt.Sprintf("echo %d", i+1), err)
		}
		rtt := time.Since(start)
		switch {
		case t == frameError:
			return m, wrap(fmt.Sprintf("echo %d", i+1), parseError(p))
		case t != frameEchoReply || string(p) != string(payload[:]):
			return m, wrap(fmt.Sprintf("echo %d", i+1), fmt.Errorf("%w: expected ECHO_REPLY with the echo's payload, got %s of %d bytes", ErrProtocol, t, len(p)))
		}
		m.RTTs = append(m.RTTs, rtt)
	}
	fc.end = time.Time{}

	if !c.cfg.NoTransfer {
		if err := c.transfer(fc, ack.limits, &m); err != nil {
			return m, wrap("transfer", err)
		}
	}
	// The server closes on BYE; a failure to say goodbye does not spoil the measurement.
	_ = fc.write(frameBye, nil)
	return m, nil
}

func (c *Client) transfer(fc *frameConn, limits Limits, m *Measurement) error {
	want := c.cfg.TransferBytes
	if limits.MaxTransferBytes < want {
		want = limits.MaxTransferBytes
	}
	dur := c.cfg.TransferDuration
	if limits.MaxTransferDuration > 0 && limits.MaxTransferDuration < dur {
		dur = limits.MaxTransferDuration
	}
	maxData := c.cfg.MaxFrame
	if limits.MaxFrame > 0 && limits.MaxFrame < maxData {
		maxData = limits.MaxFrame
	}
	if err := fc.write(frameTransfer, transferRequest{bytes: want, duration: dur}.marshal()); err != nil {
		return err
	}
	// The server stops sending after dur; allow one more IOTimeout for what is in flight, and never more.
	fc.end = time.Now().Add(dur + c.cfg.IOTimeout)
	defer func() { fc.end = time.Time{} }()
	fc.maxRead = maxData
	defer func() { fc.maxRead = controlFrameMax }()

	var first, last time.Time
	var firstLen uint64
	for {
		t, p, err := fc.read()
		if err != nil {
			return err
		}
		switch t {
		case frameData:
			now := time.Now()
			n := uint64(len(p))
			if n == 0 {
				return fmt.Errorf("%w: empty DATA frame", ErrProtocol)
			}
			m.ReceivedBytes += n
			if m.ReceivedBytes > want {
				return fmt.Errorf("%w: the server sent more than the %d bytes requested", ErrProtocol, want)
			}
			if first.IsZero() {
				first, firstLen = now, n
			}
			last = now
		case frameTransferEnd:
			if len(p) != transferEndSize {
				return fmt.Errorf("%w: TRANSFER_END must be %d bytes, got %d", ErrProtocol, transferEndSize, len(p))
			}
			if sent := binary.BigEndian.Uint64(p); sent != m.ReceivedBytes {
				return fmt.Errorf("%w: the server says it sent %d bytes, %d arrived", ErrProtocol, sent, m.ReceivedBytes)
			}
			if !first.IsZero() && last.After(first) {
				m.TransferBytes = m.ReceivedBytes - firstLen
				m.TransferTime = last.Sub(first)
			}
			return nil
		case frameError:
			return parseError(p)
		default:
			return fmt.Errorf("%w: unexpected %s during a transfer", ErrProtocol, t)
		}
	}
}

// ErrorKind classifies a Measure error for metrics: timeout, refused, rate_limited, busy, frame_too_large,
// protocol, canceled or other.
func ErrorKind(err error) string {
	var pe *PeerError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, ErrFrameTooLarge):
		return "frame_too_large"
	case errors.As(err, &pe):
		switch pe.Code {
		case CodeRateLimited:
			return "rate_limited"
		case CodeBusy:
			return "busy"
		case CodeFrameTooLarge:
			return "frame_too_large"
		}
		return "protocol"
	case errors.Is(err, ErrProtocol):
		return "protocol"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "other"
}
