package relayer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/client"
	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/query"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// ChainError is a transaction the chain refused, with its ABCI codespace and code.
type ChainError struct {
	Codespace string
	Code      uint32
	Log       string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("chain refused the transaction (%s %d): %s", e.Codespace, e.Code, e.Log)
}

// is reports whether the refusal is the registered error want.
func (e *ChainError) is(want *errorsmod.Error) bool {
	return e.Codespace == want.Codespace() && e.Code == want.ABCICode()
}

// Cosmos is the relayer's connection to nrod: queries over gRPC, and transactions signed by one key of a
// Cosmos keyring (the orchestrator's), simulated for gas, broadcast over gRPC and waited for. It implements
// Chain and Orchestrator. One Cosmos serialises the transactions of its key and keeps the account sequence
// itself (the sequence guard); on a sequence mismatch it reloads it from the chain.
type Cosmos struct {
	audit   audittypes.QueryClient
	lease   leasetypes.QueryClient
	auth    authtypes.QueryClient
	txs     txtypes.ServiceClient
	txCfg   client.TxConfig
	kr      keyring.Keyring
	keyName string
	from    string
	chainID string
	// GasPrices are paid per unit of gas, e.g. "0.025unro"; GasAdjustment multiplies the simulated gas.
	GasPrices     string
	GasAdjustment float64
	// PollInterval is how often an inclusion is checked; a transaction is waited for at most InclusionTimeout.
	PollInterval     time.Duration
	InclusionTimeout time.Duration

	mu       sync.Mutex
	loaded   bool
	accNum   uint64
	sequence uint64
}

// NewCosmos uses conn (a gRPC connection to nrod) with the key keyName of kr, whose account must exist on
// the chain, and the app's transaction config.
func NewCosmos(conn grpc.ClientConnInterface, chainID string, txCfg client.TxConfig, kr keyring.Keyring, keyName string) (*Cosmos, error) {
	rec, err := kr.Key(keyName)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", keyName, err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return nil, err
	}
	return &Cosmos{
		audit: audittypes.NewQueryClient(conn), lease: leasetypes.NewQueryClient(conn),
		auth: authtypes.NewQueryClient(conn), txs: txtypes.NewServiceClient(conn),
		txCfg: txCfg, kr: kr, keyName: keyName, from: addr.String(), chainID: chainID,
		GasAdjustment: 1.5, PollInterval: 200 * time.Millisecond, InclusionTimeout: time.Minute,
	}, nil
}

// Address is the account that signs the transactions.
func (c *Cosmos) Address() string { return c.from }

// AuditParams implements Chain.
func (c *Cosmos) AuditParams(ctx context.Context) (audittypes.Params, error) {
	res, err := c.audit.Params(ctx, &audittypes.QueryParamsRequest{})
	if err != nil {
		return audittypes.Params{}, err
	}
	return res.Params, nil
}

// LatestValset implements Chain.
func (c *Cosmos) LatestValset(ctx context.Context) (audittypes.BridgeValset, bool, error) {
	res, err := c.audit.Valset(ctx, &audittypes.QueryValsetRequest{})
	if status.Code(err) == codes.NotFound {
		return audittypes.BridgeValset{}, false, nil
	}
	if err != nil {
		return audittypes.BridgeValset{}, false, err
	}
	return res.Valset, true, nil
}

// Valset implements Chain.
func (c *Cosmos) Valset(ctx context.Context, nonce uint64) (audittypes.BridgeValset, error) {
	if nonce == 0 {
		return audittypes.BridgeValset{}, errors.New("valset nonce 0: valsets start at 1")
	}
	res, err := c.audit.Valset(ctx, &audittypes.QueryValsetRequest{Nonce: nonce})
	if err != nil {
		return audittypes.BridgeValset{}, err
	}
	return res.Valset, nil
}

// ValsetConfirms implements Chain.
func (c *Cosmos) ValsetConfirms(ctx context.Context, nonce uint64) ([]audittypes.BridgeConfirm, error) {
	res, err := c.audit.ValsetConfirms(ctx, &audittypes.QueryValsetConfirmsRequest{Nonce: nonce})
	if err != nil {
		return nil, err
	}
	return res.Confirms, nil
}

// BatchConfirms implements Chain.
func (c *Cosmos) BatchConfirms(ctx context.Context, nonce uint64) ([]audittypes.BridgeConfirm, error) {
	res, err := c.audit.BatchConfirms(ctx, &audittypes.QueryBatchConfirmsRequest{Nonce: nonce})
	if err != nil {
		return nil, err
	}
	return res.Confirms, nil
}

// batchesDesc walks the batches in one state from the highest nonce down, page by page, until fn stops.
func (c *Cosmos) batchesDesc(ctx context.Context, state leasetypes.BatchState, fn func(leasetypes.SettlementBatch) bool) error {
	var key []byte
	for {
		res, err := c.lease.Batches(ctx, &leasetypes.QueryBatchesRequest{State: state, Pagination: &query.PageRequest{Key: key, Limit: 100, Reverse: true}})
		if err != nil {
			return err
		}
		for _, b := range res.Batches {
			if !fn(b) {
				return nil
			}
		}
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return nil
		}
		key = res.Pagination.NextKey
	}
}

// PendingBatches implements Chain.
func (c *Cosmos) PendingBatches(ctx context.Context) ([]leasetypes.SettlementBatch, error) {
	var out []leasetypes.SettlementBatch
	err := c.batchesDesc(ctx, leasetypes.BATCH_STATE_PENDING, func(b leasetypes.SettlementBatch) bool {
		out = append(out, b)
		return true
	})
	reverse(out)
	return out, err
}

