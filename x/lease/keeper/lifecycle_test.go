package keeper_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/consensus-nro/nro/x/lease/testutil"
	"github.com/consensus-nro/nro/x/lease/types"
)

func TestCancelLease(t *testing.T) {
	f := testutil.NewFixture(t)
	sub, subStr := f.Addr("submitter")
	l := f.CreateLease(f.ValidCreateMsg(subStr))
	f.NextBlock(5)
	f.Alloc.ResetCalls()

	res, err := f.MsgServer.CancelLease(f.Ctx, &types.MsgCancelLease{Submitter: subStr, LeaseId: l.Id})
	require.NoError(t, err)
	require.Equal(t, unro(48_000_000), res.Refunded)
	got := f.Lease(l.Id)
	require.Equal(t, types.LEASE_STATE_CANCELLED, got.State)
	require.Equal(t, types.CLOSE_REASON_CANCELLED, got.CloseReason)
	require.Equal(t, int64(15), got.ClosedHeight)
	require.Equal(t, unro(48_000_000), got.Refunded)
	require.Equal(t, int64(48_000_000), bal(f, sub))
	require.True(t, f.ModuleBalance().IsZero())
	require.Empty(t, deadlines(t, f))
	require.Equal(t, []testutil.AllocationCall{{Method: "DropPendingLease", LeaseID: l.Id}}, f.Alloc.Calls)
	requireEvents(t, f, &types.EventLeaseClosed{
		LeaseId: l.Id, State: types.LEASE_STATE_CANCELLED, Reason: types.CLOSE_REASON_CANCELLED,
		Paid: zero, Fees: zero, Refunded: unro(48_000_000),
	})
	f.RequireInvariant()
}

// TestSubmitterMessagesRejected covers cancel and close refusals: each changes nothing.
func TestSubmitterMessagesRejected(t *testing.T) {
	type setup struct {
		f                      *testutil.Fixture
		pending, active, ended types.Lease
		sub, stranger          string
	}
	build := func(t *testing.T) setup {
		f := testutil.NewFixture(t)
		_, subStr := f.Addr("submitter")
		_, strangerStr := f.Addr("stranger")
		_, opStr := f.Addr("operator")
		pending := f.CreateLease(f.ValidCreateMsg(subStr))
		active := f.CreateLease(f.ValidCreateMsg(subStr))
		active = f.Activate(active.Id, f.LeaseNode("gpu-node-1", opStr, 8, 3_000_000))
		ended := f.CreateLease(f.ValidCreateMsg(subStr))
		_, err := f.MsgServer.CancelLease(f.Ctx, &types.MsgCancelLease{Submitter: subStr, LeaseId: ended.Id})
		require.NoError(t, err)
		f.NextBlock(10)
		f.Alloc.ResetCalls()
		return setup{f: f, pending: pending, active: active, ended: f.Lease(ended.Id), sub: subStr, stranger: strangerStr}
	}

	cases := []struct {
		name     string
		call     func(s setup) error
		err      error
		contains func(s setup) []string
	}{
		{
			name: "cancel by a stranger",
			call: func(s setup) error {
				_, err := s.f.MsgServer.CancelLease(s.f.Ctx, &types.MsgCancelLease{Submitter: s.stranger, LeaseId: s.pending.Id})
				return err
			},
			err: types.ErrUnauthorized,
			contains: func(s setup) []string {
				return []string{"lease 1 was submitted by " + s.sub, "only its submitter may cancel it", "not " + s.stranger}
			},
		},
		{
			name: "cancel of an active lease",
			call: func(s setup) error {
				_, err := s.f.MsgServer.CancelLease(s.f.Ctx, &types.MsgCancelLease{Submitter: s.sub, LeaseId: s.active.Id})
				return err
			},
			err: types.ErrLeaseNotPending,
			contains: func(setup) []string {
				return []string{"lease 2 is ACTIVE", "close it instead", "nrod tx lease close 2"}
			},
		},
		{
			name: "cancel of a cancelled lease",
			call: func(s setup) error {
				_, err := s.f.MsgServer.CancelLease(s.f.Ctx, &types.MsgCancelLease{Submitter: s.sub, LeaseId: s.ended.Id})
				return err
			},
			err:      types.ErrLeaseNotPending,
			contains: func(setup) []string { return []string{"lease 3 is LEASE_STATE_CANCELLED"} },
		},
		{
			name: "cancel of an unknown lease",
			call: func(s setup) error {
				_, err := s.f.MsgServer.CancelLease(s.f.Ctx, &types.MsgCancelLease{Submitter: s.sub, LeaseId: 99})
				return err
			},
			err:      types.ErrLeaseNotFound,
			contains: func(setup) []string { return []string{"no lease with id 99"} },
		},
		{
			name: "cancel of lease 0",
			call: func(s setup) error {
				_, err := s.f.MsgServer.CancelLease(s.f.Ctx, &types.MsgCancelLease{Submitter: s.sub})
				return err
			},
			err:      types.ErrInvalidLeaseID,
			contains: func(setup) []string { return []string{"lease_id must be set"} },
		},
		{
			name: "cancel with a malformed signer",
			call: func(s setup) error {
				_, err := s.f.MsgServer.CancelLease(s.f.Ctx, &types.MsgCancelLease{Submitter: "nro1bad", LeaseId: 1})
				return err
			},
			err:      types.ErrInvalidAddress,
			contains: func(setup) []string { return []string{`submitter "nro1bad"`} },
		},
		{
			name: "close by a stranger",
			call: func(s setup) error {
				_, err := s.f.MsgServer.CloseLease(s.f.Ctx, &types.MsgCloseLease{Submitter: s.stranger, LeaseId: s.active.Id})
				return err
			},
			err: types.ErrUnauthorized,
			contains: func(s setup) []string {
				return []string{"lease 2 was submitted by " + s.sub, "only its submitter may close it"}
			},
		},
		{
			name: "close of a pending lease",
			call: func(s setup) error {
				_, err := s.f.MsgServer.CloseLease(s.f.Ctx, &types.MsgCloseLease{Submitter: s.sub, LeaseId: s.pending.Id})
				return err
			},
			err: types.ErrLeaseNotActive,
			contains: func(setup) []string {
				return []string{"lease 1 is PENDING", "cancel it instead", "nrod tx lease cancel 1"}
			},
		},
		{
			name: "close of a cancelled lease",
			call: func(s setup) error {
				_, err := s.f.MsgServer.CloseLease(s.f.Ctx, &types.MsgCloseLease{Submitter: s.sub, LeaseId: s.ended.Id})
				return err
			},
			err:      types.ErrLeaseNotActive,
			contains: func(setup) []string { return []string{"lease 3 is already LEASE_STATE_CANCELLED"} },
		},
		{
			name: "close of an unknown lease",
			call: func(s setup) error {
				_, err := s.f.MsgServer.CloseLease(s.f.Ctx, &types.MsgCloseLease{Submitter: s.sub, LeaseId: 42})
				return err
			},
			err:      types.ErrLeaseNotFound,
			contains: func(setup) []string { return []string{"no lease with id 42"} },
		},
		{
			name: "move of a pending lease",
			call: func(s setup) error {
				_, _, err := s.f.Keeper.ReallocateLease(s.f.Ctx, s.pending.Id, types.REALLOCATION_REASON_NODE_JAILED, []string{"gpu-node-1"}, s.f.Ctx.BlockHeight())
				return err
			},
			err: types.ErrLeaseNotActive,
			contains: func(setup) []string {
				return []string{"lease 1 is LEASE_STATE_PENDING", "only an ACTIVE lease can be moved"}
			},
		},
		{
			name: "move of an unknown lease",
			call: func(s setup) error {
				_, _, err := s.f.Keeper.ReallocateLease(s.f.Ctx, 9, types.REALLOCATION_REASON_NODE_JAILED, []string{"gpu-node-1"}, s.f.Ctx.BlockHeight())
				return err
			},
			err:      types.ErrLeaseNotFound,
			contains: func(setup) []string { return []string{"no lease with id 9"} },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := build(t)
			subAddr := s.f.MustAccAddress(s.sub)
			before := snapshot(t, s.f, subAddr, s.f.MustAccAddress(s.stranger))
			err := tc.call(s)
			require.ErrorIs(t, err, tc.err)
			for _, c := range tc.contains(s) {
				require.Contains(t, err.Error(), c)
			}
			requireUnchanged(t, s.f, before)
		})
	}
}

