package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// moveLease does what x/lease's ReallocateLease does to the engine's view of a lease: it frees the GPUs of
// the lease's placement, keeps the placement as the last past placement and makes the lease PENDING again,
// queued for a new decision.
func (e *engineFixture) moveLease(t *testing.T, id uint64, reason leasetypes.ReallocationReason, triggers ...string) leasetypes.Lease {
	t.Helper()
	l := e.leases.lease(t, id)
	require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, l.State)
	require.NoError(t, e.Keeper.ReleaseLease(e.Ctx, l))
	l.PastPlacements = append(l.PastPlacements, leasetypes.PastPlacement{
		Nodes: l.Nodes, RingOrder: l.RingOrder, DecisionId: l.DecisionId, ActivatedHeight: l.ActivatedHeight,
		EndedHeight: e.Height(), ServedBlocks: e.Height() - l.ActivatedHeight, Reason: reason, TriggerNodeIds: triggers,
	})
	l.Nodes, l.RingOrder, l.DecisionId, l.ActivatedHeight, l.EndHeight, l.SettledHeight = nil, nil, 0, 0, 0, 0
	l.State = leasetypes.LEASE_STATE_PENDING
	e.leases.put(l)
	require.NoError(t, e.Keeper.EnqueueLease(e.Ctx, id))
	return l
}

func (e *engineFixture) jail(t *testing.T, id string) {
	t.Helper()
	n := e.Node(id)
	n.Status = types.NODE_STATUS_JAILED
	n.JailedUntilHeight = e.Height() + 100
	require.NoError(t, e.Keeper.Nodes.Set(e.Ctx, id, n))
}

func h100(n uint32) []types.GpuGroup {
	return []types.GpuGroup{{Model: "H100", Count: n, MemoryMib: 81920}}
}

// TestJailedNodeLeaseKeepsItsHealthyNode: a lease on n1 + n2 whose n2 is jailed is placed again on n1 and the
// next cheapest node; the partial re-placement and the fallback agree, and the tie goes to the partial one.
// The decision record carries the move.
func TestJailedNodeLeaseKeepsItsHealthyNode(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "n1", PricePerGpuHour: 2_000_000, Gpus: h100(4)})
	e.node(keepertest.NodeSpec{ID: "n2", PricePerGpuHour: 2_100_000, Gpus: h100(4)})
	e.node(keepertest.NodeSpec{ID: "n3", PricePerGpuHour: 2_200_000, Gpus: h100(4)})
	e.node(keepertest.NodeSpec{ID: "n4", PricePerGpuHour: 2_300_000, Gpus: h100(4)})
	id := e.createLease(baseSpec())
	e.advanceTo(e.dueHeight())
	require.ElementsMatch(t, pl("n1", 4, "n2", 4), decided(t, e).Placement)

	e.NextBlock(20)
	e.jail(t, "n2")
	moved := e.moveLease(t, id, leasetypes.REALLOCATION_REASON_NODE_JAILED, "n2")
	require.Zero(t, e.totalReserved())
	e.advanceTo(moved.PendingSince() + int64(e.Params().ProposalWindowBlocks))

	ev := decided(t, e)
	require.Equal(t, types.CANDIDATE_SOURCE_PARTIAL, ev.Source)
	require.ElementsMatch(t, pl("n1", 4, "n3", 4), ev.Placement)
	d := e.audit.last(t)
	require.NotNil(t, d.Moved)
	require.Equal(t, []string{"n2"}, d.Moved.TriggerNodeIds)
	require.Len(t, d.Candidates, 2, "the partial re-placement and the fallback")
	require.Equal(t, types.CANDIDATE_SOURCE_FALLBACK, d.Candidates[1].Source)
	require.Equal(t, d.Candidates[0].Score, d.Candidates[1].Score)
	requireRescored(t, e, d)
	l := e.leases.lease(t, id)
	require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, l.State)
	require.Equal(t, uint64(8), e.totalReserved())
	require.Zero(t, e.Node("n2").ReservedGpus)
}

