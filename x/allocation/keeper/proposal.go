package keeper

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// view caches the nodes and region links read while leases are decided, so that a node shared by several
// candidates or leases is decoded once. Whoever writes a node through it (reserve) updates the cache; it
// must not outlive the EndBlock or transaction that made it.
type view struct {
	k     Keeper
	ctx   context.Context
	nodes map[string]*types.Node
	links map[[2]string]*types.RegionLink
	// measured caches x/audit's measured links by sorted node pair (nil: none fresh).
	measured map[[2]string]*types.RegionLink
	// scopes caches the capacity index entries read so far, per scope.
	scopes map[string]*scopeCache
	// capRemoved are the capacity index entries of the store that reservations made through the view removed
	// (the store still holds them until flush).
	capRemoved map[capKey]bool
	// reservedOn are the nodes reservations made through the view changed, in the order first changed, and
	// stored holds each as the store has it; flush writes them.
	reservedOn []string
	stored     map[string]*types.Node
	// dropped are the leases to take out of the allocation queue (with their proposals) and requeued the
	// deferred ones, in flush.
	dropped  []uint64
	requeued []requeue
}

type requeue struct {
	key   collections.Pair[int64, uint64]
	retry int64
}

func (k Keeper) newView(ctx context.Context) *view {
	return &view{k: k, ctx: ctx, nodes: map[string]*types.Node{}, links: map[[2]string]*types.RegionLink{},
		measured: map[[2]string]*types.RegionLink{}, scopes: map[string]*scopeCache{}, capRemoved: map[capKey]bool{},
		stored: map[string]*types.Node{}}
}

func (v *view) Node(id string) (*types.Node, error) {
	if n, ok := v.nodes[id]; ok {
		if n == nil {
			return nil, types.ErrNodeNotFound.Wrapf("no node with id %q", id)
		}
		return n, nil
	}
	n, err := v.k.GetNode(v.ctx, id)
	if err != nil {
		if errors.Is(err, types.ErrNodeNotFound) {
			v.nodes[id] = nil
		}
		return nil, err
	}
	v.nodes[id] = &n
	return &n, nil
}

