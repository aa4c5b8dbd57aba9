package keeper_test

import (
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/keeper"
	"github.com/consensus-nro/nro/x/lease/testutil"
	"github.com/consensus-nro/nro/x/lease/types"
)

func pruneQueue(t *testing.T, f *testutil.Fixture) []keeper.PruneKey {
	t.Helper()
	it, err := f.Keeper.Prunes.Iterate(f.Ctx, nil)
	require.NoError(t, err)
	keys, err := it.Keys()
	require.NoError(t, err)
	return keys
}

func pk(h int64, kind types.PruneKind, id uint64) keeper.PruneKey {
	return collections.Join3(h, kind, id)
}

// prune runs the pruning step of EndBlock at height h with fresh events and checks the invariants after.
func prune(t *testing.T, f *testutil.Fixture, h int64) {
	t.Helper()
	f.SetHeight(h)
	require.NoError(t, f.Keeper.Prune(f.Ctx))
	f.RequireInvariant()
}

func cancelledLease(t *testing.T, f *testutil.Fixture, sub string) types.Lease {
	t.Helper()
	l := f.CreateLease(f.ValidCreateMsg(sub))
	_, err := f.MsgServer.CancelLease(f.Ctx, &types.MsgCancelLease{Submitter: sub, LeaseId: l.Id})
	require.NoError(t, err)
	return f.Lease(l.Id)
}

// TestPruneEndedLeasesAndBridgedBatches follows a lease with a bridged and an unbridged node through its
// retention: the lease and its unbridged record go retention_blocks after it closed; its bridged record
// stays while its batch is pending, and while the batch is the newest bridged one; once a newer batch is
// bridged, the old batch goes with the record retention_blocks later. Every unro stays accounted for.
func TestPruneEndedLeasesAndBridgedBatches(t *testing.T) {
	f := bridgeFixture(t, func(p *types.Params) { p.RetentionBlocks = 50 })
	_, sub := f.Addr("submitter")
	_, opA := f.Addr("operator-a")
	_, opB := f.Addr("operator-b")
	_, opC := f.Addr("operator-c")

	first := runBridgedLease(t, f, sub, [2]string{opA, ethA}, [2]string{opB, ""})
	cancelled := cancelledLease(t, f, sub)
	closedAt := first.ClosedHeight
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx)) // batch 1: opA's bridged record
	recs := records(t, f)
	require.Len(t, recs, 2)
	bridgedRec, plainRec := recs[0], recs[1]
	require.True(t, bridgedRec.Bridged)
	require.Equal(t, []keeper.PruneKey{pk(closedAt, types.PruneLease, first.Id), pk(closedAt, types.PruneLease, cancelled.Id)}, pruneQueue(t, f))

	// Not before retention_blocks have passed.
	prune(t, f, closedAt+49)
	require.Empty(t, f.TypedEvents())
	f.Lease(first.Id)

	prune(t, f, closedAt+50)
	requireEvents(t, f, &types.EventStatePruned{LeaseIds: []uint64{first.Id, cancelled.Id}, Records: 1})
	for _, id := range []uint64{first.Id, cancelled.Id} {
		_, err := f.Keeper.GetLease(f.Ctx, id)
		require.ErrorIs(t, err, types.ErrLeaseNotFound)
		res, err := f.QueryServer.Leases(f.Ctx, &types.QueryLeasesRequest{NodeId: "node-b-" + opB[len(opB)-4:]})
		require.NoError(t, err)
		require.Empty(t, res.Leases, "the node index goes with the lease")
	}
	_, err := f.QueryServer.Lease(f.Ctx, &types.QueryLeaseRequest{LeaseId: first.Id})
	require.Equal(t, codes.NotFound, status.Code(err))
	require.ErrorContains(t, err, "lease 1 was pruned: it ended more than retention_blocks ago")
	_, err = f.QueryServer.Lease(f.Ctx, &types.QueryLeaseRequest{LeaseId: 99})
	require.ErrorContains(t, err, "no lease with id 99")
	_, err = f.Keeper.SettlementRecords.Get(f.Ctx, plainRec.Id)
	require.ErrorIs(t, err, collections.ErrNotFound, "the unbridged record goes with its lease")
	got, err := f.Keeper.SettlementRecords.Get(f.Ctx, bridgedRec.Id)
	require.NoError(t, err, "the bridged record waits for its batch to be bridged")
	require.Equal(t, uint64(1), got.BatchNonce)
	require.Empty(t, pruneQueue(t, f))

	// Batch 1 bridged: it is the newest bridged batch, kept whatever its age.
	require.NoError(t, f.Keeper.MarkBatchBridged(f.Ctx, 1, 0, 100, "0x1"))
	total, err := f.Keeper.BridgedTotals(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, sdk.NewCoins(unro(11_760_000)), total)
	require.Empty(t, pruneQueue(t, f))
	prune(t, f, f.Height()+1_000)
	_, err = f.Keeper.GetBatch(f.Ctx, 1)
	require.NoError(t, err)

	// A second lease, batch 2 bridged after batch 1: batch 1 is queued from that height.
	second := runBridgedLease(t, f, sub, [2]string{opC, ethB})
	f.NextBlock(10)
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	f.NextBlock(1)
	bridgedAt := f.Height()
	require.NoError(t, f.Keeper.MarkBatchBridged(f.Ctx, 2, 1, 200, "0x2"))
	f.RequireInvariant()
	require.Equal(t, []keeper.PruneKey{pk(second.ClosedHeight, types.PruneLease, second.Id), pk(bridgedAt, types.PruneBatch, 1)}, pruneQueue(t, f))
	total, err = f.Keeper.BridgedTotals(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, sdk.NewCoins(unro(2*11_760_000)), total)

	prune(t, f, bridgedAt+50)
	requireEvents(t, f, &types.EventStatePruned{LeaseIds: []uint64{second.Id}, BatchNonces: []uint64{1}, Records: 1})
	_, err = f.Keeper.GetBatch(f.Ctx, 1)
	require.ErrorIs(t, err, types.ErrBatchNotFound)
	_, err = f.QueryServer.Batch(f.Ctx, &types.QueryBatchRequest{Nonce: 1})
	require.ErrorContains(t, err, "batch 1 was pruned")
	_, err = f.Keeper.SettlementRecords.Get(f.Ctx, bridgedRec.Id)
	require.ErrorIs(t, err, collections.ErrNotFound, "the bridged record goes with its batch")
	b2, err := f.Keeper.GetBatch(f.Ctx, 2)
	require.NoError(t, err, "the newest bridged batch stays")
	for _, id := range b2.RecordIds {
		_, err := f.Keeper.SettlementRecords.Get(f.Ctx, id)
		require.NoError(t, err, "batch 2's record stays with it, though its lease is gone")
	}
	// What the bridge escrow holds is still what the bridged batches paid.
	require.Equal(t, int64(2*11_760_000), bridgeEscrow(f))
	require.Empty(t, pruneQueue(t, f))
}

