package simulation

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// maxNodesScanned bounds how many nodes a factory looks at to pick one.
const maxNodesScanned = 64

// MsgRegisterNodeFactory registers a node with random real GPU groups, region and price, staking between the
// minimum and twice the minimum.
func MsgRegisterNodeFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgRegisterNode] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRegisterNode) {
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		r := testData.Rand()
		gpus := randomGPUs(r.Rand)
		var total uint32
		for _, g := range gpus {
			total += g.Count
		}
		minStake := params.MinStake(total)
		extra, _ := r.PositiveSDKIntn(minStake.Amount)
		stake := sdk.NewCoin(params.Denom(), minStake.Amount.Add(extra))
		operator := testData.AnyAccount(reporter, simsx.WithLiquidBalanceGTE(stake))
		agent := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil
		}
		nodeID := fmt.Sprintf("node-%d", r.Uint64InRange(0, 1<<40))
		if taken, err := k.Nodes.Has(ctx, nodeID); err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		} else if taken {
			reporter.Skip("random node id is taken")
			return nil, nil
		}
		// Reserve the stake so that the random tx fees are drawn from the rest of the balance.
		if !operator.LiquidBalance().BlockAmount(stake) {
			reporter.Skip("operator balance does not cover the stake")
			return nil, nil
		}
		return []simsx.SimAccount{operator}, &types.MsgRegisterNode{
			Operator:        operator.AddressBech32,
			NodeId:          nodeID,
			Agent:           agent.AddressBech32,
			Region:          params.Regions[r.Intn(len(params.Regions))],
			Gpus:            gpus,
			BandwidthMbps:   r.Uint64InRange(1_000, 100_000),
			PricePerGpuHour: sdk.NewCoin(params.Denom(), math.NewInt(int64(r.IntInRange(100_000, 5_000_000)))),
			Stake:           stake,
		}
	}
}

// MsgUpdateNodeFactory changes the price and bandwidth of a random active node.
func MsgUpdateNodeFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgUpdateNode] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateNode) {
		node, operator := randomNode(ctx, k, testData, reporter, types.NODE_STATUS_ACTIVE)
		if reporter.IsSkipped() {
			return nil, nil
		}
		r := testData.Rand()
		price := sdk.NewCoin(node.PricePerGpuHour.Denom, math.NewInt(int64(r.IntInRange(100_000, 5_000_000))))
		return []simsx.SimAccount{operator}, &types.MsgUpdateNode{
			Operator:        node.Operator,
			NodeId:          node.Id,
			PricePerGpuHour: &price,
			BandwidthMbps:   r.Uint64InRange(1_000, 100_000),
		}
	}
}

// MsgAddStakeFactory adds a random amount of stake to a random active node.
func MsgAddStakeFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgAddStake] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgAddStake) {
		node, operator := randomNode(ctx, k, testData, reporter, types.NODE_STATUS_ACTIVE)
		if reporter.IsSkipped() {
			return nil, nil
		}
		amount := operator.LiquidBalance().RandSubsetCoin(reporter, node.Stake.Denom)
		if reporter.IsSkipped() {
			return nil, nil
		}
		return []simsx.SimAccount{operator}, &types.MsgAddStake{Operator: node.Operator, NodeId: node.Id, Amount: amount}
	}
}

// MsgDeregisterNodeFactory deregisters a random active node.
func MsgDeregisterNodeFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgDeregisterNode] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgDeregisterNode) {
		node, operator := randomNode(ctx, k, testData, reporter, types.NODE_STATUS_ACTIVE)
		if reporter.IsSkipped() {
			return nil, nil
		}
		if node.ReservedGpus > 0 {
			reporter.Skip("node has GPUs reserved by active leases")
			return nil, nil
		}
		return []simsx.SimAccount{operator}, &types.MsgDeregisterNode{Operator: node.Operator, NodeId: node.Id}
	}
}

// MsgUnjailNodeFactory unjails a random JAILED node whose jail time is over and whose stake is at the minimum
// (a slash of a node staked at exactly the minimum leaves it below; its operator tops up first on a real
// chain, and the simulation skips it).
func MsgUnjailNodeFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgUnjailNode] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUnjailNode) {
		node, operator := randomNode(ctx, k, testData, reporter, types.NODE_STATUS_JAILED)
		if reporter.IsSkipped() {
			return nil, nil
		}
		if sdk.UnwrapSDKContext(ctx).BlockHeight() < node.JailedUntilHeight {
			reporter.Skip("node is still jailed")
			return nil, nil
		}
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		if node.Stake.IsLT(params.MinStake(node.TotalGPUs())) {
			reporter.Skip("jailed node's stake is below the minimum")
			return nil, nil
		}
		return []simsx.SimAccount{operator}, &types.MsgUnjailNode{Operator: node.Operator, NodeId: node.Id}
	}
}

