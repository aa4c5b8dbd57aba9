package types_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

const bph = 600 // blocks per hour at 6 s blocks

// Measured links used below (types.MeasuredRegionLinks).
var (
	linkUse1Use1 = types.RegionLink{RegionA: "aws:us-east-1", RegionB: "aws:us-east-1", RttUs: 932, BandwidthMbps: 7104}
	linkUse1Use2 = types.RegionLink{RegionA: "aws:us-east-1", RegionB: "aws:us-east-2", RttUs: 11461, BandwidthMbps: 4735}
)

// exampleSpec and exampleCandidate are the hand-computed example of TestScoreCandidateExample.
func exampleSpec() leasetypes.LeaseSpec {
	return leasetypes.LeaseSpec{
		TotalGpus:          12,
		GpuModel:           "H100",
		MinGpuMemoryMib:    81920,
		MinBandwidthMbps:   5_000,
		MaxRttMs:           100,
		DurationBlocks:     1_000,
		MaxPricePerGpuHour: unro(3_000_000),
	}
}

func scored(id, region string, gpus, freeBefore uint32, price int64, bw uint64, rep uint32) types.ScoredNode {
	return types.ScoredNode{
		NodeId: id, Region: region, GpuModel: "H100", GpuMemoryMib: 81920, Gpus: gpus, FreeBefore: freeBefore,
		BandwidthMbps: bw, PricePerGpuHour: math.NewInt(price), ReputationBps: rep,
	}
}

func exampleCandidate() types.Candidate {
	return types.Candidate{
		Nodes: []types.ScoredNode{
			scored("n1", "aws:us-east-1", 8, 8, 2_000_000, 25_000, 7_000),
			scored("n2", "aws:us-east-2", 4, 6, 2_500_003, 10_000, 3_000),
		},
		RingOrder: []string{"n1", "n2"},
		Links:     []types.RegionLink{linkUse1Use2, linkUse1Use2},
	}
}

// ints and terms render amounts as decimal strings, so that equal values compare equal whatever their
// internal representation.
func ints(vs ...int64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = math.NewInt(v).String()
	}
	return out
}

// terms is price, latency, bandwidth, fragmentation, reputation and total.
func terms(s types.ScoreBreakdown) []string {
	return []string{s.Price.String(), s.Latency.String(), s.Bandwidth.String(), s.Fragmentation.String(), s.Reputation.String(), s.Total.String()}
}

// TestScoreCandidateExample checks the cost to the last unro on a hand-computed example.
//
// 12 H100 for 1000 blocks at 600 blocks per hour: GB = 12 × 1000 = 12000 GPU-blocks. Default weights
// (latency 10000 per ms, bandwidth 100 per Mbit/s, fragmentation 100000 per GPU, reputation 20 per bps).
// n1: us-east-1, 8 of 8 free, 2 NRO, 25 Gbit/s, reputation 7000; n2: us-east-2, 4 of 6 free, 2.500003 NRO,
// 10 Gbit/s, reputation 3000; ring n1 → n2 → n1 over the us-east-1 ↔ us-east-2 link (11461 µs, 4735 Mbit/s).
//
//	price         = (8 × 2000000 + 4 × 2500003) × 1000 / 600 = 26000012000 / 600 = 43333353 (rest 200)
//	latency       = 10000 × 11461 × 12000 / (1000 × 600)    = 1375320000000 / 600000 = 2292200
//	bandwidth     = 100 × (5000 − min(25000, 10000, 4735)) × 12000 / 600 = 100 × 265 × 20 = 530000
//	fragmentation = 100000 × (0 + 2) × 1000 / 600 = 200000000 / 600 = 333333 (rest 200)
//	reputation    = 20 × (8 × 2000 + 4 × −2000) × 1000 / 600 = 160000000 / 600 = 266666 (rest 400)
//	total         = 43333353 + 2292200 + 530000 + 333333 − 266666 = 46222220
func TestScoreCandidateExample(t *testing.T) {
	s, err := types.ScoreCandidate(exampleSpec(), bph, types.DefaultWeights(), exampleCandidate(), 64)
	require.NoError(t, err)
	require.Equal(t, ints(43_333_353, 2_292_200, 530_000, 333_333, 266_666, 46_222_220), terms(s))
	require.Equal(t, uint64(11_461), s.BottleneckRttUs)
	require.Equal(t, uint64(4_735), s.BottleneckBandwidthMbps)
	require.Equal(t, uint32(2), s.StrandedGpus)
}

