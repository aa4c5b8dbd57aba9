package keeper

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	"github.com/ethereum/go-ethereum/common"

	"github.com/consensus-nro/nro/contracts"
	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// The Ethereum bridge's attestations (x/audit/README.md, "Ethereum bridge"): validators register an
// Ethereum signer and an orchestrator account; EndBlock snapshots bridge valsets from the bonded power;
// orchestrators send their validators' signatures of valsets and of x/lease's settlement batches, each
// checked on-chain to recover to the registered signer; and attestations that the contract executed a batch
// take effect at more than 2/3 of the bonded power.

var txHashRe = regexp.MustCompile(`^0x[0-9a-fA-F]{64}$`)

// RegisterEthSigner sets (first time) or schedules (a change) the operator's validator's Ethereum signer
// and orchestrator.
func (k Keeper) RegisterEthSigner(ctx context.Context, msg *types.MsgRegisterEthSigner) (*types.MsgRegisterEthSignerResponse, error) {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if p.BridgeId == "" {
		return nil, errorsmod.Wrap(types.ErrBridgeOff, "bridge_id is empty; governance turns the bridge on (x/audit params bridge_id, eth_chain_id, settlement_contract)")
	}
	operator, err := k.canonicalAddress(msg.Operator)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "operator %q: %v", msg.Operator, err)
	}
	orchestrator, err := k.canonicalAddress(msg.Orchestrator)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "orchestrator %q: %v", msg.Orchestrator, err)
	}
	if err := allocationtypes.ValidateEthAddress(msg.EthAddress); err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidEthSigner, "eth_address: %v", err)
	}
	opBz, err := k.alloc.AddressCodec().StringToBytes(operator)
	if err != nil {
		return nil, err
	}
	val, err := k.staking.ValidatorAddressCodec().BytesToString(opBz)
	if err != nil {
		return nil, err
	}
	if _, err := k.staking.GetValidator(ctx, sdk.ValAddress(opBz)); err != nil {
		if errors.Is(err, stakingtypes.ErrNoValidatorFound) {
			return nil, errorsmod.Wrapf(types.ErrNotValidator, "operator %s runs no validator (%s); only validators sign for the bridge", operator, val)
		}
		return nil, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	digest, err := contracts.SignerRegistrationDigest(sdkCtx.ChainID(), val, orchestrator)
	if err != nil {
		return nil, err
	}
	signer, err := contracts.RecoverSigner(digest, msg.EthSignature)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidBridgeSig, "eth_signature: %v", err)
	}
	if signer != common.HexToAddress(msg.EthAddress) {
		return nil, errorsmod.Wrapf(types.ErrInvalidBridgeSig,
			"eth_signature recovers to %s, not eth_address %s: sign contracts.SignerRegistrationDigest(%q, %q, %q) with the key of eth_address",
			signer.Hex(), msg.EthAddress, sdkCtx.ChainID(), val, orchestrator)
	}
	for _, c := range []struct {
		m     collections.Map[string, string]
		key   string
		field string
	}{{k.SignerByEthAddress, msg.EthAddress, "eth_address"}, {k.SignerByOrchestrator, orchestrator, "orchestrator"}} {
		owner, err := c.m.Get(ctx, c.key)
		if err == nil && owner != val {
			return nil, errorsmod.Wrapf(types.ErrSignerTaken, "%s %s is registered for validator %s", c.field, c.key, owner)
		}
		if err != nil && !errors.Is(err, collections.ErrNotFound) {
			return nil, err
		}
	}

	height := sdkCtx.BlockHeight()
	cur, err := k.EthSigners.Get(ctx, val)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		cur = types.EthSigner{Validator: val, EthAddress: msg.EthAddress, Orchestrator: orchestrator, RegisteredHeight: height}
	case err != nil:
		return nil, err
	default:
		// A change replaces any pending one; its reservations are released first.
		if err := k.dropPending(ctx, &cur); err != nil {
			return nil, err
		}
		if cur.EthAddress != msg.EthAddress || cur.Orchestrator != orchestrator {
			cur.PendingEthAddress, cur.PendingOrchestrator = msg.EthAddress, orchestrator
			cur.PendingHeight = height + int64(p.SignerChangeDelayBlocks)
			if err := k.SignerChanges.Set(ctx, collections.Join(cur.PendingHeight, val)); err != nil {
				return nil, err
			}
		}
	}
	if err := k.EthSigners.Set(ctx, val, cur); err != nil {
		return nil, err
	}
	if err := k.SignerByEthAddress.Set(ctx, msg.EthAddress, val); err != nil {
		return nil, err
	}
	if err := k.SignerByOrchestrator.Set(ctx, orchestrator, val); err != nil {
		return nil, err
	}
	effective := height
	if cur.PendingHeight != 0 {
		effective = cur.PendingHeight
	}
	k.logger.Info("ethereum signer registered", "validator", val, "eth_address", msg.EthAddress, "orchestrator", orchestrator, "effective_height", effective)
	return &types.MsgRegisterEthSignerResponse{EffectiveHeight: effective}, sdkCtx.EventManager().EmitTypedEvent(&types.EventEthSignerRegistered{
		Validator: val, EthAddress: msg.EthAddress, Orchestrator: orchestrator, EffectiveHeight: effective,
	})
}

