package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/testutil"
	"github.com/consensus-nro/nro/x/lease/types"
)

// threeNodes is the worked example of the README: take_bps 250, 600 blocks per hour, a 7-GPU lease created
// at height 10 with up to 3100000 per GPU-hour, activated at height 20 on
//
//	node-a  alice  4 GPUs × 2500001 = 10000004 per hour
//	node-b  bob    2 GPUs × 3000007 =  6000014 per hour
//	node-c  carol  1 GPU  × 1234567 =  1234567 per hour
//
// R = 17234585 per hour; no rate is a multiple of 600, so every settlement rounds.
type threeNodes struct {
	f                        *testutil.Fixture
	lease                    types.Lease
	sub, alice, bob, carol   sdk.AccAddress
	subStr, aStr, bStr, cStr string
}

func newThreeNodes(t *testing.T, deposit, duration int64) threeNodes {
	t.Helper()
	f := testutil.NewFixture(t)
	p := f.Params()
	p.TakeBps = 250
	f.SetParams(p)
	s := threeNodes{f: f}
	s.sub, s.subStr = f.Addr("submitter")
	s.alice, s.aStr = f.Addr("alice")
	s.bob, s.bStr = f.Addr("bob")
	s.carol, s.cStr = f.Addr("carol")
	msg := f.ValidCreateMsg(s.subStr)
	msg.Spec.TotalGpus = 7
	msg.Spec.MaxPricePerGpuHour = unro(3_100_000)
	msg.Spec.DurationBlocks = uint64(duration)
	msg.Deposit = unro(deposit)
	l := f.CreateLease(msg)
	f.SetHeight(20)
	s.lease = f.Activate(l.Id,
		f.LeaseNode("node-a", s.aStr, 4, 2_500_001),
		f.LeaseNode("node-b", s.bStr, 2, 3_000_007),
		f.LeaseNode("node-c", s.cStr, 1, 1_234_567),
	)
	f.RequireInvariant()
	f.ResetEvents()
	f.Alloc.ResetCalls()
	return s
}

// balances are everyone's balances: submitter, alice, bob, carol, fee collector, escrow.
func (s threeNodes) balances() [6]int64 {
	f := s.f
	return [6]int64{bal(f, s.sub), bal(f, s.alice), bal(f, s.bob), bal(f, s.carol), f.FeeCollectorBalance().Int64(), f.ModuleBalance().Int64()}
}

func sum6(b [6]int64) int64 { return b[0] + b[1] + b[2] + b[3] + b[4] + b[5] }

// TestWorkedExample follows the README example to the last unro.
func TestWorkedExample(t *testing.T) {
	s := newThreeNodes(t, 100_000_000, 10_000)
	f := s.f
	// E* = floor(100000000 × 600 / 17234585) = 3481 < 10000: the deposit runs out at 20 + 3481.
	require.Equal(t, int64(3501), s.lease.DeadlineHeight)
	require.Equal(t, int64(10_020), s.lease.EndHeight)

	// Height 81 (E = 61): a top-up of 1 unro settles first.
	//   owed  = floor(R_i × 61 / 600)   = 1016667 + 610001 + 125514 = 1752182
	//   fee   = floor(owed × 250/10000) =   25416 +  15250 +   3137 =   43803
	f.Fund(s.sub, unro(1))
	f.SetHeight(81)
	_, err := f.MsgServer.TopUpLease(f.Ctx, &types.MsgTopUpLease{Sender: s.subStr, LeaseId: s.lease.Id, Amount: unro(1)})
	require.NoError(t, err)
	require.Equal(t, [6]int64{0, 1_016_667 - 25_416, 610_001 - 15_250, 125_514 - 3_137, 43_803, 100_000_001 - 1_752_182}, s.balances())
	// floor(100000001 × 600 / 17234585) is still 3481.
	require.Equal(t, int64(3501), f.Lease(s.lease.Id).DeadlineHeight)
	f.RequireInvariant()

	// Height 157 (E = 137): the submitter closes.
	//   owed  = 2283334 + 1370003 + 281892 = 3935229 (this settlement: 3935229 − 1752182 = 2183047)
	//   fee   =   57083 +   34250 +   7047 =   98380 (this settlement: 98380 − 43803 = 54577)
	//   refund = 100000001 − 3935229 = 96064772
	f.SetHeight(157)
	res, err := f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: s.subStr, LeaseId: s.lease.Id})
	require.NoError(t, err)
	require.Equal(t, unro(3_935_229), res.Paid)
	require.Equal(t, unro(96_064_772), res.Refunded)
	want := [6]int64{96_064_772, 2_283_334 - 57_083, 1_370_003 - 34_250, 281_892 - 7_047, 98_380, 0}
	require.Equal(t, want, s.balances())
	require.Equal(t, int64(100_000_001), sum6(want), "every unro is accounted for")

	l := f.Lease(s.lease.Id)
	require.Equal(t, unro(3_935_229), l.Paid)
	require.Equal(t, unro(98_380), l.Fees)
	require.Equal(t, unro(96_064_772), l.Refunded)
	require.Equal(t, []math.Int{math.NewInt(2_283_334), math.NewInt(1_370_003), math.NewInt(281_892)},
		[]math.Int{l.Nodes[0].Paid, l.Nodes[1].Paid, l.Nodes[2].Paid})

	recs := []types.SettlementRecord{
		{Id: 1, LeaseId: 1, NodeId: "node-a", Operator: s.aStr, Amount: unro(2_226_251), Fee: unro(57_083), Height: 157},
		{Id: 2, LeaseId: 1, NodeId: "node-b", Operator: s.bStr, Amount: unro(1_335_753), Fee: unro(34_250), Height: 157},
		{Id: 3, LeaseId: 1, NodeId: "node-c", Operator: s.cStr, Amount: unro(274_845), Fee: unro(7_047), Height: 157},
	}
	require.Equal(t, recs, records(t, f))
	requireEvents(t, f,
		&types.EventLeaseSettled{LeaseId: 1, SettledHeight: 157, Amount: unro(2_183_047), Fee: unro(54_577)},
		&types.EventSettlementRecorded{Record: recs[0]},
		&types.EventSettlementRecorded{Record: recs[1]},
		&types.EventSettlementRecorded{Record: recs[2]},
		&types.EventLeaseClosed{
			LeaseId: 1, State: types.LEASE_STATE_CLOSED, Reason: types.CLOSE_REASON_SUBMITTER_CLOSED,
			Paid: unro(3_935_229), Fees: unro(98_380), Refunded: unro(96_064_772),
		},
	)
	f.RequireInvariant()
}

