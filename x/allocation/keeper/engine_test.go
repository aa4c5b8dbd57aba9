package keeper_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// decidedAllocation is the single EventAllocationDecided of the last block with the winner of its decision
// record: the event carries ids and the total only.
type decidedAllocation struct {
	*types.EventAllocationDecided
	Placement []leasetypes.Placement
	RingOrder []string
	Score     types.ScoreBreakdown
}

// decided returns the last block's single allocation, checking that its event agrees with the decision record.
func decided(t *testing.T, e *engineFixture) decidedAllocation {
	t.Helper()
	evs := typedEvents[*types.EventAllocationDecided](t, e.AllocationFixture)
	require.Len(t, evs, 1, "events: %v", e.TypedEvents())
	return decidedOf(t, e, evs[0])
}

func decidedOf(t *testing.T, e *engineFixture, ev *types.EventAllocationDecided) decidedAllocation {
	t.Helper()
	var rec *decision
	for i := range e.audit.Decisions {
		if e.audit.Decisions[i].ID == ev.DecisionId {
			rec = &e.audit.Decisions[i]
		}
	}
	require.NotNil(t, rec, "decision %d of the event was not recorded", ev.DecisionId)
	require.Equal(t, ev.LeaseId, rec.LeaseID)
	w := rec.Candidates[rec.Winner]
	out := decidedAllocation{EventAllocationDecided: ev, RingOrder: w.RingOrder, Score: w.Score}
	var ids []string
	for _, n := range w.Nodes {
		out.Placement = append(out.Placement, leasetypes.Placement{NodeId: n.NodeId, Gpus: n.Gpus})
		ids = append(ids, n.NodeId)
	}
	require.Equal(t, ids, ev.NodeIds)
	require.Equal(t, w.Score.Total.String(), ev.TotalCost)
	require.Equal(t, w.Source, ev.Source)
	require.Equal(t, w.ProposalId, ev.ProposalId)
	require.Equal(t, uint32(len(rec.Candidates)), ev.Candidates)
	return out
}

// requireRescored re-scores every scored candidate of a decision record from its recorded inputs, as
// `nrod audit verify-decision` does, and checks the winner is the best of them.
func requireRescored(t *testing.T, e *engineFixture, d decision) {
	t.Helper()
	maxNodes := e.Params().MaxPlacementNodes
	for i, c := range d.Candidates {
		if c.Rejected != "" {
			continue
		}
		s, err := types.ScoreCandidate(d.Spec, d.BlocksPerHour, d.Weights, c, maxNodes)
		require.NoError(t, err, "candidate %d", i)
		require.Equal(t, s, c.Score, "candidate %d re-scores differently", i)
	}
	w, ok := types.ChooseWinner(d.Candidates)
	require.True(t, ok)
	require.Equal(t, d.Winner, uint32(w))
}

func placementOf(nodes []types.ScoredNode) []leasetypes.Placement {
	out := make([]leasetypes.Placement, len(nodes))
	for i, n := range nodes {
		out[i] = leasetypes.Placement{NodeId: n.NodeId, Gpus: n.Gpus}
	}
	return out
}

func TestAllocatePendingWaitsForTheWindow(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "n1"})
	lease := e.createLease(baseSpec())
	due := e.dueHeight()
	require.Equal(t, []collections.Pair[int64, uint64]{collections.Join(due, lease)}, e.queue())

	for e.Height() < due-1 {
		e.NextBlock(1)
		before := e.snapshot(t)
		require.NoError(t, e.AllocateEndBlock())
		e.requireUnchanged(t, before)
	}
	e.advanceTo(due)
	require.Equal(t, lease, decided(t, e).LeaseId)
	require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, e.leases.lease(t, lease).State)
	require.Empty(t, e.queue())
}

