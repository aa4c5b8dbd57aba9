package simulation

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/consensus-nro/nro/contracts"
	"github.com/consensus-nro/nro/x/audit/keeper"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// Simulated Ethereum bridge: the randomized genesis turns the bridge on with these ids, and each simulated
// validator's operator account holds two Ethereum keys (generations 0 and 1) derived from its address, so
// that factories can sign for it and change its signer. The operator account is its own orchestrator.
const (
	simBridgeID = "0x6e726f2d73696d2d627269646765000000000000000000000000000000000000"
	simChainID  = 1337
	simContract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
	// maxValidatorsScanned and maxValsetsScanned bound the factories' reads.
	maxValidatorsScanned = 200
	maxValsetsScanned    = 8
	// maxCancelledScanned bounds the walk down from a pending batch to the newest BRIDGED one.
	maxCancelledScanned = 64
)

// simEthKey is the generation gen Ethereum key of a simulated account.
func simEthKey(account string, gen int) (*ecdsa.PrivateKey, error) {
	sum := sha256.Sum256(fmt.Appendf(nil, "nro-sim-eth/%d/%s", gen, account))
	return crypto.ToECDSA(sum[:])
}

func simSign(key *ecdsa.PrivateKey, digest common.Hash) ([]byte, error) {
	v, r, s, err := contracts.Sign(key, digest)
	if err != nil {
		return nil, err
	}
	return contracts.SignatureBytes(v, r, s), nil
}

// simValidator is a bonded validator whose operator is a simulation account.
type simValidator struct {
	valoper string
	account simsx.SimAccount
}

// bondedValidators lists (up to maxValidatorsScanned) bonded validators whose operator is a simulation
// account, in x/staking's order.
func bondedValidators(ctx context.Context, k keeper.Keeper, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simValidator, error) {
	var out []simValidator
	var walkErr error
	err := k.StakingKeeper().IterateLastValidatorPowers(ctx, func(op sdk.ValAddress, _ int64) bool {
		acc, err := k.AllocationKeeper().AddressCodec().BytesToString(op)
		if err != nil {
			walkErr = err
			return true
		}
		if !testData.HasAccount(acc) {
			return false
		}
		val, err := k.StakingKeeper().ValidatorAddressCodec().BytesToString(op)
		if err != nil {
			walkErr = err
			return true
		}
		out = append(out, simValidator{valoper: val, account: testData.GetAccount(reporter, acc)})
		return len(out) >= maxValidatorsScanned
	})
	return out, errors.Join(err, walkErr)
}

// signerKey returns the simulated key of a registered validator's current signer.
func signerKey(s types.EthSigner, account string) (*ecdsa.PrivateKey, bool) {
	for gen := range 2 {
		key, err := simEthKey(account, gen)
		if err == nil && crypto.PubkeyToAddress(key.PublicKey).Hex() == s.EthAddress {
			return key, true
		}
	}
	return nil, false
}

// registeredValidator picks a random bonded simulated validator with a registered signer whose key the
// simulation holds and whose orchestrator is its operator account.
func registeredValidator(ctx context.Context, k keeper.Keeper, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) (simValidator, types.EthSigner, *ecdsa.PrivateKey, bool) {
	vals, err := bondedValidators(ctx, k, testData, reporter)
	if err != nil || len(vals) == 0 {
		return simValidator{}, types.EthSigner{}, nil, false
	}
	r := testData.Rand()
	start := r.Intn(len(vals))
	for i := range vals {
		v := vals[(start+i)%len(vals)]
		s, err := k.EthSigners.Get(ctx, v.valoper)
		if err != nil || s.Orchestrator != v.account.AddressBech32 {
			continue
		}
		if key, ok := signerKey(s, v.account.AddressBech32); ok {
			return v, s, key, true
		}
	}
	return simValidator{}, types.EthSigner{}, nil, false
}

// MsgRegisterEthSignerFactory registers a bonded simulated validator's Ethereum signer (key generation 0),
// with its operator account as orchestrator; for a validator already registered it now and then changes to
// the other generation's key, which takes effect signer_change_delay_blocks later.
func MsgRegisterEthSignerFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgRegisterEthSigner] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRegisterEthSigner) {
		vals, err := bondedValidators(ctx, k, testData, reporter)
		if err != nil || len(vals) == 0 {
			reporter.Skip("no bonded simulated validator")
			return nil, nil
		}
		r := testData.Rand()
		v := vals[r.Intn(len(vals))]
		gen := 0
		s, err := k.EthSigners.Get(ctx, v.valoper)
		switch {
		case errors.Is(err, collections.ErrNotFound):
		case err != nil:
			reporter.Skip(err.Error())
			return nil, nil
		case s.PendingHeight != 0 || r.Intn(10) != 0:
			reporter.Skip("validator already registered")
			return nil, nil
		default:
			if key, ok := signerKey(s, v.account.AddressBech32); ok {
				if cur, _ := simEthKey(v.account.AddressBech32, 0); cur != nil && cur.Equal(key) {
					gen = 1
				}
			}
		}
		key, err := simEthKey(v.account.AddressBech32, gen)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		digest, err := contracts.SignerRegistrationDigest(sdk.UnwrapSDKContext(ctx).ChainID(), v.valoper, v.account.AddressBech32)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		sig, err := simSign(key, digest)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		msg := &types.MsgRegisterEthSigner{
			Operator: v.account.AddressBech32, EthAddress: crypto.PubkeyToAddress(key.PublicKey).Hex(),
			Orchestrator: v.account.AddressBech32, EthSignature: sig,
		}
		cache, _ := sdk.UnwrapSDKContext(ctx).CacheContext()
		if _, err := k.RegisterEthSigner(cache, msg); err != nil {
			reporter.Skip("registration refused: " + err.Error())
			return nil, nil
		}
		return []simsx.SimAccount{v.account}, msg
	}
}

