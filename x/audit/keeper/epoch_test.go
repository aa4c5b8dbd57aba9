package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

func TestEpochsAdvance(t *testing.T) {
	f := telemetryFixture(t)
	require.Equal(t, types.EpochInfo{Number: 1, StartHeight: 10}, f.Epoch())
	f.SetHeight(18)
	require.NoError(t, f.EndBlock())
	require.Equal(t, uint64(1), f.Epoch().Number)
	require.Empty(t, f.TypedEvents())

	// Epoch 1 ends in the EndBlock of its 10th block; epoch 2 starts at the next block.
	f.SetHeight(19)
	require.NoError(t, f.EndBlock())
	require.Equal(t, types.EpochInfo{Number: 2, StartHeight: 20}, f.Epoch())
	require.Equal(t, proto.Message(&types.EventEpochStarted{Epoch: 2, StartHeight: 20}), f.TypedEvents()[0])
	s, err := f.Keeper.Sweeps.Get(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, types.EpochSweep{Epoch: 1, StartHeight: 10, EndHeight: 19, NextLeaseId: 1}, s)

	q, err := f.QueryServer.Epoch(f.Ctx, &types.QueryEpochRequest{})
	require.NoError(t, err)
	require.Equal(t, &types.QueryEpochResponse{
		Epoch: types.EpochInfo{Number: 2, StartHeight: 20}, NextStartHeight: 30, PreviousAcceptedUntil: 21, PendingSweeps: 1,
	}, q)

	// A shorter epoch_blocks voted in mid-epoch ends the epoch as soon as it is used up.
	f.SetHeight(25)
	p := f.Params()
	p.EpochBlocks, p.GraceBlocks = 4, 1
	f.SetParams(p)
	require.NoError(t, f.EndBlock())
	require.Equal(t, types.EpochInfo{Number: 3, StartHeight: 26}, f.Epoch())
	f.RequireInvariant()
}

// TestMissedEpochSweep: a node of a lease active through a whole epoch that sent no report for it gets a
// MISSED_EPOCH fault once the epoch's grace has passed; the sweep does at most max_nodes_checked_per_block
// checks per block and resumes from its cursor.
func TestMissedEpochSweep(t *testing.T) {
	f := telemetryFixture(t)
	p := f.Params()
	p.MaxNodesCheckedPerBlock = 2
	f.SetParams(p)
	// A third lease on gpu-a alone, activated during epoch 2: it does not make gpu-a owe epoch 2.
	f.SetHeight(25)
	f.AddLease(audittestutil.Place{Node: nodeA, Gpus: 1})
	f.SetHeight(10)

	// Epoch 2: only gpu-a reports. gpu-d has no lease and owes nothing.
	startEpoch(t, f, 2)
	submit(t, f, report(f, nodeA))

	// Epoch 1: the leases were placed at its first block, so nobody owed it a report. Its sweep runs once
	// its grace has passed (EndBlock of height 21), two leases per block.
	f.RunBlocks(22)
	require.Empty(t, allFaults(t, f))
	_, err := f.Keeper.Sweeps.Get(f.Ctx, 1)
	require.ErrorIs(t, err, collections.ErrNotFound, "epoch 1 swept")
	require.Equal(t, []proto.Message{&types.EventEpochSwept{Epoch: 1}}, f.TypedEvents())

	// Epoch 2's grace ends with height 31; its sweep starts in that EndBlock.
	f.SetHeight(23)
	f.RunBlocks(30)
	require.Empty(t, allFaults(t, f), "reports for epoch 2 are still accepted at height 31")

	// Height 31: budget 2 = lease 1's two nodes; gpu-a reported, gpu-b did not.
	f.SetHeight(31)
	require.NoError(t, f.EndBlock())
	faults := allFaults(t, f)
	require.Len(t, faults, 1)
	missedB := types.Fault{Id: 1, NodeId: nodeB, Epoch: 2, Kind: types.FAULT_KIND_MISSED_EPOCH, Height: 31, EpochStartHeight: 20,
		Detail: "no telemetry report for the epoch while the node served an active lease"}
	require.Equal(t, missedB, faults[0])
	require.Equal(t, []proto.Message{
		&types.EventFaultRecorded{Fault: missedB, FaultsInWindow: 1},
		&types.EventReputationChanged{NodeId: nodeB, Epoch: 2, OldBps: 5_000, NewBps: 4_500, Reason: types.REPUTATION_REASON_FAULT},
	}, f.TypedEvents())
	s, err := f.Keeper.Sweeps.Get(f.Ctx, 2)
	require.NoError(t, err)
	require.Equal(t, types.EpochSweep{Epoch: 2, StartHeight: 20, EndHeight: 29, NextLeaseId: 2, NodesChecked: 2, Faults: 1}, s)
	f.RequireInvariant()

	// Height 32: lease 2 (gpu-b already faulted, gpu-c missed); lease 3 is not reached.
	f.SetHeight(32)
	require.NoError(t, f.EndBlock())
	faults = allFaults(t, f)
	require.Len(t, faults, 2)
	require.Equal(t, nodeC, faults[1].NodeId)
	s, err = f.Keeper.Sweeps.Get(f.Ctx, 2)
	require.NoError(t, err)
	require.Equal(t, uint64(3), s.NextLeaseId)

	// Height 33: lease 3 was activated during epoch 2 and is skipped; the sweep ends.
	f.SetHeight(33)
	require.NoError(t, f.EndBlock())
	require.Len(t, allFaults(t, f), 2)
	require.Equal(t, []proto.Message{&types.EventEpochSwept{Epoch: 2, NodesChecked: 4, Faults: 2}}, f.TypedEvents())
	_, err = f.Keeper.Sweeps.Get(f.Ctx, 2)
	require.ErrorIs(t, err, collections.ErrNotFound)

	require.Equal(t, uint32(4_500), f.Reputation(nodeB))
	require.Equal(t, uint32(4_500), f.Reputation(nodeC))
	require.Equal(t, uint32(5_010), f.Reputation(nodeA))
	require.Equal(t, uint32(5_000), f.Reputation(nodeD))
	require.Equal(t, types.NodeAuditStats{NodeId: nodeB, Faults: 1, MissedEpochs: 1}, stats(t, f, nodeB))
	f.RequireInvariant()

	// Epoch 3: lease 1 ends before the sweep; its nodes no longer owe the epoch, lease 3 now does.
	startEpoch(t, f, 4)
	f.EndLease(1)
	f.RunBlocks(45)
	var epoch3 []string
	for _, x := range allFaults(t, f) {
		if x.Epoch == 3 {
			epoch3 = append(epoch3, x.NodeId)
		}
	}
	require.Equal(t, []string{nodeB, nodeC, nodeA}, epoch3, "lease 2's nodes, then lease 3's")
	f.RequireInvariant()
}

