// Package keeper holds test fixtures that build real keepers over an in-memory store.
package keeper

import (
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
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

	"github.com/consensus-nro/nro/x/allocation"
	allocationkeeper "github.com/consensus-nro/nro/x/allocation/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

const (
	// Bech32Prefix is the chain's account prefix (app.Bech32Prefix); repeated here so that module tests do not
	// depend on the app wiring.
	Bech32Prefix = "nro"
	// ChainID is the chain id of fixture contexts.
	ChainID = "nro-test-1"
	// StartHeight is the block height of a fresh fixture.
	StartHeight int64 = 10
)

var configOnce sync.Once

// SetBech32Prefixes sets the global SDK account prefixes to nro, as app.SetConfig does, so that
// sdk.AccAddress.String and sdk.AccAddressFromBech32 agree with the keepers' address codec. It is a no-op
// when the prefixes are already nro (for instance when the app package is linked in and sealed the config).
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

// AllocationFixture is an x/allocation keeper wired to real x/auth and x/bank keepers over an in-memory
// multistore. Ctx is the current block context; the helpers advance it.
type AllocationFixture struct {
	T testing.TB

	Ctx          sdk.Context
	Codec        codec.Codec
	AddressCodec address.Codec
	// Authority is the gov module account, the params authority of x/allocation.
	Authority string

	AccountKeeper authkeeper.AccountKeeper
	BankKeeper    bankkeeper.BaseKeeper
	Keeper        allocationkeeper.Keeper
	MsgServer     types.MsgServer
	QueryServer   types.QueryServer

	// storeKey is x/allocation's store, for helpers that read raw state (the capacity index).
	storeKey *storetypes.KVStoreKey
}

// NewAllocationFixture builds a fresh chain state at StartHeight with default x/allocation params.
func NewAllocationFixture(t testing.TB) *AllocationFixture {
	t.Helper()
	f := NewAllocationFixtureWithoutParams(t)
	require.NoError(t, f.Keeper.Params.Set(f.Ctx, types.DefaultParams()))
	return f
}

// NewAllocationFixtureWithoutParams is NewAllocationFixture without x/allocation params, for InitGenesis tests.
func NewAllocationFixtureWithoutParams(t testing.TB) *AllocationFixture {
	t.Helper()
	SetBech32Prefixes()

	encCfg := moduletestutil.MakeTestEncodingConfig(auth.AppModuleBasic{}, bank.AppModuleBasic{}, allocation.AppModule{})
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
		minttypes.ModuleName: {authtypes.Minter},
		"gov":                {authtypes.Burner},
		types.ModuleName:     {authtypes.Burner},
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

	k := allocationkeeper.NewKeeper(encCfg.Codec, runtime.NewKVStoreService(keys[types.StoreKey]), logger,
		ak, bk, authority)

	return &AllocationFixture{
		T:             t,
		Ctx:           ctx,
		Codec:         encCfg.Codec,
		AddressCodec:  addrCodec,
		Authority:     authority,
		AccountKeeper: ak,
		BankKeeper:    bk,
		Keeper:        k,
		MsgServer:     allocationkeeper.NewMsgServerImpl(k),
		QueryServer:   allocationkeeper.NewQueryServerImpl(k),
		storeKey:      keys[types.StoreKey],
	}
}

// NewMsgServer returns a fresh Msg service over the fixture's keeper.
func (f *AllocationFixture) NewMsgServer() types.MsgServer {
	return allocationkeeper.NewMsgServerImpl(f.Keeper)
}

// Params returns the current x/allocation params.
func (f *AllocationFixture) Params() types.Params {
	f.T.Helper()
	p, err := f.Keeper.Params.Get(f.Ctx)
	require.NoError(f.T, err)
	return p
}

// SetParams replaces the x/allocation params directly in state.
func (f *AllocationFixture) SetParams(p types.Params) {
	f.T.Helper()
	require.NoError(f.T, p.Validate())
	require.NoError(f.T, f.Keeper.Params.Set(f.Ctx, p))
}

// Denom is the stake and price denom of the current params.
func (f *AllocationFixture) Denom() string { return f.Params().Denom() }

// Coin is amount of the stake denom.
func (f *AllocationFixture) Coin(amount int64) sdk.Coin {
	return sdk.NewCoin(f.Denom(), math.NewInt(amount))
}

// Addr returns a deterministic account address for name and its bech32 form.
func (f *AllocationFixture) Addr(name string) (sdk.AccAddress, string) {
	f.T.Helper()
	sum := sha256.Sum256([]byte("nro-test-account/" + name))
	addr := sdk.AccAddress(sum[:20])
	s, err := f.AddressCodec.BytesToString(addr)
	require.NoError(f.T, err)
	return addr, s
}

// MustAccAddress decodes a bech32 account address with the fixture's codec.
func (f *AllocationFixture) MustAccAddress(bech32 string) sdk.AccAddress {
	f.T.Helper()
	bz, err := f.AddressCodec.StringToBytes(bech32)
	require.NoError(f.T, err)
	return bz
}

// Fund mints coins to the mint module account and sends them to addr, as a genesis allocation would.
// It leaves the context's events untouched.
func (f *AllocationFixture) Fund(addr sdk.AccAddress, coins ...sdk.Coin) {
	f.T.Helper()
	amt := mergeCoins(coins)
	ctx := f.Ctx.WithEventManager(sdk.NewEventManager())
	require.NoError(f.T, f.BankKeeper.MintCoins(ctx, minttypes.ModuleName, amt))
	require.NoError(f.T, f.BankKeeper.SendCoinsFromModuleToAccount(ctx, minttypes.ModuleName, addr, amt))
}

// FundModule mints coins straight into the x/allocation module account, behind the keeper's back (genesis
// import tests, invariant tests).
func (f *AllocationFixture) FundModule(coins ...sdk.Coin) {
	f.T.Helper()
	amt := mergeCoins(coins)
	ctx := f.Ctx.WithEventManager(sdk.NewEventManager())
	require.NoError(f.T, f.BankKeeper.MintCoins(ctx, minttypes.ModuleName, amt))
	require.NoError(f.T, f.BankKeeper.SendCoinsFromModuleToModule(ctx, minttypes.ModuleName, types.ModuleName, amt))
}

// Balance is addr's balance in the stake denom.
func (f *AllocationFixture) Balance(addr sdk.AccAddress) sdk.Coin {
	return f.BankKeeper.GetBalance(f.Ctx, addr, f.Denom())
}

// ModuleAddress is the x/allocation module account.
func (f *AllocationFixture) ModuleAddress() sdk.AccAddress {
	return f.AccountKeeper.GetModuleAddress(types.ModuleName)
}

// ModuleBalance is the x/allocation module account's balance in the stake denom.
func (f *AllocationFixture) ModuleBalance() sdk.Coin { return f.Balance(f.ModuleAddress()) }

// Height is the current block height.
func (f *AllocationFixture) Height() int64 { return f.Ctx.BlockHeight() }

// SetHeight moves the context to block height h with fresh events.
func (f *AllocationFixture) SetHeight(h int64) {
	f.Ctx = f.Ctx.WithBlockHeight(h).WithEventManager(sdk.NewEventManager())
}

// NextBlock advances the context by n blocks (6 s each) with fresh events.
func (f *AllocationFixture) NextBlock(n int64) {
	f.Ctx = f.Ctx.WithBlockHeight(f.Ctx.BlockHeight() + n).
		WithBlockTime(f.Ctx.BlockTime().Add(time.Duration(n) * 6 * time.Second)).
		WithEventManager(sdk.NewEventManager())
}

// EndBlock runs the module's EndBlock logic at the current height.
func (f *AllocationFixture) EndBlock() error { return f.Keeper.ReleaseMatured(f.Ctx) }

// ResetEvents gives the context a fresh event manager.
func (f *AllocationFixture) ResetEvents() { f.Ctx = f.Ctx.WithEventManager(sdk.NewEventManager()) }

// Events are the events emitted on the context since the last reset.
func (f *AllocationFixture) Events() sdk.Events { return f.Ctx.EventManager().Events() }

// TypedEvents decodes every event of the context whose type starts with the x/allocation proto package.
func (f *AllocationFixture) TypedEvents() []proto.Message {
	f.T.Helper()
	var out []proto.Message
	for _, ev := range f.Events() {
		if !strings.HasPrefix(ev.Type, "nro.allocation.") {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abci.Event(ev))
		require.NoError(f.T, err, "decode event %s", ev.Type)
		out = append(out, msg)
	}
	return out
}

// RequireInvariant fails the test unless Keeper.CheckStakeInvariant holds.
func (f *AllocationFixture) RequireInvariant() {
	f.T.Helper()
	require.NoError(f.T, f.Keeper.CheckStakeInvariant(f.Ctx))
}

// Node returns the stored node, failing the test when it is absent.
func (f *AllocationFixture) Node(id string) types.Node {
	f.T.Helper()
	n, err := f.Keeper.GetNode(f.Ctx, id)
	require.NoError(f.T, err)
	return n
}

// SetNode stores a node directly, bypassing the messages (to model state other modules will create, such
// as GPUs reserved by leases).
func (f *AllocationFixture) SetNode(n types.Node) {
	f.T.Helper()
	require.NoError(f.T, f.Keeper.Nodes.Set(f.Ctx, n.Id, n))
}

// ValidRegisterMsg returns a registration that passes every check under the default params: 8 H100 GPUs
// in aws:us-east-1 staking exactly the minimum (8 × 100 NRO). The operator is its own agent.
func (f *AllocationFixture) ValidRegisterMsg(operator, nodeID string) *types.MsgRegisterNode {
	p := f.Params()
	return &types.MsgRegisterNode{
		Operator:        operator,
		NodeId:          nodeID,
		Agent:           operator,
		Region:          "aws:us-east-1",
		Gpus:            []types.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920}},
		BandwidthMbps:   25_000,
		PricePerGpuHour: sdk.NewCoin(p.Denom(), math.NewInt(2_500_000)),
		Stake:           p.MinStake(8),
	}
}

