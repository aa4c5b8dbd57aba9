package relayer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"slices"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/consensus-nro/nro/contracts/bindings"
)

// The relay's defaults when a Relay leaves a field zero (nro-relayer's config sets them all).
var (
	DefaultMaxFeePerGas         = new(big.Int).Mul(big.NewInt(200), big.NewInt(params.GWei))
	DefaultMaxPriorityFeePerGas = new(big.Int).Mul(big.NewInt(2), big.NewInt(params.GWei))
)

const (
	DefaultTxTimeout    = 5 * time.Minute
	DefaultPollInterval = time.Second
	// DefaultBumpAfter is how long the relay's transaction may stay unmined before it is replaced with
	// higher fees.
	DefaultBumpAfter = 90 * time.Second
)

// ErrAtFeeCaps says a stuck transaction cannot be replaced: raising its tip and fee cap by the 10 % a node's
// pool requires of a replacement would pass MaxPriorityFeePerGas or MaxFeePerGas. The relay keeps waiting.
var ErrAtFeeCaps = errors.New("the transaction's fees cannot be raised by 10 % within max_fee_per_gas and max_priority_fee_per_gas")

// DefaultRetry is the retry policy of a Relay that names none.
var DefaultRetry = RetryPolicy{Initial: 500 * time.Millisecond, Max: 10 * time.Second, MaxElapsed: time.Minute}

// ErrBaseFeeAboveCap is returned (wrapped in a *FeeCapError) when Ethereum's base fee is above the relay's
// max fee per gas: a transaction sent now could not be included, so the relay sends nothing and waits.
var ErrBaseFeeAboveCap = errors.New("base fee above max_fee_per_gas")

// FeeCapError says by how much the base fee is above the cap.
type FeeCapError struct{ BaseFee, MaxFeePerGas *big.Int }

func (e *FeeCapError) Error() string {
	return fmt.Sprintf("Ethereum's base fee %s wei is above max_fee_per_gas %s wei", e.BaseFee, e.MaxFeePerGas)
}

func (e *FeeCapError) Unwrap() error { return ErrBaseFeeAboveCap }

// ErrTxTimeout is returned when the relay's own transaction is not confirmed within its TxTimeout.
var ErrTxTimeout = errors.New("transaction not confirmed in time")

// RevertError is a transaction the settlement contract refuses, either at gas estimation (the node runs it
// against the latest state) or in its block. Retrying it cannot help: it is a permanent error.
type RevertError struct {
	// Name is the contract's custom error ("StaleBatchNonce"); empty when the revert data is not one.
	Name string
	// Args are the error's arguments as the ABI decodes them.
	Args any
	// Tx and Block are set for a transaction that reverted in a block.
	Tx    common.Hash
	Block uint64
	Err   error
}

func (e *RevertError) Error() string {
	switch {
	case e.Tx != (common.Hash{}):
		return fmt.Sprintf("transaction %s reverted in block %d", e.Tx.Hex(), e.Block)
	case e.Name != "":
		return fmt.Sprintf("the contract reverts with %s%v", e.Name, e.Args)
	default:
		return fmt.Sprintf("the contract reverts: %v", e.Err)
	}
}

func (e *RevertError) Unwrap() error { return e.Err }

// Stale reports whether the revert says the contract is already past what was sent (StaleBatchNonce,
// StaleValsetNonce): another relayer, or this one before a restart, got there first.
func (e *RevertError) Stale() bool {
	return e.Name == "StaleBatchNonce" || e.Name == "StaleValsetNonce"
}