// dropPending cancels a signer's pending change and frees the addresses it reserved.
func (k Keeper) dropPending(ctx context.Context, s *types.EthSigner) error {
	if s.PendingHeight == 0 {
		return nil
	}
	if err := k.SignerChanges.Remove(ctx, collections.Join(s.PendingHeight, s.Validator)); err != nil {
		return err
	}
	if s.PendingEthAddress != s.EthAddress {
		if err := k.SignerByEthAddress.Remove(ctx, s.PendingEthAddress); err != nil {
			return err
		}
	}
	if s.PendingOrchestrator != s.Orchestrator {
		if err := k.SignerByOrchestrator.Remove(ctx, s.PendingOrchestrator); err != nil {
			return err
		}
	}
	s.PendingEthAddress, s.PendingOrchestrator, s.PendingHeight = "", "", 0
	return nil
}

// ApplySignerChanges runs in EndBlock: pending signer changes due by this height take effect, and the
// replaced addresses are freed. Each change was queued by one message, so the work is bounded by them.
func (k Keeper) ApplySignerChanges(ctx context.Context) error {
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	rng := new(collections.Range[collections.Pair[int64, string]]).EndExclusive(collections.Join(height+1, ""))
	it, err := k.SignerChanges.Iterate(ctx, rng)
	if err != nil {
		return err
	}
	due, err := it.Keys()
	if err != nil {
		return err
	}
	for _, key := range due {
		s, err := k.EthSigners.Get(ctx, key.K2())
		if err != nil {
			return err
		}
		if s.PendingEthAddress != s.EthAddress {
			if err := k.SignerByEthAddress.Remove(ctx, s.EthAddress); err != nil {
				return err
			}
		}
		if s.PendingOrchestrator != s.Orchestrator {
			if err := k.SignerByOrchestrator.Remove(ctx, s.Orchestrator); err != nil {
				return err
			}
		}
		s.EthAddress, s.Orchestrator = s.PendingEthAddress, s.PendingOrchestrator
		s.PendingEthAddress, s.PendingOrchestrator, s.PendingHeight = "", "", 0
		if err := k.EthSigners.Set(ctx, s.Validator, s); err != nil {
			return err
		}
		if err := k.SignerChanges.Remove(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// CurrentValset computes the bridge valset of the bonded validators now (nonce and height unset): every
// bonded validator with a registered signer, its power normalised over all bonded power to 2^32, members
// with a normalised power of 0 left out, in ascending signer address order. Work is bounded by the bonded
// validators (x/staking's max_validators).
func (k Keeper) CurrentValset(ctx context.Context) (types.BridgeValset, error) {
	total, err := k.staking.GetLastTotalPower(ctx)
	if err != nil || !total.IsPositive() {
		return types.BridgeValset{}, err
	}
	var members []types.ValsetMember
	var walkErr error
	err = k.staking.IterateLastValidatorPowers(ctx, func(op sdk.ValAddress, power int64) bool {
		val, err := k.staking.ValidatorAddressCodec().BytesToString(op)
		if err != nil {
			walkErr = err
			return true
		}
		s, err := k.EthSigners.Get(ctx, val)
		if errors.Is(err, collections.ErrNotFound) {
			return false
		}
		if err != nil {
			walkErr = err
			return true
		}
		norm := math.NewInt(power).Mul(math.NewIntFromUint64(contracts.TotalPower)).Quo(total)
		if norm.IsPositive() {
			members = append(members, types.ValsetMember{EthAddress: s.EthAddress, Power: norm.Uint64(), Validator: val})
		}
		return false
	})
	if err = errors.Join(err, walkErr); err != nil {
		return types.BridgeValset{}, err
	}
	slices.SortFunc(members, func(a, b types.ValsetMember) int {
		x, y := common.HexToAddress(a.EthAddress), common.HexToAddress(b.EthAddress)
		return bytes.Compare(x[:], y[:])
	})
	return types.BridgeValset{Members: members}, nil
}

// LatestValset returns the newest bridge valset, if any.
func (k Keeper) LatestValset(ctx context.Context) (types.BridgeValset, bool, error) {
	next, err := k.ValsetSeq.Peek(ctx)
	if err != nil || next <= 1 {
		return types.BridgeValset{}, false, err
	}
	vs, err := k.Valsets.Get(ctx, next-1)
	return vs, err == nil, err
}

// MaybeMakeValset runs in EndBlock while the bridge is on: it stores a new valset when the current one's
// members differ from the latest valset's or the powers moved by more than valset_change_bps of 2^32 in
// total. A valset whose total is not above 2/3 of 2^32 could never sign anything on the contract, so none
// is made while the registered signers hold that little of the bonded power.
func (k Keeper) MaybeMakeValset(ctx context.Context, p types.Params) error {
	if p.BridgeId == "" {
		return nil
	}
	cur, err := k.CurrentValset(ctx)
	if err != nil {
		return err
	}
	if 3*cur.TotalPower() <= 2*contracts.TotalPower {
		return nil
	}
	last, ok, err := k.LatestValset(ctx)
	if err != nil {
		return err
	}
	if ok && !valsetChanged(last, cur, p.ValsetChangeBps) {
		return nil
	}
	nonce, err := k.ValsetSeq.Next(ctx)
	if err != nil {
		return err
	}
	if nonce == 0 { // a store that never ran InitGenesis
		if nonce, err = k.ValsetSeq.Next(ctx); err != nil {
			return err
		}
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	cur.Nonce, cur.Height = nonce, sdkCtx.BlockHeight()
	if err := k.Valsets.Set(ctx, nonce, cur); err != nil {
		return err
	}
	if err := k.queueBridgeItem(ctx, p, types.BRIDGE_ITEM_KIND_VALSET, nonce, cur.Height, nonce); err != nil {
		return err
	}
	k.logger.Info("bridge valset made", "nonce", nonce, "members", len(cur.Members), "power", cur.TotalPower())
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventValsetCreated{Nonce: nonce, Members: uint32(len(cur.Members)), Power: cur.TotalPower()})
}

// valsetChanged: a member joined or left (by signer address), or Σ|Δpower| > changeBps of 2^32.
func valsetChanged(old, cur types.BridgeValset, changeBps uint32) bool {
	if len(old.Members) != len(cur.Members) {
		return true
	}
	var diff uint64
	for i := range old.Members {
		a, b := old.Members[i], cur.Members[i]
		if a.EthAddress != b.EthAddress {
			return true
		}
		diff += max(a.Power, b.Power) - min(a.Power, b.Power)
	}
	return diff*uint64(types.BpsDenominator) > uint64(changeBps)*contracts.TotalPower
}

// orchestratorValidator returns the validator whose orchestrator signs msg, and its signer.
func (k Keeper) orchestratorValidator(ctx context.Context, orchestrator string) (types.EthSigner, error) {
	orch, err := k.canonicalAddress(orchestrator)
	if err != nil {
		return types.EthSigner{}, errorsmod.Wrapf(types.ErrInvalidAddress, "orchestrator %q: %v", orchestrator, err)
	}
	val, err := k.SignerByOrchestrator.Get(ctx, orch)
	if errors.Is(err, collections.ErrNotFound) {
		return types.EthSigner{}, errorsmod.Wrapf(types.ErrNotOrchestrator, "%s is no validator's orchestrator; register one with nrod tx audit register-eth-signer", orch)
	}
	if err != nil {
		return types.EthSigner{}, err
	}
	s, err := k.EthSigners.Get(ctx, val)
	if err != nil {
		return types.EthSigner{}, err
	}
	if s.Orchestrator != orch {
		return types.EthSigner{}, errorsmod.Wrapf(types.ErrNotOrchestrator, "%s becomes validator %s's orchestrator at height %d", orch, val, s.PendingHeight)
	}
	return s, nil
}

// checkBridgeSig checks that sig, by the signer's current Ethereum key, signs digest.
func checkBridgeSig(s types.EthSigner, digest common.Hash, sig []byte, what string) error {
	got, err := contracts.RecoverSigner(digest, sig)
	if err != nil {
		return errorsmod.Wrapf(types.ErrInvalidBridgeSig, "%s: %v", what, err)
	}
	if got != common.HexToAddress(s.EthAddress) {
		return errorsmod.Wrapf(types.ErrInvalidBridgeSig, "%s: the signature recovers to %s, not validator %s's signer %s", what, got.Hex(), s.Validator, s.EthAddress)
	}
	return nil
}

func (k Keeper) readyParams(ctx context.Context) (types.Params, error) {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return p, err
	}
	if !p.BridgeReady() {
		return p, errorsmod.Wrap(types.ErrBridgeOff, "bridge_id, eth_chain_id and settlement_contract must be set (x/audit params) before signatures can be checked")
	}
	return p, nil
}

// ConfirmValset stores a validator's signature of the update to a valset.
func (k Keeper) ConfirmValset(ctx context.Context, msg *types.MsgConfirmValset) (*types.MsgConfirmValsetResponse, error) {
	p, err := k.readyParams(ctx)
	if err != nil {
		return nil, err
	}
	s, err := k.orchestratorValidator(ctx, msg.Orchestrator)
	if err != nil {
		return nil, err
	}
	vs, err := k.Valsets.Get(ctx, msg.Nonce)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, errorsmod.Wrapf(types.ErrValsetNotFound, "no valset %d (nrod q audit valsets)", msg.Nonce)
	}
	if err != nil {
		return nil, err
	}
	key := collections.Join(msg.Nonce, s.Validator)
	// The refusal must stay a registered error (not an errors.Join) so that its ABCI code reaches clients.
	if has, err := k.ValsetConfirms.Has(ctx, key); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrAlreadyConfirmed, "validator %s already signed valset %d", s.Validator, msg.Nonce)
	}
	digest, err := types.ValsetDigest(p, vs)
	if err != nil {
		return nil, err
	}
	if err := checkBridgeSig(s, digest, msg.Signature, fmt.Sprintf("valset %d", msg.Nonce)); err != nil {
		return nil, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	c := types.BridgeConfirm{Nonce: msg.Nonce, Validator: s.Validator, EthAddress: s.EthAddress, Signature: msg.Signature, Height: sdkCtx.BlockHeight()}
	if err := k.ValsetConfirms.Set(ctx, key, c); err != nil {
		return nil, err
	}
	return &types.MsgConfirmValsetResponse{}, sdkCtx.EventManager().EmitTypedEvent(&types.EventBridgeConfirmed{Kind: "valset", Nonce: msg.Nonce, Validator: s.Validator})
}

