package contracts_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"sort"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"

	"github.com/consensus-nro/nro/contracts"
	"github.com/consensus-nro/nro/contracts/bindings"
)

// secp256k1 group order, for building high-s (malleable) signatures.
var secpN, _ = new(big.Int).SetString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16)

var bridgeID = [32]byte(crypto.Keccak256Hash([]byte("nro-bridge-test")))

// validator is a deterministic key with a power.
type validator struct {
	key   *ecdsa.PrivateKey
	addr  common.Address
	power uint64
}

func newKey(t *testing.T, seed string) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte(seed)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// makeValidators returns validators with the given powers, sorted by address
// as the contract requires. Keys are deterministic in (prefix, index).
func makeValidators(t *testing.T, prefix string, powers ...uint64) []validator {
	t.Helper()
	vals := make([]validator, len(powers))
	for i, p := range powers {
		k := newKey(t, prefix+string(rune('a'+i)))
		vals[i] = validator{key: k, addr: crypto.PubkeyToAddress(k.PublicKey), power: p}
	}
	sort.Slice(vals, func(i, j int) bool { return bytes.Compare(vals[i].addr[:], vals[j].addr[:]) < 0 })
	return vals
}

func valsetOf(vals []validator, nonce uint64) bindings.NROSettlementValset {
	vs := bindings.NROSettlementValset{Nonce: new(big.Int).SetUint64(nonce)}
	for _, v := range vals {
		vs.Signers = append(vs.Signers, v.addr)
		vs.Powers = append(vs.Powers, new(big.Int).SetUint64(v.power))
	}
	return vs
}

// env is a simulated chain with a deployed NROSettlement.
type env struct {
	t        *testing.T
	backend  *simulated.Backend
	client   simulated.Client
	chainID  *big.Int
	opts     *bind.TransactOpts
	settle   *bindings.NROSettlement
	token    *bindings.WrappedNRO
	inst     *bind.BoundContract
	tokInst  *bind.BoundContract
	addr     common.Address
	tokAddr  common.Address
	vals     []validator
	valset   bindings.NROSettlementValset
	deployTx *types.Transaction
}

func newEnv(t *testing.T, vals []validator) *env {
	t.Helper()
	deployer := newKey(t, "deployer")
	from := crypto.PubkeyToAddress(deployer.PublicKey)
	backend := newBackend(types.GenesisAlloc{
		from: {Balance: new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))},
	})
	t.Cleanup(func() { _ = backend.Close() })
	client := backend.Client()
	chainID, err := client.ChainID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		t: t, backend: backend, client: client, chainID: chainID,
		opts:   bind.NewKeyedTransactor(deployer, chainID),
		settle: bindings.NewNROSettlement(), token: bindings.NewWrappedNRO(),
		vals: vals, valset: valsetOf(vals, 1),
	}
	e.addr, e.deployTx, err = bind.DeployContract(e.opts, common.FromHex(bindings.NROSettlementMetaData.Bin), client,
		e.settle.PackConstructor(bridgeID, e.valset))
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	backend.Commit()
	if r := e.receipt(e.deployTx); r.Status != types.ReceiptStatusSuccessful {
		t.Fatal("deploy failed")
	}
	e.inst = e.settle.Instance(client, e.addr)
	e.tokAddr = mustCall(t, e.inst, e.settle.PackToken(), e.settle.UnpackToken)
	e.tokInst = e.token.Instance(client, e.tokAddr)
	return e
}

// newBackend starts a simulated chain on current mainnet rules (Osaka). The
// simulated backend's default dev config also enables the unreleased Bogota
// fork, whose storage-creation pricing would make the gas numbers logged
// here unrepresentative of mainnet.
func newBackend(alloc types.GenesisAlloc) *simulated.Backend {
	return simulated.NewBackend(alloc, func(_ *node.Config, ethConf *ethconfig.Config) {
		cfg := *ethConf.Genesis.Config
		cfg.BogotaTime = nil
		ethConf.Genesis.Config = &cfg
	})
}

