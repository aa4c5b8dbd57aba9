package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

func TestSetNodeReputation(t *testing.T) {
	f := keepertest.NewAllocationFixture(t)
	n := f.AddNode(keepertest.NodeSpec{ID: "gpu-a"})
	require.Equal(t, types.NeutralReputationBps, n.ReputationBps)

	require.NoError(t, f.Keeper.SetNodeReputation(f.Ctx, "gpu-a", 7_250))
	got := f.Node("gpu-a")
	require.Equal(t, uint32(7_250), got.ReputationBps)
	n.ReputationBps = 7_250
	require.Equal(t, n, got, "only the reputation changes")

	require.NoError(t, f.Keeper.SetNodeReputation(f.Ctx, "gpu-a", 0))
	require.NoError(t, f.Keeper.SetNodeReputation(f.Ctx, "gpu-a", types.MaxReputationBps))
	require.Equal(t, types.MaxReputationBps, f.Node("gpu-a").ReputationBps)

	err := f.Keeper.SetNodeReputation(f.Ctx, "gpu-a", types.MaxReputationBps+1)
	require.ErrorContains(t, err, "reputation 10001 bps for node gpu-a: want 0..10000")
	require.Equal(t, types.MaxReputationBps, f.Node("gpu-a").ReputationBps)
	require.ErrorIs(t, f.Keeper.SetNodeReputation(f.Ctx, "gpu-z", 1), types.ErrNodeNotFound)
	f.RequireInvariant()
}

// TestSlashAndJail: x/audit's slash takes the share of the stake into its module, jails the node (out of
// the capacity index) and refuses a node that is not ACTIVE.
func TestSlashAndJail(t *testing.T) {
	f, _, _, n := nodeFixture(t)
	require.NotEmpty(t, f.CapacityIndex())
	slashed, after, err := f.Keeper.SlashAndJail(f.Ctx, n.Id, 1_000, f.Height()+100, "gov")
	require.NoError(t, err)
	require.Equal(t, unro(minStake8/10), slashed)
	require.Equal(t, unro(minStake8-minStake8/10), after)
	got := f.Node(n.Id)
	require.Equal(t, types.NODE_STATUS_JAILED, got.Status)
	require.Equal(t, f.Height()+100, got.JailedUntilHeight)
	require.Equal(t, after, got.Stake)
	require.Equal(t, unro(minStake8/10), f.Balance(authtypes.NewModuleAddress("gov")))
	require.Empty(t, f.CapacityIndex(), "a jailed node takes no allocations")
	require.Equal(t, []proto.Message{&types.EventNodeJailed{
		NodeId: n.Id, Operator: n.Operator, Slashed: slashed, Stake: after, JailedUntilHeight: f.Height() + 100,
	}}, f.TypedEvents())
	f.RequireInvariant()

	_, _, err = f.Keeper.SlashAndJail(f.Ctx, n.Id, 1_000, f.Height()+100, "gov")
	require.ErrorIs(t, err, types.ErrNodeNotActive)
	require.ErrorContains(t, err, "node gpu-node-1 is NODE_STATUS_JAILED; only an ACTIVE node is slashed and jailed")
	_, _, err = f.Keeper.SlashAndJail(f.Ctx, "gpu-zz", 1_000, f.Height()+100, "gov")
	require.ErrorIs(t, err, types.ErrNodeNotFound)
}

