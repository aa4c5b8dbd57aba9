package keeper

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// The allocation engine: x/lease hands every new PENDING lease to EnqueueLease; proposals arrive during the
// proposal window; in the EndBlock of the block where the window closes AllocatePending scores every kept
// proposal and the fallback allocator's placement, reserves the winner's GPUs, records the decision in
// x/audit and activates the lease. A lease with no valid placement is retried in the next block until x/lease
// expires it.

// PriceDenom is the denom of stakes and prices (x/lease's expected keeper).
func (k Keeper) PriceDenom(ctx context.Context) (string, error) {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return "", err
	}
	return p.Denom(), nil
}

// ValidateLeaseRegions checks that every region of a lease spec is a known region.
func (k Keeper) ValidateLeaseRegions(ctx context.Context, regions []string) error {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	for _, r := range regions {
		if !p.HasRegion(r) {
			return p.RegionError(r)
		}
	}
	return nil
}

// EnqueueLease puts a lease created in this block into the allocation queue, due when its proposal window
// closes.
func (k Keeper) EnqueueLease(ctx context.Context, leaseID uint64) error {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	due := sdk.UnwrapSDKContext(ctx).BlockHeight() + int64(p.ProposalWindowBlocks)
	return k.enqueue(ctx, leaseID, due)
}

func (k Keeper) enqueue(ctx context.Context, leaseID uint64, due int64) error {
	if err := k.AllocationQueue.Set(ctx, collections.Join(due, leaseID)); err != nil {
		return err
	}
	return k.PendingDue.Set(ctx, leaseID, due)
}

