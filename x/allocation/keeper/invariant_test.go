package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

func TestCheckStakeInvariant(t *testing.T) {
	cases := []struct {
		name     string
		tamper   func(f *keepertest.AllocationFixture, op sdk.AccAddress, n types.Node)
		contains []string // empty: the invariant still holds
	}{
		{
			name:   "untouched",
			tamper: func(*keepertest.AllocationFixture, sdk.AccAddress, types.Node) {},
		},
		{
			name:     "coins minted straight into the module account",
			tamper:   func(f *keepertest.AllocationFixture, _ sdk.AccAddress, _ types.Node) { f.FundModule(unro(1)) },
			contains: []string{"stake invariant broken", "module account holds 800000001unro", "sum to 800000000unro"},
		},
		{
			name: "coins sent to the module account through the bank keeper",
			tamper: func(f *keepertest.AllocationFixture, op sdk.AccAddress, _ types.Node) {
				require.NoError(t, f.BankKeeper.SendCoinsFromAccountToModule(f.Ctx, op, types.ModuleName, sdk.NewCoins(unro(5))))
			},
			contains: []string{"module account holds 800000005unro"},
		},
		{
			name: "coins taken out of the module account through the bank keeper",
			tamper: func(f *keepertest.AllocationFixture, op sdk.AccAddress, _ types.Node) {
				require.NoError(t, f.BankKeeper.SendCoinsFromModuleToAccount(f.Ctx, types.ModuleName, op, sdk.NewCoins(unro(7))))
			},
			contains: []string{"module account holds 799999993unro"},
		},
		{
			name: "a node's stake changed behind the bank's back",
			tamper: func(f *keepertest.AllocationFixture, _ sdk.AccAddress, n types.Node) {
				n.Stake = unro(minStake8 + 1)
				f.SetNode(n)
			},
			contains: []string{"sum to 800000001unro"},
		},
		{
			name: "a node removed without returning its stake",
			tamper: func(f *keepertest.AllocationFixture, _ sdk.AccAddress, n types.Node) {
				require.NoError(t, f.Keeper.Nodes.Remove(f.Ctx, n.Id))
			},
			contains: []string{"sum to 0unro"},
		},
		{
			name: "reserved GPUs above the node's GPUs",
			tamper: func(f *keepertest.AllocationFixture, _ sdk.AccAddress, n types.Node) {
				n.Gpus[0].Reserved = n.Gpus[0].Count + 1
				n.ReservedGpus = n.TotalGPUs() + 1
				f.SetNode(n)
			},
			contains: []string{"gpu-node-1", "group 0 reserves 9 of its 8 GPUs"},
		},
		{
			name: "node total differs from its groups",
			tamper: func(f *keepertest.AllocationFixture, _ sdk.AccAddress, n types.Node) {
				n.ReservedGpus = 2
				f.SetNode(n)
			},
			contains: []string{"gpu-node-1", "reserved_gpus 2 differs from the 0 its groups reserve"},
		},
		{
			name: "every GPU reserved is fine",
			tamper: func(f *keepertest.AllocationFixture, _ sdk.AccAddress, n types.Node) {
				n.Gpus[0].Reserved = n.Gpus[0].Count
				n.ReservedGpus = n.TotalGPUs()
				f.SetNode(n)
			},
		},
		{
			name: "a stake in another denom",
			tamper: func(f *keepertest.AllocationFixture, _ sdk.AccAddress, n types.Node) {
				n.Stake = coin("uatom", minStake8)
				f.SetNode(n)
			},
			contains: []string{"gpu-node-1", "stake denom uatom"},
		},
		{
			name: "other denoms in the module account do not count",
			tamper: func(f *keepertest.AllocationFixture, _ sdk.AccAddress, _ types.Node) {
				f.FundModule(coin("uatom", 1_000))
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, op, _, n := nodeFixture(t)
			tc.tamper(f, op, n)
			err := f.Keeper.CheckStakeInvariant(f.Ctx)
			if len(tc.contains) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, s := range tc.contains {
				require.Contains(t, err.Error(), s)
			}
		})
	}
}

// TestCheckStakeInvariantManyNodes checks the sum over several operators, statuses and a JAILED node.
func TestCheckStakeInvariantManyNodes(t *testing.T) {
	f := keepertest.NewAllocationFixture(t)
	var total int64
	for i, id := range []string{"a", "b", "c", "d"} {
		_, opStr := f.Addr("op-" + id)
		msg := f.ValidRegisterMsg(opStr, id)
		msg.Stake = unro(minStake8 + int64(i)*1_000)
		total += msg.Stake.Amount.Int64()
		f.RegisterNode(msg)
		f.RequireInvariant()
	}
	_, opB := f.Addr("op-b")
	_, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: opB, NodeId: "b"})
	require.NoError(t, err)
	c := f.Node("c")
	c.Status = types.NODE_STATUS_JAILED
	f.SetNode(c)
	require.Equal(t, unro(total), f.ModuleBalance())
	f.RequireInvariant()

	f.FundModule(unro(1))
	require.ErrorContains(t, f.Keeper.CheckStakeInvariant(f.Ctx), "stake invariant broken")
}