// TestSettlementInStepsEqualsOneSettlement: a lease touched at many odd heights ends with exactly the same
// balances, lease and records as one touched once.
func TestSettlementInStepsEqualsOneSettlement(t *testing.T) {
	touches := []int64{21, 22, 33, 47, 81, 99, 100, 131, 156}
	const closeAt = 157

	many := newThreeNodes(t, 100_000_000, 10_000)
	many.f.Fund(many.sub, unro(int64(len(touches))))
	for _, h := range touches {
		many.f.SetHeight(h)
		_, err := many.f.MsgServer.TopUpLease(many.f.Ctx, &types.MsgTopUpLease{Sender: many.subStr, LeaseId: 1, Amount: unro(1)})
		require.NoError(t, err)
		many.f.RequireInvariant()
	}

	once := newThreeNodes(t, 100_000_000, 10_000)
	once.f.Fund(once.sub, unro(int64(len(touches))))
	// In the activation block nothing is owed yet: the top-up settles nothing.
	_, err := once.f.MsgServer.TopUpLease(once.f.Ctx, &types.MsgTopUpLease{Sender: once.subStr, LeaseId: 1, Amount: unro(int64(len(touches)))})
	require.NoError(t, err)
	require.Empty(t, eventsOf[*types.EventLeaseSettled](once.f))

	for _, s := range []threeNodes{many, once} {
		s.f.SetHeight(closeAt)
		_, err := s.f.MsgServer.CloseLease(s.f.Ctx, &types.MsgCloseLease{Submitter: s.subStr, LeaseId: 1})
		require.NoError(t, err)
		s.f.RequireInvariant()
	}
	require.Equal(t, once.balances(), many.balances())
	require.Equal(t, once.f.Lease(1), many.f.Lease(1))
	require.Equal(t, records(t, once.f), records(t, many.f))
	require.Equal(t, int64(96_064_771+len(touches)), many.balances()[0])
}