// TestScoreCandidateTerms isolates each term by zeroing the other weights: the total is then the price plus
// that term (minus it for reputation).
func TestScoreCandidateTerms(t *testing.T) {
	const price = 43_333_353
	cases := []struct {
		name string
		w    types.ScoringWeights
		want []int64 // price, latency, bandwidth, fragmentation, reputation, total
	}{
		{"price only", types.ScoringWeights{}, []int64{price, 0, 0, 0, 0, price}},
		{"latency", types.ScoringWeights{LatencyPerMs: 10_000}, []int64{price, 2_292_200, 0, 0, 0, price + 2_292_200}},
		{"latency, 1 unro per ms", types.ScoringWeights{LatencyPerMs: 1}, []int64{price, 229, 0, 0, 0, price + 229}}, // 11461 × 12000 / 600000 = 229.22
		{"bandwidth", types.ScoringWeights{BandwidthPerMbps: 100}, []int64{price, 0, 530_000, 0, 0, price + 530_000}},
		{"fragmentation", types.ScoringWeights{FragmentationPerGpu: 100_000}, []int64{price, 0, 0, 333_333, 0, price + 333_333}},
		{"reputation", types.ScoringWeights{ReputationPerBps: 20}, []int64{price, 0, 0, 0, 266_666, price - 266_666}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := types.ScoreCandidate(exampleSpec(), bph, tc.w, exampleCandidate(), 64)
			require.NoError(t, err)
			require.Equal(t, ints(tc.want...), terms(s))
		})
	}
}

// single is one node of nGPUs GPUs in us-east-1 taking all of them, for a spec of nGPUs GPUs.
func single(gpus uint32, price int64, rep uint32) (leasetypes.LeaseSpec, types.Candidate) {
	spec := leasetypes.LeaseSpec{TotalGpus: gpus, DurationBlocks: 1, MaxPricePerGpuHour: unro(10_000_000)}
	return spec, types.Candidate{
		Nodes:     []types.ScoredNode{scored("n", "aws:us-east-1", gpus, gpus, price, 25_000, rep)},
		RingOrder: []string{"n"},
	}
}

func TestScoreCandidateReputation(t *testing.T) {
	w := types.ScoringWeights{ReputationPerBps: 20}
	spec, c := single(8, 2_500_000, 2_000)
	spec.DurationBlocks = bph
	s, err := types.ScoreCandidate(spec, bph, w, c, 0)
	require.NoError(t, err)
	// 20 × 8 × (2000 − 5000) × 600 / 600 = −480000: a below-neutral node costs more.
	require.Equal(t, ints(20_000_000, 0, 0, 0, -480_000, 20_000_000+480_000), terms(s))

	spec, c = single(8, 2_500_000, types.NeutralReputationBps)
	spec.DurationBlocks = bph
	s, err = types.ScoreCandidate(spec, bph, w, c, 0)
	require.NoError(t, err)
	require.Equal(t, ints(20_000_000, 0, 0, 0, 0, 20_000_000), terms(s))
}

