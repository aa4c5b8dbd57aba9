package types

import (
	"fmt"
	"slices"

	sdkmath "cosmossdk.io/math"

	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// The allocation cost. Every term is an integer amount of unro; the formula is the same for proposals, the
// fallback allocator and `nrod audit verify-decision`, which all call ScoreCandidate.
//
// With GB = total_gpus × duration_blocks (GPU-blocks) and bph = blocks per hour:
//
//	price         = Σ gpus_i × price_i × duration / bph                    (what the lease will pay)
//	latency       = latency_per_ms × bottleneck_rtt_us × GB / (1000 × bph)
//	bandwidth     = bandwidth_per_mbps × max(0, min_bandwidth − bottleneck_bandwidth) × GB / bph
//	fragmentation = fragmentation_per_gpu × stranded_gpus × duration / bph
//	reputation    = reputation_per_bps × Σ gpus_i × (reputation_i − 5000) × duration / bph
//	total         = price + latency + bandwidth + fragmentation − reputation
//
// Divisions are integer divisions (truncating toward zero, so the reputation term is symmetric around
// neutral). The bottleneck RTT is the largest RTT of a ring link; the bottleneck bandwidth is the smallest of
// every node's NIC bandwidth and every ring link's measured throughput (an unmeasured link counts as 0).
// Stranded GPUs are those left free in the GPU groups the placement takes from.

// LinkKey orders a region pair the way the link table stores it.
func LinkKey(a, b string) (string, string) {
	if a > b {
		return b, a
	}
	return a, b
}

// RingHops returns the region pairs of the ring links in ring order: k links for k >= 2 nodes (two nodes are
// joined in both directions), none for one node.
func RingHops(regionOf map[string]string, ring []string) [][2]string {
	if len(ring) < 2 {
		return nil
	}
	hops := make([][2]string, len(ring))
	for i := range ring {
		a, b := LinkKey(regionOf[ring[i]], regionOf[ring[(i+1)%len(ring)]])
		hops[i] = [2]string{a, b}
	}
	return hops
}

// CheckPlacement checks a candidate's nodes and ring against a lease spec: every hard constraint of the
// lease, with an error that names the node and the limit. It does not look at state: free_before and the
// other node fields are the inputs recorded in the candidate.
func CheckPlacement(spec leasetypes.LeaseSpec, c Candidate, maxNodes uint32) error {
	if len(c.Nodes) == 0 {
		return fmt.Errorf("placement is empty; list at least one node")
	}
	if maxNodes > 0 && len(c.Nodes) > int(maxNodes) {
		return fmt.Errorf("placement has %d nodes; at most %d are allowed", len(c.Nodes), maxNodes)
	}
	var total uint64
	seen := make(map[string]bool, len(c.Nodes))
	maxPrice := spec.MaxPricePerGpuHour.Amount
	for _, n := range c.Nodes {
		if seen[n.NodeId] {
			return fmt.Errorf("node %s is listed twice; give each node once with its total GPUs", n.NodeId)
		}
		seen[n.NodeId] = true
		switch {
		case n.Gpus == 0:
			return fmt.Errorf("node %s: 0 GPUs; every entry needs at least 1", n.NodeId)
		case n.Gpus > n.FreeBefore:
			return fmt.Errorf("node %s: %d GPUs asked but only %d %s free (over-commit)", n.NodeId, n.Gpus, n.FreeBefore, n.GpuModel)
		case spec.MaxGpusPerNode > 0 && n.Gpus > spec.MaxGpusPerNode:
			return fmt.Errorf("node %s: %d GPUs exceed the lease's max_gpus_per_node %d", n.NodeId, n.Gpus, spec.MaxGpusPerNode)
		case spec.GpuModel != "" && n.GpuModel != spec.GpuModel:
			return fmt.Errorf("node %s has %s GPUs; the lease needs %s", n.NodeId, n.GpuModel, spec.GpuModel)
		case n.GpuMemoryMib < spec.MinGpuMemoryMib:
			return fmt.Errorf("node %s: %d MiB per GPU is below the lease's min_gpu_memory_mib %d", n.NodeId, n.GpuMemoryMib, spec.MinGpuMemoryMib)
		case n.BandwidthMbps < spec.MinBandwidthMbps:
			return fmt.Errorf("node %s: %d Mbit/s is below the lease's min_bandwidth_mbps %d", n.NodeId, n.BandwidthMbps, spec.MinBandwidthMbps)
		case n.PricePerGpuHour.IsNil() || n.PricePerGpuHour.GT(maxPrice):
			return fmt.Errorf("node %s: price %s per GPU-hour is above the lease's max %s", n.NodeId, n.PricePerGpuHour, maxPrice)
		case len(spec.Regions) > 0 && !containsSorted(spec.Regions, n.Region):
			return fmt.Errorf("node %s is in %s, outside the lease's regions %v", n.NodeId, n.Region, spec.Regions)
		}
		total += uint64(n.Gpus)
	}
	if total != uint64(spec.TotalGpus) {
		return fmt.Errorf("placement has %d GPUs; the lease needs exactly %d", total, spec.TotalGpus)
	}
	if len(c.RingOrder) != len(c.Nodes) {
		return fmt.Errorf("ring_order has %d nodes; it must list each of the %d placement nodes once", len(c.RingOrder), len(c.Nodes))
	}
	inRing := make(map[string]bool, len(c.RingOrder))
	for _, id := range c.RingOrder {
		if !seen[id] || inRing[id] {
			return fmt.Errorf("ring_order %v must list each placement node exactly once", c.RingOrder)
		}
		inRing[id] = true
	}
	regionOf := make(map[string]string, len(c.Nodes))
	for _, n := range c.Nodes {
		regionOf[n.NodeId] = n.Region
	}
	hops := RingHops(regionOf, c.RingOrder)
	if len(c.Links) != len(hops) {
		return fmt.Errorf("candidate has %d ring links; a ring of %d nodes has %d", len(c.Links), len(c.Nodes), len(hops))
	}
	for i, h := range hops {
		l := c.Links[i]
		if l.RegionA != h[0] || l.RegionB != h[1] {
			return fmt.Errorf("ring link %d is %s-%s; the ring needs %s-%s", i, l.RegionA, l.RegionB, h[0], h[1])
		}
		if spec.MaxRttMs > 0 && l.RttUs > uint64(spec.MaxRttMs)*1000 {
			return fmt.Errorf("ring link %s → %s has RTT %d.%03d ms, above the lease's max_rtt_ms %d",
				c.RingOrder[i], c.RingOrder[(i+1)%len(c.RingOrder)], l.RttUs/1000, l.RttUs%1000, spec.MaxRttMs)
		}
	}
	return nil
}

// ScoreCandidate checks a candidate against the lease spec (CheckPlacement) and computes its cost.
func ScoreCandidate(spec leasetypes.LeaseSpec, blocksPerHour uint64, w ScoringWeights, c Candidate, maxNodes uint32) (ScoreBreakdown, error) {
	if blocksPerHour == 0 {
		return ScoreBreakdown{}, fmt.Errorf("blocks_per_hour is 0")
	}
	if err := CheckPlacement(spec, c, maxNodes); err != nil {
		return ScoreBreakdown{}, err
	}
	var (
		bottleneckRTT uint64
		bottleneckBW  = ^uint64(0)
		stranded      uint64
		priceNum      = sdkmath.ZeroInt()
		repNum        = sdkmath.ZeroInt()
	)
	for _, n := range c.Nodes {
		g := sdkmath.NewIntFromUint64(uint64(n.Gpus))
		priceNum = priceNum.Add(g.Mul(n.PricePerGpuHour))
		repNum = repNum.Add(g.Mul(sdkmath.NewInt(int64(n.ReputationBps) - int64(NeutralReputationBps))))
		bottleneckBW = min(bottleneckBW, n.BandwidthMbps)
		stranded += uint64(n.FreeBefore - n.Gpus)
	}
	for _, l := range c.Links {
		bottleneckRTT = max(bottleneckRTT, l.RttUs)
		bottleneckBW = min(bottleneckBW, l.BandwidthMbps)
	}
	var shortfall uint64
	if spec.MinBandwidthMbps > bottleneckBW {
		shortfall = spec.MinBandwidthMbps - bottleneckBW
	}
	dur := sdkmath.NewIntFromUint64(spec.DurationBlocks)
	bph := sdkmath.NewIntFromUint64(blocksPerHour)
	gpuBlocks := sdkmath.NewIntFromUint64(uint64(spec.TotalGpus)).Mul(dur)
	u := sdkmath.NewIntFromUint64

	s := ScoreBreakdown{
		Price:                   priceNum.Mul(dur).Quo(bph),
		Latency:                 u(w.LatencyPerMs).Mul(u(bottleneckRTT)).Mul(gpuBlocks).Quo(bph.MulRaw(1000)),
		Bandwidth:               u(w.BandwidthPerMbps).Mul(u(shortfall)).Mul(gpuBlocks).Quo(bph),
		Fragmentation:           u(w.FragmentationPerGpu).Mul(u(stranded)).Mul(dur).Quo(bph),
		Reputation:              u(w.ReputationPerBps).Mul(repNum).Mul(dur).Quo(bph),
		BottleneckRttUs:         bottleneckRTT,
		BottleneckBandwidthMbps: bottleneckBW,
		StrandedGpus:            uint32(stranded),
	}
	s.Total = s.Price.Add(s.Latency).Add(s.Bandwidth).Add(s.Fragmentation).Sub(s.Reputation)
	return s, nil
}

// Better reports whether candidate a wins over b: lower total; on a tie proposals beat partial re-placements,
// which beat the fallback, and the lower proposal id wins.
func Better(a, b Candidate) bool {
	if c := a.Score.Total.BigIntMut().Cmp(b.Score.Total.BigIntMut()); c != 0 {
		return c < 0
	}
	if a.Source != b.Source {
		return sourceRank(a.Source) < sourceRank(b.Source)
	}
	return a.ProposalId < b.ProposalId
}

func sourceRank(s CandidateSource) int {
	switch s {
	case CANDIDATE_SOURCE_PROPOSAL:
		return 0
	case CANDIDATE_SOURCE_PARTIAL:
		return 1
	default:
		return 2
	}
}

// ChooseWinner returns the index of the best candidate that was not rejected, or false when every candidate
// was rejected.
func ChooseWinner(cands []Candidate) (int, bool) {
	best := -1
	for i := range cands {
		if cands[i].Rejected != "" {
			continue
		}
		if best < 0 || Better(cands[i], cands[best]) {
			best = i
		}
	}
	return best, best >= 0
}

// BestRing orders nodes around a ring so that the largest link RTT is as small as possible: nodes of one
// region sit next to each other (sorted by id), and the order of the regions is searched exhaustively for up to
// maxExhaustiveRegions regions, greedily (nearest next region) beyond; for up to maxSplitRegions regions, one
// region's nodes may also be split over two visits when that lowers the largest link. rtt reports the RTT between two regions
// and whether it is known; unknown links are avoided if any order can avoid them.
func BestRing(nodes []ScoredNode, rtt func(a, b string) (uint64, bool)) []string {
	byRegion := map[string][]string{}
	var regions []string
	for _, n := range nodes {
		if _, ok := byRegion[n.Region]; !ok {
			regions = append(regions, n.Region)
		}
		byRegion[n.Region] = append(byRegion[n.Region], n.NodeId)
	}
	slices.Sort(regions)
	for _, r := range regions {
		slices.Sort(byRegion[r])
	}
	cost := func(a, b string) uint64 {
		v, ok := rtt(LinkKey(a, b))
		if !ok {
			return ^uint64(0)
		}
		return v
	}
	// The within-region links are there whatever the order; only the order of regions matters.
	order := regions
	if len(regions) > 2 {
		if len(regions) <= maxExhaustiveRegions {
			order = bestRegionCycle(regions, cost)
		} else {
			order = greedyRegionCycle(regions, cost)
		}
	}
	// A region with two or more nodes may be visited twice: a ring A → B → C → B keeps every hop short
	// without the direct A–C link, which no order of contiguous regions can avoid. Tried for up to
	// maxSplitRegions regions, one region split at a time, and taken only when strictly better.
	split := ""
	if len(regions) >= 3 && len(regions) <= maxSplitRegions {
		bottleneck := cycleBottleneck(order, cost)
		for _, r := range regions {
			if len(byRegion[r]) < 2 {
				continue
			}
			cand := bestRegionCycle(append(slices.Clone(regions), r), cost)
			if c := cycleBottleneck(cand, cost); c < bottleneck {
				bottleneck, order, split = c, cand, r
			}
		}
	}
	ring := make([]string, 0, len(nodes))
	seen := false
	for _, r := range order {
		ids := byRegion[r]
		if r == split {
			// The first visit takes the first half of the region's nodes (in id order), the second the rest.
			half := (len(ids) + 1) / 2
			if ids = ids[:half]; seen {
				ids = byRegion[r][half:]
			}
			seen = true
		}
		ring = append(ring, ids...)
	}
	return ring
}

const (
	maxExhaustiveRegions = 7
	maxSplitRegions      = 4
)

func cycleBottleneck(order []string, cost func(a, b string) uint64) uint64 {
	var worst uint64
	for i := range order {
		worst = max(worst, cost(order[i], order[(i+1)%len(order)]))
	}
	return worst
}

// bestRegionCycle tries every cyclic order with the first region fixed (the first such order in lexicographic
// permutation order wins ties, so the result is deterministic).
func bestRegionCycle(regions []string, cost func(a, b string) uint64) []string {
	rest := slices.Clone(regions[1:])
	best := slices.Clone(regions)
	bestCost := cycleBottleneck(best, cost)
	cur := make([]string, len(regions))
	cur[0] = regions[0]
	var permute func(k int)
	permute = func(k int) {
		if k == len(rest) {
			copy(cur[1:], rest)
			if c := cycleBottleneck(cur, cost); c < bestCost {
				bestCost = c
				copy(best, cur)
			}
			return
		}
		for i := k; i < len(rest); i++ {
			rest[k], rest[i] = rest[i], rest[k]
			permute(k + 1)
			rest[k], rest[i] = rest[i], rest[k]
		}
	}
	permute(0)
	return best
}

func greedyRegionCycle(regions []string, cost func(a, b string) uint64) []string {
	left := slices.Clone(regions[1:])
	order := []string{regions[0]}
	for len(left) > 0 {
		last := order[len(order)-1]
		bi := 0
		for i := 1; i < len(left); i++ {
			if cost(last, left[i]) < cost(last, left[bi]) {
				bi = i
			}
		}
		order = append(order, left[bi])
		left = slices.Delete(left, bi, bi+1)
	}
	return order
}

func containsSorted(sorted []string, s string) bool {
	_, ok := slices.BinarySearch(sorted, s)
	return ok
}
