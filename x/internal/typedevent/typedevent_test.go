package typedevent

import (
	"math/rand"
	"testing"

	gogoproto "github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// TestEventsMatchTheSDK: every builder gives the event sdk.TypedEventToEvent gives for the same message, for
// zero, small, large and odd values (strings that JSON escapes, empty and nil lists, unknown enum values).
func TestEventsMatchTheSDK(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	strs := []string{"", "node-00001", "a\"b", "<&>", "tab\there", "ünï", "\u2028", "back\\slash", "nro1qqqq", "0.5"}
	str := func() string { return strs[r.Intn(len(strs))] }
	list := func() []string {
		switch r.Intn(4) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		out := make([]string, 1+r.Intn(4))
		for i := range out {
			out[i] = str()
		}
		return out
	}
	u64 := func() uint64 {
		switch r.Intn(3) {
		case 0:
			return 0
		case 1:
			return ^uint64(0)
		}
		return r.Uint64() >> r.Intn(64)
	}
	i64 := func() int64 { return int64(u64()) }
	u32 := func() uint32 { return uint32(u64()) }
	check := func(msg gogoproto.Message, got sdk.Event) {
		t.Helper()
		want, err := sdk.TypedEventToEvent(msg)
		require.NoError(t, err)
		require.Equal(t, want, got, "%T %v", msg, msg)
	}
	for range 500 {
		decided := &allocationtypes.EventAllocationDecided{
			LeaseId: u64(), DecisionId: u64(), Source: allocationtypes.CandidateSource(r.Intn(6)), ProposalId: u64(),
			Candidates: u32(), NodeIds: list(), TotalCost: str(),
		}
		check(decided, AllocationDecided(decided))
		deferred := &allocationtypes.EventAllocationDeferred{LeaseId: u64(), RetryHeight: i64(), Reason: str()}
		check(deferred, AllocationDeferred(deferred))
		activated := &leasetypes.EventLeaseActivated{
			LeaseId: u64(), RingOrder: list(), DecisionId: u64(), EndHeight: i64(), DeadlineHeight: i64(),
			NodeIds: list(), RatePerHour: str(),
		}
		check(activated, LeaseActivated(activated))
		recorded := &audittypes.EventDecisionRecorded{DecisionId: u64(), LeaseId: u64(), Height: i64(), Candidates: u32()}
		check(recorded, DecisionRecorded(recorded))
	}
}
