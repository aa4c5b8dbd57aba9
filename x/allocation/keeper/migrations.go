package keeper

import (
	"context"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Migrator holds the store migrations of x/allocation.
type Migrator struct{ k Keeper }

// NewMigrator returns the module's migrations.
func NewMigrator(k Keeper) Migrator { return Migrator{k} }

// Migrate1to2 gives every capacity index entry its value. Up to consensus version 1 the index was a key set
// (scope, price, free GPUs, "node/group") with empty values, and the fallback allocator read each node it
// named; from version 2 each entry holds a types.CapacityEntry with the fields the allocator filters and
// scores on. The migration clears the index and writes it again from the node registry, in node id order:
// the same keys as before (the index was kept in step with every node write), now with their values. It
// reads every node once, in the upgrade block only.
func (m Migrator) Migrate1to2(ctx sdk.Context) error {
	return m.k.RebuildCapacityIndex(ctx)
}

// RebuildCapacityIndex clears the capacity index and writes it from the node registry.
func (k Keeper) RebuildCapacityIndex(ctx context.Context) error {
	idx := k.Nodes.Indexes.Capacity.refs
	if err := idx.Clear(ctx, nil); err != nil {
		return fmt.Errorf("clear the capacity index: %w", err)
	}
	it, err := k.Nodes.Iterate(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = it.Close() }()
	for ; it.Valid(); it.Next() {
		n, err := it.Value()
		if err != nil {
			return err
		}
		for _, e := range capacityEntries(n) {
			if err := idx.Set(ctx, e.key, e.group.Entry); err != nil {
				return fmt.Errorf("capacity index entry of node %s: %w", n.Id, err)
			}
		}
	}
	return nil
}
