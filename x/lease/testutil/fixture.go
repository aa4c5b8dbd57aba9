// Package testutil holds x/lease test fixtures: a keeper wired to real x/auth and x/bank keepers over an
// in-memory store, and a fake x/allocation keeper. It does not import x/allocation, so the module's tests
// build on their own.
package testutil

import (
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/address"
	"cosmossdk.io/log/v2"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil/integration"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	"github.com/cosmos/cosmos-sdk/x/auth"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/bank"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/consensus-nro/nro/x/lease"
	leasekeeper "github.com/consensus-nro/nro/x/lease/keeper"
	"github.com/consensus-nro/nro/x/lease/types"
)

const (
	// Bech32Prefix is the chain's account prefix (app.Bech32Prefix); repeated here so that module tests do not
	// depend on the app wiring.
	Bech32Prefix = "nro"
	// ChainID is the chain id of fixture contexts.
	ChainID = "nro-test-1"
	// StartHeight is the block height of a fresh fixture.
	StartHeight int64 = 10
	// Denom is the price denom the fake x/allocation keeper reports.
	Denom = "unro"
)

var configOnce sync.Once

// SetBech32Prefixes sets the global SDK account prefixes to nro, as app.SetConfig does, so that
// sdk.AccAddress.String and sdk.AccAddressFromBech32 agree with the keepers' address codec. It is a no-op
// when the prefixes are already nro.
func SetBech32Prefixes() {
	configOnce.Do(func() {
		cfg := sdk.GetConfig()
		if cfg.GetBech32AccountAddrPrefix() == Bech32Prefix {
			return
		}
		cfg.SetBech32PrefixForAccount(Bech32Prefix, Bech32Prefix+sdk.PrefixPublic)
		cfg.SetBech32PrefixForValidator(Bech32Prefix+sdk.PrefixValidator+sdk.PrefixOperator,
			Bech32Prefix+sdk.PrefixValidator+sdk.PrefixOperator+sdk.PrefixPublic)
		cfg.SetBech32PrefixForConsensusNode(Bech32Prefix+sdk.PrefixValidator+sdk.PrefixConsensus,
			Bech32Prefix+sdk.PrefixValidator+sdk.PrefixConsensus+sdk.PrefixPublic)
	})
}

// Fixture is an x/lease keeper wired to real x/auth and x/bank keepers over an in-memory multistore, with a
// fake x/allocation keeper. Ctx is the current block context; the helpers advance it.
type Fixture struct {
	T testing.TB

	Ctx          sdk.Context
	Codec        codec.Codec
	AddressCodec address.Codec
	// Authority is the gov module account, the params authority of x/lease.
	Authority string

	AccountKeeper authkeeper.AccountKeeper
	BankKeeper    bankkeeper.BaseKeeper
	Keeper        leasekeeper.Keeper
	Alloc         *FakeAllocationKeeper
	MsgServer     types.MsgServer
	QueryServer   types.QueryServer
}

// NewFixture builds a fresh chain state at StartHeight with the default x/lease genesis.
func NewFixture(t testing.TB) *Fixture {
	t.Helper()
	f := NewFixtureWithoutGenesis(t)
	require.NoError(t, f.Keeper.InitGenesis(f.Ctx, *types.DefaultGenesis()))
	return f
}

// NewFixtureWithoutGenesis is NewFixture without x/lease state, for InitGenesis tests.
func NewFixtureWithoutGenesis(t testing.TB) *Fixture {
	t.Helper()
	SetBech32Prefixes()

	encCfg := moduletestutil.MakeTestEncodingConfig(auth.AppModuleBasic{}, bank.AppModuleBasic{}, lease.AppModule{})
	keys := storetypes.NewKVStoreKeys(authtypes.StoreKey, banktypes.StoreKey, types.StoreKey)
	logger := log.NewNopLogger()
	cms := integration.CreateMultiStore(keys, logger)
	ctx := sdk.NewContext(cms, cmtproto.Header{
		ChainID: ChainID,
		Height:  StartHeight,
		Time:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}, false, logger)

	addrCodec := addresscodec.NewBech32Codec(Bech32Prefix)
	authority, err := addrCodec.BytesToString(authtypes.NewModuleAddress("gov"))
	require.NoError(t, err)

	maccPerms := map[string][]string{
		authtypes.FeeCollectorName: nil,
		minttypes.ModuleName:       {authtypes.Minter},
		"gov":                      {authtypes.Burner},
		types.ModuleName:           nil,
		types.BridgeEscrowName:     nil,
	}
	ak := authkeeper.NewAccountKeeper(encCfg.Codec, runtime.NewKVStoreService(keys[authtypes.StoreKey]),
		authtypes.ProtoBaseAccount, maccPerms, addrCodec, Bech32Prefix, authority)

	// As in the app: module accounts may not receive plain transfers, except gov (deposits).
	blocked := make(map[string]bool, len(maccPerms))
	for name := range maccPerms {
		if name != "gov" {
			blocked[authtypes.NewModuleAddress(name).String()] = true
		}
	}
	bk := bankkeeper.NewBaseKeeper(encCfg.Codec, runtime.NewKVStoreService(keys[banktypes.StoreKey]), ak,
		blocked, authority, logger)
	require.NoError(t, bk.SetParams(ctx, banktypes.DefaultParams()))

	k := leasekeeper.NewKeeper(encCfg.Codec, runtime.NewKVStoreService(keys[types.StoreKey]), logger,
		ak, bk, authority)
	alloc := NewFakeAllocationKeeper()
	k.SetAllocationKeeper(alloc)

	return &Fixture{
		T:             t,
		Ctx:           ctx,
		Codec:         encCfg.Codec,
		AddressCodec:  addrCodec,
		Authority:     authority,
		AccountKeeper: ak,
		BankKeeper:    bk,
		Keeper:        k,
		Alloc:         alloc,
		MsgServer:     leasekeeper.NewMsgServerImpl(k),
		QueryServer:   leasekeeper.NewQueryServerImpl(k),
	}
}