// BatchesAbove implements Chain: the pending and bridged batches above nonce, read from the top down so
// that only those are read.
func (c *Cosmos) BatchesAbove(ctx context.Context, nonce uint64) ([]leasetypes.SettlementBatch, error) {
	var out []leasetypes.SettlementBatch
	for _, st := range []leasetypes.BatchState{leasetypes.BATCH_STATE_PENDING, leasetypes.BATCH_STATE_BRIDGED} {
		if err := c.batchesDesc(ctx, st, func(b leasetypes.SettlementBatch) bool {
			if b.Nonce <= nonce {
				return false
			}
			out = append(out, b)
			return true
		}); err != nil {
			return nil, err
		}
	}
	// Ascending nonce order (two descending runs merged by a sort; there are few).
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Nonce < out[j-1].Nonce; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// ConfirmValset implements Orchestrator.
func (c *Cosmos) ConfirmValset(ctx context.Context, nonce uint64, sig []byte) error {
	_, err := c.Send(ctx, &audittypes.MsgConfirmValset{Orchestrator: c.from, Nonce: nonce, Signature: sig})
	return err
}

// ConfirmBatch implements Orchestrator.
func (c *Cosmos) ConfirmBatch(ctx context.Context, nonce uint64, sig []byte) error {
	_, err := c.Send(ctx, &audittypes.MsgConfirmBatch{Orchestrator: c.from, Nonce: nonce, Signature: sig})
	return err
}

// AttestBatchExecuted implements Orchestrator.
func (c *Cosmos) AttestBatchExecuted(ctx context.Context, claim audittypes.BatchExecutedClaim) error {
	_, err := c.Send(ctx, &audittypes.MsgAttestBatchExecuted{Orchestrator: c.from, Claim: claim})
	return err
}

// alreadyDone maps the refusals that mean "the chain has it already" to ErrAlreadyDone.
func alreadyDone(err error) error {
	var ce *ChainError
	if errors.As(err, &ce) && (ce.is(audittypes.ErrAlreadyConfirmed) || ce.is(audittypes.ErrAlreadyAttested) || ce.is(leasetypes.ErrBatchNotPending)) {
		return fmt.Errorf("%w: %w", ErrAlreadyDone, err)
	}
	return err
}

// fallbackGas is the gas limit of a transaction whose simulation failed: it is sent anyway so that the
// chain's refusal comes back typed (codespace and code) in the block result.
const fallbackGas = 400_000

// Send signs msgs with the key, broadcasts them and waits until they are in a block; a refusal is a
// *ChainError (wrapping ErrAlreadyDone where that is what it means).
func (c *Cosmos) Send(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		res, err := c.auth.AccountInfo(ctx, &authtypes.QueryAccountInfoRequest{Address: c.from})
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", c.from, err)
		}
		c.accNum, c.sequence, c.loaded = res.Info.AccountNumber, res.Info.Sequence, true
	}
	txf := clienttx.Factory{}.WithTxConfig(c.txCfg).WithKeybase(c.kr).WithFromName(c.keyName).WithChainID(c.chainID).
		WithAccountNumber(c.accNum).WithSequence(c.sequence).WithSignMode(signing.SignMode_SIGN_MODE_DIRECT).
		WithGasPrices(c.GasPrices).WithSimulateAndExecute(true)
	gas := uint64(fallbackGas)
	if simBz, err := txf.BuildSimTx(msgs...); err == nil {
		if sim, err := c.txs.Simulate(ctx, &txtypes.SimulateRequest{TxBytes: simBz}); err == nil && sim.GasInfo != nil {
			gas = uint64(math.Ceil(float64(sim.GasInfo.GasUsed) * c.GasAdjustment))
		}
	}
	txf = txf.WithGas(gas)
	builder, err := txf.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, err
	}
	if err := clienttx.Sign(ctx, txf, c.keyName, builder, true); err != nil {
		return nil, err
	}
	bz, err := c.txCfg.TxEncoder()(builder.GetTx())
	if err != nil {
		return nil, err
	}
	res, err := c.txs.BroadcastTx(ctx, &txtypes.BroadcastTxRequest{TxBytes: bz, Mode: txtypes.BroadcastMode_BROADCAST_MODE_SYNC})
	if err != nil {
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	if r := res.TxResponse; r.Code != 0 {
		if r.Codespace == sdkerrors.ErrWrongSequence.Codespace() && r.Code == sdkerrors.ErrWrongSequence.ABCICode() {
			c.loaded = false // another sender used the key: reload the sequence next time
		}
		return r, alreadyDone(&ChainError{Codespace: r.Codespace, Code: r.Code, Log: r.RawLog})
	}
	c.sequence++ // accepted into the mempool: the next transaction takes the next sequence
	included, err := c.waitIncluded(ctx, res.TxResponse.TxHash)
	if err != nil {
		return nil, err
	}
	if included.Code != 0 {
		return included, alreadyDone(&ChainError{Codespace: included.Codespace, Code: included.Code, Log: included.RawLog})
	}
	return included, nil
}

func (c *Cosmos) waitIncluded(ctx context.Context, hash string) (*sdk.TxResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.InclusionTimeout)
	defer cancel()
	tick := time.NewTicker(c.PollInterval)
	defer tick.Stop()
	for {
		res, err := c.txs.GetTx(ctx, &txtypes.GetTxRequest{Hash: hash})
		if err == nil {
			return res.TxResponse, nil
		}
		if status.Code(err) != codes.NotFound {
			return nil, fmt.Errorf("look up transaction %s: %w", hash, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("transaction %s not in a block after %s: %w", hash, c.InclusionTimeout, ctx.Err())
		case <-tick.C:
		}
	}
}

var (
	_ Chain        = (*Cosmos)(nil)
	_ Orchestrator = (*Cosmos)(nil)
)
