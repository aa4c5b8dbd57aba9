package app

import (
	"testing"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/runtime"
	sdk "github.com/cosmos/cosmos-sdk/types"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"

	"github.com/consensus-nro/nro/x/allocation"
	allocationkeeper "github.com/consensus-nro/nro/x/allocation/keeper"
	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	"github.com/consensus-nro/nro/x/lease"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// TestUpgradeCapacityEntries applies the capacity-entries upgrade plan through x/upgrade to a chain whose
// x/allocation is at consensus version 1 (capacity index keys without values): afterwards the index holds
// exactly the entries, values included, that this binary writes for the same nodes, and the module is at
// version 2.
func TestUpgradeCapacityEntries(t *testing.T) {
	app := Setup(t)
	h := app.LastBlockHeight() + 1
	ctx := app.NewUncachedContext(false, cmtproto.Header{Height: h, ChainID: TestChainID, Time: TestBlockTime(h)}) //nolint:staticcheck // a test of state
	params, err := app.AllocationKeeper.GetParams(ctx)
	require.NoError(t, err)
	for i, g := range [][]allocationtypes.GpuGroup{
		{{Model: "H100", Count: 8, MemoryMib: 81920, Reserved: 2}},
		{{Model: "A100", Count: 4, MemoryMib: 40960}, {Model: "L4", Count: 2, MemoryMib: 24576, Reserved: 2}},
	} {
		n := allocationtypes.Node{
			Id: []string{"n1", "n2"}[i], Operator: benchOperator(), Agent: benchOperator(), Region: params.Regions[i],
			Gpus: g, BandwidthMbps: 10_000 + uint64(i), PricePerGpuHour: sdk.NewCoin(BondDenom, sdkmath.NewInt(2_000_000)),
			Stake: params.MinStake(8), Status: allocationtypes.NODE_STATUS_ACTIVE, ReputationBps: 6_000 + uint32(i), RegisteredHeight: h,
		}
		require.NoError(t, app.AllocationKeeper.Nodes.Set(ctx, n.Id, n))
	}
	sb := collections.NewSchemaBuilder(runtime.NewKVStoreService(app.GetKey(allocationtypes.StoreKey)))
	kc := collections.QuadKeyCodec(collections.StringKey, collections.Uint64Key, collections.Uint32Key, collections.StringKey)
	entries := collections.NewMap(sb, allocationtypes.CapacityIndexKey, "capacity_index", kc, codec.CollValue[allocationtypes.CapacityEntry](app.AppCodec()))
	_, err = sb.Build()
	require.NoError(t, err)
	sbV1 := collections.NewSchemaBuilder(runtime.NewKVStoreService(app.GetKey(allocationtypes.StoreKey)))
	keysV1 := collections.NewKeySet(sbV1, allocationtypes.CapacityIndexKey, "capacity_index", kc)
	_, err = sbV1.Build()
	require.NoError(t, err)
	read := func() []collections.KeyValue[allocationkeeper.CapacityKey, allocationtypes.CapacityEntry] {
		it, err := entries.Iterate(ctx, nil)
		require.NoError(t, err)
		kvs, err := it.KeyValues()
		require.NoError(t, err)
		return kvs
	}
	want := read()
	require.Len(t, want, 8, "n1's H100 group and n2's A100 group, four scopes each")
	// First in scope "*": n2's A100 group (same price, fewer free GPUs).
	require.Equal(t, allocationtypes.CapacityEntry{Region: params.Regions[1], GpuModel: "A100", GpuMemoryMib: 40960,
		BandwidthMbps: 10_001, ReputationBps: 6_001}, want[0].Value)

	// The state of a version 1 chain.
	for _, kv := range want {
		require.NoError(t, keysV1.Set(ctx, kv.Key))
	}
	for _, kv := range read() {
		require.Equal(t, allocationtypes.CapacityEntry{}, kv.Value)
	}
	vm := app.ModuleManager.GetVersionMap()
	require.Equal(t, uint64(allocation.ConsensusVersion), vm[allocationtypes.ModuleName])
	vm[allocationtypes.ModuleName] = 1
	require.NoError(t, app.UpgradeKeeper.SetModuleVersionMap(ctx, vm))

	require.NoError(t, app.UpgradeKeeper.ApplyUpgrade(ctx, upgradetypes.Plan{Name: UpgradeCapacityEntries, Height: h}))
	require.Equal(t, want, read())
	after, err := app.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), after[allocationtypes.ModuleName])
}

