// Package chainclient is the transaction path every off-chain daemon of Consensus-NRO shares to reach nrod:
// a gRPC connection with the chain's codecs (app/params), transactions signed by one key of a Cosmos
// keyring, simulated for gas, broadcast (sync) and waited for until they are in a block, with one sequence
// guard per key, and refusals returned typed by ABCI codespace and code (*ChainError). nro-relayer (relayer.Cosmos) and
// nro-agent (agent.CosmosChain) build their chain-specific queries and messages on top of it.
package chainclient

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
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
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

// Is makes errors.Is(err, registered) true when the chain refused the transaction with that registered
// error (same codespace and code), so that callers match the chain's refusals by registration, not by text.
func (e *ChainError) Is(target error) bool {
	var want *errorsmod.Error
	if !errors.As(target, &want) {
		return false
	}
	return e.Codespace == want.Codespace() && e.Code == want.ABCICode()
}

// NotIncludedError is a transaction the mempool accepted (its sequence is used) whose inclusion in a block
// was not seen: it may still be included, or dropped. A caller that must not send the same thing twice
// looks for Hash later instead of sending again.
type NotIncludedError struct {
	Hash string
	Err  error
}

func (e *NotIncludedError) Error() string { return e.Err.Error() }
func (e *NotIncludedError) Unwrap() error { return e.Err }

// Client sends transactions signed by one key of a keyring. It serialises that key's transactions and keeps
// the account sequence itself (the sequence guard); on a sequence mismatch it reloads it from the chain.
// Use one Client per key in a process: two would race for the same sequence.
type Client struct {
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

// New uses conn (a gRPC connection to nrod) with the key keyName of kr, whose account must exist on the
// chain by the first Send, and the app's transaction config.
func New(conn grpc.ClientConnInterface, chainID string, txCfg client.TxConfig, kr keyring.Keyring, keyName string) (*Client, error) {
	rec, err := kr.Key(keyName)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", keyName, err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return nil, err
	}
	return &Client{
		auth: authtypes.NewQueryClient(conn), txs: txtypes.NewServiceClient(conn),
		txCfg: txCfg, kr: kr, keyName: keyName, from: addr.String(), chainID: chainID,
		GasAdjustment: 1.5, PollInterval: 200 * time.Millisecond, InclusionTimeout: time.Minute,
	}, nil
}

// Address is the account that signs the transactions.
func (c *Client) Address() string { return c.from }

// ChainID is the chain the transactions are signed for.
func (c *Client) ChainID() string { return c.chainID }

// fallbackGas is the gas limit of a transaction whose simulation failed: it is sent anyway so that the
// chain's refusal comes back typed (codespace and code) in the block result.
const fallbackGas = 400_000

// Send signs msgs with the key, broadcasts them and waits until they are in a block. A refusal, at
// broadcast or in the block, is a *ChainError; the response is returned with it when there is one. A
// transaction accepted but not seen in a block (InclusionTimeout, or its look-up failing) is a
// *NotIncludedError with its hash.
func (c *Client) Send(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
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
		return r, &ChainError{Codespace: r.Codespace, Code: r.Code, Log: r.RawLog}
	}
	c.sequence++ // accepted into the mempool: the next transaction takes the next sequence
	included, err := c.waitIncluded(ctx, res.TxResponse.TxHash)
	if err != nil {
		return nil, &NotIncludedError{Hash: res.TxResponse.TxHash, Err: err}
	}
	if included.Code != 0 {
		return included, &ChainError{Codespace: included.Codespace, Code: included.Code, Log: included.RawLog}
	}
	return included, nil
}

func (c *Client) waitIncluded(ctx context.Context, hash string) (*sdk.TxResponse, error) {
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