// Params returns the current x/lease params.
func (f *Fixture) Params() types.Params {
	f.T.Helper()
	p, err := f.Keeper.Params.Get(f.Ctx)
	require.NoError(f.T, err)
	return p
}

// SetParams replaces the x/lease params directly in state.
func (f *Fixture) SetParams(p types.Params) {
	f.T.Helper()
	require.NoError(f.T, p.Validate())
	require.NoError(f.T, f.Keeper.Params.Set(f.Ctx, p))
}

// Coin is amount of the price denom.
func (f *Fixture) Coin(amount int64) sdk.Coin { return sdk.NewCoin(Denom, math.NewInt(amount)) }

// Addr returns a deterministic account address for name and its bech32 form.
func (f *Fixture) Addr(name string) (sdk.AccAddress, string) {
	f.T.Helper()
	sum := sha256.Sum256([]byte("nro-test-account/" + name))
	addr := sdk.AccAddress(sum[:20])
	s, err := f.AddressCodec.BytesToString(addr)
	require.NoError(f.T, err)
	return addr, s
}

// MustAccAddress decodes a bech32 account address with the fixture's codec.
func (f *Fixture) MustAccAddress(bech32 string) sdk.AccAddress {
	f.T.Helper()
	bz, err := f.AddressCodec.StringToBytes(bech32)
	require.NoError(f.T, err)
	return bz
}

// Fund mints coins to addr, as a genesis allocation would. It leaves the context's events untouched.
func (f *Fixture) Fund(addr sdk.AccAddress, coins ...sdk.Coin) {
	f.T.Helper()
	amt := mergeCoins(coins)
	ctx := f.Ctx.WithEventManager(sdk.NewEventManager())
	require.NoError(f.T, f.BankKeeper.MintCoins(ctx, minttypes.ModuleName, amt))
	require.NoError(f.T, f.BankKeeper.SendCoinsFromModuleToAccount(ctx, minttypes.ModuleName, addr, amt))
}

// FundModule mints coins straight into the x/lease module account, behind the keeper's back (genesis
// import tests, invariant tests).
func (f *Fixture) FundModule(coins ...sdk.Coin) {
	f.T.Helper()
	amt := mergeCoins(coins)
	ctx := f.Ctx.WithEventManager(sdk.NewEventManager())
	require.NoError(f.T, f.BankKeeper.MintCoins(ctx, minttypes.ModuleName, amt))
	require.NoError(f.T, f.BankKeeper.SendCoinsFromModuleToModule(ctx, minttypes.ModuleName, types.ModuleName, amt))
}

// Balance is addr's balance in the price denom.
func (f *Fixture) Balance(addr sdk.AccAddress) math.Int {
	return f.BankKeeper.GetBalance(f.Ctx, addr, Denom).Amount
}

// ModuleAddress is the x/lease module account (the escrow).
func (f *Fixture) ModuleAddress() sdk.AccAddress {
	return f.AccountKeeper.GetModuleAddress(types.ModuleName)
}

// ModuleBalance is the escrow's balance in the price denom.
func (f *Fixture) ModuleBalance() math.Int { return f.Balance(f.ModuleAddress()) }

// FeeCollectorAddress is the fee collector module account.
func (f *Fixture) FeeCollectorAddress() sdk.AccAddress {
	return f.AccountKeeper.GetModuleAddress(authtypes.FeeCollectorName)
}

// FeeCollectorBalance is the fee collector's balance in the price denom.
func (f *Fixture) FeeCollectorBalance() math.Int { return f.Balance(f.FeeCollectorAddress()) }