// TestAllocatePendingWinner: a kept proposal competes with the fallback's placement on cost; ties go to
// proposals, then to the lower proposal id.
//
// Nodes (all aws:us-east-1, 8 H100): cheap at 2.5 NRO (the fallback's pick: cost 20 NRO for 8 GPUs-hours),
// twin identical to cheap, rep at 2.5 NRO + 1 unro with full reputation (20 + 0.000008 − 0.8 NRO),
// pricey at 2.6 NRO (20.8 NRO).
func TestAllocatePendingWinner(t *testing.T) {
	cases := []struct {
		name      string
		proposals [][]leasetypes.Placement
		// winner is the index of the winning proposal, or -1 for the fallback.
		winner    int
		total     int64
		winnerIDs []string
	}{
		{name: "no proposal: fallback", winner: -1, total: 20_000_000, winnerIDs: []string{"cheap"}},
		{name: "cheaper proposal beats the fallback", proposals: [][]leasetypes.Placement{pl("rep", 8)}, winner: 0, total: 19_200_008},
		{name: "costlier proposal loses to the fallback", proposals: [][]leasetypes.Placement{pl("pricey", 8)}, winner: -1, total: 20_000_000, winnerIDs: []string{"cheap"}},
		{name: "tie: proposal beats the fallback", proposals: [][]leasetypes.Placement{pl("cheap", 8)}, winner: 0, total: 20_000_000},
		{
			name:      "tie between proposals: lower id wins",
			proposals: [][]leasetypes.Placement{pl("twin", 8), pl("cheap", 8)},
			winner:    0, total: 20_000_000, winnerIDs: []string{"twin"},
		},
		{
			name:      "cheapest of several proposals wins whatever its id",
			proposals: [][]leasetypes.Placement{pl("pricey", 8), pl("cheap", 8), pl("rep", 8)},
			winner:    2, total: 19_200_008, winnerIDs: []string{"rep"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngineFixture(t)
			e.node(keepertest.NodeSpec{ID: "cheap", PricePerGpuHour: 2_500_000})
			e.node(keepertest.NodeSpec{ID: "twin", PricePerGpuHour: 2_500_000})
			e.node(keepertest.NodeSpec{ID: "rep", PricePerGpuHour: 2_500_001, ReputationBps: types.MaxReputationBps})
			e.node(keepertest.NodeSpec{ID: "pricey", PricePerGpuHour: 2_600_000})
			lease := e.createLease(baseSpec())
			due := e.dueHeight()
			ids := make([]uint64, len(tc.proposals))
			for i, p := range tc.proposals {
				ids[i] = e.mustPropose(e.bonded(fmt.Sprintf("proposer-%d", i)), lease, p)
			}
			e.advanceTo(due)

			ev := decided(t, e)
			d := e.audit.last(t)
			requireRescored(t, e, d)
			require.Len(t, d.Candidates, len(tc.proposals)+1)
			w := d.Candidates[d.Winner]
			require.Equal(t, math.NewInt(tc.total), w.Score.Total)
			require.Equal(t, w.Score, ev.Score)
			if tc.winner < 0 {
				require.Equal(t, types.CANDIDATE_SOURCE_FALLBACK, ev.Source)
				require.Zero(t, ev.ProposalId)
				require.Equal(t, uint32(len(tc.proposals)), d.Winner, "the fallback is the last candidate")
			} else {
				require.Equal(t, types.CANDIDATE_SOURCE_PROPOSAL, ev.Source)
				require.Equal(t, ids[tc.winner], ev.ProposalId)
				require.Equal(t, tc.proposals[tc.winner], ev.Placement)
			}
			if tc.winnerIDs != nil {
				var got []string
				for _, n := range w.Nodes {
					got = append(got, n.NodeId)
				}
				require.Equal(t, tc.winnerIDs, got)
			}
		})
	}
}

