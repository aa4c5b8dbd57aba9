package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// populated builds a chain state with ACTIVE, JAILED, reserved and UNBONDING nodes over two operators,
// under params with a short unbonding period. It returns the release height of the UNBONDING nodes.
func populated(t *testing.T) (*keepertest.AllocationFixture, int64) {
	t.Helper()
	f := keepertest.NewAllocationFixture(t)
	p := f.Params()
	p.UnbondingBlocks = 20
	p.MaxReleasesPerBlock = 1
	f.SetParams(p)
	_, alice := f.Addr("alice")
	_, bob := f.Addr("bob")
	_, agent := f.Addr("agent")

	m := f.ValidRegisterMsg(alice, "alice-1")
	m.EthAddress = ethAddr1
	m.Agent = agent
	f.RegisterNode(m)

	m = f.ValidRegisterMsg(alice, "alice-2")
	m.Region = "azure:westeurope"
	m.Gpus = []types.GpuGroup{{Model: "A100", Count: 2, MemoryMib: 40960}, {Model: "L4", Count: 1, MemoryMib: 24576}}
	m.Stake = unro(1_000_000_000)
	f.RegisterNode(m)
	n := f.Node("alice-2")
	n.Gpus[0].Reserved, n.ReservedGpus = 2, 2
	n.ReputationBps = 9_100
	f.SetNode(n)

	m = f.ValidRegisterMsg(bob, "bob-1")
	f.RegisterNode(m)
	n = f.Node("bob-1")
	n.Status = types.NODE_STATUS_JAILED
	f.SetNode(n)

	f.NextBlock(3)
	for _, id := range []string{"bob-2", "bob-3"} {
		f.RegisterNode(f.ValidRegisterMsg(bob, id))
		_, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: bob, NodeId: id})
		require.NoError(t, err)
	}
	f.RequireInvariant()
	return f, f.Height() + 20
}

func queueOf(t *testing.T, f *keepertest.AllocationFixture) []collections.Pair[int64, string] {
	t.Helper()
	var keys []collections.Pair[int64, string]
	require.NoError(t, f.Keeper.UnbondingQueue.Walk(f.Ctx, nil, func(k collections.Pair[int64, string]) (bool, error) {
		keys = append(keys, k)
		return false, nil
	}))
	return keys
}

func TestGenesisRoundTrip(t *testing.T) {
	src, release := populated(t)
	exported, err := src.Keeper.ExportGenesis(src.Ctx)
	require.NoError(t, err)
	require.Len(t, exported.Nodes, 5)
	ids := make([]string, len(exported.Nodes))
	for i, n := range exported.Nodes {
		ids[i] = n.Id
	}
	require.Equal(t, []string{"alice-1", "alice-2", "bob-1", "bob-2", "bob-3"}, ids, "exported in id order")
	require.NoError(t, exported.Validate(src.AddressCodec))

	// Through JSON, as a real genesis file.
	bz, err := src.Codec.MarshalJSON(exported)
	require.NoError(t, err)

	dst := keepertest.NewAllocationFixtureWithoutParams(t)
	dst.SetHeight(src.Height())
	dst.FundModule(src.ModuleBalance())
	module := allocation.NewAppModule(dst.Codec, dst.Keeper, dst.AccountKeeper, dst.BankKeeper)
	require.NoError(t, module.ValidateGenesis(dst.Codec, nil, bz))
	module.InitGenesis(dst.Ctx, dst.Codec, bz)
	dst.RequireInvariant()

	again, err := dst.Keeper.ExportGenesis(dst.Ctx)
	require.NoError(t, err)
	require.Equal(t, exported, again)
	require.Equal(t, queueOf(t, src), queueOf(t, dst), "unbonding queue rebuilt")
	require.Equal(t, []collections.Pair[int64, string]{
		collections.Join(release, "bob-2"), collections.Join(release, "bob-3"),
	}, queueOf(t, dst))

	// The indexes were rebuilt too.
	res, err := dst.QueryServer.Nodes(dst.Ctx, &types.QueryNodesRequest{Operator: exported.Nodes[0].Operator})
	require.NoError(t, err)
	require.Len(t, res.Nodes, 2)
	res, err = dst.QueryServer.Nodes(dst.Ctx, &types.QueryNodesRequest{Status: types.NODE_STATUS_UNBONDING})
	require.NoError(t, err)
	require.Len(t, res.Nodes, 2)

	// Releases still happen after the import, bounded as before.
	bob, _ := dst.Addr("bob")
	require.True(t, dst.Balance(bob).IsZero())
	dst.SetHeight(release - 1)
	require.NoError(t, dst.EndBlock())
	require.Empty(t, dst.TypedEvents())
	dst.SetHeight(release)
	require.NoError(t, dst.EndBlock())
	require.Equal(t, int64(minStake8), bal(dst, bob))
	requireEvents(t, dst, &types.EventStakeReleased{NodeId: "bob-2", Operator: exported.Nodes[3].Operator, Amount: unro(minStake8)})
	dst.NextBlock(1)
	require.NoError(t, dst.EndBlock())
	require.Equal(t, int64(2*minStake8), bal(dst, bob))
	dst.RequireInvariant()
	final, err := dst.Keeper.ExportGenesis(dst.Ctx)
	require.NoError(t, err)
	require.Len(t, final.Nodes, 3)
}

