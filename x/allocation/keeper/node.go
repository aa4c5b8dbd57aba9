package keeper

import (
	"context"
	"slices"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/internal/collx"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// RegisterNode validates a registration fully before touching state, moves the stake from the operator into
// the module account, and stores the node as ACTIVE.
func (k Keeper) RegisterNode(ctx context.Context, msg *types.MsgRegisterNode) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	operator, err := k.addrCodec.StringToBytes(msg.Operator)
	if err != nil {
		return errorsmod.Wrapf(types.ErrInvalidAddress, "operator %q: %v", msg.Operator, err)
	}
	operatorStr, err := k.addrCodec.BytesToString(operator) // canonical form, as stored
	if err != nil {
		return err
	}
	agent, err := k.canonicalAddress(msg.Agent)
	if err != nil {
		return errorsmod.Wrapf(types.ErrInvalidAddress, "agent %q: want the bech32 nro1... account of the node's agent: %v", msg.Agent, err)
	}
	if err := types.ValidateNodeID(msg.NodeId); err != nil {
		return err
	}
	if msg.EthAddress != "" {
		if err := types.ValidateEthAddress(msg.EthAddress); err != nil {
			return errorsmod.Wrap(types.ErrInvalidEthAddress, err.Error())
		}
	}
	if !params.HasRegion(msg.Region) {
		return params.RegionError(msg.Region)
	}
	total, err := types.ValidateGPUs(msg.Gpus)
	if err != nil {
		return err
	}
	if err := types.ValidateBandwidth(msg.BandwidthMbps); err != nil {
		return err
	}
	if err := types.ValidatePrice(msg.PricePerGpuHour, params.Denom()); err != nil {
		return err
	}
	if err := k.validateStakeCoin("stake", msg.Stake, params); err != nil {
		return err
	}
	if minStake := params.MinStake(total); msg.Stake.IsLT(minStake) {
		return errorsmod.Wrapf(types.ErrInsufficientStake, "stake %s is below the minimum %s for %d GPUs (%s per GPU)",
			msg.Stake, minStake, total, params.MinStakePerGpu)
	}
	if has, err := k.Nodes.Has(ctx, msg.NodeId); err != nil {
		return err
	} else if has {
		return errorsmod.Wrapf(types.ErrNodeExists, "node id %q is taken; choose another id", msg.NodeId)
	}

	if err := k.bk.SendCoinsFromAccountToModule(ctx, operator, types.ModuleName, sdk.NewCoins(msg.Stake)); err != nil {
		return errorsmod.Wrapf(err, "escrow stake %s from %s", msg.Stake, msg.Operator)
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	node := types.Node{
		Id:               msg.NodeId,
		Operator:         operatorStr,
		Agent:            agent,
		EthAddress:       msg.EthAddress,
		Region:           msg.Region,
		Gpus:             slices.Clone(msg.Gpus),
		BandwidthMbps:    msg.BandwidthMbps,
		PricePerGpuHour:  msg.PricePerGpuHour,
		Stake:            msg.Stake,
		Status:           types.NODE_STATUS_ACTIVE,
		ReputationBps:    types.NeutralReputationBps,
		RegisteredHeight: sdkCtx.BlockHeight(),
	}
	if err := k.Nodes.Set(ctx, node.Id, node); err != nil {
		return err
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventNodeRegistered{
		NodeId:          node.Id,
		Operator:        node.Operator,
		Agent:           node.Agent,
		Region:          node.Region,
		GpuCount:        total,
		Stake:           node.Stake,
		PricePerGpuHour: node.PricePerGpuHour,
	})
}

// UpdateNode changes price, bandwidth, agent or payout address of an active node; operator only.
func (k Keeper) UpdateNode(ctx context.Context, msg *types.MsgUpdateNode) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	node, err := k.operatorNode(ctx, msg.Operator, msg.NodeId)
	if err != nil {
		return err
	}
	if node.Status != types.NODE_STATUS_ACTIVE {
		return errorsmod.Wrapf(types.ErrNodeNotActive, "node %s is %s; only ACTIVE nodes can be updated", node.Id, node.Status)
	}
	var changed []string
	if msg.PricePerGpuHour != nil {
		if err := types.ValidatePrice(*msg.PricePerGpuHour, params.Denom()); err != nil {
			return err
		}
		if !msg.PricePerGpuHour.Equal(node.PricePerGpuHour) {
			node.PricePerGpuHour = *msg.PricePerGpuHour
			changed = append(changed, "price_per_gpu_hour")
		}
	}
	if msg.BandwidthMbps != 0 {
		if err := types.ValidateBandwidth(msg.BandwidthMbps); err != nil {
			return err
		}
		if msg.BandwidthMbps != node.BandwidthMbps {
			node.BandwidthMbps = msg.BandwidthMbps
			changed = append(changed, "bandwidth_mbps")
		}
	}
	if msg.Agent != "" {
		agent, err := k.canonicalAddress(msg.Agent)
		if err != nil {
			return errorsmod.Wrapf(types.ErrInvalidAddress, "agent %q: %v", msg.Agent, err)
		}
		if agent != node.Agent {
			node.Agent = agent
			changed = append(changed, "agent")
		}
	}
	if msg.EthAddress != "" && msg.ClearEthAddress {
		return errorsmod.Wrap(types.ErrInvalidEthAddress, "set either eth_address or clear_eth_address, not both")
	}
	if msg.EthAddress != "" {
		if err := types.ValidateEthAddress(msg.EthAddress); err != nil {
			return errorsmod.Wrap(types.ErrInvalidEthAddress, err.Error())
		}
		if msg.EthAddress != node.EthAddress {
			node.EthAddress = msg.EthAddress
			changed = append(changed, "eth_address")
		}
	}
	if msg.ClearEthAddress && node.EthAddress != "" {
		node.EthAddress = ""
		changed = append(changed, "eth_address")
	}
	if len(changed) == 0 {
		return errorsmod.Wrap(types.ErrEmptyUpdate,
			"set at least one of price_per_gpu_hour, bandwidth_mbps, agent, eth_address or clear_eth_address to a new value")
	}
	if err := k.Nodes.Set(ctx, node.Id, node); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventNodeUpdated{
		NodeId: node.Id, Operator: node.Operator, Changed: changed, Node: node,
	})
}