// MsgConfirmValsetFactory has a registered simulated validator sign the newest valset among the last few it
// has not confirmed yet, with its current signer's key.
func MsgConfirmValsetFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgConfirmValset] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgConfirmValset) {
		p, err := k.Params.Get(ctx)
		if err != nil || !p.BridgeReady() {
			reporter.Skip("bridge is off")
			return nil, nil
		}
		latest, ok, err := k.LatestValset(ctx)
		if err != nil || !ok {
			reporter.Skip("no valset yet")
			return nil, nil
		}
		v, s, key, ok := registeredValidator(ctx, k, testData, reporter)
		if !ok {
			reporter.Skip("no registered simulated validator")
			return nil, nil
		}
		for nonce := latest.Nonce; nonce > 0 && latest.Nonce-nonce < maxValsetsScanned; nonce-- {
			if has, err := k.ValsetConfirms.Has(ctx, collections.Join(nonce, s.Validator)); err != nil || has {
				continue
			}
			vs, err := k.Valsets.Get(ctx, nonce)
			if err != nil {
				continue // pruned
			}
			digest, err := types.ValsetDigest(p, vs)
			if err != nil {
				reporter.Skip(err.Error())
				return nil, nil
			}
			sig, err := simSign(key, digest)
			if err != nil {
				reporter.Skip(err.Error())
				return nil, nil
			}
			return []simsx.SimAccount{v.account}, &types.MsgConfirmValset{Orchestrator: s.Orchestrator, Nonce: nonce, Signature: sig}
		}
		reporter.Skip("validator signed the recent valsets")
		return nil, nil
	}
}

// MsgConfirmBatchFactory has a registered simulated validator sign a pending settlement batch it has not
// signed yet.
func MsgConfirmBatchFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgConfirmBatch] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgConfirmBatch) {
		p, err := k.Params.Get(ctx)
		if err != nil || !p.BridgeReady() {
			reporter.Skip("bridge is off")
			return nil, nil
		}
		pending, err := k.LeaseKeeper().PendingBatches(ctx)
		if err != nil || len(pending) == 0 {
			reporter.Skip("no pending batch")
			return nil, nil
		}
		v, s, key, ok := registeredValidator(ctx, k, testData, reporter)
		if !ok {
			reporter.Skip("no registered simulated validator")
			return nil, nil
		}
		for _, b := range pending {
			if has, err := k.BatchConfirms.Has(ctx, collections.Join(b.Nonce, s.Validator)); err != nil || has {
				continue
			}
			digest, err := types.BatchDigest(p, b)
			if err != nil {
				reporter.Skip(err.Error())
				return nil, nil
			}
			sig, err := simSign(key, digest)
			if err != nil {
				reporter.Skip(err.Error())
				return nil, nil
			}
			return []simsx.SimAccount{v.account}, &types.MsgConfirmBatch{Orchestrator: s.Orchestrator, Nonce: b.Nonce, Signature: sig}
		}
		reporter.Skip("validator signed every pending batch")
		return nil, nil
	}
}

// MsgAttestBatchExecutedFactory plays a faithful relayer and Ethereum: the oldest pending batch counts as
// executed on the contract right after the newest BRIDGED batch below it (the contract's lastBatchNonce), in
// a block and transaction derived from its nonce, so that every validator attests the same claim; a
// registered simulated validator that has not attested it yet does.
func MsgAttestBatchExecutedFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgAttestBatchExecuted] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgAttestBatchExecuted) {
		pending, err := k.LeaseKeeper().PendingBatches(ctx)
		if err != nil || len(pending) == 0 {
			reporter.Skip("no pending batch")
			return nil, nil
		}
		b := pending[0]
		var prev uint64
		for n := b.Nonce - 1; n > 0 && b.Nonce-n <= maxCancelledScanned; n-- {
			pb, err := k.LeaseKeeper().GetBatch(ctx, n)
			if err != nil {
				reporter.Skip(err.Error())
				return nil, nil
			}
			if pb.State == leasetypes.BATCH_STATE_BRIDGED {
				prev = n
				break
			}
		}
		v, s, _, ok := registeredValidator(ctx, k, testData, reporter)
		if !ok {
			reporter.Skip("no registered simulated validator")
			return nil, nil
		}
		if has, err := k.AttestVotes.Has(ctx, collections.Join(b.Nonce, s.Validator)); err != nil || has {
			reporter.Skip("validator already attested the batch")
			return nil, nil
		}
		var nonce [8]byte
		binary.BigEndian.PutUint64(nonce[:], b.Nonce)
		tx := sha256.Sum256(append([]byte("nro-sim-eth-tx/"), nonce[:]...))
		msg := &types.MsgAttestBatchExecuted{Orchestrator: s.Orchestrator, Claim: types.BatchExecutedClaim{
			BatchNonce: b.Nonce, PrevBatchNonce: prev, EthBlock: 1_000 + b.Nonce, TxHash: common.Hash(tx).Hex(),
		}}
		cache, _ := sdk.UnwrapSDKContext(ctx).CacheContext()
		if _, err := k.AttestBatchExecuted(cache, msg); err != nil {
			reporter.Skip("attestation refused: " + err.Error())
			return nil, nil
		}
		return []simsx.SimAccount{v.account}, msg
	}
}