// TestScoreCandidateTruncation: each term is divided on its own, truncating toward zero.
func TestScoreCandidateTruncation(t *testing.T) {
	cases := []struct {
		name  string
		price int64
		rep   uint32
		w     types.ScoringWeights
		want  []int64 // price, latency, bandwidth, fragmentation, reputation, total
	}{
		// 1 GPU for 1 block: price 1000001 / 600 = 1666.67.
		{"price truncates", 1_000_001, 5_000, types.ScoringWeights{}, []int64{1_666, 0, 0, 0, 0, 1_666}},
		// Reputation +1 bps: 1 / 600 → 0; −1 bps: −1 / 600 → 0, not −1 (symmetric around neutral).
		{"reputation just above neutral", 600, 5_001, types.ScoringWeights{ReputationPerBps: 1}, []int64{1, 0, 0, 0, 0, 1}},
		{"reputation just below neutral", 600, 4_999, types.ScoringWeights{ReputationPerBps: 1}, []int64{1, 0, 0, 0, 0, 1}},
		// −1000 / 600 = −1.67 → −1; +1000 / 600 → +1.
		{"reputation below neutral truncates toward zero", 600, 4_000, types.ScoringWeights{ReputationPerBps: 1}, []int64{1, 0, 0, 0, -1, 2}},
		{"reputation above neutral truncates toward zero", 600, 6_000, types.ScoringWeights{ReputationPerBps: 1}, []int64{1, 0, 0, 0, 1, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, c := single(1, tc.price, tc.rep)
			s, err := types.ScoreCandidate(spec, bph, tc.w, c, 0)
			require.NoError(t, err)
			require.Equal(t, ints(tc.want...), terms(s))
		})
	}

	t.Run("latency keeps microseconds until the last division", func(t *testing.T) {
		// Two nodes in one region, 1 GPU each, 1 block: 10000 × 932 µs × 2 / (1000 × 600) = 31.07 → 31. Rounding
		// the RTT to whole milliseconds first would give 0.
		spec := leasetypes.LeaseSpec{TotalGpus: 2, DurationBlocks: 1, MaxPricePerGpuHour: unro(600)}
		c := types.Candidate{
			Nodes: []types.ScoredNode{
				scored("a", "aws:us-east-1", 1, 1, 600, 25_000, 5_000),
				scored("b", "aws:us-east-1", 1, 1, 600, 25_000, 5_000),
			},
			RingOrder: []string{"a", "b"},
			Links:     []types.RegionLink{linkUse1Use1, linkUse1Use1},
		}
		s, err := types.ScoreCandidate(spec, bph, types.ScoringWeights{LatencyPerMs: 10_000}, c, 0)
		require.NoError(t, err)
		require.Equal(t, ints(2, 31, 0, 0, 0, 33), terms(s))
	})

	t.Run("blocks_per_hour 0", func(t *testing.T) {
		spec, c := single(1, 600, 5_000)
		_, err := types.ScoreCandidate(spec, 0, types.DefaultWeights(), c, 0)
		require.ErrorContains(t, err, "blocks_per_hour is 0")
	})
}

