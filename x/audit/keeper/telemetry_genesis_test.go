package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

// TestTelemetryGenesisRoundTrip exports reports, links, faults, stats, the epoch and an unfinished sweep,
// imports them through JSON into a fresh chain, and gets the same state, indexes and behaviour back.
func TestTelemetryGenesisRoundTrip(t *testing.T) {
	f := telemetryQueryFixture(t)
	p := f.Params()
	p.MaxNodesCheckedPerBlock = 1
	f.SetParams(p)
	startEpoch(t, f, 5)
	f.RunBlocks(51) // epoch 4's sweep has started and is unfinished
	s, err := f.Keeper.Sweeps.Get(f.Ctx, 4)
	require.NoError(t, err)
	require.Equal(t, uint64(1), s.NodesChecked)

	exported, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.NoError(t, exported.Validate())
	require.Len(t, exported.Reports, 6)
	require.Len(t, exported.Links, 2)
	require.Len(t, exported.Faults, 4)
	require.Len(t, exported.NodeStats, 4)
	require.Equal(t, []types.EpochSweep{s}, exported.Sweeps)
	require.Equal(t, types.EpochInfo{Number: 5, StartHeight: 50}, exported.Epoch)
	require.Equal(t, uint64(5), exported.NextFaultId)

	var gs types.GenesisState
	f.Codec.MustUnmarshalJSON(f.Codec.MustMarshalJSON(exported), &gs)
	g := audittestutil.NewFixtureWithoutGenesis(t)
	g.SetHeight(f.Height())
	require.NoError(t, g.Keeper.InitGenesis(g.Ctx, gs))
	g.RequireInvariant()
	again, err := g.Keeper.ExportGenesis(g.Ctx)
	require.NoError(t, err)
	requireSameProto(t, exported, again)

	// Indexes were rebuilt: the epoch and node queries see the imported records.
	res, err := g.QueryServer.Telemetry(g.Ctx, &types.QueryTelemetryRequest{MinEpoch: 3, MaxEpoch: 3})
	require.NoError(t, err)
	require.Equal(t, [][2]any{{nodeA, uint64(3)}, {nodeD, uint64(3)}}, reportKeys(res.Reports))
	faults, err := g.QueryServer.Faults(g.Ctx, &types.QueryFaultsRequest{NodeId: nodeC})
	require.NoError(t, err)
	require.Len(t, faults.Faults, 2)
	links, err := g.QueryServer.Links(g.Ctx, &types.QueryLinksRequest{NodeId: nodeC})
	require.NoError(t, err)
	require.Len(t, links.Links, 1)
	has, err := g.Keeper.Reports.Has(g.Ctx, collections.Join(nodeB, uint64(4)))
	require.NoError(t, err)
	require.True(t, has)
}

func TestInitGenesisStartsEpochOne(t *testing.T) {
	f := audittestutil.NewFixtureWithoutGenesis(t)
	f.SetHeight(7)
	require.NoError(t, f.Keeper.InitGenesis(f.Ctx, *types.DefaultGenesis()))
	require.Equal(t, types.EpochInfo{Number: 1, StartHeight: 7}, f.Epoch())
	require.Equal(t, types.DefaultParams(), f.Params())
	f.RequireInvariant()
}

func TestCheckTelemetryState(t *testing.T) {
	tests := []struct {
		name     string
		corrupt  func(t *testing.T, f *audittestutil.Fixture)
		contains string
	}{
		{
			name: "report under another key",
			corrupt: func(t *testing.T, f *audittestutil.Fixture) {
				r, err := f.Keeper.Reports.Get(f.Ctx, collections.Join(nodeA, uint64(2)))
				require.NoError(t, err)
				r.Epoch = 3
				require.NoError(t, f.Keeper.Reports.Set(f.Ctx, collections.Join(nodeA, uint64(2)), r))
			},
			contains: "report of gpu-a for epoch 3 stored under (gpu-a, 2)",
		},
		{
			name: "report index entry left behind",
			corrupt: func(t *testing.T, f *audittestutil.Fixture) {
				require.NoError(t, f.Keeper.Reports.Indexes.Epoch.Reference(f.Ctx, collections.Join(nodeC, uint64(2)), types.TelemetryReport{}, nil))
			},
			contains: "reports_by_epoch: entry (2, gpu-c) without a report",
		},
		{
			name: "wrong median",
			corrupt: func(t *testing.T, f *audittestutil.Fixture) {
				l := link(t, f, nodeA, nodeB)
				l.MedianRttUs++
				require.NoError(t, f.Keeper.Links.Set(f.Ctx, collections.Join(nodeA, nodeB), l))
			},
			contains: "medians 1001 us / 9000000 kbit/s, but the samples give 1000 us / 9000000 kbit/s",
		},
		{
			name: "fault id beyond the sequence",
			corrupt: func(t *testing.T, f *audittestutil.Fixture) {
				require.NoError(t, f.Keeper.FaultSeq.Set(f.Ctx, 2))
			},
			contains: "not below the next fault id 2",
		},
		{
			name: "sweep of the current epoch",
			corrupt: func(t *testing.T, f *audittestutil.Fixture) {
				require.NoError(t, f.Keeper.Sweeps.Set(f.Ctx, 4, types.EpochSweep{Epoch: 4, StartHeight: 40, EndHeight: 41}))
			},
			contains: "sweep under epoch 4 is for epoch 4",
		},
		{
			name: "stats that do not add up",
			corrupt: func(t *testing.T, f *audittestutil.Fixture) {
				require.NoError(t, f.Keeper.NodeStats.Set(f.Ctx, nodeD, types.NodeAuditStats{NodeId: nodeD, Reports: 1, CleanReports: 2}))
			},
			contains: "stats of node gpu-d: 2 clean and 0 disputed of 1 reports",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := telemetryQueryFixture(t)
			require.NoError(t, f.Keeper.CheckTelemetryState(f.Ctx))
			tc.corrupt(t, f)
			require.ErrorContains(t, f.Keeper.CheckTelemetryState(f.Ctx), tc.contains)
		})
	}
}
