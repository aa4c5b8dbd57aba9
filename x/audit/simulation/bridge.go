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
	return registeredValidatorWith(ctx, k, testData, reporter, nil)
}

// registeredValidatorWith is registeredValidator among the validators whose signer wants (nil: all): from a
// random one on, in x/staking's order, the first that qualifies, so that a confirmation or attestation is
// sent while any registered validator still owes one, rather than skipped whenever the one drawn does not.
func registeredValidatorWith(
	ctx context.Context, k keeper.Keeper, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter, wants func(types.EthSigner) bool,
) (simValidator, types.EthSigner, *ecdsa.PrivateKey, bool) {
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
		if wants != nil && !wants(s) {
			continue
		}
		if key, ok := signerKey(s, v.account.AddressBech32); ok {
			return v, s, key, true
		}
	}
	return simValidator{}, types.EthSigner{}, nil, false
}

// MsgRegisterEthSignerFactory registers the Ethereum signer (key generation 0) of a bonded simulated
// validator that has none — the first from a random one on, so that validators that join during a run
// register and the registered power stays above the 2/3 that attestations need — with its operator account
// as orchestrator; one time in ten it instead changes a registered validator's key to the other
// generation's, which takes effect signer_change_delay_blocks later.
func MsgRegisterEthSignerFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgRegisterEthSigner] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRegisterEthSigner) {
		vals, err := bondedValidators(ctx, k, testData, reporter)
		if err != nil || len(vals) == 0 {
			reporter.Skip("no bonded simulated validator")
			return nil, nil
		}
		r := testData.Rand()
		start, change := r.Intn(len(vals)), r.Intn(10) == 0
		var (
			v     simValidator
			s     types.EthSigner
			found bool
		)
		for i := range vals {
			v = vals[(start+i)%len(vals)]
			s, err = k.EthSigners.Get(ctx, v.valoper)
			switch {
			case errors.Is(err, collections.ErrNotFound):
				found = !change
			case err != nil:
				reporter.Skip(err.Error())
				return nil, nil
			default:
				found = change && s.PendingHeight == 0
			}
			if found {
				break
			}
		}
		if !found {
			if change {
				reporter.Skip("no registered simulated validator without a pending change")
			} else {
				reporter.Skip("every bonded simulated validator is registered")
			}
			return nil, nil
		}
		gen := 0
		if change {
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

// MsgConfirmBatchFactory has a registered simulated validator that has not signed every pending settlement
// batch (the first from a random one on) sign the oldest it has not signed, with its current signer's key.
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
		unsigned := func(s types.EthSigner) bool {
			for _, b := range pending {
				if has, err := k.BatchConfirms.Has(ctx, collections.Join(b.Nonce, s.Validator)); err == nil && !has {
					return true
				}
			}
			return false
		}
		v, s, key, ok := registeredValidatorWith(ctx, k, testData, reporter, unsigned)
		if !ok {
			reporter.Skip("every registered simulated validator signed every pending batch")
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

// MsgAttestBatchExecutedFactory plays a faithful relayer and Ethereum. Ethereum's clock is the chain's block
// time. A pending batch that some validator attested has executed: the other registered simulated validators
// attest the same claim, however long it takes them. Otherwise the relayer executes the oldest pending batch
// that has not timed out (the contract refuses one past its timeout; the timed-out ones below it are skipped,
// and cancelled once it is BRIDGED) right after the newest BRIDGED batch below it (the contract's
// lastBatchNonce), in a block and transaction derived from its nonce, so that every validator attests the
// same claim. The simulated contract does not check the batch signatures: MsgConfirmBatchFactory's
// confirmations are checked by x/audit on their own, and would seldom reach 2/3 of the power in a short run.
func MsgAttestBatchExecutedFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgAttestBatchExecuted] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgAttestBatchExecuted) {
		pending, err := k.LeaseKeeper().PendingBatches(ctx)
		if err != nil || len(pending) == 0 {
			reporter.Skip("no pending batch")
			return nil, nil
		}
		claim, found, err := executedClaim(ctx, k, pending)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		if !found {
			now := uint64(sdk.UnwrapSDKContext(ctx).BlockTime().Unix())
			claim, found, err = nextExecution(ctx, k, pending, now)
			if err != nil {
				reporter.Skip(err.Error())
				return nil, nil
			}
			if !found {
				reporter.Skip("every pending batch timed out: waiting for the batch that overtakes them")
				return nil, nil
			}
		}
		notAttested := func(s types.EthSigner) bool {
			has, err := k.AttestVotes.Has(ctx, collections.Join(claim.BatchNonce, s.Validator))
			return err == nil && !has
		}
		v, s, _, ok := registeredValidatorWith(ctx, k, testData, reporter, notAttested)
		if !ok {
			reporter.Skip("every registered simulated validator attested the batch")
			return nil, nil
		}
		msg := &types.MsgAttestBatchExecuted{Orchestrator: s.Orchestrator, Claim: claim}
		cache, _ := sdk.UnwrapSDKContext(ctx).CacheContext()
		if _, err := k.AttestBatchExecuted(cache, msg); err != nil {
			reporter.Skip("attestation refused: " + err.Error())
			return nil, nil
		}
		return []simsx.SimAccount{v.account}, msg
	}
}

// executedClaim is the claim of the oldest pending batch that a validator attested (found false: none).
func executedClaim(ctx context.Context, k keeper.Keeper, pending []leasetypes.SettlementBatch) (types.BatchExecutedClaim, bool, error) {
	for _, b := range pending {
		it, err := k.BatchAttestations.Iterate(ctx, collections.NewPrefixedPairRange[uint64, []byte](b.Nonce))
		if err != nil {
			return types.BatchExecutedClaim{}, false, err
		}
		var att types.BatchAttestation
		valid := it.Valid()
		if valid {
			att, err = it.Value()
		}
		if err := errors.Join(err, it.Close()); err != nil {
			return types.BatchExecutedClaim{}, false, err
		}
		if valid {
			return att.Claim, true, nil
		}
	}
	return types.BatchExecutedClaim{}, false, nil
}

// nextExecution is the claim of the oldest pending batch that has not timed out at now, executed right after
// the newest BRIDGED batch below it (found false: every pending batch timed out).
func nextExecution(ctx context.Context, k keeper.Keeper, pending []leasetypes.SettlementBatch, now uint64) (types.BatchExecutedClaim, bool, error) {
	for _, b := range pending {
		if b.Timeout <= now {
			continue
		}
		var prev uint64
		for n := b.Nonce - 1; n > 0 && b.Nonce-n <= maxCancelledScanned; n-- {
			pb, err := k.LeaseKeeper().GetBatch(ctx, n)
			if errors.Is(err, leasetypes.ErrBatchNotFound) {
				continue // pruned: cancelled, or bridged below the newest bridged batch, which x/lease keeps
			}
			if err != nil {
				return types.BatchExecutedClaim{}, false, err
			}
			if pb.State == leasetypes.BATCH_STATE_BRIDGED {
				prev = n
				break
			}
		}
		var nonce [8]byte
		binary.BigEndian.PutUint64(nonce[:], b.Nonce)
		tx := sha256.Sum256(append([]byte("nro-sim-eth-tx/"), nonce[:]...))
		return types.BatchExecutedClaim{BatchNonce: b.Nonce, PrevBatchNonce: prev, EthBlock: 1_000 + b.Nonce, TxHash: common.Hash(tx).Hex()}, true, nil
	}
	return types.BatchExecutedClaim{}, false, nil
}