func TestUnjailNode(t *testing.T) {
	jailed := func(t *testing.T) (*keepertest.AllocationFixture, sdk.AccAddress, string, types.Node) {
		f, op, opStr, n := nodeFixture(t)
		_, _, err := f.Keeper.SlashAndJail(f.Ctx, n.Id, 1_000, f.Height()+50, "gov")
		require.NoError(t, err)
		f.ResetEvents()
		return f, op, opStr, f.Node(n.Id)
	}
	cases := []struct {
		name     string
		setup    func(f *keepertest.AllocationFixture, opStr string)
		msg      func(f *keepertest.AllocationFixture, opStr string) *types.MsgUnjailNode
		err      error
		contains string
	}{
		{
			name: "still jailed",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUnjailNode {
				return &types.MsgUnjailNode{Operator: opStr, NodeId: "gpu-node-1"}
			},
			err:      types.ErrStillJailed,
			contains: "node gpu-node-1 is jailed until height",
		},
		{
			name:  "stake below the minimum",
			setup: func(f *keepertest.AllocationFixture, _ string) { f.NextBlock(50) },
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUnjailNode {
				return &types.MsgUnjailNode{Operator: opStr, NodeId: "gpu-node-1"}
			},
			err: types.ErrInsufficientStake,
			contains: "node gpu-node-1 has 720000000unro staked, below the minimum 800000000unro for its 8 GPUs; add 80000000unro first " +
				"(nrod tx allocation add-stake gpu-node-1 80000000unro)",
		},
		{
			name:  "not the operator",
			setup: func(f *keepertest.AllocationFixture, _ string) { f.NextBlock(50) },
			msg: func(f *keepertest.AllocationFixture, _ string) *types.MsgUnjailNode {
				_, stranger := f.Addr("stranger")
				return &types.MsgUnjailNode{Operator: stranger, NodeId: "gpu-node-1"}
			},
			err:      types.ErrNotOperator,
			contains: "node gpu-node-1 is operated by",
		},
		{
			name: "not jailed",
			setup: func(f *keepertest.AllocationFixture, opStr string) {
				f.NextBlock(50)
				_, err := f.MsgServer.AddStake(f.Ctx, &types.MsgAddStake{Operator: opStr, NodeId: "gpu-node-1", Amount: unro(minStake8 / 10)})
				require.NoError(f.T, err)
				_, err = f.MsgServer.UnjailNode(f.Ctx, &types.MsgUnjailNode{Operator: opStr, NodeId: "gpu-node-1"})
				require.NoError(f.T, err)
			},
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUnjailNode {
				return &types.MsgUnjailNode{Operator: opStr, NodeId: "gpu-node-1"}
			},
			err:      types.ErrNodeNotJailed,
			contains: "node gpu-node-1 is NODE_STATUS_ACTIVE; only a JAILED node can be unjailed",
		},
		{
			name: "unknown node",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUnjailNode {
				return &types.MsgUnjailNode{Operator: opStr, NodeId: "gpu-node-9"}
			},
			err:      types.ErrNodeNotFound,
			contains: "gpu-node-9",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, op, opStr, _ := jailed(t)
			if tc.setup != nil {
				tc.setup(f, opStr)
			}
			f.ResetEvents()
			before := snapshot(t, f, op)
			res, err := f.MsgServer.UnjailNode(f.Ctx, tc.msg(f, opStr))
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.contains)
			require.Nil(t, res)
			requireUnchanged(t, f, before)
		})
	}

	t.Run("after the jail time with the stake topped up", func(t *testing.T) {
		f, _, opStr, n := jailed(t)
		f.NextBlock(50)
		_, err := f.MsgServer.AddStake(f.Ctx, &types.MsgAddStake{Operator: opStr, NodeId: n.Id, Amount: unro(minStake8 / 10)})
		require.NoError(t, err)
		f.ResetEvents()
		_, err = f.MsgServer.UnjailNode(f.Ctx, &types.MsgUnjailNode{Operator: opStr, NodeId: n.Id})
		require.NoError(t, err)
		got := f.Node(n.Id)
		require.Equal(t, types.NODE_STATUS_ACTIVE, got.Status)
		require.Zero(t, got.JailedUntilHeight)
		require.NotEmpty(t, f.CapacityIndex(), "back in the capacity index")
		require.Equal(t, []proto.Message{&types.EventNodeUnjailed{NodeId: n.Id, Operator: n.Operator}}, f.TypedEvents())
		f.RequireInvariant()
	})

	t.Run("a jailed node may deregister", func(t *testing.T) {
		f, _, opStr, n := jailed(t)
		_, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: opStr, NodeId: n.Id})
		require.NoError(t, err)
		got := f.Node(n.Id)
		require.Equal(t, types.NODE_STATUS_UNBONDING, got.Status)
		require.Zero(t, got.JailedUntilHeight)
		f.RequireInvariant()
	})
}
