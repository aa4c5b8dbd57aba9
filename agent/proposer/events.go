package proposer

import (
	"context"
	"fmt"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventNewBlock: a block was committed at Height.
	EventNewBlock EventKind = iota + 1
	// EventLeasePending: lease LeaseID became PENDING at Height (EventLeaseCreated, or
	// EventLeaseReallocating: moved off its placement). Height is 0 when the event did not say.
	EventLeasePending
)

// Event is one thing the chain's event stream reported.
type Event struct {
	Kind    EventKind
	Height  int64
	LeaseID uint64
}

func (e Event) String() string {
	switch e.Kind {
	case EventNewBlock:
		return fmt.Sprintf("new block %d", e.Height)
	case EventLeasePending:
		return fmt.Sprintf("lease %d pending at height %d", e.LeaseID, e.Height)
	}
	return fmt.Sprintf("event kind %d", int(e.Kind))
}

// Events is the chain's event stream. CometEvents implements it over CometBFT's websocket; tests use fakes.
type Events interface {
	// Subscribe connects and subscribes to new blocks and to leases becoming PENDING. It returns once the
	// subscriptions are in place, so that a catch-up read made after it misses nothing.
	Subscribe(ctx context.Context) (Subscription, error)
}

// Subscription is one connection's events.
type Subscription interface {
	// Events delivers the events in the order the chain sent them; it is closed when the connection is lost,
	// the consumer fell too far behind, ctx ended or Close was called.
	Events() <-chan Event
	// Err says why Events was closed (nil for ctx or Close); valid once Events is closed.
	Err() error
	// Close ends the subscription and its connection.
	Close() error
}
