package proposer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"github.com/gorilla/websocket"
)

// The queries the proposer subscribes to. Typed events are indexed as "<proto message name>.<field>"; a
// lease is created in a transaction, and moved off its placement in a block's EndBlock.
const (
	queryNewBlock     = "tm.event='NewBlockHeader'"
	queryLeaseCreated = "tm.event='Tx' AND nro.lease.v1.EventLeaseCreated.lease_id EXISTS"
	queryReallocating = "tm.event='NewBlockEvents' AND nro.lease.v1.EventLeaseReallocating.lease_id EXISTS"

	keyLeaseCreated = "nro.lease.v1.EventLeaseCreated.lease_id"
	keyReallocating = "nro.lease.v1.EventLeaseReallocating.lease_id"
)

// CometEvents subscribes to a CometBFT node's websocket endpoint (/websocket on its RPC address) with the
// JSON-RPC "subscribe" method. It owns the connection rather than using CometBFT's WSClient, whose
// reconnection sleeps 2^attempt seconds (2^24 s ≈ 194 days before the 25th and last attempt by default,
// with no cap on the delay) and whose HTTP wrapper (rpc/client/http WSEvents) re-subscribes on its own
// without an OnReconnect hook for the caller, so that a caller cannot catch up on what it missed
// meanwhile; here a lost connection closes the Subscription and the proposer's Run resubscribes with a
// bounded backoff (500 ms to 30 s) and catches up.
type CometEvents struct {
	url string
	log *slog.Logger
	// DialTimeout bounds connecting and subscribing; PingPeriod is how often the connection is pinged, and a
	// connection that has sent nothing (not even a pong) for ReadTimeout is taken for lost.
	DialTimeout, PingPeriod, ReadTimeout time.Duration
	// Buffer is how many events may wait for the consumer; a consumer further behind loses the subscription
	// (and catches up after resubscribing) rather than blocking the connection.
	Buffer int
	// MaxMessageBytes bounds one websocket message; a larger one drops the stream (the catch-up query
	// follows). A Tx event carries its transaction, so the default, 32 MiB, holds one block at CometBFT's
	// default max block bytes (21 MiB) in base64 with its events.
	MaxMessageBytes int64
}

// DefaultMaxMessageBytes is CometEvents.MaxMessageBytes unless set.
const DefaultMaxMessageBytes = 32 << 20

// NewCometEvents returns the event stream of the CometBFT RPC at rpcAddr: http://host:port, https://…,
// tcp://host:port, ws:// or wss://.
func NewCometEvents(rpcAddr string, log *slog.Logger) (*CometEvents, error) {
	u, err := url.Parse(rpcAddr)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("CometBFT RPC address %q: want a URL such as http://127.0.0.1:26657", rpcAddr)
	}
	switch u.Scheme {
	case "http", "tcp", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("CometBFT RPC address %q: scheme %q is not http, https, tcp, ws or wss", rpcAddr, u.Scheme)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/websocket"
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &CometEvents{url: u.String(), log: log, DialTimeout: 10 * time.Second, PingPeriod: 10 * time.Second,
		ReadTimeout: 30 * time.Second, Buffer: 1024, MaxMessageBytes: DefaultMaxMessageBytes}, nil
}

// URL is the websocket endpoint.
func (c *CometEvents) URL() string { return c.url }

// Subscribe implements Events.
func (c *CometEvents) Subscribe(ctx context.Context) (Subscription, error) {
	dctx, cancel := context.WithTimeout(ctx, c.DialTimeout)
	defer cancel()
	conn, resp, err := websocket.DefaultDialer.DialContext(dctx, c.url, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", c.url, err)
	}
	limit := c.MaxMessageBytes
	if limit <= 0 {
		limit = DefaultMaxMessageBytes
	}
	conn.SetReadLimit(limit)
	s := &cometSub{conn: conn, events: make(chan Event, max(c.Buffer, 1)), done: make(chan struct{})}
	if deadline, ok := dctx.Deadline(); ok {
		_ = conn.SetReadDeadline(deadline)
		_ = conn.SetWriteDeadline(deadline)
	}
	queries := []string{queryNewBlock, queryLeaseCreated, queryReallocating}
	for i, q := range queries {
		req, err := rpctypes.MapToRequest(rpctypes.JSONRPCIntID(i+1), "subscribe", map[string]any{"query": q})
		if err != nil {
			_ = conn.Close()
			return nil, err
		}
		if err := conn.WriteJSON(req); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("subscribe to %q: %w", q, err)
		}
	}
	// Events may come between the acknowledgements: they are kept, in order.
	acked := 0
	var early []Event
	for acked < len(queries) {
		msg, err := s.read()
		if err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("subscribe at %s: %w", c.url, err)
		}
		if msg.ack {
			acked++
			continue
		}
		early = append(early, msg.events...)
	}
	if len(early) > cap(s.events) {
		_ = conn.Close()
		return nil, fmt.Errorf("subscribe at %s: %d events before the subscriptions were acknowledged", c.url, len(early))
	}
	for _, e := range early {
		s.events <- e
	}
	_ = conn.SetWriteDeadline(time.Time{})
	ping := c.PingPeriod
	readTimeout := c.ReadTimeout
	_ = conn.SetReadDeadline(time.Now().Add(readTimeout))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(readTimeout)) })
	go s.readLoop(readTimeout)
	go s.pingLoop(ctx, ping)
	c.log.Debug("subscribed to the chain's events", "url", c.url)
	return s, nil
}