// ConfirmBatch stores a validator's signature of a pending settlement batch.
func (k Keeper) ConfirmBatch(ctx context.Context, msg *types.MsgConfirmBatch) (*types.MsgConfirmBatchResponse, error) {
	p, err := k.readyParams(ctx)
	if err != nil {
		return nil, err
	}
	s, err := k.orchestratorValidator(ctx, msg.Orchestrator)
	if err != nil {
		return nil, err
	}
	b, err := k.batchOf(ctx, msg.Nonce)
	if err != nil {
		return nil, err
	}
	if b.State != leasetypes.BATCH_STATE_PENDING {
		return nil, errorsmod.Wrapf(leasetypes.ErrBatchNotPending, "batch %d is %s; only a pending batch is signed", msg.Nonce, b.State)
	}
	key := collections.Join(msg.Nonce, s.Validator)
	// The refusal must stay a registered error (not an errors.Join) so that its ABCI code reaches clients.
	if has, err := k.BatchConfirms.Has(ctx, key); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrAlreadyConfirmed, "validator %s already signed batch %d", s.Validator, msg.Nonce)
	}
	digest, err := types.BatchDigest(p, b)
	if err != nil {
		return nil, err
	}
	if err := checkBridgeSig(s, digest, msg.Signature, fmt.Sprintf("batch %d", msg.Nonce)); err != nil {
		return nil, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	c := types.BridgeConfirm{Nonce: msg.Nonce, Validator: s.Validator, EthAddress: s.EthAddress, Signature: msg.Signature, Height: sdkCtx.BlockHeight()}
	if err := k.BatchConfirms.Set(ctx, key, c); err != nil {
		return nil, err
	}
	return &types.MsgConfirmBatchResponse{}, sdkCtx.EventManager().EmitTypedEvent(&types.EventBridgeConfirmed{Kind: "batch", Nonce: msg.Nonce, Validator: s.Validator})
}