func (k Keeper) dequeue(ctx context.Context, leaseID uint64) error {
	due, err := k.PendingDue.Get(ctx, leaseID)
	if errors.Is(err, collections.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := k.AllocationQueue.Remove(ctx, collections.Join(due, leaseID)); err != nil {
		return err
	}
	return k.PendingDue.Remove(ctx, leaseID)
}

// DropPendingLease takes a cancelled or expired lease out of the queue and discards its proposals.
func (k Keeper) DropPendingLease(ctx context.Context, leaseID uint64) error {
	if err := k.dequeue(ctx, leaseID); err != nil {
		return err
	}
	return k.discardProposals(ctx, leaseID)
}

// ReleaseLease frees the GPUs an ending lease held. It checks every node of the lease before it frees any,
// so that a refusal leaves every reservation as it was (x/lease may call it outside a transaction).
func (k Keeper) ReleaseLease(ctx context.Context, lease leasetypes.Lease) error {
	placement := make([]leasetypes.Placement, 0, len(lease.Nodes))
	released := map[string]*types.Node{}
	var order []string
	for _, ln := range lease.Nodes {
		n, ok := released[ln.NodeId]
		if !ok {
			node, err := k.GetNode(ctx, ln.NodeId)
			if err != nil {
				return fmt.Errorf("release lease %d: %w", lease.Id, err)
			}
			n = &node
			released[ln.NodeId] = n
			order = append(order, ln.NodeId)
		}
		if int(ln.GpuGroup) >= len(n.Gpus) || n.Gpus[ln.GpuGroup].Reserved < ln.Gpus || n.ReservedGpus < ln.Gpus {
			return fmt.Errorf("release lease %d: node %s group %d does not hold %d reserved GPUs", lease.Id, n.Id, ln.GpuGroup, ln.Gpus)
		}
		n.Gpus[ln.GpuGroup].Reserved -= ln.Gpus
		n.ReservedGpus -= ln.Gpus
		placement = append(placement, leasetypes.Placement{NodeId: ln.NodeId, Gpus: ln.Gpus})
	}
	for _, id := range order {
		if err := k.Nodes.Set(ctx, id, *released[id]); err != nil {
			return err
		}
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventCapacityReleased{LeaseId: lease.Id, Placement: placement})
}

func (k Keeper) reserve(ctx context.Context, v *view, nodes []types.ScoredNode) error {
	for _, sn := range nodes {
		n, err := k.GetNode(ctx, sn.NodeId)
		if err != nil {
			return err
		}
		before := n
		before.Gpus = slices.Clone(n.Gpus)
		g := &n.Gpus[sn.GpuGroup]
		if n.Status != types.NODE_STATUS_ACTIVE || g.Free() < sn.Gpus {
			return fmt.Errorf("reserve %d GPUs on node %s group %d: only %d free (status %s)", sn.Gpus, n.Id, sn.GpuGroup, g.Free(), n.Status)
		}
		g.Reserved += sn.Gpus
		n.ReservedGpus += sn.Gpus
		if err := k.Nodes.Set(ctx, n.Id, n); err != nil {
			return err
		}
		v.nodes[n.Id] = &n
		v.reserved(before, n)
	}
	return nil
}

// AllocatePending runs in EndBlock: it tries the leases whose proposal window has closed, oldest first, at
// most max_allocations_per_block of them. Each lease is decided in its own cache context, so a failure
// leaves no partial reservation and only defers that lease.
func (k Keeper) AllocatePending(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	height := sdkCtx.BlockHeight()
	rng := new(collections.Range[collections.Pair[int64, uint64]]).EndExclusive(collections.Join(height+1, uint64(0)))
	it, err := k.AllocationQueue.Iterate(ctx, rng)
	if err != nil {
		return err
	}
	due := make([]collections.Pair[int64, uint64], 0, min(params.MaxAllocationsPerBlock, 64))
	for ; it.Valid() && len(due) < int(params.MaxAllocationsPerBlock); it.Next() {
		key, err := it.Key()
		if err != nil {
			return errors.Join(err, it.Close())
		}
		due = append(due, key)
	}
	if err := it.Close(); err != nil {
		return err
	}
	// One view for the whole block: leases decided in this block read the same cheapest nodes, so each is
	// decoded once. Reservations update it; a lease that fails is rolled back and the view is dropped.
	v := k.newView(ctx)
	for _, key := range due {
		cacheCtx, write := sdkCtx.CacheContext()
		v.ctx = cacheCtx
		deferred, err := k.allocateOne(cacheCtx, v, params, key.K2())
		if err != nil {
			v = k.newView(ctx)
		}
		if err == nil {
			write()
			if deferred == "" {
				continue
			}
		} else {
			// An error here is a bug or a broken invariant, not bad user input; keep the chain alive and
			// the lease queued, and say so loudly.
			k.logger.Error("allocation failed; lease deferred", "lease", key.K2(), "err", err)
			deferred = "internal error: " + err.Error()
		}
		retry := height + 1
		if err := k.AllocationQueue.Remove(ctx, key); err != nil {
			return err
		}
		if err := k.enqueue(ctx, key.K2(), retry); err != nil {
			return err
		}
		if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventAllocationDeferred{
			LeaseId: key.K2(), RetryHeight: retry, Reason: deferred,
		}); err != nil {
			return err
		}
	}
	return nil
}

