package proposer

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/agent/policy"
	"github.com/consensus-nro/nro/agent/sim"
	"github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

func aggregate(a, b string, epoch, rttUs, kbps uint64, samples int) audittypes.LinkAggregate {
	l := audittypes.LinkAggregate{NodeA: a, NodeB: b, Epoch: epoch, MedianRttUs: rttUs, MedianThroughputKbps: kbps}
	for range samples {
		l.Samples = append(l.Samples, audittypes.LinkSample{Reporter: a, Epoch: epoch, RttUs: rttUs, ThroughputKbps: kbps, Samples: 10})
	}
	return l
}

// TestLinksFreshness: a measurement counts exactly where x/audit's MeasuredLink counts it (samples, and the
// newest epoch + link_report_window_epochs above the current epoch), with its bandwidth in whole Mbit/s.
func TestLinksFreshness(t *testing.T) {
	const window, epoch = 3, 7
	l := NewLinks(types.MeasuredRegionLinks, []audittypes.LinkAggregate{
		aggregate("n-a", "n-b", 5, 800, 2_500_700, 2), // 5 + 3 > 7: fresh
		aggregate("n-a", "n-c", 4, 900, 1_000_000, 2), // 4 + 3 = 7: stale
		aggregate("n-b", "n-c", 7, 700, 1_000_000, 0), // no samples
	}, window, epoch)
	require.Equal(t, 1, l.Measured())
	regionOf := map[string]string{"n-a": "aws:us-east-1", "n-b": "aws:us-west-2", "n-c": "aws:us-west-2"}

	// The ring b > a: the hop between them is measured whichever end comes first.
	got, err := l.ringLinks(regionOf, []string{"n-b", "n-a"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, h := range got {
		require.Equal(t, types.RegionLink{RegionA: "aws:us-east-1", RegionB: "aws:us-west-2", RttUs: 800, BandwidthMbps: 2500,
			NodeA: "n-a", NodeB: "n-b", MeasuredEpoch: 5}, h)
	}
	// a > c: stale, so the region table's link.
	got, err = l.ringLinks(regionOf, []string{"n-a", "n-c"})
	require.NoError(t, err)
	require.Empty(t, got[0].NodeA)
	require.Greater(t, got[0].RttUs, uint64(10_000), "coast to coast by the region table")

	_, err = l.ringLinks(map[string]string{"n-a": "aws:us-east-1", "n-x": "nowhere:1"}, []string{"n-a", "n-x"})
	require.ErrorIs(t, err, types.ErrUnknownLink)
}

func twoCoasts() []types.Node {
	a, b := node("gpu-east", 8, 2_500_000), node("gpu-west", 8, 2_500_000)
	b.Region = "aws:us-west-2"
	return []types.Node{a, b}
}

func bigLease(maxRTTms uint32) leasetypes.Lease {
	l := lease(1, 10)
	l.Spec.TotalGpus = 16
	l.Spec.MaxRttMs = maxRTTms
	return l
}

// TestPlanScoresWithMeasuredLinks: the chain's fallback is computed and scored over the measured link where
// there is one, and a measured link beyond the lease's max RTT makes the placement invalid, as on the chain.
func TestPlanScoresWithMeasuredLinks(t *testing.T) {
	net, err := policy.Default()
	require.NoError(t, err)
	params := types.DefaultParams()
	fleet := func() *sim.Fleet {
		f, err := sim.NewFleetFromNodes(twoCoasts(), types.MeasuredRegionLinks)
		require.NoError(t, err)
		return f
	}
	regionOnly := NewLinks(types.MeasuredRegionLinks, nil, 3, 7)
	fast := NewLinks(types.MeasuredRegionLinks, []audittypes.LinkAggregate{aggregate("gpu-east", "gpu-west", 6, 600, 25_000_000, 2)}, 3, 7)

	byRegion := Plan(fleet(), regionOnly, params, bigLease(0), net, 1, false)
	require.NotNil(t, byRegion.Fallback)
	measured := Plan(fleet(), fast, params, bigLease(0), net, 1, false)
	require.NotNil(t, measured.Fallback)
	fb := *measured.Fallback
	require.Len(t, fb.Links, 2)
	for _, l := range fb.Links {
		require.Equal(t, "gpu-east", l.NodeA)
		require.Equal(t, uint64(600), l.RttUs)
	}
	want, err := types.ScoreCandidate(bigLease(0).Spec, bigLease(0).BlocksPerHour, params.Weights, fb, params.MaxPlacementNodes)
	require.NoError(t, err)
	require.Equal(t, want, fb.Score)
	require.True(t, fb.Score.Latency.LT(byRegion.Fallback.Score.Latency), "measured %s, region table %s", fb.Score.Latency, byRegion.Fallback.Score.Latency)

	// The chain's fallback plans cross-region fills with the region table's RTT (68 ms coast to coast), so a
	// 50 ms bound rules the pair out even over a fast measured link, as on the chain.
	require.Nil(t, Plan(fleet(), regionOnly, params, bigLease(50), net, 1, false).Fallback)
	require.Nil(t, Plan(fleet(), fast, params, bigLease(50), net, 1, false).Fallback)
	// A measured link is what the ring is checked against: a slow one breaks a bound the table would meet.
	require.NotNil(t, Plan(fleet(), regionOnly, params, bigLease(80), net, 1, false).Fallback)
	slow := NewLinks(types.MeasuredRegionLinks, []audittypes.LinkAggregate{aggregate("gpu-east", "gpu-west", 6, 90_000, 1_000_000, 2)}, 3, 7)
	res := Plan(fleet(), slow, params, bigLease(80), net, 1, false)
	require.Nil(t, res.Fallback, "a measured 90 ms link breaks an 80 ms bound")
	require.False(t, res.Propose)
}

// TestPlanFeaturesUseTheChainsScores: every candidate the policy scores carries the chain's score over the
// chain's links — a measured link where there is one — not the region table's that the simulator's
// candidate list starts from.
func TestPlanFeaturesUseTheChainsScores(t *testing.T) {
	net, err := policy.Default()
	require.NoError(t, err)
	params := types.DefaultParams()
	// The fallback takes the cheaper east pair; first-fit (the west node's ID sorts first) spans the coasts.
	east1, east2, west := node("gpu-east-1", 8, 2_500_000), node("gpu-east-2", 8, 2_600_000), node("gpu-a-west", 8, 2_700_000)
	west.Region = "aws:us-west-2"
	fleet, err := sim.NewFleetFromNodes([]types.Node{west, east1, east2}, types.MeasuredRegionLinks)
	require.NoError(t, err)
	links := NewLinks(types.MeasuredRegionLinks, []audittypes.LinkAggregate{
		aggregate("gpu-east-1", "gpu-a-west", 6, 600, 25_000_000, 2),
		aggregate("gpu-east-2", "gpu-a-west", 6, 700, 25_000_000, 2),
	}, 3, 7)
	l := bigLease(0)

	res := Plan(fleet, links, params, l, net, 1, false)
	require.Equal(t, len(res.Scored), res.Candidates)
	require.GreaterOrEqual(t, res.Candidates, 2, "the fallback's east pair and a cross-region placement")
	var crossRegion int
	require.NotNil(t, res.Fallback)
	require.Equal(t, *res.Fallback, res.Scored[0])
	for _, n := range res.Fallback.Nodes {
		require.Equal(t, "aws:us-east-1", n.Region)
	}
	for _, c := range res.Scored {
		want, err := types.ScoreCandidate(l.Spec, l.BlocksPerHour, params.Weights, c, params.MaxPlacementNodes)
		require.NoError(t, err)
		require.Equal(t, want, c.Score)
		for _, h := range c.Links {
			if h.RegionA != h.RegionB {
				crossRegion++
				require.Equal(t, uint64(6), h.MeasuredEpoch, "a hop with a fresh measurement is scored with it: %+v", h)
				require.Contains(t, []uint64{600, 700}, h.RttUs)
			}
		}
	}
	require.Positive(t, crossRegion, "some candidate leaves the region")

	// The policy decides on those scores: a network that wants the lowest RTT picks the cross-region
	// placement over its measured 600–700 µs link, where the region table's coast-to-coast RTT (what the
	// simulator's own list carries) would have it pick the fallback's east pair.
	lowRTT := policy.NewNetwork(nil, 1)
	clear(lowRTT.Layers[0].W)
	lowRTT.Layers[0].W[slices.Index(policy.FeatureNames, "rtt_ms_log")] = -10
	res = Plan(fleet, links, params, l, lowRTT, 1, false)
	d := &sim.Decision{Job: &sim.Job{Lease: l}, Fleet: fleet, Params: params, Queued: 1}
	simCands := sim.Candidates(d, policy.MaxCandidates)
	for _, c := range simCands {
		for _, h := range c.Links {
			if h.RegionA != h.RegionB {
				require.Greater(t, h.RttUs, uint64(10_000), "the simulator's list: the region table")
			}
		}
	}
	require.Equal(t, 0, argmax(lowRTT.Score(policy.Features(d, simCands, true))), "on the region table's RTT: the east pair")
	require.NotZero(t, res.PolicyChoice, "on the chain's measured RTT: the cross-region placement")
	require.Equal(t, argmax(lowRTT.Score(policy.Features(d, res.Scored, true))), res.PolicyChoice)
}