func mustCall[T any](t *testing.T, c *bind.BoundContract, data []byte, unpack func([]byte) (T, error)) T {
	t.Helper()
	v, err := bind.Call(c, &bind.CallOpts{}, data, unpack)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	return v
}

func (e *env) receipt(tx *types.Transaction) *types.Receipt {
	e.t.Helper()
	r, err := e.client.TransactionReceipt(context.Background(), tx.Hash())
	if err != nil {
		e.t.Fatalf("receipt: %v", err)
	}
	return r
}

// blockTime is the latest block's timestamp (Unix seconds); batch timeouts are compared with block.timestamp.
func (e *env) blockTime() uint64 {
	e.t.Helper()
	h, err := e.client.HeaderByNumber(context.Background(), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return h.Time
}

// send transacts with a fixed gas limit (no estimation, so reverting calls
// are mined too), commits a block and returns the receipt.
func (e *env) send(data []byte) *types.Receipt {
	e.t.Helper()
	opts := *e.opts
	opts.GasLimit = 5_000_000
	tx, err := bind.Transact(e.inst, &opts, data)
	if err != nil {
		e.t.Fatalf("transact: %v", err)
	}
	e.backend.Commit()
	return e.receipt(tx)
}

func (e *env) mustSucceed(data []byte) *types.Receipt {
	e.t.Helper()
	if _, err := bind.Call[any](e.inst, &bind.CallOpts{}, data, nil); err != nil {
		e.t.Fatalf("eth_call reverted: %v (%s)", err, e.revertName(err))
	}
	r := e.send(data)
	if r.Status != types.ReceiptStatusSuccessful {
		e.t.Fatalf("tx failed")
	}
	return r
}

// mustRevert checks that eth_call reverts with custom error wantErr (skipped
// if wantErr is "") and that the mined transaction fails.
func (e *env) mustRevert(data []byte, wantErr string) {
	e.t.Helper()
	if wantErr != "" {
		_, err := bind.Call[any](e.inst, &bind.CallOpts{}, data, nil)
		if err == nil {
			e.t.Fatalf("expected revert %s, call succeeded", wantErr)
		}
		if got := e.revertName(err); got != wantErr {
			e.t.Fatalf("expected revert %s, got %q (%v)", wantErr, got, err)
		}
	}
	if r := e.send(data); r.Status != types.ReceiptStatusFailed {
		e.t.Fatalf("expected failed tx (%s), it succeeded", wantErr)
	}
}

// revertName maps the revert data of err to the name of a custom error of
// NROSettlement or WrappedNRO.
func (e *env) revertName(err error) string {
	var de interface{ ErrorData() interface{} }
	if !errors.As(err, &de) {
		return ""
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return ""
	}
	data, derr := hexutil.Decode(s)
	if derr != nil || len(data) < 4 {
		return ""
	}
	for name, ev := range e.settle.GetABI().Errors {
		if bytes.Equal(ev.ID[:4], data[:4]) {
			return name
		}
	}
	for name, ev := range e.token.GetABI().Errors {
		if bytes.Equal(ev.ID[:4], data[:4]) {
			return name
		}
	}
	return hexutil.Encode(data[:4])
}

func sigOf(t *testing.T, key *ecdsa.PrivateKey, digest common.Hash) bindings.NROSettlementSig {
	t.Helper()
	v, r, s, err := contracts.Sign(key, digest)
	if err != nil {
		t.Fatal(err)
	}
	return bindings.NROSettlementSig{V: v, R: r, S: s}
}

// sign returns one signature slot per member of vals; members whose index is
// not in signers get an empty slot (v == 0).
func sign(t *testing.T, vals []validator, digest common.Hash, signers ...int) []bindings.NROSettlementSig {
	t.Helper()
	sigs := make([]bindings.NROSettlementSig, len(vals))
	for _, i := range signers {
		sigs[i] = sigOf(t, vals[i].key, digest)
	}
	return sigs
}

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func recipient(i int) common.Address {
	return common.BytesToAddress(crypto.Keccak256([]byte{byte(i), 'r'})[:20])
}

func makeBatch(nonce, timeout uint64, n int) bindings.NROSettlementBatch {
	b := bindings.NROSettlementBatch{Nonce: new(big.Int).SetUint64(nonce), Timeout: new(big.Int).SetUint64(timeout),
		Payouts: []bindings.NROSettlementPayout{}}
	for i := 0; i < n; i++ {
		b.Payouts = append(b.Payouts, bindings.NROSettlementPayout{Recipient: recipient(i), Amount: big.NewInt(int64(1_000_000 * (i + 1)))})
	}
	return b
}

// batchDigest computes the digest in Go (contracts.BatchDigest) for the given
// chain id and contract address.
func batchDigest(t *testing.T, chainID *big.Int, addr common.Address, b bindings.NROSettlementBatch) common.Hash {
	t.Helper()
	cb := contracts.Batch{Nonce: b.Nonce, Timeout: b.Timeout}
	for _, p := range b.Payouts {
		cb.Payouts = append(cb.Payouts, contracts.Payout{Recipient: p.Recipient, Amount: p.Amount})
	}
	d, err := contracts.BatchDigest(bridgeID, chainID, addr, cb)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *env) batchDigest(b bindings.NROSettlementBatch) common.Hash {
	return batchDigest(e.t, e.chainID, e.addr, b)
}

func (e *env) valsetDigest(vs bindings.NROSettlementValset) common.Hash {
	e.t.Helper()
	cp, err := contracts.Checkpoint(bridgeID, vs.Nonce, vs.Signers, vs.Powers)
	if err != nil {
		e.t.Fatal(err)
	}
	d, err := contracts.ValsetUpdateDigest(bridgeID, e.chainID, e.addr, cp)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) balance(a common.Address) *big.Int {
	return mustCall(e.t, e.tokInst, e.token.PackBalanceOf(a), e.token.UnpackBalanceOf)
}

func (e *env) lastBatchNonce() uint64 {
	return mustCall(e.t, e.inst, e.settle.PackLastBatchNonce(), e.settle.UnpackLastBatchNonce).Uint64()
}

// quarter is a quarter of the normalised total power 2^32.
const quarter = contracts.TotalPower / 4

func fourVals(t *testing.T) []validator {
	return makeValidators(t, "val-", quarter, quarter, quarter, quarter)
}

func TestDeployAndDigests(t *testing.T) {
	e := newEnv(t, fourVals(t))

	// The Go digests match the contract's view functions.
	cp, err := contracts.Checkpoint(bridgeID, e.valset.Nonce, e.valset.Signers, e.valset.Powers)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustCall(t, e.inst, e.settle.PackLastValsetCheckpoint(), e.settle.UnpackLastValsetCheckpoint); got != cp {
		t.Fatalf("checkpoint mismatch: contract %x, go %x", got, cp)
	}
	b := makeBatch(1, 1000, 3)
	if got := mustCall(t, e.inst, e.settle.PackBatchDigest(b), e.settle.UnpackBatchDigest); common.Hash(got) != e.batchDigest(b) {
		t.Fatalf("batch digest mismatch")
	}
	vs := valsetOf(makeValidators(t, "new-", quarter, quarter), 2)
	if got := mustCall(t, e.inst, e.settle.PackValsetUpdateDigest(vs), e.settle.UnpackValsetUpdateDigest); common.Hash(got) != e.valsetDigest(vs) {
		t.Fatalf("valset digest mismatch")
	}

	// Token: 6 decimals, minter is the settlement contract, nobody else can mint.
	if d := mustCall(t, e.tokInst, e.token.PackDecimals(), e.token.UnpackDecimals); d != 6 {
		t.Fatalf("decimals = %d", d)
	}
	if m := mustCall(t, e.tokInst, e.token.PackMinter(), e.token.UnpackMinter); m != e.addr {
		t.Fatalf("minter = %s, want %s", m, e.addr)
	}
	_, err = bind.Call[any](e.tokInst, &bind.CallOpts{From: e.opts.From}, e.token.PackMint(e.opts.From, big.NewInt(1)), nil)
	if err == nil || e.revertName(err) != "OnlyMinter" {
		t.Fatalf("direct mint: want OnlyMinter, got %v", err)
	}

	// Initial ValsetUpdated event in the deploy receipt.
	var found bool
	for _, l := range e.receipt(e.deployTx).Logs {
		if ev, err := e.settle.UnpackValsetUpdatedEvent(l); err == nil {
			found = ev.ValsetNonce.Uint64() == 1 && ev.Checkpoint == cp && len(ev.Signers) == 4
		}
	}
	if !found {
		t.Fatal("no initial ValsetUpdated event")
	}
}

func TestInvalidInitialValset(t *testing.T) {
	deployer := newKey(t, "deployer")
	from := crypto.PubkeyToAddress(deployer.PublicKey)
	backend := newBackend(types.GenesisAlloc{from: {Balance: big.NewInt(params.Ether)}})
	defer func() { _ = backend.Close() }()
	client := backend.Client()
	chainID, _ := client.ChainID(context.Background())
	s := bindings.NewNROSettlement()
	vals := fourVals(t)
	unsorted := valsetOf([]validator{vals[1], vals[0], vals[2], vals[3]}, 1)
	dup := valsetOf([]validator{vals[0], vals[0], vals[2], vals[3]}, 1)
	tooMuch := valsetOf(makeValidators(t, "val-", quarter, quarter, quarter, quarter+1), 1)
	for name, vs := range map[string]bindings.NROSettlementValset{"unsorted": unsorted, "duplicate": dup, "power>2^32": tooMuch} {
		opts := bind.NewKeyedTransactor(deployer, chainID)
		opts.GasLimit = 5_000_000
		_, tx, err := bind.DeployContract(opts, common.FromHex(bindings.NROSettlementMetaData.Bin), client, s.PackConstructor(bridgeID, vs))
		if err != nil {
			t.Fatal(err)
		}
		backend.Commit()
		r, err := client.TransactionReceipt(context.Background(), tx.Hash())
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != types.ReceiptStatusFailed {
			t.Fatalf("%s: deploy succeeded", name)
		}
	}
}

func TestHappyPathAndGas(t *testing.T) {
	e := newEnv(t, fourVals(t))
	for _, n := range []int{1, 10} {
		nonce := e.lastBatchNonce() + 1
		b := makeBatch(nonce, e.blockTime()+3600, n)
		before := make([]*big.Int, n)
		for i := range before {
			before[i] = e.balance(recipient(i))
		}
		r := e.mustSucceed(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, e.batchDigest(b), all(4)...), b))
		t.Logf("submitBatch gas used: %d payouts, 4 validators (4 signatures): %d", n, r.GasUsed)

		total := new(big.Int)
		for i, p := range b.Payouts {
			total.Add(total, p.Amount)
			if got := new(big.Int).Sub(e.balance(p.Recipient), before[i]); got.Cmp(p.Amount) != 0 {
				t.Fatalf("payout %d: minted %s, want %s", i, got, p.Amount)
			}
		}
		var executed, transfers int
		for _, l := range r.Logs {
			if ev, err := e.settle.UnpackBatchExecutedEvent(l); err == nil {
				executed++
				if ev.BatchNonce.Uint64() != nonce || ev.TotalAmount.Cmp(total) != 0 || ev.PayoutCount.Int64() != int64(n) {
					t.Fatalf("bad BatchExecuted event: %+v", ev)
				}
			}
			if ev, err := e.token.UnpackTransferEvent(l); err == nil && ev.From == (common.Address{}) {
				transfers++
			}
		}
		if executed != 1 || transfers != n {
			t.Fatalf("events: %d BatchExecuted, %d mint Transfers", executed, transfers)
		}
		if e.lastBatchNonce() != nonce {
			t.Fatal("lastBatchNonce not updated")
		}
	}
	// Gas with the minimum quorum (3 of 4 signatures).
	b := makeBatch(e.lastBatchNonce()+1, e.blockTime()+3600, 1)
	r := e.mustSucceed(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, e.batchDigest(b), 0, 1, 2), b))
	t.Logf("submitBatch gas used: 1 payout, 4 validators (3 signatures): %d", r.GasUsed)
}