// Height is the current block height.
func (f *Fixture) Height() int64 { return f.Ctx.BlockHeight() }

// SetHeight moves the context to block height h with fresh events.
func (f *Fixture) SetHeight(h int64) {
	f.Ctx = f.Ctx.WithBlockHeight(h).WithEventManager(sdk.NewEventManager())
}

// NextBlock advances the context by n blocks (6 s each) with fresh events.
func (f *Fixture) NextBlock(n int64) {
	f.Ctx = f.Ctx.WithBlockHeight(f.Ctx.BlockHeight() + n).
		WithBlockTime(f.Ctx.BlockTime().Add(time.Duration(n) * 6 * time.Second)).
		WithEventManager(sdk.NewEventManager())
}

// EndBlock runs the module's EndBlock logic at the current height.
func (f *Fixture) EndBlock() error { return f.Keeper.ProcessDeadlines(f.Ctx) }

// ResetEvents gives the context a fresh event manager.
func (f *Fixture) ResetEvents() { f.Ctx = f.Ctx.WithEventManager(sdk.NewEventManager()) }

// Events are the events emitted on the context since the last reset.
func (f *Fixture) Events() sdk.Events { return f.Ctx.EventManager().Events() }

// TypedEvents decodes every event of the context whose type starts with the x/lease proto package.
func (f *Fixture) TypedEvents() []proto.Message {
	f.T.Helper()
	var out []proto.Message
	for _, ev := range f.Events() {
		if !strings.HasPrefix(ev.Type, "nro.lease.") {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abci.Event(ev))
		require.NoError(f.T, err, "decode event %s", ev.Type)
		out = append(out, msg)
	}
	return out
}

// RequireInvariant fails the test unless Keeper.CheckEscrowInvariant holds.
func (f *Fixture) RequireInvariant() {
	f.T.Helper()
	require.NoError(f.T, f.Keeper.CheckEscrowInvariant(f.Ctx))
}

// Lease returns the stored lease, failing the test when it is absent.
func (f *Fixture) Lease(id uint64) types.Lease {
	f.T.Helper()
	l, err := f.Keeper.GetLease(f.Ctx, id)
	require.NoError(f.T, err)
	return l
}

// ValidCreateMsg returns a lease creation that passes every check under the default params: 8 GPUs of any
// model for 1200 blocks at up to 3 NRO per GPU-hour, with a deposit for the full duration at that price
// (8 × 3000000 × 1200 / 600 = 48000000 unro).
func (f *Fixture) ValidCreateMsg(submitter string) *types.MsgCreateLease {
	return &types.MsgCreateLease{
		Submitter: submitter,
		Spec: types.LeaseSpec{
			TotalGpus:          8,
			DurationBlocks:     1200,
			MaxPricePerGpuHour: f.Coin(3_000_000),
		},
		Deposit: f.Coin(48_000_000),
	}
}

// CreateLease funds the submitter with exactly the deposit and creates msg's lease, failing the test on
// error.
func (f *Fixture) CreateLease(msg *types.MsgCreateLease) types.Lease {
	f.T.Helper()
	f.Fund(f.MustAccAddress(msg.Submitter), msg.Deposit)
	res, err := f.MsgServer.CreateLease(f.Ctx, msg)
	require.NoError(f.T, err)
	return f.Lease(res.LeaseId)
}

// LeaseNode returns a placement entry on nodeID for gpus GPUs at price per GPU-hour, operated by operator
// (a bech32 address), in region aws:us-east-1 with 80 GB H100s.
func (f *Fixture) LeaseNode(nodeID, operator string, gpus uint32, price int64) types.LeaseNode {
	return types.LeaseNode{
		NodeId:          nodeID,
		Operator:        operator,
		Region:          "aws:us-east-1",
		Gpus:            gpus,
		GpuModel:        "H100",
		GpuMemoryMib:    81920,
		PricePerGpuHour: f.Coin(price),
	}
}

// Activate activates lease id on nodes at the current height with the distinct node ids as ring order,
// failing the test on error.
func (f *Fixture) Activate(id uint64, nodes ...types.LeaseNode) types.Lease {
	f.T.Helper()
	var ring []string
	for _, n := range nodes {
		if !slices.Contains(ring, n.NodeId) {
			ring = append(ring, n.NodeId)
		}
	}
	require.NoError(f.T, f.Keeper.ActivateLease(f.Ctx, id, nodes, ring, 7))
	return f.Lease(id)
}

// mergeCoins is sdk.NewCoins that also accepts a denom more than once (amounts add up).
func mergeCoins(coins []sdk.Coin) sdk.Coins {
	out := sdk.NewCoins()
	for _, c := range coins {
		out = out.Add(c)
	}
	return out
}