// TestPruneCancelledBatch: a batch overtaken by a newer bridged one is cancelled, its record waits again;
// the cancelled batch is pruned retention_blocks after the cancellation, and the record, in a new batch,
// is not touched.
func TestPruneCancelledBatch(t *testing.T) {
	f := bridgeFixture(t, func(p *types.Params) { p.RetentionBlocks = 20 })
	_, sub := f.Addr("submitter")
	_, op1 := f.Addr("operator-1")
	_, op2 := f.Addr("operator-2")
	runBridgedLease(t, f, sub, [2]string{op1, ethA})
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx)) // batch 1
	runBridgedLease(t, f, sub, [2]string{op2, ethB})
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx)) // batch 2
	b1, _ := f.Keeper.GetBatch(f.Ctx, 1)
	require.NoError(t, f.Keeper.MarkBatchBridged(f.Ctx, 2, 0, 50, "0x2")) // 1 cancelled
	cancelledAt := f.Height()
	f.NextBlock(10)
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx)) // batch 3: batch 1's record again
	f.RequireInvariant()

	prune(t, f, cancelledAt+20)
	_, err := f.Keeper.GetBatch(f.Ctx, 1)
	require.ErrorIs(t, err, types.ErrBatchNotFound)
	r, err := f.Keeper.SettlementRecords.Get(f.Ctx, b1.RecordIds[0])
	require.NoError(t, err, "the cancelled batch's record waits in batch 3")
	require.Equal(t, uint64(3), r.BatchNonce)
	for _, n := range []uint64{2, 3} {
		_, err := f.Keeper.GetBatch(f.Ctx, n)
		require.NoError(t, err)
	}
}

// TestPruneIsBoundedPerBlock: at most max_pruned_per_block entries per block, oldest first; the rest wait.
func TestPruneIsBoundedPerBlock(t *testing.T) {
	f := testutil.NewFixture(t)
	p := f.Params()
	p.RetentionBlocks, p.MaxPrunedPerBlock = 10, 2
	f.SetParams(p)
	_, sub := f.Addr("submitter")
	var ids []uint64
	for range 5 {
		ids = append(ids, cancelledLease(t, f, sub).Id)
		f.NextBlock(1)
	}
	h := f.Height() + 20
	for _, want := range [][]uint64{ids[:2], ids[2:4], ids[4:]} {
		prune(t, f, h)
		requireEvents(t, f, &types.EventStatePruned{LeaseIds: want})
		h++
	}
	prune(t, f, h)
	require.Empty(t, f.TypedEvents())
	res, err := f.QueryServer.Leases(f.Ctx, &types.QueryLeasesRequest{Submitter: sub})
	require.NoError(t, err)
	require.Empty(t, res.Leases)
}