// allocateOne decides one lease. It returns a non-empty reason when no candidate is valid (the caller
// re-queues the lease), or an error for a failure that must roll back.
func (k Keeper) allocateOne(ctx context.Context, v *view, params types.Params, leaseID uint64) (string, error) {
	lease, err := k.leases().GetLease(ctx, leaseID)
	if err != nil {
		return "", err
	}
	if lease.State != leasetypes.LEASE_STATE_PENDING {
		// x/lease drops leases from the queue when they leave PENDING; clean up if it did not.
		return "", errors.Join(k.dequeue(ctx, leaseID), k.discardProposals(ctx, leaseID))
	}
	cands, err := k.candidates(v, params, lease)
	if err != nil {
		return "", err
	}
	winner, ok := types.ChooseWinner(cands)
	if !ok {
		reasons := make([]string, len(cands))
		for i, c := range cands {
			reasons[i] = c.Rejected
			if c.Source == types.CANDIDATE_SOURCE_PROPOSAL {
				reasons[i] = fmt.Sprintf("proposal %d: %s", c.ProposalId, c.Rejected)
			}
		}
		return strings.Join(reasons, "; "), nil
	}
	w := cands[winner]
	if err := k.reserve(ctx, v, w.Nodes); err != nil {
		return "", err
	}
	var moved *leasetypes.PastPlacement
	if n := len(lease.PastPlacements); n > 0 {
		moved = &lease.PastPlacements[n-1]
	}
	decisionID, err := k.audit().RecordDecision(ctx, lease.Id, lease.Spec, lease.BlocksPerHour, params.Weights, cands, uint32(winner), moved)
	if err != nil {
		return "", err
	}
	nodes := make([]leasetypes.LeaseNode, len(w.Nodes))
	nodeIDs := make([]string, len(w.Nodes))
	for i, sn := range w.Nodes {
		n, err := v.node(sn.NodeId)
		if err != nil {
			return "", err
		}
		nodes[i] = leasetypes.LeaseNode{
			NodeId:          sn.NodeId,
			Operator:        n.Operator,
			EthAddress:      n.EthAddress,
			Region:          sn.Region,
			Gpus:            sn.Gpus,
			GpuGroup:        sn.GpuGroup,
			GpuModel:        sn.GpuModel,
			GpuMemoryMib:    sn.GpuMemoryMib,
			PricePerGpuHour: sdk.NewCoin(params.Denom(), sn.PricePerGpuHour),
			Paid:            sdkmath.ZeroInt(),
		}
		nodeIDs[i] = sn.NodeId
	}
	if err := k.leases().ActivateLease(ctx, lease.Id, nodes, w.RingOrder, decisionID); err != nil {
		return "", err
	}
	if err := k.DropPendingLease(ctx, lease.Id); err != nil {
		return "", err
	}
	return "", sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAllocationDecided{
		LeaseId:    lease.Id,
		DecisionId: decisionID,
		Source:     w.Source,
		ProposalId: w.ProposalId,
		Candidates: uint32(len(cands)),
		NodeIds:    nodeIDs,
		TotalCost:  w.Score.Total.String(),
	})
}

// Candidates scores, against the current state, every proposal kept for a pending lease (in id order) and
// the fallback allocator's placement (last). Invalid candidates carry the reason in Rejected.
func (k Keeper) Candidates(ctx context.Context, params types.Params, lease leasetypes.Lease) ([]types.Candidate, error) {
	return k.candidates(k.newView(ctx), params, lease)
}

func (k Keeper) candidates(v *view, params types.Params, lease leasetypes.Lease) ([]types.Candidate, error) {
	proposals, err := k.proposalsOf(v.ctx, lease.Id)
	if err != nil {
		return nil, err
	}
	cands := make([]types.Candidate, 0, len(proposals)+1)
	for _, p := range proposals {
		c, err := v.buildCandidate(lease.Spec, p.Placement, p.RingOrder)
		if err == nil {
			c.Score, err = types.ScoreCandidate(lease.Spec, lease.BlocksPerHour, params.Weights, c, params.MaxPlacementNodes)
		}
		if err != nil {
			c.Rejected = err.Error()
			c.Score = zeroScore()
		}
		c.Source, c.ProposalId, c.Proposer = types.CANDIDATE_SOURCE_PROPOSAL, p.Id, p.Proposer
		cands = append(cands, c)
	}
	var avoid map[string]bool
	if n := len(lease.PastPlacements); n > 0 {
		last := lease.PastPlacements[n-1]
		if last.Reason == leasetypes.REALLOCATION_REASON_LINK_DEGRADED {
			// The full re-placement leaves out both ends of the degraded link, so that it cannot ring over
			// it again; the partial ones each keep one end.
			avoid = map[string]bool{}
			for _, id := range last.TriggerNodeIds {
				avoid[id] = true
			}
		}
		for _, drop := range last.TriggerNodeIds {
			c, err := k.partial(v, params, lease, last, drop)
			if err != nil {
				c = types.Candidate{Rejected: fmt.Sprintf("partial re-placement without %s: %v", drop, err), Score: zeroScore()}
			}
			c.Source = types.CANDIDATE_SOURCE_PARTIAL
			cands = append(cands, c)
		}
	}
	fb, err := k.fallback(v, params, lease, avoid)
	if err != nil {
		fb = types.Candidate{Rejected: "fallback: " + err.Error(), Score: zeroScore()}
	}
	fb.Source = types.CANDIDATE_SOURCE_FALLBACK
	return append(cands, fb), nil
}

