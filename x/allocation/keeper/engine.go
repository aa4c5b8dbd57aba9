package keeper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/internal/collx"
	"github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/internal/typedevent"
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

// reserve takes the GPUs of a placement on the view's nodes. It checks every node first (ACTIVE, and the group
// holds what the placement takes from it, counting earlier entries of the placement), so that a refusal
// changes nothing; the nodes reach the store in flush. undo gives the GPUs back (a later step of the lease
// refused it).
func (v *view) reserve(nodes []types.ScoredNode) (undo func(), err error) {
	taken := make(map[groupID]uint32, len(nodes))
	for _, sn := range nodes {
		n, err := v.Node(sn.NodeId)
		if err != nil {
			return nil, err
		}
		if int(sn.GpuGroup) >= len(n.Gpus) {
			return nil, fmt.Errorf("reserve %d GPUs on node %s: no GPU group %d", sn.Gpus, n.Id, sn.GpuGroup)
		}
		g := groupID{sn.NodeId, sn.GpuGroup}
		if free := n.Gpus[sn.GpuGroup].Free() - taken[g]; n.Status != types.NODE_STATUS_ACTIVE || free < sn.Gpus {
			return nil, fmt.Errorf("reserve %d GPUs on node %s group %d: only %d free (status %s)", sn.Gpus, n.Id, sn.GpuGroup, free, n.Status)
		}
		taken[g] += sn.Gpus
	}
	prev := make([]*types.Node, len(nodes))
	for i, sn := range nodes {
		cur := v.nodes[sn.NodeId]
		n := *cur
		n.Gpus = slices.Clone(cur.Gpus)
		n.Gpus[sn.GpuGroup].Reserved += sn.Gpus
		n.ReservedGpus += sn.Gpus
		v.nodes[n.Id] = &n
		v.reserved(*cur, n)
		if _, ok := v.stored[n.Id]; !ok {
			v.stored[n.Id] = cur
			v.reservedOn = append(v.reservedOn, n.Id)
		}
		prev[i] = cur
	}
	return func() {
		for i := len(nodes) - 1; i >= 0; i-- {
			id := nodes[i].NodeId
			v.reserved(*v.nodes[id], *prev[i])
			v.nodes[id] = prev[i]
		}
	}, nil
}

// flush writes what the leases decided through the view left to the end of the block: the queue entries of
// the leases that left it and of those deferred, and every node whose reservations changed, once, with its
// capacity index entries. Until then the module's store has no pending writes, so that opening an iterator
// on the capacity index does not have to merge them. (No lease reads another lease's queue entries.)
func (v *view) flush() error {
	for _, id := range v.dropped {
		if err := v.k.DropPendingLease(v.ctx, id); err != nil {
			return err
		}
	}
	for _, r := range v.requeued {
		if err := v.k.AllocationQueue.Remove(v.ctx, r.key); err != nil {
			return err
		}
		if err := v.k.enqueue(v.ctx, r.key.K2(), r.retry); err != nil {
			return err
		}
	}
	v.dropped, v.requeued = nil, nil
	for _, id := range v.reservedOn {
		n, was := v.nodes[id], v.stored[id]
		if n.ReservedGpus == was.ReservedGpus && slices.Equal(n.Gpus, was.Gpus) {
			continue // every reservation on it was undone
		}
		if err := v.k.Nodes.Set(v.ctx, id, *n); err != nil {
			return err
		}
	}
	v.reservedOn, v.stored = nil, map[string]*types.Node{}
	return nil
}

// storeFailure is an error of a write after every check of a lease passed: the store or a codec failed, so
// the lease's writes may be partly done and there is no consistent state to go on from in this block.
type storeFailure struct{ err error }

func (e storeFailure) Error() string { return "allocation: store write failed: " + e.err.Error() }
func (e storeFailure) Unwrap() error { return e.err }

func failedWrite(err error) error {
	if err == nil {
		return nil
	}
	return storeFailure{err}
}

// AllocatePending runs in EndBlock: it tries the leases whose proposal window has closed, oldest first, at
// most max_allocations_per_block of them. The leases are decided one after the other against one view of
// the state, without a cache context per lease: each lease's decision is checked in full — reservation,
// decision record, activation — before anything of it is written, so a lease that fails changes nothing
// and is only deferred. Once every check has passed, a write can fail only if the store or a codec does;
// AllocatePending then returns the error and the block fails, rather than leave a half-written lease.
// The nodes the block reserved GPUs on are written once, at the end.
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
	due, err := collx.TakeKeys[collections.Pair[int64, uint64]](it, int(params.MaxAllocationsPerBlock))
	if err != nil {
		return err
	}
	// One view for the whole block: leases decided in this block read the same cheapest nodes, so each is
	// decoded once, and the reservations of every lease are in it.
	v := k.newView(ctx)
	for _, key := range due {
		deferred, err := k.allocateOne(ctx, v, params, key.K2())
		if err != nil {
			if errors.As(err, new(storeFailure)) {
				return err
			}
			// Any other error is a bug or a broken invariant, not bad user input, and the lease changed
			// nothing; keep the chain alive and the lease queued, and say so loudly.
			k.logger.Error("allocation failed; lease deferred", "lease", key.K2(), "err", err)
			deferred = "internal error: " + err.Error()
		}
		if deferred == "" {
			continue
		}
		retry := height + 1
		v.requeued = append(v.requeued, requeue{key, retry})
		sdkCtx.EventManager().EmitEvent(typedevent.AllocationDeferred(&types.EventAllocationDeferred{
			LeaseId: key.K2(), RetryHeight: retry, Reason: deferred,
		}))
	}
	return v.flush()
}

