package relayer

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/consensus-nro/nro/contracts"
	"github.com/consensus-nro/nro/internal/atomicfile"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

// Signer is a validator's signer role.
type Signer struct {
	Chain        Chain
	Orchestrator Orchestrator
	// Key is the validator's registered Ethereum signer key.
	Key      *ecdsa.PrivateKey
	Ethereum Ethereum
	Contract common.Address
	// StartBlock is where the scan of the contract begins when there is no cursor: its deployment block.
	StartBlock uint64
	// Confirmations is how deep a block must be before its events are attested; a reorg shallower than
	// this never reaches the chain.
	Confirmations uint64
	// MaxRange bounds the blocks of one log query.
	MaxRange uint64
	// CursorFile keeps the scan position across restarts; empty keeps it in memory only.
	CursorFile string
	// Retry bounds the retries of transient errors inside a round (zero: DefaultRetry).
	Retry RetryPolicy
	Log   *slog.Logger

	cursor *Cursor
}

// Round is one round of the signer role: SignPending, then Observe, each retried on transient errors
// (Transient) under Retry. Both are safe to repeat: SignPending skips what this signer has confirmed, and
// Observe rescans from its cursor, which moves only past what was attested (a repeated attestation is
// ErrAlreadyDone, taken as done). It returns the confirmations and attestations sent.
func (s *Signer) Round(ctx context.Context) (confirms, attests int, err error) {
	err = s.Retry.Do(ctx, s.logger(), "sign the pending valset and batches", func() error {
		n, err := s.SignPending(ctx)
		confirms += n
		return err
	})
	if err != nil {
		return confirms, attests, err
	}
	err = s.Retry.Do(ctx, s.logger(), "observe the contract", func() error {
		n, err := s.Observe(ctx)
		attests += n
		return err
	})
	return confirms, attests, err
}

// Cursor is where the signer's scan of the contract stands: the next block to scan, and the nonce of the
// last BatchExecuted event seen before it (the contract's lastBatchNonce at block Next-1).
type Cursor struct {
	Next      uint64 `json:"next_block"`
	LastNonce uint64 `json:"last_batch_nonce"`
}

func (s *Signer) address() common.Address { return crypto.PubkeyToAddress(s.Key.PublicKey) }

func (s *Signer) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func confirmedBy(confirms []audittypes.BridgeConfirm, addr common.Address) bool {
	for _, c := range confirms {
		if common.HexToAddress(c.EthAddress) == addr {
			return true
		}
	}
	return false
}

// SignPending signs the latest bridge valset and every pending batch this signer has not confirmed yet,
// and returns how many confirmations it sent. Intermediate valsets need no signature: the contract moves
// from its valset to any later one the current valset signs.
func (s *Signer) SignPending(ctx context.Context) (int, error) {
	p, err := s.Chain.AuditParams(ctx)
	if err != nil {
		return 0, err
	}
	if !p.BridgeReady() {
		return 0, nil
	}
	me := s.address()
	sent := 0
	if vs, ok, err := s.Chain.LatestValset(ctx); err != nil {
		return sent, err
	} else if ok {
		confirms, err := s.Chain.ValsetConfirms(ctx, vs.Nonce)
		if err != nil {
			return sent, err
		}
		if !confirmedBy(confirms, me) {
			digest, err := audittypes.ValsetDigest(p, vs)
			if err != nil {
				return sent, err
			}
			if err := s.confirm(ctx, digest, func(sig []byte) error { return s.Orchestrator.ConfirmValset(ctx, vs.Nonce, sig) }); err != nil {
				return sent, fmt.Errorf("confirm valset %d: %w", vs.Nonce, err)
			}
			s.logger().Info("valset signed", "nonce", vs.Nonce)
			sent++
		}
	}
	batches, err := s.Chain.PendingBatches(ctx)
	if err != nil {
		return sent, err
	}
	for _, b := range batches {
		confirms, err := s.Chain.BatchConfirms(ctx, b.Nonce)
		if err != nil {
			return sent, err
		}
		if confirmedBy(confirms, me) {
			continue
		}
		digest, err := audittypes.BatchDigest(p, b)
		if err != nil {
			return sent, err
		}
		if err := s.confirm(ctx, digest, func(sig []byte) error { return s.Orchestrator.ConfirmBatch(ctx, b.Nonce, sig) }); err != nil {
			return sent, fmt.Errorf("confirm batch %d: %w", b.Nonce, err)
		}
		s.logger().Info("batch signed", "nonce", b.Nonce, "payouts", len(b.Payouts), "total", b.Total.String())
		sent++
	}
	return sent, nil
}

