package types

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strconv"
	"sync"

	sdkmath "cosmossdk.io/math"

	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// Fleet is what the fallback allocator reads: the capacity index and the region link table. The chain's implementation reads the store (x/allocation/keeper); the market simulator
// (agent/sim) keeps its fleet in memory. Both must give the same answers for the same nodes and links, so
// that the fallback places a lease the same way in either.
type Fleet interface {
	// WalkCapacity visits the GPU groups of one capacity scope (see LeaseScopes) with price <= maxPrice, in
	// ascending (price per GPU-hour, free GPUs, "node/group") order, until fn returns true or limit entries
	// have been read, and returns how many entries it read (including one past maxPrice, if reached). Only
	// groups with free GPUs on ACTIVE nodes are listed (CapacityGroupsOf). fn must not keep g.
	WalkCapacity(scope string, maxPrice uint64, limit int, fn func(g *CapacityGroup) (bool, error)) (int, error)
	// RTT is the region table's RTT in microseconds between two regions; false when the pair was never measured.
	RTT(a, b string) (uint64, bool)
	// RingLinks returns the links of a ring in ring order (see RingHops), measured links between the nodes
	// where there are any, else the region table's; ErrUnknownLink when a hop has neither.
	RingLinks(regionOf map[string]string, ring []string) ([]RegionLink, error)
}

// Capacity index scopes. Every GPU group with free GPUs on an ACTIVE node is listed under four scopes, so
// that the fallback allocator can walk the cheapest groups (then the fullest, for best fit) of one model
// and/or one region without reading other nodes.
const scopeAny = "*"

func scopeModel(model string) string           { return "m/" + model }
func scopeRegion(region string) string         { return "r/" + region + "/*" }
func scopeRegionModel(region, m string) string { return "r/" + region + "/m/" + m }

// GroupScopes returns the four capacity scopes a GPU group of the given model in the given region is listed
// under.
func GroupScopes(region, model string) [4]string {
	return [4]string{scopeAny, scopeModel(model), scopeRegion(region), scopeRegionModel(region, model)}
}

// LeaseScopes returns the capacity index scopes that hold every group a lease could use.
func LeaseScopes(model string, regions []string) []string {
	if len(regions) == 0 {
		if model == "" {
			return []string{scopeAny}
		}
		return []string{scopeModel(model)}
	}
	out := make([]string, len(regions))
	for i, r := range regions {
		if model == "" {
			out[i] = scopeRegion(r)
		} else {
			out[i] = scopeRegionModel(r, model)
		}
	}
	return out
}

// fallbackNode is what Fallback keeps about a node a walk named.
type fallbackNode struct {
	// seen has bit g set when group g (< 64) is in the pool.
	seen uint64
	// cap is the most GPUs the lease can take from one of its groups in the pool in the scope numbered
	// capScope (1-based; 0: none yet).
	cap      uint32
	capScope int
}

// regionCapacity is the usable GPUs of one region in the scope being walked.
type regionCapacity struct {
	region string
	gpus   uint64
}

// regionCapOf returns the counter of a region, adding it at zero (a lease's scope spans few regions).
func regionCapOf(rcs *[]regionCapacity, region string) *uint64 {
	for i := range *rcs {
		if (*rcs)[i].region == region {
			return &(*rcs)[i].gpus
		}
	}
	*rcs = append(*rcs, regionCapacity{region: region})
	return &(*rcs)[len(*rcs)-1].gpus
}

// fallbackGroup names one GPU group of one node.
type fallbackGroup struct {
	node  string
	group uint32
}

// poolEntry is a GPU group the fallback may take GPUs from.
type poolEntry struct {
	g CapacityGroup
	// ni is the node's index among the nodes this call of Fallback read (fallbackNode).
	ni int
	// cap is how many GPUs the lease may take from it (free, bounded by max_gpus_per_node).
	cap uint32
}

