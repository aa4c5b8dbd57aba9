package keeper

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/internal/collx"
	"github.com/consensus-nro/nro/x/lease/types"
)

// Pruning (x/lease/README.md, "Pruning"). An ended lease (CLOSED, CANCELLED, EXPIRED) and a batch that is
// no longer needed (CANCELLED, or BRIDGED and overtaken by a newer BRIDGED batch) enter the Prunes queue
// at the height that happened. EndBlock removes them retention_blocks later, oldest first and at most
// max_pruned_per_block of them per block, with their settlement records: a lease takes its records that
// were not bridged, a bridged batch the records it paid. A bridged record is never removed before its
// batch is bridged, so nothing the bridge still owes is lost; what bridged batches paid stays counted in
// BridgedTotal, which the bridge escrow backs.

// queuePrune enters a lease or batch into the pruning queue from height.
func (k Keeper) queuePrune(ctx context.Context, height int64, kind types.PruneKind, id uint64) error {
	return k.Prunes.Set(ctx, collections.Join3(height, kind, id))
}

// newestBridged returns the nonce of the newest BRIDGED batch, if any.
func (k Keeper) newestBridged(ctx context.Context) (uint64, bool, error) {
	it, err := k.Batches.Indexes.State.Iterate(ctx,
		collections.NewPrefixedPairRange[int32, uint64](int32(types.BATCH_STATE_BRIDGED)).Descending())
	if err != nil {
		return 0, false, err
	}
	if !it.Valid() {
		return 0, false, it.Close()
	}
	nonce, err := it.PrimaryKey()
	if err := errors.Join(err, it.Close()); err != nil {
		return 0, false, err
	}
	return nonce, true, nil
}

// addBridgedTotal adds a bridged batch's total to BridgedTotal.
func (k Keeper) addBridgedTotal(ctx context.Context, total sdk.Coin) error {
	sum, err := k.BridgedTotal.Get(ctx, total.Denom)
	if errors.Is(err, collections.ErrNotFound) {
		sum, err = math.ZeroInt(), nil
	}
	if err != nil {
		return err
	}
	return k.BridgedTotal.Set(ctx, total.Denom, sum.Add(total.Amount))
}

// BridgedTotals returns, per denom, the sum of the totals of every batch ever bridged.
func (k Keeper) BridgedTotals(ctx context.Context) (sdk.Coins, error) {
	var out sdk.Coins
	err := k.BridgedTotal.Walk(ctx, nil, func(denom string, amount math.Int) (bool, error) {
		out = out.Add(sdk.NewCoin(denom, amount))
		return false, nil
	})
	return out, err
}