// AddStake adds stake to an ACTIVE or JAILED node (a jailed node needs stake back above the minimum).
func (k Keeper) AddStake(ctx context.Context, msg *types.MsgAddStake) (sdk.Coin, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return sdk.Coin{}, err
	}
	node, err := k.operatorNode(ctx, msg.Operator, msg.NodeId)
	if err != nil {
		return sdk.Coin{}, err
	}
	if node.Status == types.NODE_STATUS_UNBONDING {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrNodeNotActive, "node %s is UNBONDING; register a new node instead", node.Id)
	}
	if err := k.validateStakeCoin("amount", msg.Amount, params); err != nil {
		return sdk.Coin{}, err
	}
	operator, _ := k.addrCodec.StringToBytes(msg.Operator) // checked by operatorNode
	if err := k.bk.SendCoinsFromAccountToModule(ctx, operator, types.ModuleName, sdk.NewCoins(msg.Amount)); err != nil {
		return sdk.Coin{}, errorsmod.Wrapf(err, "escrow stake %s from %s", msg.Amount, msg.Operator)
	}
	node.Stake = node.Stake.Add(msg.Amount)
	if err := k.Nodes.Set(ctx, node.Id, node); err != nil {
		return sdk.Coin{}, err
	}
	return node.Stake, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventStakeAdded{
		NodeId: node.Id, Operator: node.Operator, Amount: msg.Amount, TotalStake: node.Stake,
	})
}

// DeregisterNode starts unbonding: the node takes no new work and its stake returns at the release height.
// It is refused while leases hold GPUs on the node.
func (k Keeper) DeregisterNode(ctx context.Context, msg *types.MsgDeregisterNode) (int64, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	node, err := k.operatorNode(ctx, msg.Operator, msg.NodeId)
	if err != nil {
		return 0, err
	}
	if node.Status == types.NODE_STATUS_UNBONDING {
		return 0, errorsmod.Wrapf(types.ErrNodeNotActive, "node %s is already UNBONDING; its stake returns at height %d", node.Id, node.ReleaseHeight)
	}
	if node.ReservedGpus > 0 {
		return 0, errorsmod.Wrapf(types.ErrNodeHasReservations, "node %s has %d GPUs reserved by active leases; deregister after they end", node.Id, node.ReservedGpus)
	}
	release := sdk.UnwrapSDKContext(ctx).BlockHeight() + int64(params.UnbondingBlocks)
	node.Status = types.NODE_STATUS_UNBONDING
	node.ReleaseHeight = release
	node.JailedUntilHeight = 0 // a jailed node may leave; its slash has been taken
	if err := k.Nodes.Set(ctx, node.Id, node); err != nil {
		return 0, err
	}
	if err := k.UnbondingQueue.Set(ctx, collections.Join(release, node.Id)); err != nil {
		return 0, err
	}
	return release, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventNodeDeregistered{
		NodeId: node.Id, Operator: node.Operator, ReleaseHeight: release,
	})
}

