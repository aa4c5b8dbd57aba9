package proposer

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// fakeEvents hands out the subscriptions the test sends on next, one per Subscribe; a nil one makes that
// Subscribe fail (the node is unreachable).
type fakeEvents struct {
	next chan *fakeSub
	mu   sync.Mutex
	subs int
}

func (f *fakeEvents) Subscribe(ctx context.Context) (Subscription, error) {
	f.mu.Lock()
	f.subs++
	f.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case s := <-f.next:
		if s == nil {
			return nil, errors.New("dial tcp 127.0.0.1:26657: connection refused")
		}
		return s, nil
	}
}

// fakeSub is a subscription whose events the test sends (unbuffered: a send returns once the proposer took
// the event, so the one before it has been handled).
type fakeSub struct {
	events chan Event
	once   sync.Once
	err    error
}

func newFakeSub() *fakeSub { return &fakeSub{events: make(chan Event)} }

func (s *fakeSub) Events() <-chan Event { return s.events }
func (s *fakeSub) Err() error           { return s.err }
func (s *fakeSub) Close() error         { s.lose(nil); return nil }

// lose ends the subscription as a dropped connection does.
func (s *fakeSub) lose(err error) {
	s.once.Do(func() { s.err = err; close(s.events) })
}

// within fails the test when ch yields nothing for a long time (a hang, not a speed check).
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// TestEventsReconnectAndCatchUp runs the proposer over a fake event stream: the first subscription cannot
// be opened, the second one catches up, and a lease created afterwards is proposed for from its event;
// the stream is lost, a lease is created while nobody listens, and the catch-up after resubscribing
// proposes for it; new blocks after the windows settle both outcomes from the decision records.
func TestEventsReconnectAndCatchUp(t *testing.T) {
	c := newFake(t, true)
	c.leases = nil
	c.rounds = make(chan struct{})
	c.sentCh = make(chan *types.MsgProposeAllocation)
	ev := &fakeEvents{next: make(chan *fakeSub)}
	p, err := New(c, Config{Events: ev, PollInterval: time.Hour, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	ev.next <- nil // the node is down: Run backs off and tries again
	s1 := newFakeSub()
	ev.next <- s1
	within(t, c.rounds, "the catch-up after subscribing")

	// Lease 1 is created: its event alone brings the proposal (the poll is an hour away).
	c.mu.Lock()
	c.leases = []leasetypes.Lease{lease(1, 10)}
	c.height = 10
	c.mu.Unlock()
	s1.events <- Event{Kind: EventLeasePending, LeaseID: 1, Height: 10}
	msg := within(t, c.sentCh, "the proposal for lease 1")
	require.Equal(t, uint64(1), msg.LeaseId)
	require.Equal(t, []leasetypes.Placement{{NodeId: "gpu-b", Gpus: 4}}, msg.Placement)
	// A duplicate event (and a new block) send nothing more.
	s1.events <- Event{Kind: EventLeasePending, LeaseID: 1, Height: 10}
	s1.events <- Event{Kind: EventNewBlock, Height: 11}

	// The connection drops; lease 2 is created while the proposer is not listening.
	c.mu.Lock()
	c.leases = append(c.leases, lease(2, 12))
	c.height = 12
	c.mu.Unlock()
	s1.lose(errors.New("websocket: close 1006 (abnormal closure): unexpected EOF"))
	s2 := newFakeSub()
	ev.next <- s2
	within(t, c.rounds, "the catch-up after resubscribing")
	msg = within(t, c.sentCh, "the proposal for lease 2, found by the catch-up")
	require.Equal(t, uint64(2), msg.LeaseId)

	// The proposer records a proposal after its send returns, so the record may trail the message.
	require.Eventually(t, func() bool { return len(p.Records()) == 2 }, 30*time.Second, time.Millisecond,
		"the record of the proposal for lease 2")
	recs := p.Records()
	require.Len(t, recs, 2)
	require.Equal(t, TriggerEvent, recs[0].Trigger)
	require.Equal(t, TriggerCatchUp, recs[1].Trigger)
	for _, r := range recs {
		require.NotNil(t, r.FallbackTotal)
		require.True(t, r.Total.LT(*r.FallbackTotal), "lease %d: proposal %s, fallback %s", r.LeaseID, r.Total, r.FallbackTotal)
		require.Empty(t, r.Outcome)
	}

	// Both windows close; the chain placed lease 1 with ours and lease 2 with the fallback.
	w := int64(c.params.ProposalWindowBlocks)
	c.mu.Lock()
	c.leases = nil
	c.decisions[1] = []audittypes.Decision{decided(types.Candidate{Source: types.CANDIDATE_SOURCE_PROPOSAL, Proposer: me}, 10+w)}
	c.decisions[2] = []audittypes.Decision{decided(types.Candidate{Source: types.CANDIDATE_SOURCE_FALLBACK}, 12+w)}
	c.mu.Unlock()
	s2.events <- Event{Kind: EventNewBlock, Height: 12 + w + 1}
	s2.events <- Event{Kind: EventNewBlock, Height: 12 + w + 2} // taken once the one before is handled
	require.Equal(t, Counts{Sent: 2, Won: 1, Lost: 1}, p.Counts())
	recs = p.Records()
	require.Equal(t, OutcomeWon, recs[0].Outcome)
	require.Equal(t, OutcomeLost, recs[1].Outcome)

	cancel()
	require.NoError(t, within(t, done, "Run to return"))
	ev.mu.Lock()
	require.Equal(t, 3, ev.subs, "one failed subscription, then two")
	ev.mu.Unlock()
}

// TestHandleBlockRetriesTransientFailures: a lease whose read failed is looked at again at the next block.
func TestHandleBlockRetriesTransientFailures(t *testing.T) {
	ctx := context.Background()
	c := newFake(t, true)
	p, err := New(c, Config{})
	require.NoError(t, err)
	c.leaseErr = errors.New("rpc error: code = Unavailable")
	require.Error(t, p.HandleLease(ctx, 1, 10))
	require.Empty(t, c.sent)
	c.leaseErr = nil
	require.NoError(t, p.HandleBlock(ctx, 11))
	require.Len(t, c.sent, 1)
	require.Equal(t, TriggerEvent, p.Records()[0].Trigger)
	// Nothing is left to retry.
	require.NoError(t, p.HandleBlock(ctx, 12))
	require.Len(t, c.sent, 1)

	// A lease that is no longer PENDING is left alone.
	require.NoError(t, p.HandleLease(ctx, 9, 12))
	require.Len(t, c.sent, 1)
}

// TestSettleWaitsForDeferredLease: a lease still PENDING in the same period after its window (the chain
// deferred it) is not counted until it is decided.
func TestSettleWaitsForDeferredLease(t *testing.T) {
	ctx := context.Background()
	c := newFake(t, true)
	p, err := New(c, Config{})
	require.NoError(t, err)
	require.NoError(t, p.HandleLease(ctx, 1, 11))
	require.Len(t, c.sent, 1)
	after := 10 + int64(c.params.ProposalWindowBlocks) + 1
	require.NoError(t, p.HandleBlock(ctx, after))
	require.Equal(t, Counts{Sent: 1}, p.Counts(), "still PENDING: not decided yet")
	c.leases = nil
	c.decisions[1] = []audittypes.Decision{decided(types.Candidate{Source: types.CANDIDATE_SOURCE_PROPOSAL, Proposer: me}, after+1)}
	require.NoError(t, p.HandleBlock(ctx, after+1))
	require.Equal(t, Counts{Sent: 1, Won: 1}, p.Counts())
}
