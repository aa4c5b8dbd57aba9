package relayer

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/consensus-nro/nro/internal/chainclient"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// ChainError is a transaction the chain refused, with its ABCI codespace and code (chainclient's type: the
// relayer and the agent share the transaction path).
type ChainError = chainclient.ChainError

// Cosmos is the relayer's connection to nrod: queries over gRPC, and transactions signed by one key of a
// Cosmos keyring (the orchestrator's) through chainclient.Client — simulated for gas, broadcast over gRPC
// and waited for, with the client's per-key sequence guard. It implements Chain and Orchestrator.
type Cosmos struct {
	*chainclient.Client
	audit audittypes.QueryClient
	lease leasetypes.QueryClient
}

// NewCosmos uses conn (a gRPC connection to nrod) with the key keyName of kr, whose account must exist on
// the chain, and the app's transaction config.
func NewCosmos(conn grpc.ClientConnInterface, chainID string, txCfg client.TxConfig, kr keyring.Keyring, keyName string) (*Cosmos, error) {
	c, err := chainclient.New(conn, chainID, txCfg, kr, keyName)
	if err != nil {
		return nil, err
	}
	return &Cosmos{Client: c, audit: audittypes.NewQueryClient(conn), lease: leasetypes.NewQueryClient(conn)}, nil
}

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
	_, err := c.Send(ctx, &audittypes.MsgConfirmValset{Orchestrator: c.Address(), Nonce: nonce, Signature: sig})
	return err
}

// ConfirmBatch implements Orchestrator.
func (c *Cosmos) ConfirmBatch(ctx context.Context, nonce uint64, sig []byte) error {
	_, err := c.Send(ctx, &audittypes.MsgConfirmBatch{Orchestrator: c.Address(), Nonce: nonce, Signature: sig})
	return err
}

// AttestBatchExecuted implements Orchestrator.
func (c *Cosmos) AttestBatchExecuted(ctx context.Context, claim audittypes.BatchExecutedClaim) error {
	_, err := c.Send(ctx, &audittypes.MsgAttestBatchExecuted{Orchestrator: c.Address(), Claim: claim})
	return err
}

// alreadyDone maps the refusals that mean "the chain has it already" to ErrAlreadyDone.
func alreadyDone(err error) error {
	if errors.Is(err, audittypes.ErrAlreadyConfirmed) || errors.Is(err, audittypes.ErrAlreadyAttested) || errors.Is(err, leasetypes.ErrBatchNotPending) {
		return fmt.Errorf("%w: %w", ErrAlreadyDone, err)
	}
	return err
}

// Send signs msgs with the key, broadcasts them and waits until they are in a block; a refusal is a
// *ChainError (wrapping ErrAlreadyDone where that is what it means).
func (c *Cosmos) Send(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	res, err := c.Client.Send(ctx, msgs...)
	return res, alreadyDone(err)
}

var (
	_ Chain        = (*Cosmos)(nil)
	_ Orchestrator = (*Cosmos)(nil)
)
