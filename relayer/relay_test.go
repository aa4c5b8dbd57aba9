package relayer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/consensus-nro/nro/contracts/bindings"
	"github.com/consensus-nro/nro/relayer"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// syncBuffer is a log sink the relay may write from its goroutine while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func logTo(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// flakyEth is the simulated backend's client with faults: the first failHeaders calls of HeaderByNumber
// fail as an unreachable node would; it counts the gas estimations and receipt lookups.
type flakyEth struct {
	simulated.Client
	failHeaders atomic.Int64
	estimates   atomic.Int64
	receipts    atomic.Int64
	// tip, when set, is the tip the node suggests.
	tip *big.Int
}

func (f *flakyEth) SuggestGasTipCap(ctx context.Context) (*big.Int, error) {
	if f.tip != nil {
		return new(big.Int).Set(f.tip), nil
	}
	return f.Client.SuggestGasTipCap(ctx)
}

func (f *flakyEth) HeaderByNumber(ctx context.Context, n *big.Int) (*ethtypes.Header, error) {
	if f.failHeaders.Add(-1) >= 0 {
		return nil, &url.Error{Op: "Post", URL: "http://127.0.0.1:8545", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	}
	return f.Client.HeaderByNumber(ctx, n)
}

func (f *flakyEth) EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error) {
	f.estimates.Add(1)
	return f.Client.EstimateGas(ctx, msg)
}

func (f *flakyEth) TransactionReceipt(ctx context.Context, h common.Hash) (*ethtypes.Receipt, error) {
	f.receipts.Add(1)
	return f.Client.TransactionReceipt(ctx, h)
}

// executedTx returns the transaction that executed batch nonce on the contract.
func (w *world) executedTx(nonce uint64) (*ethtypes.Transaction, *ethtypes.Receipt) {
	w.t.Helper()
	ctx := context.Background()
	settle := bindings.NewNROSettlement()
	logs, err := w.client.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(w.deployed), Addresses: []common.Address{w.contract},
		Topics: [][]common.Hash{{settle.GetABI().Events[bindings.NROSettlementBatchExecutedEventName].ID}},
	})
	require.NoError(w.t, err)
	for i := range logs {
		ev, err := settle.UnpackBatchExecutedEvent(&logs[i])
		require.NoError(w.t, err)
		if ev.BatchNonce.Uint64() == nonce {
			tx, _, err := w.client.TransactionByHash(ctx, logs[i].TxHash)
			require.NoError(w.t, err)
			rec, err := w.client.TransactionReceipt(ctx, logs[i].TxHash)
			require.NoError(w.t, err)
			return tx, rec
		}
	}
	w.t.Fatalf("batch %d not executed", nonce)
	return nil, nil
}

func (w *world) signAll(ctx context.Context, n int) {
	w.t.Helper()
	for i := range n {
		_, err := w.signer(i, "").SignPending(ctx)
		require.NoError(w.t, err)
	}
}

