package keeper_test

import (
	"testing"
	"time"

	"cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/testutil"
	"github.com/consensus-nro/nro/x/lease/types"
)

const (
	ethA = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	ethB = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
)

func bridgeFixture(t *testing.T, mutate func(*types.Params)) *testutil.Fixture {
	t.Helper()
	f := testutil.NewFixture(t)
	p := f.Params()
	p.BridgeEnabled = true
	p.BatchBlocks = 10
	if mutate != nil {
		mutate(&p)
	}
	f.SetParams(p)
	return f
}

func bridgeEscrow(f *testutil.Fixture) int64 {
	return f.Balance(f.Keeper.BridgeEscrowAddress()).Int64()
}

// runBridgedLease creates a lease on one node per (operator, eth address) pair, 4 GPUs each at 3 NRO per
// GPU-hour, runs it for 600 blocks (one hour) and closes it. Each node earns 12 NRO, 11.76 after the 2% fee.
func runBridgedLease(t *testing.T, f *testutil.Fixture, submitter string, nodes ...[2]string) types.Lease {
	t.Helper()
	msg := f.ValidCreateMsg(submitter)
	msg.Spec.TotalGpus = uint32(4 * len(nodes))
	msg.Deposit = f.Coin(int64(4*len(nodes)) * 3_000_000 * 2)
	l := f.CreateLease(msg)
	var placed []types.LeaseNode
	for i, n := range nodes {
		ln := f.LeaseNode("node-"+string(rune('a'+i))+"-"+n[0][len(n[0])-4:], n[0], 4, 3_000_000)
		ln.EthAddress = n[1]
		placed = append(placed, ln)
	}
	l = f.Activate(l.Id, placed...)
	f.NextBlock(600)
	_, err := f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: submitter, LeaseId: l.Id})
	require.NoError(t, err)
	f.RequireInvariant()
	return f.Lease(l.Id)
}

func TestBridgedPayoutsGoToEscrowAndIntoABatch(t *testing.T) {
	f := bridgeFixture(t, nil)
	_, sub := f.Addr("submitter")
	opA, opAStr := f.Addr("operator-a")
	opB, opBStr := f.Addr("operator-b")

	l := runBridgedLease(t, f, sub, [2]string{opAStr, ethA}, [2]string{opBStr, ""})
	require.True(t, l.Nodes[0].Bridged, "a node with an Ethereum address is bridged while the bridge is on")
	require.False(t, l.Nodes[1].Bridged, "a node without one is paid on the chain")
	// 4 GPUs × 3 NRO × 1 h = 12 NRO per node; 2% fee leaves 11.76 NRO.
	require.Equal(t, int64(0), bal(f, opA), "the bridged node's operator is paid on Ethereum, not here")
	require.Equal(t, int64(11_760_000), bal(f, opB))
	require.Equal(t, int64(11_760_000), bridgeEscrow(f))

	recs := records(t, f)
	require.Len(t, recs, 2)
	require.True(t, recs[0].Bridged)
	require.Zero(t, recs[0].BatchNonce)
	require.False(t, recs[1].Bridged)

	// The first EndBlock after batch_blocks since the last batch (none yet) makes batch 1.
	f.ResetEvents()
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	b, err := f.Keeper.GetBatch(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, types.BATCH_STATE_PENDING, b.State)
	require.Equal(t, []types.BatchPayout{{EthAddress: ethA, Amount: math.NewInt(11_760_000)}}, b.Payouts)
	require.Equal(t, []uint64{recs[0].Id}, b.RecordIds)
	require.Equal(t, unro(11_760_000), b.Total)
	require.Equal(t, uint64(f.Ctx.BlockTime().Unix())+types.DefaultBatchTimeoutSeconds, b.Timeout)
	requireEvents(t, f, &types.EventBatchCreated{Nonce: 1, Records: 1, Payouts: 1, Total: unro(11_760_000), Timeout: b.Timeout})
	require.Equal(t, uint64(1), records(t, f)[0].BatchNonce)
	f.RequireInvariant()

	// Nothing is waiting: no second batch.
	f.NextBlock(20)
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	_, err = f.Keeper.GetBatch(f.Ctx, 2)
	require.ErrorIs(t, err, types.ErrBatchNotFound)

	// Executed on Ethereum: BRIDGED; the unro stay locked in the escrow as the backing of the wNRO minted.
	f.ResetEvents()
	require.NoError(t, f.Keeper.MarkBatchBridged(f.Ctx, 1, 0, 1234, "0xfeed"))
	b, _ = f.Keeper.GetBatch(f.Ctx, 1)
	require.Equal(t, types.BATCH_STATE_BRIDGED, b.State)
	require.Equal(t, uint64(1234), b.EthBlock)
	requireEvents(t, f, &types.EventBatchBridged{Nonce: 1, EthBlock: 1234, EthTxHash: "0xfeed"})
	require.Equal(t, int64(11_760_000), bridgeEscrow(f))
	f.RequireInvariant()
	require.ErrorIs(t, f.Keeper.MarkBatchBridged(f.Ctx, 1, 0, 1234, "0xfeed"), types.ErrBatchNotPending)
	require.ErrorIs(t, f.Keeper.MarkBatchBridged(f.Ctx, 9, 0, 1, "0x"), types.ErrBatchNotFound)
}