// fallbackScratch holds the pool and node bookkeeping of one call of Fallback, which nothing outlives (a
// candidate copies what it keeps): the calls of an EndBlock, one per lease, reuse them through
// fallbackScratches instead of allocating them again. Reuse changes no result: each call starts from
// empty slices and an empty map.
type fallbackScratch struct {
	pool    []poolEntry
	nodeIdx map[string]int
	nodes   []fallbackNode
}

var fallbackScratches = sync.Pool{New: func() any { return &fallbackScratch{nodeIdx: make(map[string]int, 64)} }}

// getFallbackScratch returns an empty scratch: a new one, or one that put emptied.
func getFallbackScratch() *fallbackScratch { return fallbackScratches.Get().(*fallbackScratch) }

// put empties the scratch (dropping its references to node ids) and returns it to fallbackScratches.
func (s *fallbackScratch) put() {
	clear(s.pool)
	s.pool = s.pool[:0]
	clear(s.nodeIdx)
	s.nodes = s.nodes[:0]
	fallbackScratches.Put(s)
}

// ErrNoPlacement marks a lease that the fallback cannot place with the capacity it read.
var ErrNoPlacement = errors.New("no placement")

// Fallback is the chain's own allocator; the proposal path is never needed for liveness. It reads at most
// fallback_scan_limit entries of the capacity index — the cheapest groups (then the fullest, for best fit)
// of the lease's model in its regions — and builds a few placements from them: the single best-fitting
// group, a fill of each region (locality first), and cross-region fills within the RTT limit, one starting
// from each region. It scores each with ScoreCandidate and returns the cheapest; every constraint is checked
// by the same code that checks proposals. A placement takes at most one group per node; multi-node plans use
// the group of each node the lease can take the most GPUs from.
//
// Nodes in avoid are left out (a partial re-placement fills the GPUs a moved lease lacks elsewhere).
func Fallback(v Fleet, params Params, lease leasetypes.Lease, avoid map[string]bool) (Candidate, error) {
	spec := lease.Spec
	maxPrice := uint64(math.MaxUint64)
	if spec.MaxPricePerGpuHour.Amount.IsUint64() {
		maxPrice = spec.MaxPricePerGpuHour.Amount.Uint64()
	}
	scopes := LeaseScopes(spec.GpuModel, spec.Regions)
	perScope := max(int(params.FallbackScanLimit)/len(scopes), 4)
	// A scope is read until it holds enough GPUs to choose from — fallbackPoolFactor times the lease, and the
	// rest of the price level reached then (so that best fit sees every group at that price) — or until the
	// scan limit. Cheaper groups come first, so what is left unread costs more.
	enough := max(uint64(spec.TotalGpus)*fallbackPoolFactor, fallbackMinPool)
	scratch := getFallbackScratch()
	defer scratch.put()
	pool := scratch.pool
	// The nodes the walks name get dense indices (nodeIdx), so that what is kept per node is in a slice.
	nodeIdx := scratch.nodeIdx
	nodes := scratch.nodes
	// Keep what grew for the next call.
	defer func() { scratch.pool, scratch.nodes = pool, nodes }()
	var seenHigh map[fallbackGroup]bool // groups >= 64 (fallbackNode.seen holds the others)
	var regionCap []regionCapacity      // of the scope being walked
	read := 0
	for si, scope := range scopes {
		var scopeCap, fullAt uint64
		regionCap = regionCap[:0]
		full := false
		n, err := v.WalkCapacity(scope, maxPrice, perScope,
			func(cg *CapacityGroup) (bool, error) {
				price, free, nodeID, group := cg.Price, cg.Free, cg.NodeID, cg.Group
				if full && (price > fullAt || (spec.MaxRttMs == 0 && scopeCap >= 2*enough)) {
					return true, nil // the price level is read, or (many groups at one price) enough of it
				}
				ni, ok := nodeIdx[nodeID]
				if !ok {
					ni = len(nodes)
					nodeIdx[nodeID] = ni
					nodes = append(nodes, fallbackNode{})
				}
				fn := &nodes[ni]
				if group < 64 {
					if fn.seen&(1<<group) != 0 {
						return false, nil
					}
				} else if seenHigh[fallbackGroup{nodeID, group}] {
					return false, nil
				}
				if avoid[nodeID] {
					return false, nil
				}
				if cg.Entry.GpuMemoryMib < spec.MinGpuMemoryMib || cg.Entry.BandwidthMbps < spec.MinBandwidthMbps {
					return false, nil
				}
				c := free
				if spec.MaxGpusPerNode > 0 {
					c = min(c, spec.MaxGpusPerNode)
				}
				if group < 64 {
					fn.seen |= 1 << group
				} else {
					if seenHigh == nil {
						seenHigh = map[fallbackGroup]bool{}
					}
					seenHigh[fallbackGroup{nodeID, group}] = true
				}
				pool = append(pool, poolEntry{g: *cg, ni: ni, cap: c})
				// A lease takes GPUs from one group per node: count its largest in this scope.
				var nodeCap uint32
				if fn.capScope == si+1 {
					nodeCap = fn.cap
				}
				rc := regionCapOf(&regionCap, cg.Entry.Region)
				if c > nodeCap {
					scopeCap += uint64(c - nodeCap)
					*rc += uint64(c - nodeCap)
					fn.capScope, fn.cap = si+1, c
				}
				// Under an RTT bound GPUs of different regions may not combine (cheap capacity spread over
				// far-apart regions must not hide the regions within reach): only one region's GPUs count.
				if !full && (*rc >= enough || (spec.MaxRttMs == 0 && scopeCap >= enough)) {
					full, fullAt = true, price
				}
				return false, nil
			})
		read += n
		if err != nil {
			return Candidate{}, err
		}
	}
	// Cheapest first, then the fullest group (best fit), then node id and group: a total order, so ties are
	// resolved the same way on every validator.
	slices.SortFunc(pool, func(a, b poolEntry) int {
		return cmp.Or(cmp.Compare(a.g.Price, b.g.Price), cmp.Compare(a.g.Free, b.g.Free), cmp.Compare(a.g.NodeID, b.g.NodeID),
			cmp.Compare(a.g.Group, b.g.Group))
	})
	// A node gives a lease GPUs from one group: multi-node plans use the group of each node the lease can
	// take the most from (the first in pool order on a tie), at that group's place in the pool order.
	largest := make([]int, len(nodes))
	for i := range largest {
		largest[i] = -1
	}
	for i, e := range pool {
		if j := largest[e.ni]; j < 0 || e.cap > pool[j].cap {
			largest[e.ni] = i
		}
	}
	var perNode []int
	var capacity uint64
	for i, e := range pool {
		if largest[e.ni] == i {
			perNode = append(perNode, i)
			capacity += uint64(e.cap)
		}
	}
	if capacity < uint64(spec.TotalGpus) {
		return Candidate{}, fmt.Errorf("%w: %d GPUs needed, %d usable within the price and per-node limits among the %d cheapest free groups read",
			ErrNoPlacement, spec.TotalGpus, capacity, read)
	}

	// Plans are scored as they are built, in the order below. Before a plan is scored its price term, less
	// the most reputation credit the pool could give it, is compared with the best total so far: a plan
	// that cannot be strictly cheaper is not scored (on a tie the earlier plan wins anyway).
	bound := newPlanBound(pool, params.Weights, spec, lease.BlocksPerHour)
	// Plans pick a node by its largest usable group; once the GPUs per node are known, the tightest group of
	// the node that covers them leaves the fewest stranded GPUs at the same price.
	// The pool entries of each node, in pool order: firstOf[ni], then nextOf[i].
	firstOf, nextOf := largest, make([]int, len(pool)) // largest is not needed any more
	for i := range firstOf {
		firstOf[i] = -1
	}
	for i := len(pool) - 1; i >= 0; i-- {
		nextOf[i] = firstOf[pool[i].ni]
		firstOf[pool[i].ni] = i
	}
	var best *Candidate
	lastErr := fmt.Errorf("%w: no region holds %d GPUs and regions cannot be combined within max_rtt_ms %d", ErrNoPlacement, spec.TotalGpus, spec.MaxRttMs)
	planned := map[string]bool{}
	consider := func(plan []take) {
		key := planKey(plan)
		if planned[key] {
			return
		}
		planned[key] = true
		if best != nil && bound.cannotBeat(pool, plan, best.Score.Total) {
			return
		}
		for j, t := range plan {
			for i := firstOf[pool[t.entry].ni]; i >= 0; i = nextOf[i] {
				if pool[i].cap >= t.gpus && pool[i].g.Free < pool[plan[j].entry].g.Free {
					plan[j].entry = i
				}
			}
		}
		c, err := candidateFromPlan(v, pool, plan, params, lease)
		if err != nil {
			lastErr = err
			return
		}
		if best == nil || Better(c, *best) {
			best = &c
		}
	}
	// 1. The single group that fits best.
	for i, e := range pool {
		if e.cap >= spec.TotalGpus {
			consider([]take{{i, spec.TotalGpus}})
			break
		}
	}
	// 2. One region at a time, cheapest groups first.
	var regions []string
	byRegion := map[string][]int{}
	for _, i := range perNode {
		r := pool[i].g.Entry.Region
		if _, ok := byRegion[r]; !ok {
			regions = append(regions, r)
		}
		byRegion[r] = append(byRegion[r], i)
	}
	for _, r := range regions {
		if p := fill(pool, byRegion[r], spec.TotalGpus); p != nil {
			consider(p)
		}
	}
	// 3. Across regions, cheapest groups first, adding a region only if its links to the regions already
	// used are known and within the RTT limit. Starting from the cheapest group alone can shut out the
	// regions a placement needs (a cheap region out of reach of the rest), so every region gets a turn as the
	// first one. A one-GPU plan has one node, so it is one of the region fills above; and no plan is
	// cheaper than the cheapest GPUs of the pool, so when even those cannot beat the best plan there is
	// nothing to look for.
	crossRegion := len(regions) > 1 && spec.TotalGpus > 1
	if crossRegion && best != nil {
		if cheapest := fill(pool, perNode, spec.TotalGpus); cheapest != nil && bound.cannotBeat(pool, cheapest, best.Score.Total) {
			crossRegion = false
		}
	}
	if crossRegion {
		anchors := regions
		if spec.MaxRttMs == 0 {
			// Without an RTT bound every region combines with every other, so the cheapest region's fill
			// always succeeds when the pool holds enough; the other anchors only look for better plans.
			anchors = regions[:min(len(regions), maxAnchorRegions)]
		}
		for _, anchor := range anchors {
			if p := crossRegionFill(v, pool, perNode, spec, anchor, false); p != nil {
				consider(p)
			}
			// Nearest first (by RTT from the first region, then cheapest): price-only filling can spread a
			// lease over far-apart regions when closer ones cost little more.
			rttFrom := make(map[string]uint64, len(regions))
			for _, r := range regions {
				rttFrom[r] = rttOr(v, anchor, r)
			}
			nearest := slices.Clone(perNode)
			slices.SortStableFunc(nearest, func(x, y int) int {
				return cmp.Compare(rttFrom[pool[x].g.Entry.Region], rttFrom[pool[y].g.Entry.Region])
			})
			if p := crossRegionFill(v, pool, nearest, spec, anchor, false); p != nil {
				consider(p)
			}
			// Cheapest once distance is priced in: each node's price plus the latency term it would bring
			// the whole lease, spread over the GPUs it can give. A cheap region a little farther away can
			// beat an expensive one next door, which neither order above finds.
			blended := slices.Clone(perNode)
			cost := make([]uint64, len(pool)) // by pool entry
			for _, i := range perNode {
				e := pool[i]
				lat := uint64(math.MaxUint64)
				if r := rttFrom[e.g.Entry.Region]; r != math.MaxUint64 {
					lat = satMul(satMul(params.Weights.LatencyPerMs, r/1000), uint64(spec.TotalGpus)) / uint64(min(e.cap, spec.TotalGpus))
				}
				cost[i] = satAdd(e.g.Price, lat)
			}
			slices.SortStableFunc(blended, func(x, y int) int { return cmp.Compare(cost[x], cost[y]) })
			if p := crossRegionFill(v, pool, blended, spec, anchor, false); p != nil {
				consider(p)
			}
			// Regions joined by a chain of short links rather than all pairwise within the limit: the ring
			// can revisit the middle region (BestRing splits it), so regions that do not all reach each other
			// can still hold a lease.
			if spec.MaxRttMs > 0 && len(regions) > 2 {
				if p := crossRegionFill(v, pool, blended, spec, anchor, true); p != nil {
					consider(p)
				}
			}
		}
	}
	if best == nil {
		return Candidate{}, lastErr
	}
	return *best, nil
}