func TestWrongSigner(t *testing.T) {
	e := newEnv(t, fourVals(t))
	b := makeBatch(1, e.blockTime()+3600, 1)
	d := e.batchDigest(b)
	sigs := sign(t, e.vals, d, all(4)...)
	sigs[2] = sigOf(t, newKey(t, "intruder"), d)
	e.mustRevert(e.settle.PackSubmitBatch(e.valset, sigs, b), "InvalidSignature")

	// A valset not matching the stored checkpoint is rejected.
	other := makeValidators(t, "other-", quarter, quarter, quarter, quarter)
	e.mustRevert(e.settle.PackSubmitBatch(valsetOf(other, 1), sign(t, other, d, all(4)...), b), "InvalidCheckpoint")
	// Wrong number of signature slots.
	e.mustRevert(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d, all(4)...)[:3], b), "SigCountMismatch")
}

func TestPowerThreshold(t *testing.T) {
	t.Run("power missing from the valset counts against", func(t *testing.T) {
		// The valset holds 3/4 of 2^32 (a quarter of the stake has no signer). The threshold is 2/3 of 2^32,
		// not of the valset's sum: 2^31 + 2^29 (5/8) fails although it is 5/6 of the valset; all of it passes.
		e := newEnv(t, makeValidators(t, "th-", 1<<30, 1<<30, 1<<29, 1<<29))
		idx := func(p uint64) (out []int) {
			for i, v := range e.vals {
				if v.power == p {
					out = append(out, i)
				}
			}
			return out
		}
		big2, small := idx(1<<30), idx(1<<29)
		b := makeBatch(1, e.blockTime()+3600, 1)
		d := e.batchDigest(b)
		e.mustRevert(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d, big2...), b), "InsufficientPower")
		e.mustRevert(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d, big2[0], big2[1], small[0]), b), "InsufficientPower")
		e.mustSucceed(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d, big2[0], big2[1], small[0], small[1]), b))
	})
	t.Run("boundary at 2^32", func(t *testing.T) {
		// Total exactly 2^32: 2863311530 + 1431655765 + 1.
		// floor(2/3 * 2^32) = 2863311530 fails, 2863311531 passes.
		e := newEnv(t, makeValidators(t, "tb-", 2863311530, 1431655765, 1))
		find := func(p uint64) int {
			for i, v := range e.vals {
				if v.power == p {
					return i
				}
			}
			t.Fatal("not found")
			return -1
		}
		a, c := find(2863311530), find(1)
		b := makeBatch(1, e.blockTime()+3600, 1)
		d := e.batchDigest(b)
		e.mustRevert(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d, a), b), "InsufficientPower")
		e.mustSucceed(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d, a, c), b))
	})
	t.Run("two of four quarters fails, three pass", func(t *testing.T) {
		e := newEnv(t, fourVals(t))
		b := makeBatch(1, e.blockTime()+3600, 1)
		d := e.batchDigest(b)
		e.mustRevert(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d, 0, 3), b), "InsufficientPower")
		e.mustRevert(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d), b), "InsufficientPower")
		e.mustSucceed(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d, 1, 2, 3), b))
	})
}