type cometSub struct {
	conn   *websocket.Conn
	events chan Event
	done   chan struct{}

	writeMu   sync.Mutex
	closeOnce sync.Once
	mu        sync.Mutex
	err       error
	closed    bool
}

func (s *cometSub) Events() <-chan Event { return s.events }

func (s *cometSub) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *cometSub) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.closeOnce.Do(func() { close(s.done) })
	return s.conn.Close()
}

// fail records why the stream ends (unless it was closed on purpose) and closes the connection.
func (s *cometSub) fail(err error) {
	s.mu.Lock()
	if !s.closed && s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.closeOnce.Do(func() { close(s.done) })
	_ = s.conn.Close()
}

func (s *cometSub) pingLoop(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.closed = true
			s.mu.Unlock()
			s.fail(nil)
			return
		case <-s.done:
			return
		case <-t.C:
			s.writeMu.Lock()
			err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(period))
			s.writeMu.Unlock()
			if err != nil {
				s.fail(fmt.Errorf("ping: %w", err))
				return
			}
		}
	}
}

func (s *cometSub) readLoop(readTimeout time.Duration) {
	defer close(s.events)
	for {
		msg, err := s.read()
		if err != nil {
			s.fail(fmt.Errorf("the event stream was lost: %w", err))
			return
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(readTimeout))
		for _, e := range msg.events {
			select {
			case s.events <- e:
			default:
				s.fail(fmt.Errorf("more than %d events waited for the proposer; the stream is dropped (a catch-up follows)", cap(s.events)))
				return
			}
		}
	}
}

// message is one websocket message: a subscription's acknowledgement, or an event with what it reports.
type message struct {
	ack    bool
	events []Event
}

// resultEvent is CometBFT's ResultEvent with the event data left raw: only the heights are read from it.
type resultEvent struct {
	Query  string              `json:"query"`
	Data   json.RawMessage     `json:"data"`
	Events map[string][]string `json:"events"`
}

func (s *cometSub) read() (message, error) {
	_, raw, err := s.conn.ReadMessage()
	if err != nil {
		return message{}, err
	}
	return parseMessage(raw)
}

// parseMessage reads one JSON-RPC response of the websocket.
func parseMessage(raw []byte) (message, error) {
	var resp rpctypes.RPCResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return message{}, fmt.Errorf("a websocket message is not a JSON-RPC response: %w", err)
	}
	if resp.Error != nil {
		return message{}, fmt.Errorf("the node refused: %w", resp.Error)
	}
	var ev resultEvent
	if len(resp.Result) > 0 {
		if err := json.Unmarshal(resp.Result, &ev); err != nil {
			return message{}, fmt.Errorf("event: %w", err)
		}
	}
	if ev.Query == "" {
		return message{ack: true}, nil
	}
	switch ev.Query {
	case queryNewBlock:
		var d struct {
			Value struct {
				Header struct {
					Height json.Number `json:"height"`
				} `json:"header"`
			} `json:"value"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			return message{}, fmt.Errorf("new block header: %w", err)
		}
		h, err := strconv.ParseInt(d.Value.Header.Height.String(), 10, 64)
		if err != nil || h <= 0 {
			return message{}, fmt.Errorf("new block header: height %q is not a positive integer", d.Value.Header.Height)
		}
		return message{events: []Event{{Kind: EventNewBlock, Height: h}}}, nil
	case queryLeaseCreated:
		h, _ := firstInt(ev.Events["tx.height"])
		return leaseEvents(ev.Events[keyLeaseCreated], h)
	case queryReallocating:
		var d struct {
			Value struct {
				Height json.Number `json:"height"`
			} `json:"value"`
		}
		var h int64
		if json.Unmarshal(ev.Data, &d) == nil {
			h, _ = strconv.ParseInt(d.Value.Height.String(), 10, 64)
		}
		return leaseEvents(ev.Events[keyReallocating], h)
	}
	return message{}, fmt.Errorf("an event for query %q, which was not subscribed to", ev.Query)
}

// leaseEvents reads the lease ids of a typed event's attribute values: JSON, so a uint64 comes quoted
// ("\"7\"").
func leaseEvents(values []string, height int64) (message, error) {
	if len(values) == 0 {
		return message{}, errors.New("a lease event without lease_id")
	}
	var m message
	seen := map[uint64]bool{}
	for _, v := range values {
		id, err := strconv.ParseUint(strings.Trim(v, `"`), 10, 64)
		if err != nil || id == 0 {
			return message{}, fmt.Errorf("lease event: lease_id %q is not a lease id", v)
		}
		if !seen[id] {
			seen[id] = true
			m.events = append(m.events, Event{Kind: EventLeasePending, Height: height, LeaseID: id})
		}
	}
	return m, nil
}

func firstInt(values []string) (int64, bool) {
	if len(values) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.Trim(values[0], `"`), 10, 64)
	return n, err == nil
}
