package app

import (
	"encoding/json"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	dbm "github.com/cosmos/cosmos-db"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
)

// Test helpers for app-level tests, in this package and in others: they build a real App on an in-memory
// database and drive it through ABCI (InitChain, FinalizeBlock, Commit) as CometBFT would.

const (
	// TestChainID is the chain id of apps built by the helpers below.
	TestChainID = "nro-test-1"
	// TestAccountBalance is the unro balance of the funded account of Setup.
	TestAccountBalance int64 = 100_000_000_000_000
)

// TestAccount is a funded genesis account of a test app, with its key for signing transactions.
type TestAccount struct {
	PrivKey cryptotypes.PrivKey
	Address sdk.AccAddress
}

// TestConsensusParams are the consensus params of test chains: the SDK's test defaults without the
// consensus-level authority, so that, as on a chain started by `nrod init`, each module's authority (the gov
// module account) governs its params.
func TestConsensusParams() *cmtproto.ConsensusParams {
	cp := *simtestutil.DefaultConsensusParams
	cp.Authority = nil
	return &cp
}

// NewTestApp returns an App on a fresh in-memory database with chain id TestChainID, before InitChain.
func NewTestApp(tb testing.TB, baseAppOptions ...func(*baseapp.BaseApp)) *App {
	tb.Helper()
	opts := append([]func(*baseapp.BaseApp){baseapp.SetChainID(TestChainID)}, baseAppOptions...)
	return New(log.NewNopLogger(), dbm.NewMemDB(), true, simtestutil.NewAppOptionsWithFlagHome(tb.TempDir()), opts...)
}

// Setup returns an App with one bonded validator and one funded account (TestAccountBalance unro),
// initialised through InitChain with the default genesis of every other module and with block 1 finalized
// and committed.
func Setup(tb testing.TB) *App {
	tb.Helper()
	app, _ := SetupWithGenesis(tb, nil)
	return app
}

// SetupWithGenesis is Setup with a hook to change the genesis state (one validator, the funded account and
// every module's default genesis) before InitChain. It also returns the funded account.
func SetupWithGenesis(tb testing.TB, modify func(genesis GenesisState, acc TestAccount) GenesisState) (*App, TestAccount) {
	tb.Helper()
	app := NewTestApp(tb)
	acc := TestAccount{PrivKey: secp256k1.GenPrivKey()}
	acc.Address = sdk.AccAddress(acc.PrivKey.PubKey().Address())
	valSet, err := simtestutil.CreateRandomValidatorSet()
	if err != nil {
		tb.Fatalf("create validator set: %v", err)
	}
	genAcc := authtypes.NewBaseAccount(acc.Address, acc.PrivKey.PubKey(), 0, 0)
	balance := banktypes.Balance{
		Address: acc.Address.String(),
		Coins:   sdk.NewCoins(sdk.NewCoin(BondDenom, sdkmath.NewInt(TestAccountBalance))),
	}
	genesis, err := simtestutil.GenesisStateWithValSet(app.AppCodec(), app.DefaultGenesis(), valSet,
		[]authtypes.GenesisAccount{genAcc}, balance)
	if err != nil {
		tb.Fatalf("genesis state: %v", err)
	}
	if modify != nil {
		genesis = modify(genesis, acc)
	}
	InitChainAndCommit(tb, app, genesis, valSet)
	return app, acc
}

// InitChainAndCommit runs InitChain with the genesis state on a fresh app, then finalizes and commits block 1.
func InitChainAndCommit(tb testing.TB, app *App, genesis GenesisState, valSet *cmttypes.ValidatorSet) {
	tb.Helper()
	stateBytes, err := json.MarshalIndent(genesis, "", " ")
	if err != nil {
		tb.Fatalf("marshal genesis: %v", err)
	}
	if _, err := app.InitChain(&abci.RequestInitChain{
		ChainId:         TestChainID,
		Time:            TestBlockTime(1),
		InitialHeight:   1,
		ConsensusParams: TestConsensusParams(),
		AppStateBytes:   stateBytes,
	}); err != nil {
		tb.Fatalf("InitChain: %v", err)
	}
	FinalizeAndCommit(tb, app, 1)
}

// NextBlock finalizes and commits the block after the last committed one with the given transactions
// (encoded), and returns the FinalizeBlock response.
func NextBlock(tb testing.TB, app *App, txs ...[]byte) *abci.ResponseFinalizeBlock {
	tb.Helper()
	return FinalizeAndCommit(tb, app, app.LastBlockHeight()+1, txs...)
}

// FinalizeAndCommit finalizes and commits the block at height (at TestBlockTime(height)) with the given
// transactions. Use it for the first block of a chain imported at an initial height above 1.
func FinalizeAndCommit(tb testing.TB, app *App, height int64, txs ...[]byte) *abci.ResponseFinalizeBlock {
	tb.Helper()
	res, err := app.FinalizeBlock(&abci.RequestFinalizeBlock{Height: height, Time: TestBlockTime(height), Txs: txs})
	if err != nil {
		tb.Fatalf("FinalizeBlock %d: %v", height, err)
	}
	if _, err := app.Commit(); err != nil {
		tb.Fatalf("Commit %d: %v", height, err)
	}
	return res
}

// TestBlockTime is the block time the helpers give a height: 6 s blocks from 2026-01-01.
func TestBlockTime(height int64) time.Time {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(height-1) * 6 * time.Second)
}

// CommittedContext returns a read-only context on the last committed state of the app.
func CommittedContext(app *App) sdk.Context {
	return app.NewContextLegacy(true, cmtproto.Header{Height: app.LastBlockHeight()})
}
