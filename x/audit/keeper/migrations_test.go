package keeper_test

import (
	"testing"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/x/audit/keeper"
	"github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

// v1State turns the fixture's state into what consensus version 1 left: params without the bridge upkeep
// fields and nothing in the upkeep queues.
func v1State(t *testing.T, f *testutil.Fixture) types.Params {
	t.Helper()
	p := f.Params()
	p.BridgeRetentionBlocks, p.ValsetsKept, p.MaxBridgePrunedPerBlock = 0, 0, 0
	p.SignedWindowBlocks, p.SlashFractionUnsigned, p.JailUnsigned, p.MaxUnsignedChecksPerBlock = 0, math.LegacyDec{}, false, 0
	require.Error(t, p.Validate(), "version 1 params are not valid version 2 params")
	require.NoError(t, f.Keeper.Params.Set(f.Ctx, p))
	require.NoError(t, f.Keeper.BridgePrunes.Clear(f.Ctx, nil))
	require.NoError(t, f.Keeper.UnsignedChecks.Clear(f.Ctx, nil))
	require.NoError(t, f.Keeper.LastObservedBatch.Remove(f.Ctx))
	return p
}

func queueKeys(t *testing.T, f *testutil.Fixture) []keeper.BridgeQueueKey {
	t.Helper()
	it, err := f.Keeper.BridgePrunes.Iterate(f.Ctx, nil)
	require.NoError(t, err)
	keys, err := it.Keys()
	require.NoError(t, err)
	return keys
}

func uncheckedNonces(t *testing.T, f *testutil.Fixture) []keeper.BridgeQueueKey {
	t.Helper()
	it, err := f.Keeper.UnsignedChecks.Iterate(f.Ctx, nil)
	require.NoError(t, err)
	keys, err := it.Keys()
	require.NoError(t, err)
	return keys
}

// TestMigrate1to2 starts from a version 1 state with two valsets and three batches and checks that the
// migration gives the upkeep params their defaults and keeps every other param, queues every valset and
// batch for pruning at made height + retention, opens no signing window for them, and leaves EndBlock to
// open one for the next new batch only.
func TestMigrate1to2(t *testing.T) {
	f, vals := bridgeFixture(t, 3)
	register(t, f, vals...)
	require.NoError(t, f.EndBlock()) // valset 1
	bz, err := f.AddressCodec.StringToBytes(vals[0].operator)
	require.NoError(t, err)
	f.SetHeight(f.Height() + 3)
	f.Staking.SetPower(bz, 40)
	require.NoError(t, f.EndBlock()) // valset 2: power moved by more than valset_change_bps
	latest, ok, err := f.Keeper.LatestValset(f.Ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(2), latest.Nonce)
	vs1, err := f.Keeper.Valsets.Get(f.Ctx, 1)
	require.NoError(t, err)
	f.SetHeight(f.Height() + 1)
	for nonce := uint64(1); nonce <= 3; nonce++ {
		makeBatch(t, f, nonce)
	}
	batchHeight := f.Height()
	v1 := v1State(t, f)

	require.NoError(t, keeper.NewMigrator(f.Keeper).Migrate1to2(f.Ctx))

	got := f.Params()
	require.NoError(t, got.Validate())
	d := types.DefaultParams()
	want := v1
	want.BridgeRetentionBlocks, want.ValsetsKept, want.MaxBridgePrunedPerBlock = d.BridgeRetentionBlocks, d.ValsetsKept, d.MaxBridgePrunedPerBlock
	want.SignedWindowBlocks, want.SlashFractionUnsigned, want.JailUnsigned, want.MaxUnsignedChecksPerBlock =
		d.SignedWindowBlocks, d.SlashFractionUnsigned, d.JailUnsigned, d.MaxUnsignedChecksPerBlock
	require.Equal(t, want, got, "the bridge id, chain id, contract and every other param stay")

	r := int64(d.BridgeRetentionBlocks)
	bridge, valset := int32(types.BRIDGE_ITEM_KIND_BATCH), int32(types.BRIDGE_ITEM_KIND_VALSET)
	require.ElementsMatch(t, []keeper.BridgeQueueKey{
		collections.Join3(vs1.Height+r, valset, uint64(1)),
		collections.Join3(latest.Height+r, valset, uint64(2)),
		collections.Join3(batchHeight+r, bridge, uint64(1)),
		collections.Join3(batchHeight+r, bridge, uint64(2)),
		collections.Join3(batchHeight+r, bridge, uint64(3)),
	}, queueKeys(t, f))
	require.Empty(t, uncheckedNonces(t, f), "no signing window for what was made before the upgrade")
	last, err := f.Keeper.LastObservedBatch.Get(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(3), last)
	gs := exported(t, f)
	require.NoError(t, gs.Validate())

	// The next EndBlock takes batches 1-3 for old ones and opens a window for batch 4 alone.
	next(t, f)
	makeBatch(t, f, 4)
	require.NoError(t, f.EndBlock())
	due := f.Height() + int64(d.SignedWindowBlocks)
	require.Equal(t, []keeper.BridgeQueueKey{collections.Join3(due, bridge, uint64(4))}, uncheckedNonces(t, f))
	require.Len(t, queueKeys(t, f), 6)
}

// TestMigrate1to2WithoutBridge migrates a chain whose bridge never started: only the params change.
func TestMigrate1to2WithoutBridge(t *testing.T) {
	f := testutil.NewFixture(t)
	v1State(t, f)
	require.NoError(t, keeper.NewMigrator(f.Keeper).Migrate1to2(f.Ctx))
	require.NoError(t, f.Params().Validate())
	require.Equal(t, types.DefaultParams(), f.Params())
	require.Empty(t, queueKeys(t, f))
	has, err := f.Keeper.LastObservedBatch.Has(f.Ctx)
	require.NoError(t, err)
	require.False(t, has)
}