func TestCheckPlacement(t *testing.T) {
	spec := func() leasetypes.LeaseSpec {
		s := exampleSpec()
		s.MaxGpusPerNode = 8
		s.Regions = []string{"aws:us-east-1", "aws:us-east-2"}
		return s
	}
	cases := []struct {
		name     string
		spec     func(s *leasetypes.LeaseSpec)
		mutate   func(c *types.Candidate)
		maxNodes uint32
		err      string
	}{
		{name: "valid"},
		{name: "empty", mutate: func(c *types.Candidate) { c.Nodes = nil }, err: "placement is empty; list at least one node"},
		{name: "too many nodes", maxNodes: 1, err: "placement has 2 nodes; at most 1 are allowed"},
		{name: "node twice", mutate: func(c *types.Candidate) { c.Nodes[1].NodeId = "n1" }, err: "node n1 is listed twice"},
		{name: "0 GPUs", mutate: func(c *types.Candidate) { c.Nodes[1].Gpus = 0 }, err: "node n2: 0 GPUs; every entry needs at least 1"},
		{name: "over-commit", mutate: func(c *types.Candidate) { c.Nodes[1].FreeBefore = 3 }, err: "node n2: 4 GPUs asked but only 3 H100 free (over-commit)"},
		{name: "max per node", spec: func(s *leasetypes.LeaseSpec) { s.MaxGpusPerNode = 6 }, err: "node n1: 8 GPUs exceed the lease's max_gpus_per_node 6"},
		{name: "model", mutate: func(c *types.Candidate) { c.Nodes[0].GpuModel = "A100" }, err: "node n1 has A100 GPUs; the lease needs H100"},
		{name: "any model", spec: func(s *leasetypes.LeaseSpec) { s.GpuModel = "" }, mutate: func(c *types.Candidate) { c.Nodes[0].GpuModel = "A100" }},
		{name: "memory", mutate: func(c *types.Candidate) { c.Nodes[1].GpuMemoryMib = 81919 }, err: "node n2: 81919 MiB per GPU is below the lease's min_gpu_memory_mib 81920"},
		{name: "bandwidth", mutate: func(c *types.Candidate) { c.Nodes[1].BandwidthMbps = 4_999 }, err: "node n2: 4999 Mbit/s is below the lease's min_bandwidth_mbps 5000"},
		{name: "price", mutate: func(c *types.Candidate) { c.Nodes[0].PricePerGpuHour = math.NewInt(3_000_001) }, err: "node n1: price 3000001 per GPU-hour is above the lease's max 3000000"},
		{name: "price at the max", mutate: func(c *types.Candidate) { c.Nodes[0].PricePerGpuHour = math.NewInt(3_000_000) }},
		{name: "price missing", mutate: func(c *types.Candidate) { c.Nodes[0].PricePerGpuHour = math.Int{} }, err: "node n1: price"},
		{
			name:   "region",
			spec:   func(s *leasetypes.LeaseSpec) { s.Regions = []string{"aws:us-east-1", "aws:us-west-2"} },
			err:    "node n2 is in aws:us-east-2, outside the lease's regions [aws:us-east-1 aws:us-west-2]",
			mutate: func(c *types.Candidate) {},
		},
		{name: "any region", spec: func(s *leasetypes.LeaseSpec) { s.Regions = nil }},
		{name: "too few GPUs", mutate: func(c *types.Candidate) { c.Nodes[1].Gpus = 3 }, err: "placement has 11 GPUs; the lease needs exactly 12"},
		{name: "too many GPUs", spec: func(s *leasetypes.LeaseSpec) { s.TotalGpus = 10 }, err: "placement has 12 GPUs; the lease needs exactly 10"},
		{name: "ring too short", mutate: func(c *types.Candidate) { c.RingOrder = []string{"n1"} }, err: "ring_order has 1 nodes; it must list each of the 2 placement nodes once"},
		{name: "ring repeats", mutate: func(c *types.Candidate) { c.RingOrder = []string{"n2", "n2"} }, err: "ring_order [n2 n2] must list each placement node exactly once"},
		{name: "ring names another node", mutate: func(c *types.Candidate) { c.RingOrder = []string{"n1", "n3"} }, err: "ring_order [n1 n3] must list each placement node exactly once"},
		{name: "links missing", mutate: func(c *types.Candidate) { c.Links = c.Links[:1] }, err: "candidate has 1 ring links; a ring of 2 nodes has 2"},
		{name: "link of another pair", mutate: func(c *types.Candidate) { c.Links[1] = linkUse1Use1 }, err: "ring link 1 is aws:us-east-1-aws:us-east-1; the ring needs aws:us-east-1-aws:us-east-2"},
		{name: "RTT above the limit", spec: func(s *leasetypes.LeaseSpec) { s.MaxRttMs = 11 }, err: "ring link n1 → n2 has RTT 11.461 ms, above the lease's max_rtt_ms 11"},
		{name: "RTT on the second link", spec: func(s *leasetypes.LeaseSpec) { s.MaxRttMs = 11 }, mutate: func(c *types.Candidate) {
			c.Links[0].RttUs = 11_000
		}, err: "ring link n2 → n1 has RTT 11.461 ms"},
		{name: "RTT at the limit", spec: func(s *leasetypes.LeaseSpec) { s.MaxRttMs = 12 }, mutate: func(c *types.Candidate) {
			c.Links[0].RttUs, c.Links[1].RttUs = 12_000, 12_000
		}},
		{name: "no RTT limit", spec: func(s *leasetypes.LeaseSpec) { s.MaxRttMs = 0 }, mutate: func(c *types.Candidate) {
			c.Links[0].RttUs = 500_000
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := spec()
			if tc.spec != nil {
				tc.spec(&s)
			}
			c := exampleCandidate()
			if tc.mutate != nil {
				tc.mutate(&c)
			}
			err := types.CheckPlacement(s, c, tc.maxNodes)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.err)
			_, err = types.ScoreCandidate(s, bph, types.DefaultWeights(), c, tc.maxNodes)
			require.ErrorContains(t, err, tc.err, "ScoreCandidate checks the placement first")
		})
	}
}

