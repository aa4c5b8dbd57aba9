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
	if err := k.CheckStakeInvariant(ctx); err != nil {
		return fmt.Errorf("x/allocation genesis: %w; fund the %s module account in bank genesis with the sum of node stakes", err, types.ModuleName)
	}
	return nil
}

// ExportGenesis exports params and every node in id order.
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
		if n.ReservedGpus > n.TotalGPUs() {
			return true, fmt.Errorf("node %s: reserved_gpus %d exceeds its %d GPUs", id, n.ReservedGpus, n.TotalGPUs())
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
