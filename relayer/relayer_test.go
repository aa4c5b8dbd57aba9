package relayer_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/contracts"
	"github.com/consensus-nro/nro/contracts/bindings"
	"github.com/consensus-nro/nro/relayer"
	"github.com/consensus-nro/nro/x/audit/testutil"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

const testBridgeID = "0x6e726f2d72656c617965722d7465737400000000000000000000000000000000"

// chain is the relayer's view of an in-process appchain (the x/audit keeper fixture, with the real x/lease
// keeper): queries through the query servers, an orchestrator's messages through the msg server.
type chain struct{ f *testutil.Fixture }

func (c chain) AuditParams(ctx context.Context) (audittypes.Params, error) {
	return c.f.Keeper.Params.Get(c.f.Ctx)
}

func (c chain) LatestValset(context.Context) (audittypes.BridgeValset, bool, error) {
	return c.f.Keeper.LatestValset(c.f.Ctx)
}

func (c chain) Valset(_ context.Context, nonce uint64) (audittypes.BridgeValset, error) {
	return c.f.Keeper.Valsets.Get(c.f.Ctx, nonce)
}

func (c chain) ValsetConfirms(_ context.Context, nonce uint64) ([]audittypes.BridgeConfirm, error) {
	res, err := c.f.QueryServer.ValsetConfirms(c.f.Ctx, &audittypes.QueryValsetConfirmsRequest{Nonce: nonce})
	if err != nil {
		return nil, err
	}
	return res.Confirms, nil
}

func (c chain) PendingBatches(context.Context) ([]leasetypes.SettlementBatch, error) {
	return c.f.LeaseKeeper.PendingBatches(c.f.Ctx)
}

func (c chain) BatchesAbove(_ context.Context, nonce uint64) ([]leasetypes.SettlementBatch, error) {
	var out []leasetypes.SettlementBatch
	err := c.f.LeaseKeeper.Batches.Walk(c.f.Ctx, new(collections.Range[uint64]).StartExclusive(nonce),
		func(_ uint64, b leasetypes.SettlementBatch) (bool, error) {
			if b.State != leasetypes.BATCH_STATE_CANCELLED {
				out = append(out, b)
			}
			return false, nil
		})
	return out, err
}

func (c chain) BatchConfirms(_ context.Context, nonce uint64) ([]audittypes.BridgeConfirm, error) {
	res, err := c.f.QueryServer.BatchConfirms(c.f.Ctx, &audittypes.QueryBatchConfirmsRequest{Nonce: nonce})
	if err != nil {
		return nil, err
	}
	return res.Confirms, nil
}

// orchestrator sends one validator's messages; the chain's "already" errors become relayer.ErrAlreadyDone.
type orchestrator struct {
	f    *testutil.Fixture
	addr string
	sent int
}

func done(err error) error {
	if errors.Is(err, audittypes.ErrAlreadyConfirmed) || errors.Is(err, audittypes.ErrAlreadyAttested) || errors.Is(err, leasetypes.ErrBatchNotPending) {
		return fmt.Errorf("%w: %w", relayer.ErrAlreadyDone, err)
	}
	return err
}

func (o *orchestrator) ConfirmValset(_ context.Context, nonce uint64, sig []byte) error {
	o.sent++
	_, err := o.f.MsgServer.ConfirmValset(o.f.Ctx, &audittypes.MsgConfirmValset{Orchestrator: o.addr, Nonce: nonce, Signature: sig})
	return done(err)
}

func (o *orchestrator) ConfirmBatch(_ context.Context, nonce uint64, sig []byte) error {
	o.sent++
	_, err := o.f.MsgServer.ConfirmBatch(o.f.Ctx, &audittypes.MsgConfirmBatch{Orchestrator: o.addr, Nonce: nonce, Signature: sig})
	return done(err)
}

func (o *orchestrator) AttestBatchExecuted(_ context.Context, claim audittypes.BatchExecutedClaim) error {
	o.sent++
	_, err := o.f.MsgServer.AttestBatchExecuted(o.f.Ctx, &audittypes.MsgAttestBatchExecuted{Orchestrator: o.addr, Claim: claim})
	return done(err)
}

type validator struct {
	operator sdk.AccAddress
	key      *ecdsa.PrivateKey
	orch     *orchestrator
}

type world struct {
	t        *testing.T
	f        *testutil.Fixture
	vals     []validator
	backend  *simulated.Backend
	client   simulated.Client
	contract common.Address
	deployed uint64
	relay    *relayer.Relay
	token    *bind.BoundContract
	tokenABI *bindings.WrappedNRO
	records  uint64
	// mining is held by the block producer for each block; a test holds it to reorganise the chain.
	mining sync.Mutex
}