// batchOf returns the batch a confirmation or attestation names. A batch x/audit has seen (up to its last
// observed nonce) that x/lease no longer holds was pruned — cancelled, or bridged and overtaken by a newer
// bridged batch, retention_blocks ago — so it is not pending: the refusal is ErrBatchNotPending, which a
// signer rescanning the contract from its start takes as "already done", not ErrBatchNotFound.
func (k Keeper) batchOf(ctx context.Context, nonce uint64) (leasetypes.SettlementBatch, error) {
	b, err := k.leases.GetBatch(ctx, nonce)
	if !errors.Is(err, leasetypes.ErrBatchNotFound) {
		return b, err
	}
	if last, lerr := k.LastObservedBatch.Get(ctx); lerr == nil && nonce <= last {
		return b, errorsmod.Wrap(leasetypes.ErrBatchNotPending, leasetypes.PrunedBatch(nonce))
	}
	return b, err
}

// claimHash identifies a claim among the attestations of one batch.
func claimHash(c types.BatchExecutedClaim) []byte {
	bz, _ := c.Marshal()
	h := sha256.Sum256(bz)
	return h[:]
}

// AttestBatchExecuted records a validator's attestation that the contract executed a batch, and applies
// the claim once its voters hold more than 2/3 of the bonded power and the batch before it is BRIDGED.
func (k Keeper) AttestBatchExecuted(ctx context.Context, msg *types.MsgAttestBatchExecuted) (*types.MsgAttestBatchExecutedResponse, error) {
	c := msg.Claim
	if c.BatchNonce == 0 || c.PrevBatchNonce >= c.BatchNonce || c.EthBlock == 0 || !txHashRe.MatchString(c.TxHash) {
		return nil, errorsmod.Wrapf(types.ErrInvalidClaim,
			"want batch_nonce ≥ 1, prev_batch_nonce below it (the contract's lastBatchNonce before), eth_block ≥ 1 and tx_hash 0x and 64 hex digits; got %d, %d, %d, %q",
			c.BatchNonce, c.PrevBatchNonce, c.EthBlock, c.TxHash)
	}
	s, err := k.orchestratorValidator(ctx, msg.Orchestrator)
	if err != nil {
		return nil, err
	}
	b, err := k.batchOf(ctx, c.BatchNonce)
	if err != nil {
		return nil, err
	}
	if b.State != leasetypes.BATCH_STATE_PENDING {
		return nil, errorsmod.Wrapf(leasetypes.ErrBatchNotPending, "batch %d is already %s", c.BatchNonce, b.State)
	}
	if c.PrevBatchNonce != 0 {
		if _, err := k.leases.GetBatch(ctx, c.PrevBatchNonce); err != nil {
			return nil, errorsmod.Wrapf(types.ErrInvalidClaim, "prev_batch_nonce %d: %v", c.PrevBatchNonce, err)
		}
	}
	vote := collections.Join(c.BatchNonce, s.Validator)
	// The refusal must stay a registered error (not an errors.Join) so that its ABCI code reaches clients.
	if has, err := k.AttestVotes.Has(ctx, vote); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrAlreadyAttested, "validator %s already attested batch %d", s.Validator, c.BatchNonce)
	}
	h := claimHash(c)
	att, err := k.BatchAttestations.Get(ctx, collections.Join(c.BatchNonce, h))
	if errors.Is(err, collections.ErrNotFound) {
		att, err = types.BatchAttestation{Claim: c}, nil
	}
	if err != nil {
		return nil, err
	}
	att.Validators = append(att.Validators, s.Validator)
	if err := k.BatchAttestations.Set(ctx, collections.Join(c.BatchNonce, h), att); err != nil {
		return nil, err
	}
	if err := k.AttestVotes.Set(ctx, vote); err != nil {
		return nil, err
	}
	voted, total, err := k.attestedPower(ctx, att)
	if err != nil {
		return nil, err
	}
	applied := false
	if 3*voted > 2*total {
		if applied, err = k.applyAttestation(ctx, c.BatchNonce, h); err != nil {
			return nil, err
		}
		if applied {
			if err := k.applyFollowing(ctx); err != nil {
				return nil, err
			}
		}
	}
	return &types.MsgAttestBatchExecutedResponse{Applied: applied}, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBatchExecutedAttested{
		BatchNonce: c.BatchNonce, Validator: s.Validator, VotedPower: voted, TotalPower: total, Applied: applied,
	})
}