// TestAllocatePendingDecision follows one decision through every effect: reservation on the right GPU
// group, capacity index, ActivateLease, the decision record, cleanup and the event.
func TestAllocatePendingDecision(t *testing.T) {
	e := newEngineFixture(t)
	// multi's H100s are its second group.
	e.node(keepertest.NodeSpec{ID: "multi", PricePerGpuHour: 2_000_000, EthAddress: ethAddr1, Gpus: []types.GpuGroup{
		{Model: "A100", Count: 8, MemoryMib: 81920}, {Model: "H100", Count: 8, MemoryMib: 81920},
	}})
	e.node(keepertest.NodeSpec{ID: "cheap", PricePerGpuHour: 2_500_000})
	e.node(keepertest.NodeSpec{ID: "rep", PricePerGpuHour: 2_500_001, ReputationBps: types.MaxReputationBps})
	e.node(keepertest.NodeSpec{ID: "elsewhere", Region: "aws:us-east-2", PricePerGpuHour: 2_900_000})
	spec := baseSpec()
	spec.MaxGpusPerNode = 4
	lease := e.createLease(spec)
	other := e.createLease(baseSpec())
	due := e.dueHeight()

	proposer := e.bonded("proposer")
	pid := e.mustPropose(proposer, lease, pl("multi", 4, "rep", 4), "rep", "multi")
	otherPid := e.mustPropose(proposer, other, pl("cheap", 8))
	e.advanceTo(due - 1)
	require.Empty(t, e.audit.Decisions)
	e.NextBlock(1)
	e.ResetEvents()
	require.NoError(t, e.AllocateEndBlock())
	e.requireEngineInvariants()

	// Lease 1: proposal multi(4) + rep(4). Costs, 8 GPUs for 1 hour: price 4 × 2 + 4 × 2.500001 = 18.000004
	// NRO; both links us-east-1 ↔ us-east-1 (932 µs, 7104 Mbit/s): latency 10000 × 932 × 8 / 1000 = 74560,
	// bandwidth shortfall 100 × (10000 − 7104) × 8 = 2316800; stranded 4 + 4: 800000; reputation 20 × 4 ×
	// 5000 = 400000. The fallback takes multi(4) + cheap(4): the same without the reputation and 4 unro.
	d := e.audit.Decisions[0]
	require.Equal(t, lease, d.LeaseID)
	requireRescored(t, e, d)
	require.Len(t, d.Candidates, 2)
	prop, fb := d.Candidates[0], d.Candidates[1]
	require.Equal(t, types.CANDIDATE_SOURCE_PROPOSAL, prop.Source)
	require.Equal(t, pid, prop.ProposalId)
	require.Equal(t, proposer, prop.Proposer)
	require.Equal(t, math.NewInt(18_000_004+74_560+2_316_800+800_000-400_000), prop.Score.Total)
	require.Equal(t, types.CANDIDATE_SOURCE_FALLBACK, fb.Source)
	require.Equal(t, pl("multi", 4, "cheap", 4), placementOf(fb.Nodes))
	require.Equal(t, math.NewInt(18_000_000+74_560+2_316_800+800_000), fb.Score.Total)
	require.Equal(t, uint32(0), d.Winner)
	require.Equal(t, spec, d.Spec)
	require.Equal(t, uint64(testBlocksPerHour), d.BlocksPerHour)
	require.Equal(t, e.Params().Weights, d.Weights)

	// Reservations: multi's H100 group (index 1), rep's only group; then lease 2 on cheap.
	multi := e.Node("multi")
	require.Equal(t, uint32(0), multi.Gpus[0].Reserved)
	require.Equal(t, uint32(4), multi.Gpus[1].Reserved)
	require.Equal(t, uint32(4), multi.ReservedGpus)
	require.Equal(t, uint32(4), e.Node("rep").Gpus[0].Reserved)
	require.Equal(t, uint32(4), e.Node("rep").ReservedGpus)
	require.Equal(t, uint32(8), e.Node("cheap").ReservedGpus)
	require.Equal(t, uint32(0), e.Node("elsewhere").ReservedGpus)
	// The capacity index moved: multi's H100 group now has 4 free, cheap has none left.
	index := e.CapacityIndex()
	require.Contains(t, index, collections.Join4("r/aws:us-east-1/m/H100", uint64(2_000_000), uint32(4), "multi/1"))
	require.NotContains(t, index, collections.Join4("r/aws:us-east-1/m/H100", uint64(2_000_000), uint32(8), "multi/1"))
	require.Contains(t, index, collections.Join4("m/A100", uint64(2_000_000), uint32(8), "multi/0"))
	for _, k := range index {
		require.NotEqual(t, "cheap/0", k.K4(), "a full group stays out of the capacity index")
	}

	// ActivateLease got the placement with the terms x/lease locks.
	require.Len(t, e.leases.Activations, 2)
	act := e.leases.Activations[0]
	_, opMulti := e.Addr("operator/multi")
	_, opRep := e.Addr("operator/rep")
	require.Equal(t, activation{
		LeaseID: lease,
		Nodes: []leasetypes.LeaseNode{
			{
				NodeId: "multi", Operator: opMulti, EthAddress: ethAddr1, Region: "aws:us-east-1", Gpus: 4, GpuGroup: 1,
				GpuModel: "H100", GpuMemoryMib: 81920, PricePerGpuHour: unro(2_000_000), Paid: math.ZeroInt(),
			},
			{
				NodeId: "rep", Operator: opRep, Region: "aws:us-east-1", Gpus: 4, GpuGroup: 0,
				GpuModel: "H100", GpuMemoryMib: 81920, PricePerGpuHour: unro(2_500_001), Paid: math.ZeroInt(),
			},
		},
		RingOrder:  []string{"rep", "multi"},
		DecisionID: d.ID,
		Height:     due,
	}, act)
	require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, e.leases.lease(t, lease).State)
	require.Equal(t, d.ID, e.leases.lease(t, lease).DecisionId)

	// Lease 2's proposal won the tie against the fallback on cheap.
	require.Equal(t, otherPid, e.audit.Decisions[1].Candidates[e.audit.Decisions[1].Winner].ProposalId)

	// Proposals and queue entries are gone.
	require.Empty(t, e.proposals())
	require.Empty(t, e.proposalIDsOf(lease))
	require.Empty(t, e.queue())
	require.Empty(t, e.pendingDue())

	evs := typedEvents[*types.EventAllocationDecided](t, e.AllocationFixture)
	require.Len(t, evs, 2)
	first, second := decidedOf(t, e, evs[0]), decidedOf(t, e, evs[1])
	require.Equal(t, lease, first.LeaseId)
	require.Equal(t, d.ID, first.DecisionId)
	require.Equal(t, types.CANDIDATE_SOURCE_PROPOSAL, first.Source)
	require.Equal(t, pid, first.ProposalId)
	require.Equal(t, pl("multi", 4, "rep", 4), first.Placement)
	require.Equal(t, []string{"rep", "multi"}, first.RingOrder)
	require.Equal(t, prop.Score, first.Score)
	require.Equal(t, uint32(2), first.Candidates)
	require.Equal(t, other, second.LeaseId)
	require.Equal(t, types.CANDIDATE_SOURCE_PROPOSAL, second.Source)
	require.Equal(t, otherPid, second.ProposalId)
	require.Equal(t, pl("cheap", 8), second.Placement)
	require.Equal(t, []string{"cheap"}, second.RingOrder)

	// Nothing left to do in the next blocks.
	for range 3 {
		e.NextBlock(1)
		before := e.snapshot(t)
		require.NoError(t, e.AllocateEndBlock())
		e.requireUnchanged(t, before)
	}
}

// TestAllocatePendingInvalidatedProposal: two leases decided in one block compete for a node; the second
// lease's proposal is invalid once the first took the node, and the decision record says so.
func TestAllocatePendingInvalidatedProposal(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "x", PricePerGpuHour: 2_000_000})
	e.node(keepertest.NodeSpec{ID: "y", PricePerGpuHour: 2_500_000})
	first := e.createLease(baseSpec())
	second := e.createLease(baseSpec())
	due := e.dueHeight()
	p1 := e.mustPropose(e.bonded("p1"), first, pl("x", 8))
	p2 := e.mustPropose(e.bonded("p2"), second, pl("x", 8))
	e.advanceTo(due)

	require.Len(t, e.audit.Decisions, 2)
	d1, d2 := e.audit.Decisions[0], e.audit.Decisions[1]
	require.Equal(t, first, d1.LeaseID)
	require.Equal(t, p1, d1.Candidates[d1.Winner].ProposalId)

	require.Equal(t, second, d2.LeaseID)
	require.Len(t, d2.Candidates, 2)
	rejected := d2.Candidates[0]
	require.Equal(t, p2, rejected.ProposalId)
	require.Equal(t, types.CANDIDATE_SOURCE_PROPOSAL, rejected.Source)
	require.Contains(t, rejected.Rejected, "node x: 8 GPUs asked but no matching group has that many free (over-commit)")
	require.True(t, rejected.Score.Total.IsZero())
	require.Equal(t, uint32(1), d2.Winner)
	require.Equal(t, pl("y", 8), placementOf(d2.Candidates[1].Nodes))
	requireRescored(t, e, d2)

	require.Equal(t, uint32(8), e.Node("x").ReservedGpus)
	require.Equal(t, uint32(8), e.Node("y").ReservedGpus)
	require.Equal(t, "y", e.leases.lease(t, second).Nodes[0].NodeId)
}