// TestUpgradeBridgeUpkeep applies the bridge-upkeep plan through x/upgrade to a chain whose x/audit is at
// consensus version 1 (params without the bridge upkeep fields): afterwards the params are valid, with the
// upkeep defaults and every other param as it was, and the module is at version 2.
func TestUpgradeBridgeUpkeep(t *testing.T) {
	app := Setup(t)
	h := app.LastBlockHeight() + 1
	ctx := app.NewUncachedContext(false, cmtproto.Header{Height: h, ChainID: TestChainID, Time: TestBlockTime(h)}) //nolint:staticcheck // a test of state
	before, err := app.AuditKeeper.Params.Get(ctx)
	require.NoError(t, err)
	v1 := before
	v1.BridgeRetentionBlocks, v1.ValsetsKept, v1.MaxBridgePrunedPerBlock = 0, 0, 0
	v1.SignedWindowBlocks, v1.SlashFractionUnsigned, v1.JailUnsigned, v1.MaxUnsignedChecksPerBlock = 0, sdkmath.LegacyDec{}, false, 0
	v1.EpochBlocks = before.EpochBlocks + 7 // a param governance had changed stays changed
	require.NoError(t, app.AuditKeeper.Params.Set(ctx, v1))
	vm := app.ModuleManager.GetVersionMap()
	require.Equal(t, uint64(audit.ConsensusVersion), vm[audittypes.ModuleName])
	vm[audittypes.ModuleName] = 1
	require.NoError(t, app.UpgradeKeeper.SetModuleVersionMap(ctx, vm))

	require.NoError(t, app.UpgradeKeeper.ApplyUpgrade(ctx, upgradetypes.Plan{Name: UpgradeBridgeUpkeep, Height: h}))
	after, err := app.AuditKeeper.Params.Get(ctx)
	require.NoError(t, err)
	require.NoError(t, after.Validate())
	want := before
	want.EpochBlocks = v1.EpochBlocks
	require.Equal(t, want, after)
	versions, err := app.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(audit.ConsensusVersion), versions[audittypes.ModuleName], "through 2 to this binary's version")
	require.Equal(t, uint64(allocation.ConsensusVersion), versions[allocationtypes.ModuleName], "x/allocation was at its version and did not move")
}