// partial re-places a moved lease without one node of its last placement: the other nodes keep their GPUs
// where they still have them free, and the fallback allocator fills what is missing from other nodes (under
// an RTT bound only in regions within max_rtt_ms of every kept node's region). The merged placement gets the
// best ring and is scored like any other candidate.
func (k Keeper) partial(v *view, params types.Params, lease leasetypes.Lease, last leasetypes.PastPlacement, drop string) (types.Candidate, error) {
	spec := lease.Spec
	perNode := map[string]uint32{}
	var order []string
	for _, n := range last.Nodes {
		if n.NodeId == drop {
			continue
		}
		if _, ok := perNode[n.NodeId]; !ok {
			order = append(order, n.NodeId)
		}
		perNode[n.NodeId] += n.Gpus
	}
	avoid := map[string]bool{drop: true}
	var placement []leasetypes.Placement
	var keptNodes []types.ScoredNode
	var kept uint32
	for _, id := range order {
		avoid[id] = true
		n, err := v.node(id)
		if err != nil {
			continue // deregistered: its GPUs are filled elsewhere
		}
		sn, err := scoredNode(n, spec, perNode[id])
		if err != nil {
			continue // jailed, or its GPUs were taken: filled elsewhere
		}
		placement = append(placement, leasetypes.Placement{NodeId: id, Gpus: perNode[id]})
		keptNodes = append(keptNodes, sn)
		kept += perNode[id]
	}
	if kept == 0 {
		return types.Candidate{}, fmt.Errorf("no node of the previous placement can keep its GPUs")
	}
	if missing := spec.TotalGpus - kept; missing > 0 {
		sub := lease
		sub.PastPlacements = nil
		sub.Spec.TotalGpus = missing
		if sub.Spec.MaxGpusPerNode > missing {
			sub.Spec.MaxGpusPerNode = missing
		}
		if spec.MaxRttMs > 0 {
			regions := spec.Regions
			if len(regions) == 0 {
				regions = params.Regions
			}
			var reachable []string
			for _, r := range regions {
				ok := true
				for _, sn := range keptNodes {
					if rtt, known := v.rtt(r, sn.Region); !known || rtt > uint64(spec.MaxRttMs)*1000 {
						ok = false
						break
					}
				}
				if ok {
					reachable = append(reachable, r)
				}
			}
			if len(reachable) == 0 {
				return types.Candidate{}, fmt.Errorf("no region is within max_rtt_ms %d of every kept node", spec.MaxRttMs)
			}
			sub.Spec.Regions = reachable
		}
		fill, err := k.fallback(v, params, sub, avoid)
		if err != nil {
			return types.Candidate{}, fmt.Errorf("filling %d GPUs: %w", missing, err)
		}
		for _, sn := range fill.Nodes {
			placement = append(placement, leasetypes.Placement{NodeId: sn.NodeId, Gpus: sn.Gpus})
			keptNodes = append(keptNodes, sn)
		}
	}
	c, err := v.buildCandidate(spec, placement, types.BestRing(keptNodes, v.rtt))
	if err != nil {
		return c, err
	}
	c.Score, err = types.ScoreCandidate(spec, lease.BlocksPerHour, params.Weights, c, params.MaxPlacementNodes)
	return c, err
}

func zeroScore() types.ScoreBreakdown {
	z := sdkmath.ZeroInt()
	return types.ScoreBreakdown{Price: z, Latency: z, Bandwidth: z, Fragmentation: z, Reputation: z, Total: z}
}

// poolEntry is a GPU group the fallback may take GPUs from.
type poolEntry struct {
	node  *types.Node
	group uint32
	price uint64
	free  uint32
	// cap is how many GPUs the lease may take from it (free, bounded by max_gpus_per_node).
	cap uint32
}

// errNoPlacement marks a lease that the fallback cannot place with the capacity it read.
var errNoPlacement = errors.New("no placement")

