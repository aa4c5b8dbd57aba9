package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

func link(t *testing.T, f *audittestutil.Fixture, a, b string) types.LinkAggregate {
	t.Helper()
	l, err := f.Keeper.Links.Get(f.Ctx, collections.Join(a, b))
	require.NoError(t, err)
	return l
}

func sample(reporter string, epoch, rtt, kbps uint64) types.LinkSample {
	return types.LinkSample{Reporter: reporter, Epoch: epoch, RttUs: rtt, ThroughputKbps: kbps, Samples: 8}
}

// TestLinkMedianOfBothEnds: each link keeps the recent reports of both ends and stores their lower medians;
// reports older than link_report_window_epochs behind the newest drop out.
func TestLinkMedianOfBothEnds(t *testing.T) {
	f := telemetryFixture(t)
	startEpoch(t, f, 2)
	submit(t, f, report(f, nodeA, probe(nodeB, 1_000, 9_000_000)))
	submit(t, f, report(f, nodeB, probe(nodeA, 1_200, 8_000_000)))
	l := link(t, f, nodeA, nodeB)
	require.Equal(t, []types.LinkSample{sample(nodeA, 2, 1_000, 9_000_000), sample(nodeB, 2, 1_200, 8_000_000)}, l.Samples)
	// Two values: the lower one.
	require.Equal(t, uint64(1_000), l.MedianRttUs)
	require.Equal(t, uint64(8_000_000), l.MedianThroughputKbps)
	require.Equal(t, uint64(2), l.Epoch)

	startEpoch(t, f, 3)
	submit(t, f, report(f, nodeB, probe(nodeA, 1_100, 8_500_000)))
	l = link(t, f, nodeA, nodeB)
	// Three values: the middle one.
	require.Equal(t, uint64(1_100), l.MedianRttUs)
	require.Equal(t, uint64(8_500_000), l.MedianThroughputKbps)

	startEpoch(t, f, 4)
	submit(t, f, report(f, nodeA, probe(nodeB, 900, 9_500_000)))
	startEpoch(t, f, 5)
	f.ResetEvents()
	submit(t, f, report(f, nodeA, probe(nodeB, 950, 9_400_000)))
	l = link(t, f, nodeA, nodeB)
	// Epoch 2's reports are 3 epochs behind epoch 5 and dropped; left: a@4, a@5, b@3.
	require.Equal(t, []types.LinkSample{sample(nodeA, 4, 900, 9_500_000), sample(nodeA, 5, 950, 9_400_000), sample(nodeB, 3, 1_100, 8_500_000)}, l.Samples)
	require.Equal(t, uint64(950), l.MedianRttUs)
	require.Equal(t, uint64(9_400_000), l.MedianThroughputKbps)
	require.Equal(t, uint64(5), l.Epoch)
	require.Contains(t, f.TypedEvents(), proto.Message(&types.EventLinkAggregated{
		NodeA: nodeA, NodeB: nodeB, Reporter: nodeA, Epoch: 5, MedianRttUs: 950, MedianThroughputKbps: 9_400_000, Samples: 3,
	}))

	// A fallback value is stored in the report but never enters the matrix.
	fallback := types.LinkMeasurement{PeerNodeId: nodeA, Source: types.SOURCE_FALLBACK, RttUs: 50_000}
	submit(t, f, report(f, nodeB, fallback))
	require.Equal(t, l, link(t, f, nodeA, nodeB))
}

