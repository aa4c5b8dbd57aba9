package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/internal/collx"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// The bridge's upkeep in EndBlock (x/audit/README.md, "Ethereum bridge: signing windows and pruning"): every
// valset and every x/lease settlement batch enters two height-indexed queues when it is made — its signing
// window (UnsignedChecks, due signed_window_blocks after its creation) and its pruning (BridgePrunes, due
// bridge_retention_blocks after it). EndBlock reads only the entries due at its height, a bounded number per
// block, so no block ever scans all valsets, batches or confirmations.

// kindName is the event name of a bridge item kind, as EventBridgeConfirmed spells it.
func kindName(kind types.BridgeItemKind) string {
	if kind == types.BRIDGE_ITEM_KIND_BATCH {
		return "batch"
	}
	return "valset"
}

func queueKey(height int64, kind types.BridgeItemKind, nonce uint64) BridgeQueueKey {
	return collections.Join3(height, int32(kind), nonce)
}

// queueBridgeItem enters a new valset or batch, made at height with the valset valsetNonce in force, into
// the signing-window queue (while signed_window_blocks > 0 and there is a valset to expect signatures from)
// and into the pruning queue.
func (k Keeper) queueBridgeItem(ctx context.Context, p types.Params, kind types.BridgeItemKind, nonce uint64, height int64, valsetNonce uint64) error {
	if p.SignedWindowBlocks > 0 && valsetNonce > 0 {
		due := height + int64(p.SignedWindowBlocks)
		if err := k.UnsignedChecks.Set(ctx, queueKey(due, kind, nonce), types.UnsignedCheck{
			DueHeight: due, Kind: kind, Nonce: nonce, CreatedHeight: height, ValsetNonce: valsetNonce,
		}); err != nil {
			return err
		}
	}
	return k.BridgePrunes.Set(ctx, queueKey(height+int64(p.BridgeRetentionBlocks), kind, nonce))
}

// observeBatches queues the settlement batches x/lease made since the last EndBlock (x/lease's EndBlock runs
// before x/audit's, so a batch is seen in the block that made it, with the valset in force then). At most
// max_unsigned_checks_per_block batches per block; x/lease makes at most one per block.
func (k Keeper) observeBatches(ctx context.Context, p types.Params) error {
	last, err := k.LastObservedBatch.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	var valsetNonce uint64
	if vs, ok, err := k.LatestValset(ctx); err != nil {
		return err
	} else if ok {
		valsetNonce = vs.Nonce
	}
	seen := last
	for i := uint32(0); i < p.MaxUnsignedChecksPerBlock; i++ {
		b, err := k.leases.GetBatch(ctx, seen+1)
		if errors.Is(err, leasetypes.ErrBatchNotFound) {
			break
		}
		if err != nil {
			return err
		}
		seen = b.Nonce
		if err := k.queueBridgeItem(ctx, p, types.BRIDGE_ITEM_KIND_BATCH, b.Nonce, b.CreatedHeight, valsetNonce); err != nil {
			return err
		}
	}
	if seen == last {
		return nil
	}
	return k.LastObservedBatch.Set(ctx, seen)
}

func dueRange(height int64) *collections.Range[BridgeQueueKey] {
	return new(collections.Range[BridgeQueueKey]).EndExclusive(collections.Join3(height+1, int32(0), uint64(0)))
}

// checkSigningWindows punishes, for each valset and batch whose signing window closes by this height (at
// most max_unsigned_checks_per_block per block, oldest first), the members of its valset that have not
// confirmed it (punishUnsigned). A batch that is no longer PENDING punishes no one: once bridged or
// cancelled it cannot be signed any more, so those who had not signed yet had no way to.
func (k Keeper) checkSigningWindows(ctx context.Context, p types.Params) error {
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	it, err := k.UnsignedChecks.Iterate(ctx, dueRange(height))
	if err != nil {
		return err
	}
	keys, err := collx.TakeKeys[BridgeQueueKey](it, int(p.MaxUnsignedChecksPerBlock))
	if err != nil {
		return err
	}
	for _, key := range keys {
		c, err := k.UnsignedChecks.Get(ctx, key)
		if err != nil {
			return err
		}
		if err := k.UnsignedChecks.Remove(ctx, key); err != nil {
			return err
		}
		if err := k.checkSigningWindow(ctx, p, c); err != nil {
			return err
		}
	}
	return nil
}