// MsgUpdateParamsFactory proposes new random params through governance.
func MsgUpdateParamsFactory() simsx.SimMsgFactoryFn[*types.MsgUpdateParams] {
	return func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateParams) {
		r := testData.Rand()
		params := types.DefaultParams()
		params.MinStakePerGpu = sdk.NewCoin(sdk.DefaultBondDenom, math.NewInt(int64(r.IntInRange(1_000, 100_000))))
		params.UnbondingBlocks = r.Uint64InRange(1, 20)
		params.MaxReleasesPerBlock = r.Uint32InRange(1, 5)
		return nil, &types.MsgUpdateParams{
			Authority: testData.ModuleAccountAddress(reporter, "gov"),
			Params:    params,
		}
	}
}

// firstNodeIDs returns the ids of the first maxNodesScanned nodes in a status, in id order.
func firstNodeIDs(ctx context.Context, k keeper.Keeper, status types.NodeStatus) ([]string, error) {
	iter, err := k.Nodes.Indexes.Status.MatchExact(ctx, int32(status))
	if err != nil {
		return nil, err
	}
	defer func() { _ = iter.Close() }()
	var ids []string
	for ; iter.Valid() && len(ids) < maxNodesScanned; iter.Next() {
		id, err := iter.PrimaryKey()
		if err != nil {
			break
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// randomNode picks one of the first nodes in a status (by id order) whose operator is a simulation account.
func randomNode(
	ctx context.Context, k keeper.Keeper, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter, status types.NodeStatus,
) (types.Node, simsx.SimAccount) {
	ids, err := firstNodeIDs(ctx, k, status)
	if err != nil {
		reporter.Skip(err.Error())
		return types.Node{}, simsx.SimAccount{}
	}
	if len(ids) == 0 {
		reporter.Skip(fmt.Sprintf("no %s node", status))
		return types.Node{}, simsx.SimAccount{}
	}
	node, err := k.Nodes.Get(ctx, ids[testData.Rand().Intn(len(ids))])
	if err != nil {
		reporter.Skip(err.Error())
		return types.Node{}, simsx.SimAccount{}
	}
	if !testData.HasAccount(node.Operator) {
		reporter.Skip("operator is not a simulation account")
		return types.Node{}, simsx.SimAccount{}
	}
	return node, testData.GetAccount(reporter, node.Operator)
}

// MsgProposeAllocationFactory proposes, for a lease whose proposal window is open, the placement the chain's
// fallback allocator would choose now, from an account holding the proposer bond. Another proposal of the
// same cost delivered earlier in the block fills the last slot first, or one of the same placement is kept
// already (the fallback's choice changes only as the fleet does): those refusals (ErrProposalNotBetter,
// ErrDuplicateProposal) are the expected outcomes of the race, not failures.
func MsgProposeAllocationFactory(k keeper.Keeper) *simsx.ResultHandlingSimMsgFactory[*types.MsgProposeAllocation] {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgProposeAllocation, simsx.SimDeliveryResultHandler) {
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		lease, placement, ring, err := k.OpenLeasePlacement(ctx, maxNodesScanned)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		proposer := testData.AnyAccount(reporter, simsx.WithLiquidBalanceGTE(params.MinProposerBond))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		// The bond must still be there when the tx is delivered: keep fees from drawing it down.
		if !proposer.LiquidBalance().BlockAmount(params.MinProposerBond) {
			reporter.Skip("proposer balance does not cover the bond")
			return nil, nil, nil
		}
		expectRace := func(err error) error {
			if errors.Is(err, types.ErrProposalNotBetter) || errors.Is(err, types.ErrDuplicateProposal) {
				return nil
			}
			return err
		}
		return []simsx.SimAccount{proposer}, &types.MsgProposeAllocation{
			Proposer: proposer.AddressBech32, LeaseId: lease, Placement: placement, RingOrder: ring,
		}, expectRace
	})
}