// asRevert returns err as a *RevertError when the node says the contract reverted (JSON-RPC error code 3,
// with the revert data), decoding the contract's custom error from its ABI.
func asRevert(settle *bindings.NROSettlement, err error) (*RevertError, bool) {
	var rev *RevertError
	if errors.As(err, &rev) {
		return rev, true
	}
	var re rpc.Error
	if !errors.As(err, &re) || re.ErrorCode() != 3 {
		return nil, false
	}
	out := &RevertError{Err: err}
	var de rpc.DataError
	if errors.As(err, &de) {
		if s, ok := de.ErrorData().(string); ok {
			if raw, derr := hexutil.Decode(s); derr == nil && len(raw) >= 4 {
				abi := settle.GetABI()
				if e, ierr := abi.ErrorByID([4]byte(raw[:4])); ierr == nil {
					out.Name = e.Name
					if args, uerr := e.Unpack(raw); uerr == nil {
						out.Args = args
					}
				}
			}
		}
	}
	return out, true
}

// Transient reports whether err is worth retrying inside a round: the Ethereum node or nrod could not be
// reached, timed out, or said it is unavailable or overloaded. Everything else — a revert, a refusal, a
// cancelled context, a fee above the cap, a bad answer — is permanent: the same call would fail again.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrBaseFeeAboveCap) || errors.Is(err, ErrTxTimeout) || errors.Is(err, ErrAlreadyDone) {
		return false
	}
	var rev *RevertError
	if errors.As(err, &rev) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var he rpc.HTTPError
	if errors.As(err, &he) {
		return he.StatusCode >= 500 || he.StatusCode == 429
	}
	if s, ok := status.FromError(err); ok && s.Code() != codes.OK {
		switch s.Code() {
		case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.DeadlineExceeded:
			return true
		}
	}
	return false
}

// RetryPolicy bounds the retries of transient errors inside a round: exponential backoff from Initial,
// doubling up to Max between tries, jittered by ±50 %, for at most MaxElapsed in all, and never past the
// round's context. Zero fields take DefaultRetry's.
type RetryPolicy struct {
	Initial, Max, MaxElapsed time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Initial <= 0 {
		p.Initial = DefaultRetry.Initial
	}
	if p.Max <= 0 {
		p.Max = DefaultRetry.Max
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = DefaultRetry.MaxElapsed
	}
	return p
}

// Do runs op until it succeeds, fails with an error that is not Transient, the policy's time is up or ctx
// ends; it returns op's last error (or the context's).
func (p RetryPolicy) Do(ctx context.Context, log *slog.Logger, what string, op func() error) error {
	p = p.withDefaults()
	b := &backoff.ExponentialBackOff{InitialInterval: p.Initial, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: p.Max}
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := op()
		if err != nil && !Transient(err) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(p.MaxElapsed), backoff.WithNotify(func(err error, next time.Duration) {
		if log != nil {
			log.Warn("transient error; retrying", "op", what, "in", next.Round(time.Millisecond), "err", err)
		}
	}))
	return err
}

// fees are the EIP-1559 caps of the relay's next transaction: the tip is the node's suggestion bounded by
// MaxPriorityFeePerGas; the fee cap is twice the base fee plus the tip, bounded by MaxFeePerGas. When the
// base fee itself is above MaxFeePerGas it returns a *FeeCapError: the relay waits rather than send a
// transaction that cannot be included or one with no bound.
func (r *Relay) fees(ctx context.Context) (tip, feeCap *big.Int, err error) {
	head, err := r.Ethereum.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	if head.BaseFee == nil {
		return nil, nil, errors.New("the Ethereum chain has no base fee (before London): the relay sends EIP-1559 transactions only")
	}
	maxFee, maxTip := r.caps()
	if head.BaseFee.Cmp(maxFee) > 0 {
		return nil, nil, &FeeCapError{BaseFee: new(big.Int).Set(head.BaseFee), MaxFeePerGas: new(big.Int).Set(maxFee)}
	}
	tip, err = r.Ethereum.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, nil, err
	}
	if tip.Cmp(maxTip) > 0 {
		tip = new(big.Int).Set(maxTip)
	}
	feeCap = new(big.Int).Add(new(big.Int).Lsh(head.BaseFee, 1), tip)
	if feeCap.Cmp(maxFee) > 0 {
		feeCap = new(big.Int).Set(maxFee)
	}
	if tip.Cmp(feeCap) > 0 {
		tip = new(big.Int).Set(feeCap)
	}
	return tip, feeCap, nil
}