// TestRelayFeeCaps: with the base fee above max_fee_per_gas the relay sends nothing and says so; under
// the cap it sends an EIP-1559 transaction whose tip and fee cap are within the configured bounds.
func TestRelayFeeCaps(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	provider := common.HexToAddress("0x4000000000000000000000000000000000000004")
	b := w.settle(2, []common.Address{provider})
	w.signAll(ctx, 3)

	var logs syncBuffer
	relay := *w.relay
	relay.Log = logTo(&logs)
	relay.MaxFeePerGas, relay.MaxPriorityFeePerGas = big.NewInt(1), big.NewInt(1)
	head, err := w.client.HeaderByNumber(ctx, nil)
	require.NoError(t, err)
	require.Greater(t, head.BaseFee.Int64(), int64(1), "the simulated chain's base fee is above the 1 wei cap")
	sent, err := relay.RelayBatches(ctx)
	require.NoError(t, err, "a base fee above the cap is a wait, not a failure")
	require.Zero(t, sent)
	_, last, err := nonces(t, w)
	require.NoError(t, err)
	require.Zero(t, last, "nothing reached the contract")
	require.Contains(t, logs.String(), "base fee is above max_fee_per_gas")
	require.Contains(t, logs.String(), "max_fee_per_gas_wei=1")

	// Under the cap: the node suggests a 50 gwei tip; the relay pays 2 mwei at most (twice the simulated
	// miner's minimum tip).
	relay.Ethereum = &flakyEth{Client: w.client, tip: big.NewInt(50 * params.GWei)}
	maxTip := big.NewInt(2 * params.GWei / 1000)
	maxFee := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(3)), maxTip)
	relay.MaxFeePerGas, relay.MaxPriorityFeePerGas = maxFee, maxTip
	sent, err = relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	tx, rec := w.executedTx(b.Nonce)
	require.Equal(t, uint8(ethtypes.DynamicFeeTxType), tx.Type(), "EIP-1559")
	require.Equal(t, maxTip.String(), tx.GasTipCap().String(), "tip bounded by max_priority_fee_per_gas")
	require.LessOrEqual(t, tx.GasFeeCap().Cmp(maxFee), 0, "fee cap bounded by max_fee_per_gas")
	block, err := w.client.HeaderByNumber(ctx, rec.BlockNumber)
	require.NoError(t, err)
	require.GreaterOrEqual(t, tx.GasFeeCap().Cmp(block.BaseFee), 0)
	require.Equal(t, b.Payouts[0].Amount.BigInt(), w.balance(provider))
}

// TestRelayRetriesTransientErrors: an Ethereum node that refuses the first connections is retried with
// backoff inside the round, and the batch goes through once.
func TestRelayRetriesTransientErrors(t *testing.T) {
	ctx := context.Background()
	w, provider, b := oneSignedBatch(ctx, t, "0x5000000000000000000000000000000000000005")

	eth := &flakyEth{Client: w.client}
	eth.failHeaders.Store(3)
	var logs syncBuffer
	relay := *w.relay
	relay.Ethereum, relay.Log = eth, logTo(&logs)
	relay.Retry = relayer.RetryPolicy{Initial: time.Millisecond, Max: 4 * time.Millisecond, MaxElapsed: 30 * time.Second}
	sent, err := relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	require.Equal(t, int64(-2), eth.failHeaders.Load(), "three refused header reads, then the attempt's two that went through")
	require.Equal(t, 3, strings.Count(logs.String(), "transient error; retrying"))
	require.Equal(t, b.Payouts[0].Amount.BigInt(), w.balance(provider), "paid once")
}

// wrongConfirms hands the relay the valset's signatures in place of the batch's: the contract refuses
// them (InvalidSignature), a permanent error.
type wrongConfirms struct{ chain }

func (c wrongConfirms) BatchConfirms(ctx context.Context, _ uint64) ([]audittypes.BridgeConfirm, error) {
	return c.ValsetConfirms(ctx, 1)
}

// TestRelayDoesNotRetryReverts: a submission the contract reverts at gas estimation is not retried; the
// error names the contract's custom error.
func TestRelayDoesNotRetryReverts(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.settle(1, []common.Address{common.HexToAddress("0x6000000000000000000000000000000000000006")})
	w.signAll(ctx, 3)
	eth := &flakyEth{Client: w.client}
	relay := *w.relay
	relay.Chain, relay.Ethereum = wrongConfirms{chain{w.f}}, eth
	relay.Retry = relayer.RetryPolicy{Initial: time.Millisecond, Max: time.Millisecond, MaxElapsed: 30 * time.Second}
	sent, err := relay.RelayBatches(ctx)
	require.Zero(t, sent)
	var rev *relayer.RevertError
	require.ErrorAs(t, err, &rev)
	require.Equal(t, "InvalidSignature", rev.Name)
	require.False(t, relayer.Transient(err))
	require.Equal(t, int64(1), eth.estimates.Load(), "estimated once: a revert is not retried")
}

