// Package testutil holds x/audit test helpers: a keeper fixture over an in-memory store, wired to real
// x/allocation and x/lease keepers (nodes, agents, reputation, active leases), and a realistic sample
// decision whose scores come from the real scorer.
package testutil

import (
	"bytes"
	"context"
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

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/log/v2"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/crypto/keys/ed25519"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
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
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/consensus-nro/nro/x/allocation"
	allocationkeeper "github.com/consensus-nro/nro/x/allocation/keeper"
	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit"
	"github.com/consensus-nro/nro/x/audit/keeper"
	"github.com/consensus-nro/nro/x/audit/types"
	"github.com/consensus-nro/nro/x/lease"
	leasekeeper "github.com/consensus-nro/nro/x/lease/keeper"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

const (
	// Bech32Prefix is the chain's account prefix.
	Bech32Prefix = "nro"
	// StartHeight is the block height of a fresh fixture; epoch 1 starts there.
	StartHeight int64 = 10
	// Denom is the stake and price denom.
	Denom = "unro"
)

var configOnce sync.Once

// setBech32Prefixes sets the global SDK account prefixes to nro, as app.SetConfig does, so that
// sdk.AccAddressFromBech32 (ValidateBasic) accepts the fixture's addresses.
func setBech32Prefixes() {
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

// Fixture is an x/audit keeper over an in-memory multistore, wired as in the app to real x/allocation and
// x/lease keepers (over real x/auth and x/bank), with the default genesis loaded. Ctx is the current block
// context; the helpers advance it. Nodes and leases are written straight into x/allocation's and x/lease's
// state (AddNode, AddLease), as their own messages and EndBlock would leave them.
type Fixture struct {
	T testing.TB

	Ctx          sdk.Context
	Codec        codec.Codec
	AddressCodec address.Codec
	// Authority is the gov module account.
	Authority string
	// StoreKey is the x/audit store, for tests that write behind the keeper's back.
	StoreKey *storetypes.KVStoreKey

	Keeper           keeper.Keeper
	MsgServer        types.MsgServer
	QueryServer      types.QueryServer
	AllocationKeeper allocationkeeper.Keeper
	LeaseKeeper      leasekeeper.Keeper
	Bank             bankkeeper.BaseKeeper
	Distr            *FakeDistribution
	Staking          *FakeStaking
}

// NewFixture builds a fresh state at StartHeight with the default x/audit, x/allocation and x/lease genesis.
func NewFixture(t testing.TB) *Fixture {
	t.Helper()
	f := NewFixtureWithoutGenesis(t)
	require.NoError(t, f.Keeper.InitGenesis(f.Ctx, *types.DefaultGenesis()))
	return f
}

// NewFixtureWithoutGenesis is NewFixture without x/audit's InitGenesis, for genesis tests (x/allocation and
// x/lease have their default params).
func NewFixtureWithoutGenesis(t testing.TB) *Fixture {
	t.Helper()
	setBech32Prefixes()
	encCfg := moduletestutil.MakeTestEncodingConfig(auth.AppModuleBasic{}, bank.AppModuleBasic{},
		allocation.AppModule{}, lease.AppModule{}, audit.AppModule{})
	keys := storetypes.NewKVStoreKeys(authtypes.StoreKey, banktypes.StoreKey,
		allocationtypes.StoreKey, leasetypes.StoreKey, types.StoreKey)
	logger := log.NewNopLogger()
	cms := integration.CreateMultiStore(keys, logger)
	ctx := sdk.NewContext(cms, cmtproto.Header{
		ChainID: "nro-test-1",
		Height:  StartHeight,
		Time:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}, false, logger)

	addrCodec := addresscodec.NewBech32Codec(Bech32Prefix)
	authority, err := addrCodec.BytesToString(authtypes.NewModuleAddress("gov"))
	require.NoError(t, err)
	maccPerms := map[string][]string{
		minttypes.ModuleName:        {authtypes.Minter},
		"gov":                       {authtypes.Burner},
		allocationtypes.ModuleName:  {authtypes.Burner},
		leasetypes.ModuleName:       nil,
		leasetypes.BridgeEscrowName: nil,
		types.ModuleName:            {authtypes.Burner},
		authtypes.FeeCollectorName:  nil,
		CommunityPoolModule:         nil,
	}
	ak := authkeeper.NewAccountKeeper(encCfg.Codec, runtime.NewKVStoreService(keys[authtypes.StoreKey]),
		authtypes.ProtoBaseAccount, maccPerms, addrCodec, Bech32Prefix, authority)
	bk := bankkeeper.NewBaseKeeper(encCfg.Codec, runtime.NewKVStoreService(keys[banktypes.StoreKey]), ak,
		map[string]bool{}, authority, logger)
	require.NoError(t, bk.SetParams(ctx, banktypes.DefaultParams()))

	alloc := allocationkeeper.NewKeeper(encCfg.Codec, runtime.NewKVStoreService(keys[allocationtypes.StoreKey]), logger,
		ak, bk, authority)
	require.NoError(t, alloc.Params.Set(ctx, allocationtypes.DefaultParams()))
	leases := leasekeeper.NewKeeper(encCfg.Codec, runtime.NewKVStoreService(keys[leasetypes.StoreKey]), logger,
		ak, bk, authority)
	require.NoError(t, leases.Params.Set(ctx, leasetypes.DefaultParams()))
	distr := &FakeDistribution{Bank: bk}
	staking := NewFakeStaking()
	k := keeper.NewKeeper(encCfg.Codec, runtime.NewKVStoreService(keys[types.StoreKey]), logger, authority, alloc, leases, bk, distr, staking, staking)
	leases.SetAllocationKeeper(alloc)
	alloc.SetLeaseKeeper(leases)
	alloc.SetAuditKeeper(k)

	return &Fixture{
		T:                t,
		Ctx:              ctx,
		Codec:            encCfg.Codec,
		AddressCodec:     addrCodec,
		Authority:        authority,
		StoreKey:         keys[types.StoreKey],
		Keeper:           k,
		MsgServer:        keeper.NewMsgServerImpl(k),
		QueryServer:      keeper.NewQueryServerImpl(k),
		AllocationKeeper: alloc,
		LeaseKeeper:      leases,
		Bank:             bk,
		Distr:            distr,
		Staking:          staking,
	}
}

// CommunityPoolModule is the module account FakeDistribution keeps the community pool in.
const CommunityPoolModule = "distribution"

// FakeStaking stands in for x/staking's validator set: validators by operator address with their
// consensus power, iterated in address order as x/staking's last-power store is. Each validator has a
// consensus key derived from its address; Slash and Jail record what x/audit asked for (Slashes, Jailed)
// without changing the powers.
type FakeStaking struct {
	Powers map[string]int64 // nrovaloper → power; 0 means a validator that is not bonded
	// Unbonding marks validators that are unbonding (power kept, status UNBONDING).
	Unbonding map[string]bool
	// Jailed marks jailed validators; Jail sets it.
	Jailed map[string]bool
	// Slashes is every Slash call, in order.
	Slashes []FakeSlash
	// JailedUntil is what JailUntil set (x/slashing's signing info), by validator; JailDuration is the
	// downtime_jail_duration DowntimeJailDuration returns.
	JailedUntil  map[string]time.Time
	JailDuration time.Duration
	valCodec     address.Codec
}

// FakeSlash is one call of FakeStaking.Slash.
type FakeSlash struct {
	Validator        string
	InfractionHeight int64
	Power            int64
	Fraction         math.LegacyDec
	Amount           math.Int
}

// NewFakeStaking returns an empty validator set.
func NewFakeStaking() *FakeStaking {
	return &FakeStaking{Powers: map[string]int64{}, Unbonding: map[string]bool{}, Jailed: map[string]bool{},
		JailedUntil: map[string]time.Time{}, JailDuration: 10 * time.Minute, valCodec: addresscodec.NewBech32Codec(Bech32Prefix + "valoper")}
}

// SetPower makes the account operator a validator with power (0: unbonded) and returns its nrovaloper.
func (s *FakeStaking) SetPower(operator sdk.AccAddress, power int64) string {
	val, err := s.valCodec.BytesToString(operator)
	if err != nil {
		panic(err)
	}
	s.Powers[val] = power
	return val
}

func consKey(val string) cryptotypes.PubKey {
	return ed25519.GenPrivKeyFromSecret([]byte("nro-test-consensus/" + val)).PubKey()
}

// GetValidator implements types.StakingKeeper: status BONDED with power, UNBONDING when marked, else
// UNBONDED; tokens are the power at the default power reduction.
func (s *FakeStaking) GetValidator(_ context.Context, addr sdk.ValAddress) (stakingtypes.Validator, error) {
	val, err := s.valCodec.BytesToString(addr)
	if err != nil {
		return stakingtypes.Validator{}, err
	}
	power, ok := s.Powers[val]
	if !ok {
		return stakingtypes.Validator{}, stakingtypes.ErrNoValidatorFound
	}
	v, err := stakingtypes.NewValidator(val, consKey(val), stakingtypes.Description{})
	if err != nil {
		return stakingtypes.Validator{}, err
	}
	v.Tokens = sdk.TokensFromConsensusPower(power, sdk.DefaultPowerReduction)
	switch {
	case s.Unbonding[val]:
		v.Status = stakingtypes.Unbonding
	case power > 0:
		v.Status = stakingtypes.Bonded
	default:
		v.Status = stakingtypes.Unbonded
	}
	v.Jailed = s.Jailed[val]
	return v, nil
}

// byConsAddr finds the validator of a consensus address.
func (s *FakeStaking) byConsAddr(cons sdk.ConsAddress) (string, error) {
	vals := make([]string, 0, len(s.Powers))
	for val := range s.Powers {
		vals = append(vals, val)
	}
	slices.Sort(vals)
	for _, val := range vals {
		if bytes.Equal(consKey(val).Address(), cons) {
			return val, nil
		}
	}
	return "", stakingtypes.ErrNoValidatorFound
}

// Slash implements keeper.StakingKeeper: it records the call and returns fraction × the power's tokens.
func (s *FakeStaking) Slash(ctx context.Context, cons sdk.ConsAddress, infractionHeight, power int64, fraction math.LegacyDec) (math.Int, error) {
	val, err := s.byConsAddr(cons)
	if err != nil {
		return math.ZeroInt(), err
	}
	if infractionHeight > sdk.UnwrapSDKContext(ctx).BlockHeight() {
		return math.ZeroInt(), stakingtypes.ErrNoValidatorFound.Wrap("future infraction")
	}
	amount := math.LegacyNewDecFromInt(sdk.TokensFromConsensusPower(power, sdk.DefaultPowerReduction)).Mul(fraction).TruncateInt()
	s.Slashes = append(s.Slashes, FakeSlash{Validator: val, InfractionHeight: infractionHeight, Power: power, Fraction: fraction, Amount: amount})
	return amount, nil
}

// Jail implements keeper.StakingKeeper; jailing a jailed validator fails, as in x/staking.
func (s *FakeStaking) Jail(_ context.Context, cons sdk.ConsAddress) error {
	val, err := s.byConsAddr(cons)
	if err != nil {
		return err
	}
	if s.Jailed[val] {
		return stakingtypes.ErrValidatorJailed
	}
	s.Jailed[val] = true
	return nil
}

// JailUntil implements keeper.SlashingKeeper (FakeStaking stands in for x/slashing too).
func (s *FakeStaking) JailUntil(_ context.Context, cons sdk.ConsAddress, until time.Time) error {
	val, err := s.byConsAddr(cons)
	if err != nil {
		return err
	}
	s.JailedUntil[val] = until
	return nil
}

// DowntimeJailDuration implements keeper.SlashingKeeper.
func (s *FakeStaking) DowntimeJailDuration(context.Context) (time.Duration, error) {
	return s.JailDuration, nil
}

// PowerReduction implements keeper.StakingKeeper.
func (s *FakeStaking) PowerReduction(context.Context) math.Int { return sdk.DefaultPowerReduction }

// GetLastTotalPower implements types.StakingKeeper.
func (s *FakeStaking) GetLastTotalPower(context.Context) (math.Int, error) {
	var t int64
	for _, p := range s.Powers {
		t += p
	}
	return math.NewInt(t), nil
}

// GetLastValidatorPower implements types.StakingKeeper.
func (s *FakeStaking) GetLastValidatorPower(_ context.Context, op sdk.ValAddress) (int64, error) {
	val, err := s.valCodec.BytesToString(op)
	if err != nil {
		return 0, err
	}
	return s.Powers[val], nil
}

// IterateLastValidatorPowers implements types.StakingKeeper, in operator address byte order.
func (s *FakeStaking) IterateLastValidatorPowers(_ context.Context, fn func(sdk.ValAddress, int64) bool) error {
	var ops []sdk.ValAddress
	for val, p := range s.Powers {
		if p == 0 {
			continue
		}
		bz, err := s.valCodec.StringToBytes(val)
		if err != nil {
			return err
		}
		ops = append(ops, bz)
	}
	slices.SortFunc(ops, func(a, b sdk.ValAddress) int { return bytes.Compare(a, b) })
	for _, op := range ops {
		val, _ := s.valCodec.BytesToString(op)
		if fn(op, s.Powers[val]) {
			return nil
		}
	}
	return nil
}

// ValidatorAddressCodec implements types.StakingKeeper.
func (s *FakeStaking) ValidatorAddressCodec() address.Codec { return s.valCodec }

// FakeDistribution stands in for x/distribution's FundCommunityPool: it moves the coins into the
// "distribution" module account, as the real keeper does, and counts what arrived.
type FakeDistribution struct {
	Bank bankkeeper.BaseKeeper
	// Funded is every amount sent to the community pool, in order.
	Funded []sdk.Coins
}

// FundCommunityPool implements types.DistributionKeeper.
func (d *FakeDistribution) FundCommunityPool(ctx context.Context, amount sdk.Coins, sender sdk.AccAddress) error {
	if err := d.Bank.SendCoinsFromAccountToModule(ctx, sender, CommunityPoolModule, amount); err != nil {
		return err
	}
	d.Funded = append(d.Funded, amount)
	return nil
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

// RequireInvariant fails the test unless the keeper's invariants (decision indexes, telemetry state and
// slashes) and x/allocation's stake and x/lease's escrow invariants hold.
func (f *Fixture) RequireInvariant() {
	f.T.Helper()
	require.NoError(f.T, f.Keeper.CheckDecisionIndexes(f.Ctx))
	require.NoError(f.T, f.Keeper.CheckTelemetryState(f.Ctx))
	require.NoError(f.T, f.AllocationKeeper.CheckStakeInvariant(f.Ctx))
	require.NoError(f.T, f.LeaseKeeper.CheckEscrowInvariant(f.Ctx))
}

// Record stores d's inputs through RecordDecision at the current height, failing the test on error, and
// returns the stored record.
func (f *Fixture) Record(d types.Decision) types.Decision {
	f.T.Helper()
	id, err := f.Keeper.RecordDecision(f.Ctx, d.LeaseId, d.Spec, d.BlocksPerHour, d.Weights, d.Candidates, d.Winner, nil)
	require.NoError(f.T, err)
	got, err := f.Keeper.GetDecision(f.Ctx, id)
	require.NoError(f.T, err)
	return got
}

// Addr returns a deterministic account address for name, in bech32.
func (f *Fixture) Addr(name string) string {
	f.T.Helper()
	sum := sha256.Sum256([]byte("nro-test-account/" + name))
	s, err := f.AddressCodec.BytesToString(sdk.AccAddress(sum[:20]))
	require.NoError(f.T, err)
	return s
}

// Agent is the agent account of a node added with AddNode.
func (f *Fixture) Agent(nodeID string) string { return f.Addr("agent/" + nodeID) }

// Params returns the current x/audit params.
func (f *Fixture) Params() types.Params {
	f.T.Helper()
	p, err := f.Keeper.Params.Get(f.Ctx)
	require.NoError(f.T, err)
	return p
}

// SetParams replaces the x/audit params directly in state.
func (f *Fixture) SetParams(p types.Params) {
	f.T.Helper()
	require.NoError(f.T, p.Validate())
	require.NoError(f.T, f.Keeper.Params.Set(f.Ctx, p))
}

// Epoch returns the current epoch.
func (f *Fixture) Epoch() types.EpochInfo {
	f.T.Helper()
	e, err := f.Keeper.Epoch.Get(f.Ctx)
	require.NoError(f.T, err)
	return e
}

// AddNode registers an ACTIVE node straight into x/allocation with neutral reputation, agent Agent(id),
// operator Addr("operator/"+id), in aws:us-east-1, with the given GPU groups (default: 8 H100 of 80 GiB).
func (f *Fixture) AddNode(id string, gpus ...allocationtypes.GpuGroup) allocationtypes.Node {
	f.T.Helper()
	if len(gpus) == 0 {
		gpus = []allocationtypes.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920}}
	}
	n := allocationtypes.Node{
		Id:               id,
		Operator:         f.Addr("operator/" + id),
		Agent:            f.Agent(id),
		Region:           "aws:us-east-1",
		Gpus:             gpus,
		BandwidthMbps:    25_000,
		PricePerGpuHour:  sdk.NewCoin(Denom, math.NewInt(2_500_000)),
		Stake:            sdk.NewCoin(Denom, math.NewInt(800_000_000)),
		Status:           allocationtypes.NODE_STATUS_ACTIVE,
		ReputationBps:    allocationtypes.NeutralReputationBps,
		RegisteredHeight: f.Height(),
	}
	f.SetNode(n)
	// The stake sits in x/allocation's module account, as a registration leaves it.
	stake := sdk.NewCoins(n.Stake)
	require.NoError(f.T, f.Bank.MintCoins(f.Ctx, minttypes.ModuleName, stake))
	require.NoError(f.T, f.Bank.SendCoinsFromModuleToModule(f.Ctx, minttypes.ModuleName, allocationtypes.ModuleName, stake))
	return n
}

// SetNode stores a node in x/allocation as is.
func (f *Fixture) SetNode(n allocationtypes.Node) {
	f.T.Helper()
	require.NoError(f.T, f.AllocationKeeper.Nodes.Set(f.Ctx, n.Id, n))
}

// Node returns x/allocation's node.
func (f *Fixture) Node(id string) allocationtypes.Node {
	f.T.Helper()
	n, err := f.AllocationKeeper.GetNode(f.Ctx, id)
	require.NoError(f.T, err)
	return n
}

// Reputation is x/allocation's reputation of a node.
func (f *Fixture) Reputation(id string) uint32 { return f.Node(id).ReputationBps }

// Place is one node of a lease for AddLease: gpus GPUs of the node's GPU group.
type Place struct {
	Node  string
	Gpus  uint32
	Group uint32
}

// AddLease stores an ACTIVE lease activated at the current height on the given placement, straight into
// x/lease, and reserves its GPUs on the nodes in x/allocation, as the allocation engine would.
func (f *Fixture) AddLease(places ...Place) leasetypes.Lease {
	f.T.Helper()
	id, err := f.LeaseKeeper.LeaseSeq.Next(f.Ctx)
	require.NoError(f.T, err)
	if id == 0 {
		id, err = f.LeaseKeeper.LeaseSeq.Next(f.Ctx)
		require.NoError(f.T, err)
	}
	price := sdk.NewCoin(Denom, math.NewInt(2_500_000))
	l := leasetypes.Lease{
		Id:              id,
		Submitter:       f.Addr("submitter"),
		Spec:            leasetypes.LeaseSpec{DurationBlocks: 100_000, MaxPricePerGpuHour: sdk.NewCoin(Denom, math.NewInt(3_000_000))},
		Deposit:         sdk.NewCoin(Denom, math.NewInt(1_000_000_000_000)),
		State:           leasetypes.LEASE_STATE_ACTIVE,
		TakeBps:         200,
		BlocksPerHour:   600,
		CreatedHeight:   f.Height(),
		ActivatedHeight: f.Height(),
		EndHeight:       f.Height() + 100_000,
		DeadlineHeight:  f.Height() + 100_000,
		SettledHeight:   f.Height(),
		Paid:            sdk.NewCoin(Denom, math.ZeroInt()),
		Fees:            sdk.NewCoin(Denom, math.ZeroInt()),
		Refunded:        sdk.NewCoin(Denom, math.ZeroInt()),
	}
	for _, p := range places {
		n := f.Node(p.Node)
		g := n.Gpus[p.Group]
		l.Spec.TotalGpus += p.Gpus
		l.Nodes = append(l.Nodes, leasetypes.LeaseNode{
			NodeId: p.Node, Operator: n.Operator, Region: n.Region, Gpus: p.Gpus, GpuGroup: p.Group,
			GpuModel: g.Model, GpuMemoryMib: g.MemoryMib, PricePerGpuHour: price, Paid: math.ZeroInt(),
		})
		l.RingOrder = append(l.RingOrder, p.Node)
		n.Gpus[p.Group].Reserved += p.Gpus
		n.ReservedGpus += p.Gpus
		f.SetNode(n)
	}
	require.NoError(f.T, f.LeaseKeeper.Leases.Set(f.Ctx, l.Id, l))
	require.NoError(f.T, f.LeaseKeeper.Deadlines.Set(f.Ctx, collections.Join(l.DeadlineHeight, l.Id)))
	// The deposit sits in x/lease's escrow, as MsgCreateLease leaves it.
	deposit := sdk.NewCoins(l.Deposit)
	require.NoError(f.T, f.Bank.MintCoins(f.Ctx, minttypes.ModuleName, deposit))
	require.NoError(f.T, f.Bank.SendCoinsFromModuleToModule(f.Ctx, minttypes.ModuleName, leasetypes.ModuleName, deposit))
	return l
}

// EndLease closes an ACTIVE lease for its submitter through x/lease (settlement, refund, GPUs released), as
// if it had just ended.
func (f *Fixture) EndLease(id uint64) {
	f.T.Helper()
	l, err := f.LeaseKeeper.GetLease(f.Ctx, id)
	require.NoError(f.T, err)
	_, err = leasekeeper.NewMsgServerImpl(f.LeaseKeeper).CloseLease(f.Ctx, &leasetypes.MsgCloseLease{Submitter: l.Submitter, LeaseId: id})
	require.NoError(f.T, err)
}

// EndBlock runs x/audit's EndBlock at the current height.
func (f *Fixture) EndBlock() error { return f.Keeper.EndBlock(f.Ctx) }

// RunBlocks runs EndBlock at the current height and then at each following height until (and including)
// height to, leaving the context at to with the events of its EndBlock.
func (f *Fixture) RunBlocks(to int64) {
	f.T.Helper()
	for {
		require.NoError(f.T, f.EndBlock())
		if f.Height() >= to {
			return
		}
		f.SetHeight(f.Height() + 1)
	}
}