func (r *Relay) caps() (maxFee, maxTip *big.Int) {
	maxFee, maxTip = r.MaxFeePerGas, r.MaxPriorityFeePerGas
	if maxFee == nil || maxFee.Sign() <= 0 {
		maxFee = DefaultMaxFeePerGas
	}
	if maxTip == nil || maxTip.Sign() <= 0 {
		maxTip = DefaultMaxPriorityFeePerGas
	}
	return maxFee, maxTip
}

func (r *Relay) txTimeout() time.Duration {
	if r.TxTimeout <= 0 {
		return DefaultTxTimeout
	}
	return r.TxTimeout
}

func (r *Relay) pollInterval() time.Duration {
	if r.PollInterval <= 0 {
		return DefaultPollInterval
	}
	return r.PollInterval
}

// poll calls check now and then every PollInterval until it reports done or fails, or TxTimeout passes
// (ErrTxTimeout) or ctx ends. Transient errors of check are polled through.
func (r *Relay) poll(ctx context.Context, what string, check func(ctx context.Context) (bool, error)) error {
	wait, cancel := context.WithTimeout(ctx, r.txTimeout())
	defer cancel()
	tick := time.NewTicker(r.pollInterval())
	defer tick.Stop()
	for {
		ok, err := check(wait)
		switch {
		case err == nil && ok:
			return nil
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil && wait.Err() == nil && !Transient(err):
			return err
		case err != nil:
			r.logger().Debug("transient error while waiting; polling on", "for", what, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wait.Done():
			return fmt.Errorf("%s: %w after %s", what, ErrTxTimeout, r.txTimeout())
		case <-tick.C:
		}
	}
}

func (r *Relay) bumpAfter() time.Duration {
	if r.BumpAfter <= 0 {
		return DefaultBumpAfter
	}
	return r.BumpAfter
}

// waitConfirmed waits until the relay's transaction — one of the versions sent, oldest first, all with the
// same nonce — is Confirmations deep (its own block counts as one) and succeeded, and returns the one that
// was mined with its receipt; a transaction that reverted is a *RevertError. Either way its nonce is used
// and the journal forgets it. A receipt that disappears (a reorg) is waited for again. When no version has
// been mined for BumpAfter since lastSent, the newest is replaced (replace): same nonce and call, fees
// raised by 1/8. Every version is looked for, since any of them may be the one mined. A replacement that
// cannot be sent (at the fee caps, or the node refuses it) leaves the wait as it was.
func (r *Relay) waitConfirmed(ctx context.Context, sent []*ethtypes.Transaction, lastSent time.Time) (*ethtypes.Transaction, *ethtypes.Receipt, error) {
	depth := r.Confirmations
	if depth == 0 {
		depth = 1
	}
	sent = slices.Clone(sent)
	tx := sent[0]
	atCaps := false
	var (
		mined *ethtypes.Transaction
		rec   *ethtypes.Receipt
	)
	err := r.poll(ctx, fmt.Sprintf("transaction %s (nonce %d), %d confirmations", tx.Hash().Hex(), tx.Nonce(), depth), func(ctx context.Context) (bool, error) {
		var got *ethtypes.Receipt
		for i := len(sent) - 1; i >= 0 && got == nil; i-- {
			rc, err := r.Ethereum.TransactionReceipt(ctx, sent[i].Hash())
			switch {
			case errors.Is(err, ethereum.NotFound):
				// not mined yet, or reorganised out: it may be mined again
			case err != nil:
				return false, err
			default:
				got, mined = rc, sent[i]
			}
		}
		if got == nil {
			if atCaps || time.Since(lastSent) < r.bumpAfter() {
				return false, nil
			}
			repl, err := r.replace(ctx, sent[len(sent)-1])
			lastSent = time.Now()
			switch {
			case errors.Is(err, ErrAtFeeCaps):
				atCaps = true
				r.logger().Warn("transaction not mined and already at the fee caps; waiting", "tx", tx.Hash().Hex(), "nonce", tx.Nonce(),
					"fee_cap", sent[len(sent)-1].GasFeeCap(), "tip", sent[len(sent)-1].GasTipCap())
			case err != nil:
				r.logger().Warn("could not replace the unmined transaction; waiting", "tx", tx.Hash().Hex(), "nonce", tx.Nonce(), "err", err)
			default:
				sent = append(sent, repl)
				r.logger().Warn("transaction not mined; replaced it with higher fees", "nonce", tx.Nonce(), "replaces", sent[len(sent)-2].Hash().Hex(),
					"tx", repl.Hash().Hex(), "fee_cap", repl.GasFeeCap(), "tip", repl.GasTipCap(), "versions", len(sent))
			}
			return false, nil
		}
		if got.Status != ethtypes.ReceiptStatusSuccessful {
			return false, &RevertError{Tx: mined.Hash(), Block: got.BlockNumber.Uint64()}
		}
		head, err := r.Ethereum.BlockNumber(ctx)
		if err != nil {
			return false, err
		}
		rec = got
		return head+1 >= got.BlockNumber.Uint64()+depth, nil
	})
	var rev *RevertError
	if err == nil || errors.As(err, &rev) {
		r.done()
	}
	if err != nil {
		return nil, nil, err
	}
	return mined, rec, nil
}

// bump raises x by 1/8 (12.5 %), rounded up, so that a replacement passes a pool's 10 % price bump.
func bump(x *big.Int) *big.Int {
	b := new(big.Int).Rsh(x, 3)
	return b.Add(b.Add(b, x), big.NewInt(1))
}

// raisedEnough reports whether to is at least 110 % of from, as geth's pool requires of a replacement.
func raisedEnough(from, to *big.Int) bool {
	return new(big.Int).Mul(to, big.NewInt(10)).Cmp(new(big.Int).Mul(from, big.NewInt(11))) >= 0
}

// replace sends tx again, same nonce, gas, recipient and call, with its tip and fee cap raised by 1/8 (and
// the fee cap at least twice the current base fee plus the tip), within MaxPriorityFeePerGas and
// MaxFeePerGas; ErrAtFeeCaps when the caps leave less than the 10 % raise a pool needs.
func (r *Relay) replace(ctx context.Context, tx *ethtypes.Transaction) (*ethtypes.Transaction, error) {
	head, err := r.Ethereum.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, err
	}
	maxFee, maxTip := r.caps()
	tip, feeCap := bump(tx.GasTipCap()), bump(tx.GasFeeCap())
	if tip.Cmp(maxTip) > 0 {
		tip = new(big.Int).Set(maxTip)
	}
	if head.BaseFee != nil {
		if need := new(big.Int).Add(new(big.Int).Lsh(head.BaseFee, 1), tip); need.Cmp(feeCap) > 0 {
			feeCap = need
		}
	}
	if feeCap.Cmp(maxFee) > 0 {
		feeCap = new(big.Int).Set(maxFee)
	}
	if tip.Cmp(feeCap) > 0 {
		tip = new(big.Int).Set(feeCap)
	}
	if !raisedEnough(tx.GasTipCap(), tip) || !raisedEnough(tx.GasFeeCap(), feeCap) {
		return nil, ErrAtFeeCaps
	}
	signed, err := r.Opts.Signer(r.Opts.From, ethtypes.NewTx(&ethtypes.DynamicFeeTx{
		ChainID: tx.ChainId(), Nonce: tx.Nonce(), GasTipCap: tip, GasFeeCap: feeCap, Gas: tx.Gas(),
		To: tx.To(), Value: tx.Value(), Data: tx.Data(),
	}))
	if err != nil {
		return nil, fmt.Errorf("sign the replacement: %w", err)
	}
	if err := r.journal().Record(r.Opts.From, signed, "", time.Now()); err != nil {
		return nil, fmt.Errorf("replacement of %s not sent: %w", tx.Hash().Hex(), err)
	}
	if err := r.Ethereum.SendTransaction(ctx, signed); err != nil {
		return nil, fmt.Errorf("send the replacement of %s: %w", tx.Hash().Hex(), err)
	}
	return signed, nil
}