// TestRelayWaitsForConfirmations: the relay returns only once its transaction is Confirmations deep. The
// test seals the blocks itself, one at a time, and after each lets the relay look at least twice.
func TestRelayWaitsForConfirmations(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.settle(1, []common.Address{common.HexToAddress("0x7000000000000000000000000000000000000007")})
	w.signAll(ctx, 3)
	eth := &flakyEth{Client: w.client}
	relay := *w.relay
	relay.Ethereum, relay.Confirmations = eth, 4

	w.mining.Lock() // the test seals the blocks
	defer w.mining.Unlock()
	type result struct {
		sent int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		n, err := relay.RelayBatches(ctx)
		done <- result{n, err}
	}()
	from := relay.Opts.From
	mined, err := w.client.NonceAt(ctx, from, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		n, err := w.client.PendingNonceAt(ctx, from)
		return err == nil && n > mined
	}, 20*time.Second, 5*time.Millisecond, "the relay sends its transaction")
	w.backend.Commit()
	blk, err := w.client.BlockByNumber(ctx, nil)
	require.NoError(t, err)
	require.Len(t, blk.Transactions(), 1, "the relay's transaction is in the block just sealed")
	hash := blk.Transactions()[0].Hash()
	require.Eventually(t, func() bool { _, err := w.client.TransactionReceipt(ctx, hash); return err == nil }, 20*time.Second, time.Millisecond,
		"the node serves the receipt")
	for depth := uint64(1); ; depth++ {
		// Let the relay look at this head (two receipt lookups from now) unless it is done.
		seen := eth.receipts.Load()
		require.Eventually(t, func() bool { return eth.receipts.Load() >= seen+2 || len(done) > 0 }, 20*time.Second, time.Millisecond)
		if len(done) > 0 {
			r := <-done
			require.NoError(t, r.err)
			require.Equal(t, 1, r.sent)
			require.Equal(t, relay.Confirmations, depth, "returned at %d confirmations, want %d", depth, relay.Confirmations)
			head, err := w.client.BlockNumber(ctx)
			require.NoError(t, err)
			require.Equal(t, blk.NumberU64()+relay.Confirmations-1, head)
			return
		}
		require.Less(t, depth, relay.Confirmations, "still waiting at %d confirmations", depth)
		w.backend.Commit()
	}
}

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"http 503", rpc.HTTPError{StatusCode: 503, Status: "503 Service Unavailable"}, true},
		{"http 429", rpc.HTTPError{StatusCode: 429}, true},
		{"http 400", rpc.HTTPError{StatusCode: 400}, false},
		{"grpc unavailable", status.Error(codes.Unavailable, "connection refused"), true},
		{"grpc not found", status.Error(codes.NotFound, "no batch 7"), false},
		{"revert", &relayer.RevertError{Name: "StaleBatchNonce"}, false},
		{"fee above cap", &relayer.FeeCapError{BaseFee: big.NewInt(2), MaxFeePerGas: big.NewInt(1)}, false},
		{"cancelled", fmt.Errorf("call: %w", context.Canceled), false},
		{"already done", fmt.Errorf("x: %w", relayer.ErrAlreadyDone), false},
		{"anything else", errors.New("abi: cannot unmarshal"), false},
	} {
		require.Equal(t, tc.want, relayer.Transient(tc.err), tc.name)
	}
}

