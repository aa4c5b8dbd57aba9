package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// InitGenesis stores params and nodes, rebuilds the unbonding queue, and checks that the module account
// holds exactly the sum of the stakes (bank's genesis runs first).
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(k.addrCodec); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, n := range gs.Nodes {
		if err := k.Nodes.Set(ctx, n.Id, n); err != nil {
			return err
		}
		if n.Status == types.NODE_STATUS_UNBONDING {
			if err := k.UnbondingQueue.Set(ctx, collections.Join(n.ReleaseHeight, n.Id)); err != nil {
				return err
			}
		}
	}
	for _, l := range gs.RegionLinks {
		if err := k.RegionLinks.Set(ctx, collections.Join(l.RegionA, l.RegionB), l); err != nil {
			return err
		}
	}
	for _, p := range gs.Pending {
		if err := k.enqueue(ctx, p.LeaseId, p.DueHeight); err != nil {
			return err
		}
	}
	for _, p := range gs.Proposals {
		if err := k.Proposals.Set(ctx, p.Id, p); err != nil {
			return err
		}
		if err := k.ProposalsByLease.Set(ctx, collections.Join(p.LeaseId, p.Id)); err != nil {
			return err
		}
		if err := k.LeasesWithProposals.Set(ctx, p.LeaseId); err != nil {
			return err
		}
	}
	if err := k.ProposalSeq.Set(ctx, max(gs.NextProposalId, 1)); err != nil {
		return err
	}
	if err := k.CheckStakeInvariant(ctx); err != nil {
		return fmt.Errorf("x/allocation genesis: %w; fund the %s module account in bank genesis with the sum of node stakes", err, types.ModuleName)
	}
	return nil
}

// ExportGenesis exports params, every node in id order, the region link table, the allocation queue and the
// kept proposals.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	err = k.Nodes.Walk(ctx, nil, func(_ string, n types.Node) (bool, error) {
		gs.Nodes = append(gs.Nodes, n)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.RegionLinks.Walk(ctx, nil, func(_ collections.Pair[string, string], l types.RegionLink) (bool, error) {
		gs.RegionLinks = append(gs.RegionLinks, l)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.PendingDue.Walk(ctx, nil, func(id uint64, due int64) (bool, error) {
		gs.Pending = append(gs.Pending, types.PendingAllocation{LeaseId: id, DueHeight: due})
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Proposals.Walk(ctx, nil, func(_ uint64, p types.Proposal) (bool, error) {
		gs.Proposals = append(gs.Proposals, p)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	next, err := k.ProposalSeq.Peek(ctx)
	gs.NextProposalId = max(next, 1)
	return gs, err
}

// CheckStakeInvariant returns an error unless the module account balance in the stake denom equals the sum of
// every node's stake, and no node reserves more GPUs than it has. Tests and simulations run it after every
// change.
func (k Keeper) CheckStakeInvariant(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	sum := math.ZeroInt()
	err = k.Nodes.Walk(ctx, nil, func(id string, n types.Node) (bool, error) {
		if n.Stake.Denom != params.Denom() {
			return true, fmt.Errorf("node %s: stake denom %s differs from %s", id, n.Stake.Denom, params.Denom())
		}
		var reserved uint32
		for i, g := range n.Gpus {
			if g.Reserved > g.Count {
				return true, fmt.Errorf("node %s: group %d reserves %d of its %d GPUs", id, i, g.Reserved, g.Count)
			}
			reserved += g.Reserved
		}
		if n.ReservedGpus != reserved {
			return true, fmt.Errorf("node %s: reserved_gpus %d differs from the %d its groups reserve", id, n.ReservedGpus, reserved)
		}
		sum = sum.Add(n.Stake.Amount)
		return false, nil
	})
	if err != nil {
		return err
	}
	balance := k.bk.GetBalance(ctx, k.ModuleAddress(), params.Denom())
	if !balance.Amount.Equal(sum) {
		return fmt.Errorf("stake invariant broken: module account holds %s but node stakes sum to %s%s", balance, sum, params.Denom())
	}
	return nil
}