// fallback is the chain's own allocator; the proposal path is never needed for liveness. It reads at most
// fallback_scan_limit entries of the capacity index — the cheapest groups (then the fullest, for best fit)
// of the lease's model in its regions — and builds a few placements from them: the single best-fitting
// group, a fill of each region (locality first), and cross-region fills within the RTT limit, one starting
// from each region. It scores each with ScoreCandidate and returns the cheapest; every constraint is checked
// by the same code that checks proposals. A placement takes at most one group per node; multi-node plans use
// the group of each node the lease can take the most GPUs from.
//
// Nodes in avoid are left out (a partial re-placement fills the GPUs a moved lease lacks elsewhere).
func (k Keeper) fallback(v *view, params types.Params, lease leasetypes.Lease, avoid map[string]bool) (types.Candidate, error) {
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
	var pool []poolEntry
	seen := map[groupID]bool{}
	read := 0
	for _, scope := range scopes {
		var scopeCap, fullAt uint64
		regionCap := map[string]uint64{}
		nodeCap := map[string]uint32{} // a lease takes GPUs from one group per node: count its largest
		full := false
		n, err := v.walkCapacity(scope, maxPrice, perScope,
			func(price uint64, free uint32, nodeID string, group uint32) (bool, error) {
				if full && (price > fullAt || (spec.MaxRttMs == 0 && scopeCap >= 2*enough)) {
					return true, nil // the price level is read, or (many groups at one price) enough of it
				}
				if seen[groupID{nodeID, group}] || avoid[nodeID] {
					return false, nil
				}
				n, err := v.node(nodeID)
				if err != nil {
					return false, err
				}
				g := n.Gpus[group]
				if g.MemoryMib < spec.MinGpuMemoryMib || n.BandwidthMbps < spec.MinBandwidthMbps {
					return false, nil
				}
				c := free
				if spec.MaxGpusPerNode > 0 {
					c = min(c, spec.MaxGpusPerNode)
				}
				seen[groupID{nodeID, group}] = true
				pool = append(pool, poolEntry{node: n, group: group, price: price, free: free, cap: c})
				if c > nodeCap[nodeID] {
					scopeCap += uint64(c - nodeCap[nodeID])
					regionCap[n.Region] += uint64(c - nodeCap[nodeID])
					nodeCap[nodeID] = c
				}
				// Under an RTT bound GPUs of different regions may not combine (cheap capacity spread over
				// far-apart regions must not hide the regions within reach): only one region's GPUs count.
				if !full && (regionCap[n.Region] >= enough || (spec.MaxRttMs == 0 && scopeCap >= enough)) {
					full, fullAt = true, price
				}
				return false, nil
			})
		read += n
		if err != nil {
			return types.Candidate{}, err
		}
	}
	// Cheapest first, then the fullest group (best fit), then node id and group: a total order, so ties are
	// resolved the same way on every validator.
	slices.SortFunc(pool, func(a, b poolEntry) int {
		return cmp.Or(cmp.Compare(a.price, b.price), cmp.Compare(a.free, b.free), cmp.Compare(a.node.Id, b.node.Id),
			cmp.Compare(a.group, b.group))
	})
	// A node gives a lease GPUs from one group: multi-node plans use the group of each node the lease can
	// take the most from (the first in pool order on a tie), at that group's place in the pool order.
	largest := map[string]int{}
	for i, e := range pool {
		if j, ok := largest[e.node.Id]; !ok || e.cap > pool[j].cap {
			largest[e.node.Id] = i
		}
	}
	var perNode []int
	var capacity uint64
	for i, e := range pool {
		if largest[e.node.Id] == i {
			perNode = append(perNode, i)
			capacity += uint64(e.cap)
		}
	}
	if capacity < uint64(spec.TotalGpus) {
		return types.Candidate{}, fmt.Errorf("%w: %d GPUs needed, %d usable within the price and per-node limits among the %d cheapest free groups read",
			errNoPlacement, spec.TotalGpus, capacity, read)
	}

	// Plans are scored as they are built, in the order below. Before a plan is scored its price term, less
	// the most reputation credit the pool could give it, is compared with the best total so far: a plan
	// that cannot be strictly cheaper is not scored (on a tie the earlier plan wins anyway).
	bound := newPlanBound(pool, params.Weights, spec, lease.BlocksPerHour)
	// Plans pick a node by its largest usable group; once the GPUs per node are known, the tightest group of
	// the node that covers them leaves the fewest stranded GPUs at the same price.
	groupsOf := map[string][]int{}
	for i, e := range pool {
		groupsOf[e.node.Id] = append(groupsOf[e.node.Id], i)
	}
	var best *types.Candidate
	lastErr := fmt.Errorf("%w: no region holds %d GPUs and regions cannot be combined within max_rtt_ms %d", errNoPlacement, spec.TotalGpus, spec.MaxRttMs)
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
			for _, i := range groupsOf[pool[t.entry].node.Id] {
				if pool[i].cap >= t.gpus && pool[i].free < pool[plan[j].entry].free {
					plan[j].entry = i
				}
			}
		}
		c, err := candidateFromPlan(v, pool, plan, params, lease)
		if err != nil {
			lastErr = err
			return
		}
		if best == nil || types.Better(c, *best) {
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
		r := pool[i].node.Region
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
			if p := k.crossRegionFill(v, pool, perNode, spec, anchor, false); p != nil {
				consider(p)
			}
			// Nearest first (by RTT from the first region, then cheapest): price-only filling can spread a
			// lease over far-apart regions when closer ones cost little more.
			rttFrom := make(map[string]uint64, len(regions))
			for _, r := range regions {
				rttFrom[r] = k.rttOr(v, anchor, r)
			}
			nearest := slices.Clone(perNode)
			slices.SortStableFunc(nearest, func(x, y int) int {
				return cmp.Compare(rttFrom[pool[x].node.Region], rttFrom[pool[y].node.Region])
			})
			if p := k.crossRegionFill(v, pool, nearest, spec, anchor, false); p != nil {
				consider(p)
			}
			// Cheapest once distance is priced in: each node's price plus the latency term it would bring
			// the whole lease, spread over the GPUs it can give. A cheap region a little farther away can
			// beat an expensive one next door, which neither order above finds.
			blended := slices.Clone(perNode)
			cost := make(map[int]uint64, len(perNode))
			for _, i := range perNode {
				e := pool[i]
				lat := uint64(math.MaxUint64)
				if r := rttFrom[e.node.Region]; r != math.MaxUint64 {
					lat = satMul(satMul(params.Weights.LatencyPerMs, r/1000), uint64(spec.TotalGpus)) / uint64(min(e.cap, spec.TotalGpus))
				}
				cost[i] = satAdd(e.price, lat)
			}
			slices.SortStableFunc(blended, func(x, y int) int { return cmp.Compare(cost[x], cost[y]) })
			if p := k.crossRegionFill(v, pool, blended, spec, anchor, false); p != nil {
				consider(p)
			}
			// Regions joined by a chain of short links rather than all pairwise within the limit: the ring
			// can revisit the middle region (BestRing splits it), so regions that do not all reach each other
			// can still hold a lease.
			if spec.MaxRttMs > 0 && len(regions) > 2 {
				if p := k.crossRegionFill(v, pool, blended, spec, anchor, true); p != nil {
					consider(p)
				}
			}
		}
	}
	if best == nil {
		return types.Candidate{}, lastErr
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
func (k Keeper) rttOr(v *view, a, b string) uint64 {
	if r, ok := v.rtt(a, b); ok {
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
func (k Keeper) crossRegionFill(v *view, pool []poolEntry, entries []int, spec leasetypes.LeaseSpec, anchor string, chain bool) []take {
	need := spec.TotalGpus
	used := []string{anchor}
	var plan []take
	compatible := func(r string) bool {
		if slices.Contains(used, r) {
			return true
		}
		for _, u := range used {
			rtt, ok := v.rtt(r, u)
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
		if !compatible(e.node.Region) {
			continue
		}
		if !slices.Contains(used, e.node.Region) {
			used = append(used, e.node.Region)
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

func candidateFromPlan(v *view, pool []poolEntry, plan []take, params types.Params, lease leasetypes.Lease) (types.Candidate, error) {
	c := types.Candidate{Nodes: make([]types.ScoredNode, len(plan))}
	regionOf := make(map[string]string, len(plan))
	for i, t := range plan {
		e := pool[t.entry]
		g := e.node.Gpus[e.group]
		c.Nodes[i] = types.ScoredNode{
			NodeId:          e.node.Id,
			Region:          e.node.Region,
			GpuGroup:        e.group,
			GpuModel:        g.Model,
			GpuMemoryMib:    g.MemoryMib,
			Gpus:            t.gpus,
			FreeBefore:      g.Free(),
			BandwidthMbps:   e.node.BandwidthMbps,
			PricePerGpuHour: e.node.PricePerGpuHour.Amount,
			ReputationBps:   e.node.ReputationBps,
		}
		regionOf[e.node.Id] = e.node.Region
	}
	c.RingOrder = types.BestRing(c.Nodes, v.rtt)
	links, err := v.ringLinks(regionOf, c.RingOrder)
	if err != nil {
		return c, err
	}
	c.Links = links
	c.Score, err = types.ScoreCandidate(lease.Spec, lease.BlocksPerHour, params.Weights, c, params.MaxPlacementNodes)
	return c, err
}

// OpenLeasePlacement finds, among the first maxLeases queued leases, one whose proposal window is still open,
// that the fallback can place now, and whose kept proposals that placement would join, and returns it. Simulations use it to send proposals
// that are valid; agents use their own policy.
func (k Keeper) OpenLeasePlacement(ctx context.Context, maxLeases int) (uint64, []leasetypes.Placement, []string, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, nil, nil, err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	var ids []uint64
	err = k.PendingDue.Walk(ctx, nil, func(id uint64, _ int64) (bool, error) {
		ids = append(ids, id)
		return len(ids) >= maxLeases, nil
	})
	if err != nil {
		return 0, nil, nil, err
	}
	for _, id := range ids {
		lease, err := k.leases().GetLease(ctx, id)
		if err != nil || lease.State != leasetypes.LEASE_STATE_PENDING || height > lease.PendingSince()+int64(params.ProposalWindowBlocks) {
			continue
		}
		c, err := k.fallback(k.newView(ctx), params, lease, nil)
		if err != nil {
			continue
		}
		kept, err := k.ProposalsByRank(ctx, id)
		if err != nil {
			return 0, nil, nil, err
		}
		if len(kept) >= int(params.MaxProposalsPerLease) && !c.Score.Total.LT(kept[len(kept)-1].Total) {
			continue // it would not be kept
		}
		placement := make([]leasetypes.Placement, len(c.Nodes))
		for i, n := range c.Nodes {
			placement[i] = leasetypes.Placement{NodeId: n.NodeId, Gpus: n.Gpus}
		}
		return id, placement, c.RingOrder, nil
	}
	return 0, nil, nil, fmt.Errorf("no pending lease with an open window that can be placed")
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
	dur, bph  sdkmath.Int
	repCredit sdkmath.Int
}

func newPlanBound(pool []poolEntry, w types.ScoringWeights, spec leasetypes.LeaseSpec, blocksPerHour uint64) planBound {
	if blocksPerHour == 0 {
		return planBound{} // ScoreCandidate rejects the lease; nothing to prune
	}
	maxRep := types.NeutralReputationBps
	for _, e := range pool {
		maxRep = max(maxRep, e.node.ReputationBps)
	}
	u := sdkmath.NewIntFromUint64
	b := planBound{ok: true, dur: u(spec.DurationBlocks), bph: u(blocksPerHour)}
	b.repCredit = u(w.ReputationPerBps).Mul(u(uint64(maxRep-types.NeutralReputationBps) * uint64(spec.TotalGpus))).Mul(b.dur).Quo(b.bph)
	return b
}

// cannotBeat reports whether a plan's total is certainly not below total.
func (b planBound) cannotBeat(pool []poolEntry, plan []take, total sdkmath.Int) bool {
	if !b.ok {
		return false
	}
	priceNum := sdkmath.ZeroInt()
	for _, t := range plan {
		priceNum = priceNum.Add(sdkmath.NewIntFromUint64(uint64(t.gpus)).Mul(pool[t.entry].node.PricePerGpuHour.Amount))
	}
	return priceNum.Mul(b.dur).Quo(b.bph).Sub(b.repCredit).GTE(total)
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