// RegisterNode funds the operator with exactly the stake and registers msg, failing the test on error.
func (f *AllocationFixture) RegisterNode(msg *types.MsgRegisterNode) types.Node {
	f.T.Helper()
	f.Fund(f.MustAccAddress(msg.Operator), msg.Stake)
	_, err := f.MsgServer.RegisterNode(f.Ctx, msg)
	require.NoError(f.T, err)
	return f.Node(msg.NodeId)
}

// mergeCoins is sdk.NewCoins that also accepts a denom more than once (amounts add up).
func mergeCoins(coins []sdk.Coin) sdk.Coins {
	out := sdk.NewCoins()
	for _, c := range coins {
		out = out.Add(c)
	}
	return out
}

// LoadRegionLinks stores the measured region link table (types.MeasuredRegionLinks), as the default genesis
// does, so that the allocation engine can check and score rings.
func (f *AllocationFixture) LoadRegionLinks() {
	f.T.Helper()
	for _, l := range types.MeasuredRegionLinks {
		f.SetRegionLink(l)
	}
}

// LoadRegionLinksAmong stores the measured links between the given regions only: the same table as far as
// nodes in those regions are concerned, much faster to set up than the full table (fuzz tests).
func (f *AllocationFixture) LoadRegionLinksAmong(regions ...string) {
	f.T.Helper()
	in := make(map[string]bool, len(regions))
	for _, r := range regions {
		in[r] = true
	}
	for _, l := range types.MeasuredRegionLinks {
		if in[l.RegionA] && in[l.RegionB] {
			f.SetRegionLink(l)
		}
	}
}

