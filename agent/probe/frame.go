// Package probe measures the network path between nro-agents: round-trip time (the median of N timed echoes)
// and throughput (a bounded, timed transfer from the peer).
//
// Every agent serves a small TCP endpoint (Server) and measures its peers with a Client. The protocol is
// length-prefixed frames with a maximum size, a versioned handshake, a deadline on every read and write, and
// per-session caps on echoes and transfer bytes and time; the server limits concurrent connections and the rate
// of new sessions per peer address. Neither side ever reads a frame larger than it agreed to, so a peer that
// stalls or floods costs a bounded amount of time, memory and bandwidth.
//
// Wire format (all integers big-endian):
//
//	frame       = type:u8 length:u32 payload[length]
//	HELLO       (1, client)  magic "NROP" version:u16 flags:u16
//	HELLO_ACK   (2, server)  magic "NROP" version:u16 flags:u16 max_frame:u32 max_echoes:u32
//	                         max_transfer_bytes:u64 max_transfer_ms:u32
//	ECHO        (3, client)  1..MaxEchoPayload opaque bytes
//	ECHO_REPLY  (4, server)  the ECHO payload, unchanged
//	TRANSFER    (5, client)  bytes:u64 duration_ms:u32   (the server clamps both to its limits)
//	DATA        (6, server)  1..max_frame bytes
//	TRANSFER_END(7, server)  bytes_sent:u64
//	BYE         (8, client)  empty
//	ERROR       (9, either)  code:u16 message (UTF-8, at most MaxErrorMessage bytes); the sender then closes
package probe

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// ProtocolVersion is the only version this package speaks.
const ProtocolVersion uint16 = 1

const (
	magic = "NROP"
	// headerSize is type:u8 + length:u32.
	headerSize = 5
	// DefaultMaxFrame is the largest payload either side accepts unless configured otherwise.
	DefaultMaxFrame uint32 = 64 << 10
	// MinMaxFrame is the smallest max frame size the protocol works with (control frames must fit).
	MinMaxFrame uint32 = 1 << 10
	// MaxEchoPayload bounds an ECHO payload.
	MaxEchoPayload = 256
	// MaxErrorMessage bounds an ERROR frame's message.
	MaxErrorMessage = 512

	helloSize       = 8
	helloAckSize    = 28
	transferSize    = 12
	transferEndSize = 8
)

type frameType uint8

const (
	frameHello       frameType = 1
	frameHelloAck    frameType = 2
	frameEcho        frameType = 3
	frameEchoReply   frameType = 4
	frameTransfer    frameType = 5
	frameData        frameType = 6
	frameTransferEnd frameType = 7
	frameBye         frameType = 8
	frameError       frameType = 9
)

func (t frameType) String() string {
	switch t {
	case frameHello:
		return "HELLO"
	case frameHelloAck:
		return "HELLO_ACK"
	case frameEcho:
		return "ECHO"
	case frameEchoReply:
		return "ECHO_REPLY"
	case frameTransfer:
		return "TRANSFER"
	case frameData:
		return "DATA"
	case frameTransferEnd:
		return "TRANSFER_END"
	case frameBye:
		return "BYE"
	case frameError:
		return "ERROR"
	}
	return fmt.Sprintf("frame type %d", uint8(t))
}

// controlFrameMax bounds every frame a client sends (HELLO, ECHO, TRANSFER, BYE, ERROR) and so every frame a
// server reads; only DATA frames, server to client, may be larger.
const controlFrameMax = 1 << 10

// frameConn reads and writes frames on a connection with a deadline on every operation.
type frameConn struct {
	conn     net.Conn
	r        *bufio.Reader
	maxRead  uint32        // largest payload read accepts
	maxWrite uint32        // largest payload write sends
	timeout  time.Duration // per read or write
	end      time.Time     // no operation may run past this (zero: none)
	buf      []byte        // payload buffer, reused: a payload is valid until the next read
	hdr      [headerSize]byte
	out      []byte
}

func newFrameConn(conn net.Conn, maxRead, maxWrite uint32, timeout time.Duration) *frameConn {
	return &frameConn{conn: conn, r: bufio.NewReaderSize(conn, 16<<10), maxRead: maxRead, maxWrite: maxWrite, timeout: timeout}
}