// allocateOne decides one lease. It returns a non-empty reason when no candidate is valid (the caller
// re-queues the lease); an error when a check refused the decision (nothing was written); or a storeFailure
// when a write failed after every check had passed.
func (k Keeper) allocateOne(ctx context.Context, v *view, params types.Params, leaseID uint64) (string, error) {
	lease, err := k.leases().GetLease(ctx, leaseID)
	if err != nil {
		return "", err
	}
	if lease.State != leasetypes.LEASE_STATE_PENDING {
		// x/lease drops leases from the queue when they leave PENDING; clean up (in flush) if it did not.
		v.dropped = append(v.dropped, leaseID)
		return "", nil
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
	undo, err := v.reserve(w.Nodes)
	if err != nil {
		return "", err
	}
	var moved *leasetypes.PastPlacement
	if n := len(lease.PastPlacements); n > 0 {
		moved = &lease.PastPlacements[n-1]
	}
	decisionID, storeDecision, err := k.audit().PrepareDecision(ctx, lease.Id, lease.Spec, lease.BlocksPerHour, params.Weights, cands, uint32(winner), moved)
	if err != nil {
		undo()
		return "", err
	}
	nodes := make([]leasetypes.LeaseNode, len(w.Nodes))
	nodeIDs := make([]string, len(w.Nodes))
	denom := params.Denom()
	for i, sn := range w.Nodes {
		n := v.nodes[sn.NodeId] // read by reserve
		nodes[i] = leasetypes.LeaseNode{
			NodeId:          sn.NodeId,
			Operator:        n.Operator,
			EthAddress:      n.EthAddress,
			Region:          sn.Region,
			Gpus:            sn.Gpus,
			GpuGroup:        sn.GpuGroup,
			GpuModel:        sn.GpuModel,
			GpuMemoryMib:    sn.GpuMemoryMib,
			PricePerGpuHour: sdk.Coin{Denom: denom, Amount: sn.PricePerGpuHour},
			Paid:            sdkmath.ZeroInt(),
		}
		nodeIDs[i] = sn.NodeId
	}
	activate, err := k.leases().PrepareActivation(ctx, lease.Id, nodes, w.RingOrder, decisionID)
	if err != nil {
		undo()
		return "", err
	}
	// Every check has passed: from here on only the store can fail.
	if err := storeDecision(); err != nil {
		return "", failedWrite(err)
	}
	if err := activate(); err != nil {
		return "", failedWrite(err)
	}
	v.dropped = append(v.dropped, lease.Id) // its queue entry and proposals go in flush
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(typedevent.AllocationDecided(&types.EventAllocationDecided{
		LeaseId:    lease.Id,
		DecisionId: decisionID,
		Source:     w.Source,
		ProposalId: w.ProposalId,
		Candidates: uint32(len(cands)),
		NodeIds:    nodeIDs,
		TotalCost:  w.Score.Total.String(),
	}))
	return "", nil
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
	fb, err := types.Fallback(v, params, lease, avoid)
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
		n, err := v.Node(id)
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
					if rtt, known := v.RTT(r, sn.Region); !known || rtt > uint64(spec.MaxRttMs)*1000 {
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
		fill, err := types.Fallback(v, params, sub, avoid)
		if err != nil {
			return types.Candidate{}, fmt.Errorf("filling %d GPUs: %w", missing, err)
		}
		for _, sn := range fill.Nodes {
			placement = append(placement, leasetypes.Placement{NodeId: sn.NodeId, Gpus: sn.Gpus})
			keptNodes = append(keptNodes, sn)
		}
	}
	c, err := v.buildCandidate(spec, placement, types.BestRing(keptNodes, v.RTT))
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

// OpenLeasePlacement finds, among the first maxLeases queued leases, one whose proposal window is still open,
// that the fallback can place now, and whose kept proposals that placement would join (not full of cheaper ones,
// not holding it already), and returns it. Simulations use it to send proposals
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
		c, err := types.Fallback(k.newView(ctx), params, lease, nil)
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
		if slices.ContainsFunc(kept, func(p types.Proposal) bool {
			return samePlacement(p.Placement, placement) && !c.Score.Total.LT(p.Total)
		}) {
			continue // kept already (ErrDuplicateProposal)
		}
		return id, placement, c.RingOrder, nil
	}
	return 0, nil, nil, fmt.Errorf("no pending lease with an open window that can be placed")
}