// TestAllocatePendingDefers: a lease nothing can place is deferred block after block, keeping its
// proposals, until capacity frees.
func TestAllocatePendingDefers(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "only"})
	first := e.createLease(baseSpec())
	firstDue := e.dueHeight()
	e.NextBlock(1)
	second := e.createLease(baseSpec())
	secondDue := e.dueHeight()
	pid := e.mustPropose(e.bonded("p"), second, pl("only", 8))

	e.advanceTo(firstDue)
	require.Equal(t, first, decided(t, e).LeaseId)

	e.advanceTo(secondDue)
	deferred := typedEvents[*types.EventAllocationDeferred](t, e.AllocationFixture)
	require.Len(t, deferred, 1)
	require.Equal(t, second, deferred[0].LeaseId)
	require.Equal(t, secondDue+1, deferred[0].RetryHeight)
	require.Contains(t, deferred[0].Reason, fmt.Sprintf("proposal %d: node only: 8 GPUs asked but no matching group has that many free", pid))
	require.Contains(t, deferred[0].Reason, "fallback: no placement: 8 GPUs needed, 0 usable")
	require.Equal(t, []collections.Pair[int64, uint64]{collections.Join(secondDue+1, second)}, e.queue())
	require.Equal(t, map[uint64]int64{second: secondDue + 1}, e.pendingDue())
	require.Equal(t, []uint64{pid}, e.proposalIDsOf(second), "a deferred lease keeps its proposals")
	require.Len(t, e.audit.Decisions, 1, "a deferral records no decision")
	require.Equal(t, leasetypes.LEASE_STATE_PENDING, e.leases.lease(t, second).State)

	// Still nothing free: deferred again, one block later.
	e.advanceTo(secondDue + 1)
	deferred = typedEvents[*types.EventAllocationDeferred](t, e.AllocationFixture)
	require.Len(t, deferred, 1)
	require.Equal(t, secondDue+2, deferred[0].RetryHeight)
	require.Equal(t, []collections.Pair[int64, uint64]{collections.Join(secondDue+2, second)}, e.queue())

	// The first lease ends: its GPUs come back and the second lease takes them in the next block, through
	// its proposal (which ties with the fallback).
	e.ResetEvents()
	require.NoError(t, e.Keeper.ReleaseLease(e.Ctx, e.leases.lease(t, first)))
	require.Zero(t, e.Node("only").ReservedGpus)
	e.advanceTo(secondDue + 2)
	ev := decided(t, e)
	require.Equal(t, second, ev.LeaseId)
	require.Equal(t, pid, ev.ProposalId)
	require.Equal(t, uint32(8), e.Node("only").ReservedGpus)
	require.Empty(t, e.queue())
}

// TestAllocatePendingBounded: at most max_allocations_per_block due leases are tried per block, in (due
// height, lease id) order; the rest wait at their due height and go first in the next block.
func TestAllocatePendingBounded(t *testing.T) {
	e := newEngineFixture(t)
	p := e.Params()
	p.MaxAllocationsPerBlock = 2
	e.SetParams(p)
	for i := range 6 {
		e.node(keepertest.NodeSpec{ID: fmt.Sprintf("n%d", i)})
	}
	// Leases 1..3 enqueued out of id order in one block, due at h+5; lease 4 one block later, due at h+6.
	var ids []uint64
	for range 3 {
		id := e.leases.nextID
		e.leases.nextID++
		lease := leasetypes.Lease{Id: id, Spec: baseSpec(), State: leasetypes.LEASE_STATE_PENDING, BlocksPerHour: testBlocksPerHour,
			CreatedHeight: e.Height(), Deposit: unro(1)}
		e.leases.put(lease)
		ids = append(ids, id)
	}
	for _, i := range []int{2, 0, 1} {
		require.NoError(t, e.Keeper.EnqueueLease(e.Ctx, ids[i]))
	}
	due := e.dueHeight()
	e.NextBlock(1)
	fourth := e.createLease(baseSpec())

	order := func() []uint64 {
		var out []uint64
		for _, ev := range typedEvents[*types.EventAllocationDecided](t, e.AllocationFixture) {
			out = append(out, ev.LeaseId)
		}
		return out
	}
	e.advanceTo(due)
	require.Equal(t, []uint64{ids[0], ids[1]}, order())
	require.Equal(t, []collections.Pair[int64, uint64]{collections.Join(due, ids[2]), collections.Join(due+1, fourth)}, e.queue())
	e.advanceTo(due + 1)
	require.Equal(t, []uint64{ids[2], fourth}, order())
	require.Empty(t, e.queue())
}

