package relayer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"

	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// Relay is the relay role: anyone with Ether for gas can run it.
type Relay struct {
	Chain    Chain
	Ethereum Ethereum
	Contract common.Address
	// Opts signs the Ethereum transactions (bind.NewKeyedTransactor or a keystore transactor). Its fee
	// fields are ignored: every transaction is EIP-1559 with the caps below.
	Opts *bind.TransactOpts
	// MaxFeePerGas and MaxPriorityFeePerGas bound every transaction's fee cap and tip (wei; nil:
	// DefaultMaxFeePerGas, DefaultMaxPriorityFeePerGas). While the base fee is above MaxFeePerGas the relay
	// sends nothing and says so.
	MaxFeePerGas, MaxPriorityFeePerGas *big.Int
	// Confirmations is how deep the relay's own transaction must be before it counts as done (its block
	// counts as one; 0 is 1).
	Confirmations uint64
	// TxTimeout bounds each wait for a transaction (DefaultTxTimeout); PollInterval is how often the
	// relay looks (DefaultPollInterval).
	TxTimeout, PollInterval time.Duration
	// BumpAfter is how long a transaction may stay unmined before the relay replaces it with the same
	// nonce and call and fees raised by 1/8, within the caps (DefaultBumpAfter).
	BumpAfter time.Duration
	// Retry bounds the retries of transient RPC errors inside a round (zero: DefaultRetry).
	Retry RetryPolicy
	// TimeoutMargin is how close (seconds) to its timeout a batch may be and still be sent: it must be
	// mined before the timeout.
	TimeoutMargin uint64
	// Journal keeps the outstanding transaction's versions (nil: one in memory, lost on restart; nro-relayer
	// keeps it in ethereum.tx_journal_file).
	Journal *TxJournal
	Log     *slog.Logger
}

func (r *Relay) journal() *TxJournal {
	if r.Journal == nil {
		r.Journal = NewTxJournal("")
	}
	return r.Journal
}

// done ends the wait for a transaction whose nonce is used (it was mined and confirmed, or it reverted):
// the journal forgets it. A journal that cannot be cleared is only logged: its entry is dropped at the
// next round, since its nonce is below the account's.
func (r *Relay) done() {
	if err := r.journal().Clear(); err != nil {
		r.logger().Warn("could not clear the transaction journal", "err", err)
	}
}

func (r *Relay) logger() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// RelayValset moves the contract to the chain's latest valset when that is newer than the contract's and
// the contract's valset has signed it by more than 2/3; it reports whether it sent the update (and saw it
// Confirmations deep).
func (r *Relay) RelayValset(ctx context.Context) (bool, error) {
	c := newContract(r.Ethereum, r.Contract)
	var (
		tx       *ethtypes.Transaction
		from, to uint64
	)
	err := r.Retry.Do(ctx, r.logger(), "relay the valset", func() (err error) {
		tx, from, to, err = r.sendValset(ctx, c)
		return err
	})
	if done, err := r.settled(err, "valset"); done || err != nil {
		return false, err
	}
	if tx == nil {
		return false, nil
	}
	tx, rec, err := r.waitConfirmed(ctx, []*ethtypes.Transaction{tx}, time.Now())
	if err != nil {
		return false, fmt.Errorf("updateValset %d → %d: %w", from, to, err)
	}
	r.logger().Info("valset relayed", "from", from, "to", to, "tx", tx.Hash().Hex(), "block", rec.BlockNumber, "gas", rec.GasUsed,
		"fee_cap", tx.GasFeeCap(), "tip", tx.GasTipCap())
	return true, nil
}

// sendValset is one attempt of RelayValset up to the transaction's submission; tx is nil when there is
// nothing to send.
func (r *Relay) sendValset(ctx context.Context, c contract) (tx *ethtypes.Transaction, from, to uint64, err error) {
	latest, ok, err := r.Chain.LatestValset(ctx)
	if err != nil || !ok {
		return nil, 0, 0, err
	}
	if err := r.waitOwnPending(ctx); err != nil {
		return nil, 0, 0, err
	}
	onContract, _, err := c.nonces(ctx, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	if latest.Nonce <= onContract {
		return nil, 0, 0, nil
	}
	current, err := r.Chain.Valset(ctx, onContract)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("the contract's valset %d is not on the chain: %w", onContract, err)
	}
	confirms, err := r.Chain.ValsetConfirms(ctx, latest.Nonce)
	if err != nil {
		return nil, 0, 0, err
	}
	sigs, enough, err := Signatures(current, confirms)
	if err != nil || !enough {
		return nil, 0, 0, err
	}
	tx, err = r.transact(ctx, c, c.abi.PackUpdateValset(ContractValset(latest), ContractValset(current), sigs),
		fmt.Sprintf("updateValset %d → %d", onContract, latest.Nonce))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("send updateValset %d → %d: %w", onContract, latest.Nonce, err)
	}
	return tx, onContract, latest.Nonce, nil
}