func TestBatchNonces(t *testing.T) {
	e := newEnv(t, fourVals(t))
	submit := func(b bindings.NROSettlementBatch) []byte {
		return e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, e.batchDigest(b), all(4)...), b)
	}
	b1 := makeBatch(1, e.blockTime()+3600, 2)
	e.mustSucceed(submit(b1))
	// Replay of the exact same batch and signatures.
	e.mustRevert(submit(b1), "StaleBatchNonce")
	// Skipping nonces is allowed (Gravity style): 1 -> 5.
	b5 := makeBatch(5, e.blockTime()+3600, 1)
	e.mustSucceed(submit(b5))
	// Stale nonces (lower than or equal to the last) are rejected, even unexecuted ones.
	e.mustRevert(submit(makeBatch(3, e.blockTime()+3600, 1)), "StaleBatchNonce")
	e.mustRevert(submit(makeBatch(5, e.blockTime()+3600, 3)), "StaleBatchNonce")
	if e.lastBatchNonce() != 5 {
		t.Fatalf("lastBatchNonce = %d", e.lastBatchNonce())
	}
}

func TestBatchTimeout(t *testing.T) {
	e := newEnv(t, fourVals(t))
	submit := func(b bindings.NROSettlementBatch) []byte {
		return e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, e.batchDigest(b), all(4)...), b)
	}
	// Timed out: timeout <= the time of the block it would be mined in (always after the latest one).
	e.mustRevert(submit(makeBatch(1, e.blockTime(), 1)), "BatchTimedOut")
	e.mustRevert(submit(makeBatch(1, 1, 1)), "BatchTimedOut")
	// Boundary. Move the chain ahead of the wall clock, so that the next block is sealed at exactly the
	// latest block's time + 1 (the simulated beacon takes max(now, last + 1)).
	if err := e.backend.AdjustTime(time.Hour); err != nil {
		t.Fatal(err)
	}
	next := e.blockTime() + 1
	// Mined at block.timestamp == timeout fails (block.timestamp < timeout is required). eth_call runs at the
	// latest block's time, one second earlier, so only the mined transaction shows it.
	e.mustRevert(submit(makeBatch(1, next, 1)), "")
	// Mined one second before the timeout passes.
	next = e.blockTime() + 1
	e.mustSucceed(submit(makeBatch(1, next+1, 1)))
}

