package keeper

import (
	"errors"
	"fmt"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// Migrator holds the store migrations of x/audit.
type Migrator struct{ k Keeper }

// NewMigrator returns the module's migrations.
func NewMigrator(k Keeper) Migrator { return Migrator{k} }

// Migrate1to2 brings in the bridge upkeep (bridge_upkeep.go): signing windows and the pruning of bridge
// records. Up to consensus version 1 the params had no upkeep fields and nothing queued valsets or batches
// for either, so the migration
//
//   - sets the upkeep params to their defaults (bridge_retention_blocks, valsets_kept,
//     max_bridge_pruned_per_block, signed_window_blocks, slash_fraction_unsigned, jail_unsigned,
//     max_unsigned_checks_per_block; a version 1 chain has them all zero, and zero valsets_kept and a nil
//     slash fraction are not valid params) and checks the result;
//   - enters every existing valset and x/lease settlement batch into the pruning queue, at the height
//     queueBridgeItem would have used (made height + bridge_retention_blocks): pruneBridge then moves each to
//     the height it becomes prunable at, within max_bridge_pruned_per_block per block;
//   - opens no signing window for them: they were made before the rule existed, and a validator that did
//     not confirm one had not been told it would be punished. From the upgrade on, every new valset and
//     batch gets its window;
//   - sets the last observed batch to x/lease's newest, so that EndBlock does not take the old batches for
//     new ones.
//
// It reads every valset and batch once, in the upgrade block only.
func (m Migrator) Migrate1to2(ctx sdk.Context) error {
	k := m.k
	p, err := k.Params.Get(ctx)
	if err != nil {
		return fmt.Errorf("read the params: %w", err)
	}
	d := types.DefaultParams()
	p.BridgeRetentionBlocks = d.BridgeRetentionBlocks
	p.ValsetsKept = d.ValsetsKept
	p.MaxBridgePrunedPerBlock = d.MaxBridgePrunedPerBlock
	p.SignedWindowBlocks = d.SignedWindowBlocks
	p.SlashFractionUnsigned = d.SlashFractionUnsigned
	p.JailUnsigned = d.JailUnsigned
	p.MaxUnsignedChecksPerBlock = d.MaxUnsignedChecksPerBlock
	if err := p.Validate(); err != nil {
		return fmt.Errorf("the params with the bridge upkeep defaults: %w", err)
	}
	if err := k.Params.Set(ctx, p); err != nil {
		return err
	}
	retention := int64(p.BridgeRetentionBlocks)

	it, err := k.Valsets.Iterate(ctx, nil)
	if err != nil {
		return err
	}
	valsets, err := it.Values()
	if err != nil {
		return fmt.Errorf("read the valsets: %w", err)
	}
	for _, vs := range valsets {
		if err := k.BridgePrunes.Set(ctx, queueKey(vs.Height+retention, types.BRIDGE_ITEM_KIND_VALSET, vs.Nonce)); err != nil {
			return err
		}
	}

	var last uint64
	for nonce := uint64(1); ; nonce++ {
		b, err := k.leases.GetBatch(ctx, nonce)
		if errors.Is(err, leasetypes.ErrBatchNotFound) {
			break
		}
		if err != nil {
			return fmt.Errorf("read batch %d: %w", nonce, err)
		}
		if err := k.BridgePrunes.Set(ctx, queueKey(b.CreatedHeight+retention, types.BRIDGE_ITEM_KIND_BATCH, b.Nonce)); err != nil {
			return err
		}
		last = b.Nonce
	}
	if last == 0 {
		if err := k.LastObservedBatch.Remove(ctx); err != nil && !errors.Is(err, collections.ErrNotFound) {
			return err
		}
		return nil
	}
	return k.LastObservedBatch.Set(ctx, last)
}

// Migrate2to3 marks the GPU telemetry fields of consensus version 3: GpuMetrics carries the SM and memory
// clocks and names the values NVML could not read (unavailable, each sent as 0), and a present NVML device
// that lists GPU_FIELD_MEMORY may report a memory total of 0. Reports stored before the upgrade decode with
// those fields empty and stay valid, so no state changes; what changes is what MsgSubmitTelemetry accepts
// from the upgrade height on (a version 2 binary refuses the new fields as unknown).
func (m Migrator) Migrate2to3(sdk.Context) error { return nil }