func TestCloseLease(t *testing.T) {
	f := testutil.NewFixture(t)
	l, sub, op := activeLease(t, f)
	_, opStr := f.Addr("operator")
	// 8 GPUs × 3000000 per hour / 600 blocks = 40000 per block; 2% fee.
	require.Equal(t, int64(10+1200), l.DeadlineHeight)
	require.Equal(t, l.EndHeight, l.DeadlineHeight)

	f.NextBlock(101)
	res, err := f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: l.Submitter, LeaseId: l.Id})
	require.NoError(t, err)
	require.Equal(t, unro(4_040_000), res.Paid)
	require.Equal(t, unro(43_960_000), res.Refunded)
	require.Equal(t, int64(43_960_000), bal(f, sub))
	require.Equal(t, int64(3_959_200), bal(f, op))
	require.Equal(t, int64(80_800), f.FeeCollectorBalance().Int64())
	require.True(t, f.ModuleBalance().IsZero())

	got := f.Lease(l.Id)
	require.Equal(t, types.LEASE_STATE_CLOSED, got.State)
	require.Equal(t, types.CLOSE_REASON_SUBMITTER_CLOSED, got.CloseReason)
	require.Equal(t, int64(111), got.ClosedHeight)
	require.Equal(t, int64(111), got.SettledHeight)
	require.Equal(t, math.NewInt(4_040_000), got.Nodes[0].Paid)
	require.Empty(t, deadlines(t, f))

	require.Equal(t, []testutil.AllocationCall{{Method: "ReleaseLease", LeaseID: l.Id}}, f.Alloc.Calls)
	released := f.Alloc.Released[0]
	require.Equal(t, types.LEASE_STATE_ACTIVE, released.State, "x/allocation sees the lease as it ran")
	require.Equal(t, got.Nodes, released.Nodes)

	rec := types.SettlementRecord{
		Id: 1, LeaseId: l.Id, NodeId: "gpu-node-1", Operator: opStr,
		Amount: unro(3_959_200), Fee: unro(80_800), Height: 111,
	}
	require.Equal(t, []types.SettlementRecord{rec}, records(t, f))
	requireEvents(t, f,
		&types.EventLeaseSettled{LeaseId: l.Id, SettledHeight: 111, Amount: unro(4_040_000), Fee: unro(80_800)},
		&types.EventSettlementRecorded{Record: rec},
		&types.EventLeaseClosed{
			LeaseId: l.Id, State: types.LEASE_STATE_CLOSED, Reason: types.CLOSE_REASON_SUBMITTER_CLOSED,
			Paid: unro(4_040_000), Fees: unro(80_800), Refunded: unro(43_960_000),
		},
	)
	f.RequireInvariant()
}