// newWorld: a chain with four validators of equal power and registered signers, its valset deployed in the
// settlement contract on the simulated backend, which seals a block every 10 ms.
func newWorld(t *testing.T) *world {
	f := testutil.NewFixture(t)
	f.Ctx = f.Ctx.WithBlockTime(time.Now())
	p := f.Params()
	p.BridgeId = testBridgeID
	f.SetParams(p)
	lp, err := f.LeaseKeeper.Params.Get(f.Ctx)
	require.NoError(t, err)
	lp.BatchBlocks = 1
	require.NoError(t, f.LeaseKeeper.Params.Set(f.Ctx, lp))
	w := &world{t: t, f: f}
	for i := range 4 {
		name := fmt.Sprintf("val-%d", i)
		opStr := f.Addr(name)
		op, err := f.AddressCodec.StringToBytes(opStr)
		require.NoError(t, err)
		valoper := f.Staking.SetPower(op, 10)
		key, err := crypto.ToECDSA(crypto.Keccak256([]byte("relayer-test/" + name)))
		require.NoError(t, err)
		orch := f.Addr("orch/" + name)
		d, err := contracts.SignerRegistrationDigest(f.Ctx.ChainID(), valoper, orch)
		require.NoError(t, err)
		v, r, s, err := contracts.Sign(key, d)
		require.NoError(t, err)
		_, err = f.MsgServer.RegisterEthSigner(f.Ctx, &audittypes.MsgRegisterEthSigner{
			Operator: opStr, EthAddress: crypto.PubkeyToAddress(key.PublicKey).Hex(), Orchestrator: orch, EthSignature: contracts.SignatureBytes(v, r, s),
		})
		require.NoError(t, err)
		w.vals = append(w.vals, validator{operator: op, key: key, orch: &orchestrator{f: f, addr: orch}})
	}
	require.NoError(t, f.EndBlock())
	vs, ok, err := f.Keeper.LatestValset(f.Ctx)
	require.NoError(t, err)
	require.True(t, ok)

	deployer, err := crypto.ToECDSA(crypto.Keccak256([]byte("relayer-test/deployer")))
	require.NoError(t, err)
	from := crypto.PubkeyToAddress(deployer.PublicKey)
	w.backend = simulated.NewBackend(ethtypes.GenesisAlloc{from: {Balance: new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether))}})
	w.client = w.backend.Client()
	chainID, err := w.client.ChainID(context.Background())
	require.NoError(t, err)
	opts := bind.NewKeyedTransactor(deployer, chainID)
	settle := bindings.NewNROSettlement()
	bridgeID, err := audittypes.ParseBridgeID(testBridgeID)
	require.NoError(t, err)
	addr, _, err := bind.DeployContract(opts, common.FromHex(bindings.NROSettlementMetaData.Bin), w.client,
		settle.PackConstructor(bridgeID, relayer.ContractValset(vs)))
	require.NoError(t, err)
	w.backend.Commit()
	w.contract = addr
	w.deployed, err = w.client.BlockNumber(context.Background())
	require.NoError(t, err)
	inst := settle.Instance(w.client, addr)
	tok, err := bind.Call(inst, nil, settle.PackToken(), settle.UnpackToken)
	require.NoError(t, err)
	w.tokenABI = bindings.NewWrappedNRO()
	w.token = w.tokenABI.Instance(w.client, tok)

	p = f.Params()
	p.EthChainId, p.SettlementContract = chainID.Uint64(), addr.Hex()
	f.SetParams(p)
	w.relay = &relayer.Relay{Chain: chain{f}, Ethereum: w.client, Contract: addr, Opts: opts, TimeoutMargin: 60,
		PollInterval: 10 * time.Millisecond, TxTimeout: 30 * time.Second}

	// Ethereum keeps producing blocks while the test runs, as a real chain does.
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				w.mining.Lock()
				w.backend.Commit()
				w.mining.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-stopped; _ = w.backend.Close() })
	return w
}

func (w *world) signer(i int, cursorFile string) *relayer.Signer {
	return &relayer.Signer{
		Chain: chain{w.f}, Orchestrator: w.vals[i].orch, Key: w.vals[i].key, Ethereum: w.client, Contract: w.contract,
		StartBlock: w.deployed, Confirmations: 3, MaxRange: 5, CursorFile: cursorFile,
	}
}