// The fallback reads a scope until it holds fallbackPoolFactor times the lease's GPUs (at least
// fallbackMinPool), so that it has alternatives to choose from without reading every node.
const (
	fallbackPoolFactor = 4
	fallbackMinPool    = 16
	// maxAnchorRegions bounds the cross-region fills of a lease without an RTT bound: each of the cheapest
	// regions of the pool (in pool order) starts one cheapest-first and one nearest-first fill. Under an RTT
	// bound every region of the pool starts one, so that a placement within reach is never missed.
	maxAnchorRegions = 8
)

type take struct {
	entry int
	gpus  uint32
}

// fill takes GPUs from the given pool entries in order until need is met; nil if they hold too few.
func fill(pool []poolEntry, entries []int, need uint32) []take {
	var plan []take
	for _, i := range entries {
		if need == 0 {
			break
		}
		t := min(pool[i].cap, need)
		plan = append(plan, take{i, t})
		need -= t
	}
	if need > 0 {
		return nil
	}
	return plan
}

// rttOr is the RTT between two regions, or the largest value when the link is unknown.
func rttOr(v Fleet, a, b string) uint64 {
	if r, ok := v.RTT(a, b); ok {
		return r
	}
	return math.MaxUint64
}

// crossRegionFill takes GPUs from the given pool entries in order, starting with the anchor region, from
// every region whose links to the regions already used are known and within the RTT limit.
//
// With chain set, a region needs a known link within the limit to one region already used, not to all of
// them: the ring may then pass through a region twice (A → B → C → B), and the plan is kept only if
// ScoreCandidate finds a ring within the limit.
func crossRegionFill(v Fleet, pool []poolEntry, entries []int, spec leasetypes.LeaseSpec, anchor string, chain bool) []take {
	need := spec.TotalGpus
	used := []string{anchor}
	var plan []take
	compatible := func(r string) bool {
		if slices.Contains(used, r) {
			return true
		}
		for _, u := range used {
			rtt, ok := v.RTT(r, u)
			within := ok && (spec.MaxRttMs == 0 || rtt <= uint64(spec.MaxRttMs)*1000)
			if chain && within {
				return true
			}
			if !chain && !within {
				return false
			}
		}
		return !chain
	}
	for _, i := range entries {
		e := pool[i]
		if need == 0 {
			break
		}
		if !compatible(e.g.Entry.Region) {
			continue
		}
		if !slices.Contains(used, e.g.Entry.Region) {
			used = append(used, e.g.Entry.Region)
		}
		t := min(e.cap, need)
		plan = append(plan, take{i, t})
		need -= t
	}
	if need > 0 {
		return nil
	}
	return plan
}