// TestDegradedLinkLeaseMoves: the measured link between a lease's two nodes is far above its max_rtt_ms. The
// full re-placement leaves out both ends (it could ring over the link again) and finds too few GPUs without
// them; the partial re-placements replace one end each, and the cheaper one wins. A proposal that puts both
// ends back is rejected on the measured link.
func TestDegradedLinkLeaseMoves(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "a", PricePerGpuHour: 2_000_000, Gpus: h100(4)})
	e.node(keepertest.NodeSpec{ID: "b", PricePerGpuHour: 2_100_000, Gpus: h100(4)})
	e.node(keepertest.NodeSpec{ID: "c", PricePerGpuHour: 2_500_000, Gpus: h100(4)})
	id := e.createLease(baseSpec())
	e.advanceTo(e.dueHeight())
	require.ElementsMatch(t, pl("a", 4, "b", 4), decided(t, e).Placement)

	e.audit.Links = map[[2]string]measuredLink{{"a", "b"}: {rttUs: 400_000, mbps: 200, epoch: 7}}
	e.NextBlock(30)
	moved := e.moveLease(t, id, leasetypes.REALLOCATION_REASON_LINK_DEGRADED, "a", "b")
	fresh, err := e.Keeper.Candidates(e.Ctx, e.Params(), leasetypes.Lease{Id: id, Spec: baseSpec(), BlocksPerHour: testBlocksPerHour})
	require.NoError(t, err)
	require.Contains(t, fresh[len(fresh)-1].Rejected, "RTT 400.000 ms, above the lease's max_rtt_ms 100",
		"placed afresh (no past placement), the fallback picks a and b again and is refused on their measured link")
	e.advanceTo(moved.PendingSince() + int64(e.Params().ProposalWindowBlocks))

	ev := decided(t, e)
	require.Equal(t, types.CANDIDATE_SOURCE_PARTIAL, ev.Source)
	require.ElementsMatch(t, pl("a", 4, "c", 4), ev.Placement, "keeping a (cheaper than b) and replacing b")
	d := e.audit.last(t)
	require.Len(t, d.Candidates, 3)
	require.Equal(t, uint32(1), d.Winner, "candidates: without a, without b, fallback")
	require.Contains(t, d.Candidates[2].Rejected, "fallback: no placement")
	requireRescored(t, e, d)
	for _, l := range d.Candidates[d.Winner].Links {
		require.Zero(t, l.MeasuredEpoch, "a-c was never measured: the region table's link")
	}
}

// TestMeasuredLinkInScoring: a fresh measured link between two nodes replaces the region table's link in a
// candidate's ring: its RTT and bandwidth are what the cost and the limits see, and it is labelled.
func TestMeasuredLinkInScoring(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "a", PricePerGpuHour: 2_000_000, Gpus: h100(4)})
	e.node(keepertest.NodeSpec{ID: "b", PricePerGpuHour: 2_000_000, Gpus: h100(4)})
	e.audit.Links = map[[2]string]measuredLink{{"a", "b"}: {rttUs: 3_000, mbps: 4_000, epoch: 9}}
	spec := baseSpec()
	spec.MinBandwidthMbps = 5_000
	e.createLease(spec)
	e.advanceTo(e.dueHeight())
	d := e.audit.last(t)
	w := d.Candidates[d.Winner]
	require.Len(t, w.Links, 2)
	for _, l := range w.Links {
		require.Equal(t, types.RegionLink{RegionA: "aws:us-east-1", RegionB: "aws:us-east-1", RttUs: 3_000, BandwidthMbps: 4_000,
			NodeA: "a", NodeB: "b", MeasuredEpoch: 9}, l)
	}
	require.Equal(t, uint64(3_000), w.Score.BottleneckRttUs)
	require.True(t, w.Score.Bandwidth.IsPositive(), "4,000 Mbit/s measured is short of 5,000")
	requireRescored(t, e, d)
}