// link returns the region link between a and b, or nil when the pair was never measured.
func (v *view) link(a, b string) (*types.RegionLink, error) {
	a, b = types.LinkKey(a, b)
	key := [2]string{a, b}
	if l, ok := v.links[key]; ok {
		return l, nil
	}
	l, err := v.k.RegionLinks.Get(v.ctx, collections.Join(a, b))
	if errors.Is(err, collections.ErrNotFound) {
		v.links[key] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v.links[key] = &l
	return &l, nil
}

// measuredLink returns x/audit's measured link between two nodes, or nil when none is fresh.
func (v *view) measuredLink(x, y string) (*types.RegionLink, error) {
	if x > y {
		x, y = y, x
	}
	key := [2]string{x, y}
	if l, ok := v.measured[key]; ok {
		return l, nil
	}
	rtt, mbps, epoch, found, err := v.k.audit().MeasuredLink(v.ctx, x, y)
	if err != nil {
		return nil, err
	}
	var l *types.RegionLink
	if found {
		l = &types.RegionLink{RttUs: rtt, BandwidthMbps: mbps, NodeA: x, NodeB: y, MeasuredEpoch: epoch}
	}
	v.measured[key] = l
	return l, nil
}

// ringLinks returns the links of a ring in ring order: between two nodes with a fresh measurement in x/audit's
// link matrix, the measured link (labelled with the nodes and epoch); else the region table's link between
// their regions.
func (v *view) RingLinks(regionOf map[string]string, ring []string) ([]types.RegionLink, error) {
	hops := types.RingHops(regionOf, ring)
	out := make([]types.RegionLink, 0, len(hops))
	for i, h := range hops {
		m, err := v.measuredLink(ring[i], ring[(i+1)%len(ring)])
		if err != nil {
			return nil, err
		}
		if m != nil {
			l := *m
			l.RegionA, l.RegionB = h[0], h[1]
			out = append(out, l)
			continue
		}
		l, err := v.link(h[0], h[1])
		if err != nil {
			return nil, err
		}
		if l == nil {
			return nil, errorsmod.Wrapf(types.ErrUnknownLink, "no measured link between %s and %s; their RTT cannot be checked", h[0], h[1])
		}
		out = append(out, *l)
	}
	return out, nil
}

func (v *view) RTT(a, b string) (uint64, bool) {
	l, err := v.link(a, b)
	if err != nil || l == nil {
		return 0, false
	}
	return l.RttUs, true
}

// scoredNode picks the GPU group of a node that a lease takes gpus GPUs from — the first group, in the node's
// order, with the lease's model and memory and enough free GPUs — and records the inputs of the cost.
func scoredNode(n *types.Node, spec leasetypes.LeaseSpec, gpus uint32) (types.ScoredNode, error) {
	if n.Status != types.NODE_STATUS_ACTIVE {
		return types.ScoredNode{}, fmt.Errorf("node %s is %s; only ACTIVE nodes take leases", n.Id, n.Status)
	}
	var matching []string
	for i, g := range n.Gpus {
		if (spec.GpuModel != "" && g.Model != spec.GpuModel) || g.MemoryMib < spec.MinGpuMemoryMib {
			continue
		}
		if g.Free() >= gpus {
			return types.ScoredNode{
				NodeId:          n.Id,
				Region:          n.Region,
				GpuGroup:        uint32(i),
				GpuModel:        g.Model,
				GpuMemoryMib:    g.MemoryMib,
				Gpus:            gpus,
				FreeBefore:      g.Free(),
				BandwidthMbps:   n.BandwidthMbps,
				PricePerGpuHour: n.PricePerGpuHour.Amount,
				ReputationBps:   n.ReputationBps,
			}, nil
		}
		matching = append(matching, fmt.Sprintf("%s:%d MiB %d of %d free", g.Model, g.MemoryMib, g.Free(), g.Count))
	}
	want := spec.GpuModel
	if want == "" {
		want = "any model"
	}
	if len(matching) > 0 {
		return types.ScoredNode{}, fmt.Errorf("node %s: %d GPUs asked but no matching group has that many free (over-commit): %s",
			n.Id, gpus, strings.Join(matching, "; "))
	}
	return types.ScoredNode{}, fmt.Errorf("node %s has no %s GPUs with at least %d MiB", n.Id, want, spec.MinGpuMemoryMib)
}

// buildCandidate reads everything the cost needs for a placement and ring from the current state.
func (v *view) buildCandidate(spec leasetypes.LeaseSpec, placement []leasetypes.Placement, ring []string) (types.Candidate, error) {
	c := types.Candidate{Nodes: make([]types.ScoredNode, 0, len(placement))}
	regionOf := make(map[string]string, len(placement))
	for _, p := range placement {
		n, err := v.Node(p.NodeId)
		if err != nil {
			return c, err
		}
		sn, err := scoredNode(n, spec, p.Gpus)
		if err != nil {
			return c, err
		}
		c.Nodes = append(c.Nodes, sn)
		regionOf[sn.NodeId] = sn.Region
	}
	if len(ring) == 0 {
		ring = make([]string, len(placement))
		for i, p := range placement {
			ring[i] = p.NodeId
		}
	}
	c.RingOrder = slices.Clone(ring)
	for _, id := range ring {
		if _, ok := regionOf[id]; !ok {
			return c, fmt.Errorf("ring_order names %s, which is not in the placement", id)
		}
	}
	links, err := v.RingLinks(regionOf, ring)
	c.Links = links
	return c, err
}

// proposalsOf returns the proposals kept for a lease, in id order.
func (k Keeper) proposalsOf(ctx context.Context, leaseID uint64) ([]types.Proposal, error) {
	if has, err := k.LeasesWithProposals.Has(ctx, leaseID); err != nil || !has {
		return nil, err
	}
	it, err := k.ProposalsByLease.Iterate(ctx, collections.NewPrefixedPairRange[uint64, uint64](leaseID))
	if err != nil {
		return nil, err
	}
	defer func() { _ = it.Close() }()
	var out []types.Proposal
	for ; it.Valid(); it.Next() {
		key, err := it.Key()
		if err != nil {
			return nil, err
		}
		p, err := k.Proposals.Get(ctx, key.K2())
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ProposalsByRank returns a lease's proposals best first (lowest total at submission, then lowest id).
func (k Keeper) ProposalsByRank(ctx context.Context, leaseID uint64) ([]types.Proposal, error) {
	ps, err := k.proposalsOf(ctx, leaseID)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(ps, func(a, b types.Proposal) int {
		if c := a.Total.BigIntMut().Cmp(b.Total.BigIntMut()); c != 0 {
			return c
		}
		return cmp.Compare(a.Id, b.Id)
	})
	return ps, nil
}

// samePlacement says whether two valid placements (no node twice) take the same GPUs on the same nodes, in
// whatever order they list them.
func samePlacement(a, b []leasetypes.Placement) bool {
	if len(a) != len(b) {
		return false
	}
	byNode := func(x, y leasetypes.Placement) int { return strings.Compare(x.NodeId, y.NodeId) }
	a, b = slices.SortedFunc(slices.Values(a), byNode), slices.SortedFunc(slices.Values(b), byNode)
	return slices.EqualFunc(a, b, func(x, y leasetypes.Placement) bool { return x.NodeId == y.NodeId && x.Gpus == y.Gpus })
}

func (k Keeper) removeProposal(ctx context.Context, p types.Proposal) error {
	if err := k.ProposalsByLease.Remove(ctx, collections.Join(p.LeaseId, p.Id)); err != nil {
		return err
	}
	return k.Proposals.Remove(ctx, p.Id)
}

func (k Keeper) discardProposals(ctx context.Context, leaseID uint64) error {
	ps, err := k.proposalsOf(ctx, leaseID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := k.removeProposal(ctx, p); err != nil {
			return err
		}
	}
	if len(ps) == 0 {
		return nil
	}
	return k.LeasesWithProposals.Remove(ctx, leaseID)
}

// canPropose: the agent of an ACTIVE node, or an account whose spendable balance holds min_proposer_bond.
func (k Keeper) canPropose(ctx context.Context, proposer sdk.AccAddress, params types.Params) error {
	it, err := k.Nodes.Indexes.Agent.MatchExact(ctx, proposer)
	if err != nil {
		return err
	}
	ids, err := it.PrimaryKeys()
	if err != nil {
		return err
	}
	for _, id := range ids {
		n, err := k.Nodes.Get(ctx, id)
		if err != nil {
			return err
		}
		if n.Status == types.NODE_STATUS_ACTIVE {
			return nil
		}
	}
	has := k.bk.SpendableCoins(ctx, proposer).AmountOf(params.MinProposerBond.Denom)
	if has.GTE(params.MinProposerBond.Amount) {
		return nil
	}
	return errorsmod.Wrapf(types.ErrNotProposer, "%s is not the agent of an ACTIVE node and holds %s%s, less than min_proposer_bond %s",
		proposer, has, params.MinProposerBond.Denom, params.MinProposerBond)
}

// ProposeAllocation validates a proposal fully against the lease and the current state, charges gas for its
// size, scores it and keeps it if it is among the best max_proposals_per_lease.
func (k Keeper) ProposeAllocation(ctx context.Context, msg *types.MsgProposeAllocation) (uint64, types.ScoreBreakdown, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, types.ScoreBreakdown{}, err
	}
	proposer, err := k.addrCodec.StringToBytes(msg.Proposer)
	if err != nil {
		return 0, types.ScoreBreakdown{}, errorsmod.Wrapf(types.ErrInvalidAddress, "proposer %q: %v", msg.Proposer, err)
	}
	proposerStr, err := k.addrCodec.BytesToString(proposer)
	if err != nil {
		return 0, types.ScoreBreakdown{}, err
	}
	lease, err := k.leases().GetLease(ctx, msg.LeaseId)
	if err != nil {
		return 0, types.ScoreBreakdown{}, err
	}
	if lease.State != leasetypes.LEASE_STATE_PENDING {
		return 0, types.ScoreBreakdown{}, errorsmod.Wrapf(types.ErrLeaseNotPending,
			"lease %d is %s; proposals are only accepted for PENDING leases", lease.Id, lease.State)
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	closes := lease.PendingSince() + int64(params.ProposalWindowBlocks)
	if sdkCtx.BlockHeight() > closes {
		return 0, types.ScoreBreakdown{}, errorsmod.Wrapf(types.ErrProposalWindow,
			"the proposal window of lease %d closed at height %d (now %d); from then on the chain's fallback allocator places it (retried every block until placed or expired)", lease.Id, closes, sdkCtx.BlockHeight())
	}
	if err := k.canPropose(ctx, proposer, params); err != nil {
		return 0, types.ScoreBreakdown{}, err
	}
	if len(msg.Placement) > int(params.MaxPlacementNodes) {
		return 0, types.ScoreBreakdown{}, errorsmod.Wrapf(types.ErrInvalidProposal,
			"placement has %d nodes; at most max_placement_nodes %d", len(msg.Placement), params.MaxPlacementNodes)
	}
	// Validation reads every node and ring link: charge for it before doing it.
	sdkCtx.GasMeter().ConsumeGas(params.GasPerPlacementEntry*uint64(len(msg.Placement)+len(msg.RingOrder)), "allocation proposal validation")

	v := k.newView(ctx)
	c, err := v.buildCandidate(lease.Spec, msg.Placement, msg.RingOrder)
	if err != nil {
		return 0, types.ScoreBreakdown{}, errorsmod.Wrapf(types.ErrInvalidProposal, "lease %d: %v", lease.Id, err)
	}
	score, err := types.ScoreCandidate(lease.Spec, lease.BlocksPerHour, params.Weights, c, params.MaxPlacementNodes)
	if err != nil {
		return 0, types.ScoreBreakdown{}, errorsmod.Wrapf(types.ErrInvalidProposal, "lease %d: %v", lease.Id, err)
	}

	kept, err := k.ProposalsByRank(ctx, lease.Id)
	if err != nil {
		return 0, types.ScoreBreakdown{}, err
	}
	var evicted uint64
	// The same placement twice (agents running the same policy on the same chain state, in the same block)
	// adds nothing but a filled slot: the kept one is refused unless the new one is cheaper on the same
	// nodes (a better ring order), which then replaces it.
	if i := slices.IndexFunc(kept, func(r types.Proposal) bool { return samePlacement(r.Placement, msg.Placement) }); i >= 0 {
		same := kept[i]
		if !score.Total.LT(same.Total) {
			return 0, types.ScoreBreakdown{}, errorsmod.Wrapf(types.ErrDuplicateProposal,
				"proposal %d by %s already places lease %d on these nodes and GPUs at cost %s, and this one costs %s; "+
					"propose other nodes, or the same nodes in a ring order that costs less",
				same.Id, same.Proposer, lease.Id, same.Total, score.Total)
		}
		if err := k.removeProposal(ctx, same); err != nil {
			return 0, types.ScoreBreakdown{}, err
		}
		evicted = same.Id
		kept = slices.Delete(kept, i, i+1)
	}
	if len(kept) >= int(params.MaxProposalsPerLease) {
		worst := kept[len(kept)-1]
		if !score.Total.LT(worst.Total) {
			return 0, types.ScoreBreakdown{}, errorsmod.Wrapf(types.ErrProposalNotBetter,
				"cost %s is not below the worst of the %d kept proposals for lease %d (%s); propose a cheaper placement",
				score.Total, len(kept), lease.Id, worst.Total)
		}
		if err := k.removeProposal(ctx, worst); err != nil {
			return 0, types.ScoreBreakdown{}, err
		}
		evicted = worst.Id
	}
	id, err := k.ProposalSeq.Next(ctx)
	if err == nil && id == 0 { // ids start at 1; a store without genesis starts the sequence at 0
		id, err = k.ProposalSeq.Next(ctx)
	}
	if err != nil {
		return 0, types.ScoreBreakdown{}, err
	}
	p := types.Proposal{
		Id:        id,
		LeaseId:   lease.Id,
		Proposer:  proposerStr,
		Placement: slices.Clone(msg.Placement),
		RingOrder: slices.Clone(c.RingOrder),
		Height:    sdkCtx.BlockHeight(),
		Total:     score.Total,
	}
	if err := k.Proposals.Set(ctx, id, p); err != nil {
		return 0, types.ScoreBreakdown{}, err
	}
	if err := k.ProposalsByLease.Set(ctx, collections.Join(lease.Id, id)); err != nil {
		return 0, types.ScoreBreakdown{}, err
	}
	if err := k.LeasesWithProposals.Set(ctx, lease.Id); err != nil {
		return 0, types.ScoreBreakdown{}, err
	}
	return id, score, sdkCtx.EventManager().EmitTypedEvent(&types.EventAllocationProposed{
		ProposalId: id, LeaseId: lease.Id, Proposer: proposerStr, Score: score, EvictedProposalId: evicted,
	})
}