func cand(src types.CandidateSource, id uint64, total int64, rejected string) types.Candidate {
	z := math.ZeroInt()
	return types.Candidate{
		Source: src, ProposalId: id, Rejected: rejected,
		Score: types.ScoreBreakdown{Price: z, Latency: z, Bandwidth: z, Fragmentation: z, Reputation: z, Total: math.NewInt(total)},
	}
}

func TestBetterAndChooseWinner(t *testing.T) {
	const (
		prop = types.CANDIDATE_SOURCE_PROPOSAL
		fb   = types.CANDIDATE_SOURCE_FALLBACK
	)
	better := []struct {
		name string
		a, b types.Candidate
	}{
		{"lower total", cand(fb, 0, 99, ""), cand(prop, 1, 100, "")},
		{"negative total", cand(prop, 9, -1, ""), cand(prop, 1, 0, "")},
		{"tie: proposal beats fallback", cand(prop, 7, 100, ""), cand(fb, 0, 100, "")},
		{"tie: lower proposal id", cand(prop, 3, 100, ""), cand(prop, 4, 100, "")},
		{"large totals", cand(prop, 2, 1<<62, ""), cand(prop, 1, 1<<62+1, "")},
	}
	for _, tc := range better {
		t.Run(tc.name, func(t *testing.T) {
			require.True(t, types.Better(tc.a, tc.b))
			require.False(t, types.Better(tc.b, tc.a))
		})
	}
	require.False(t, types.Better(cand(prop, 1, 5, ""), cand(prop, 1, 5, "")), "a candidate is not better than itself")

	winners := []struct {
		name  string
		cands []types.Candidate
		want  int
	}{
		{"cheapest", []types.Candidate{cand(prop, 1, 300, ""), cand(prop, 2, 200, ""), cand(fb, 0, 250, "")}, 1},
		{"fallback cheapest", []types.Candidate{cand(prop, 1, 300, ""), cand(prop, 2, 260, ""), cand(fb, 0, 250, "")}, 2},
		{"all tie: first proposal", []types.Candidate{cand(prop, 4, 100, ""), cand(prop, 2, 100, ""), cand(fb, 0, 100, "")}, 1},
		{"rejected skipped even when cheaper", []types.Candidate{cand(prop, 1, 0, "over-commit"), cand(fb, 0, 250, "")}, 1},
		{"only the fallback", []types.Candidate{cand(fb, 0, 250, "")}, 0},
		{"all rejected", []types.Candidate{cand(prop, 1, 0, "x"), cand(fb, 0, 0, "fallback: no placement")}, -1},
		{"none", nil, -1},
	}
	for _, tc := range winners {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := types.ChooseWinner(tc.cands)
			require.Equal(t, tc.want >= 0, ok)
			if ok {
				require.Equal(t, tc.want, got)
			}
			// The order of the candidates does not matter.
			rev := slices.Clone(tc.cands)
			slices.Reverse(rev)
			got2, ok2 := types.ChooseWinner(rev)
			require.Equal(t, ok, ok2)
			if ok {
				require.Equal(t, tc.cands[got], rev[got2])
			}
		})
	}
}