// RelayBatches submits, lowest nonce first, every batch above the contract's lastBatchNonce that is not
// CANCELLED on the chain, that the contract's valset has signed by more than 2/3 and that has not timed out,
// stopping at the first live batch that still lacks signatures (a timed-out one is skipped: the next batch
// overtakes it);
// it re-reads the contract's nonce before each one, so a batch another relayer submitted meanwhile is
// skipped. The contract, not the chain, says what has executed: a batch the chain holds as BRIDGED but the
// contract does not (its execution was lost in an Ethereum reorg deeper than the signers' confirmation
// depth) is submitted again. It returns how many it submitted and saw Confirmations deep.
func (r *Relay) RelayBatches(ctx context.Context) (int, error) {
	c := newContract(r.Ethereum, r.Contract)
	var batches []leasetypes.SettlementBatch
	err := r.Retry.Do(ctx, r.logger(), "read the batches above the contract's", func() error {
		_, last, err := c.nonces(ctx, nil)
		if err != nil {
			return err
		}
		batches, err = r.Chain.BatchesAbove(ctx, last)
		return err
	})
	if err != nil || len(batches) == 0 {
		return 0, err
	}
	sent := 0
	for _, b := range batches {
		var (
			tx   *ethtypes.Transaction
			wait bool
		)
		sendErr := r.Retry.Do(ctx, r.logger(), fmt.Sprintf("submit batch %d", b.Nonce), func() (err error) {
			tx, wait, err = r.sendBatch(ctx, c, b)
			return err
		})
		done, err := r.settled(sendErr, fmt.Sprintf("batch %d", b.Nonce))
		if err != nil {
			return sent, err
		}
		if done && errors.Is(sendErr, ErrBaseFeeAboveCap) {
			return sent, nil // nothing goes out until the base fee falls below the cap
		}
		if done {
			continue // a stale nonce: the next batch re-reads the contract
		}
		if wait {
			break
		}
		if tx == nil {
			continue
		}
		tx, rec, err := r.waitConfirmed(ctx, []*ethtypes.Transaction{tx}, time.Now())
		if err != nil {
			return sent, fmt.Errorf("batch %d: %w", b.Nonce, err)
		}
		r.logger().Info("batch relayed", "nonce", b.Nonce, "payouts", len(b.Payouts), "tx", tx.Hash().Hex(), "block", rec.BlockNumber,
			"gas", rec.GasUsed, "fee_cap", tx.GasFeeCap(), "tip", tx.GasTipCap())
		sent++
	}
	return sent, nil
}

// settled sorts out a submission's error: a base fee above the cap (the relay waits and says so) and a
// stale nonce (someone got there first) are done and no error; any other error is returned.
func (r *Relay) settled(err error, what string) (bool, error) {
	var fc *FeeCapError
	var rev *RevertError
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &fc):
		r.logger().Warn("waiting: Ethereum's base fee is above max_fee_per_gas; nothing sent", "what", what,
			"base_fee_wei", fc.BaseFee, "max_fee_per_gas_wei", fc.MaxFeePerGas)
		return true, nil
	case errors.As(err, &rev) && rev.Stale():
		r.logger().Info("already on the contract; not sent", "what", what, "revert", rev.Name)
		return true, nil
	default:
		return false, err
	}
}

// sendBatch is one attempt at batch b up to its submission: tx is nil when there is nothing to send, and
// wait is true when b is live but lacks signatures (the relay sends nothing past it).
func (r *Relay) sendBatch(ctx context.Context, c contract, b leasetypes.SettlementBatch) (tx *ethtypes.Transaction, wait bool, err error) {
	if err := r.waitOwnPending(ctx); err != nil {
		return nil, false, err
	}
	valsetNonce, last, err := c.nonces(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	if b.Nonce <= last {
		return nil, false, nil // executed, or overtaken: the chain cancels it once the attestations arrive
	}
	head, err := r.Ethereum.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	if b.Timeout <= head.Time+r.TimeoutMargin {
		return nil, false, nil // too late to be mined in time; a later batch overtakes it
	}
	current, err := r.Chain.Valset(ctx, valsetNonce)
	if err != nil {
		return nil, false, fmt.Errorf("the contract's valset %d is not on the chain: %w", valsetNonce, err)
	}
	confirms, err := r.Chain.BatchConfirms(ctx, b.Nonce)
	if err != nil {
		return nil, false, err
	}
	sigs, enough, err := Signatures(current, confirms)
	if err != nil {
		return nil, false, err
	}
	if !enough {
		// Wait for the lowest live batch rather than send a higher one past it: that would cancel it on
		// the chain and put its records into yet another batch (more gas, later payouts).
		r.logger().Debug("batch waits for signatures", "nonce", b.Nonce, "confirms", len(confirms))
		return nil, true, nil
	}
	tx, err = r.transact(ctx, c, c.abi.PackSubmitBatch(ContractValset(current), sigs, ContractBatch(b)), fmt.Sprintf("submitBatch %d", b.Nonce))
	if err != nil {
		return nil, false, fmt.Errorf("send batch %d: %w", b.Nonce, err)
	}
	return tx, false, nil
}

// transact sends data to the contract as an EIP-1559 transaction with the relay's fee caps, recording it in
// the journal (as what) before it is sent; a revert at gas estimation comes back as a *RevertError.
func (r *Relay) transact(ctx context.Context, c contract, data []byte, what string) (*ethtypes.Transaction, error) {
	tip, feeCap, err := r.fees(ctx)
	if err != nil {
		return nil, err
	}
	o := *r.Opts
	o.Context, o.GasPrice, o.GasTipCap, o.GasFeeCap, o.NoSend = ctx, nil, tip, feeCap, true
	tx, err := bind.Transact(c.inst, &o, data)
	if err != nil {
		if rev, ok := asRevert(c.abi, err); ok {
			return nil, rev
		}
		return nil, err
	}
	if err := r.journal().Record(r.Opts.From, tx, what, time.Now()); err != nil {
		return nil, fmt.Errorf("not sent: %w", err)
	}
	if err := r.Ethereum.SendTransaction(ctx, tx); err != nil {
		return nil, err
	}
	return tx, nil
}
