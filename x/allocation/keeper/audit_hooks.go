package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// Methods x/audit calls: it scores nodes' telemetry and owns how reputation moves; x/allocation stores the
// reputation on the node, where the allocation scorer reads it.

// SetNodeReputation sets a node's reputation_bps (0..MaxReputationBps). It writes the node only when the
// value changes. x/audit emits the event that says why it changed.
func (k Keeper) SetNodeReputation(ctx context.Context, nodeID string, bps uint32) error {
	if bps > types.MaxReputationBps {
		return errorsmod.Wrapf(types.ErrInvalidParams, "reputation %d bps for node %s: want 0..%d", bps, nodeID, types.MaxReputationBps)
	}
	n, err := k.GetNode(ctx, nodeID)
	if err != nil {
		return err
	}
	if n.ReputationBps == bps {
		return nil
	}
	n.ReputationBps = bps
	return k.Nodes.Set(ctx, nodeID, n)
}

// SlashAndJail is how x/audit punishes a node for too many faults: it takes bps basis points of the node's
// stake (rounded down) out of the allocation module account into recipientModule, which decides where it
// goes, and jails the node until jailedUntil: a JAILED node is out of the capacity index, so it gets no new
// allocations, and proposals naming it are refused. Only an ACTIVE node can be slashed. It returns the stake
// taken and the stake left. The caller closes the node's leases (their GPUs are released as each closes).
func (k Keeper) SlashAndJail(ctx context.Context, nodeID string, bps uint32, jailedUntil int64, recipientModule string) (sdk.Coin, sdk.Coin, error) {
	if bps > types.MaxReputationBps {
		return sdk.Coin{}, sdk.Coin{}, errorsmod.Wrapf(types.ErrInvalidParams, "slash of %d bps: want 0..10000", bps)
	}
	n, err := k.GetNode(ctx, nodeID)
	if err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	if n.Status != types.NODE_STATUS_ACTIVE {
		return sdk.Coin{}, sdk.Coin{}, errorsmod.Wrapf(types.ErrNodeNotActive, "node %s is %s; only an ACTIVE node is slashed and jailed", n.Id, n.Status)
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	if jailedUntil <= height {
		return sdk.Coin{}, sdk.Coin{}, errorsmod.Wrapf(types.ErrInvalidParams, "jail of node %s until height %d: want a height after %d", n.Id, jailedUntil, height)
	}
	slashed, err := k.takeStake(ctx, &n, bps, recipientModule)
	if err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	n.Status = types.NODE_STATUS_JAILED
	n.JailedUntilHeight = jailedUntil
	if err := k.Nodes.Set(ctx, n.Id, n); err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	k.logger.Info("node slashed and jailed", "node", n.Id, "slashed", slashed.String(), "stake", n.Stake.String(), "jailed_until", jailedUntil)
	return slashed, n.Stake, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventNodeJailed{
		NodeId: n.Id, Operator: n.Operator, Slashed: slashed, Stake: n.Stake, JailedUntilHeight: jailedUntil,
	})
}

// SlashStake takes bps basis points of a node's stake (rounded down) into recipientModule without jailing it:
// x/audit's penalty for telemetry a challenge proved false. A node in any status with stake is slashed (an
// unbonding node's stake is still held). It returns the stake taken and the stake left.
func (k Keeper) SlashStake(ctx context.Context, nodeID string, bps uint32, recipientModule string) (sdk.Coin, sdk.Coin, error) {
	if bps > types.MaxReputationBps {
		return sdk.Coin{}, sdk.Coin{}, errorsmod.Wrapf(types.ErrInvalidParams, "slash of %d bps: want 0..10000", bps)
	}
	n, err := k.GetNode(ctx, nodeID)
	if err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	slashed, err := k.takeStake(ctx, &n, bps, recipientModule)
	if err != nil || !slashed.IsPositive() {
		return slashed, n.Stake, err
	}
	if err := k.Nodes.Set(ctx, n.Id, n); err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	return slashed, n.Stake, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventStakeSlashed{
		NodeId: n.Id, Operator: n.Operator, Slashed: slashed, Stake: n.Stake,
	})
}

// takeStake moves floor(stake × bps / 10000) of n's stake from the module account to recipientModule and
// lowers n.Stake (the caller stores n). It returns what it took.
func (k Keeper) takeStake(ctx context.Context, n *types.Node, bps uint32, recipientModule string) (sdk.Coin, error) {
	slashed := sdk.NewCoin(n.Stake.Denom, n.Stake.Amount.MulRaw(int64(bps)).QuoRaw(int64(types.MaxReputationBps)))
	if !slashed.IsPositive() {
		return slashed, nil
	}
	if err := k.bk.SendCoinsFromModuleToModule(ctx, types.ModuleName, recipientModule, sdk.NewCoins(slashed)); err != nil {
		return sdk.Coin{}, errorsmod.Wrapf(err, "slash %s of node %s", slashed, n.Id)
	}
	n.Stake = n.Stake.Sub(slashed)
	return slashed, nil
}

// WalkRegionNodes calls fn for the nodes of a region in id order, starting at the first id >= from, until fn
// stops; it reads the region index and each node it visits.
func (k Keeper) WalkRegionNodes(ctx context.Context, region, from string, fn func(types.Node) (stop bool, err error)) error {
	rng := collections.NewPrefixedPairRange[string, string](region).StartInclusive(from)
	return k.Nodes.Indexes.Region.Walk(ctx, rng, func(_ string, id string) (bool, error) {
		n, err := k.Nodes.Get(ctx, id)
		if err != nil {
			return true, err
		}
		return fn(n)
	})
}

// UnjailNode returns a JAILED node to ACTIVE for its operator, from its jailed_until_height on and only with
// its stake back at min_stake_per_gpu × its GPUs.
func (k Keeper) UnjailNode(ctx context.Context, msg *types.MsgUnjailNode) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	n, err := k.operatorNode(ctx, msg.Operator, msg.NodeId)
	if err != nil {
		return err
	}
	if n.Status != types.NODE_STATUS_JAILED {
		return errorsmod.Wrapf(types.ErrNodeNotJailed, "node %s is %s; only a JAILED node can be unjailed", n.Id, n.Status)
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	if height < n.JailedUntilHeight {
		return errorsmod.Wrapf(types.ErrStillJailed, "node %s is jailed until height %d (%d blocks from now); unjail it then",
			n.Id, n.JailedUntilHeight, n.JailedUntilHeight-height)
	}
	if minStake := params.MinStake(n.TotalGPUs()); n.Stake.IsLT(minStake) {
		return errorsmod.Wrapf(types.ErrInsufficientStake, "node %s has %s staked, below the minimum %s for its %d GPUs; add %s first (nrod tx allocation add-stake %s %s)",
			n.Id, n.Stake, minStake, n.TotalGPUs(), minStake.Sub(n.Stake), n.Id, minStake.Sub(n.Stake))
	}
	n.Status = types.NODE_STATUS_ACTIVE
	n.JailedUntilHeight = 0
	if err := k.Nodes.Set(ctx, n.Id, n); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventNodeUnjailed{NodeId: n.Id, Operator: n.Operator})
}
