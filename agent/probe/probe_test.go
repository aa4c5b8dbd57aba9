package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/consensus-nro/nro/agent/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startServer serves on 127.0.0.1 until the test ends and checks that Serve returned cleanly.
func startServer(t *testing.T, cfg ServerConfig) *Server {
	t.Helper()
	srv, err := Listen("127.0.0.1:0", cfg, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("probe server did not stop within 5s of cancellation")
		}
	})
	return srv
}

func newClient(t *testing.T, cfg ClientConfig) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	require.NoError(t, err)
	return c
}

// rawFrame writes one frame with an arbitrary declared length.
func rawFrame(t *testing.T, conn net.Conn, typ frameType, declared uint32, payload []byte) {
	t.Helper()
	hdr := make([]byte, headerSize, headerSize+len(payload))
	hdr[0] = byte(typ)
	binary.BigEndian.PutUint32(hdr[1:], declared)
	require.NoError(t, conn.SetWriteDeadline(time.Now().Add(5*time.Second)))
	_, err := conn.Write(append(hdr, payload...))
	require.NoError(t, err)
}

func readRaw(t *testing.T, conn net.Conn) (frameType, []byte) {
	t.Helper()
	fc := newFrameConn(conn, DefaultMaxFrame, DefaultMaxFrame, 5*time.Second)
	typ, p, err := fc.read()
	require.NoError(t, err)
	return typ, append([]byte(nil), p...)
}

func requireClosedByPeer(t *testing.T, conn net.Conn) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err := conn.Read(make([]byte, 1))
	require.Error(t, err)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the server should have closed the connection")
}

func dial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestMeasureRTTAndThroughputAgainstRealServer(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	c := newClient(t, ClientConfig{Echoes: 20, TransferBytes: 4 << 20, TransferDuration: 5 * time.Second})

	m, err := c.Measure(context.Background(), srv.Addr().String())
	require.NoError(t, err)
	require.Len(t, m.RTTs, 20)
	require.Positive(t, m.RTTMin())
	require.LessOrEqual(t, m.RTTMin(), m.RTTMedian())
	require.LessOrEqual(t, m.RTTMedian(), m.RTTMax())
	require.Less(t, m.RTTMedian(), time.Second, "loopback echoes")

	require.Equal(t, uint64(4<<20), m.ReceivedBytes, "loopback moves 4 MiB well within 5s")
	require.Equal(t, m.ReceivedBytes-uint64(DefaultMaxFrame), m.TransferBytes, "the first frame is not timed")
	require.Positive(t, m.TransferTime)
	require.Positive(t, m.ThroughputKbps())
	require.Equal(t, DefaultServerConfig().MaxTransferBytes, m.Limits.MaxTransferBytes)

	at := time.Unix(1_700_000_000, 0).UTC()
	l := m.Link("gpu-node-2", at)
	require.Equal(t, report.Link{
		Peer: "gpu-node-2", Address: srv.Addr().String(), Source: report.SourceProbe, MeasuredAt: at,
		RTTMicros: uint64(m.RTTMedian().Microseconds()), RTTMinMicros: uint64(m.RTTMin().Microseconds()),
		RTTMaxMicros: uint64(m.RTTMax().Microseconds()), RTTSamples: 20,
		ThroughputKbps: m.ThroughputKbps(), TransferBytes: m.TransferBytes, TransferMicros: uint64(m.TransferTime.Microseconds()),
	}, l)

	require.Eventually(t, func() bool {
		st := srv.Stats()
		return st.Sessions == 1 && st.Echoes == 20 && st.BytesSent == 4<<20 && st.ActiveConnections == 0
	}, 5*time.Second, 10*time.Millisecond, "stats: %+v", srv.Stats())
}

func TestServerClampsTransferAndEchoes(t *testing.T) {
	srv := startServer(t, ServerConfig{MaxTransferBytes: 256 << 10, MaxEchoes: 3})
	c := newClient(t, ClientConfig{Echoes: 10, TransferBytes: 8 << 20})
	m, err := c.Measure(context.Background(), srv.Addr().String())
	require.NoError(t, err)
	require.Len(t, m.RTTs, 3, "the client asks for no more echoes than the server announced")
	require.Equal(t, uint64(256<<10), m.ReceivedBytes)
	require.Equal(t, uint32(3), m.Limits.MaxEchoes)
}