// attestedPower is the bonded power of the claim's voters now, and the total bonded power.
func (k Keeper) attestedPower(ctx context.Context, att types.BatchAttestation) (int64, int64, error) {
	total, err := k.staking.GetLastTotalPower(ctx)
	if err != nil {
		return 0, 0, err
	}
	var voted int64
	for _, v := range att.Validators {
		bz, err := k.staking.ValidatorAddressCodec().StringToBytes(v)
		if err != nil {
			return 0, 0, err
		}
		p, err := k.staking.GetLastValidatorPower(ctx, bz)
		if err != nil {
			return 0, 0, err
		}
		voted += p
	}
	return voted, total.Int64(), nil
}

// applyAttestation marks the batch BRIDGED if the claim's previous batch is BRIDGED (or 0). It runs in a
// cache context: a claim x/lease refuses is logged and kept, with no partial write.
func (k Keeper) applyAttestation(ctx context.Context, nonce uint64, h []byte) (bool, error) {
	att, err := k.BatchAttestations.Get(ctx, collections.Join(nonce, h))
	if err != nil {
		return false, err
	}
	if att.Applied {
		return false, nil
	}
	if prev := att.Claim.PrevBatchNonce; prev != 0 {
		pb, err := k.leases.GetBatch(ctx, prev)
		if errors.Is(err, leasetypes.ErrBatchNotFound) || (err == nil && pb.State != leasetypes.BATCH_STATE_BRIDGED) {
			return false, nil // waits for the batch before it (or names none: never applied)
		}
		if err != nil {
			return false, err
		}
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	cache, write := sdkCtx.CacheContext()
	if err := k.leases.MarkBatchBridged(cache, nonce, att.Claim.PrevBatchNonce, att.Claim.EthBlock, att.Claim.TxHash); err != nil {
		k.logger.Error("attested batch execution not applied", "batch", nonce, "prev", att.Claim.PrevBatchNonce, "err", err)
		return false, nil
	}
	write()
	att.Applied, att.AppliedHeight = true, sdkCtx.BlockHeight()
	return true, k.BatchAttestations.Set(ctx, collections.Join(nonce, h), att)
}

// applyFollowing applies, in nonce order, claims that were waiting for the batch before them and have more
// than 2/3 of the power. Bounded by the pending batches and their claims (at most one per validator).
func (k Keeper) applyFollowing(ctx context.Context) error {
	for {
		pending, err := k.leases.PendingBatches(ctx)
		if err != nil {
			return err
		}
		progressed := false
		for _, b := range pending {
			it, err := k.BatchAttestations.Iterate(ctx, collections.NewPrefixedPairRange[uint64, []byte](b.Nonce))
			if err != nil {
				return err
			}
			atts, err := it.Values()
			if err != nil {
				return err
			}
			for _, att := range atts {
				voted, total, err := k.attestedPower(ctx, att)
				if err != nil {
					return err
				}
				if 3*voted <= 2*total {
					continue
				}
				ok, err := k.applyAttestation(ctx, b.Nonce, claimHash(att.Claim))
				if err != nil {
					return err
				}
				if ok {
					progressed = true
					break
				}
			}
			if progressed {
				break
			}
		}
		if !progressed {
			return nil
		}
	}
}
