// Package relayer is the off-chain half of the Ethereum settlement bridge (contracts/README.md; x/audit
// and x/lease READMEs, "Ethereum bridge"). It has two roles:
//
//   - Signer, run by every validator with its Ethereum key and orchestrator account: it signs the
//     appchain's bridge valsets and pending settlement batches (MsgConfirmValset, MsgConfirmBatch), and
//     watches the settlement contract over confirmed block ranges for executed batches, which it attests
//     back to the chain (MsgAttestBatchExecuted).
//   - Relay, run by anyone with Ether for gas: it assembles the validators' signatures from the chain and
//     submits valset updates and batches to the contract.
//
// Neither keeps state that could double-pay: the contract's last valset and batch nonces are the truth, and
// are re-read before every submission; the chain refuses a second confirmation or attestation. The signer's
// only state is its scan cursor, which it may lose (it rescans and re-attests idempotently).
package relayer

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"

	"github.com/consensus-nro/nro/contracts"
	"github.com/consensus-nro/nro/contracts/bindings"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// ErrAlreadyDone is what a Chain returns for a confirmation or attestation the chain already has, or for a
// batch that is no longer pending: retrying it is pointless and harmless.
var ErrAlreadyDone = errors.New("already done on the chain")

// Chain is what the relayer reads from the appchain.
type Chain interface {
	AuditParams(ctx context.Context) (audittypes.Params, error)
	// LatestValset returns the newest bridge valset; ok is false when there is none yet.
	LatestValset(ctx context.Context) (vs audittypes.BridgeValset, ok bool, err error)
	Valset(ctx context.Context, nonce uint64) (audittypes.BridgeValset, error)
	ValsetConfirms(ctx context.Context, nonce uint64) ([]audittypes.BridgeConfirm, error)
	// PendingBatches returns the PENDING settlement batches in nonce order.
	PendingBatches(ctx context.Context) ([]leasetypes.SettlementBatch, error)
	// BatchesAbove returns the batches with a nonce above nonce that are not CANCELLED, in nonce order.
	BatchesAbove(ctx context.Context, nonce uint64) ([]leasetypes.SettlementBatch, error)
	BatchConfirms(ctx context.Context, nonce uint64) ([]audittypes.BridgeConfirm, error)
}

// Orchestrator sends a validator's bridge messages, signed by its orchestrator account. Each returns an
// error wrapping ErrAlreadyDone when the chain already has what it sends.
type Orchestrator interface {
	ConfirmValset(ctx context.Context, nonce uint64, signature []byte) error
	ConfirmBatch(ctx context.Context, nonce uint64, signature []byte) error
	AttestBatchExecuted(ctx context.Context, claim audittypes.BatchExecutedClaim) error
}