// TestCloseInActivationBlock: closing in the block of activation pays nothing and refunds everything; the
// records still say what each node earned (nothing).
func TestCloseInActivationBlock(t *testing.T) {
	f := testutil.NewFixture(t)
	l, sub, op := activeLease(t, f)
	res, err := f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: l.Submitter, LeaseId: l.Id})
	require.NoError(t, err)
	require.Equal(t, zero, res.Paid)
	require.Equal(t, unro(48_000_000), res.Refunded)
	require.Equal(t, int64(48_000_000), bal(f, sub))
	require.Zero(t, bal(f, op))
	recs := records(t, f)
	require.Len(t, recs, 1)
	require.Equal(t, zero, recs[0].Amount)
	require.Empty(t, eventsOf[*types.EventLeaseSettled](f), "nothing moved, nothing settled")
	f.RequireInvariant()
}

// TestReallocateLease: a node jailed 30 blocks into a lease whose faults began 10 blocks ago. The node is
// paid for 20 blocks, the submitter is charged for no more, and the lease is PENDING again with the rest of
// its deposit, owed duration − 20 blocks by its next placement, which x/allocation is asked for.
func TestReallocateLease(t *testing.T) {
	f := testutil.NewFixture(t)
	l, sub, op := activeLease(t, f)
	f.NextBlock(30)
	now := f.Ctx.BlockHeight()
	res, moved, err := f.Keeper.ReallocateLease(f.Ctx, l.Id, types.REALLOCATION_REASON_NODE_JAILED, []string{"gpu-node-1"}, now-10)
	require.NoError(t, err)
	require.True(t, moved)
	got := f.Lease(l.Id)
	require.Equal(t, res, got)
	require.Equal(t, types.LEASE_STATE_PENDING, got.State)
	require.Empty(t, got.Nodes)
	require.Len(t, got.PastPlacements, 1)
	past := got.PastPlacements[0]
	require.Equal(t, int64(20), past.ServedBlocks)
	require.Equal(t, l.ActivatedHeight, past.ActivatedHeight)
	require.Equal(t, now, past.EndedHeight)
	require.Equal(t, l.DecisionId, past.DecisionId)
	require.Equal(t, []string{"gpu-node-1"}, past.TriggerNodeIds)
	require.Equal(t, now, got.PendingSince())
	require.Equal(t, int64(l.Spec.DurationBlocks)-20, got.RemainingBlocks())
	// 20 blocks × 40000 = 800000, fee 2% = 16000; nothing is refunded: the deposit stays for the next placement.
	require.Equal(t, int64(784_000), bal(f, op))
	require.Equal(t, int64(16_000), f.FeeCollectorBalance().Int64())
	require.Equal(t, int64(0), bal(f, sub))
	require.True(t, got.Refunded.IsZero())
	require.Equal(t, unro(800_000), got.Paid)
	require.Equal(t, now+int64(f.Params().MaxPendingBlocks), got.DeadlineHeight)
	require.Equal(t, deadlines(t, f)[:1], deadlines(t, f))
	require.Equal(t, dl(got.DeadlineHeight, l.Id), deadlines(t, f)[0])
	require.Equal(t, []testutil.AllocationCall{{Method: "ReleaseLease", LeaseID: l.Id}, {Method: "EnqueueLease", LeaseID: l.Id}}, f.Alloc.Calls)
	recs := records(t, f)
	require.Len(t, recs, 1)
	require.Equal(t, unro(784_000), recs[0].Amount)
	ev := eventsOf[*types.EventLeaseReallocating](f)
	require.Len(t, ev, 1)
	require.Equal(t, types.EventLeaseReallocating{
		LeaseId: l.Id, Reason: types.REALLOCATION_REASON_NODE_JAILED, TriggerNodeIds: []string{"gpu-node-1"},
		PreviousNodeIds: []string{"gpu-node-1"}, SettledUntil: now - 10, ServedBlocks: 20,
		RemainingBlocks: int64(l.Spec.DurationBlocks) - 20, DeadlineHeight: got.DeadlineHeight,
	}, *ev[0])
	f.RequireInvariant()
	require.NoError(t, got.Validate(f.AddressCodec))

	// The next placement runs for the remaining duration and is funded by what is left of the deposit.
	f.NextBlock(5)
	_, op2Str := f.Addr("operator-2")
	again := f.Activate(l.Id, f.LeaseNode("gpu-node-2", op2Str, 8, 3_000_000))
	require.Equal(t, f.Ctx.BlockHeight()+int64(l.Spec.DurationBlocks)-20, again.EndHeight)
	require.Equal(t, again.ComputeDeadline(), again.DeadlineHeight)
	f.RequireInvariant()
	require.NoError(t, again.Validate(f.AddressCodec))
	f.NextBlock(10)
	_, err = f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: again.Submitter, LeaseId: l.Id})
	require.NoError(t, err)
	closed := f.Lease(l.Id)
	require.Equal(t, unro(800_000+400_000), closed.Paid, "20 blocks on the first placement, 10 on the second")
	require.Equal(t, unro(48_000_000-1_200_000), closed.Refunded)
	require.Len(t, records(t, f), 2)
	f.RequireInvariant()
	// A lease is indexed under every node it ran on.
	page, err := f.QueryServer.Leases(f.Ctx, &types.QueryLeasesRequest{NodeId: "gpu-node-1"})
	require.NoError(t, err)
	require.Len(t, page.Leases, 1)
}