// TestUpgradeLeasePruning applies the lease-pruning plan through x/upgrade to a chain whose x/lease is at
// consensus version 1 (params without the retention fields, no pruning queue, no bridged total): afterwards
// the params are valid with the pruning defaults, every ended lease and finished batch is queued at the
// height it stopped being needed, the bridged total is the bridged batches' sum, and the module is at
// version 2.
func TestUpgradeLeasePruning(t *testing.T) {
	app := Setup(t)
	h := app.LastBlockHeight() + 1
	ctx := app.NewUncachedContext(false, cmtproto.Header{Height: h, ChainID: TestChainID, Time: TestBlockTime(h)}) //nolint:staticcheck // a test of state
	lk := app.LeaseKeeper
	before, err := lk.Params.Get(ctx)
	require.NoError(t, err)
	v1 := before
	v1.RetentionBlocks, v1.MaxPrunedPerBlock = 0, 0
	v1.TakeBps = before.TakeBps + 1 // a param governance had changed stays changed
	require.NoError(t, lk.Params.Set(ctx, v1))
	coin := func(n int64) sdk.Coin { return sdk.NewCoin(BondDenom, sdkmath.NewInt(n)) }
	sub := benchOperator()
	for _, l := range []leasetypes.Lease{
		{Id: 1, Submitter: sub, State: leasetypes.LEASE_STATE_CLOSED, ClosedHeight: 40, Deposit: coin(10)},
		{Id: 2, Submitter: sub, State: leasetypes.LEASE_STATE_ACTIVE, Deposit: coin(10)},
		{Id: 3, Submitter: sub, State: leasetypes.LEASE_STATE_EXPIRED, ClosedHeight: 7, Deposit: coin(10)},
	} {
		require.NoError(t, lk.Leases.Set(ctx, l.Id, l))
	}
	for _, b := range []leasetypes.SettlementBatch{
		{Nonce: 1, State: leasetypes.BATCH_STATE_BRIDGED, Total: coin(500), ClosedHeight: 20},
		{Nonce: 2, State: leasetypes.BATCH_STATE_CANCELLED, Total: coin(0), ClosedHeight: 30},
		{Nonce: 3, State: leasetypes.BATCH_STATE_BRIDGED, Total: coin(700), ClosedHeight: 30},
		{Nonce: 4, State: leasetypes.BATCH_STATE_PENDING, Total: coin(90)},
	} {
		require.NoError(t, lk.Batches.Set(ctx, b.Nonce, b))
	}
	vm := app.ModuleManager.GetVersionMap()
	require.Equal(t, uint64(lease.ConsensusVersion), vm[leasetypes.ModuleName])
	vm[leasetypes.ModuleName] = 1
	require.NoError(t, app.UpgradeKeeper.SetModuleVersionMap(ctx, vm))

	require.NoError(t, app.UpgradeKeeper.ApplyUpgrade(ctx, upgradetypes.Plan{Name: UpgradeLeasePruning, Height: h}))
	after, err := lk.Params.Get(ctx)
	require.NoError(t, err)
	require.NoError(t, after.Validate())
	want := before
	want.TakeBps = v1.TakeBps
	require.Equal(t, want, after)
	it, err := lk.Prunes.Iterate(ctx, nil)
	require.NoError(t, err)
	keys, err := it.Keys()
	require.NoError(t, err)
	var got [][3]int64
	for _, k := range keys {
		got = append(got, [3]int64{k.K1(), int64(k.K2()), int64(k.K3())})
	}
	require.Equal(t, [][3]int64{
		{7, int64(leasetypes.PruneLease), 3},
		{30, int64(leasetypes.PruneBatch), 1}, // overtaken when batch 3 was bridged, at 30
		{30, int64(leasetypes.PruneBatch), 2}, // cancelled at 30
		{40, int64(leasetypes.PruneLease), 1},
	}, got, "the ended leases and finished batches; the open lease, the newest bridged and the pending batch are not queued")
	total, err := lk.BridgedTotals(ctx)
	require.NoError(t, err)
	require.Equal(t, sdk.NewCoins(coin(1_200)), total)
	versions, err := app.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), versions[leasetypes.ModuleName])
}

// TestUpgradeGPUTelemetryFields applies the gpu-telemetry-fields plan to a chain whose x/audit is at
// consensus version 2: a report stored before it is unchanged (it decodes with the new fields empty and
// stays valid), the params are unchanged, and the module is at version 3.
func TestUpgradeGPUTelemetryFields(t *testing.T) {
	app := Setup(t)
	h := app.LastBlockHeight() + 1
	ctx := app.NewUncachedContext(false, cmtproto.Header{Height: h, ChainID: TestChainID, Time: TestBlockTime(h)}) //nolint:staticcheck // a test of state
	old := audittypes.TelemetryReport{NodeId: "gpu-node-a", Epoch: 4, Agent: benchOperator(), Height: h - 1,
		Gpus: []audittypes.GpuMetrics{{DeviceIndex: 0, Uuid: "GPU-1", Model: "NVIDIA H100 80GB HBM3", Source: audittypes.SOURCE_NVML,
			Present: true, MemoryUsedMib: 1, MemoryTotalMib: 81_559, PowerMw: 70_000}}}
	key := collections.Join(old.NodeId, old.Epoch)
	require.NoError(t, app.AuditKeeper.Reports.Set(ctx, key, old))
	params, err := app.AuditKeeper.Params.Get(ctx)
	require.NoError(t, err)
	vm := app.ModuleManager.GetVersionMap()
	require.Equal(t, uint64(3), vm[audittypes.ModuleName])
	vm[audittypes.ModuleName] = 2
	require.NoError(t, app.UpgradeKeeper.SetModuleVersionMap(ctx, vm))

	require.NoError(t, app.UpgradeKeeper.ApplyUpgrade(ctx, upgradetypes.Plan{Name: UpgradeGPUTelemetryFields, Height: h}))
	got, err := app.AuditKeeper.Reports.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, old, got)
	for _, g := range got.Gpus {
		require.NoError(t, g.Validate())
		require.Empty(t, g.Unavailable)
	}
	after, err := app.AuditKeeper.Params.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, params, after)
	versions, err := app.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(3), versions[audittypes.ModuleName])
}
