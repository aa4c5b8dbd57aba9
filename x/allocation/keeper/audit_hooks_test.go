package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

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