func candidateFromPlan(v Fleet, pool []poolEntry, plan []take, params Params, lease leasetypes.Lease) (Candidate, error) {
	c := Candidate{Nodes: make([]ScoredNode, len(plan))}
	regionOf := make(map[string]string, len(plan))
	for i, t := range plan {
		e := &pool[t.entry]
		c.Nodes[i] = e.g.scoredNode(t.gpus)
		regionOf[e.g.NodeID] = e.g.Entry.Region
	}
	c.RingOrder = BestRing(c.Nodes, v.RTT)
	links, err := v.RingLinks(regionOf, c.RingOrder)
	if err != nil {
		return c, err
	}
	c.Links = links
	c.Score, err = ScoreCandidate(lease.Spec, lease.BlocksPerHour, params.Weights, c, params.MaxPlacementNodes)
	return c, err
}

// planKey identifies a plan by its takes, for scoring each distinct plan once.
func planKey(plan []take) string {
	b := make([]byte, 0, len(plan)*8)
	for _, t := range plan {
		b = strconv.AppendInt(b, int64(t.entry), 36)
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(t.gpus), 36)
		b = append(b, ',')
	}
	return string(b)
}

// planBound is a lower bound of a fallback plan's total cost, computed without building the candidate: the
// price term, exactly as ScoreCandidate computes it, less the largest reputation credit any node of the
// pool could earn for the lease's GPUs. Latency, bandwidth and fragmentation terms are never negative, and
// both round their divisions the same way, so a plan's total is never below its bound.
type planBound struct {
	ok        bool
	dur, bph  *big.Int
	repCredit *big.Int
	// sum, term and factor are the scratch of cannotBeat (one Fallback call, one goroutine), which is
	// called for most plans: the same arithmetic as sdkmath's, without allocating each intermediate.
	sum, term, factor *big.Int
}