func TestLinkKeyAndRingHops(t *testing.T) {
	a, b := types.LinkKey("gcp:us-east1-b", "aws:us-east-1")
	require.Equal(t, []string{"aws:us-east-1", "gcp:us-east1-b"}, []string{a, b})
	a, b = types.LinkKey("aws:us-east-1", "aws:us-east-1")
	require.Equal(t, a, b)

	regionOf := map[string]string{"x": "gcp:us-east1-b", "y": "aws:us-east-1", "z": "aws:eu-west-1"}
	require.Nil(t, types.RingHops(regionOf, nil))
	require.Nil(t, types.RingHops(regionOf, []string{"x"}), "one node has no ring link")
	require.Equal(t, [][2]string{{"aws:us-east-1", "gcp:us-east1-b"}, {"aws:us-east-1", "gcp:us-east1-b"}},
		types.RingHops(regionOf, []string{"x", "y"}), "two nodes are joined both ways")
	require.Equal(t, [][2]string{
		{"aws:us-east-1", "gcp:us-east1-b"}, // x → y
		{"aws:eu-west-1", "aws:us-east-1"},  // y → z
		{"aws:eu-west-1", "gcp:us-east1-b"}, // z → x
	}, types.RingHops(regionOf, []string{"x", "y", "z"}))
}

// measured is the RTT lookup over the measured link table.
func measured() func(a, b string) (uint64, bool) {
	links := map[[2]string]uint64{}
	for _, l := range types.MeasuredRegionLinks {
		links[[2]string{l.RegionA, l.RegionB}] = l.RttUs
	}
	return func(a, b string) (uint64, bool) {
		a, b = types.LinkKey(a, b)
		v, ok := links[[2]string{a, b}]
		return v, ok
	}
}

func bottleneck(nodes []types.ScoredNode, ring []string, rtt func(a, b string) (uint64, bool)) uint64 {
	regionOf := map[string]string{}
	for _, n := range nodes {
		regionOf[n.NodeId] = n.Region
	}
	var worst uint64
	for _, h := range types.RingHops(regionOf, ring) {
		v, ok := rtt(h[0], h[1])
		if !ok {
			return ^uint64(0)
		}
		worst = max(worst, v)
	}
	return worst
}

// permutations calls fn with every permutation of s (Heap's algorithm).
func permutations(s []string, fn func([]string)) {
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

// bruteForce returns the smallest bottleneck over every ring of the nodes, and over the rings that keep each
// region's nodes together.
func bruteForce(nodes []types.ScoredNode, rtt func(a, b string) (uint64, bool)) (all, contiguous uint64) {
	all, contiguous = ^uint64(0), ^uint64(0)
	regionOf := map[string]string{}
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.NodeId
		regionOf[n.NodeId] = n.Region
	}
	permutations(ids[1:], func(rest []string) {
		ring := append([]string{ids[0]}, rest...)
		b := bottleneck(nodes, ring, rtt)
		all = min(all, b)
		changes := 0
		for i := range ring {
			if regionOf[ring[i]] != regionOf[ring[(i+1)%len(ring)]] {
				changes++
			}
		}
		distinct := map[string]bool{}
		for _, r := range regionOf {
			distinct[r] = true
		}
		if len(distinct) == 1 || changes == len(distinct) {
			contiguous = min(contiguous, b)
		}
	})
	return all, contiguous
}

