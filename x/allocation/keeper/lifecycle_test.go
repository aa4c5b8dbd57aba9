package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// TestNodeLifecycle walks one node through every message and EndBlock, checking state, balances, events
// and the stake invariant after each step.
func TestNodeLifecycle(t *testing.T) {
	f := keepertest.NewAllocationFixture(t)
	op, opStr := f.Addr("operator")
	_, agentStr := f.Addr("agent")
	const funds = 2_000_000_000
	f.Fund(op, unro(funds))
	f.RequireInvariant()

	// Register.
	f.SetHeight(20)
	msg := f.ValidRegisterMsg(opStr, "gpu-node-1")
	_, err := f.MsgServer.RegisterNode(f.Ctx, msg)
	require.NoError(t, err)
	require.Equal(t, int64(funds-minStake8), bal(f, op))
	require.Equal(t, unro(minStake8), f.ModuleBalance())
	require.Equal(t, types.NODE_STATUS_ACTIVE, f.Node("gpu-node-1").Status)
	require.Equal(t, int64(20), f.Node("gpu-node-1").RegisteredHeight)
	f.RequireInvariant()

	// Add stake.
	f.NextBlock(1)
	res, err := f.MsgServer.AddStake(f.Ctx, &types.MsgAddStake{Operator: opStr, NodeId: "gpu-node-1", Amount: unro(100_000_000)})
	require.NoError(t, err)
	const staked = minStake8 + 100_000_000
	require.Equal(t, unro(staked), res.TotalStake)
	require.Equal(t, int64(funds-staked), bal(f, op))
	require.Equal(t, unro(staked), f.ModuleBalance())
	f.RequireInvariant()

	// Update each field in turn, then clear the payout address.
	updates := []struct {
		msg     types.MsgUpdateNode
		changed string
		check   func(n types.Node)
	}{
		{
			types.MsgUpdateNode{PricePerGpuHour: ptrCoin(unro(2_000_000))}, "price_per_gpu_hour",
			func(n types.Node) { require.Equal(t, unro(2_000_000), n.PricePerGpuHour) },
		},
		{
			types.MsgUpdateNode{BandwidthMbps: 100_000}, "bandwidth_mbps",
			func(n types.Node) { require.Equal(t, uint64(100_000), n.BandwidthMbps) },
		},
		{
			types.MsgUpdateNode{Agent: agentStr}, "agent",
			func(n types.Node) { require.Equal(t, agentStr, n.Agent) },
		},
		{
			types.MsgUpdateNode{EthAddress: ethAddr1}, "eth_address",
			func(n types.Node) { require.Equal(t, ethAddr1, n.EthAddress) },
		},
		{
			types.MsgUpdateNode{ClearEthAddress: true}, "eth_address",
			func(n types.Node) { require.Empty(t, n.EthAddress) },
		},
	}
	for _, u := range updates {
		f.NextBlock(1)
		m := u.msg
		m.Operator, m.NodeId = opStr, "gpu-node-1"
		_, err := f.MsgServer.UpdateNode(f.Ctx, &m)
		require.NoError(t, err, u.changed)
		n := f.Node("gpu-node-1")
		u.check(n)
		requireEvents(t, f, &types.EventNodeUpdated{NodeId: "gpu-node-1", Operator: opStr, Changed: []string{u.changed}, Node: n})
		require.Equal(t, unro(staked), n.Stake)
		f.RequireInvariant()
	}
	final := f.Node("gpu-node-1")
	require.Equal(t, unro(2_000_000), final.PricePerGpuHour)
	require.Equal(t, uint64(100_000), final.BandwidthMbps)
	require.Equal(t, agentStr, final.Agent)

	// Deregister.
	f.SetHeight(30)
	dres, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: opStr, NodeId: "gpu-node-1"})
	require.NoError(t, err)
	release := int64(30) + int64(types.DefaultUnbondingBlocks)
	require.Equal(t, release, dres.ReleaseHeight)
	n := f.Node("gpu-node-1")
	require.Equal(t, types.NODE_STATUS_UNBONDING, n.Status)
	require.Equal(t, release, n.ReleaseHeight)
	f.RequireInvariant()

	// The id stays taken while unbonding.
	f.Fund(op, unro(minStake8))
	_, err = f.MsgServer.RegisterNode(f.Ctx, f.ValidRegisterMsg(opStr, "gpu-node-1"))
	require.ErrorIs(t, err, types.ErrNodeExists)
	opBalance := bal(f, op)

	// EndBlock before the release height does nothing.
	for _, h := range []int64{30, 31, release / 2, release - 1} {
		f.SetHeight(h)
		require.NoError(t, f.EndBlock())
		require.Empty(t, f.Events(), "height %d", h)
		require.Equal(t, opBalance, bal(f, op), "height %d", h)
		require.Equal(t, unro(staked), f.ModuleBalance(), "height %d", h)
		require.Equal(t, n, f.Node("gpu-node-1"), "height %d", h)
		f.RequireInvariant()
	}

	// At the release height the stake comes back and the node is gone.
	f.SetHeight(release)
	require.NoError(t, f.EndBlock())
	require.Equal(t, opBalance+staked, bal(f, op))
	require.True(t, f.ModuleBalance().IsZero())
	_, err = f.Keeper.GetNode(f.Ctx, "gpu-node-1")
	require.ErrorIs(t, err, types.ErrNodeNotFound)
	requireEvents(t, f, &types.EventStakeReleased{NodeId: "gpu-node-1", Operator: opStr, Amount: unro(staked)})
	empty, err := f.Keeper.UnbondingQueue.Iterate(f.Ctx, nil)
	require.NoError(t, err)
	require.False(t, empty.Valid(), "unbonding queue is empty")
	require.NoError(t, empty.Close())
	require.Empty(t, nodeIDsByIndexStatus(t, f, types.NODE_STATUS_UNBONDING), "status index entry removed")
	f.RequireInvariant()

	// A second EndBlock at the same height has nothing left to do.
	f.ResetEvents()
	require.NoError(t, f.EndBlock())
	require.Empty(t, f.Events())

	// The id can be registered again.
	f.NextBlock(1)
	_, err = f.MsgServer.RegisterNode(f.Ctx, f.ValidRegisterMsg(opStr, "gpu-node-1"))
	require.NoError(t, err)
	again := f.Node("gpu-node-1")
	require.Equal(t, types.NODE_STATUS_ACTIVE, again.Status)
	require.Equal(t, release+1, again.RegisteredHeight)
	require.Zero(t, again.ReleaseHeight)
	require.Equal(t, unro(minStake8), f.ModuleBalance())
	f.RequireInvariant()
}

