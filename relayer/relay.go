package relayer

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
)

// Relay is the relay role: anyone with Ether for gas can run it.
type Relay struct {
	Chain    Chain
	Ethereum Ethereum
	Contract common.Address
	// Opts signs the Ethereum transactions (bind.NewKeyedTransactor or a keystore transactor); fees are
	// EIP-1559 from the node's suggestions when the chain has a base fee.
	Opts *bind.TransactOpts
	// TimeoutMargin is how close (seconds) to its timeout a batch may be and still be sent: it must be
	// mined before the timeout.
	TimeoutMargin uint64
	Log           *slog.Logger
}

func (r *Relay) logger() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// RelayValset moves the contract to the chain's latest valset when that is newer than the contract's and
// the contract's valset has signed it by more than 2/3; it reports whether it sent the update.
func (r *Relay) RelayValset(ctx context.Context) (bool, error) {
	latest, ok, err := r.Chain.LatestValset(ctx)
	if err != nil || !ok {
		return false, err
	}
	c := newContract(r.Ethereum, r.Contract)
	onContract, _, err := c.nonces(ctx, nil)
	if err != nil {
		return false, err
	}
	if latest.Nonce <= onContract {
		return false, nil
	}
	current, err := r.Chain.Valset(ctx, onContract)
	if err != nil {
		return false, fmt.Errorf("the contract's valset %d is not on the chain: %w", onContract, err)
	}
	confirms, err := r.Chain.ValsetConfirms(ctx, latest.Nonce)
	if err != nil {
		return false, err
	}
	sigs, enough, err := Signatures(current, confirms)
	if err != nil || !enough {
		return false, err
	}
	tx, err := bind.Transact(c.inst, r.opts(ctx), c.abi.PackUpdateValset(ContractValset(latest), ContractValset(current), sigs))
	if err != nil {
		return false, fmt.Errorf("send updateValset %d → %d: %w", onContract, latest.Nonce, err)
	}
	rec, err := waitMined(ctx, r.Ethereum, tx)
	if err != nil {
		return false, fmt.Errorf("updateValset %d → %d: %w", onContract, latest.Nonce, err)
	}
	r.logger().Info("valset relayed", "from", onContract, "to", latest.Nonce, "tx", tx.Hash().Hex(), "gas", rec.GasUsed)
	return true, nil
}

// RelayBatches submits, lowest nonce first, every batch above the contract's lastBatchNonce that is not
// CANCELLED on the chain, that the contract's valset has signed by more than 2/3 and that has not timed out,
// stopping at the first live batch that still lacks signatures (a timed-out one is skipped: the next batch
// overtakes it);
// it re-reads the contract's nonce before each one, so a batch another relayer submitted meanwhile is
// skipped. The contract, not the chain, says what has executed: a batch the chain holds as BRIDGED but the
// contract does not (its execution was lost in an Ethereum reorg deeper than the signers' confirmation
// depth) is submitted again. It returns how many it submitted.
func (r *Relay) RelayBatches(ctx context.Context) (int, error) {
	c := newContract(r.Ethereum, r.Contract)
	_, last, err := c.nonces(ctx, nil)
	if err != nil {
		return 0, err
	}
	batches, err := r.Chain.BatchesAbove(ctx, last)
	if err != nil || len(batches) == 0 {
		return 0, err
	}
	sent := 0
	for _, b := range batches {
		valsetNonce, last, err := c.nonces(ctx, nil)
		if err != nil {
			return sent, err
		}
		if b.Nonce <= last {
			continue // executed, or overtaken: the chain cancels it once the attestations arrive
		}
		head, err := r.Ethereum.HeaderByNumber(ctx, nil)
		if err != nil {
			return sent, err
		}
		if b.Timeout <= head.Time+r.TimeoutMargin {
			continue // too late to be mined in time; a later batch overtakes it
		}
		current, err := r.Chain.Valset(ctx, valsetNonce)
		if err != nil {
			return sent, fmt.Errorf("the contract's valset %d is not on the chain: %w", valsetNonce, err)
		}
		confirms, err := r.Chain.BatchConfirms(ctx, b.Nonce)
		if err != nil {
			return sent, err
		}
		sigs, enough, err := Signatures(current, confirms)
		if err != nil {
			return sent, err
		}
		if !enough {
			// Wait for the lowest live batch rather than send a higher one past it: that would cancel it on
			// the chain and put its records into yet another batch (more gas, later payouts).
			r.logger().Debug("batch waits for signatures", "nonce", b.Nonce, "confirms", len(confirms))
			break
		}
		tx, err := bind.Transact(c.inst, r.opts(ctx), c.abi.PackSubmitBatch(ContractValset(current), sigs, ContractBatch(b)))
		if err != nil {
			return sent, fmt.Errorf("send batch %d: %w", b.Nonce, err)
		}
		rec, err := waitMined(ctx, r.Ethereum, tx)
		if err != nil {
			return sent, fmt.Errorf("batch %d: %w", b.Nonce, err)
		}
		r.logger().Info("batch relayed", "nonce", b.Nonce, "payouts", len(b.Payouts), "tx", tx.Hash().Hex(), "gas", rec.GasUsed)
		sent++
	}
	return sent, nil
}

func (r *Relay) opts(ctx context.Context) *bind.TransactOpts {
	o := *r.Opts
	o.Context = ctx
	return &o
}