func TestBestRing(t *testing.T) {
	rtt := measured()
	regionSets := [][]string{
		{"aws:us-east-1", "aws:eu-west-1", "aws:ap-northeast-1"},
		{"aws:us-east-1", "aws:us-west-2", "aws:eu-west-1", "aws:ap-northeast-1"},
		{"aws:sa-east-1", "azure:westeurope", "gcp:us-central1-a", "aws:ap-southeast-2"},
		{"aws:us-east-1", "aws:us-east-2", "gcp:us-east1-b", "azure:eastus"},
		{"aws:af-south-1", "aws:ap-south-1", "aws:eu-central-1", "aws:us-west-1"},
	}
	for _, regions := range regionSets {
		t.Run(fmt.Sprint(regions), func(t *testing.T) {
			// One node per region, and two per region.
			for _, perRegion := range []int{1, 2} {
				var nodes []types.ScoredNode
				for i, r := range regions {
					for j := range perRegion {
						nodes = append(nodes, scored(fmt.Sprintf("n%d-%d", i, j), r, 1, 1, 1, 1, 5_000))
					}
				}
				ring := types.BestRing(nodes, rtt)
				ids := make([]string, len(nodes))
				for i, n := range nodes {
					ids[i] = n.NodeId
				}
				require.ElementsMatch(t, ids, ring)
				all, contiguous := bruteForce(nodes, rtt)
				got := bottleneck(nodes, ring, rtt)
				require.LessOrEqual(t, got, contiguous, "%d per region: ring %v", perRegion, ring)
				require.GreaterOrEqual(t, got, all, "%d per region: ring %v", perRegion, ring)
				if perRegion == 1 {
					require.Equal(t, all, got, "ring %v", ring)
				} else if got < contiguous {
					t.Logf("%d per region: a split region lowers the bottleneck from %d to %d µs (optimum %d)", perRegion, contiguous, got, all)
				}
				// The order of the input does not matter.
				rev := slices.Clone(nodes)
				slices.Reverse(rev)
				require.Equal(t, ring, types.BestRing(rev, rtt))
			}
		})
	}

	t.Run("unknown links are avoided", func(t *testing.T) {
		// Hide a-c: the only ring of 3 regions uses every pair, so take 4 regions and hide one diagonal.
		regions := []string{"aws:us-east-1", "aws:us-east-2", "aws:us-west-1", "aws:us-west-2"}
		hidden := func(a, b string) (uint64, bool) {
			if a, b = types.LinkKey(a, b); a == "aws:us-east-1" && b == "aws:us-east-2" {
				return 0, false
			}
			return rtt(a, b)
		}
		var nodes []types.ScoredNode
		for i, r := range regions {
			nodes = append(nodes, scored(fmt.Sprintf("n%d", i), r, 1, 1, 1, 1, 5_000))
		}
		ring := types.BestRing(nodes, hidden)
		require.Less(t, bottleneck(nodes, ring, hidden), ^uint64(0), "ring %v uses the unknown link", ring)
	})

	t.Run("a region visited twice avoids a long link", func(t *testing.T) {
		// a–c is far; b is close to both. With two nodes in b the ring a → b → c → b never uses a–c.
		near := func(x, y string) (uint64, bool) {
			x, y = types.LinkKey(x, y)
			switch {
			case x == y:
				return 1_000, true
			case x == "a" && y == "c":
				return 90_000, true
			}
			return 20_000, true
		}
		nodes := []types.ScoredNode{
			scored("n-a", "a", 1, 1, 1, 1, 5_000),
			scored("n-b1", "b", 1, 1, 1, 1, 5_000),
			scored("n-b2", "b", 1, 1, 1, 1, 5_000),
			scored("n-c", "c", 1, 1, 1, 1, 5_000),
		}
		ring := types.BestRing(nodes, near)
		require.Equal(t, []string{"n-a", "n-b1", "n-c", "n-b2"}, ring)
		require.Equal(t, uint64(20_000), bottleneck(nodes, ring, near))
		// With one node in b there is no such ring: the contiguous order is kept.
		ring = types.BestRing(slices.Delete(slices.Clone(nodes), 2, 3), near)
		require.Equal(t, []string{"n-a", "n-b1", "n-c"}, ring)
	})

	t.Run("two regions and one node", func(t *testing.T) {
		// Regions in name order, nodes of a region by id.
		require.Equal(t, []string{"a", "b", "c"}, types.BestRing([]types.ScoredNode{
			scored("c", "aws:us-east-1", 1, 1, 1, 1, 5_000),
			scored("b", "aws:us-east-1", 1, 1, 1, 1, 5_000),
			scored("a", "aws:eu-west-1", 1, 1, 1, 1, 5_000),
		}, rtt))
		require.Equal(t, []string{"x"}, types.BestRing([]types.ScoredNode{scored("x", "aws:us-east-1", 1, 1, 1, 1, 5_000)}, rtt))
	})
}