func newPlanBound(pool []poolEntry, w ScoringWeights, spec leasetypes.LeaseSpec, blocksPerHour uint64) planBound {
	if blocksPerHour == 0 {
		return planBound{} // ScoreCandidate rejects the lease; nothing to prune
	}
	maxRep := NeutralReputationBps
	for _, e := range pool {
		maxRep = max(maxRep, e.g.Entry.ReputationBps)
	}
	u := sdkmath.NewIntFromUint64
	dur, bph := u(spec.DurationBlocks), u(blocksPerHour)
	repCredit := u(w.ReputationPerBps).Mul(u(uint64(maxRep-NeutralReputationBps) * uint64(spec.TotalGpus))).Mul(dur).Quo(bph)
	return planBound{ok: true, dur: dur.BigInt(), bph: bph.BigInt(), repCredit: repCredit.BigInt(),
		sum: new(big.Int), term: new(big.Int), factor: new(big.Int)}
}

// cannotBeat reports whether a plan's total is certainly not below total: whether
// sum(gpus × price) × duration / blocks_per_hour (truncated, as sdkmath.Int.Quo) − the reputation credit
// is at least total.
func (b planBound) cannotBeat(pool []poolEntry, plan []take, total sdkmath.Int) bool {
	if !b.ok {
		return false
	}
	b.sum.SetUint64(0)
	for _, t := range plan {
		b.term.SetUint64(uint64(t.gpus))
		b.factor.SetUint64(pool[t.entry].g.Price)
		b.sum.Add(b.sum, b.term.Mul(b.term, b.factor))
	}
	b.sum.Mul(b.sum, b.dur)
	b.sum.Quo(b.sum, b.bph)
	b.sum.Sub(b.sum, b.repCredit)
	return b.sum.Cmp(total.BigIntMut()) >= 0
}

// satMul and satAdd saturate at the largest uint64 instead of wrapping (heuristic orderings only).
func satMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

func satAdd(a, b uint64) uint64 {
	sum, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return sum
}
