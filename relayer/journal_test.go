package relayer_test

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/relayer"
)

// stuckEth is a node whose pool keeps the transactions tipping less than minTip pending without any block
// including them — as a transaction priced under the market stays when the base fee rises — until a
// replacement (same sender and nonce) that tips enough takes its place. It records every transaction sent.
type stuckEth struct {
	simulated.Client
	minTip *big.Int
	mu     sync.Mutex
	held   map[common.Hash]*ethtypes.Transaction
	sent   []*ethtypes.Transaction
}

func newStuckEth(c simulated.Client, minTip *big.Int) *stuckEth {
	return &stuckEth{Client: c, minTip: minTip, held: map[common.Hash]*ethtypes.Transaction{}}
}

func (s *stuckEth) SendTransaction(ctx context.Context, tx *ethtypes.Transaction) error {
	s.mu.Lock()
	s.sent = append(s.sent, tx)
	if tx.GasTipCap().Cmp(s.minTip) < 0 {
		s.held[tx.Hash()] = tx
		s.mu.Unlock()
		return nil
	}
	for h, old := range s.held {
		if old.Nonce() == tx.Nonce() {
			delete(s.held, h) // replaced
		}
	}
	s.mu.Unlock()
	return s.Client.SendTransaction(ctx, tx)
}

func (s *stuckEth) PendingNonceAt(ctx context.Context, a common.Address) (uint64, error) {
	n, err := s.Client.PendingNonceAt(ctx, a)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tx := range s.held {
		if tx.Nonce() >= n {
			n = tx.Nonce() + 1
		}
	}
	return n, nil
}

func (s *stuckEth) TransactionByHash(ctx context.Context, h common.Hash) (*ethtypes.Transaction, bool, error) {
	s.mu.Lock()
	tx, ok := s.held[h]
	s.mu.Unlock()
	if ok {
		return tx, true, nil
	}
	return s.Client.TransactionByHash(ctx, h)
}

func (s *stuckEth) sentTxs() []*ethtypes.Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*ethtypes.Transaction(nil), s.sent...)
}

// TestRestartedRelayReplacesItsStuckTransaction: the relay's batch transaction tips too little and stays
// pending; the relay gives up waiting (tx_timeout) and stops. A new relay process, with the same journal
// file, finds the transaction still in the pool and replaces it (same nonce and call, fees raised), instead
// of waiting behind it for good; the batch executes once and the journal is cleared.
func TestRestartedRelayReplacesItsStuckTransaction(t *testing.T) {
	ctx := context.Background()
	w, provider, b := oneSignedBatch(ctx, t, "0x7300000000000000000000000000000000000073")
	tip, err := w.client.SuggestGasTipCap(ctx)
	require.NoError(t, err)
	eth := newStuckEth(w.client, new(big.Int).Add(tip, big.NewInt(1)))
	path := filepath.Join(t.TempDir(), "txjournal.json")

	first := *w.relay
	first.Ethereum, first.Journal, first.BumpAfter, first.TxTimeout = eth, relayer.NewTxJournal(path), time.Hour, 300*time.Millisecond
	_, err = first.RelayBatches(ctx)
	require.ErrorIs(t, err, relayer.ErrTxTimeout)
	require.Len(t, eth.sentTxs(), 1)
	require.Zero(t, w.balance(provider).Sign())
	e, ok, err := relayer.NewTxJournal(path).Load()
	require.NoError(t, err)
	require.True(t, ok, "the unmined transaction is journaled")
	require.Equal(t, eth.sentTxs()[0].Nonce(), e.Nonce)
	require.Equal(t, "submitBatch 1", e.What)
	require.Equal(t, w.relay.Opts.From, e.Account)

	// The restart: a new relay, a new journal object on the same file.
	second := *w.relay
	second.Ethereum, second.Journal, second.BumpAfter = eth, relayer.NewTxJournal(path), 50*time.Millisecond
	sent, err := second.RelayBatches(ctx)
	require.NoError(t, err)
	require.Zero(t, sent, "the batch went out as the journaled transaction's replacement, not as a new one")
	txs := eth.sentTxs()
	require.Len(t, txs, 2, "the stuck transaction and its replacement")
	require.Equal(t, txs[0].Nonce(), txs[1].Nonce())
	require.Equal(t, txs[0].Data(), txs[1].Data())
	require.Positive(t, txs[1].GasTipCap().Cmp(txs[0].GasTipCap()))
	executed, _ := w.executedTx(b.Nonce)
	require.Equal(t, txs[1].Hash(), executed.Hash())
	require.Equal(t, b.Payouts[0].Amount.BigInt(), w.balance(provider), "paid once")
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "the journal is cleared once the nonce is used")

	// Nothing is left to do: a further round sends nothing.
	sent, err = second.RelayBatches(ctx)
	require.NoError(t, err)
	require.Zero(t, sent)
	require.Len(t, eth.sentTxs(), 2)
}