// TestExhaustion: a lease funded with the minimum deposit closes INSUFFICIENT_FUNDS at activation + E*.
func TestExhaustion(t *testing.T) {
	// min deposit = ceil(7 × 3100000 × 100 / 600) = 3616667; E* = floor(3616667 × 600 / 17234585) = 125.
	s := newThreeNodes(t, 3_616_667, 10_000)
	f := s.f
	require.Equal(t, int64(145), s.lease.DeadlineHeight)

	f.SetHeight(144)
	require.NoError(t, f.EndBlock())
	require.Equal(t, types.LEASE_STATE_ACTIVE, f.Lease(1).State)
	require.Empty(t, f.TypedEvents())

	f.SetHeight(145)
	require.NoError(t, f.EndBlock())
	l := f.Lease(1)
	require.Equal(t, types.LEASE_STATE_CLOSED, l.State)
	require.Equal(t, types.CLOSE_REASON_INSUFFICIENT_FUNDS, l.CloseReason)
	require.Equal(t, int64(145), l.SettledHeight)
	// owed = 2083334 + 1250002 + 257201 = 3590537; fee = 52083 + 31250 + 6430 = 89763; refund 26130.
	require.Equal(t, unro(3_590_537), l.Paid)
	require.Equal(t, unro(89_763), l.Fees)
	require.Equal(t, unro(26_130), l.Refunded)
	want := [6]int64{26_130, 2_083_334 - 52_083, 1_250_002 - 31_250, 257_201 - 6_430, 89_763, 0}
	require.Equal(t, want, s.balances())
	require.Equal(t, int64(3_616_667), sum6(want))
	require.Equal(t, []testutil.AllocationCall{{Method: "ReleaseLease", LeaseID: 1}}, f.Alloc.Calls)
	require.Empty(t, deadlines(t, f))
	require.Len(t, records(t, f), 3)
	f.RequireInvariant()
}

// TestCompleted: a lease funded for its whole duration closes COMPLETED at its end height and pays the
// deposit out exactly.
func TestCompleted(t *testing.T) {
	f := testutil.NewFixture(t)
	l, sub, op := activeLease(t, f)
	require.Equal(t, int64(1210), l.EndHeight)
	f.SetHeight(1209)
	require.NoError(t, f.EndBlock())
	require.Equal(t, types.LEASE_STATE_ACTIVE, f.Lease(l.Id).State)
	f.SetHeight(1210)
	require.NoError(t, f.EndBlock())
	got := f.Lease(l.Id)
	require.Equal(t, types.LEASE_STATE_CLOSED, got.State)
	require.Equal(t, types.CLOSE_REASON_COMPLETED, got.CloseReason)
	require.Equal(t, unro(48_000_000), got.Paid)
	require.Equal(t, unro(960_000), got.Fees)
	require.Equal(t, zero, got.Refunded)
	require.Zero(t, bal(f, sub))
	require.Equal(t, int64(47_040_000), bal(f, op))
	require.Equal(t, int64(960_000), f.FeeCollectorBalance().Int64())
	closed := eventsOf[*types.EventLeaseClosed](f)
	require.Len(t, closed, 1)
	require.Equal(t, types.CLOSE_REASON_COMPLETED, closed[0].Reason)
	f.RequireInvariant()
}

// TestPendingExpiry: a lease not placed within max_pending_blocks expires with a full refund.
func TestPendingExpiry(t *testing.T) {
	f := testutil.NewFixture(t)
	sub, subStr := f.Addr("submitter")
	l := f.CreateLease(f.ValidCreateMsg(subStr))
	f.Alloc.ResetCalls()
	f.SetHeight(609)
	require.NoError(t, f.EndBlock())
	require.Equal(t, types.LEASE_STATE_PENDING, f.Lease(l.Id).State)
	f.SetHeight(610)
	require.NoError(t, f.EndBlock())
	got := f.Lease(l.Id)
	require.Equal(t, types.LEASE_STATE_EXPIRED, got.State)
	require.Equal(t, types.CLOSE_REASON_EXPIRED, got.CloseReason)
	require.Equal(t, int64(610), got.ClosedHeight)
	require.Equal(t, int64(48_000_000), bal(f, sub))
	require.Equal(t, []testutil.AllocationCall{{Method: "DropPendingLease", LeaseID: l.Id}}, f.Alloc.Calls)
	require.Empty(t, deadlines(t, f))
	requireEvents(t, f, &types.EventLeaseClosed{
		LeaseId: l.Id, State: types.LEASE_STATE_EXPIRED, Reason: types.CLOSE_REASON_EXPIRED,
		Paid: zero, Fees: zero, Refunded: unro(48_000_000),
	})
	f.RequireInvariant()
	// Activation after expiry is refused.
	require.ErrorIs(t, f.Keeper.ActivateLease(f.Ctx, l.Id, nil, nil, 0), types.ErrLeaseNotPending)
}