func TestReleaseLease(t *testing.T) {
	setup := func(t *testing.T) (*engineFixture, leasetypes.Lease) {
		e := newEngineFixture(t)
		e.node(keepertest.NodeSpec{ID: "a", Gpus: []types.GpuGroup{
			{Model: "A100", Count: 8, MemoryMib: 81920, Reserved: 3}, {Model: "H100", Count: 8, MemoryMib: 81920, Reserved: 1},
		}})
		e.node(keepertest.NodeSpec{ID: "b", Gpus: []types.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920, Reserved: 2}}})
		lease := e.createLease(baseSpec())
		e.mustPropose(e.bonded("p"), lease, pl("a", 5, "b", 3))
		e.advanceTo(e.dueHeight())
		l := e.leases.lease(t, lease)
		require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, l.State)
		require.Equal(t, uint32(6), e.Node("a").Gpus[1].Reserved)
		require.Equal(t, uint32(5), e.Node("b").Gpus[0].Reserved)
		return e, l
	}

	t.Run("frees exactly the reserved GPUs", func(t *testing.T) {
		e, l := setup(t)
		e.ResetEvents()
		require.NoError(t, e.Keeper.ReleaseLease(e.Ctx, l))
		a, b := e.Node("a"), e.Node("b")
		require.Equal(t, []uint32{3, 1}, []uint32{a.Gpus[0].Reserved, a.Gpus[1].Reserved}, "other leases' GPUs stay reserved")
		require.Equal(t, uint32(4), a.ReservedGpus)
		require.Equal(t, uint32(2), b.Gpus[0].Reserved)
		require.Equal(t, uint32(2), b.ReservedGpus)
		requireEvents(t, e.AllocationFixture, &types.EventCapacityReleased{LeaseId: l.Id, Placement: pl("a", 5, "b", 3)})
		e.requireEngineInvariants()
	})

	refusals := []struct {
		name     string
		mutate   func(l *leasetypes.Lease)
		contains string
	}{
		{"released twice", nil, "node a group 1 does not hold 5 reserved GPUs"},
		{"more than the group holds", func(l *leasetypes.Lease) { l.Nodes[0].Gpus = 7 }, "node a group 1 does not hold 7 reserved GPUs"},
		{"wrong group", func(l *leasetypes.Lease) { l.Nodes[0].GpuGroup = 0 }, "node a group 0 does not hold 5 reserved GPUs"},
		{"group out of range", func(l *leasetypes.Lease) { l.Nodes[1].GpuGroup = 4 }, "node b group 4 does not hold 3 reserved GPUs"},
		// Only the second node is wrong: the first must not be freed either.
		{"second node over-freed", func(l *leasetypes.Lease) { l.Nodes[1].Gpus = 6 }, "node b group 0 does not hold 6 reserved GPUs"},
		{"unknown node", func(l *leasetypes.Lease) { l.Nodes[1].NodeId = "ghost" }, `no node with id "ghost"`},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			e, l := setup(t)
			if tc.mutate == nil {
				require.NoError(t, e.Keeper.ReleaseLease(e.Ctx, l))
			} else {
				tc.mutate(&l)
			}
			e.ResetEvents()
			before := e.snapshot(t)
			err := e.Keeper.ReleaseLease(e.Ctx, l)
			require.ErrorContains(t, err, fmt.Sprintf("release lease %d", l.Id))
			require.ErrorContains(t, err, tc.contains)
			e.requireUnchanged(t, before)
		})
	}
}

func TestDropPendingLease(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "n1"})
	e.node(keepertest.NodeSpec{ID: "n2"})
	dropped := e.createLease(baseSpec())
	kept := e.createLease(baseSpec())
	due := e.dueHeight()
	p := e.bonded("p")
	e.mustPropose(p, dropped, pl("n1", 8))
	e.mustPropose(p, dropped, pl("n2", 8))
	keptPid := e.mustPropose(p, kept, pl("n2", 8))

	// x/lease cancels the lease.
	e.leases.setState(dropped, leasetypes.LEASE_STATE_CANCELLED)
	require.NoError(t, e.Keeper.DropPendingLease(e.Ctx, dropped))
	require.Equal(t, []collections.Pair[int64, uint64]{collections.Join(due, kept)}, e.queue())
	require.Equal(t, map[uint64]int64{kept: due}, e.pendingDue())
	require.Empty(t, e.proposalIDsOf(dropped))
	ps := e.proposals()
	require.Len(t, ps, 1)
	require.Equal(t, keptPid, ps[0].Id)
	e.requireEngineInvariants()

	// Dropping again, or a lease that was never queued, changes nothing.
	e.ResetEvents()
	before := e.snapshot(t)
	require.NoError(t, e.Keeper.DropPendingLease(e.Ctx, dropped))
	require.NoError(t, e.Keeper.DropPendingLease(e.Ctx, 99))
	e.requireUnchanged(t, before)

	e.advanceTo(due)
	require.Equal(t, kept, decided(t, e).LeaseId)
	require.Len(t, e.audit.Decisions, 1)
}