func TestRTTOnlyMeasurement(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	m, err := newClient(t, ClientConfig{Echoes: 5, NoTransfer: true}).Measure(context.Background(), srv.Addr().String())
	require.NoError(t, err)
	require.Len(t, m.RTTs, 5)
	require.Zero(t, m.ThroughputKbps())
	require.Zero(t, srv.Stats().BytesSent)
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) net.Addr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr()
}

func TestClientTimesOutOnSilentServer(t *testing.T) {
	addr := silentServer(t)
	c := newClient(t, ClientConfig{IOTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := c.Measure(context.Background(), addr.String())
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.ErrorContains(t, err, "handshake")
	require.Equal(t, "timeout", ErrorKind(err))
	require.Less(t, time.Since(start), 3*time.Second)
}

func TestClientStopsOnCancel(t *testing.T) {
	addr := silentServer(t)
	c := newClient(t, ClientConfig{IOTimeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Measure(ctx, addr.String())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 3*time.Second)
}

func TestClientConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, err = newClient(t, ClientConfig{}).Measure(context.Background(), addr)
	require.Error(t, err)
	require.Equal(t, "refused", ErrorKind(err))
}

func TestServerTimesOutSilentClient(t *testing.T) {
	srv := startServer(t, ServerConfig{IOTimeout: 100 * time.Millisecond})
	conn := dial(t, srv.Addr())
	requireClosedByPeer(t, conn)
	require.Eventually(t, func() bool { return srv.Stats().Timeouts == 1 }, 5*time.Second, 10*time.Millisecond)
}

func TestServerRejectsOversizedFrames(t *testing.T) {
	srv := startServer(t, ServerConfig{})

	// A HELLO that claims 1 GiB: refused from the header alone.
	conn := dial(t, srv.Addr())
	rawFrame(t, conn, frameHello, 1<<30, nil)
	typ, p := readRaw(t, conn)
	require.Equal(t, frameError, typ)
	err := parseError(p)
	require.ErrorIs(t, err, &PeerError{Code: CodeFrameTooLarge})
	require.ErrorContains(t, err, "1073741824 bytes, the limit is 1024")
	requireClosedByPeer(t, conn)

	// After a good handshake, an ECHO larger than a control frame.
	conn = dial(t, srv.Addr())
	rawFrame(t, conn, frameHello, helloSize, hello{version: ProtocolVersion}.marshal())
	typ, _ = readRaw(t, conn)
	require.Equal(t, frameHelloAck, typ)
	rawFrame(t, conn, frameEcho, 4096, make([]byte, 16))
	typ, p = readRaw(t, conn)
	require.Equal(t, frameError, typ)
	require.ErrorIs(t, parseError(p), &PeerError{Code: CodeFrameTooLarge})
	requireClosedByPeer(t, conn)

	require.Eventually(t, func() bool { return srv.Stats().ProtocolErrors == 2 }, 5*time.Second, 10*time.Millisecond)
}

func TestServerRefusesOtherVersionsAndFrames(t *testing.T) {
	srv := startServer(t, ServerConfig{MaxEchoes: 1})

	conn := dial(t, srv.Addr())
	rawFrame(t, conn, frameHello, helloSize, hello{version: 2}.marshal())
	typ, p := readRaw(t, conn)
	require.Equal(t, frameError, typ)
	require.ErrorIs(t, parseError(p), ErrVersion)
	require.ErrorContains(t, parseError(p), "unsupported probe protocol version 2: this server speaks version 1")

	conn = dial(t, srv.Addr())
	rawFrame(t, conn, frameEcho, 8, make([]byte, 8))
	typ, p = readRaw(t, conn)
	require.Equal(t, frameError, typ)
	require.ErrorContains(t, parseError(p), "expected HELLO, got ECHO")

	// More echoes than the session allows.
	conn = dial(t, srv.Addr())
	rawFrame(t, conn, frameHello, helloSize, hello{version: ProtocolVersion}.marshal())
	typ, _ = readRaw(t, conn)
	require.Equal(t, frameHelloAck, typ)
	rawFrame(t, conn, frameEcho, 1, []byte{7})
	typ, p = readRaw(t, conn)
	require.Equal(t, frameEchoReply, typ)
	require.Equal(t, []byte{7}, p)
	rawFrame(t, conn, frameEcho, 1, []byte{8})
	typ, p = readRaw(t, conn)
	require.Equal(t, frameError, typ)
	require.ErrorIs(t, parseError(p), &PeerError{Code: CodeLimitExceeded})
	requireClosedByPeer(t, conn)
}

func TestServerRateLimitsPerPeer(t *testing.T) {
	// One new session a minute after a burst of two: the third within the test is refused.
	srv := startServer(t, ServerConfig{SessionsPerMinute: 1, SessionBurst: 2})
	c := newClient(t, ClientConfig{Echoes: 1, NoTransfer: true})
	for range 2 {
		_, err := c.Measure(context.Background(), srv.Addr().String())
		require.NoError(t, err)
	}
	_, err := c.Measure(context.Background(), srv.Addr().String())
	require.ErrorIs(t, err, ErrRateLimited)
	require.ErrorContains(t, err, "at most 1 new probe sessions per minute (burst 2) from 127.0.0.1")
	require.Equal(t, "rate_limited", ErrorKind(err))
	require.Equal(t, uint64(1), srv.Stats().RejectedRateLimited)
	require.Equal(t, uint64(2), srv.Stats().Sessions)
}

func TestPeerLimiterForgetsRefilledPeersOnly(t *testing.T) {
	l := newPeerLimiter(1, 1, 2) // 1/s, burst 1, two peers at most
	t0 := time.Unix(0, 0)
	require.True(t, l.allow("a", t0))
	require.True(t, l.allow("b", t0))
	require.False(t, l.allow("c", t0.Add(500*time.Millisecond)), "full of peers whose buckets are still draining")
	require.True(t, l.allow("c", t0.Add(2*time.Second)), "a and b refilled and were forgotten")
	require.Len(t, l.peers, 1)
	require.False(t, l.allow("c", t0.Add(2*time.Second)), "c's bucket is empty")
}

func TestServerMaxConnections(t *testing.T) {
	srv := startServer(t, ServerConfig{MaxConnections: 1})
	holder := dial(t, srv.Addr())
	rawFrame(t, holder, frameHello, helloSize, hello{version: ProtocolVersion}.marshal())
	typ, _ := readRaw(t, holder)
	require.Equal(t, frameHelloAck, typ)

	c := newClient(t, ClientConfig{Echoes: 1, NoTransfer: true})
	_, err := c.Measure(context.Background(), srv.Addr().String())
	require.ErrorIs(t, err, ErrBusy)
	require.Equal(t, "busy", ErrorKind(err))
	require.Equal(t, uint64(1), srv.Stats().RejectedBusy)

	rawFrame(t, holder, frameBye, 0, nil)
	require.Eventually(t, func() bool {
		_, err := c.Measure(context.Background(), srv.Addr().String())
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "the slot frees when the first session ends")
}

// fakeServer answers the handshake and echoes, then runs onTransfer for the TRANSFER request.
func fakeServer(t *testing.T, limits Limits, onTransfer func(fc *frameConn)) net.Addr {
	t.Helper()
	return slowFakeServer(t, limits, 0, onTransfer)
}

// slowFakeServer is fakeServer answering each echo after echoDelay.
func slowFakeServer(t *testing.T, limits Limits, echoDelay time.Duration, onTransfer func(fc *frameConn)) net.Addr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		fc := newFrameConn(conn, controlFrameMax, 64<<20, 5*time.Second)
		for {
			typ, p, err := fc.read()
			if err != nil {
				return
			}
			switch typ {
			case frameHello:
				_ = fc.write(frameHelloAck, helloAck{version: ProtocolVersion, limits: limits}.marshal())
			case frameEcho:
				time.Sleep(echoDelay)
				_ = fc.write(frameEchoReply, p)
			case frameTransfer:
				onTransfer(fc)
				return
			default:
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr()
}

func TestClientStopsAFloodingServer(t *testing.T) {
	limits := Limits{MaxFrame: DefaultMaxFrame, MaxEchoes: 10, MaxTransferBytes: 1 << 40, MaxTransferDuration: time.Minute}
	addr := fakeServer(t, limits, func(fc *frameConn) {
		chunk := make([]byte, DefaultMaxFrame)
		for fc.write(frameData, chunk) == nil {
		}
	})
	c := newClient(t, ClientConfig{Echoes: 1, TransferBytes: 1 << 20, TransferDuration: 10 * time.Second})
	start := time.Now()
	m, err := c.Measure(context.Background(), addr.String())
	require.ErrorIs(t, err, ErrProtocol)
	require.ErrorContains(t, err, "more than the 1048576 bytes requested")
	require.LessOrEqual(t, m.ReceivedBytes, uint64(1<<20)+uint64(DefaultMaxFrame))
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestClientRejectsOversizedDataFrame(t *testing.T) {
	limits := Limits{MaxFrame: 16 << 20, MaxEchoes: 10, MaxTransferBytes: 1 << 30, MaxTransferDuration: time.Second}
	addr := fakeServer(t, limits, func(fc *frameConn) {
		_ = fc.write(frameData, make([]byte, 1<<20))
	})
	// The client accepts at most its own MaxFrame, whatever the server announces.
	c := newClient(t, ClientConfig{Echoes: 1, MaxFrame: 64 << 10})
	_, err := c.Measure(context.Background(), addr.String())
	require.ErrorIs(t, err, ErrFrameTooLarge)
	require.Equal(t, "frame_too_large", ErrorKind(err))
}

func TestClientBoundsAStallingTransfer(t *testing.T) {
	limits := Limits{MaxFrame: DefaultMaxFrame, MaxEchoes: 10, MaxTransferBytes: 1 << 30, MaxTransferDuration: time.Second}
	release := make(chan struct{})
	addr := fakeServer(t, limits, func(fc *frameConn) {
		_ = fc.write(frameData, make([]byte, 1024))
		<-release // then stall
	})
	defer close(release)
	c := newClient(t, ClientConfig{Echoes: 1, TransferDuration: 200 * time.Millisecond, IOTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := c.Measure(context.Background(), addr.String())
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.ErrorContains(t, err, "transfer")
	require.Less(t, time.Since(start), 3*time.Second)
}

func TestServerShutdownClosesActiveSessions(t *testing.T) {
	defer goleak.VerifyNone(t)
	srv, err := Listen("127.0.0.1:0", ServerConfig{}, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()

	// An idle session mid-handshake and one after it.
	idle, err := net.Dial("tcp", srv.Addr().String())
	require.NoError(t, err)
	defer func() { _ = idle.Close() }()
	active, err := net.Dial("tcp", srv.Addr().String())
	require.NoError(t, err)
	defer func() { _ = active.Close() }()
	rawFrame(t, active, frameHello, helloSize, hello{version: ProtocolVersion}.marshal())
	typ, _ := readRaw(t, active)
	require.Equal(t, frameHelloAck, typ)
	require.Eventually(t, func() bool { return srv.Stats().ActiveConnections == 2 }, 5*time.Second, 10*time.Millisecond)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5s of cancellation")
	}
	require.Equal(t, int64(0), srv.Stats().ActiveConnections)
	requireClosedByPeer(t, active)
	_, err = net.DialTimeout("tcp", srv.Addr().String(), time.Second)
	require.Error(t, err, "the listener is closed")
	require.ErrorContains(t, srv.Serve(context.Background()), "Serve called twice")
}

func TestConfigValidation(t *testing.T) {
	_, err := Listen("127.0.0.1:0", ServerConfig{MaxFrame: 10}, nil)
	require.ErrorContains(t, err, "max frame 10 bytes must be between 1024")
	_, err = Listen("127.0.0.1:0", ServerConfig{MaxTransferDuration: time.Minute, SessionTimeout: time.Second}, nil)
	require.ErrorContains(t, err, "must be shorter than the session timeout")
	_, err = Listen("not-an-address", ServerConfig{}, nil)
	require.ErrorContains(t, err, "listen on not-an-address")
	_, err = NewClient(ClientConfig{Echoes: 5000})
	require.ErrorContains(t, err, "echoes 5000 must be between 1 and 1000")
}

func TestMeasurementArithmetic(t *testing.T) {
	m := Measurement{RTTs: []time.Duration{400, 100, 300, 200}}
	require.Equal(t, time.Duration(250), m.RTTMedian())
	require.Equal(t, time.Duration(100), m.RTTMin())
	require.Equal(t, time.Duration(400), m.RTTMax())
	m.RTTs = m.RTTs[:3]
	require.Equal(t, time.Duration(300), m.RTTMedian())
	require.Equal(t, []time.Duration{400, 100, 300}, m.RTTs, "summaries do not reorder the samples")

	m = Measurement{TransferBytes: 125_000_000, TransferTime: time.Second}
	require.Equal(t, uint64(1_000_000), m.ThroughputKbps(), "1 Gbit/s")
	require.Zero(t, Measurement{}.ThroughputKbps())
}

func TestErrorKind(t *testing.T) {
	require.Equal(t, "", ErrorKind(nil))
	require.Equal(t, "canceled", ErrorKind(context.Canceled))
	require.Equal(t, "protocol", ErrorKind(&PeerError{Code: CodeVersion}))
	require.Equal(t, "other", ErrorKind(io.ErrUnexpectedEOF))
}

// TestServerLimitsConnectionsPerPeer: one address holding MaxConnectionsPerPeer silent connections gets
// ERROR rate-limited for the next one, while another address is still served; a freed connection makes room.
func TestServerLimitsConnectionsPerPeer(t *testing.T) {
	srv := startServer(t, ServerConfig{MaxConnectionsPerPeer: 2})
	held := []net.Conn{dial(t, srv.Addr()), dial(t, srv.Addr())}
	require.Eventually(t, func() bool { return srv.Stats().ActiveConnections == 2 }, 5*time.Second, 5*time.Millisecond)

	c := newClient(t, ClientConfig{Echoes: 1, NoTransfer: true})
	_, err := c.Measure(context.Background(), srv.Addr().String())
	require.ErrorIs(t, err, ErrRateLimited)
	require.ErrorContains(t, err, "127.0.0.1 has 2 probe connections open, the most one peer may")
	require.Equal(t, uint64(1), srv.Stats().RejectedPeerLimit)

	// Another loopback address (Linux routes all of 127.0.0.0/8 to lo) is not held back by the first's.
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	other, err := d.Dial("tcp", srv.Addr().String())
	if err == nil {
		t.Cleanup(func() { _ = other.Close() })
		rawFrame(t, other, frameHello, helloSize, hello{version: ProtocolVersion}.marshal())
		typ, _ := readRaw(t, other)
		require.Equal(t, frameHelloAck, typ)
	} else {
		t.Logf("no second loopback address here (%v): that part is skipped", err)
	}

	require.NoError(t, held[0].Close())
	require.Eventually(t, func() bool {
		_, err := c.Measure(context.Background(), srv.Addr().String())
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "a closed connection frees the peer's slot")
}

// TestClientBoundsSlowEchoes: a peer that answers every echo just inside the I/O timeout runs into the echo
// phase's own deadline (IOTimeout × (1 + echoes/10)), not one timeout per echo.
func TestClientBoundsSlowEchoes(t *testing.T) {
	const io = 300 * time.Millisecond
	limits := Limits{MaxFrame: DefaultMaxFrame, MaxEchoes: 100, MaxTransferBytes: 1 << 20, MaxTransferDuration: time.Second}
	addr := slowFakeServer(t, limits, io*2/3, func(*frameConn) {}) // each echo inside the client's per-read timeout

	// 10 echoes: the phase may take 2 × 300 ms, so the peer gets about 3 of them answered, not 10.
	c := newClient(t, ClientConfig{Echoes: 10, NoTransfer: true, IOTimeout: io})
	m, err := c.Measure(context.Background(), addr.String())
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.ErrorContains(t, err, "echo")
	require.Less(t, len(m.RTTs), 10)
}

func TestPeerHostGroupsIPv6By64(t *testing.T) {
	require.Equal(t, "192.0.2.7", peerHost(&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 40000}))
	require.Equal(t, "192.0.2.7", peerHost(&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 40000}), "v4-mapped: the IPv4 address")
	a := peerHost(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:aaaa::1"), Port: 1})
	require.Equal(t, "2001:db8:1:2::/64", a)
	require.Equal(t, a, peerHost(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff:ffff:ffff:fffe"), Port: 2}), "the same /64")
	require.NotEqual(t, a, peerHost(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1"), Port: 1}))
}