func nodeIDsByIndexStatus(t *testing.T, f *keepertest.AllocationFixture, s types.NodeStatus) []string {
	t.Helper()
	iter, err := f.Keeper.Nodes.Indexes.Status.MatchExact(f.Ctx, int32(s))
	require.NoError(t, err)
	ids, err := iter.PrimaryKeys()
	require.NoError(t, err)
	return ids
}

// registerAndDeregister registers nodes with the given ids for one operator each at the current height,
// and deregisters them all.
func registerAndDeregister(t *testing.T, f *keepertest.AllocationFixture, ids ...string) {
	t.Helper()
	for _, id := range ids {
		_, opStr := f.Addr("op-" + id)
		f.RegisterNode(f.ValidRegisterMsg(opStr, id))
		_, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: opStr, NodeId: id})
		require.NoError(t, err)
	}
	f.RequireInvariant()
}

// releasedIDs returns the ids of the EventStakeReleased events of the current block, in order, and checks
// that each released node's stake reached its operator and the node is gone.
func releasedIDs(t *testing.T, f *keepertest.AllocationFixture) []string {
	t.Helper()
	var ids []string
	for _, ev := range f.TypedEvents() {
		r, ok := ev.(*types.EventStakeReleased)
		require.True(t, ok, "unexpected event %T", ev)
		ids = append(ids, r.NodeId)
		op, _ := f.Addr("op-" + r.NodeId)
		require.Equal(t, int64(minStake8), bal(f, op), "stake of %s returned", r.NodeId)
		has, err := f.Keeper.Nodes.Has(f.Ctx, r.NodeId)
		require.NoError(t, err)
		require.False(t, has)
	}
	return ids
}

func TestReleaseMaturedIsBounded(t *testing.T) {
	f := keepertest.NewAllocationFixture(t)
	p := f.Params()
	p.MaxReleasesPerBlock = 2
	p.UnbondingBlocks = 10
	f.SetParams(p)

	f.SetHeight(100)
	// Deregistered in an order that is neither sorted nor reversed.
	registerAndDeregister(t, f, "node-c", "node-e", "node-a", "node-d", "node-b")
	// One node matures later and must not be released with them.
	f.SetHeight(105)
	registerAndDeregister(t, f, "late")

	f.SetHeight(109)
	require.NoError(t, f.EndBlock())
	require.Empty(t, releasedIDs(t, f), "nothing is due before height 110")

	want := [][]string{{"node-a", "node-b"}, {"node-c", "node-d"}, {"node-e"}, nil, nil}
	for i, w := range want {
		f.SetHeight(110 + int64(i))
		require.NoError(t, f.EndBlock())
		require.Equal(t, w, releasedIDs(t, f), "block %d", 110+i)
		f.RequireInvariant()
	}
	require.True(t, f.Node("late").Status == types.NODE_STATUS_UNBONDING)
	require.Equal(t, unro(minStake8), f.ModuleBalance(), "only the late node's stake is left")

	f.SetHeight(115)
	require.NoError(t, f.EndBlock())
	require.Equal(t, []string{"late"}, releasedIDs(t, f))
	require.True(t, f.ModuleBalance().IsZero())
	f.RequireInvariant()
}

// TestReleaseMaturedOrder checks that an overdue entry goes before a just-due one whatever their ids: the
// queue is ordered by (height, id).
func TestReleaseMaturedOrder(t *testing.T) {
	f := keepertest.NewAllocationFixture(t)
	p := f.Params()
	p.MaxReleasesPerBlock = 1
	p.UnbondingBlocks = 5
	f.SetParams(p)

	f.SetHeight(50)
	registerAndDeregister(t, f, "zz-early") // due at 55
	f.SetHeight(52)
	registerAndDeregister(t, f, "aa-late", "mm-late") // due at 57

	var keys []collections.Pair[int64, string]
	require.NoError(t, f.Keeper.UnbondingQueue.Walk(f.Ctx, nil, func(k collections.Pair[int64, string]) (bool, error) {
		keys = append(keys, k)
		return false, nil
	}))
	require.Equal(t, []collections.Pair[int64, string]{
		collections.Join(int64(55), "zz-early"), collections.Join(int64(57), "aa-late"), collections.Join(int64(57), "mm-late"),
	}, keys)

	// EndBlock was not run at 55 and 56 (e.g. the bound was hit); at 57 the oldest goes first.
	f.SetHeight(57)
	require.NoError(t, f.EndBlock())
	require.Equal(t, []string{"zz-early"}, releasedIDs(t, f))
	f.SetHeight(58)
	require.NoError(t, f.EndBlock())
	require.Equal(t, []string{"aa-late"}, releasedIDs(t, f))
	f.SetHeight(59)
	require.NoError(t, f.EndBlock())
	require.Equal(t, []string{"mm-late"}, releasedIDs(t, f))
	f.RequireInvariant()
}
