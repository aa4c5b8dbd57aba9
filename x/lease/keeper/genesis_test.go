package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/testutil"
	"github.com/consensus-nro/nro/x/lease/types"
)

// populated builds a state with a lease in every state, settlement records and unspent escrow, at height 60:
//
//	1 EXPIRED  2 CANCELLED  3 CLOSED (2 records)  4 ACTIVE (settled once)  5 ACTIVE  6 PENDING
func populated(t *testing.T) *testutil.Fixture {
	t.Helper()
	f := testutil.NewFixture(t)
	p := f.Params()
	p.MaxPendingBlocks = 30
	p.TakeBps = 333
	f.SetParams(p)
	_, alice := f.Addr("alice")
	_, bob := f.Addr("bob")
	_, opA := f.Addr("op-a")
	_, opB := f.Addr("op-b")

	f.CreateLease(f.ValidCreateMsg(alice)) // 1: expires at 40
	f.SetHeight(40)
	require.NoError(t, f.EndBlock())
	l2 := f.CreateLease(f.ValidCreateMsg(bob))
	_, err := f.MsgServer.CancelLease(f.Ctx, &types.MsgCancelLease{Submitter: bob, LeaseId: l2.Id})
	require.NoError(t, err)

	l3 := f.CreateLease(f.ValidCreateMsg(alice))
	f.Activate(l3.Id, f.LeaseNode("n1", opA, 3, 2_999_999), f.LeaseNode("n2", opB, 5, 1_000_001))
	l4 := f.CreateLease(f.ValidCreateMsg(bob))
	f.Activate(l4.Id, f.LeaseNode("n2", opB, 8, 2_000_003))
	l5 := f.CreateLease(f.ValidCreateMsg(alice))
	f.Activate(l5.Id, f.LeaseNode("n1", opA, 4, 1_500_000), f.LeaseNode("n3", opB, 4, 2_500_000))

	f.SetHeight(45)
	f.Fund(f.MustAccAddress(alice), unro(1_000))
	_, err = f.MsgServer.TopUpLease(f.Ctx, &types.MsgTopUpLease{Sender: alice, LeaseId: l4.Id, Amount: unro(1_000)})
	require.NoError(t, err)
	f.SetHeight(57)
	_, err = f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: alice, LeaseId: l3.Id})
	require.NoError(t, err)
	f.SetHeight(60)
	f.CreateLease(f.ValidCreateMsg(bob)) // 6: pending
	f.RequireInvariant()
	return f
}

func TestGenesisRoundTrip(t *testing.T) {
	f := populated(t)
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate(f.AddressCodec))
	require.Len(t, gs.Leases, 6)
	require.Len(t, gs.SettlementRecords, 2)
	require.Equal(t, uint64(7), gs.NextLeaseId)
	require.Equal(t, uint64(3), gs.NextRecordId)
	var states []types.LeaseState
	for _, l := range gs.Leases {
		states = append(states, l.State)
	}
	require.Equal(t, []types.LeaseState{
		types.LEASE_STATE_EXPIRED, types.LEASE_STATE_CANCELLED, types.LEASE_STATE_CLOSED,
		types.LEASE_STATE_ACTIVE, types.LEASE_STATE_ACTIVE, types.LEASE_STATE_PENDING,
	}, states)

	// Through JSON, as a genesis file would carry it.
	bz, err := f.Codec.MarshalJSON(gs)
	require.NoError(t, err)
	var imported types.GenesisState
	require.NoError(t, f.Codec.UnmarshalJSON(bz, &imported))

	g := testutil.NewFixtureWithoutGenesis(t)
	g.SetHeight(f.Height())
	g.FundModule(sdk.NewCoin(testutil.Denom, f.ModuleBalance()))
	require.NoError(t, g.Keeper.InitGenesis(g.Ctx, imported))
	g.RequireInvariant()
	again, err := g.Keeper.ExportGenesis(g.Ctx)
	require.NoError(t, err)
	require.Equal(t, gs, again)
	require.Equal(t, deadlines(t, f), deadlines(t, g), "the deadline queue is rebuilt from the leases")

	// The imported chain continues exactly as the original: new ids, settlement, closes.
	for _, fx := range []*testutil.Fixture{f, g} {
		_, bob := fx.Addr("bob")
		l := fx.CreateLease(fx.ValidCreateMsg(bob))
		require.Equal(t, uint64(7), l.Id)
		fx.SetHeight(2_000)
		require.NoError(t, fx.EndBlock())
		fx.RequireInvariant()
	}
	a, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	b, err := g.Keeper.ExportGenesis(g.Ctx)
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.Equal(t, uint64(6), a.NextRecordId, "leases 4 and 5 closed with 1 + 2 more records")
}

