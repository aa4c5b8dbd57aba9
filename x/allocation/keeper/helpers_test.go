package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// EIP-55 test vectors (https://eips.ethereum.org/EIPS/eip-55).
const (
	ethAddr1 = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	ethAddr2 = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
)

// state is everything a rejected message must leave untouched.
type state struct {
	accounts map[string]sdk.Coins
	module   sdk.Coins
	nodes    []types.Node
	queue    []collections.Pair[int64, string]
	params   types.Params
}

func snapshot(t *testing.T, f *keepertest.AllocationFixture, accounts ...sdk.AccAddress) state {
	t.Helper()
	s := state{
		accounts: map[string]sdk.Coins{},
		module:   f.BankKeeper.GetAllBalances(f.Ctx, f.ModuleAddress()),
		params:   f.Params(),
	}
	for _, a := range accounts {
		s.accounts[a.String()] = f.BankKeeper.GetAllBalances(f.Ctx, a)
	}
	require.NoError(t, f.Keeper.Nodes.Walk(f.Ctx, nil, func(_ string, n types.Node) (bool, error) {
		s.nodes = append(s.nodes, n)
		return false, nil
	}))
	require.NoError(t, f.Keeper.UnbondingQueue.Walk(f.Ctx, nil, func(k collections.Pair[int64, string]) (bool, error) {
		s.queue = append(s.queue, k)
		return false, nil
	}))
	return s
}

// requireUnchanged asserts that the state is exactly before, and that no x/allocation event was emitted.
func requireUnchanged(t *testing.T, f *keepertest.AllocationFixture, before state) {
	t.Helper()
	accounts := make([]sdk.AccAddress, 0, len(before.accounts))
	for a := range before.accounts {
		accounts = append(accounts, sdk.MustAccAddressFromBech32(a))
	}
	after := snapshot(t, f, accounts...)
	for a, coins := range before.accounts {
		require.Equal(t, coins.String(), after.accounts[a].String(), "balance of %s changed", a)
	}
	require.Equal(t, before.module.String(), after.module.String(), "module balance changed")
	require.Equal(t, before.nodes, after.nodes, "nodes changed")
	require.Equal(t, before.queue, after.queue, "unbonding queue changed")
	require.Equal(t, before.params, after.params, "params changed")
	require.Empty(t, f.TypedEvents(), "a rejected message emitted events")
	f.RequireInvariant()
}

// requireEvents asserts that the x/allocation events emitted since the last reset are exactly want, in
// order, comparing type names and attributes as they appear in the block results.
func requireEvents(t *testing.T, f *keepertest.AllocationFixture, want ...proto.Message) {
	t.Helper()
	var got sdk.Events
	for _, ev := range f.Events() {
		if len(ev.Type) > len("nro.allocation.") && ev.Type[:len("nro.allocation.")] == "nro.allocation." {
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
	// The events also decode back to the typed messages.
	decoded := f.TypedEvents()
	require.Len(t, decoded, len(want))
	for i, w := range want {
		require.Equal(t, proto.MessageName(w), proto.MessageName(decoded[i]))
	}
}

// bal is the amount of the stake denom an account holds.
func bal(f *keepertest.AllocationFixture, a sdk.AccAddress) int64 {
	return f.Balance(a).Amount.Int64()
}