// Ethereum is what the relayer needs from an Ethereum node: go-ethereum's ethclient.Client over JSON-RPC,
// or the simulated backend's client.
type Ethereum interface {
	bind.ContractBackend
	bind.DeployBackend
	BlockNumber(ctx context.Context) (uint64, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
	// TransactionByHash says whether the node still holds a journaled transaction in its pool.
	TransactionByHash(ctx context.Context, hash common.Hash) (tx *ethtypes.Transaction, isPending bool, err error)
}

// contract binds the settlement contract at addr.
type contract struct {
	abi  *bindings.NROSettlement
	inst *bind.BoundContract
	addr common.Address
}

func newContract(eth Ethereum, addr common.Address) contract {
	abi := bindings.NewNROSettlement()
	return contract{abi: abi, inst: abi.Instance(eth, addr), addr: addr}
}

// nonces reads the contract's last valset and batch nonces at block (nil: latest).
func (c contract) nonces(ctx context.Context, block *big.Int) (valset, batch uint64, err error) {
	opts := &bind.CallOpts{Context: ctx, BlockNumber: block}
	v, err := bind.Call(c.inst, opts, c.abi.PackLastValsetNonce(), c.abi.UnpackLastValsetNonce)
	if err != nil {
		return 0, 0, fmt.Errorf("read lastValsetNonce: %w", err)
	}
	b, err := bind.Call(c.inst, opts, c.abi.PackLastBatchNonce(), c.abi.UnpackLastBatchNonce)
	if err != nil {
		return 0, 0, fmt.Errorf("read lastBatchNonce: %w", err)
	}
	return v.Uint64(), b.Uint64(), nil
}

// batchExecutedLogs returns the contract's BatchExecuted events in blocks from..to, in chain order.
func (c contract) batchExecutedLogs(ctx context.Context, eth Ethereum, from, to uint64) ([]*bindings.NROSettlementBatchExecuted, error) {
	logs, err := eth.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(from),
		ToBlock:   new(big.Int).SetUint64(to),
		Addresses: []common.Address{c.addr},
		Topics:    [][]common.Hash{{c.abi.GetABI().Events[bindings.NROSettlementBatchExecutedEventName].ID}},
	})
	if err != nil {
		return nil, fmt.Errorf("filter BatchExecuted in blocks %d..%d: %w", from, to, err)
	}
	out := make([]*bindings.NROSettlementBatchExecuted, 0, len(logs))
	for i := range logs {
		if logs[i].Removed {
			continue
		}
		ev, err := c.abi.UnpackBatchExecutedEvent(&logs[i])
		if err != nil {
			return nil, fmt.Errorf("decode BatchExecuted at block %d: %w", logs[i].BlockNumber, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// ContractValset is a chain valset in the contract's ABI form.
func ContractValset(vs audittypes.BridgeValset) bindings.NROSettlementValset {
	signers, powers := vs.Contract()
	return bindings.NROSettlementValset{Signers: signers, Powers: powers, Nonce: new(big.Int).SetUint64(vs.Nonce)}
}

// ContractBatch is a chain batch in the contract's ABI form.
func ContractBatch(b leasetypes.SettlementBatch) bindings.NROSettlementBatch {
	cb := audittypes.ContractBatch(b)
	out := bindings.NROSettlementBatch{Nonce: cb.Nonce, Timeout: cb.Timeout, Payouts: make([]bindings.NROSettlementPayout, len(cb.Payouts))}
	for i, p := range cb.Payouts {
		out.Payouts[i] = bindings.NROSettlementPayout{Recipient: p.Recipient, Amount: p.Amount}
	}
	return out
}

// Signatures lines confirmations up with the members of vs, the valset that must sign on the contract:
// the fewest signatures, by descending power (then member order), that add up to more than 2/3 of 2^32,
// and v = 0 ("did not sign") in every other slot, which keeps the gas of ecrecover to what is needed. ok
// is false when the confirmations do not reach the threshold.
func Signatures(vs audittypes.BridgeValset, confirms []audittypes.BridgeConfirm) (sigs []bindings.NROSettlementSig, ok bool, err error) {
	by := make(map[common.Address][]byte, len(confirms))
	for _, c := range confirms {
		by[common.HexToAddress(c.EthAddress)] = c.Signature
	}
	order := make([]int, 0, len(vs.Members))
	for i, m := range vs.Members {
		if _, has := by[common.HexToAddress(m.EthAddress)]; has {
			order = append(order, i)
		}
	}
	// Descending power, stable on member order.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && vs.Members[order[j]].Power > vs.Members[order[j-1]].Power; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	sigs = make([]bindings.NROSettlementSig, len(vs.Members))
	var signed uint64
	for _, i := range order {
		if 3*signed > 2*contracts.TotalPower {
			break
		}
		v, r, s, err := contracts.SplitSignature(by[common.HexToAddress(vs.Members[i].EthAddress)])
		if err != nil {
			return nil, false, fmt.Errorf("confirmation of %s: %w", vs.Members[i].EthAddress, err)
		}
		sigs[i] = bindings.NROSettlementSig{V: v, R: r, S: s}
		signed += vs.Members[i].Power
	}
	return sigs, 3*signed > 2*contracts.TotalPower, nil
}
