package keeper

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/types"
)

// Migrator holds the store migrations of x/lease.
type Migrator struct{ k Keeper }

// NewMigrator returns the module's migrations.
func NewMigrator(k Keeper) Migrator { return Migrator{k} }

// Migrate1to2 brings in pruning (prune.go). Up to consensus version 1 nothing was ever removed, the params
// had no retention fields and nothing counted what bridged batches paid, so the migration
//
//   - sets retention_blocks and max_pruned_per_block to their defaults (a version 1 chain has them zero,
//     and zero max_pruned_per_block is not valid) and checks the result;
//   - enters every ended lease and finished batch into the pruning queue at the height it stopped being
//     needed (as InitGenesis does): those older than retention_blocks are pruned from the next blocks on,
//     at most max_pruned_per_block per block;
//   - sets the bridged total of each denom to the sum of the bridged batches' totals: none has been
//     pruned yet.
//
// It reads every lease and batch once, in the upgrade block only.
func (m Migrator) Migrate1to2(ctx sdk.Context) error {
	k := m.k
	p, err := k.Params.Get(ctx)
	if err != nil {
		return fmt.Errorf("read the params: %w", err)
	}
	d := types.DefaultParams()
	p.RetentionBlocks, p.MaxPrunedPerBlock = d.RetentionBlocks, d.MaxPrunedPerBlock
	if err := p.Validate(); err != nil {
		return fmt.Errorf("the params with the pruning defaults: %w", err)
	}
	if err := k.Params.Set(ctx, p); err != nil {
		return err
	}
	leases, batches, err := k.allLeasesAndBatches(ctx)
	if err != nil {
		return err
	}
	for _, key := range k.expectedPrunes(leases, batches) {
		if err := k.Prunes.Set(ctx, key); err != nil {
			return err
		}
	}
	for _, b := range batches {
		if b.State == types.BATCH_STATE_BRIDGED {
			if err := k.addBridgedTotal(ctx, b.Total); err != nil {
				return err
			}
		}
	}
	return nil
}
