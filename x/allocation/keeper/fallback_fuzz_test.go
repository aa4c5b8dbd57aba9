package keeper_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// The fallback allocator is checked here against the lease's constraints directly — model, memory, bandwidth,
// price, regions, GPUs per node, ring RTT from the measured table — without CheckPlacement, and against an
// exhaustive search on small fleets.

// fuzzRegions are a handful of real regions: close pairs (us-east-1/us-east-2/gcp:us-east1-b/azure:eastus),
// a continent away (eu-west-1, westeurope) and an ocean away (ap-northeast-1).
var fuzzRegions = []string{
	"aws:ap-northeast-1", "aws:eu-west-1", "aws:us-east-1", "aws:us-east-2", "aws:us-west-2",
	"azure:eastus", "azure:westeurope", "gcp:us-east1-b",
}

var fuzzModels = []struct {
	model    string
	memories []uint64
}{
	{"H100", []uint64{81920}},
	{"A100", []uint64{40960, 81920}},
	{"L4", []uint64{24576}},
}

// randomFleet builds n nodes: random regions, one or two GPU groups of distinct models with 1–8 GPUs, some
// already reserved, prices from 1 to 3.5 NRO, a few nodes jailed or unbonding.
func randomFleet(r *rand.Rand, n int) []keepertest.NodeSpec {
	out := make([]keepertest.NodeSpec, n)
	for i := range out {
		groups := []types.GpuGroup{}
		for _, m := range r.Perm(len(fuzzModels))[:1+r.IntN(2)] {
			g := types.GpuGroup{Model: fuzzModels[m].model, Count: uint32(1 + r.IntN(8))}
			g.MemoryMib = fuzzModels[m].memories[r.IntN(len(fuzzModels[m].memories))]
			if r.IntN(3) == 0 {
				g.Reserved = uint32(r.IntN(int(g.Count) + 1))
			}
			groups = append(groups, g)
		}
		s := keepertest.NodeSpec{
			ID:              fmt.Sprintf("n%02d", i),
			Region:          fuzzRegions[r.IntN(len(fuzzRegions))],
			Gpus:            groups,
			PricePerGpuHour: int64(1_000_000 + 50_000*r.IntN(51)),
			BandwidthMbps:   []uint64{5_000, 10_000, 25_000, 100_000}[r.IntN(4)],
			ReputationBps:   uint32(1 + r.IntN(10_000)),
		}
		switch r.IntN(20) {
		case 0:
			s.Status = types.NODE_STATUS_JAILED
		case 1:
			s.Status = types.NODE_STATUS_UNBONDING
		}
		out[i] = s
	}
	return out
}

// randomSpec builds a lease spec of total GPUs with random limits; loose limits make a placement on a small
// fleet likely.
func randomSpec(r *rand.Rand, total uint32, loose bool) leasetypes.LeaseSpec {
	spec := leasetypes.LeaseSpec{
		TotalGpus:          total,
		GpuModel:           []string{"", "H100", "A100", "L4"}[r.IntN(4)],
		MinGpuMemoryMib:    []uint64{0, 24576, 40960, 81920}[r.IntN(4)],
		MinBandwidthMbps:   []uint64{0, 5_000, 10_000, 25_000}[r.IntN(4)],
		MaxRttMs:           []uint32{0, 5, 20, 80, 150}[r.IntN(5)],
		DurationBlocks:     uint64(1 + r.IntN(2_000)),
		MaxPricePerGpuHour: unro(int64(1_500_000 + 100_000*r.IntN(26))),
	}
	if loose {
		spec.GpuModel = []string{"", "", "H100", "A100", "L4"}[r.IntN(5)]
		spec.MinGpuMemoryMib = []uint64{0, 24576, 40960}[r.IntN(3)]
		spec.MinBandwidthMbps = []uint64{0, 5_000}[r.IntN(2)]
		spec.MaxPricePerGpuHour = unro(int64(3_000_000 + 100_000*r.IntN(6)))
	}
	if r.IntN(2) == 0 {
		spec.MaxGpusPerNode = uint32(1 + r.IntN(int(total)))
	}
	if r.IntN(3) == 0 || (!loose && r.IntN(2) == 0) {
		for _, i := range r.Perm(len(fuzzRegions))[:1+r.IntN(3)] {
			spec.Regions = append(spec.Regions, fuzzRegions[i])
		}
		slices.Sort(spec.Regions)
	}
	return spec
}