// SetRegionLink stores (or replaces) one region link; the pair is ordered as the link table stores it.
func (f *AllocationFixture) SetRegionLink(l types.RegionLink) {
	f.T.Helper()
	l.RegionA, l.RegionB = types.LinkKey(l.RegionA, l.RegionB)
	require.NoError(f.T, f.Keeper.RegionLinks.Set(f.Ctx, collections.Join(l.RegionA, l.RegionB), l))
}

// NodeSpec describes a node for AddNode. Zero fields take the defaults of ValidRegisterMsg: 8 H100 GPUs of
// 81920 MiB in aws:us-east-1, 25 Gbit/s, 2.5 NRO per GPU-hour, neutral reputation, ACTIVE, with operator
// and agent derived from the id.
type NodeSpec struct {
	ID              string
	Region          string
	Gpus            []types.GpuGroup
	PricePerGpuHour int64
	BandwidthMbps   uint64
	ReputationBps   uint32
	Status          types.NodeStatus
	// Operator and Agent are bech32 addresses; empty means Addr("operator/"+ID) and Addr("agent/"+ID).
	Operator, Agent string
	EthAddress      string
}

// AddNode stores a node straight into the registry, as if it had registered with the minimum stake (which
// is minted into the module account, so the stake invariant holds). Unlike RegisterNode it accepts GPU
// groups with reserved GPUs and any status, to model leases and other modules' actions.
func (f *AllocationFixture) AddNode(s NodeSpec) types.Node {
	f.T.Helper()
	if s.Region == "" {
		s.Region = "aws:us-east-1"
	}
	if s.Gpus == nil {
		s.Gpus = []types.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920}}
	}
	if s.PricePerGpuHour == 0 {
		s.PricePerGpuHour = 2_500_000
	}
	if s.BandwidthMbps == 0 {
		s.BandwidthMbps = 25_000
	}
	if s.ReputationBps == 0 {
		s.ReputationBps = types.NeutralReputationBps
	}
	if s.Status == types.NODE_STATUS_UNSPECIFIED {
		s.Status = types.NODE_STATUS_ACTIVE
	}
	if s.Operator == "" {
		_, s.Operator = f.Addr("operator/" + s.ID)
	}
	if s.Agent == "" {
		_, s.Agent = f.Addr("agent/" + s.ID)
	}
	p := f.Params()
	n := types.Node{
		Id:               s.ID,
		Operator:         s.Operator,
		Agent:            s.Agent,
		EthAddress:       s.EthAddress,
		Region:           s.Region,
		Gpus:             append([]types.GpuGroup(nil), s.Gpus...),
		BandwidthMbps:    s.BandwidthMbps,
		PricePerGpuHour:  sdk.NewCoin(p.Denom(), math.NewInt(s.PricePerGpuHour)),
		Status:           s.Status,
		ReputationBps:    s.ReputationBps,
		RegisteredHeight: f.Height(),
	}
	for _, g := range n.Gpus {
		n.ReservedGpus += g.Reserved
	}
	n.Stake = p.MinStake(n.TotalGPUs())
	if n.Status == types.NODE_STATUS_UNBONDING {
		n.ReleaseHeight = f.Height() + int64(p.UnbondingBlocks)
	}
	require.NoError(f.T, n.Validate(p, f.AddressCodec), "AddNode %s", s.ID)
	f.FundModule(n.Stake)
	f.SetNode(n)
	return n
}