// ReleaseMatured returns the stake of nodes whose release height has been reached and removes them, oldest
// first, at most max_releases_per_block per call; the rest wait for the next block. It runs in EndBlock.
func (k Keeper) ReleaseMatured(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	rng := new(collections.Range[collections.Pair[int64, string]]).
		EndExclusive(collections.Join(height+1, ""))
	iter, err := k.UnbondingQueue.Iterate(ctx, rng)
	if err != nil {
		return err
	}
	due, err := collx.TakeKeys[collections.Pair[int64, string]](iter, int(params.MaxReleasesPerBlock))
	if err != nil {
		return err
	}
	for _, key := range due {
		if err := k.release(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

func (k Keeper) release(ctx context.Context, key collections.Pair[int64, string]) error {
	if err := k.UnbondingQueue.Remove(ctx, key); err != nil {
		return err
	}
	node, err := k.Nodes.Get(ctx, key.K2())
	if err != nil {
		return errorsmod.Wrapf(err, "unbonding queue entry for missing node %s", key.K2())
	}
	operator, err := k.addrCodec.StringToBytes(node.Operator)
	if err != nil {
		return err
	}
	if node.Stake.IsPositive() {
		if err := k.bk.SendCoinsFromModuleToAccount(ctx, types.ModuleName, operator, sdk.NewCoins(node.Stake)); err != nil {
			return errorsmod.Wrapf(err, "return stake of node %s", node.Id)
		}
	}
	if err := k.Nodes.Remove(ctx, node.Id); err != nil {
		return err
	}
	k.logger.Info("stake released", "node", node.Id, "operator", node.Operator, "amount", node.Stake.String())
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventStakeReleased{
		NodeId: node.Id, Operator: node.Operator, Amount: node.Stake,
	})
}

// canonicalAddress returns the canonical (lower-case) bech32 form of an account address, so that stored
// addresses compare equal whatever case the message used.
func (k Keeper) canonicalAddress(addr string) (string, error) {
	bz, err := k.addrCodec.StringToBytes(addr)
	if err != nil {
		return "", err
	}
	return k.addrCodec.BytesToString(bz)
}

// operatorNode loads a node and checks that signer is its operator.
func (k Keeper) operatorNode(ctx context.Context, signer, nodeID string) (types.Node, error) {
	canonicalSigner, err := k.canonicalAddress(signer)
	if err != nil {
		return types.Node{}, errorsmod.Wrapf(types.ErrInvalidAddress, "operator %q: %v", signer, err)
	}
	if err := types.ValidateNodeID(nodeID); err != nil {
		return types.Node{}, err
	}
	node, err := k.GetNode(ctx, nodeID)
	if err != nil {
		return types.Node{}, err
	}
	if node.Operator != canonicalSigner {
		return types.Node{}, errorsmod.Wrapf(types.ErrNotOperator, "node %s is operated by %s, not %s", node.Id, node.Operator, signer)
	}
	return node, nil
}

// validateStakeCoin checks a stake amount; field is the message field that holds it, for the error.
func (k Keeper) validateStakeCoin(field string, c sdk.Coin, params types.Params) error {
	if err := c.Validate(); err != nil {
		return errorsmod.Wrapf(types.ErrInvalidStake, "%s %s: %v", field, c, err)
	}
	if c.Denom != params.Denom() {
		return errorsmod.Wrapf(types.ErrInvalidStake, "%s denom %q: stake is in %s", field, c.Denom, params.Denom())
	}
	if !c.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidStake, "%s must be positive", field)
	}
	return nil
}

// UpdateParams replaces the params; only the authority may do it.
func (k Keeper) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) error {
	if msg.Authority != k.authority {
		return errorsmod.Wrapf(types.ErrInvalidAuthority, "expected %s (the gov module account), got %s", k.authority, msg.Authority)
	}
	if err := msg.Params.Validate(); err != nil {
		return err
	}
	if err := k.checkParamsKeepNodesValid(ctx, msg.Params); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, msg.Params); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventParamsUpdated{
		Authority: msg.Authority, Params: msg.Params,
	})
}

// checkParamsKeepNodesValid refuses params that registered nodes would violate: a different stake denom
// while any node holds stake (the escrow could no longer be accounted for), or dropping a region that still
// has nodes. A higher min_stake_per_gpu is allowed: it applies to new registrations, and existing nodes keep
// their stake (x/audit requires the new minimum to unjail).
func (k Keeper) checkParamsKeepNodesValid(ctx context.Context, next types.Params) error {
	current, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if next.Denom() != current.Denom() {
		iter, err := k.Nodes.Iterate(ctx, nil)
		hasNodes, err := nonEmpty(iter, err)
		if err != nil {
			return err
		}
		if hasNodes {
			return errorsmod.Wrapf(types.ErrInvalidParams,
				"min_stake_per_gpu denom %q: nodes hold stake in %s; the stake denom cannot change while nodes are registered",
				next.Denom(), current.Denom())
		}
	}
	for _, region := range current.Regions {
		if next.HasRegion(region) {
			continue
		}
		iter, err := k.Nodes.Indexes.Region.MatchExact(ctx, region)
		occupied, err := nonEmpty(iter, err)
		if err != nil {
			return err
		}
		if occupied {
			return errorsmod.Wrapf(types.ErrInvalidParams,
				"regions: %q still has registered nodes; keep it until they deregister", region)
		}
	}
	return nil
}

// nonEmpty reports whether a freshly opened iterator has an entry, and closes it.
func nonEmpty(iter interface {
	Valid() bool
	Close() error
}, openErr error,
) (bool, error) {
	if openErr != nil {
		return false, openErr
	}
	valid := iter.Valid()
	return valid, iter.Close()
}
