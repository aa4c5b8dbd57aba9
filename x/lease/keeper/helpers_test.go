package keeper_test

import (
	"strings"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/testutil"
	"github.com/consensus-nro/nro/x/lease/types"
)

func unro(amount int64) sdk.Coin { return sdk.NewCoin(testutil.Denom, math.NewInt(amount)) }

// state is everything a rejected message must leave untouched.
type state struct {
	accounts  map[string]sdk.Coins
	module    sdk.Coins
	fees      sdk.Coins
	leases    []types.Lease
	deadlines []collections.Pair[int64, uint64]
	records   []types.SettlementRecord
	nextLease uint64
	params    types.Params
	calls     int
}

func snapshot(t *testing.T, f *testutil.Fixture, accounts ...sdk.AccAddress) state {
	t.Helper()
	s := state{
		accounts: map[string]sdk.Coins{},
		module:   f.BankKeeper.GetAllBalances(f.Ctx, f.ModuleAddress()),
		fees:     f.BankKeeper.GetAllBalances(f.Ctx, f.FeeCollectorAddress()),
		params:   f.Params(),
		calls:    len(f.Alloc.Calls),
	}
	for _, a := range accounts {
		s.accounts[a.String()] = f.BankKeeper.GetAllBalances(f.Ctx, a)
	}
	require.NoError(t, f.Keeper.Leases.Walk(f.Ctx, nil, func(_ uint64, l types.Lease) (bool, error) {
		s.leases = append(s.leases, l)
		return false, nil
	}))
	require.NoError(t, f.Keeper.Deadlines.Walk(f.Ctx, nil, func(k collections.Pair[int64, uint64]) (bool, error) {
		s.deadlines = append(s.deadlines, k)
		return false, nil
	}))
	require.NoError(t, f.Keeper.SettlementRecords.Walk(f.Ctx, nil, func(_ uint64, r types.SettlementRecord) (bool, error) {
		s.records = append(s.records, r)
		return false, nil
	}))
	var err error
	s.nextLease, err = f.Keeper.LeaseSeq.Peek(f.Ctx)
	require.NoError(t, err)
	return s
}

// requireUnchanged asserts that the state is exactly before, that no x/lease event was emitted and that
// x/allocation was not called.
func requireUnchanged(t *testing.T, f *testutil.Fixture, before state) {
	t.Helper()
	accounts := make([]sdk.AccAddress, 0, len(before.accounts))
	for a := range before.accounts {
		accounts = append(accounts, sdk.MustAccAddressFromBech32(a))
	}
	after := snapshot(t, f, accounts...)
	for a, coins := range before.accounts {
		require.Equal(t, coins.String(), after.accounts[a].String(), "balance of %s changed", a)
	}
	require.Equal(t, before.module.String(), after.module.String(), "escrow balance changed")
	require.Equal(t, before.fees.String(), after.fees.String(), "fee collector balance changed")
	require.Equal(t, before.leases, after.leases, "leases changed")
	require.Equal(t, before.deadlines, after.deadlines, "deadline queue changed")
	require.Equal(t, before.records, after.records, "settlement records changed")
	require.Equal(t, before.nextLease, after.nextLease, "lease sequence changed")
	require.Equal(t, before.params, after.params, "params changed")
	require.Equal(t, before.calls, after.calls, "x/allocation was called: %v", f.Alloc.Calls[before.calls:])
	require.Empty(t, f.TypedEvents(), "a rejected message emitted events")
	f.RequireInvariant()
}

// requireEvents asserts that the x/lease events emitted since the last reset are exactly want, in order,
// comparing type names and attributes as they appear in the block results.
func requireEvents(t *testing.T, f *testutil.Fixture, want ...proto.Message) {
	t.Helper()
	var got sdk.Events
	for _, ev := range f.Events() {
		if strings.HasPrefix(ev.Type, "nro.lease.") {
			got = append(got, ev)
		}
	}
	require.Len(t, got, len(want), "events: %v", got)
	for i, w := range want {
		wantEv, err := sdk.TypedEventToEvent(w)
		require.NoError(t, err)
		require.Equal(t, wantEv.Type, got[i].Type)
		require.Equal(t, wantEv.Attributes, got[i].Attributes, "attributes of %s", wantEv.Type)
	}
	decoded := f.TypedEvents()
	require.Len(t, decoded, len(want))
	for i, w := range want {
		require.Equal(t, proto.MessageName(w), proto.MessageName(decoded[i]))
	}
}

// eventsOf returns the decoded x/lease events of one type.
func eventsOf[T proto.Message](f *testutil.Fixture) []T {
	var out []T
	for _, ev := range f.TypedEvents() {
		if e, ok := ev.(T); ok {
			out = append(out, e)
		}
	}
	return out
}

// bal is the price-denom balance of an account as int64.
func bal(f *testutil.Fixture, a sdk.AccAddress) int64 { return f.Balance(a).Int64() }

// deadlines lists the deadline queue.
func deadlines(t *testing.T, f *testutil.Fixture) []collections.Pair[int64, uint64] {
	t.Helper()
	out := []collections.Pair[int64, uint64]{}
	require.NoError(t, f.Keeper.Deadlines.Walk(f.Ctx, nil, func(k collections.Pair[int64, uint64]) (bool, error) {
		out = append(out, k)
		return false, nil
	}))
	return out
}

type collectionsPair = collections.Pair[int64, uint64]

func dl(h int64, id uint64) collections.Pair[int64, uint64] { return collections.Join(h, id) }

// records lists every settlement record.
func records(t *testing.T, f *testutil.Fixture) []types.SettlementRecord {
	t.Helper()
	var out []types.SettlementRecord
	require.NoError(t, f.Keeper.SettlementRecords.Walk(f.Ctx, nil, func(_ uint64, r types.SettlementRecord) (bool, error) {
		out = append(out, r)
		return false, nil
	}))
	return out
}

// zero is a zero amount of the price denom.
var zero = unro(0)

// activeLease creates the fixture's valid lease for a funded submitter and activates it on one node with
// 8 GPUs at 3 NRO per GPU-hour. It returns the lease, the submitter and the operator.
func activeLease(t *testing.T, f *testutil.Fixture) (types.Lease, sdk.AccAddress, sdk.AccAddress) {
	t.Helper()
	sub, subStr := f.Addr("submitter")
	op, opStr := f.Addr("operator")
	l := f.CreateLease(f.ValidCreateMsg(subStr))
	l = f.Activate(l.Id, f.LeaseNode("gpu-node-1", opStr, 8, 3_000_000))
	f.RequireInvariant()
	f.ResetEvents()
	f.Alloc.ResetCalls()
	return l, sub, op
}