// TestAllocatePendingSkipsNonPending: a lease that left PENDING without DropPendingLease is cleaned up at its
// due height, with no decision.
func TestAllocatePendingSkipsNonPending(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "n1"})
	lease := e.createLease(baseSpec())
	due := e.dueHeight()
	e.mustPropose(e.bonded("p"), lease, pl("n1", 8))
	e.leases.setState(lease, leasetypes.LEASE_STATE_EXPIRED)
	e.advanceTo(due)
	require.Empty(t, e.TypedEvents())
	require.Empty(t, e.queue())
	require.Empty(t, e.proposals())
	require.Empty(t, e.audit.Decisions)
	require.Empty(t, e.leases.Activations)
	require.Zero(t, e.totalReserved())
}

// TestAllocatePendingRollsBack: when x/lease refuses the activation, nothing of the decision stays: no
// reservation, proposals kept, the lease deferred with the reason.
func TestAllocatePendingRollsBack(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "n1"})
	lease := e.createLease(baseSpec())
	due := e.dueHeight()
	pid := e.mustPropose(e.bonded("p"), lease, pl("n1", 8))
	e.leases.ActivateLeaseFn = func(_ context.Context, _ uint64, _ []leasetypes.LeaseNode, _ []string, _ uint64) error {
		return errors.New("escrow unavailable")
	}
	e.advanceTo(due)
	require.Len(t, e.leases.Activations, 1, "ActivateLease was tried")
	require.Zero(t, e.totalReserved())
	require.Equal(t, []uint64{pid}, e.proposalIDsOf(lease))
	require.Equal(t, []collections.Pair[int64, uint64]{collections.Join(due+1, lease)}, e.queue())
	requireEvents(t, e.AllocationFixture, &types.EventAllocationDeferred{
		LeaseId: lease, RetryHeight: due + 1, Reason: "internal error: escrow unavailable",
	})

	e.leases.ActivateLeaseFn = nil
	e.advanceTo(due + 1)
	require.Equal(t, pid, decided(t, e).ProposalId)
	require.Equal(t, uint32(8), e.Node("n1").ReservedGpus)
}

// bruteForceBottleneck is the smallest largest-RTT over every ring order of the nodes.
func bruteForceBottleneck(t *testing.T, regionOf map[string]string, ids []string, rtt func(a, b string) uint64) uint64 {
	t.Helper()
	best := ^uint64(0)
	permute(slices.Clone(ids[1:]), func(rest []string) {
		ring := append([]string{ids[0]}, rest...)
		best = min(best, ringBottleneck(regionOf, ring, rtt))
	})
	return best
}

func ringBottleneck(regionOf map[string]string, ring []string, rtt func(a, b string) uint64) uint64 {
	var worst uint64
	if len(ring) < 2 {
		return 0
	}
	for i := range ring {
		worst = max(worst, rtt(regionOf[ring[i]], regionOf[ring[(i+1)%len(ring)]]))
	}
	return worst
}

// permute calls fn with every permutation of s (Heap's algorithm); fn must not keep s.
func permute[T any](s []T, fn func([]T)) {
	var gen func(k int)
	gen = func(k int) {
		if k <= 1 {
			fn(s)
			return
		}
		for i := range k {
			gen(k - 1)
			if k%2 == 0 {
				s[i], s[k-1] = s[k-1], s[i]
			} else {
				s[0], s[k-1] = s[k-1], s[0]
			}
		}
	}
	gen(len(s))
}

// measuredRTT looks a region pair up in the measured table.
func measuredRTT(t testing.TB) func(a, b string) uint64 {
	links := map[[2]string]uint64{}
	for _, l := range types.MeasuredRegionLinks {
		links[[2]string{l.RegionA, l.RegionB}] = l.RttUs
	}
	return func(a, b string) uint64 {
		a, b = types.LinkKey(a, b)
		v, ok := links[[2]string{a, b}]
		require.True(t, ok, "no measured link %s-%s", a, b)
		return v
	}
}

// TestAllocatePendingTwoRegions: a 16-GPU lease that no region can hold alone, with a cheap region out of
// RTT reach, is placed on the two regions within reach, in a ring with the smallest bottleneck.
func TestAllocatePendingTwoRegions(t *testing.T) {
	h100x4 := []types.GpuGroup{{Model: "H100", Count: 4, MemoryMib: 81920}}
	nodes := []keepertest.NodeSpec{
		// Prices interleave the regions so that a cheapest-first walk alternates between them.
		{ID: "use1-a", Region: "aws:us-east-1", PricePerGpuHour: 2_000_000, Gpus: h100x4},
		{ID: "use2-a", Region: "aws:us-east-2", PricePerGpuHour: 2_100_000, Gpus: h100x4},
		{ID: "use1-b", Region: "aws:us-east-1", PricePerGpuHour: 2_200_000, Gpus: h100x4},
		{ID: "use2-b", Region: "aws:us-east-2", PricePerGpuHour: 2_300_000, Gpus: h100x4},
	}
	cases := []struct {
		name  string
		extra []keepertest.NodeSpec
	}{
		{name: "two regions only"},
		{name: "a cheaper region out of reach", extra: []keepertest.NodeSpec{
			// us-west-2 is 54–68 ms from both: beyond max_rtt_ms 20.
			{ID: "usw2-a", Region: "aws:us-west-2", PricePerGpuHour: 1_000_000, Gpus: h100x4},
			{ID: "usw2-b", Region: "aws:us-west-2", PricePerGpuHour: 1_000_000, Gpus: h100x4},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngineFixture(t)
			for _, n := range append(slices.Clone(nodes), tc.extra...) {
				e.node(n)
			}
			spec := baseSpec()
			spec.TotalGpus = 16
			spec.MaxRttMs = 20
			spec.MinBandwidthMbps = 1_000
			lease := e.createLease(spec)
			e.advanceTo(e.dueHeight())

			ev := decided(t, e)
			require.Equal(t, lease, ev.LeaseId)
			require.Equal(t, types.CANDIDATE_SOURCE_FALLBACK, ev.Source)
			regionOf := map[string]string{}
			var ids []string
			for _, p := range ev.Placement {
				n := e.Node(p.NodeId)
				regionOf[n.Id] = n.Region
				ids = append(ids, n.Id)
				require.Contains(t, []string{"aws:us-east-1", "aws:us-east-2"}, n.Region)
			}
			require.ElementsMatch(t, []string{"use1-a", "use1-b", "use2-a", "use2-b"}, ids)
			rtt := measuredRTT(t)
			got := ringBottleneck(regionOf, ev.RingOrder, rtt)
			require.Equal(t, bruteForceBottleneck(t, regionOf, ids, rtt), got)
			require.Equal(t, uint64(11_461), got, "us-east-1 ↔ us-east-2")
			require.Equal(t, got, ev.Score.BottleneckRttUs)
			// Locality: each region's nodes sit together, so only two ring links cross regions.
			crossing := 0
			for i := range ev.RingOrder {
				if regionOf[ev.RingOrder[i]] != regionOf[ev.RingOrder[(i+1)%len(ev.RingOrder)]] {
					crossing++
				}
			}
			require.Equal(t, 2, crossing, "ring %v", ev.RingOrder)
			require.Equal(t, uint64(16), e.totalReserved())
		})
	}
}