func TestCrossChainAndCrossContractReplay(t *testing.T) {
	e := newEnv(t, fourVals(t))
	b := makeBatch(1, e.blockTime()+3600, 1)

	otherChain := batchDigest(t, new(big.Int).Add(e.chainID, big.NewInt(1)), e.addr, b)
	e.mustRevert(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, otherChain, all(4)...), b), "InvalidSignature")

	otherContract := batchDigest(t, e.chainID, common.HexToAddress("0x00000000000000000000000000000000deadbeef"), b)
	e.mustRevert(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, otherContract, all(4)...), b), "InvalidSignature")

	// A second deployment on the same chain with the same valset and bridge
	// id: signatures valid for the first contract are rejected by the second.
	sigsForE := sign(t, e.vals, e.batchDigest(b), all(4)...)
	e.mustSucceed(e.settle.PackSubmitBatch(e.valset, sigsForE, b))
	addr2, tx, err := bind.DeployContract(e.opts, common.FromHex(bindings.NROSettlementMetaData.Bin), e.client,
		e.settle.PackConstructor(bridgeID, e.valset))
	if err != nil {
		t.Fatal(err)
	}
	e.backend.Commit()
	if e.receipt(tx).Status != types.ReceiptStatusSuccessful {
		t.Fatal("deploy 2 failed")
	}
	inst2 := e.settle.Instance(e.client, addr2)
	_, err = bind.Call[any](inst2, &bind.CallOpts{}, e.settle.PackSubmitBatch(e.valset, sigsForE, b), nil)
	if err == nil || e.revertName(err) != "InvalidSignature" {
		t.Fatalf("replay on second contract: want InvalidSignature, got %v", err)
	}
}