// TestReallocateLeaseCutsEveryNode: on a two-node lease neither node is paid past the start of the faults —
// the job could not run — except what was settled before, which is kept and counts as served.
func TestReallocateLeaseCutsEveryNode(t *testing.T) {
	f := testutil.NewFixture(t)
	sub, subStr := f.Addr("submitter")
	good, goodStr := f.Addr("good-operator")
	bad, badStr := f.Addr("bad-operator")
	l := f.CreateLease(f.ValidCreateMsg(subStr))
	l = f.Activate(l.Id, f.LeaseNode("gpu-node-good", goodStr, 4, 3_000_000), f.LeaseNode("gpu-node-bad", badStr, 4, 3_000_000))
	start := f.Ctx.BlockHeight()
	f.NextBlock(10)
	// A top-up settles both nodes to block 10.
	f.Fund(sub, unro(5))
	_, err := f.MsgServer.TopUpLease(f.Ctx, &types.MsgTopUpLease{Sender: subStr, LeaseId: l.Id, Amount: unro(5)})
	require.NoError(t, err)
	f.NextBlock(20)

	// Faults began at block 5, before the top-up's settlement: both nodes keep their 10 blocks and get no more.
	got, moved, err := f.Keeper.ReallocateLease(f.Ctx, l.Id, types.REALLOCATION_REASON_NODE_JAILED, []string{"gpu-node-bad"}, start+5)
	require.NoError(t, err)
	require.True(t, moved)
	// Each node: 4 GPUs × 3,000,000 / 600 blocks per hour = 20,000 per block, fee 2%.
	require.Equal(t, int64((10*20_000)*98/100), bal(f, good))
	require.Equal(t, int64((10*20_000)*98/100), bal(f, bad))
	require.Equal(t, int64(10), got.PastPlacements[0].ServedBlocks, "what was paid for counts as served")
	require.Equal(t, unro(400_000), got.Paid)
	f.RequireInvariant()

	_, _, err = f.Keeper.ReallocateLease(f.Ctx, l.Id, types.REALLOCATION_REASON_NODE_JAILED, []string{"gpu-node-bad"}, start)
	require.ErrorIs(t, err, types.ErrLeaseNotActive)
}

// TestReallocateLeaseForALink: a degraded link settles every node to the block (the job ran, slowly).
func TestReallocateLeaseForALink(t *testing.T) {
	f := testutil.NewFixture(t)
	_, subStr := f.Addr("submitter")
	_, aStr := f.Addr("operator-a")
	_, bStr := f.Addr("operator-b")
	l := f.CreateLease(f.ValidCreateMsg(subStr))
	l = f.Activate(l.Id, f.LeaseNode("gpu-node-a", aStr, 4, 3_000_000), f.LeaseNode("gpu-node-b", bStr, 4, 3_000_000))
	f.NextBlock(12)
	got, moved, err := f.Keeper.ReallocateLease(f.Ctx, l.Id, types.REALLOCATION_REASON_LINK_DEGRADED, []string{"gpu-node-a", "gpu-node-b"}, f.Ctx.BlockHeight())
	require.NoError(t, err)
	require.True(t, moved)
	require.Equal(t, int64(12), got.PastPlacements[0].ServedBlocks)
	require.Equal(t, unro(12*40_000), got.Paid)
	f.RequireInvariant()
}

// TestReallocateLeaseAtItsDeadline: a lease due to close in this block (its duration served) is not moved: it
// closes as its deadline says, COMPLETED, and refunds what is left.
func TestReallocateLeaseAtItsDeadline(t *testing.T) {
	f := testutil.NewFixture(t)
	l, sub, _ := activeLease(t, f)
	f.SetHeight(l.EndHeight)
	got, moved, err := f.Keeper.ReallocateLease(f.Ctx, l.Id, types.REALLOCATION_REASON_NODE_JAILED, []string{"gpu-node-1"}, l.EndHeight)
	require.NoError(t, err)
	require.False(t, moved)
	require.Equal(t, types.LEASE_STATE_CLOSED, got.State)
	require.Equal(t, types.CLOSE_REASON_COMPLETED, got.CloseReason)
	require.Empty(t, got.PastPlacements)
	require.Equal(t, got.Refunded.Amount.Int64(), bal(f, sub))
	f.RequireInvariant()
}

func TestReallocateLeaseRefusesBadInput(t *testing.T) {
	f := testutil.NewFixture(t)
	l, _, _ := activeLease(t, f)
	_, _, err := f.Keeper.ReallocateLease(f.Ctx, l.Id, types.REALLOCATION_REASON_NODE_JAILED, []string{"gpu-node-9"}, f.Ctx.BlockHeight())
	require.ErrorIs(t, err, types.ErrInvalidPlacement)
	require.ErrorContains(t, err, "lease 1 is not placed on node gpu-node-9 (its nodes: gpu-node-1)")
	_, _, err = f.Keeper.ReallocateLease(f.Ctx, l.Id, types.REALLOCATION_REASON_UNSPECIFIED, []string{"gpu-node-1"}, f.Ctx.BlockHeight())
	require.ErrorContains(t, err, "needs a reason")
	require.Equal(t, types.LEASE_STATE_ACTIVE, f.Lease(l.Id).State)
	require.Empty(t, f.Alloc.Calls)
}

