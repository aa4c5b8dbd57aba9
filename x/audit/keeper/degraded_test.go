package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// limitLease1 gives the fixture's lease 1 (A + B) a max_rtt_ms of 50 ms and a min bandwidth of 1 Gbit/s.
func limitLease1(t *testing.T, f *audittestutil.Fixture) {
	t.Helper()
	l, err := f.LeaseKeeper.GetLease(f.Ctx, 1)
	require.NoError(t, err)
	l.Spec.MaxRttMs, l.Spec.MinBandwidthMbps = 50, 1_000
	require.NoError(t, f.LeaseKeeper.Leases.Set(f.Ctx, 1, l))
}

func leaseState(t *testing.T, f *audittestutil.Fixture, id uint64) leasetypes.LeaseState {
	t.Helper()
	l, err := f.LeaseKeeper.GetLease(f.Ctx, id)
	require.NoError(t, err)
	return l.State
}

// TestDegradedLinkMovesTheLease: A and B both measure their link at 80 ms, above lease 1's 50 ms, for
// degraded_epochs (3) epochs in a row; the third epoch's second report (both ends have spoken) moves the lease
// off its placement, after which A's links to B are refused (they share no active lease). Lease 2 (B + C, no
// limits) is untouched.
func TestDegradedLinkMovesTheLease(t *testing.T) {
	f := telemetryFixture(t)
	limitLease1(t, f)
	for e := uint64(2); e <= 3; e++ {
		startEpoch(t, f, e)
		submit(t, f, report(f, nodeA, probe(nodeB, 80_000, 5_000_000)))
		submit(t, f, report(f, nodeB, probe(nodeA, 81_000, 5_000_000), probe(nodeC, 1_000, 9_000_000)))
		require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, leaseState(t, f, 1), "epoch %d: not yet %d epochs", e, types.DefaultDegradedEpochs)
	}
	startEpoch(t, f, 4)
	submit(t, f, report(f, nodeA, probe(nodeB, 80_000, 5_000_000)))
	require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, leaseState(t, f, 1), "one end alone does not degrade a link")
	f.ResetEvents()
	submit(t, f, report(f, nodeB, probe(nodeA, 81_000, 5_000_000), probe(nodeC, 1_000, 9_000_000)))
	moveHeight := f.Height()
	events := f.TypedEvents()
	l, err := f.LeaseKeeper.GetLease(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, leasetypes.LEASE_STATE_PENDING, l.State)
	startEpoch(t, f, 5)
	_, err = f.MsgServer.SubmitTelemetry(f.Ctx, report(f, nodeA, probe(nodeB, 80_000, 5_000_000)))
	require.ErrorIs(t, err, types.ErrLinkNotLeased)
	require.Equal(t, leasetypes.REALLOCATION_REASON_LINK_DEGRADED, l.PastPlacements[0].Reason)
	require.Equal(t, []string{nodeA, nodeB}, l.PastPlacements[0].TriggerNodeIds)
	require.Equal(t, moveHeight-audittestutil.StartHeight, l.PastPlacements[0].ServedBlocks, "the job ran, slowly: paid to the block")
	require.Contains(t, events, proto.Message(&types.EventLinkDegraded{
		LeaseId: 1, NodeA: nodeA, NodeB: nodeB, Epoch: 4, RttUs: 80_000, ThroughputKbps: 5_000_000,
		MaxRttMs: 50, MinBandwidthMbps: 1_000, Epochs: 3,
	}))
	require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, leaseState(t, f, 2))
	f.RequireInvariant()
}

// TestDegradedLinkNeedsEpochsInARow: a good epoch between bad ones, an epoch without samples, or one end
// measuring within the limit (the lower median) does not move the lease.
func TestDegradedLinkNeedsEpochsInARow(t *testing.T) {
	cases := []struct {
		name string
		// rtt of A's and B's reports per epoch 2..5; 0 = no report from that end.
		a, b [4]uint64
	}{
		{name: "good epoch in between", a: [4]uint64{80_000, 80_000, 1_000, 80_000}, b: [4]uint64{80_000, 80_000, 1_000, 80_000}},
		{name: "an epoch without samples", a: [4]uint64{80_000, 0, 80_000, 80_000}, b: [4]uint64{80_000, 0, 80_000, 0}},
		{name: "one end within the limit", a: [4]uint64{80_000, 80_000, 80_000, 80_000}, b: [4]uint64{40_000, 40_000, 40_000, 40_000}},
		{name: "one end reporting alone", a: [4]uint64{80_000, 80_000, 80_000, 80_000}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := telemetryFixture(t)
			limitLease1(t, f)
			for i := range 4 {
				startEpoch(t, f, uint64(i+2))
				if tc.a[i] > 0 {
					submit(t, f, report(f, nodeA, probe(nodeB, tc.a[i], 5_000_000)))
				}
				if tc.b[i] > 0 {
					submit(t, f, report(f, nodeB, probe(nodeA, tc.b[i], 5_000_000)))
				}
			}
			require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, leaseState(t, f, 1))
		})
	}
}

// TestDegradedLinkThroughput: a throughput below min_bandwidth_mbps at both ends degrades the link like a high
// RTT, but not when one end measures enough (the better value counts); with degraded_epochs 0 links never
// move leases.
func TestDegradedLinkThroughput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		off   bool
		bKbps uint64
		want  leasetypes.LeaseState
	}{
		{name: "both ends thin", bKbps: 500_000, want: leasetypes.LEASE_STATE_PENDING},
		{name: "one end measures enough", bKbps: 2_000_000, want: leasetypes.LEASE_STATE_ACTIVE},
		{name: "degraded_epochs 0", off: true, bKbps: 500_000, want: leasetypes.LEASE_STATE_ACTIVE},
	} {
		f := telemetryFixture(t)
		if tc.off {
			p := telemetryParams()
			p.DegradedEpochs = 0
			f.SetParams(p)
		}
		limitLease1(t, f)
		for e := uint64(2); e <= 4; e++ {
			startEpoch(t, f, e)
			submit(t, f, report(f, nodeA, probe(nodeB, 1_000, 400_000)))
			if leaseState(t, f, 1) == leasetypes.LEASE_STATE_ACTIVE {
				submit(t, f, report(f, nodeB, probe(nodeA, 1_000, tc.bKbps), probe(nodeC, 1_000, 9_000_000)))
			}
		}
		require.Equal(t, tc.want, leaseState(t, f, 1), tc.name)
	}
}