// TestAllocationDeterminism: the winner does not depend on the order proposals arrive in or on who sends
// them; with equal costs the earliest proposal wins.
func TestAllocationDeterminism(t *testing.T) {
	fleet := func(e *engineFixture) {
		h100x4 := []types.GpuGroup{{Model: "H100", Count: 4, MemoryMib: 81920}}
		e.node(keepertest.NodeSpec{ID: "use1-a", Region: "aws:us-east-1", PricePerGpuHour: 2_000_000, Gpus: h100x4})
		e.node(keepertest.NodeSpec{ID: "use1-b", Region: "aws:us-east-1", PricePerGpuHour: 2_100_000, Gpus: h100x4})
		e.node(keepertest.NodeSpec{ID: "use2-a", Region: "aws:us-east-2", PricePerGpuHour: 2_050_000, Gpus: h100x4})
		e.node(keepertest.NodeSpec{ID: "use2-b", Region: "aws:us-east-2", PricePerGpuHour: 2_150_000, Gpus: h100x4, ReputationBps: 9_000})
		e.node(keepertest.NodeSpec{ID: "euw1-a", Region: "aws:eu-west-1", PricePerGpuHour: 1_900_000, Gpus: h100x4})
		e.node(keepertest.NodeSpec{ID: "euw1-b", Region: "aws:eu-west-1", PricePerGpuHour: 1_950_000, Gpus: h100x4})
	}
	spec := baseSpec()
	spec.MaxGpusPerNode = 4
	// Distinct costs; none is the fallback's placement.
	proposals := []struct {
		placement []leasetypes.Placement
		ring      []string
	}{
		{pl("use1-a", 4, "use2-a", 4), []string{"use2-a", "use1-a"}},
		{pl("use1-b", 4, "use2-b", 4), nil},
		{pl("euw1-a", 4, "use1-b", 4), nil},
		{pl("use2-b", 4, "euw1-b", 4), []string{"euw1-b", "use2-b"}},
	}
	type outcome struct {
		Placement []leasetypes.Placement
		Ring      []string
		Total     math.Int
		Scores    []string
	}
	run := func(t *testing.T, order []int) outcome {
		e := newEngineFixture(t)
		fleet(e)
		lease := e.createLease(spec)
		for _, i := range order {
			e.mustPropose(e.bonded(fmt.Sprintf("proposer-%d", i)), lease, proposals[i].placement, proposals[i].ring...)
		}
		e.advanceTo(e.dueHeight())
		ev := decided(t, e)
		var scores []string
		for _, c := range e.audit.last(t).Candidates {
			scores = append(scores, c.Score.Total.String())
		}
		slices.Sort(scores)
		return outcome{Placement: ev.Placement, Ring: ev.RingOrder, Total: ev.Score.Total, Scores: scores}
	}
	first := run(t, []int{0, 1, 2, 3})
	require.Len(t, slices.Compact(slices.Clone(first.Scores)), len(first.Scores), "costs must be distinct: %v", first.Scores)
	perm := []int{0, 1, 2, 3}
	n := 0
	permute(perm, func(order []int) {
		n++
		got := run(t, slices.Clone(order))
		require.Equal(t, first, got, "order %v", order)
	})
	require.Equal(t, 24, n)

	t.Run("equal costs: earliest proposal wins", func(t *testing.T) {
		// use1-a and a clone of it in the same region cost the same.
		for _, order := range [][]string{{"use1-a", "clone"}, {"clone", "use1-a"}} {
			e := newEngineFixture(t)
			fleet(e)
			e.node(keepertest.NodeSpec{ID: "clone", Region: "aws:us-east-1", PricePerGpuHour: 2_000_000,
				Gpus: []types.GpuGroup{{Model: "H100", Count: 4, MemoryMib: 81920}}})
			s := baseSpec()
			s.TotalGpus = 4
			s.Regions = []string{"aws:us-east-1"}
			// Fallback: clone (same price and free count as use1-a, lower id); it ties with both proposals,
			// which win.
			lease := e.createLease(s)
			first := e.mustPropose(e.bonded("a"), lease, pl(order[0], 4))
			e.mustPropose(e.bonded("b"), lease, pl(order[1], 4))
			e.advanceTo(e.dueHeight())
			ev := decided(t, e)
			require.Equal(t, first, ev.ProposalId, "order %v", order)
			require.Equal(t, pl(order[0], 4), ev.Placement)
		}
	})
}