// TestCloseBound: EndBlock closes at most max_closes_per_block leases, in (deadline, id) order; a lease that
// waits is charged only up to its deadline, whether EndBlock or its submitter closes it later.
func TestCloseBound(t *testing.T) {
	f := testutil.NewFixture(t)
	p := f.Params()
	p.MaxClosesPerBlock = 2
	f.SetParams(p)
	_, subStr := f.Addr("submitter")
	sub := f.MustAccAddress(subStr)
	_, opStr := f.Addr("operator")
	op := f.MustAccAddress(opStr)
	// Four ACTIVE leases, each funded for 100 blocks (4000000 at 40000 per block), all due at 110, plus a
	// PENDING one due at 610.
	msg := f.ValidCreateMsg(subStr)
	msg.Deposit = unro(4_000_000)
	var ids []uint64
	for range 4 {
		l := f.CreateLease(msg)
		f.Activate(l.Id, f.LeaseNode("gpu-node-1", opStr, 8, 3_000_000))
		ids = append(ids, l.Id)
	}
	pending := f.CreateLease(f.ValidCreateMsg(subStr))
	require.Equal(t, []collectionsPair{dl(110, 1), dl(110, 2), dl(110, 3), dl(110, 4), dl(610, pending.Id)}, deadlines(t, f))
	f.RequireInvariant()

	f.SetHeight(115)
	require.NoError(t, f.EndBlock())
	for i, id := range ids {
		want := types.LEASE_STATE_ACTIVE
		if i < 2 {
			want = types.LEASE_STATE_CLOSED
		}
		require.Equal(t, want, f.Lease(id).State, "lease %d", id)
	}
	require.Equal(t, []collectionsPair{dl(110, 3), dl(110, 4), dl(610, pending.Id)}, deadlines(t, f))
	f.RequireInvariant()

	// Lease 3's submitter closes it five blocks after its deadline: it pays to 110, not 120.
	f.SetHeight(120)
	res, err := f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: subStr, LeaseId: 3})
	require.NoError(t, err)
	require.Equal(t, unro(4_000_000), res.Paid)
	require.Equal(t, zero, res.Refunded)
	require.Equal(t, int64(110), f.Lease(3).SettledHeight)
	require.Equal(t, types.CLOSE_REASON_SUBMITTER_CLOSED, f.Lease(3).CloseReason)

	// Lease 4 waits for EndBlock: still charged to 110, and closed for lack of funds.
	require.NoError(t, f.EndBlock())
	l4 := f.Lease(4)
	require.Equal(t, types.LEASE_STATE_CLOSED, l4.State)
	require.Equal(t, types.CLOSE_REASON_INSUFFICIENT_FUNDS, l4.CloseReason)
	require.Equal(t, int64(110), l4.SettledHeight)
	require.Equal(t, int64(120), l4.ClosedHeight)
	require.Equal(t, unro(4_000_000), l4.Paid)
	require.Equal(t, types.LEASE_STATE_PENDING, f.Lease(pending.Id).State, "not due yet")
	f.RequireInvariant()

	// Four leases × 4000000, each 2% fee; the pending deposit is still escrowed.
	require.Equal(t, int64(4*3_920_000), bal(f, op))
	require.Equal(t, int64(4*80_000), f.FeeCollectorBalance().Int64())
	require.Equal(t, int64(48_000_000), f.ModuleBalance().Int64())
	require.Zero(t, bal(f, sub))
}

// TestSameOperatorPaidOnce: an operator with several nodes in a placement gets one transfer per settlement,
// and the records stay per node.
func TestSameOperatorPaidOnce(t *testing.T) {
	f := testutil.NewFixture(t)
	_, subStr := f.Addr("submitter")
	op, opStr := f.Addr("operator")
	l := f.CreateLease(f.ValidCreateMsg(subStr))
	f.Activate(l.Id, f.LeaseNode("n1", opStr, 5, 3_000_000), f.LeaseNode("n2", opStr, 3, 1_000_000))
	f.NextBlock(10)
	_, err := f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: subStr, LeaseId: l.Id})
	require.NoError(t, err)
	transfers := 0
	for _, ev := range f.Events() {
		if ev.Type == "transfer" {
			for _, a := range ev.Attributes {
				if a.Key == "recipient" && a.Value == op.String() {
					transfers++
				}
			}
		}
	}
	require.Equal(t, 1, transfers)
	// n1: floor(15000000 × 10 / 600) = 250000, fee 5000; n2: floor(3000000 × 10 / 600) = 50000, fee 1000.
	require.Equal(t, int64(245_000+49_000), bal(f, op))
	recs := records(t, f)
	require.Len(t, recs, 2)
	require.Equal(t, unro(245_000), recs[0].Amount)
	require.Equal(t, unro(49_000), recs[1].Amount)
	f.RequireInvariant()
}

// TestZeroFee: take_bps 0 sends nothing to the fee collector.
func TestZeroFee(t *testing.T) {
	f := testutil.NewFixture(t)
	p := f.Params()
	p.TakeBps = 0
	f.SetParams(p)
	l, _, op := activeLease(t, f)
	f.NextBlock(7)
	_, err := f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: l.Submitter, LeaseId: l.Id})
	require.NoError(t, err)
	require.Equal(t, int64(280_000), bal(f, op))
	require.Zero(t, f.FeeCollectorBalance().Int64())
	f.RequireInvariant()
}