func TestTopUpPendingLease(t *testing.T) {
	f := testutil.NewFixture(t)
	_, subStr := f.Addr("submitter")
	payer, payerStr := f.Addr("payer")
	l := f.CreateLease(f.ValidCreateMsg(subStr))
	f.Fund(payer, unro(1_000))
	f.NextBlock(3)
	f.Alloc.ResetCalls()

	res, err := f.MsgServer.TopUpLease(f.Ctx, &types.MsgTopUpLease{Sender: payerStr, LeaseId: l.Id, Amount: unro(700)})
	require.NoError(t, err)
	require.Equal(t, unro(48_000_700), res.Deposit)
	require.Equal(t, l.DeadlineHeight, res.DeadlineHeight, "a pending lease keeps its expiry")
	require.Equal(t, unro(48_000_700), f.Lease(l.Id).Deposit)
	require.Equal(t, int64(300), bal(f, payer))
	require.Equal(t, []collectionsPair{dl(l.DeadlineHeight, l.Id)}, deadlines(t, f))
	require.Empty(t, f.Alloc.Calls)
	requireEvents(t, f, &types.EventLeaseToppedUp{LeaseId: l.Id, Amount: unro(700), Deposit: unro(48_000_700), DeadlineHeight: l.DeadlineHeight})
	f.RequireInvariant()

	// A cancel then refunds the top-up to the submitter, not to the payer.
	_, err = f.MsgServer.CancelLease(f.Ctx, &types.MsgCancelLease{Submitter: subStr, LeaseId: l.Id})
	require.NoError(t, err)
	require.Equal(t, int64(48_000_700), bal(f, f.MustAccAddress(subStr)))
	f.RequireInvariant()
}

// TestTopUpActiveLease: the lease is settled first, then the larger deposit moves the deadline.
func TestTopUpActiveLease(t *testing.T) {
	f := testutil.NewFixture(t)
	sub, subStr := f.Addr("submitter")
	op, opStr := f.Addr("operator")
	payer, payerStr := f.Addr("payer")
	f.Fund(payer, unro(10_000_000))
	msg := f.ValidCreateMsg(subStr)
	msg.Deposit = unro(4_000_000) // the minimum: 100 blocks at 40000 per block
	l := f.CreateLease(msg)
	l = f.Activate(l.Id, f.LeaseNode("gpu-node-1", opStr, 8, 3_000_000))
	require.Equal(t, int64(110), l.DeadlineHeight)
	require.Equal(t, int64(1210), l.EndHeight)
	require.Equal(t, []collectionsPair{dl(110, l.Id)}, deadlines(t, f))

	f.SetHeight(60)
	res, err := f.MsgServer.TopUpLease(f.Ctx, &types.MsgTopUpLease{Sender: payerStr, LeaseId: l.Id, Amount: unro(2_000_000)})
	require.NoError(t, err)
	// 50 blocks settled (2000000, fee 40000); 6000000 funds 150 blocks from activation.
	require.Equal(t, unro(6_000_000), res.Deposit)
	require.Equal(t, int64(160), res.DeadlineHeight)
	require.Equal(t, int64(1_960_000), bal(f, op))
	require.Equal(t, int64(40_000), f.FeeCollectorBalance().Int64())
	require.Equal(t, int64(8_000_000), bal(f, payer))
	require.Equal(t, []collectionsPair{dl(160, l.Id)}, deadlines(t, f))
	got := f.Lease(l.Id)
	require.Equal(t, int64(60), got.SettledHeight)
	require.Equal(t, unro(2_000_000), got.Paid)
	requireEvents(t, f,
		&types.EventLeaseSettled{LeaseId: l.Id, SettledHeight: 60, Amount: unro(2_000_000), Fee: unro(40_000)},
		&types.EventLeaseToppedUp{LeaseId: l.Id, Amount: unro(2_000_000), Deposit: unro(6_000_000), DeadlineHeight: 160},
	)
	f.RequireInvariant()

	// The old deadline passes without a close; the new one closes it for lack of funds.
	f.SetHeight(110)
	require.NoError(t, f.EndBlock())
	require.Equal(t, types.LEASE_STATE_ACTIVE, f.Lease(l.Id).State)
	f.SetHeight(160)
	require.NoError(t, f.EndBlock())
	got = f.Lease(l.Id)
	require.Equal(t, types.LEASE_STATE_CLOSED, got.State)
	require.Equal(t, types.CLOSE_REASON_INSUFFICIENT_FUNDS, got.CloseReason)
	require.Equal(t, unro(6_000_000), got.Paid)
	require.Equal(t, zero, got.Refunded)
	require.Zero(t, bal(f, sub))
	require.Equal(t, int64(5_880_000), bal(f, op))
	require.Equal(t, int64(120_000), f.FeeCollectorBalance().Int64())
	f.RequireInvariant()

	// A top-up large enough runs the lease to its end height, not beyond.
	f2 := testutil.NewFixture(t)
	_, sub2 := f2.Addr("submitter")
	m2 := f2.ValidCreateMsg(sub2)
	m2.Deposit = unro(4_000_000)
	l2 := f2.CreateLease(m2)
	f2.Activate(l2.Id, f2.LeaseNode("gpu-node-1", opStr, 8, 3_000_000))
	f2.Fund(f2.MustAccAddress(sub2), unro(1_000_000_000))
	res, err = f2.MsgServer.TopUpLease(f2.Ctx, &types.MsgTopUpLease{Sender: sub2, LeaseId: l2.Id, Amount: unro(1_000_000_000)})
	require.NoError(t, err)
	require.Equal(t, int64(1210), res.DeadlineHeight)
	f2.RequireInvariant()
}