func (f *frameConn) deadline() time.Time {
	d := time.Now().Add(f.timeout)
	if !f.end.IsZero() && f.end.Before(d) {
		return f.end
	}
	return d
}

// read returns the next frame. A frame whose declared length exceeds maxRead is refused before any of its
// payload is read.
func (f *frameConn) read() (frameType, []byte, error) {
	if err := f.conn.SetReadDeadline(f.deadline()); err != nil {
		return 0, nil, err
	}
	if _, err := io.ReadFull(f.r, f.hdr[:]); err != nil {
		return 0, nil, err
	}
	t := frameType(f.hdr[0])
	n := binary.BigEndian.Uint32(f.hdr[1:])
	if n > f.maxRead {
		return t, nil, fmt.Errorf("%w: %s frame of %d bytes, the limit is %d", ErrFrameTooLarge, t, n, f.maxRead)
	}
	if cap(f.buf) < int(n) {
		f.buf = make([]byte, n)
	}
	p := f.buf[:n]
	if _, err := io.ReadFull(f.r, p); err != nil {
		return 0, nil, err
	}
	return t, p, nil
}

// write sends one frame. Header and payload go out in one write so that an echo is one segment.
func (f *frameConn) write(t frameType, payload []byte) error {
	if uint64(len(payload)) > uint64(f.maxWrite) {
		return fmt.Errorf("%w: refusing to send a %s frame of %d bytes, the limit is %d", ErrFrameTooLarge, t, len(payload), f.maxWrite)
	}
	if err := f.conn.SetWriteDeadline(f.deadline()); err != nil {
		return err
	}
	if len(payload) > 4<<10 {
		var hdr [headerSize]byte
		hdr[0] = byte(t)
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
		bufs := net.Buffers{hdr[:], payload}
		_, err := bufs.WriteTo(f.conn)
		return err
	}
	f.out = append(f.out[:0], byte(t), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(f.out[1:], uint32(len(payload)))
	f.out = append(f.out, payload...)
	_, err := f.conn.Write(f.out)
	return err
}

// writeError sends an ERROR frame; failures are ignored because the connection is closed next anyway.
func (f *frameConn) writeError(code ErrorCode, msg string) {
	if len(msg) > MaxErrorMessage {
		msg = msg[:MaxErrorMessage]
	}
	p := make([]byte, 2, 2+len(msg))
	binary.BigEndian.PutUint16(p, uint16(code))
	p = append(p, msg...)
	_ = f.write(frameError, p)
}

type hello struct {
	version uint16
	flags   uint16
}

func (h hello) marshal() []byte {
	p := make([]byte, helloSize)
	copy(p, magic)
	binary.BigEndian.PutUint16(p[4:], h.version)
	binary.BigEndian.PutUint16(p[6:], h.flags)
	return p
}

func parseHello(p []byte) (hello, error) {
	if len(p) != helloSize || string(p[:4]) != magic {
		return hello{}, fmt.Errorf("%w: HELLO must be %d bytes starting with %q, got %d bytes", ErrProtocol, helloSize, magic, len(p))
	}
	return hello{version: binary.BigEndian.Uint16(p[4:]), flags: binary.BigEndian.Uint16(p[6:])}, nil
}

// Limits are what a server allows per session; it announces them in HELLO_ACK.
type Limits struct {
	MaxFrame            uint32
	MaxEchoes           uint32
	MaxTransferBytes    uint64
	MaxTransferDuration time.Duration
}

type helloAck struct {
	version uint16
	limits  Limits
}

func (a helloAck) marshal() []byte {
	p := make([]byte, helloAckSize)
	copy(p, magic)
	binary.BigEndian.PutUint16(p[4:], a.version)
	binary.BigEndian.PutUint32(p[8:], a.limits.MaxFrame)
	binary.BigEndian.PutUint32(p[12:], a.limits.MaxEchoes)
	binary.BigEndian.PutUint64(p[16:], a.limits.MaxTransferBytes)
	binary.BigEndian.PutUint32(p[24:], uint32(a.limits.MaxTransferDuration/time.Millisecond))
	return p
}

func parseHelloAck(p []byte) (helloAck, error) {
	if len(p) != helloAckSize || string(p[:4]) != magic {
		return helloAck{}, fmt.Errorf("%w: HELLO_ACK must be %d bytes starting with %q, got %d bytes", ErrProtocol, helloAckSize, magic, len(p))
	}
	return helloAck{
		version: binary.BigEndian.Uint16(p[4:]),
		limits: Limits{
			MaxFrame:            binary.BigEndian.Uint32(p[8:]),
			MaxEchoes:           binary.BigEndian.Uint32(p[12:]),
			MaxTransferBytes:    binary.BigEndian.Uint64(p[16:]),
			MaxTransferDuration: time.Duration(binary.BigEndian.Uint32(p[24:])) * time.Millisecond,
		},
	}, nil
}

type transferRequest struct {
	bytes    uint64
	duration time.Duration
}

func (r transferRequest) marshal() []byte {
	p := make([]byte, transferSize)
	binary.BigEndian.PutUint64(p, r.bytes)
	ms := r.duration / time.Millisecond
	if ms > 1<<32-1 {
		ms = 1<<32 - 1
	}
	binary.BigEndian.PutUint32(p[8:], uint32(ms))
	return p
}

func parseTransferRequest(p []byte) (transferRequest, error) {
	if len(p) != transferSize {
		return transferRequest{}, fmt.Errorf("%w: TRANSFER must be %d bytes, got %d", ErrProtocol, transferSize, len(p))
	}
	return transferRequest{
		bytes:    binary.BigEndian.Uint64(p),
		duration: time.Duration(binary.BigEndian.Uint32(p[8:])) * time.Millisecond,
	}, nil
}

func parseError(p []byte) error {
	if len(p) < 2 {
		return fmt.Errorf("%w: ERROR frame of %d bytes has no code", ErrProtocol, len(p))
	}
	msg := p[2:]
	if len(msg) > MaxErrorMessage {
		msg = msg[:MaxErrorMessage]
	}
	return &PeerError{Code: ErrorCode(binary.BigEndian.Uint16(p)), Message: string(msg)}
}

// ErrorCode is the reason carried by an ERROR frame.
type ErrorCode uint16

const (
	CodeProtocol      ErrorCode = 1 // malformed or unexpected frame
	CodeVersion       ErrorCode = 2 // unsupported protocol version
	CodeFrameTooLarge ErrorCode = 3 // a frame exceeded the maximum size
	CodeRateLimited   ErrorCode = 4 // too many sessions from this peer address
	CodeBusy          ErrorCode = 5 // the server has its maximum number of connections
	CodeLimitExceeded ErrorCode = 6 // more echoes or transfers than one session allows
)

func (c ErrorCode) String() string {
	switch c {
	case CodeProtocol:
		return "protocol"
	case CodeVersion:
		return "version"
	case CodeFrameTooLarge:
		return "frame_too_large"
	case CodeRateLimited:
		return "rate_limited"
	case CodeBusy:
		return "busy"
	case CodeLimitExceeded:
		return "limit_exceeded"
	}
	return fmt.Sprintf("code_%d", uint16(c))
}

// PeerError is an ERROR frame received from the peer.
type PeerError struct {
	Code    ErrorCode
	Message string
}

func (e *PeerError) Error() string { return fmt.Sprintf("peer refused (%s): %s", e.Code, e.Message) }

// Is matches any PeerError with the same code, so errors.Is(err, ErrRateLimited) works.
func (e *PeerError) Is(target error) bool {
	t, ok := target.(*PeerError)
	return ok && t.Code == e.Code
}

var (
	// ErrFrameTooLarge is returned when a frame's declared length exceeds the agreed maximum.
	ErrFrameTooLarge = errors.New("probe: frame too large")
	// ErrProtocol is returned when the peer sends a malformed or unexpected frame.
	ErrProtocol = errors.New("probe: protocol violation")
	// ErrRateLimited matches a server's refusal because this address opened too many sessions.
	ErrRateLimited = &PeerError{Code: CodeRateLimited}
	// ErrBusy matches a server's refusal because it has its maximum number of connections.
	ErrBusy = &PeerError{Code: CodeBusy}
	// ErrVersion matches a refusal of the protocol version.
	ErrVersion = &PeerError{Code: CodeVersion}
)