func TestGenesisDefault(t *testing.T) {
	f := keepertest.NewAllocationFixtureWithoutParams(t)
	require.NoError(t, f.Keeper.InitGenesis(f.Ctx, *types.DefaultGenesis()))
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, types.DefaultGenesis(), gs)
	require.Empty(t, queueOf(t, f))
	f.RequireInvariant()
}

func TestInitGenesisRefusesStakeMismatch(t *testing.T) {
	src, _ := populated(t)
	gs, err := src.Keeper.ExportGenesis(src.Ctx)
	require.NoError(t, err)
	sum := src.ModuleBalance()

	cases := []struct {
		name string
		fund []sdk.Coin
		want string
	}{
		{name: "module account not funded", fund: nil, want: "module account holds 0unro"},
		{name: "one unro short", fund: []sdk.Coin{sum.SubAmount(math.OneInt())}, want: "sum to " + sum.String()},
		{name: "one unro over", fund: []sdk.Coin{sum.AddAmount(math.OneInt())}, want: "sum to " + sum.String()},
		{name: "funded in another denom", fund: []sdk.Coin{coin("uatom", sum.Amount.Int64())}, want: "module account holds 0unro"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := keepertest.NewAllocationFixtureWithoutParams(t)
			if len(tc.fund) > 0 {
				dst.FundModule(tc.fund...)
			}
			err := dst.Keeper.InitGenesis(dst.Ctx, *gs)
			require.Error(t, err)
			require.Contains(t, err.Error(), "stake invariant broken")
			require.Contains(t, err.Error(), tc.want)
			require.Contains(t, err.Error(), "fund the allocation module account")

			// The module's InitGenesis panics with the same error: the chain does not start.
			module := allocation.NewAppModule(dst.Codec, dst.Keeper, dst.AccountKeeper, dst.BankKeeper)
			bz, err := dst.Codec.MarshalJSON(gs)
			require.NoError(t, err)
			require.Panics(t, func() { module.InitGenesis(dst.Ctx, dst.Codec, bz) })
		})
	}
}

func TestInitGenesisRefusesInvalidState(t *testing.T) {
	src, _ := populated(t)
	gs, err := src.Keeper.ExportGenesis(src.Ctx)
	require.NoError(t, err)
	gs.Nodes = append(gs.Nodes, gs.Nodes[0])

	dst := keepertest.NewAllocationFixtureWithoutParams(t)
	dst.FundModule(src.ModuleBalance().Add(gs.Nodes[0].Stake))
	err = dst.Keeper.InitGenesis(dst.Ctx, *gs)
	require.ErrorIs(t, err, types.ErrInvalidGenesis)
	require.Contains(t, err.Error(), "duplicate node id")
	has, err := dst.Keeper.Params.Has(dst.Ctx)
	require.NoError(t, err)
	require.False(t, has, "validation runs before anything is stored")

	module := allocation.NewAppModule(dst.Codec, dst.Keeper, dst.AccountKeeper, dst.BankKeeper)
	bz, err := dst.Codec.MarshalJSON(gs)
	require.NoError(t, err)
	require.ErrorIs(t, module.ValidateGenesis(dst.Codec, nil, bz), types.ErrInvalidGenesis)
	require.Error(t, module.ValidateGenesis(dst.Codec, nil, []byte(`{"params":`)))
}