func TestBridgeOffPaysOnChain(t *testing.T) {
	f := testutil.NewFixture(t) // bridge_enabled defaults to false
	_, sub := f.Addr("submitter")
	opA, opAStr := f.Addr("operator-a")
	l := runBridgedLease(t, f, sub, [2]string{opAStr, ethA})
	require.False(t, l.Nodes[0].Bridged)
	require.Equal(t, int64(11_760_000), bal(f, opA))
	require.Zero(t, bridgeEscrow(f))
	f.NextBlock(200)
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	_, err := f.Keeper.GetBatch(f.Ctx, 1)
	require.ErrorIs(t, err, types.ErrBatchNotFound)
}

func TestBatchAggregatesPerAddressInAddressOrder(t *testing.T) {
	f := bridgeFixture(t, nil)
	_, sub := f.Addr("submitter")
	_, op1 := f.Addr("operator-1")
	_, op2 := f.Addr("operator-2")
	_, op3 := f.Addr("operator-3")
	// Two nodes paying ethB and one paying ethA, across two leases.
	runBridgedLease(t, f, sub, [2]string{op1, ethB}, [2]string{op2, ethA})
	runBridgedLease(t, f, sub, [2]string{op3, ethB})
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	b, err := f.Keeper.GetBatch(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, []types.BatchPayout{
		{EthAddress: ethA, Amount: math.NewInt(11_760_000)},
		{EthAddress: ethB, Amount: math.NewInt(2 * 11_760_000)},
	}, b.Payouts, "one payout per address, ascending by address")
	require.Len(t, b.RecordIds, 3)
	require.Equal(t, unro(3*11_760_000), b.Total)
	f.RequireInvariant()
}

func TestMaxBatchRecordsMakesABatchAtOnce(t *testing.T) {
	f := bridgeFixture(t, func(p *types.Params) { p.BatchBlocks = 1000; p.MaxBatchRecords = 1 })
	_, sub := f.Addr("submitter")
	_, op1 := f.Addr("operator-1")
	_, op2 := f.Addr("operator-2")
	require.NoError(t, f.Keeper.LastBatchHeight.Set(f.Ctx, f.Height()))
	runBridgedLease(t, f, sub, [2]string{op1, ethA}, [2]string{op2, ethB})
	// batch_blocks has not passed, but max_batch_records (1) wait: one record per batch, one batch per block.
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx.WithBlockHeight(f.Height()+1)))
	for nonce := uint64(1); nonce <= 2; nonce++ {
		b, err := f.Keeper.GetBatch(f.Ctx, nonce)
		require.NoError(t, err)
		require.Len(t, b.RecordIds, 1)
	}
	f.RequireInvariant()
}

func TestExecutedBatchCancelsTheOnesItOvertook(t *testing.T) {
	f := bridgeFixture(t, nil)
	_, sub := f.Addr("submitter")
	_, op1 := f.Addr("operator-1")
	_, op2 := f.Addr("operator-2")
	runBridgedLease(t, f, sub, [2]string{op1, ethA})
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx)) // batch 1: op1's record
	runBridgedLease(t, f, sub, [2]string{op2, ethB})
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx)) // batch 2: op2's record
	first, _ := f.Keeper.GetBatch(f.Ctx, 1)

	// An attestation that batch 2 executed after batch 1 cannot be applied while 1 is pending on the chain.
	require.ErrorContains(t, f.Keeper.MarkBatchBridged(f.Ctx, 2, 1, 50, "0x2"), "still PENDING below batch 1")
	// Batch 2 executed with nothing before it (lastBatchNonce was 0): batch 1 was skipped and never can run.
	f.ResetEvents()
	require.NoError(t, f.Keeper.MarkBatchBridged(f.Ctx, 2, 0, 50, "0x2"))
	requireEvents(t, f,
		&types.EventBatchCancelled{Nonce: 1, OvertakenBy: 2, Records: 1},
		&types.EventBatchBridged{Nonce: 2, EthBlock: 50, EthTxHash: "0x2"})
	b1, _ := f.Keeper.GetBatch(f.Ctx, 1)
	require.Equal(t, types.BATCH_STATE_CANCELLED, b1.State)
	f.RequireInvariant()

	// Its record waits again and goes into the next batch: nothing lost, nothing paid twice.
	rec, err := f.Keeper.SettlementRecords.Get(f.Ctx, first.RecordIds[0])
	require.NoError(t, err)
	require.Zero(t, rec.BatchNonce)
	f.NextBlock(10)
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	b3, err := f.Keeper.GetBatch(f.Ctx, 3)
	require.NoError(t, err)
	require.Equal(t, first.RecordIds, b3.RecordIds)
	require.Equal(t, first.Payouts, b3.Payouts)
	f.RequireInvariant()

	res, err := f.QueryServer.Batches(f.Ctx, &types.QueryBatchesRequest{State: types.BATCH_STATE_PENDING})
	require.NoError(t, err)
	require.Len(t, res.Batches, 1)
	require.Equal(t, uint64(3), res.Batches[0].Nonce)
	_, err = f.QueryServer.Batches(f.Ctx, &types.QueryBatchesRequest{State: 9})
	require.ErrorContains(t, err, "want PENDING, BRIDGED or CANCELLED")
	_, err = f.QueryServer.Batch(f.Ctx, &types.QueryBatchRequest{Nonce: 0})
	require.ErrorContains(t, err, "want a batch nonce")
}

