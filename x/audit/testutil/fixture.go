// Package testutil holds x/audit test helpers: a keeper fixture over an in-memory store and a realistic
// sample decision whose scores come from the real scorer.
package testutil

import (
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil/integration"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/address"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/consensus-nro/nro/x/audit"
	"github.com/consensus-nro/nro/x/audit/keeper"
	"github.com/consensus-nro/nro/x/audit/types"
)

const (
	// Bech32Prefix is the chain's account prefix.
	Bech32Prefix = "nro"
	// StartHeight is the block height of a fresh fixture.
	StartHeight int64 = 10
)

// Fixture is an x/audit keeper over an in-memory multistore, with the default genesis loaded. Ctx is the
// current block context; the helpers advance it. x/audit needs no other keeper.
type Fixture struct {
	T testing.TB

	Ctx   sdk.Context
	Codec codec.Codec
	// Authority is the gov module account.
	Authority string
	// StoreKey is the x/audit store, for tests that write behind the keeper's back.
	StoreKey *storetypes.KVStoreKey

	Keeper      keeper.Keeper
	QueryServer types.QueryServer
}

// NewFixture builds a fresh state at StartHeight with the default x/audit genesis.
func NewFixture(t testing.TB) *Fixture {
	t.Helper()
	f := NewFixtureWithoutGenesis(t)
	require.NoError(t, f.Keeper.InitGenesis(f.Ctx, *types.DefaultGenesis()))
	return f
}

// NewFixtureWithoutGenesis is NewFixture without InitGenesis, for genesis tests.
func NewFixtureWithoutGenesis(t testing.TB) *Fixture {
	t.Helper()
	encCfg := moduletestutil.MakeTestEncodingConfig(audit.AppModule{})
	keys := storetypes.NewKVStoreKeys(types.StoreKey)
	logger := log.NewNopLogger()
	cms := integration.CreateMultiStore(keys, logger)
	ctx := sdk.NewContext(cms, cmtproto.Header{
		ChainID: "nro-test-1",
		Height:  StartHeight,
		Time:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}, false, logger)

	authority, err := addresscodec.NewBech32Codec(Bech32Prefix).BytesToString(address.Module("gov"))
	require.NoError(t, err)
	k := keeper.NewKeeper(encCfg.Codec, runtime.NewKVStoreService(keys[types.StoreKey]), logger, authority)
	return &Fixture{
		T:           t,
		Ctx:         ctx,
		Codec:       encCfg.Codec,
		Authority:   authority,
		StoreKey:    keys[types.StoreKey],
		Keeper:      k,
		QueryServer: keeper.NewQueryServerImpl(k),
	}
}

// Height is the current block height.
func (f *Fixture) Height() int64 { return f.Ctx.BlockHeight() }

// SetHeight moves the context to block height h with fresh events.
func (f *Fixture) SetHeight(h int64) {
	f.Ctx = f.Ctx.WithBlockHeight(h).WithEventManager(sdk.NewEventManager())
}

// ResetEvents gives the context a fresh event manager.
func (f *Fixture) ResetEvents() { f.Ctx = f.Ctx.WithEventManager(sdk.NewEventManager()) }

// TypedEvents decodes every event of the context whose type starts with the x/audit proto package.
func (f *Fixture) TypedEvents() []proto.Message {
	f.T.Helper()
	var out []proto.Message
	for _, ev := range f.Ctx.EventManager().Events() {
		if !strings.HasPrefix(ev.Type, "nro.audit.") {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abci.Event(ev))
		require.NoError(f.T, err, "decode event %s", ev.Type)
		out = append(out, msg)
	}
	return out
}

// RequireInvariant fails the test unless Keeper.CheckDecisionIndexes holds.
func (f *Fixture) RequireInvariant() {
	f.T.Helper()
	require.NoError(f.T, f.Keeper.CheckDecisionIndexes(f.Ctx))
}

// Record stores d's inputs through RecordDecision at the current height, failing the test on error, and
// returns the stored record.
func (f *Fixture) Record(d types.Decision) types.Decision {
	f.T.Helper()
	id, err := f.Keeper.RecordDecision(f.Ctx, d.LeaseId, d.Spec, d.BlocksPerHour, d.Weights, d.Candidates, d.Winner)
	require.NoError(f.T, err)
	got, err := f.Keeper.GetDecision(f.Ctx, id)
	require.NoError(f.T, err)
	return got
}