// groupUsable reports whether a lease may take GPUs from a node's group at all (every per-node constraint).
func groupUsable(spec leasetypes.LeaseSpec, n types.Node, g types.GpuGroup) bool {
	return n.Status == types.NODE_STATUS_ACTIVE &&
		(spec.GpuModel == "" || g.Model == spec.GpuModel) &&
		g.MemoryMib >= spec.MinGpuMemoryMib &&
		n.BandwidthMbps >= spec.MinBandwidthMbps &&
		n.PricePerGpuHour.Amount.LTE(spec.MaxPricePerGpuHour.Amount) &&
		(len(spec.Regions) == 0 || slices.Contains(spec.Regions, n.Region))
}

func perNodeCap(spec leasetypes.LeaseSpec, free uint32) uint32 {
	if spec.MaxGpusPerNode > 0 {
		return min(free, spec.MaxGpusPerNode)
	}
	return free
}

// requireValidAllocation checks a decided lease against its spec and the nodes before the decision, and the
// reservation it made, without the engine's own checks.
func requireValidAllocation(t testing.TB, spec leasetypes.LeaseSpec, before map[string]types.Node, after []types.Node,
	lease leasetypes.Lease, rtt func(a, b string) (uint64, bool),
) {
	t.Helper()
	require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, lease.State)
	var total uint32
	taken := map[string]map[uint32]uint32{}
	regionOf := map[string]string{}
	for _, ln := range lease.Nodes {
		n, ok := before[ln.NodeId]
		require.True(t, ok, "unknown node %s", ln.NodeId)
		require.NotContains(t, taken, ln.NodeId, "node %s listed twice", ln.NodeId)
		require.Less(t, int(ln.GpuGroup), len(n.Gpus))
		g := n.Gpus[ln.GpuGroup]
		require.True(t, groupUsable(spec, n, g), "node %s group %d (%+v, %s, %d Mbit/s, %s, %s) violates %+v",
			n.Id, ln.GpuGroup, g, n.Region, n.BandwidthMbps, n.PricePerGpuHour, n.Status, spec)
		require.Positive(t, ln.Gpus)
		require.LessOrEqual(t, ln.Gpus, g.Count-g.Reserved, "node %s: more GPUs than free", n.Id)
		if spec.MaxGpusPerNode > 0 {
			require.LessOrEqual(t, ln.Gpus, spec.MaxGpusPerNode, "node %s: max_gpus_per_node", n.Id)
		}
		require.Equal(t, g.Model, ln.GpuModel)
		require.Equal(t, g.MemoryMib, ln.GpuMemoryMib)
		require.Equal(t, n.Region, ln.Region)
		require.Equal(t, n.Operator, ln.Operator)
		require.Equal(t, n.PricePerGpuHour, ln.PricePerGpuHour)
		taken[ln.NodeId] = map[uint32]uint32{ln.GpuGroup: ln.Gpus}
		regionOf[ln.NodeId] = n.Region
		total += ln.Gpus
	}
	require.Equal(t, spec.TotalGpus, total)

	// The ring lists each node once, and every ring link is measured and within max_rtt_ms.
	require.Len(t, lease.RingOrder, len(lease.Nodes))
	for _, id := range lease.RingOrder {
		require.Contains(t, regionOf, id)
	}
	require.Len(t, slices.Compact(slices.Sorted(slices.Values(lease.RingOrder))), len(lease.RingOrder))
	if k := len(lease.RingOrder); k > 1 {
		for i := range k {
			a, b := regionOf[lease.RingOrder[i]], regionOf[lease.RingOrder[(i+1)%k]]
			v, ok := rtt(a, b)
			require.True(t, ok, "ring link %s-%s is not measured", a, b)
			if spec.MaxRttMs > 0 {
				require.LessOrEqual(t, v, uint64(spec.MaxRttMs)*1000, "ring link %s-%s", a, b)
			}
		}
	}

	// Exactly the placement's GPUs were reserved, on the right groups.
	for _, n := range after {
		b := before[n.Id]
		require.Equal(t, b.ReservedGpus+sumValues(taken[n.Id]), n.ReservedGpus, "node %s reserved_gpus", n.Id)
		for i, g := range n.Gpus {
			require.LessOrEqual(t, g.Reserved, g.Count, "node %s group %d", n.Id, i)
			require.Equal(t, b.Gpus[i].Reserved+taken[n.Id][uint32(i)], g.Reserved, "node %s group %d reserved", n.Id, i)
		}
	}
}