func TestTimedOutBatchIsOvertakenByANewOne(t *testing.T) {
	f := bridgeFixture(t, func(p *types.Params) { p.BatchTimeoutSeconds = 600 })
	_, sub := f.Addr("submitter")
	_, op1 := f.Addr("operator-1")
	runBridgedLease(t, f, sub, [2]string{op1, ethA})
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	b1, _ := f.Keeper.GetBatch(f.Ctx, 1)

	// Before the timeout nothing happens; after it, an (empty) batch is made to overtake batch 1.
	f.Ctx = f.Ctx.WithBlockHeight(f.Height() + 1).WithBlockTime(time.Unix(int64(b1.Timeout)-1, 0))
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	_, err := f.Keeper.GetBatch(f.Ctx, 2)
	require.ErrorIs(t, err, types.ErrBatchNotFound)
	f.Ctx = f.Ctx.WithBlockHeight(f.Height() + 1).WithBlockTime(time.Unix(int64(b1.Timeout), 0))
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	b2, err := f.Keeper.GetBatch(f.Ctx, 2)
	require.NoError(t, err)
	require.Empty(t, b2.Payouts)
	require.Equal(t, sdk.NewCoin(testutil.Denom, math.ZeroInt()), b2.Total)
	// Only one such batch while it is itself live.
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx.WithBlockHeight(f.Height()+1)))
	_, err = f.Keeper.GetBatch(f.Ctx, 3)
	require.ErrorIs(t, err, types.ErrBatchNotFound)

	require.NoError(t, f.Keeper.MarkBatchBridged(f.Ctx, 2, 0, 99, "0x2"))
	f.NextBlock(10)
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	b3, err := f.Keeper.GetBatch(f.Ctx, 3)
	require.NoError(t, err)
	require.Equal(t, b1.RecordIds, b3.RecordIds)
	f.RequireInvariant()
}

func TestBridgeGenesisRoundTrip(t *testing.T) {
	f := bridgeFixture(t, nil)
	_, sub := f.Addr("submitter")
	_, op1 := f.Addr("operator-1")
	_, op2 := f.Addr("operator-2")
	runBridgedLease(t, f, sub, [2]string{op1, ethA})
	require.NoError(t, f.Keeper.MakeBatch(f.Ctx))
	runBridgedLease(t, f, sub, [2]string{op2, ethB}) // waits: batch_blocks has not passed
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.Len(t, gs.Batches, 1)
	require.Equal(t, uint64(2), gs.NextBatchNonce)

	g := testutil.NewFixtureWithoutGenesis(t)
	// Every lease is closed, so the lease escrow is empty; the bridge escrow holds the bridged payouts.
	require.NoError(t, g.BankKeeper.MintCoins(g.Ctx, "mint", sdk.NewCoins(f.Coin(bridgeEscrow(f)))))
	require.NoError(t, g.BankKeeper.SendCoinsFromModuleToModule(g.Ctx, "mint", types.BridgeEscrowName, sdk.NewCoins(f.Coin(bridgeEscrow(f)))))
	require.NoError(t, g.Keeper.InitGenesis(g.Ctx, *gs))
	waiting, err := g.Keeper.Unbatched.Has(g.Ctx, 2)
	require.NoError(t, err)
	require.True(t, waiting, "the unbatched set is rebuilt from the records")
	again, err := g.Keeper.ExportGenesis(g.Ctx)
	require.NoError(t, err)
	require.Equal(t, gs, again)

	// A record naming a batch that does not hold it is refused.
	bad := *gs
	bad.SettlementRecords = append([]types.SettlementRecord(nil), gs.SettlementRecords...)
	bad.SettlementRecords[1].BatchNonce = 1
	require.ErrorContains(t, bad.Validate(g.AddressCodec), "is not a pending or bridged batch of this genesis holding bridged record")
}
