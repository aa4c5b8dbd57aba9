package proposer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// fakeNode is a CometBFT /websocket endpoint: it answers the subscribe requests (refusing them when
// refuse is set) and then sends the scripted event messages; after them it drops the connection.
func fakeNode(t *testing.T, refuse bool, events ...string) *httptest.Server {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/websocket" {
			http.NotFound(w, r)
			return
		}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		var ids []int
		for i := 0; i < 3; i++ {
			var req struct {
				ID     int    `json:"id"`
				Method string `json:"method"`
				Params struct {
					Query string `json:"query"`
				} `json:"params"`
			}
			if conn.ReadJSON(&req) != nil {
				return
			}
			if req.Method != "subscribe" || req.Params.Query == "" {
				t.Errorf("request %d: method %q, query %q", i, req.Method, req.Params.Query)
			}
			ids = append(ids, req.ID)
		}
		for i, id := range ids {
			if refuse && i == 2 {
				_ = conn.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(
					`{"jsonrpc":"2.0","id":%d,"error":{"code":-32603,"message":"Internal error","data":"max_subscriptions_per_client 2 reached"}}`, id)))
				return
			}
			if i == 2 && len(events) > 0 {
				// An event may come before the last acknowledgement.
				_ = conn.WriteMessage(websocket.TextMessage, []byte(events[0]))
				events = events[1:]
			}
			_ = conn.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{}}`, id)))
		}
		for _, e := range events {
			_ = conn.WriteMessage(websocket.TextMessage, []byte(e))
		}
		// Then the node goes away without a close frame.
		_ = conn.UnderlyingConn().Close()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func eventMsg(id int, query, data string, events map[string][]string) string {
	ev, _ := json.Marshal(events)
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{"query":%q,"data":%s,"events":%s}}`, id, query, data, ev)
}

func TestCometEventsParsesAndEndsOnLostConnection(t *testing.T) {
	srv := fakeNode(t, false,
		eventMsg(1, queryNewBlock, `{"type":"tendermint/event/NewBlockHeader","value":{"header":{"chain_id":"nro-local-1","height":"41"}}}`, nil),
		eventMsg(2, queryLeaseCreated, `{"type":"tendermint/event/Tx","value":{}}`, map[string][]string{
			keyLeaseCreated: {`"7"`, `"8"`}, "tx.height": {"42"}, "tm.event": {"Tx"}}),
		eventMsg(3, queryReallocating, `{"type":"tendermint/event/NewBlockEvents","value":{"height":"43","events":[]}}`, map[string][]string{
			keyReallocating: {`"3"`}, "tm.event": {"NewBlockEvents"}}),
		eventMsg(1, queryNewBlock, `{"type":"tendermint/event/NewBlockHeader","value":{"header":{"height":"44"}}}`, nil),
	)
	ce, err := NewCometEvents(strings.Replace(srv.URL, "http://", "tcp://", 1), nil)
	require.NoError(t, err)
	require.Equal(t, "ws://"+strings.TrimPrefix(srv.URL, "http://")+"/websocket", ce.URL())
	sub, err := ce.Subscribe(context.Background())
	require.NoError(t, err)
	defer func() { _ = sub.Close() }()
	var got []Event
	for e := range sub.Events() {
		got = append(got, e)
	}
	require.Equal(t, []Event{
		{Kind: EventNewBlock, Height: 41},
		{Kind: EventLeasePending, LeaseID: 7, Height: 42},
		{Kind: EventLeasePending, LeaseID: 8, Height: 42},
		{Kind: EventLeasePending, LeaseID: 3, Height: 43},
		{Kind: EventNewBlock, Height: 44},
	}, got)
	require.Error(t, sub.Err(), "a dropped connection says so, so that the proposer resubscribes and catches up")
}

func TestCometEventsRefusedSubscription(t *testing.T) {
	srv := fakeNode(t, true)
	ce, err := NewCometEvents(srv.URL, nil)
	require.NoError(t, err)
	_, err = ce.Subscribe(context.Background())
	require.ErrorContains(t, err, "max_subscriptions_per_client")
}

func TestCometEventsBadInput(t *testing.T) {
	for _, addr := range []string{"", "127.0.0.1:26657", "ftp://127.0.0.1:26657"} {
		_, err := NewCometEvents(addr, nil)
		require.Error(t, err, addr)
	}
	_, err := parseMessage([]byte(eventMsg(2, queryLeaseCreated, `{}`, map[string][]string{keyLeaseCreated: {`"x"`}})))
	require.ErrorContains(t, err, "not a lease id")
	_, err = parseMessage([]byte(eventMsg(1, queryNewBlock, `{"value":{"header":{}}}`, nil)))
	require.ErrorContains(t, err, "height")
	_, err = parseMessage([]byte(eventMsg(9, "tm.event='Vote'", `{}`, nil)))
	require.ErrorContains(t, err, "not subscribed")
	_, err = parseMessage([]byte(`not json`))
	require.Error(t, err)
}

func TestCometEventsUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	ce, err := NewCometEvents(addr, nil)
	require.NoError(t, err)
	_, err = ce.Subscribe(context.Background())
	require.ErrorContains(t, err, "connect to")
}

// TestCometEventsBoundsAMessage: a message over MaxMessageBytes ends the stream with an error (the proposer
// resubscribes and catches up) instead of being read into memory; the events before it arrive.
func TestCometEventsBoundsAMessage(t *testing.T) {
	huge := eventMsg(2, queryLeaseCreated, `{"type":"tendermint/event/Tx","value":{"tx":"`+strings.Repeat("A", 4096)+`"}}`,
		map[string][]string{keyLeaseCreated: {`"9"`}, "tx.height": {"45"}})
	srv := fakeNode(t, false,
		eventMsg(1, queryNewBlock, `{"type":"tendermint/event/NewBlockHeader","value":{"header":{"height":"44"}}}`, nil),
		eventMsg(1, queryNewBlock, `{"type":"tendermint/event/NewBlockHeader","value":{"header":{"height":"45"}}}`, nil),
		huge,
		eventMsg(1, queryNewBlock, `{"type":"tendermint/event/NewBlockHeader","value":{"header":{"height":"46"}}}`, nil),
	)
	ce, err := NewCometEvents(srv.URL, nil)
	require.NoError(t, err)
	ce.MaxMessageBytes = 1024
	sub, err := ce.Subscribe(context.Background())
	require.NoError(t, err)
	defer func() { _ = sub.Close() }()
	var got []Event
	for e := range sub.Events() {
		got = append(got, e)
	}
	require.Equal(t, []Event{{Kind: EventNewBlock, Height: 44}, {Kind: EventNewBlock, Height: 45}}, got)
	require.ErrorIs(t, sub.Err(), websocket.ErrReadLimit)
}