func TestInitGenesisRequiresFundedEscrow(t *testing.T) {
	f := populated(t)
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)

	g := testutil.NewFixtureWithoutGenesis(t)
	err = g.Keeper.InitGenesis(g.Ctx, *gs)
	require.ErrorContains(t, err, "escrow invariant broken")
	require.ErrorContains(t, err, "fund the lease module account in bank genesis")

	g = testutil.NewFixtureWithoutGenesis(t)
	bad := *gs
	bad.NextLeaseId = 3
	require.ErrorIs(t, g.Keeper.InitGenesis(g.Ctx, bad), types.ErrInvalidGenesis)
}

func TestExportDefaultGenesis(t *testing.T) {
	f := testutil.NewFixture(t)
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, types.DefaultGenesis(), gs)
}

func TestCheckEscrowInvariant(t *testing.T) {
	cases := []struct {
		name     string
		tamper   func(f *testutil.Fixture)
		contains string // empty: the invariant still holds
	}{
		{name: "untouched", tamper: func(*testutil.Fixture) {}},
		{
			name:     "coins minted into the escrow",
			tamper:   func(f *testutil.Fixture) { f.FundModule(unro(1)) },
			contains: "escrow invariant broken: module account holds",
		},
		{
			name:     "another denom in the escrow",
			tamper:   func(f *testutil.Fixture) { f.FundModule(sdk.NewCoin("uatom", math.NewInt(1))) },
			contains: "1uatom",
		},
		{
			name: "a lease's paid changed behind the keeper",
			tamper: func(f *testutil.Fixture) {
				l := f.Lease(4)
				l.Paid = l.Paid.AddAmount(math.NewInt(1))
				require.NoError(t, f.Keeper.Leases.Set(f.Ctx, l.Id, l))
			},
			contains: "lease 4: paid",
		},
		{
			name: "a deadline entry removed",
			tamper: func(f *testutil.Fixture) {
				l := f.Lease(5)
				require.NoError(t, f.Keeper.Deadlines.Remove(f.Ctx, dl(l.DeadlineHeight, l.Id)))
			},
			contains: "lease 5 is LEASE_STATE_ACTIVE but has no deadline queue entry",
		},
		{
			name:     "a stale deadline entry",
			tamper:   func(f *testutil.Fixture) { require.NoError(t, f.Keeper.Deadlines.Set(f.Ctx, dl(99, 1))) },
			contains: "deadline queue has 4 entries for 3 PENDING and ACTIVE leases",
		},
		{
			name: "an ended lease keeps escrow",
			tamper: func(f *testutil.Fixture) {
				l := f.Lease(2)
				l.Refunded = l.Refunded.SubAmount(math.NewInt(5))
				require.NoError(t, f.Keeper.Leases.Set(f.Ctx, l.Id, l))
			},
			contains: "lease 2 is LEASE_STATE_CANCELLED but still holds 5unro",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := populated(t)
			tc.tamper(f)
			err := f.Keeper.CheckEscrowInvariant(f.Ctx)
			if tc.contains == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.contains)
		})
	}
}