// settle writes n bridged settlement records paying recipients round-robin and lets x/lease batch them.
func (w *world) settle(n int, recipients []common.Address) leasetypes.SettlementBatch {
	f := w.f
	for i := range n {
		w.records++
		rec := leasetypes.SettlementRecord{
			Id: w.records, LeaseId: w.records, NodeId: "node", Operator: f.Addr("operator"),
			EthAddress: recipients[i%len(recipients)].Hex(), Amount: sdk.NewCoin("unro", math.NewInt(int64(1_000_000+w.records))),
			Fee: sdk.NewCoin("unro", math.ZeroInt()), Height: f.Height(), Bridged: true,
		}
		require.NoError(w.t, f.LeaseKeeper.SettlementRecords.Set(f.Ctx, rec.Id, rec))
		require.NoError(w.t, f.LeaseKeeper.Unbatched.Set(f.Ctx, rec.Id))
	}
	f.SetHeight(f.Height() + 1)
	require.NoError(w.t, f.LeaseKeeper.MakeBatch(f.Ctx))
	pending, err := f.LeaseKeeper.PendingBatches(f.Ctx)
	require.NoError(w.t, err)
	return pending[len(pending)-1]
}

func (w *world) balance(a common.Address) *big.Int {
	b, err := bind.Call(w.token, nil, w.tokenABI.PackBalanceOf(a), w.tokenABI.UnpackBalanceOf)
	require.NoError(w.t, err)
	return b
}

// observeUntil runs the signers' Observe until the batch is BRIDGED on the chain (blocks keep coming).
func (w *world) observeUntil(ctx context.Context, signers []*relayer.Signer, nonce uint64) {
	w.t.Helper()
	require.Eventually(w.t, func() bool {
		for _, s := range signers {
			_, err := s.Observe(ctx)
			require.NoError(w.t, err)
		}
		b, err := w.f.LeaseKeeper.GetBatch(w.f.Ctx, nonce)
		require.NoError(w.t, err)
		return b.State == leasetypes.BATCH_STATE_BRIDGED
	}, 20*time.Second, 20*time.Millisecond)
}

func TestRelayerBridgesBatchesAndValsets(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	dir := t.TempDir()
	var signers []*relayer.Signer
	for i := range w.vals {
		signers = append(signers, w.signer(i, filepath.Join(dir, fmt.Sprintf("cursor-%d.json", i))))
	}
	providers := []common.Address{common.HexToAddress("0x1000000000000000000000000000000000000001"), common.HexToAddress("0x1000000000000000000000000000000000000002")}
	b1 := w.settle(3, providers)
	b2 := w.settle(2, providers)

	// Only two of four sign: the relay has nothing it may send.
	for _, s := range signers[:2] {
		n, err := s.SignPending(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, n, "valset 1 and batches 1 and 2")
	}
	sent, err := w.relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Zero(t, sent, "half the power is not more than 2/3")

	// A third signs: both batches go through, in nonce order.
	_, err = signers[2].SignPending(ctx)
	require.NoError(t, err)
	n, err := signers[0].SignPending(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left for signer 0 to sign")
	sent, err = w.relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, sent)
	sent, err = w.relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Zero(t, sent, "the contract's nonce is the truth: nothing is sent twice")

	want := map[common.Address]*big.Int{}
	for _, b := range []leasetypes.SettlementBatch{b1, b2} {
		for _, p := range b.Payouts {
			a := common.HexToAddress(p.EthAddress)
			if want[a] == nil {
				want[a] = new(big.Int)
			}
			want[a].Add(want[a], p.Amount.BigInt())
		}
	}
	for a, amt := range want {
		require.Equal(t, amt, w.balance(a), "wNRO of %s equals what the chain owes it, to the unit", a)
	}

	// The signers attest the executions once they are 3 blocks deep; the chain marks both BRIDGED.
	w.observeUntil(ctx, signers[:3], b2.Nonce)
	b, err := w.f.LeaseKeeper.GetBatch(w.f.Ctx, b1.Nonce)
	require.NoError(t, err)
	require.Equal(t, leasetypes.BATCH_STATE_BRIDGED, b.State)

	// A restarted signer resumes from its cursor; one that lost its cursor rescans, and the chain refuses
	// what it already has, so nothing changes.
	before := w.vals[0].orch.sent
	restarted := w.signer(0, filepath.Join(dir, "cursor-0.json"))
	_, err = restarted.Observe(ctx)
	require.NoError(t, err)
	require.Equal(t, before, w.vals[0].orch.sent, "nothing attested twice after a restart")
	require.NoError(t, os.Remove(filepath.Join(dir, "cursor-0.json")))
	lost := w.signer(0, filepath.Join(dir, "cursor-0.json"))
	_, err = lost.Observe(ctx)
	require.NoError(t, err)
	for a, amt := range want {
		require.Equal(t, amt, w.balance(a))
	}

	// The power moves: valset 2, signed by the contract's valset (1) and relayed; then a batch under it.
	w.f.Staking.SetPower(w.vals[3].operator, 40)
	w.f.SetHeight(w.f.Height() + 1)
	require.NoError(t, w.f.EndBlock())
	vs2, _, err := w.f.Keeper.LatestValset(w.f.Ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), vs2.Nonce)
	for _, s := range signers[:3] {
		_, err := s.SignPending(ctx)
		require.NoError(t, err)
	}
	moved, err := w.relay.RelayValset(ctx)
	require.NoError(t, err)
	require.True(t, moved)
	moved, err = w.relay.RelayValset(ctx)
	require.NoError(t, err)
	require.False(t, moved)

	b3 := w.settle(1, providers)
	// Under valset 2 validator 3 holds 4/7 of the power: it and one other are enough.
	for _, i := range []int{3, 1} {
		_, err := signers[i].SignPending(ctx)
		require.NoError(t, err)
	}
	sent, err = w.relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	w.observeUntil(ctx, []*relayer.Signer{signers[3], signers[1]}, b3.Nonce)
}

