package simulation

import (
	"context"
	"crypto/sha256"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	"github.com/ethereum/go-ethereum/common"

	"github.com/consensus-nro/nro/x/allocation/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// SimPayoutAddress is the simulated Ethereum payout address of a provider (an operator account): the same
// for all of its nodes, so that a batch pays a provider's nodes with one mint.
func SimPayoutAddress(operator string) string {
	sum := sha256.Sum256([]byte("nro-sim-payout/" + operator))
	return common.BytesToAddress(sum[:common.AddressLength]).Hex() // EIP-55, as x/allocation requires
}

// MsgSetPayoutAddressFactory gives a random ACTIVE node without an Ethereum payout address its operator's
// simulated one (SimPayoutAddress), through x/allocation's MsgUpdateNode. x/lease pays a node through the
// bridge — settlement records, batches — only when it has such an address when a lease is placed on it,
// and MsgRegisterNodeFactory registers nodes without one (as providers who are paid on the chain do).
func MsgSetPayoutAddressFactory(ak keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgUpdateNode] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateNode) {
		ids, err := firstNodeIDs(ctx, ak, types.NODE_STATUS_ACTIVE)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		var candidates []types.Node
		for _, id := range ids {
			n, err := ak.Nodes.Get(ctx, id)
			if err == nil && n.EthAddress == "" && testData.HasAccount(n.Operator) {
				candidates = append(candidates, n)
			}
		}
		if len(candidates) == 0 {
			reporter.Skip("no active simulated node without a payout address")
			return nil, nil
		}
		node := candidates[testData.Rand().Intn(len(candidates))]
		operator := testData.GetAccount(reporter, node.Operator)
		if reporter.IsSkipped() {
			return nil, nil
		}
		return []simsx.SimAccount{operator}, &types.MsgUpdateNode{
			Operator: node.Operator, NodeId: node.Id, EthAddress: SimPayoutAddress(node.Operator),
		}
	}
}