func TestRetryPolicyIsBoundedAndStopsOnPermanentErrors(t *testing.T) {
	ctx := context.Background()
	p := relayer.RetryPolicy{Initial: time.Millisecond, Max: 2 * time.Millisecond, MaxElapsed: 50 * time.Millisecond}
	refused := &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}

	calls := 0
	err := p.Do(ctx, nil, "always refused", func() error { calls++; return refused })
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "gives up with the last error once max_elapsed is spent")
	require.Greater(t, calls, 1)

	calls = 0
	err = p.Do(ctx, nil, "twice refused", func() error {
		calls++
		if calls <= 2 {
			return refused
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, calls)

	calls = 0
	perm := errors.New("abi: cannot unmarshal")
	err = p.Do(ctx, nil, "permanent", func() error { calls++; return perm })
	require.ErrorIs(t, err, perm)
	require.Equal(t, 1, calls)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	calls = 0
	long := relayer.RetryPolicy{Initial: time.Hour, Max: time.Hour, MaxElapsed: 10 * time.Hour}
	err = long.Do(cancelled, nil, "cancelled", func() error { calls++; return refused })
	require.ErrorIs(t, err, context.Canceled, "a cancelled round does not wait out the backoff")
	require.Equal(t, 1, calls)
}

// oneSignedBatch is a world with one settlement batch, paying provider (a 0x address), that 3 of its 4
// validators have signed.
func oneSignedBatch(ctx context.Context, t *testing.T, provider string) (*world, common.Address, leasetypes.SettlementBatch) {
	t.Helper()
	w := newWorld(t)
	addr := common.HexToAddress(provider)
	b := w.settle(1, []common.Address{addr})
	w.signAll(ctx, 3)
	return w, addr, b
}

// losingEth loses the first lose transactions sent to it (they never reach the pool, as a transaction a
// node evicts or never gossips) and records every transaction sent.
type losingEth struct {
	simulated.Client
	lose atomic.Int64
	mu   sync.Mutex
	sent []*ethtypes.Transaction
}

func (l *losingEth) SendTransaction(ctx context.Context, tx *ethtypes.Transaction) error {
	l.mu.Lock()
	l.sent = append(l.sent, tx)
	l.mu.Unlock()
	if l.lose.Add(-1) >= 0 {
		return nil
	}
	return l.Client.SendTransaction(ctx, tx)
}

func (l *losingEth) sentTxs() []*ethtypes.Transaction {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sent)
}

// TestRelayReplacesUnminedTransaction: the relay's batch transaction never gets mined (the node lost it,
// and then lost the first replacement too); after BumpAfter the relay sends it again with the same nonce
// and call and fees raised by at least 10 % each time, and the version that executes is the second
// replacement. The provider is paid once.
func TestRelayReplacesUnminedTransaction(t *testing.T) {
	ctx := context.Background()
	w, provider, b := oneSignedBatch(ctx, t, "0x7100000000000000000000000000000000000071")
	eth := &losingEth{Client: w.client}
	eth.lose.Store(2)
	relay := *w.relay
	relay.Ethereum, relay.BumpAfter = eth, 100*time.Millisecond

	sent, err := relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	txs := eth.sentTxs()
	require.Len(t, txs, 3, "the original and two replacements")
	for i := 1; i < len(txs); i++ {
		prev, cur := txs[i-1], txs[i]
		require.Equal(t, prev.Nonce(), cur.Nonce())
		require.Equal(t, prev.Data(), cur.Data())
		require.Equal(t, prev.Gas(), cur.Gas())
		require.Equal(t, *prev.To(), *cur.To())
		require.GreaterOrEqual(t, new(big.Int).Mul(cur.GasTipCap(), big.NewInt(10)).Cmp(new(big.Int).Mul(prev.GasTipCap(), big.NewInt(11))), 0,
			"tip %s after %s", cur.GasTipCap(), prev.GasTipCap())
		require.GreaterOrEqual(t, new(big.Int).Mul(cur.GasFeeCap(), big.NewInt(10)).Cmp(new(big.Int).Mul(prev.GasFeeCap(), big.NewInt(11))), 0,
			"fee cap %s after %s", cur.GasFeeCap(), prev.GasFeeCap())
	}
	executed, _ := w.executedTx(b.Nonce)
	require.Equal(t, txs[2].Hash(), executed.Hash(), "the second replacement executed the batch")
	require.Equal(t, b.Payouts[0].Amount.BigInt(), w.balance(provider))
}

