package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// TestMigrate1to2 starts from a consensus-version-1 capacity index (keys without values, plus a stale key
// no node backs) and checks that the migration leaves exactly the index the nodes give, values included,
// and that the allocator then reads the right groups from it.
func TestMigrate1to2(t *testing.T) {
	e := newEngineFixture(t)
	e.node(keepertest.NodeSpec{ID: "a", Region: "aws:us-east-1", PricePerGpuHour: 2_000_000, BandwidthMbps: 25_000, ReputationBps: 7_200,
		Gpus: []types.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920, Reserved: 3}, {Model: "A100", Count: 4, MemoryMib: 40960}}})
	e.node(keepertest.NodeSpec{ID: "b", Region: "gcp:us-central1-a", PricePerGpuHour: 1_500_000,
		Gpus: []types.GpuGroup{{Model: "H100", Count: 4, MemoryMib: 81920, Reserved: 4}}})
	e.node(keepertest.NodeSpec{ID: "c", Region: "aws:us-west-2", PricePerGpuHour: 3_000_000,
		Gpus: []types.GpuGroup{{Model: "L4", Count: 2, MemoryMib: 24576}}})
	want := expectedCapacityIndex(e.nodes())
	require.Equal(t, want, e.CapacityIndexEntries())

	e.SetCapacityIndexV1(collections.Join4("*", uint64(1_000_000), uint32(8), "gone/0"))
	v1 := e.CapacityIndexEntries()
	require.Len(t, v1, len(want)+1)
	for _, entry := range v1 {
		require.Equal(t, types.CapacityEntry{}, entry.Value, "a version 1 entry has no value")
	}

	require.NoError(t, keeper.NewMigrator(e.Keeper).Migrate1to2(e.Ctx))
	require.Equal(t, want, e.CapacityIndexEntries())
	e.requireEngineInvariants()

	// A walk after the migration lists the groups with their nodes' fields.
	var got []types.CapacityGroup
	_, err := e.Keeper.NewTestView(e.Ctx).WalkCapacity("m/H100", 10_000_000, 10, func(g *types.CapacityGroup) (bool, error) {
		got = append(got, *g)
		return false, nil
	})
	require.NoError(t, err)
	require.Equal(t, []types.CapacityGroup{{NodeID: "a", Group: 0, Price: 2_000_000, Free: 5, Entry: types.CapacityEntry{
		Region: "aws:us-east-1", GpuModel: "H100", GpuMemoryMib: 81920, BandwidthMbps: 25_000, ReputationBps: 7_200,
	}}}, got)
}