func (s *Signer) confirm(_ context.Context, digest common.Hash, send func([]byte) error) error {
	v, r, sv, err := contracts.Sign(s.Key, digest)
	if err != nil {
		return err
	}
	if err := send(contracts.SignatureBytes(v, r, sv)); err != nil && !errors.Is(err, ErrAlreadyDone) {
		return err
	}
	return nil
}

// Observe scans the contract's confirmed blocks since the cursor for BatchExecuted events, in windows of
// at most MaxRange blocks, and attests each to the chain with the nonce executed before it. After the scan
// it checks that the contract's lastBatchNonce at the confirmed head is the last nonce it saw; if not (the
// cursor was lost or a reorg went deeper than Confirmations), it rewinds to StartBlock and rescans —
// attestations are idempotent. It returns the number of attestations sent.
func (s *Signer) Observe(ctx context.Context) (int, error) {
	if s.cursor == nil {
		c, err := s.loadCursor()
		if err != nil {
			return 0, err
		}
		s.cursor = &c
	}
	head, err := s.Ethereum.BlockNumber(ctx)
	if err != nil {
		return 0, fmt.Errorf("ethereum head: %w", err)
	}
	if head < s.Confirmations || head-s.Confirmations < s.StartBlock {
		// Nothing confirmed since the deployment yet: the contract has no code at the confirmed head.
		return 0, nil
	}
	confirmed := head - s.Confirmations
	c := newContract(s.Ethereum, s.Contract)
	window := max(s.MaxRange, 1)
	sent := 0
	for s.cursor.Next <= confirmed {
		to := min(s.cursor.Next+window-1, confirmed)
		events, err := c.batchExecutedLogs(ctx, s.Ethereum, s.cursor.Next, to)
		if err != nil {
			return sent, err
		}
		for _, ev := range events {
			nonce := ev.BatchNonce.Uint64()
			if nonce <= s.cursor.LastNonce {
				return sent, s.rewind(fmt.Sprintf("BatchExecuted %d at block %d is not above the last nonce %d", nonce, ev.Raw.BlockNumber, s.cursor.LastNonce))
			}
			claim := audittypes.BatchExecutedClaim{
				BatchNonce: nonce, PrevBatchNonce: s.cursor.LastNonce, EthBlock: ev.Raw.BlockNumber, TxHash: ev.Raw.TxHash.Hex(),
			}
			if err := s.Orchestrator.AttestBatchExecuted(ctx, claim); err != nil && !errors.Is(err, ErrAlreadyDone) {
				return sent, fmt.Errorf("attest batch %d: %w", nonce, err)
			}
			s.logger().Info("batch execution attested", "nonce", nonce, "prev", claim.PrevBatchNonce, "eth_block", claim.EthBlock, "tx", claim.TxHash)
			sent++
			s.cursor.LastNonce = nonce
		}
		s.cursor.Next = to + 1
		if err := s.saveCursor(); err != nil {
			return sent, err
		}
	}
	_, last, err := c.nonces(ctx, new(big.Int).SetUint64(confirmed))
	if err != nil {
		return sent, err
	}
	if last != s.cursor.LastNonce {
		return sent, s.rewind(fmt.Sprintf("the contract's lastBatchNonce at block %d is %d, the scan saw %d", confirmed, last, s.cursor.LastNonce))
	}
	return sent, nil
}

func (s *Signer) rewind(why string) error {
	s.logger().Warn("rescanning the contract from its start block", "reason", why, "start_block", s.StartBlock)
	s.cursor = &Cursor{Next: s.StartBlock}
	return s.saveCursor()
}

func (s *Signer) loadCursor() (Cursor, error) {
	start := Cursor{Next: s.StartBlock}
	if s.CursorFile == "" {
		return start, nil
	}
	bz, err := os.ReadFile(s.CursorFile)
	if errors.Is(err, os.ErrNotExist) {
		return start, nil
	}
	if err != nil {
		return start, err
	}
	var c Cursor
	if err := json.Unmarshal(bz, &c); err != nil {
		return start, fmt.Errorf("cursor file %s: %w; delete it to rescan from block %d", s.CursorFile, err, s.StartBlock)
	}
	return c, nil
}

// saveCursor writes the cursor atomically (temporary file, then rename), so a crash leaves the old or the
// new one, never half of either.
func (s *Signer) saveCursor() error {
	if s.CursorFile == "" {
		return nil
	}
	bz, err := json.Marshal(s.cursor)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.CursorFile, bz, 0o600)
}