// Prune runs in EndBlock, after MakeBatch: it removes the queued leases and batches whose retention has
// passed, at most max_pruned_per_block of them, and emits one EventStatePruned.
func (k Keeper) Prune(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if params.RetentionBlocks == 0 {
		return nil
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	cutoff := sdkCtx.BlockHeight() - int64(params.RetentionBlocks)
	if cutoff < 0 {
		return nil
	}
	it, err := k.Prunes.Iterate(ctx, new(collections.Range[PruneKey]).EndExclusive(collections.Join3(cutoff+1, int32(0), uint64(0))))
	if err != nil {
		return err
	}
	keys, err := collx.TakeKeys[PruneKey](it, int(params.MaxPrunedPerBlock))
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	var ev types.EventStatePruned
	for _, key := range keys {
		if err := k.Prunes.Remove(ctx, key); err != nil {
			return err
		}
		var n int
		switch kind, id := key.K2(), key.K3(); kind {
		case types.PruneLease:
			if n, err = k.pruneLease(ctx, id); err == nil {
				ev.LeaseIds = append(ev.LeaseIds, id)
			}
		case types.PruneBatch:
			if n, err = k.pruneBatch(ctx, id); err == nil {
				ev.BatchNonces = append(ev.BatchNonces, id)
			}
		default:
			err = fmt.Errorf("pruning queue entry (%d, %d, %d) has an unknown kind", key.K1(), kind, id)
		}
		if err != nil {
			return err
		}
		ev.Records += uint32(n)
	}
	k.logger.Debug("state pruned", "leases", len(ev.LeaseIds), "batches", len(ev.BatchNonces), "records", ev.Records, "retention_blocks", params.RetentionBlocks)
	return sdkCtx.EventManager().EmitTypedEvent(&ev)
}

// pruneLease removes an ended lease and those of its settlement records that were not bridged, and returns
// how many records it removed. Bridged records stay until their batch, bridged, is pruned.
func (k Keeper) pruneLease(ctx context.Context, id uint64) (int, error) {
	l, err := k.Leases.Get(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("prune lease %d: %w", id, err)
	}
	if l.IsOpen() {
		return 0, fmt.Errorf("prune lease %d: it is %s, not ended", id, l.State)
	}
	it, err := k.SettlementRecords.Indexes.Lease.MatchExact(ctx, id)
	if err != nil {
		return 0, err
	}
	ids, err := it.PrimaryKeys()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rid := range ids {
		r, err := k.SettlementRecords.Get(ctx, rid)
		if err != nil {
			return 0, fmt.Errorf("prune lease %d: record %d: %w", id, rid, err)
		}
		if r.Bridged {
			continue
		}
		if err := k.SettlementRecords.Remove(ctx, rid); err != nil {
			return 0, err
		}
		n++
	}
	return n, k.Leases.Remove(ctx, id)
}

// pruneBatch removes a cancelled batch, or a bridged batch with the records it paid, and returns how many
// records it removed. A cancelled batch's records went back to wait for a later batch and are not touched.
func (k Keeper) pruneBatch(ctx context.Context, nonce uint64) (int, error) {
	b, err := k.Batches.Get(ctx, nonce)
	if err != nil {
		return 0, fmt.Errorf("prune batch %d: %w", nonce, err)
	}
	n := 0
	switch b.State {
	case types.BATCH_STATE_BRIDGED:
		for _, id := range b.RecordIds {
			if err := k.SettlementRecords.Remove(ctx, id); err != nil {
				return 0, fmt.Errorf("prune batch %d: record %d: %w", nonce, id, err)
			}
			n++
		}
	case types.BATCH_STATE_CANCELLED:
	default:
		return 0, fmt.Errorf("prune batch %d: it is %s", nonce, b.State)
	}
	return n, k.Batches.Remove(ctx, nonce)
}

// expectedPrunes lists the pruning queue entries the state implies: each ended lease at its closed height,
// each cancelled batch at its cancellation, each bridged batch but the newest at the height the next
// bridged batch was bridged (its closed height). InitGenesis and the migration build the queue from it,
// and the invariant compares the queue with it.
func (k Keeper) expectedPrunes(leases []types.Lease, batches []types.SettlementBatch) []PruneKey {
	var keys []PruneKey
	for _, l := range leases {
		if !l.IsOpen() {
			keys = append(keys, collections.Join3(l.ClosedHeight, types.PruneLease, l.Id))
		}
	}
	batches = slices.Clone(batches)
	slices.SortFunc(batches, func(a, b types.SettlementBatch) int { return cmp.Compare(a.Nonce, b.Nonce) })
	var bridged []types.SettlementBatch
	for _, b := range batches {
		switch b.State {
		case types.BATCH_STATE_CANCELLED:
			keys = append(keys, collections.Join3(b.ClosedHeight, types.PruneBatch, b.Nonce))
		case types.BATCH_STATE_BRIDGED:
			bridged = append(bridged, b)
		}
	}
	for i := 0; i+1 < len(bridged); i++ {
		keys = append(keys, collections.Join3(bridged[i+1].ClosedHeight, types.PruneBatch, bridged[i].Nonce))
	}
	return keys
}

// allLeasesAndBatches reads every lease and batch (genesis, migration and invariant only).
func (k Keeper) allLeasesAndBatches(ctx context.Context) ([]types.Lease, []types.SettlementBatch, error) {
	var leases []types.Lease
	if err := k.Leases.Walk(ctx, nil, func(_ uint64, l types.Lease) (bool, error) {
		leases = append(leases, l)
		return false, nil
	}); err != nil {
		return nil, nil, err
	}
	var batches []types.SettlementBatch
	if err := k.Batches.Walk(ctx, nil, func(_ uint64, b types.SettlementBatch) (bool, error) {
		batches = append(batches, b)
		return false, nil
	}); err != nil {
		return nil, nil, err
	}
	return leases, batches, nil
}

// checkPruneInvariant: the pruning queue holds exactly the entries the leases and batches imply, and the
// bridged batches still stored paid no more than BridgedTotal counts.
func (k Keeper) checkPruneInvariant(ctx context.Context) error {
	leases, batches, err := k.allLeasesAndBatches(ctx)
	if err != nil {
		return err
	}
	want := k.expectedPrunes(leases, batches)
	slices.SortFunc(want, comparePruneKeys)
	it, err := k.Prunes.Iterate(ctx, nil)
	if err != nil {
		return err
	}
	got, err := it.Keys()
	if err != nil {
		return err
	}
	if !slices.EqualFunc(got, want, func(a, b PruneKey) bool { return comparePruneKeys(a, b) == 0 }) {
		return fmt.Errorf("pruning queue holds %d entries %s but the ended leases and finished batches imply %d: %s",
			len(got), pruneKeysString(got), len(want), pruneKeysString(want))
	}
	stored := sdk.NewCoins()
	for _, b := range batches {
		if b.State == types.BATCH_STATE_BRIDGED {
			stored = stored.Add(b.Total)
		}
	}
	total, err := k.BridgedTotals(ctx)
	if err != nil {
		return err
	}
	if !total.IsAllGTE(stored) {
		return fmt.Errorf("bridged_total %s is below the totals of the stored bridged batches %s", total, stored)
	}
	return nil
}

func comparePruneKeys(a, b PruneKey) int {
	return cmp.Or(cmp.Compare(a.K1(), b.K1()), cmp.Compare(a.K2(), b.K2()), cmp.Compare(a.K3(), b.K3()))
}

func pruneKeysString(keys []PruneKey) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("(%d,%d,%d)", k.K1(), k.K2(), k.K3())
	}
	return "[" + strings.Join(out, " ") + "]"
}