// TestRelayAtFeeCapsDoesNotReplace: a lost transaction already at max_fee_per_gas and
// max_priority_fee_per_gas cannot be raised by the 10 % a pool needs; the relay sends no replacement and
// its wait ends with ErrTxTimeout, and the next round, once the account has nothing pending, sends the
// batch again.
func TestRelayAtFeeCapsDoesNotReplace(t *testing.T) {
	ctx := context.Background()
	w, provider, b := oneSignedBatch(ctx, t, "0x7200000000000000000000000000000000000072")
	eth := &losingEth{Client: w.client}
	eth.lose.Store(1)
	relay := *w.relay
	relay.Ethereum, relay.BumpAfter, relay.TxTimeout = eth, 50*time.Millisecond, time.Second

	// No blocks while the first round runs, so that the base fee stays where it is; a tip cap of the
	// node's suggested tip and a fee cap of the base fee plus that tip put the first transaction at both
	// caps (and it can still be mined: the miner takes the suggested tip).
	w.mining.Lock()
	head, err := w.client.HeaderByNumber(ctx, nil)
	require.NoError(t, err)
	tip, err := w.client.SuggestGasTipCap(ctx)
	require.NoError(t, err)
	relay.MaxFeePerGas, relay.MaxPriorityFeePerGas = new(big.Int).Add(head.BaseFee, tip), tip
	_, err = relay.RelayBatches(ctx)
	w.mining.Unlock()
	require.ErrorIs(t, err, relayer.ErrTxTimeout)
	require.Len(t, eth.sentTxs(), 1, "no replacement at the caps")
	require.Equal(t, relay.MaxFeePerGas, eth.sentTxs()[0].GasFeeCap())
	require.Zero(t, w.balance(provider).Sign())

	// The lost transaction is not pending anywhere: the next round sends the batch again, same nonce.
	sent, err := relay.RelayBatches(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	txs := eth.sentTxs()
	require.Len(t, txs, 2)
	require.Equal(t, txs[0].Nonce(), txs[1].Nonce())
	require.Equal(t, b.Payouts[0].Amount.BigInt(), w.balance(provider))
}

// flakyChain fails the first fails PendingBatches calls with err.
type flakyChain struct {
	relayer.Chain
	fails, calls atomic.Int64
	err          error
}

func (c *flakyChain) PendingBatches(ctx context.Context) ([]leasetypes.SettlementBatch, error) {
	c.calls.Add(1)
	if c.fails.Add(-1) >= 0 {
		return nil, c.err
	}
	return c.Chain.PendingBatches(ctx)
}

// TestSignerRoundRetriesTransientErrors: nrod unavailable twice in the middle of a signer's round (after it
// signed the valset, before it read the batches); the round retries, signs the batch and counts each
// confirmation once. A permanent error ends the round at once.
func TestSignerRoundRetriesTransientErrors(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	b := w.settle(1, []common.Address{common.HexToAddress("0x7300000000000000000000000000000000000073")})
	s := w.signer(0, "")
	fc := &flakyChain{Chain: s.Chain, err: status.Error(codes.Unavailable, "nrod is restarting")}
	fc.fails.Store(2)
	s.Chain, s.Retry = fc, relayer.RetryPolicy{Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxElapsed: 10 * time.Second}
	confirms, _, err := s.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), fc.calls.Load(), "two failures, then the batches")
	got, err := fc.Chain.BatchConfirms(ctx, b.Nonce)
	require.NoError(t, err)
	require.Len(t, got, 1)
	vsConfirms, err := fc.Chain.ValsetConfirms(ctx, 1)
	require.NoError(t, err)
	require.Len(t, vsConfirms, 1)
	require.Equal(t, 2, confirms, "the valset and the batch, each once")

	s2 := w.signer(1, "")
	fc2 := &flakyChain{Chain: s2.Chain, err: status.Error(codes.InvalidArgument, "bad request")}
	fc2.fails.Store(1)
	s2.Chain, s2.Retry = fc2, s.Retry
	_, _, err = s2.Round(ctx)
	require.ErrorContains(t, err, "bad request")
	require.Equal(t, int64(1), fc2.calls.Load(), "a permanent error is not retried")
}