// TestObserveBeforeDeploymentIsConfirmed: right after the deployment the confirmed head is still before the
// contract's block, where it has no code; the signer has nothing to scan and says so without an error.
func TestObserveBeforeDeploymentIsConfirmed(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.mining.Lock()
	defer w.mining.Unlock()
	head, err := w.client.BlockNumber(ctx)
	require.NoError(t, err)
	s := w.signer(0, "")
	s.Confirmations = head - w.deployed + 1 // the confirmed head is the block before the deployment
	n, err := s.Observe(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	s.Confirmations = head - w.deployed // now the deployment block is confirmed
	n, err = s.Observe(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestReorgDeeperThanConfirmationsLosesNothing: a batch is executed, attested (BRIDGED on the chain), and
// then its Ethereum block is reorganised away, deeper than the signers' confirmation depth. The contract is
// the truth: the relay submits the batch again (its signatures are on the chain), and the providers end up
// paid exactly once.
func TestReorgDeeperThanConfirmationsLosesNothing(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	var signers []*relayer.Signer
	for i := range 3 {
		signers = append(signers, w.signer(i, ""))
	}
	provider := common.HexToAddress("0x2000000000000000000000000000000000000002")
	b := w.settle(2, []common.Address{provider})
	for _, s := range signers {
		_, err := s.SignPending(ctx)
		require.NoError(t, err)
	}
	sent, err := w.relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	w.observeUntil(ctx, signers, b.Nonce)
	bridged, err := w.f.LeaseKeeper.GetBatch(w.f.Ctx, b.Nonce)
	require.NoError(t, err)
	paid := b.Payouts[0].Amount.BigInt()
	require.Equal(t, paid, w.balance(provider))

	// Reorganise from the block before the execution onto a longer side chain.
	w.mining.Lock()
	parent, err := w.client.HeaderByNumber(ctx, new(big.Int).SetUint64(bridged.EthBlock-1))
	require.NoError(t, err)
	head, err := w.client.BlockNumber(ctx)
	require.NoError(t, err)
	// The signers attested once the execution was Confirmations (3) deep; the block producer may have
	// stopped right there, so seal blocks until the reorg below is deeper than that.
	for ; head-bridged.EthBlock <= signers[0].Confirmations; head++ {
		w.backend.Commit()
	}
	require.Greater(t, head-bridged.EthBlock, signers[0].Confirmations, "deeper than the confirmation depth")
	require.NoError(t, w.backend.Fork(parent.Hash()))
	for range head - parent.Number.Uint64() + 2 {
		w.backend.Commit()
	}
	w.mining.Unlock()
	_, last, err := nonces(t, w)
	require.NoError(t, err)
	t.Logf("after the reorg the contract's lastBatchNonce is %d (the dropped transaction %s)", last,
		map[bool]string{true: "was mined again from the pool", false: "is gone"}[last == b.Nonce])

	// The relay sends whatever the contract lacks; the signers rescan; no payout is lost or doubled.
	_, err = w.relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, last, err := nonces(t, w)
		return err == nil && last == b.Nonce
	}, 10*time.Second, 20*time.Millisecond)
	for _, s := range signers {
		require.Eventually(t, func() bool { _, err := s.Observe(ctx); return err == nil }, 10*time.Second, 20*time.Millisecond)
	}
	require.Equal(t, paid, w.balance(provider), "paid once")
	sent, err = w.relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Zero(t, sent)
}

func nonces(t *testing.T, w *world) (uint64, uint64, error) {
	settle := bindings.NewNROSettlement()
	inst := settle.Instance(w.client, w.contract)
	v, err := bind.Call(inst, nil, settle.PackLastValsetNonce(), settle.UnpackLastValsetNonce)
	if err != nil {
		return 0, 0, err
	}
	b, err := bind.Call(inst, nil, settle.PackLastBatchNonce(), settle.UnpackLastBatchNonce)
	if err != nil {
		return 0, 0, err
	}
	return v.Uint64(), b.Uint64(), nil
}

// lockedChain and lockedOrchestrator serialise access to the in-process chain (an sdk.Context is not safe
// for concurrent use), as a node serialises its transactions.
type lockedChain struct {
	mu *sync.Mutex
	c  relayer.Chain
}

func (l lockedChain) AuditParams(ctx context.Context) (audittypes.Params, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.AuditParams(ctx)
}

func (l lockedChain) LatestValset(ctx context.Context) (audittypes.BridgeValset, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.LatestValset(ctx)
}

func (l lockedChain) Valset(ctx context.Context, n uint64) (audittypes.BridgeValset, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.Valset(ctx, n)
}

func (l lockedChain) ValsetConfirms(ctx context.Context, n uint64) ([]audittypes.BridgeConfirm, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.ValsetConfirms(ctx, n)
}

func (l lockedChain) PendingBatches(ctx context.Context) ([]leasetypes.SettlementBatch, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.PendingBatches(ctx)
}

func (l lockedChain) BatchesAbove(ctx context.Context, n uint64) ([]leasetypes.SettlementBatch, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.BatchesAbove(ctx, n)
}

func (l lockedChain) BatchConfirms(ctx context.Context, n uint64) ([]audittypes.BridgeConfirm, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.BatchConfirms(ctx, n)
}

type lockedOrchestrator struct {
	mu *sync.Mutex
	o  relayer.Orchestrator
}

func (l lockedOrchestrator) ConfirmValset(ctx context.Context, n uint64, sig []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.o.ConfirmValset(ctx, n, sig)
}

func (l lockedOrchestrator) ConfirmBatch(ctx context.Context, n uint64, sig []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.o.ConfirmBatch(ctx, n, sig)
}

func (l lockedOrchestrator) AttestBatchExecuted(ctx context.Context, c audittypes.BatchExecutedClaim) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.o.AttestBatchExecuted(ctx, c)
}