func TestValsetRotation(t *testing.T) {
	e := newEnv(t, fourVals(t))
	newVals := makeValidators(t, "rot-", quarter, quarter, quarter, quarter-7)
	newVs := valsetOf(newVals, 2)

	// Signed by the new set instead of the current one: rejected.
	e.mustRevert(e.settle.PackUpdateValset(newVs, e.valset, sign(t, newVals, e.valsetDigest(newVs), all(4)...)), "InvalidSignature")
	// Nonce not increasing.
	same := valsetOf(newVals, 1)
	e.mustRevert(e.settle.PackUpdateValset(same, e.valset, sign(t, e.vals, e.valsetDigest(same), all(4)...)), "StaleValsetNonce")
	// Only 2/4 signed.
	e.mustRevert(e.settle.PackUpdateValset(newVs, e.valset, sign(t, e.vals, e.valsetDigest(newVs), 0, 1)), "InsufficientPower")

	r := e.mustSucceed(e.settle.PackUpdateValset(newVs, e.valset, sign(t, e.vals, e.valsetDigest(newVs), 0, 1, 3)))
	t.Logf("updateValset gas used (4 -> 4 validators, 3 signatures): %d", r.GasUsed)
	var ok bool
	for _, l := range r.Logs {
		if ev, err := e.settle.UnpackValsetUpdatedEvent(l); err == nil && ev.ValsetNonce.Uint64() == 2 {
			ok = true
		}
	}
	if !ok {
		t.Fatal("no ValsetUpdated event")
	}
	if n := mustCall(t, e.inst, e.settle.PackLastValsetNonce(), e.settle.UnpackLastValsetNonce); n.Uint64() != 2 {
		t.Fatalf("lastValsetNonce = %s", n)
	}
	// Replay of the same update.
	e.mustRevert(e.settle.PackUpdateValset(newVs, e.valset, sign(t, e.vals, e.valsetDigest(newVs), all(4)...)), "InvalidCheckpoint")

	b := makeBatch(1, e.blockTime()+3600, 2)
	d := e.batchDigest(b)
	// The old set is no longer accepted.
	e.mustRevert(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d, all(4)...), b), "InvalidCheckpoint")
	// The old signers cannot pose as the new set either.
	e.mustRevert(e.settle.PackSubmitBatch(newVs, sign(t, e.vals, d, all(4)...), b), "InvalidSignature")
	// The new set signs the batch.
	e.mustSucceed(e.settle.PackSubmitBatch(newVs, sign(t, newVals, d, 0, 1, 2), b))

	// An invalid new valset (unsorted) is rejected even when properly signed.
	bad := valsetOf([]validator{e.vals[1], e.vals[0]}, 3)
	e.mustRevert(e.settle.PackUpdateValset(bad, newVs, sign(t, newVals, e.valsetDigest(bad), all(4)...)), "ValsetNotSorted")
}

