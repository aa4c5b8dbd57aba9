// Package typedevent builds the sdk.Event of a typed event without the SDK's reflection: the SDK's
// EmitTypedEvent encodes the message to JSON through jsonpb and decodes that JSON again to list its fields,
// which costs tens of microseconds per event. The events the allocation engine emits for every placement have
// only scalar and repeated-string fields; a Builder writes their attributes directly, byte for byte as
// sdk.TypedEventToEvent would (field names as in the proto file, every field present, 64-bit integers quoted,
// enums by name, attributes sorted by key), so that clients and sdk.ParseTypedEvent see the same events.
// Each use is checked against sdk.TypedEventToEvent in the tests of its module.
package typedevent

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"

	gogoproto "github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// Builder collects the attributes of one event. Add every field of the message, then call Event.
type Builder struct {
	attrs []abci.EventAttribute
	buf   []byte
}

// New returns a builder for an event with about n fields.
func New(n int) *Builder { return &Builder{attrs: make([]abci.EventAttribute, 0, n)} }

func (b *Builder) add(key string, value []byte) {
	b.attrs = append(b.attrs, abci.EventAttribute{Key: key, Value: string(value)})
}

// Uint64 adds a uint64 field (jsonpb quotes 64-bit integers).
func (b *Builder) Uint64(key string, v uint64) *Builder {
	b.buf = append(strconv.AppendUint(append(b.buf[:0], '"'), v, 10), '"')
	b.add(key, b.buf)
	return b
}

// Int64 adds an int64 field.
func (b *Builder) Int64(key string, v int64) *Builder {
	b.buf = append(strconv.AppendInt(append(b.buf[:0], '"'), v, 10), '"')
	b.add(key, b.buf)
	return b
}

// Uint32 adds a uint32 field (a bare number).
func (b *Builder) Uint32(key string, v uint32) *Builder {
	b.buf = strconv.AppendUint(b.buf[:0], uint64(v), 10)
	b.add(key, b.buf)
	return b
}

// String adds a string field.
func (b *Builder) String(key, v string) *Builder {
	b.buf = appendString(b.buf[:0], v)
	b.add(key, b.buf)
	return b
}

// Strings adds a repeated string field.
func (b *Builder) Strings(key string, vs []string) *Builder {
	buf := append(b.buf[:0], '[')
	for i, v := range vs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, v)
	}
	b.buf = append(buf, ']')
	b.add(key, b.buf)
	return b
}

// Enum adds an enum field given its value and its name (String() of a generated enum: the number when the
// value is not a known name), as jsonpb writes it: the name quoted, an unknown value as a bare number.
func (b *Builder) Enum(key string, value int32, name string) *Builder {
	if name == strconv.Itoa(int(value)) {
		b.buf = append(b.buf[:0], name...)
	} else {
		b.buf = append(append(append(b.buf[:0], '"'), name...), '"')
	}
	b.add(key, b.buf)
	return b
}

// Event returns the event of the given proto message name (sdk.MsgTypeURL without the slash), attributes
// sorted by key.
func (b *Builder) Event(msgName string) sdk.Event {
	slices.SortFunc(b.attrs, func(x, y abci.EventAttribute) int { return strings.Compare(x.Key, y.Key) })
	return sdk.Event{Type: msgName, Attributes: b.attrs}
}

// appendString appends s as encoding/json writes it (which jsonpb uses for strings): plain printable ASCII
// as is, anything else through encoding/json.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, err := json.Marshal(s)
			if err != nil { // a Go string always encodes
				panic(err)
			}
			return append(buf, enc...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

var (
	allocationDecidedName  = gogoproto.MessageName(&allocationtypes.EventAllocationDecided{})
	allocationDeferredName = gogoproto.MessageName(&allocationtypes.EventAllocationDeferred{})
	leaseActivatedName     = gogoproto.MessageName(&leasetypes.EventLeaseActivated{})
	decisionRecordedName   = gogoproto.MessageName(&audittypes.EventDecisionRecorded{})
)

// AllocationDecided is the event of an allocation decision (x/allocation, one per placed lease).
func AllocationDecided(e *allocationtypes.EventAllocationDecided) sdk.Event {
	return New(7).Uint64("lease_id", e.LeaseId).Uint64("decision_id", e.DecisionId).
		Enum("source", int32(e.Source), e.Source.String()).Uint64("proposal_id", e.ProposalId).
		Uint32("candidates", e.Candidates).Strings("node_ids", e.NodeIds).String("total_cost", e.TotalCost).
		Event(allocationDecidedName)
}

// AllocationDeferred is the event of a lease the engine could not place in this block.
func AllocationDeferred(e *allocationtypes.EventAllocationDeferred) sdk.Event {
	return New(3).Uint64("lease_id", e.LeaseId).Int64("retry_height", e.RetryHeight).String("reason", e.Reason).
		Event(allocationDeferredName)
}

// LeaseActivated is the event of a lease turned ACTIVE (x/lease).
func LeaseActivated(e *leasetypes.EventLeaseActivated) sdk.Event {
	return New(7).Uint64("lease_id", e.LeaseId).Strings("ring_order", e.RingOrder).Uint64("decision_id", e.DecisionId).
		Int64("end_height", e.EndHeight).Int64("deadline_height", e.DeadlineHeight).Strings("node_ids", e.NodeIds).
		String("rate_per_hour", e.RatePerHour).Event(leaseActivatedName)
}

// DecisionRecorded is the event of a stored decision record (x/audit).
func DecisionRecorded(e *audittypes.EventDecisionRecorded) sdk.Event {
	return New(4).Uint64("decision_id", e.DecisionId).Uint64("lease_id", e.LeaseId).Int64("height", e.Height).
		Uint32("candidates", e.Candidates).Event(decisionRecordedName)
}