// TestAllocatePendingProposalNodeLeft: a proposal whose node was jailed after it was kept is rejected at
// decision time with the reason, and the fallback places the lease elsewhere.
func TestAllocatePendingProposalNodeLeft(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "gone", PricePerGpuHour: 1_000_000})
	e.node(keepertest.NodeSpec{ID: "stays", PricePerGpuHour: 2_500_000})
	lease := e.createLease(baseSpec())
	due := e.dueHeight()
	pid := e.mustPropose(e.bonded("p"), lease, pl("gone", 8))
	n := e.Node("gone")
	n.Status = types.NODE_STATUS_JAILED
	e.SetNode(n)

	e.advanceTo(due)
	d := e.audit.last(t)
	require.Len(t, d.Candidates, 2)
	require.Equal(t, pid, d.Candidates[0].ProposalId)
	require.Equal(t, "node gone is NODE_STATUS_JAILED; only ACTIVE nodes take leases", d.Candidates[0].Rejected)
	require.Equal(t, uint32(1), d.Winner)
	require.Equal(t, pl("stays", 8), decided(t, e).Placement)
}

// TestFallbackUsesEveryGroupOfANode: a node's group with too few free GPUs does not hide its other groups
// from the fallback.
func TestFallbackUsesEveryGroupOfANode(t *testing.T) {
	e := newEngineFixture(t)
	// In the capacity walk the L4 group (1 free) comes before the H100 group (5 free): same price, fewer free.
	e.node(keepertest.NodeSpec{ID: "two-groups", Region: "aws:us-east-2", PricePerGpuHour: 1_550_000, Gpus: []types.GpuGroup{
		{Model: "L4", Count: 6, MemoryMib: 24576, Reserved: 5}, {Model: "H100", Count: 5, MemoryMib: 81920},
	}})
	e.node(keepertest.NodeSpec{ID: "small", Region: "aws:us-east-2", PricePerGpuHour: 1_000_000,
		Gpus: []types.GpuGroup{{Model: "L4", Count: 3, MemoryMib: 24576}}})
	spec := baseSpec()
	spec.GpuModel = ""
	spec.MinGpuMemoryMib = 24576
	spec.TotalGpus = 5
	for _, tc := range []struct {
		name      string
		maxPer    uint32
		placement []leasetypes.Placement
	}{
		{"one node", 0, pl("two-groups", 5)},
		{"two nodes", 4, pl("small", 3, "two-groups", 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := spec
			s.MaxGpusPerNode = tc.maxPer
			params := e.Params()
			id := e.createLease(s)
			cands, err := e.Keeper.Candidates(e.Ctx, params, e.leases.lease(t, id))
			require.NoError(t, err)
			require.Len(t, cands, 1)
			require.Empty(t, cands[0].Rejected)
			require.Equal(t, tc.placement, placementOf(cands[0].Nodes))
			for _, n := range cands[0].Nodes {
				if n.NodeId == "two-groups" {
					require.Equal(t, uint32(1), n.GpuGroup, "the H100 group")
				}
			}
		})
	}
}

// TestAllocatePendingFarCheapCapacity: a lease with an RTT bound and no region list is placed on the regions
// within reach of each other even when more cheaper GPUs, spread over regions far from each other, come
// first in the capacity index.
func TestAllocatePendingFarCheapCapacity(t *testing.T) {
	e := newEngineFixture(t)
	h100x8 := []types.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920}}
	// 8 far-apart regions with 8 cheap GPUs each (64 = 4 × the lease), none holding the lease alone.
	for i, r := range []string{
		"aws:af-south-1", "aws:ap-northeast-1", "aws:ap-south-1", "aws:ap-southeast-2",
		"aws:eu-west-1", "aws:me-south-1", "aws:sa-east-1", "aws:us-west-2",
	} {
		e.node(keepertest.NodeSpec{ID: fmt.Sprintf("far-%d", i), Region: r, PricePerGpuHour: 1_000_000, Gpus: h100x8})
	}
	e.node(keepertest.NodeSpec{ID: "use1", Region: "aws:us-east-1", PricePerGpuHour: 2_000_000, Gpus: h100x8})
	e.node(keepertest.NodeSpec{ID: "use2", Region: "aws:us-east-2", PricePerGpuHour: 2_000_000, Gpus: h100x8})
	spec := baseSpec()
	spec.TotalGpus = 16
	spec.MaxRttMs = 20
	spec.MinBandwidthMbps = 1_000
	lease := e.createLease(spec)
	e.advanceTo(e.dueHeight())
	require.Empty(t, typedEvents[*types.EventAllocationDeferred](t, e.AllocationFixture))
	ev := decided(t, e)
	require.Equal(t, lease, ev.LeaseId)
	require.ElementsMatch(t, pl("use1", 8, "use2", 8), ev.Placement)
}