// TestRelayKeepsBumpingAcrossRounds: a wait that timed out does not lose the transaction's versions; the
// next round of the same relay (in-memory journal) goes on replacing it rather than waiting behind it.
func TestRelayKeepsBumpingAcrossRounds(t *testing.T) {
	ctx := context.Background()
	w, provider, b := oneSignedBatch(ctx, t, "0x7400000000000000000000000000000000000074")
	tip, err := w.client.SuggestGasTipCap(ctx)
	require.NoError(t, err)
	// Two raises of 1/8 are needed: the first replacement is still held.
	need := new(big.Int).Div(new(big.Int).Mul(tip, big.NewInt(80)), big.NewInt(64))
	eth := newStuckEth(w.client, need.Add(need, big.NewInt(1)))
	relay := *w.relay
	relay.Ethereum, relay.BumpAfter, relay.TxTimeout = eth, 200*time.Millisecond, 300*time.Millisecond

	_, err = relay.RelayBatches(ctx)
	require.ErrorIs(t, err, relayer.ErrTxTimeout)
	// The original and, unless the VM was slow, one replacement: both held (a second would come after the
	// timeout).
	require.Contains(t, []int{1, 2}, len(eth.sentTxs()))
	relay.TxTimeout = 5 * time.Second
	_, err = relay.RelayBatches(ctx)
	require.NoError(t, err)
	txs := eth.sentTxs()
	require.Len(t, txs, 3)
	executed, _ := w.executedTx(b.Nonce)
	require.Equal(t, txs[2].Hash(), executed.Hash(), "the third version, sent in the second round, executed")
	require.Equal(t, b.Payouts[0].Amount.BigInt(), w.balance(provider))
}

func TestTxJournal(t *testing.T) {
	dir := t.TempDir()
	key, err := crypto.GenerateKey()
	require.NoError(t, err)
	from := crypto.PubkeyToAddress(key.PublicKey)
	signer := ethtypes.LatestSignerForChainID(big.NewInt(1337))
	tx := func(nonce uint64, tip int64) *ethtypes.Transaction {
		to := common.HexToAddress("0x01")
		return ethtypes.MustSignNewTx(key, signer, &ethtypes.DynamicFeeTx{ChainID: big.NewInt(1337), Nonce: nonce,
			GasTipCap: big.NewInt(tip), GasFeeCap: big.NewInt(10 * tip), Gas: 21000, To: &to})
	}

	for _, path := range []string{"", filepath.Join(dir, "j.json")} {
		j := relayer.NewTxJournal(path)
		_, ok, err := j.Load()
		require.NoError(t, err)
		require.False(t, ok)
		at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		require.NoError(t, j.Record(from, tx(4, 1), "submitBatch 9", at))
		require.NoError(t, j.Record(from, tx(4, 2), "", at.Add(time.Minute)))
		e, ok, err := relayer.NewTxJournal(path).Load()
		if path == "" {
			e, ok, err = j.Load() // in memory: only this journal holds it
		}
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(4), e.Nonce)
		require.Equal(t, "submitBatch 9", e.What, "a replacement keeps the entry's description")
		require.Equal(t, at.Add(time.Minute), e.SentAt)
		txs, err := e.Transactions()
		require.NoError(t, err)
		require.Len(t, txs, 2)
		require.Equal(t, tx(4, 2).Hash(), txs[1].Hash())

		// A transaction with the next nonce starts a new entry.
		require.NoError(t, j.Record(from, tx(5, 1), "updateValset 2 → 3", at))
		e, _, err = j.Load()
		require.NoError(t, err)
		require.Equal(t, uint64(5), e.Nonce)
		require.Len(t, e.Txs, 1)
		require.NoError(t, j.Clear())
		_, ok, err = j.Load()
		require.NoError(t, err)
		require.False(t, ok)
		require.NoError(t, j.Clear(), "clearing twice is fine")
	}

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{not json"), 0o600))
	_, _, err = relayer.NewTxJournal(bad).Load()
	require.ErrorContains(t, err, bad)
	require.ErrorContains(t, err, "delete it once the relay account has nothing pending")
	require.NoError(t, os.WriteFile(bad, []byte(`{"account":"0x0000000000000000000000000000000000000001","nonce":1,"txs":[]}`), 0o600))
	_, _, err = relayer.NewTxJournal(bad).Load()
	require.ErrorContains(t, err, "no transactions")
}

// TestRelayRefusesAnotherAccountsJournal: a journal written by another relay account is not acted on.
func TestRelayRefusesAnotherAccountsJournal(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.settle(1, []common.Address{common.HexToAddress("0x7500000000000000000000000000000000000075")})
	w.signAll(ctx, 3)
	key, err := crypto.GenerateKey()
	require.NoError(t, err)
	other := crypto.PubkeyToAddress(key.PublicKey)
	to := common.HexToAddress("0x01")
	tx := ethtypes.MustSignNewTx(key, ethtypes.LatestSignerForChainID(big.NewInt(1337)), &ethtypes.DynamicFeeTx{
		ChainID: big.NewInt(1337), Nonce: 0, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1), Gas: 21000, To: &to})
	path := filepath.Join(t.TempDir(), "txjournal.json")
	require.NoError(t, relayer.NewTxJournal(path).Record(other, tx, "submitBatch 1", time.Now()))
	relay := *w.relay
	relay.Journal = relayer.NewTxJournal(path)
	relay.Retry = relayer.RetryPolicy{Initial: time.Millisecond, Max: time.Millisecond, MaxElapsed: 10 * time.Millisecond}
	_, err = relay.RelayBatches(ctx)
	require.ErrorContains(t, err, "not of the relay account")
	require.ErrorContains(t, err, other.Hex())
	_, err = w.client.TransactionReceipt(ctx, tx.Hash())
	require.ErrorIs(t, err, ethereum.NotFound, "nothing of the other account's was sent")
}