func TestMalleableSignatureRejected(t *testing.T) {
	e := newEnv(t, fourVals(t))
	b := makeBatch(1, e.blockTime()+3600, 1)
	d := e.batchDigest(b)
	sigs := sign(t, e.vals, d, 0, 1, 2)
	// (r, n - s, v ^ 1) recovers the same address but is high-s.
	hs := sigs[0]
	s := new(big.Int).Sub(secpN, new(big.Int).SetBytes(hs.S[:]))
	s.FillBytes(hs.S[:])
	hs.V = 55 - hs.V // 27 <-> 28
	if a, err := crypto.Ecrecover(contracts.EthSignedHash(d).Bytes(), append(append(hs.R[:], hs.S[:]...), hs.V-27)); err == nil {
		// go-ethereum's Ecrecover accepts high-s; make sure it is the same signer.
		if common.BytesToAddress(crypto.Keccak256(a[1:])[12:]) != e.vals[0].addr {
			t.Fatal("high-s signature does not recover to the signer")
		}
	}
	sigs[0] = hs
	e.mustRevert(e.settle.PackSubmitBatch(e.valset, sigs, b), "InvalidSignature")
	// Invalid v.
	sigs = sign(t, e.vals, d, 0, 1, 2)
	sigs[1].V = 29
	e.mustRevert(e.settle.PackSubmitBatch(e.valset, sigs, b), "InvalidSignature")
}

func TestDuplicateSignatureNotCountedTwice(t *testing.T) {
	e := newEnv(t, fourVals(t))
	b := makeBatch(1, e.blockTime()+3600, 1)
	d := e.batchDigest(b)
	// Validators 0 and 1 sign; validator 0's signature is copied into slot 2
	// to try to reach 3/4.
	sigs := sign(t, e.vals, d, 0, 1)
	sigs[2] = sigs[0]
	e.mustRevert(e.settle.PackSubmitBatch(e.valset, sigs, b), "InvalidSignature")
	// A valset listing the same signer twice cannot be installed.
	dup := valsetOf([]validator{e.vals[0], e.vals[0], e.vals[2]}, 2)
	e.mustRevert(e.settle.PackUpdateValset(dup, e.valset, sign(t, e.vals, e.valsetDigest(dup), all(4)...)), "ValsetNotSorted")
	// Two legitimate signatures are still not enough.
	e.mustRevert(e.settle.PackSubmitBatch(e.valset, sign(t, e.vals, d, 0, 1), b), "InsufficientPower")
}