func sumValues(m map[uint32]uint32) uint32 {
	var s uint32
	for _, v := range m {
		s += v
	}
	return s
}

func measuredLinks() func(a, b string) (uint64, bool) {
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

func FuzzFallbackAllocator(f *testing.F) {
	for _, seed := range []struct {
		seed          uint64
		nodes, totalG uint8
	}{
		{1, 1, 1}, {2, 3, 8}, {3, 10, 16}, {4, 40, 16}, {5, 20, 12}, {6, 8, 4}, {7, 39, 15}, {8, 5, 7},
		{9, 15, 9}, {10, 25, 3}, {11, 2, 2}, {12, 30, 14}, {13, 12, 11}, {14, 6, 6}, {15, 33, 10}, {16, 17, 13},
	} {
		f.Add(seed.seed, seed.nodes, seed.totalG)
	}
	rtt := measuredLinks()
	f.Fuzz(func(t *testing.T, seed uint64, nodes, totalGPUs uint8) {
		r := rand.New(rand.NewPCG(seed, uint64(nodes)<<8|uint64(totalGPUs)))
		fleet := randomFleet(r, 1+int(nodes)%40)
		spec := randomSpec(r, 1+uint32(totalGPUs)%16, seed%2 == 0)

		e := newEngineFixtureAmong(t, fuzzRegions...)
		before := map[string]types.Node{}
		for _, s := range fleet {
			n := e.node(s)
			before[n.Id] = n
		}
		reservedBefore := e.totalReserved()
		lease := e.createLease(spec)
		due := e.dueHeight()
		// Nothing happens before the due height (TestAllocatePendingWaitsForTheWindow): go straight there.
		e.SetHeight(due)
		e.endBlock()

		l := e.leases.lease(t, lease)
		if l.State == leasetypes.LEASE_STATE_ACTIVE {
			ev := decided(t, e)
			require.Equal(t, types.CANDIDATE_SOURCE_FALLBACK, ev.Source)
			require.Equal(t, reservedBefore+uint64(spec.TotalGpus), e.totalReserved())
			requireValidAllocation(t, spec, before, e.nodes(), l, rtt)
			require.Equal(t, l.RingOrder, ev.RingOrder)
			require.Empty(t, e.queue())
			return
		}
		require.Equal(t, leasetypes.LEASE_STATE_PENDING, l.State)
		require.Len(t, typedEvents[*types.EventAllocationDeferred](t, e.AllocationFixture), 1)
		require.Equal(t, reservedBefore, e.totalReserved())
		require.Equal(t, []collections.Pair[int64, uint64]{collections.Join(due+1, lease)}, e.queue())
		// One region whose nodes hold the whole lease (one group per node) is always found: its ring links
		// are the region's own (932 µs) and the fleet is below the scan limit (at most 80 groups per scope).
		regionCap := map[string]uint32{}
		for _, n := range before {
			var most uint32
			for _, g := range n.Gpus {
				if groupUsable(spec, n, g) {
					most = max(most, perNodeCap(spec, g.Count-g.Reserved))
				}
			}
			regionCap[n.Region] += most
		}
		for r, c := range regionCap {
			require.Less(t, c, spec.TotalGpus, "lease deferred although region %s holds %d usable GPUs; spec %+v", r, c, spec)
		}
	})
}

// exhaustive finds the cheapest valid placement of spec on nodes by trying every choice of (group, GPUs)
// per node and, for each set of nodes, every ring order, scoring each with ScoreCandidate. ok is false when
// no placement is valid.
func exhaustive(t testing.TB, spec leasetypes.LeaseSpec, params types.Params, nodes []types.Node,
	links map[[2]string]types.RegionLink,
) (best types.Candidate, ok bool) {
	t.Helper()
	type option struct {
		group uint32
		gpus  uint32
	}
	opts := make([][]option, len(nodes))
	capLeft := make([]uint32, len(nodes)+1) // capLeft[i]: most GPUs nodes i.. can give
	for i, n := range nodes {
		var most uint32
		for gi, g := range n.Gpus {
			if !groupUsable(spec, n, g) {
				continue
			}
			c := perNodeCap(spec, g.Count-g.Reserved)
			for k := uint32(1); k <= c; k++ {
				opts[i] = append(opts[i], option{uint32(gi), k})
			}
			most = max(most, c)
		}
		capLeft[i] = most
	}
	for i := len(nodes) - 1; i >= 0; i-- {
		capLeft[i] += capLeft[i+1]
	}

	// rings[mask] are the ring orders of a node set that are not dominated on (bottleneck RTT, smallest link
	// bandwidth): the only ring properties the cost and the constraints read.
	rings := map[uint32][][]string{}
	ringsOf := func(mask uint32) [][]string {
		if r, ok := rings[mask]; ok {
			return r
		}
		var ids []string
		regionOf := map[string]string{}
		for i, n := range nodes {
			if mask&(1<<i) != 0 {
				ids = append(ids, n.Id)
				regionOf[n.Id] = n.Region
			}
		}
		type scoredRing struct {
			ring    []string
			rtt, bw uint64
		}
		var all []scoredRing
		if len(ids) == 1 {
			all = append(all, scoredRing{ring: ids})
		} else {
			permute(slices.Clone(ids[1:]), func(rest []string) {
				ring := append([]string{ids[0]}, rest...)
				var worst uint64
				bw := ^uint64(0)
				for _, h := range types.RingHops(regionOf, ring) {
					l, ok := links[h]
					if !ok {
						return
					}
					worst, bw = max(worst, l.RttUs), min(bw, l.BandwidthMbps)
				}
				all = append(all, scoredRing{slices.Clone(ring), worst, bw})
			})
		}
		var front [][]string
		seen := map[[2]uint64]bool{}
		for _, a := range all {
			dominated := false
			for _, b := range all {
				if (b.rtt <= a.rtt && b.bw >= a.bw) && (b.rtt < a.rtt || b.bw > a.bw) {
					dominated = true
					break
				}
			}
			// One ring per (rtt, bw) pair: rings that agree on both cost the same.
			if key := [2]uint64{a.rtt, a.bw}; !dominated && !seen[key] {
				seen[key] = true
				front = append(front, a.ring)
			}
		}
		rings[mask] = front
		return front
	}

	chosen := make([]option, len(nodes))
	used := make([]bool, len(nodes))
	var try func(i int, need uint32)
	try = func(i int, need uint32) {
		if need == 0 {
			var mask uint32
			c := types.Candidate{}
			regionOf := map[string]string{}
			for j, n := range nodes {
				if !used[j] {
					continue
				}
				mask |= 1 << j
				g := n.Gpus[chosen[j].group]
				c.Nodes = append(c.Nodes, types.ScoredNode{
					NodeId: n.Id, Region: n.Region, GpuGroup: chosen[j].group, GpuModel: g.Model, GpuMemoryMib: g.MemoryMib,
					Gpus: chosen[j].gpus, FreeBefore: g.Count - g.Reserved, BandwidthMbps: n.BandwidthMbps,
					PricePerGpuHour: n.PricePerGpuHour.Amount, ReputationBps: n.ReputationBps,
				})
				regionOf[n.Id] = n.Region
			}
			for _, ring := range ringsOf(mask) {
				c.RingOrder = ring
				c.Links = nil
				for _, h := range types.RingHops(regionOf, ring) {
					c.Links = append(c.Links, links[h])
				}
				s, err := types.ScoreCandidate(spec, testBlocksPerHour, params.Weights, c, params.MaxPlacementNodes)
				if err != nil {
					continue
				}
				c.Score = s
				if !ok || types.Better(c, best) {
					best = c
					best.Nodes = slices.Clone(c.Nodes)
					best.Links = slices.Clone(c.Links)
					ok = true
				}
			}
			return
		}
		if i == len(nodes) || capLeft[i] < need {
			return
		}
		used[i] = false
		try(i+1, need)
		used[i] = true
		for _, o := range opts[i] {
			if o.gpus > need {
				continue
			}
			chosen[i] = o
			try(i+1, need-o.gpus)
		}
		used[i] = false
	}
	try(0, spec.TotalGpus)
	return best, ok
}

// TestFallbackVersusExhaustive compares the fallback's placement with the cheapest placement an exhaustive
// search finds on small fleets. It requires the fallback to find a placement whenever one exists, and reports
// how much more the fallback's placement costs.
func TestFallbackVersusExhaustive(t *testing.T) {
	instances := 1000
	if testing.Short() {
		instances = 100
	}
	links := map[[2]string]types.RegionLink{}
	for _, l := range types.MeasuredRegionLinks {
		links[[2]string{l.RegionA, l.RegionB}] = l
	}
	var (
		feasible, compared int
		over10             int
		sumRatio, worst    float64
		worstSeed          uint64
		missed             []string
	)
	for seed := uint64(1); seed <= uint64(instances); seed++ {
		r := rand.New(rand.NewPCG(seed, 0xfa11bac))
		fleet := randomFleet(r, 2+r.IntN(7))
		spec := randomSpec(r, uint32(1+r.IntN(12)), true)

		e := newEngineFixtureAmong(t, fuzzRegions...)
		var nodes []types.Node
		for _, s := range fleet {
			nodes = append(nodes, e.node(s))
		}
		id := e.createLease(spec)
		params := e.Params()
		cands, err := e.Keeper.Candidates(e.Ctx, params, e.leases.lease(t, id))
		require.NoError(t, err)
		require.Len(t, cands, 1)
		fb := cands[0]

		best, ok := exhaustive(t, spec, params, nodes, links)
		if !ok {
			require.NotEmpty(t, fb.Rejected, "seed %d: the fallback placed a lease the exhaustive search cannot: %+v", seed, fb)
			continue
		}
		feasible++
		if fb.Rejected != "" {
			missed = append(missed, fmt.Sprintf("seed %d: %s (exhaustive: %v ring %v)", seed, fb.Rejected, placementOf(best.Nodes), best.RingOrder))
			continue
		}
		compared++
		require.True(t, fb.Score.Total.GTE(best.Score.Total), "seed %d: fallback %s cheaper than the exhaustive optimum %s", seed, fb.Score.Total, best.Score.Total)
		ratio := float64(fb.Score.Total.Int64()) / float64(best.Score.Total.Int64())
		sumRatio += ratio
		if ratio > 1.10 {
			over10++
		}
		if ratio > worst {
			worst, worstSeed = ratio, seed
		}
	}
	require.Positive(t, compared)
	t.Logf("fallback vs exhaustive over %d instances (%d feasible, %d compared): average cost ratio %.4f, worst %.4f (seed %d), %d more than 10%% above",
		instances, feasible, compared, sumRatio/float64(compared), worst, worstSeed, over10)
	require.Empty(t, missed, "the fallback found no placement where one exists")
}