// CapacityIndexEntry is one entry of the capacity index: its key (scope, price, free GPUs, "node/group") and
// its value.
type CapacityIndexEntry struct {
	Key   allocationkeeper.CapacityKey
	Value types.CapacityEntry
}

// CapacityIndexEntries returns every entry of the capacity index with its value, in store order, read from
// the raw store rather than through the keeper.
func (f *AllocationFixture) CapacityIndexEntries() []CapacityIndexEntry {
	f.T.Helper()
	sb := collections.NewSchemaBuilder(runtime.NewKVStoreService(f.storeKey))
	entries := collections.NewMap(sb, types.CapacityIndexKey, "capacity_index",
		collections.QuadKeyCodec(collections.StringKey, collections.Uint64Key, collections.Uint32Key, collections.StringKey),
		codec.CollValue[types.CapacityEntry](f.Codec))
	_, err := sb.Build()
	require.NoError(f.T, err)
	var out []CapacityIndexEntry
	require.NoError(f.T, entries.Walk(f.Ctx, nil, func(k allocationkeeper.CapacityKey, v types.CapacityEntry) (bool, error) {
		out = append(out, CapacityIndexEntry{k, v})
		return false, nil
	}))
	return out
}

// CapacityIndex returns the key of every entry of the capacity index, in store order.
func (f *AllocationFixture) CapacityIndex() []allocationkeeper.CapacityKey {
	f.T.Helper()
	var out []allocationkeeper.CapacityKey
	for _, e := range f.CapacityIndexEntries() {
		out = append(out, e.Key)
	}
	return out
}

// SetCapacityIndexV1 turns the capacity index into its consensus version 1 form, for migration tests: every
// entry keeps its key and loses its value, and the extra keys are added as they are (entries a broken v1
// index might hold).
func (f *AllocationFixture) SetCapacityIndexV1(extra ...allocationkeeper.CapacityKey) {
	f.T.Helper()
	sb := collections.NewSchemaBuilder(runtime.NewKVStoreService(f.storeKey))
	refs := collections.NewKeySet(sb, types.CapacityIndexKey, "capacity_index",
		collections.QuadKeyCodec(collections.StringKey, collections.Uint64Key, collections.Uint32Key, collections.StringKey))
	_, err := sb.Build()
	require.NoError(f.T, err)
	for _, k := range append(f.CapacityIndex(), extra...) {
		require.NoError(f.T, refs.Set(f.Ctx, k))
	}
}

// AllocateEndBlock runs the allocation engine's EndBlock work (AllocatePending) at the current height.
func (f *AllocationFixture) AllocateEndBlock() error { return f.Keeper.AllocatePending(f.Ctx) }