func (k Keeper) checkSigningWindow(ctx context.Context, p types.Params, c types.UnsignedCheck) error {
	confirms := k.ValsetConfirms
	if c.Kind == types.BRIDGE_ITEM_KIND_BATCH {
		b, err := k.leases.GetBatch(ctx, c.Nonce)
		if errors.Is(err, leasetypes.ErrBatchNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if b.State != leasetypes.BATCH_STATE_PENDING {
			return nil
		}
		confirms = k.BatchConfirms
	}
	vs, err := k.Valsets.Get(ctx, c.ValsetNonce)
	if errors.Is(err, collections.ErrNotFound) {
		return nil // pruned under params changed since (bridge_retention_blocks is above the window)
	}
	if err != nil {
		return err
	}
	for _, m := range vs.Members {
		signed, err := confirms.Has(ctx, collections.Join(c.Nonce, m.Validator))
		if err != nil {
			return err
		}
		if signed {
			continue
		}
		if err := k.punishUnsigned(ctx, p, c, m.Validator); err != nil {
			return err
		}
	}
	return nil
}

// punishUnsigned slashes slash_fraction_unsigned of validator val's tokens at the current height and, with
// jail_unsigned, jails it, for not confirming the item of c. Not punished: a validator whose Ethereum signer
// was registered after the item was made, one that no longer exists or is unbonded (x/staking cannot slash
// it), and one already jailed (it is out of the set and was punished already). The punishment runs in a
// cache context: a refusal by x/staking (never user input) is logged and that validator skipped, so that a
// single odd validator cannot halt the chain.
func (k Keeper) punishUnsigned(ctx context.Context, p types.Params, c types.UnsignedCheck, val string) error {
	s, err := k.EthSigners.Get(ctx, val)
	if errors.Is(err, collections.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if s.RegisteredHeight > c.CreatedHeight {
		return nil
	}
	bz, err := k.staking.ValidatorAddressCodec().StringToBytes(val)
	if err != nil {
		return err
	}
	v, err := k.staking.GetValidator(ctx, bz)
	if err != nil {
		k.logger.Info("unsigned bridge item: validator not found, not punished", "validator", val, "kind", kindName(c.Kind), "nonce", c.Nonce, "err", err)
		return nil
	}
	if v.IsUnbonded() || v.IsJailed() {
		return nil
	}
	cons, err := v.GetConsAddr()
	if err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	cache, write := sdkCtx.CacheContext()
	slashed := math.ZeroInt()
	if p.SlashFractionUnsigned.IsPositive() {
		power := v.PotentialConsensusPower(k.staking.PowerReduction(ctx))
		if slashed, err = k.staking.Slash(cache, cons, sdkCtx.BlockHeight(), power, p.SlashFractionUnsigned); err != nil {
			k.logger.Error("unsigned bridge item: slash refused", "validator", val, "kind", kindName(c.Kind), "nonce", c.Nonce, "err", err)
			return nil
		}
	}
	if p.JailUnsigned {
		if err := k.staking.Jail(cache, cons); err != nil {
			k.logger.Error("unsigned bridge item: jail refused", "validator", val, "kind", kindName(c.Kind), "nonce", c.Nonce, "err", err)
			return nil
		}
		// Out for downtime_jail_duration, as x/slashing does after downtime: without it the validator could
		// unjail in the next block. A validator without signing info (none in a running chain: x/slashing
		// makes it at bonding) stays jailed with no delay.
		d, err := k.slashing.DowntimeJailDuration(cache)
		if err == nil {
			err = k.slashing.JailUntil(cache, cons, sdkCtx.BlockTime().Add(d))
		}
		if err != nil {
			k.logger.Info("unsigned bridge item: jailed without an unjail delay", "validator", val, "err", err)
		}
	}
	if slashed.IsZero() && !p.JailUnsigned {
		return nil
	}
	write()
	k.logger.Info("validator punished for not signing", "validator", val, "kind", kindName(c.Kind), "nonce", c.Nonce,
		"created_height", c.CreatedHeight, "slashed", slashed.String(), "jailed", p.JailUnsigned)
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventBridgeSignerSlashed{
		Validator: val, Kind: kindName(c.Kind), Nonce: c.Nonce, CreatedHeight: c.CreatedHeight, SlashedTokens: slashed, Jailed: p.JailUnsigned,
	})
}

// pruneBridge removes the records of valsets and batches that are no longer needed, at most
// max_bridge_pruned_per_block records (and queue entries) per block, oldest queue entry first. While
// bridge_retention_blocks is 0 nothing is pruned and the queue waits.
//
//   - A valset n is pruned (its confirmations, then the valset) once valsets_kept newer valsets exist and the
//     valsets_kept-th newer one, n + valsets_kept, was made bridge_retention_blocks ago: the relayer had that
//     long to move the contract off n, and the newest valsets_kept stay whatever happens.
//   - A batch's confirmations, attestations and votes are pruned bridge_retention_blocks after it was BRIDGED
//     or CANCELLED; a PENDING batch keeps everything. The batch itself is x/lease's and stays.
//
// An entry that is due but not prunable yet moves to the height at which it may be (or retention later).
func (k Keeper) pruneBridge(ctx context.Context, p types.Params) error {
	if p.BridgeRetentionBlocks == 0 {
		return nil
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	budget := int(p.MaxBridgePrunedPerBlock)
	it, err := k.BridgePrunes.Iterate(ctx, dueRange(height))
	if err != nil {
		return err
	}
	keys, err := collx.TakeKeys[BridgeQueueKey](it, budget)
	if err != nil {
		return err
	}
	latest, _, err := k.LatestValset(ctx)
	if err != nil {
		return err
	}
	for _, key := range keys {
		if budget <= 0 {
			return nil
		}
		kind, nonce := types.BridgeItemKind(key.K2()), key.K3()
		at, err := k.prunableAt(ctx, p, kind, nonce, latest.Nonce)
		if err != nil {
			return err
		}
		if at > height {
			budget-- // moving the entry counts too, so that a block moves at most the budget
			if err := k.BridgePrunes.Remove(ctx, key); err != nil {
				return err
			}
			if err := k.BridgePrunes.Set(ctx, queueKey(at, kind, nonce)); err != nil {
				return err
			}
			continue
		}
		n, done, err := k.pruneItem(ctx, kind, nonce, budget)
		if err != nil {
			return err
		}
		budget -= n.confirms + n.attestations + n.other
		if done {
			if err := k.BridgePrunes.Remove(ctx, key); err != nil {
				return err
			}
		}
		if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBridgePruned{
			Kind: kindName(kind), Nonce: nonce, Confirms: uint32(n.confirms), Attestations: uint32(n.attestations), Done: done,
		}); err != nil {
			return err
		}
		if !done {
			return nil // budget spent; the rest goes next block
		}
	}
	return nil
}

// prunableAt is the first height at which the item's records may be pruned (see pruneBridge).
func (k Keeper) prunableAt(ctx context.Context, p types.Params, kind types.BridgeItemKind, nonce, latestValset uint64) (int64, error) {
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	retention := int64(p.BridgeRetentionBlocks)
	if kind == types.BRIDGE_ITEM_KIND_BATCH {
		b, err := k.leases.GetBatch(ctx, nonce)
		switch {
		case errors.Is(err, leasetypes.ErrBatchNotFound):
			return height, nil
		case err != nil:
			return 0, err
		case b.State == leasetypes.BATCH_STATE_PENDING:
			return height + retention, nil
		default:
			return b.ClosedHeight + retention, nil
		}
	}
	newer := nonce + uint64(p.ValsetsKept)
	if newer > latestValset {
		return height + retention, nil // not valsets_kept newer ones yet: look again later
	}
	successor, err := k.Valsets.Get(ctx, newer)
	if errors.Is(err, collections.ErrNotFound) {
		return height, nil
	}
	if err != nil {
		return 0, err
	}
	return successor.Height + retention, nil
}

type prunedCounts struct{ confirms, attestations, other int }

// pruneItem removes up to budget records of a valset or batch: confirmations first, then (a batch)
// attestations and their votes, then (a valset) the valset itself. done says nothing is left.
func (k Keeper) pruneItem(ctx context.Context, kind types.BridgeItemKind, nonce uint64, budget int) (prunedCounts, bool, error) {
	var n prunedCounts
	confirms := k.ValsetConfirms
	if kind == types.BRIDGE_ITEM_KIND_BATCH {
		confirms = k.BatchConfirms
	}
	var err error
	if n.confirms, err = removeRange(ctx, confirms, collections.NewPrefixedPairRange[uint64, string](nonce), budget); err != nil || n.confirms == budget {
		return n, false, err
	}
	budget -= n.confirms
	if kind == types.BRIDGE_ITEM_KIND_BATCH {
		done, err := k.pruneAttestations(ctx, nonce, budget, &n)
		return n, done, err
	}
	if has, err := k.Valsets.Has(ctx, nonce); err != nil {
		return n, false, err
	} else if has {
		if budget == 0 {
			return n, false, nil
		}
		if err := k.Valsets.Remove(ctx, nonce); err != nil {
			return n, false, err
		}
		n.other = 1
	}
	return n, true, nil
}

// removeRange removes up to limit entries of m in rng and returns how many it removed. A result equal to
// limit may leave more behind.
func removeRange[K, V any](ctx context.Context, m collections.Map[K, V], rng collections.Ranger[K], limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	it, err := m.Iterate(ctx, rng)
	if err != nil {
		return 0, err
	}
	keys, err := collx.TakeKeys[K](it, limit)
	if err != nil {
		return 0, err
	}
	for _, key := range keys {
		if err := m.Remove(ctx, key); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// pruneAttestations removes a batch's attestations and their votes, about budget records, and says whether
// none is left. The votes go with the attestation that holds them — a vote, and the attestation's
// validator list shortened to match; the attestation itself with its last vote (one record past the
// budget at most) — so that at every height each vote belongs to a stored attestation, and an export taken
// mid-pruning (which rebuilds the votes from the attestations) imports to the same state.
func (k Keeper) pruneAttestations(ctx context.Context, nonce uint64, budget int, n *prunedCounts) (bool, error) {
	rng := collections.NewPrefixedPairRange[uint64, []byte](nonce)
	for budget > 0 {
		it, err := k.BatchAttestations.Iterate(ctx, rng)
		if err != nil {
			return false, err
		}
		if !it.Valid() {
			return true, it.Close()
		}
		kv, err := it.KeyValue()
		if err := errors.Join(err, it.Close()); err != nil {
			return false, err
		}
		att := kv.Value
		for budget > 0 && len(att.Validators) > 0 {
			last := len(att.Validators) - 1
			if err := k.AttestVotes.Remove(ctx, collections.Join(nonce, att.Validators[last])); err != nil {
				return false, err
			}
			att.Validators = att.Validators[:last]
			n.other++
			budget--
		}
		if len(att.Validators) > 0 {
			return false, k.BatchAttestations.Set(ctx, kv.Key, att)
		}
		if err := k.BatchAttestations.Remove(ctx, kv.Key); err != nil {
			return false, err
		}
		n.attestations++
		budget--
	}
	it, err := k.BatchAttestations.Iterate(ctx, rng)
	if err != nil {
		return false, err
	}
	left := it.Valid()
	return !left, it.Close()
}