// TestSweepBoundWithManyLeases: with many leases and a budget of 3, every block checks at most 3 nodes, and
// the sweep still reaches every one.
func TestSweepBoundWithManyLeases(t *testing.T) {
	f := audittestutil.NewFixture(t)
	p := telemetryParams()
	p.MaxNodesCheckedPerBlock = 3
	f.SetParams(p)
	for i := range 10 {
		id := "node-" + string(rune('a'+i))
		f.AddNode(id)
		f.AddLease(audittestutil.Place{Node: id, Gpus: 1})
	}
	startEpoch(t, f, 3) // epoch 2 ends at 29
	require.Empty(t, allFaults(t, f))
	f.SetHeight(31)
	for h := int64(31); h <= 34; h++ {
		f.SetHeight(h)
		before := len(allFaults(t, f))
		require.NoError(t, f.EndBlock())
		require.LessOrEqual(t, len(allFaults(t, f))-before, 3, "height %d", h)
	}
	require.Len(t, allFaults(t, f), 10)
	_, err := f.Keeper.Sweeps.Get(f.Ctx, 2)
	require.ErrorIs(t, err, collections.ErrNotFound)
	f.RequireInvariant()
}

func TestPruneOldTelemetry(t *testing.T) {
	f := telemetryFixture(t)
	p := f.Params()
	p.ReportRetentionEpochs = 5
	p.MaxPrunedPerBlock = 2
	f.SetParams(p)
	startEpoch(t, f, 2)
	submit(t, f, report(f, nodeA, probe(nodeB, 1_000, 9_000_000)))
	submit(t, f, report(f, nodeB))
	submit(t, f, report(f, nodeD))
	startEpoch(t, f, 3)
	submit(t, f, report(f, nodeD))

	// Epoch 7 keeps epochs 2..7 (retention 5 before it); epoch 8, from the EndBlock that starts it, prunes
	// epoch 2, two records per block.
	startEpoch(t, f, 7)
	f.RunBlocks(78)
	require.True(t, mustHas(t, f, nodeA, 2))
	f.SetHeight(79)
	require.NoError(t, f.EndBlock())
	require.Equal(t, []proto.Message{
		&types.EventEpochStarted{Epoch: 8, StartHeight: 80},
		&types.EventTelemetryPruned{BeforeEpoch: 3, Reports: 2},
	}, f.TypedEvents())
	f.SetHeight(f.Height() + 1)
	require.NoError(t, f.EndBlock())
	require.Equal(t, []proto.Message{&types.EventTelemetryPruned{BeforeEpoch: 3, Reports: 1, Links: 1}}, f.TypedEvents())
	require.False(t, mustHas(t, f, nodeA, 2))
	require.False(t, mustHas(t, f, nodeD, 2))
	require.True(t, mustHas(t, f, nodeD, 3))
	_, err := f.Keeper.Links.Get(f.Ctx, collections.Join(nodeA, nodeB))
	require.ErrorIs(t, err, collections.ErrNotFound)
	f.SetHeight(f.Height() + 1)
	f.ResetEvents()
	require.NoError(t, f.EndBlock())
	for _, ev := range f.TypedEvents() {
		require.NotEqual(t, "nro.audit.v1.EventTelemetryPruned", proto.MessageName(ev), "nothing left to prune")
	}
	// Faults and stats are kept.
	require.Equal(t, uint64(1), stats(t, f, nodeA).Reports)
	f.RequireInvariant()
}

func TestUpdateParams(t *testing.T) {
	f := telemetryFixture(t)
	p := types.DefaultParams()
	p.ToleranceBps = 1_000

	_, err := f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Agent(nodeA), Params: p})
	require.ErrorIs(t, err, types.ErrInvalidAuthority)
	require.ErrorContains(t, err, "(the gov module account)")

	bad := p
	bad.GraceBlocks = bad.EpochBlocks
	_, err = f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: bad})
	require.ErrorIs(t, err, types.ErrInvalidParams)
	require.ErrorContains(t, err, "grace_blocks 100: want below epoch_blocks 100")
	require.Equal(t, telemetryParams(), f.Params())
	require.Empty(t, f.TypedEvents())

	_, err = f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)
	require.Equal(t, p, f.Params())
	require.Equal(t, []proto.Message{&types.EventParamsUpdated{Params: p}}, f.TypedEvents())
}