// TestRetentionZeroKeepsEverything: with retention_blocks 0 nothing is pruned; the queue still records
// the ended leases, so that turning retention on later prunes them.
func TestRetentionZeroKeepsEverything(t *testing.T) {
	f := testutil.NewFixture(t)
	p := f.Params()
	p.RetentionBlocks = 0
	f.SetParams(p)
	_, sub := f.Addr("submitter")
	l := cancelledLease(t, f, sub)
	prune(t, f, f.Height()+10_000_000)
	f.Lease(l.Id)
	require.Len(t, pruneQueue(t, f), 1)

	p.RetentionBlocks = 100
	f.SetParams(p)
	prune(t, f, f.Height())
	_, err := f.Keeper.GetLease(f.Ctx, l.Id)
	require.ErrorIs(t, err, types.ErrLeaseNotFound)
}

// TestPrunedGenesisRoundTrip: the state after pruning exports and imports to the same state; the pruning
// queue and the bridged total are rebuilt, and what is still queued is pruned on time in the new chain.
func TestPrunedGenesisRoundTrip(t *testing.T) {
	f := bridgeFixture(t, func(p *types.Params) { p.RetentionBlocks = 50 })
	_, sub := f.Addr("submitter")
	_, op1 := f.Addr("operator-1")
	_, op2 := f.Addr("operator-2")
	_, op3 := f.Addr("operator-3")
	runBridgedLease(t, f, sub, [2]string{op1, ethA}, [2]string{op3, ""})
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	require.NoError(t, f.Keeper.MarkBatchBridged(f.Ctx, 1, 0, 10, "0x1"))
	second := runBridgedLease(t, f, sub, [2]string{op2, ethB})
	f.NextBlock(10)
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	require.NoError(t, f.Keeper.MarkBatchBridged(f.Ctx, 2, 1, 20, "0x2"))
	bridgedAt := f.Height()
	cancelledLease(t, f, sub)
	prune(t, f, second.ClosedHeight+50) // lease 1 and 2 go; batch 1 waits until bridgedAt+50
	queue := pruneQueue(t, f)
	require.Len(t, queue, 2, "batch 1 and the cancelled lease")

	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, sdk.NewCoins(unro(2*11_760_000)), gs.BridgedTotal)
	require.Len(t, gs.Leases, 1)

	g := testutil.NewFixtureWithoutGenesis(t)
	escrow := sdk.NewCoins(f.Coin(bridgeEscrow(f)))
	require.NoError(t, g.BankKeeper.MintCoins(g.Ctx, "mint", escrow))
	require.NoError(t, g.BankKeeper.SendCoinsFromModuleToModule(g.Ctx, "mint", types.BridgeEscrowName, escrow))
	g.Ctx = g.Ctx.WithBlockHeight(f.Height())
	require.NoError(t, g.Keeper.InitGenesis(g.Ctx, *gs))
	again, err := g.Keeper.ExportGenesis(g.Ctx)
	require.NoError(t, err)
	require.Equal(t, gs, again)
	require.Equal(t, queue, pruneQueue(t, g), "the pruning queue is rebuilt as it was")
	g.RequireInvariant()

	prune(t, g, bridgedAt+50)
	_, err = g.Keeper.GetBatch(g.Ctx, 1)
	require.ErrorIs(t, err, types.ErrBatchNotFound)
	_, err = g.Keeper.GetBatch(g.Ctx, 2)
	require.NoError(t, err)

	// A genesis whose bridged total misses the pruned batch is refused: the bridge escrow would not match.
	pruned, err := g.Keeper.ExportGenesis(g.Ctx)
	require.NoError(t, err)
	bad := *pruned
	bad.BridgedTotal = sdk.NewCoins(unro(11_760_000))
	h := testutil.NewFixtureWithoutGenesis(t)
	require.NoError(t, h.BankKeeper.MintCoins(h.Ctx, "mint", escrow))
	require.NoError(t, h.BankKeeper.SendCoinsFromModuleToModule(h.Ctx, "mint", types.BridgeEscrowName, escrow))
	require.ErrorContains(t, h.Keeper.InitGenesis(h.Ctx, bad), "bridge escrow invariant broken")
}