// TestDisputes: a link value beyond tolerance_bps of the other end's median deviates; a report is disputed
// when more than half of its comparable links deviate.
func TestDisputes(t *testing.T) {
	f := telemetryFixture(t)
	startEpoch(t, f, 2)
	// No view from the other end yet: nothing to compare, not disputed.
	res := submit(t, f, report(f, nodeA, probe(nodeB, 1_000, 9_000_000)))
	require.False(t, res.Disputed)
	submit(t, f, report(f, nodeC, probe(nodeB, 2_000, 5_000_000)))

	t.Run("within tolerance", func(t *testing.T) {
		f := f
		ctx := f.Ctx
		defer func() { f.Ctx = ctx }()
		f.Ctx, _ = f.Ctx.CacheContext()
		f.ResetEvents()
		// 1,250 us is exactly 25% above gpu-a's 1,000: not beyond; 7,000,000 kbit/s is 22% below 9,000,000.
		res := submit(t, f, report(f, nodeB, probe(nodeA, 1_250, 7_000_000), probe(nodeC, 2_400, 5_000_000)))
		require.False(t, res.Disputed)
		r, err := f.Keeper.Reports.Get(f.Ctx, collections.Join(nodeB, uint64(2)))
		require.NoError(t, err)
		require.Equal(t, uint32(2), r.ComparableLinks)
		require.Empty(t, r.Deviations)
		require.Equal(t, uint32(5_010), f.Reputation(nodeB))
	})

	t.Run("one of two links deviates: recorded, not disputed", func(t *testing.T) {
		f := f
		ctx := f.Ctx
		defer func() { f.Ctx = ctx }()
		f.Ctx, _ = f.Ctx.CacheContext()
		res := submit(t, f, report(f, nodeB, probe(nodeA, 1_251, 9_000_000), probe(nodeC, 2_000, 5_000_000)))
		require.False(t, res.Disputed)
		r, err := f.Keeper.Reports.Get(f.Ctx, collections.Join(nodeB, uint64(2)))
		require.NoError(t, err)
		require.Equal(t, []types.LinkDeviation{{
			PeerNodeId: nodeA, RttUs: 1_251, PeerMedianRttUs: 1_000, ThroughputKbps: 9_000_000, PeerMedianThroughputKbps: 9_000_000,
			RttDeviationBps: 2_510,
		}}, r.Deviations)
		require.False(t, r.Disputed)
		require.Equal(t, uint32(5_010), f.Reputation(nodeB), "a clean report")
	})

	t.Run("every link deviates: disputed", func(t *testing.T) {
		f.ResetEvents()
		res := submit(t, f, report(f, nodeB, probe(nodeA, 3_000, 9_000_000), probe(nodeC, 2_000, 1_000_000)))
		// Two comparable links (dispute_fault_min_links 2): the dispute is also a DISPUTED fault.
		require.Equal(t, &types.MsgSubmitTelemetryResponse{Disputed: true, DisputeFaultId: 1, ReputationBps: 4_250}, res)
		deviations := []types.LinkDeviation{
			{PeerNodeId: nodeA, RttUs: 3_000, PeerMedianRttUs: 1_000, ThroughputKbps: 9_000_000, PeerMedianThroughputKbps: 9_000_000, RttDeviationBps: 20_000},
			{PeerNodeId: nodeC, RttUs: 2_000, PeerMedianRttUs: 2_000, ThroughputKbps: 1_000_000, PeerMedianThroughputKbps: 5_000_000, ThroughputDeviationBps: 8_000},
		}
		r, err := f.Keeper.Reports.Get(f.Ctx, collections.Join(nodeB, uint64(2)))
		require.NoError(t, err)
		require.True(t, r.Disputed)
		require.Equal(t, uint32(2), r.ComparableLinks)
		require.Equal(t, deviations, r.Deviations)
		require.Equal(t, uint64(1), r.DisputeFaultId)
		fault := types.Fault{Id: 1, NodeId: nodeB, Epoch: 2, Kind: types.FAULT_KIND_DISPUTED, Height: f.Height(), EpochStartHeight: 20,
			Detail: "2 of 2 comparable links deviate from the peers' view by more than 2500 bps"}
		events := f.TypedEvents()
		require.Equal(t, []proto.Message{
			&types.EventFaultRecorded{Fault: fault, FaultsInWindow: 1},
			&types.EventReputationChanged{NodeId: nodeB, Epoch: 2, OldBps: 5_000, NewBps: 4_500, Reason: types.REPUTATION_REASON_FAULT},
		}, events[:2], "the fault is recorded before the report is stored")
		require.Equal(t, []proto.Message{
			&types.EventReportDisputed{NodeId: nodeB, Epoch: 2, ComparableLinks: 2, Deviations: deviations},
			&types.EventReputationChanged{NodeId: nodeB, Epoch: 2, OldBps: 4_500, NewBps: 4_250, Reason: types.REPUTATION_REASON_DISPUTE},
			&types.EventTelemetryAccepted{NodeId: nodeB, Epoch: 2, Agent: f.Agent(nodeB), Gpus: 8, Links: 2, Disputed: true},
		}, events[4:], "after the two link updates")
		require.Equal(t, types.NodeAuditStats{NodeId: nodeB, Reports: 1, DisputedReports: 1, Faults: 1, LastReportEpoch: 2}, stats(t, f, nodeB))
		// The disputed values still enter the matrix: the median resists a single end.
		require.Equal(t, uint64(1_000), link(t, f, nodeA, nodeB).MedianRttUs)

		q, err := f.QueryServer.Telemetry(f.Ctx, &types.QueryTelemetryRequest{DisputedOnly: true})
		require.NoError(t, err)
		require.Len(t, q.Reports, 1)
		require.Equal(t, nodeB, q.Reports[0].NodeId)
	})
}

// TestReputationBounds: reputation moves by the params' steps and stays within 0..10000, and an unchanged
// value emits no event.
func TestReputationBounds(t *testing.T) {
	f := telemetryFixture(t)
	n := f.Node(nodeD)
	n.ReputationBps = 9_995
	f.SetNode(n)
	startEpoch(t, f, 2)
	submit(t, f, report(f, nodeD))
	require.Equal(t, uint32(10_000), f.Reputation(nodeD))
	startEpoch(t, f, 3)
	f.ResetEvents()
	submit(t, f, report(f, nodeD))
	require.Equal(t, uint32(10_000), f.Reputation(nodeD))
	for _, ev := range f.TypedEvents() {
		require.NotEqual(t, "nro.audit.v1.EventReputationChanged", proto.MessageName(ev), "no change, no event")
	}

	n = f.Node(nodeC)
	n.ReputationBps = 100
	f.SetNode(n)
	msg := report(f, nodeC)
	msg.Gpus = nil
	f.ResetEvents()
	submit(t, f, msg)
	require.Zero(t, f.Reputation(nodeC))
	require.Contains(t, f.TypedEvents(), proto.Message(&types.EventReputationChanged{
		NodeId: nodeC, Epoch: 3, OldBps: 100, NewBps: 0, Reason: types.REPUTATION_REASON_FAULT,
	}))
	require.Equal(t, types.NodeAuditStats{NodeId: nodeC, Reports: 1, Faults: 1, LastReportEpoch: 3}, stats(t, f, nodeC))
}
