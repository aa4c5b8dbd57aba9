package relayer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	ethtypes "github.com/ethereum/go-ethereum/core/types"

	"github.com/consensus-nro/nro/internal/atomicfile"
)

// TxJournal keeps the relay's one outstanding Ethereum transaction — every version of it sent, with the
// same nonce — so that a relay restarted while it is still in the node's pool goes on waiting for it and
// raising its fees instead of waiting blind behind it (a transaction priced below the base fee stays
// pending until replaced, and nobody but its signer can replace it). Every version is written before it
// is sent. With a Path the journal is a file (written atomically); without one it lives in memory, which
// still carries a timed-out wait over into the next round.
//
// The journal never decides what is paid: a journaled transaction is only waited for (and replaced with
// the same call) while the node still holds one of its versions; otherwise it is dropped and the relay
// re-reads the contract, whose nonces are the truth, before it sends anything.
type TxJournal struct {
	// Path is the journal file; empty keeps the journal in memory.
	Path string

	mu  sync.Mutex
	mem *JournalEntry
}

// JournalEntry is the outstanding transaction: its account and nonce, what it does, every version sent
// (oldest first, each an EIP-2718 encoding) and when the last one was sent.
type JournalEntry struct {
	Account common.Address  `json:"account"`
	Nonce   uint64          `json:"nonce"`
	What    string          `json:"what"`
	SentAt  time.Time       `json:"sent_at"`
	Txs     []hexutil.Bytes `json:"txs"`
}

// Transactions decodes the versions.
func (e *JournalEntry) Transactions() ([]*ethtypes.Transaction, error) {
	txs := make([]*ethtypes.Transaction, 0, len(e.Txs))
	for i, raw := range e.Txs {
		tx := new(ethtypes.Transaction)
		if err := tx.UnmarshalBinary(raw); err != nil {
			return nil, fmt.Errorf("version %d: %w", i, err)
		}
		if tx.Nonce() != e.Nonce {
			return nil, fmt.Errorf("version %d has nonce %d, the entry %d", i, tx.Nonce(), e.Nonce)
		}
		txs = append(txs, tx)
	}
	if len(txs) == 0 {
		return nil, errors.New("no transactions")
	}
	return txs, nil
}

// NewTxJournal is a journal kept in the file at path (empty: in memory).
func NewTxJournal(path string) *TxJournal { return &TxJournal{Path: path} }

// Load returns the outstanding entry; ok is false when there is none. A file that cannot be read says
// which file and what to do about it.
func (j *TxJournal) Load() (e *JournalEntry, ok bool, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Path == "" {
		return j.mem, j.mem != nil, nil
	}
	bz, err := os.ReadFile(j.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("transaction journal %s: %w", j.Path, err)
	}
	if strings.TrimSpace(string(bz)) == "" {
		return nil, false, nil
	}
	e = new(JournalEntry)
	if err := json.Unmarshal(bz, e); err != nil {
		return nil, false, fmt.Errorf("transaction journal %s is not valid JSON (%w): delete it once the relay account has nothing pending", j.Path, err)
	}
	if _, err := e.Transactions(); err != nil {
		return nil, false, fmt.Errorf("transaction journal %s: %w; delete it once the relay account has nothing pending", j.Path, err)
	}
	return e, true, nil
}

// Record adds tx as the newest version of the outstanding transaction, or starts a new entry when tx has
// another nonce or account than the outstanding one (what describes it for the logs). It returns once the
// entry is durable: the caller sends tx only after that.
func (j *TxJournal) Record(from common.Address, tx *ethtypes.Transaction, what string, at time.Time) error {
	raw, err := tx.MarshalBinary()
	if err != nil {
		return err
	}
	e, ok, err := j.Load()
	if err != nil {
		return err
	}
	if !ok || e.Account != from || e.Nonce != tx.Nonce() {
		e = &JournalEntry{Account: from, Nonce: tx.Nonce(), What: what}
	}
	e.Txs, e.SentAt = append(e.Txs, raw), at.UTC()
	return j.save(e)
}

// Clear drops the outstanding entry: its nonce is used, or it is no longer in the node's pool.
func (j *TxJournal) Clear() error { return j.save(nil) }

func (j *TxJournal) save(e *JournalEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Path == "" {
		j.mem = e
		return nil
	}
	if e == nil {
		if err := os.Remove(j.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("transaction journal %s: %w", j.Path, err)
		}
		return nil
	}
	bz, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(j.Path, append(bz, '\n'), 0o600); err != nil {
		return fmt.Errorf("transaction journal %s: %w", j.Path, err)
	}
	return nil
}