func TestTopUpRejected(t *testing.T) {
	type setup struct {
		f                              *testutil.Fixture
		payer                          string
		pending, active, closed, short types.Lease
		cancelled, expired             types.Lease
	}
	build := func(t *testing.T) setup {
		f := testutil.NewFixture(t)
		_, subStr := f.Addr("submitter")
		payer, payerStr := f.Addr("payer")
		_, opStr := f.Addr("operator")
		f.Fund(payer, unro(1_000_000), sdk.NewCoin("uatom", math.NewInt(1_000)))
		p := f.Params()
		p.MaxPendingBlocks = 20
		f.SetParams(p)
		node := f.LeaseNode("gpu-node-1", opStr, 8, 3_000_000)

		expired := f.CreateLease(f.ValidCreateMsg(subStr)) // expires at 30
		f.SetHeight(30)
		require.NoError(t, f.EndBlock())
		pending := f.CreateLease(f.ValidCreateMsg(subStr))
		active := f.Activate(f.CreateLease(f.ValidCreateMsg(subStr)).Id, node)
		closed := f.Activate(f.CreateLease(f.ValidCreateMsg(subStr)).Id, node)
		_, err := f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: subStr, LeaseId: closed.Id})
		require.NoError(t, err)
		cancelled := f.CreateLease(f.ValidCreateMsg(subStr))
		_, err = f.MsgServer.CancelLease(f.Ctx, &types.MsgCancelLease{Submitter: subStr, LeaseId: cancelled.Id})
		require.NoError(t, err)
		// short runs out at 30 + 100 = 130; with max_closes_per_block 1 and another lease due first it is
		// still ACTIVE after that block.
		m := f.ValidCreateMsg(subStr)
		m.Deposit = unro(4_000_000)
		short := f.Activate(f.CreateLease(m).Id, node)
		require.Equal(t, int64(130), short.DeadlineHeight)
		p.MaxClosesPerBlock = 1
		f.SetParams(p)
		blocker := f.CreateLease(f.ValidCreateMsg(subStr)) // pending, expires at 50, due before short
		require.Equal(t, int64(50), blocker.DeadlineHeight)
		f.SetHeight(130)
		require.NoError(t, f.EndBlock()) // expires blocker only
		require.Equal(t, types.LEASE_STATE_ACTIVE, f.Lease(short.Id).State)
		f.SetHeight(131)
		f.Alloc.ResetCalls()
		return setup{f: f, payer: payerStr, pending: f.Lease(pending.Id), active: f.Lease(active.Id), closed: f.Lease(closed.Id),
			short: f.Lease(short.Id), cancelled: f.Lease(cancelled.Id), expired: f.Lease(expired.Id)}
	}

	cases := []struct {
		name     string
		msg      func(s setup) *types.MsgTopUpLease
		err      error
		contains []string
	}{
		{
			name:     "closed lease",
			msg:      func(s setup) *types.MsgTopUpLease { return &types.MsgTopUpLease{LeaseId: s.closed.Id, Amount: unro(1)} },
			err:      types.ErrLeaseClosed,
			contains: []string{"lease 4 is LEASE_STATE_CLOSED since height 30", "create a new one"},
		},
		{
			name: "cancelled lease",
			msg: func(s setup) *types.MsgTopUpLease {
				return &types.MsgTopUpLease{LeaseId: s.cancelled.Id, Amount: unro(1)}
			},
			err:      types.ErrLeaseClosed,
			contains: []string{"LEASE_STATE_CANCELLED"},
		},
		{
			name: "expired lease",
			msg: func(s setup) *types.MsgTopUpLease {
				return &types.MsgTopUpLease{LeaseId: s.expired.Id, Amount: unro(1)}
			},
			err:      types.ErrLeaseClosed,
			contains: []string{"lease 1 is LEASE_STATE_EXPIRED"},
		},
		{
			name:     "active lease past its deadline",
			msg:      func(s setup) *types.MsgTopUpLease { return &types.MsgTopUpLease{LeaseId: s.short.Id, Amount: unro(1)} },
			err:      types.ErrLeaseClosed,
			contains: []string{"reached its deadline at height 130 and is being closed"},
		},
		{
			name: "wrong denom",
			msg: func(s setup) *types.MsgTopUpLease {
				return &types.MsgTopUpLease{LeaseId: s.active.Id, Amount: sdk.NewCoin("uatom", math.NewInt(5))}
			},
			err:      types.ErrInvalidAmount,
			contains: []string{`amount denom "uatom"`, "deposit is in unro"},
		},
		{
			name:     "zero amount",
			msg:      func(s setup) *types.MsgTopUpLease { return &types.MsgTopUpLease{LeaseId: s.active.Id, Amount: unro(0)} },
			err:      types.ErrInvalidAmount,
			contains: []string{"amount must be positive"},
		},
		{
			name:     "unknown lease",
			msg:      func(setup) *types.MsgTopUpLease { return &types.MsgTopUpLease{LeaseId: 77, Amount: unro(1)} },
			err:      types.ErrLeaseNotFound,
			contains: []string{"no lease with id 77"},
		},
		{
			name: "payer cannot pay",
			msg: func(s setup) *types.MsgTopUpLease {
				return &types.MsgTopUpLease{LeaseId: s.active.Id, Amount: unro(1_000_001)}
			},
			err:      sdkerrors.ErrInsufficientFunds,
			contains: []string{"escrow top-up 1000001unro"},
		},
		{
			name: "malformed sender",
			msg: func(s setup) *types.MsgTopUpLease {
				return &types.MsgTopUpLease{Sender: "x", LeaseId: s.active.Id, Amount: unro(1)}
			},
			err:      types.ErrInvalidAddress,
			contains: []string{`sender "x"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := build(t)
			msg := tc.msg(s)
			if msg.Sender == "" {
				msg.Sender = s.payer
			}
			before := snapshot(t, s.f, s.f.MustAccAddress(s.payer))
			_, err := s.f.MsgServer.TopUpLease(s.f.Ctx, msg)
			require.ErrorIs(t, err, tc.err)
			for _, c := range tc.contains {
				require.Contains(t, err.Error(), c)
			}
			requireUnchanged(t, s.f, before)
		})
	}
}

func TestActivateLease(t *testing.T) {
	f := testutil.NewFixture(t)
	_, subStr := f.Addr("submitter")
	_, alice := f.Addr("alice")
	_, bob := f.Addr("bob")
	msg := f.ValidCreateMsg(subStr)
	msg.Spec.Regions = []string{"aws:us-east-1", "gcp:us-central1-a"}
	msg.Deposit = unro(30_000_000)
	l := f.CreateLease(msg)
	f.SetHeight(25)
	f.ResetEvents()

	a := f.LeaseNode("node-a", alice, 4, 2_500_000)
	a.EthAddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	b := f.LeaseNode("node-b", bob, 3, 3_000_000)
	b.Region = "gcp:us-central1-a"
	b2 := f.LeaseNode("node-b", bob, 1, 2_000_000)
	b2.GpuGroup = 1
	b2.Paid = math.NewInt(12345) // ignored: payment starts at activation
	require.NoError(t, f.Keeper.ActivateLease(f.Ctx, l.Id, []types.LeaseNode{a, b, b2}, []string{"node-b", "node-a"}, 42))

	got := f.Lease(l.Id)
	require.Equal(t, types.LEASE_STATE_ACTIVE, got.State)
	require.Equal(t, int64(25), got.ActivatedHeight)
	require.Equal(t, int64(25), got.SettledHeight)
	require.Equal(t, int64(25+1200), got.EndHeight)
	// R = 4×2500000 + 3×3000000 + 1×2000000 = 21000000 per hour; 30000000 × 600 / 21000000 = 857.1 blocks,
	// before the end at 1225.
	require.Equal(t, int64(25+857), got.DeadlineHeight)
	require.Equal(t, []string{"node-b", "node-a"}, got.RingOrder)
	require.Equal(t, uint64(42), got.DecisionId)
	for _, n := range got.Nodes {
		require.True(t, n.Paid.IsZero())
	}
	require.Equal(t, []collectionsPair{dl(882, l.Id)}, deadlines(t, f))
	wantNodes := []types.LeaseNode{a, b, b2}
	for i := range wantNodes {
		wantNodes[i].Paid = math.ZeroInt()
	}
	require.Equal(t, wantNodes, got.Nodes)
	requireEvents(t, f, &types.EventLeaseActivated{
		LeaseId: l.Id, NodeIds: []string{"node-a", "node-b", "node-b"}, RingOrder: []string{"node-b", "node-a"}, DecisionId: 42,
		RatePerHour: "21000000unro", EndHeight: 1225, DeadlineHeight: 882,
	})
	// The lease is found under each of its nodes once.
	for _, node := range []string{"node-a", "node-b"} {
		iter, err := f.Keeper.Leases.Indexes.Node.MatchExact(f.Ctx, node)
		require.NoError(t, err)
		ids, err := iter.PrimaryKeys()
		require.NoError(t, err)
		require.Equal(t, []uint64{l.Id}, ids, node)
	}
	f.RequireInvariant()
}

func TestActivateLeaseRejected(t *testing.T) {
	cases := []struct {
		name     string
		id       uint64
		nodes    func(f *testutil.Fixture, op string) []types.LeaseNode
		ring     []string
		err      error
		contains []string
	}{
		{
			name:     "activate twice",
			id:       2,
			err:      types.ErrLeaseNotPending,
			contains: []string{"lease 2 is LEASE_STATE_ACTIVE; only a PENDING lease can be activated"},
		},
		{
			name:     "cancelled lease",
			id:       3,
			err:      types.ErrLeaseNotPending,
			contains: []string{"lease 3 is LEASE_STATE_CANCELLED"},
		},
		{
			name:     "unknown lease",
			id:       9,
			err:      types.ErrLeaseNotFound,
			contains: []string{"no lease with id 9"},
		},
		{
			name:     "no nodes",
			nodes:    func(*testutil.Fixture, string) []types.LeaseNode { return nil },
			ring:     []string{},
			err:      types.ErrInvalidPlacement,
			contains: []string{"activate lease 1", "at least one node"},
		},
		{
			name: "too few GPUs",
			nodes: func(f *testutil.Fixture, op string) []types.LeaseNode {
				return []types.LeaseNode{f.LeaseNode("n1", op, 7, 3_000_000)}
			},
			err:      types.ErrInvalidPlacement,
			contains: []string{"the placement has 7 GPUs, the lease needs 8"},
		},
		{
			name: "zero GPUs on a node",
			nodes: func(f *testutil.Fixture, op string) []types.LeaseNode {
				return []types.LeaseNode{f.LeaseNode("n1", op, 8, 3_000_000), f.LeaseNode("n2", op, 0, 3_000_000)}
			},
			ring:     []string{"n1", "n2"},
			err:      types.ErrInvalidPlacement,
			contains: []string{"nodes[1] (n2): gpus is 0"},
		},
		{
			name: "price above the lease's maximum",
			nodes: func(f *testutil.Fixture, op string) []types.LeaseNode {
				return []types.LeaseNode{f.LeaseNode("n1", op, 8, 3_000_001)}
			},
			err:      types.ErrInvalidPlacement,
			contains: []string{"price 3000001unro exceeds the lease's max_price_per_gpu_hour 3000000unro"},
		},
		{
			name: "price in another denom",
			nodes: func(f *testutil.Fixture, op string) []types.LeaseNode {
				n := f.LeaseNode("n1", op, 8, 1)
				n.PricePerGpuHour = sdk.NewCoin("uatom", math.NewInt(1))
				return []types.LeaseNode{n}
			},
			err:      types.ErrInvalidPlacement,
			contains: []string{`price denom "uatom" differs from the lease's "unro"`},
		},
		{
			name: "malformed operator",
			nodes: func(f *testutil.Fixture, _ string) []types.LeaseNode {
				return []types.LeaseNode{f.LeaseNode("n1", "nro1nope", 8, 3_000_000)}
			},
			err:      types.ErrInvalidPlacement,
			contains: []string{`operator "nro1nope"`},
		},
		{
			name: "node and group listed twice",
			nodes: func(f *testutil.Fixture, op string) []types.LeaseNode {
				return []types.LeaseNode{f.LeaseNode("n1", op, 4, 3_000_000), f.LeaseNode("n1", op, 4, 3_000_000)}
			},
			err:      types.ErrInvalidPlacement,
			contains: []string{"node n1 GPU group 0 is listed twice"},
		},
		{
			name: "ring order misses a node",
			nodes: func(f *testutil.Fixture, op string) []types.LeaseNode {
				return []types.LeaseNode{f.LeaseNode("n1", op, 4, 3_000_000), f.LeaseNode("n2", op, 4, 3_000_000)}
			},
			ring:     []string{"n1"},
			err:      types.ErrInvalidPlacement,
			contains: []string{"ring_order has 1 entries for 2 distinct nodes"},
		},
		{
			name: "ring order names another node",
			nodes: func(f *testutil.Fixture, op string) []types.LeaseNode {
				return []types.LeaseNode{f.LeaseNode("n1", op, 4, 3_000_000), f.LeaseNode("n2", op, 4, 3_000_000)}
			},
			ring:     []string{"n1", "n3"},
			err:      types.ErrInvalidPlacement,
			contains: []string{`ring_order[1] "n3"`},
		},
		{
			name: "region outside the spec",
			nodes: func(f *testutil.Fixture, op string) []types.LeaseNode {
				n := f.LeaseNode("n1", op, 8, 3_000_000)
				n.Region = "azure:westeurope"
				return []types.LeaseNode{n}
			},
			err:      types.ErrInvalidPlacement,
			contains: []string{`region "azure:westeurope" is not one of the lease's regions`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := testutil.NewFixture(t)
			_, subStr := f.Addr("submitter")
			_, opStr := f.Addr("operator")
			msg := f.ValidCreateMsg(subStr)
			msg.Spec.Regions = []string{"aws:us-east-1"}
			pending := f.CreateLease(msg)
			f.Activate(f.CreateLease(msg).Id, f.LeaseNode("n0", opStr, 8, 3_000_000))
			cancelled := f.CreateLease(msg)
			_, err := f.MsgServer.CancelLease(f.Ctx, &types.MsgCancelLease{Submitter: subStr, LeaseId: cancelled.Id})
			require.NoError(t, err)
			f.ResetEvents()
			f.Alloc.ResetCalls()

			id := tc.id
			if id == 0 {
				id = pending.Id
			}
			nodes := []types.LeaseNode{f.LeaseNode("n1", opStr, 8, 3_000_000)}
			if tc.nodes != nil {
				nodes = tc.nodes(f, opStr)
			}
			ring := tc.ring
			if ring == nil {
				ring = []string{"n1"}
			}
			before := snapshot(t, f)
			err = f.Keeper.ActivateLease(f.Ctx, id, nodes, ring, 1)
			require.ErrorIs(t, err, tc.err)
			for _, c := range tc.contains {
				require.Contains(t, err.Error(), c)
			}
			requireUnchanged(t, f, before)
		})
	}
}

// TestReleaseFailureFailsTheClose: if x/allocation cannot free the GPUs, the close fails (and its tx
// reverts) rather than leave capacity reserved for a closed lease.
func TestReleaseFailureFailsTheClose(t *testing.T) {
	f := testutil.NewFixture(t)
	l, _, _ := activeLease(t, f)
	broken := errors.New("node vanished")
	f.Alloc.ReleaseLeaseFn = func(context.Context, types.Lease) error { return broken }
	f.NextBlock(5)
	cacheCtx, _ := f.Ctx.CacheContext()
	_, err := f.Keeper.CloseLease(cacheCtx, &types.MsgCloseLease{Submitter: l.Submitter, LeaseId: l.Id})
	require.ErrorIs(t, err, broken)
	require.Contains(t, err.Error(), "release the GPUs of lease 1")
	require.Equal(t, types.LEASE_STATE_ACTIVE, f.Lease(l.Id).State)
}