// TestLoopsBridgeWhileRunning runs three signers and a relay as nro-relayer does (constant-interval loops
// under one errgroup) while batches appear on the chain; every batch ends BRIDGED and paid exactly.
func TestLoopsBridgeWhileRunning(t *testing.T) {
	w := newWorld(t)
	var mu sync.Mutex
	ch := lockedChain{mu: &mu, c: chain{w.f}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 4)
	metrics := relayer.NewMetrics(nil)
	for i := range 3 {
		s := w.signer(i, "")
		s.Chain, s.Orchestrator = ch, lockedOrchestrator{mu: &mu, o: w.vals[i].orch}
		go func() { done <- relayer.Loops(ctx, 20*time.Millisecond, s, nil, metrics, nil) }()
	}
	relay := *w.relay
	relay.Chain = ch
	go func() { done <- relayer.Loops(ctx, 20*time.Millisecond, nil, &relay, metrics, nil) }()

	provider := common.HexToAddress("0x3000000000000000000000000000000000000003")
	var nonces []uint64
	want := new(big.Int)
	for range 3 {
		mu.Lock()
		b := w.settle(2, []common.Address{provider})
		mu.Unlock()
		nonces = append(nonces, b.Nonce)
		want.Add(want, b.Total.Amount.BigInt())
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range nonces {
			b, err := w.f.LeaseKeeper.GetBatch(w.f.Ctx, n)
			if err != nil || b.State != leasetypes.BATCH_STATE_BRIDGED {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond)
	cancel()
	for range 4 {
		require.NoError(t, <-done)
	}
	require.Equal(t, want, w.balance(provider), "three batches paid exactly once each")
}