// waitOwnPending waits until no transaction of the relay's account is pending: after a restart (or a
// timed-out wait) an earlier submission may still be in the pool, and the contract's nonces are read only
// once it is mined, so that the relay does not send the same batch again behind it. A pending transaction
// in the journal is waited for as in waitConfirmed — replaced with higher fees when it stays unmined — so
// that one priced below the base fee does not hold the relay up for good; one of the account's not in the
// journal (sent by something else) is only waited for.
func (r *Relay) waitOwnPending(ctx context.Context) error {
	if err := r.resumeJournal(ctx); err != nil {
		return err
	}
	from := r.Opts.From
	logged := false
	return r.poll(ctx, "the relay account's pending transactions", func(ctx context.Context) (bool, error) {
		pending, err := r.Ethereum.PendingNonceAt(ctx, from)
		if err != nil {
			return false, err
		}
		mined, err := r.Ethereum.NonceAt(ctx, from, nil)
		if err != nil {
			return false, err
		}
		if pending > mined && !logged {
			r.logger().Info("waiting for the relay account's pending transactions before reading the contract",
				"account", from.Hex(), "pending", pending-mined)
			logged = true
		}
		return pending <= mined, nil
	})
}

// resumeJournal finishes the journal's outstanding transaction, if the node still holds a version of it:
// it waits for it (and replaces it) as waitConfirmed does. An entry whose nonce the account has used, or
// none of whose versions the node knows (lost from the pool, or never sent: the relay stopped between
// journaling and sending it), is dropped: the contract is re-read before anything else is sent. A
// journaled transaction that reverted is done too (typically: someone else got there first).
func (r *Relay) resumeJournal(ctx context.Context) error {
	e, ok, err := r.journal().Load()
	if err != nil || !ok {
		return err
	}
	from := r.Opts.From
	if e.Account != from {
		return fmt.Errorf("the transaction journal holds a transaction of %s, not of the relay account %s: point ethereum.tx_journal_file elsewhere, or delete it once %s has nothing pending",
			e.Account.Hex(), from.Hex(), e.Account.Hex())
	}
	used, err := r.Ethereum.NonceAt(ctx, from, nil)
	if err != nil {
		return err
	}
	if e.Nonce < used {
		r.logger().Debug("the journaled transaction's nonce is used; dropping it", "nonce", e.Nonce, "what", e.What)
		return r.journal().Clear()
	}
	txs, err := e.Transactions()
	if err != nil {
		return err
	}
	known := false
	for _, tx := range txs {
		_, pending, err := r.Ethereum.TransactionByHash(ctx, tx.Hash())
		switch {
		case errors.Is(err, ethereum.NotFound):
		case err != nil:
			return err
		case pending:
			known = true
		}
	}
	if !known {
		r.logger().Info("the journaled transaction is not in the node's pool; dropping it and reading the contract afresh",
			"nonce", e.Nonce, "what", e.What, "versions", len(txs))
		return r.journal().Clear()
	}
	r.logger().Info("waiting for the journaled transaction, still pending", "nonce", e.Nonce, "what", e.What, "versions", len(txs),
		"tx", txs[len(txs)-1].Hash().Hex(), "sent_at", e.SentAt)
	tx, rec, err := r.waitConfirmed(ctx, txs, e.SentAt)
	var rev *RevertError
	switch {
	case errors.As(err, &rev):
		r.logger().Info("the journaled transaction reverted; reading the contract afresh", "nonce", e.Nonce, "what", e.What, "tx", rev.Tx.Hex())
		return nil
	case err != nil:
		return fmt.Errorf("%s (journaled, nonce %d): %w", e.What, e.Nonce, err)
	}
	r.logger().Info("journaled transaction confirmed", "what", e.What, "tx", tx.Hash().Hex(), "block", rec.BlockNumber, "gas", rec.GasUsed)
	return nil
}
