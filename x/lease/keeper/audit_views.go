package keeper

import (
	"context"
	"slices"

	"cosmossdk.io/collections"

	"github.com/consensus-nro/nro/x/lease/types"
)

// Read-only views of the leases for x/audit, which checks telemetry against where active leases are placed.
// They read through the leases_by_node and leases_by_state indexes and never write.

// ActiveLeasesOfNode returns the ACTIVE leases that have nodeID in their current placement, in lease id order.
// It walks the node's entries of the leases_by_active_node index, which holds only running leases, so the work
// is bounded by the node's GPUs (each lease holds at least one) whatever its history; x/audit calls it from
// transactions and from the EndBlock that slashes a node.
func (k Keeper) ActiveLeasesOfNode(ctx context.Context, nodeID string) ([]types.Lease, error) {
	var out []types.Lease
	err := k.Leases.Indexes.ActiveNode.Walk(ctx, collections.NewPrefixedPairRange[string, uint64](nodeID),
		func(_ string, id uint64) (bool, error) {
			l, err := k.Leases.Get(ctx, id)
			if err != nil {
				return true, err
			}
			if l.State == types.LEASE_STATE_ACTIVE && slices.Contains(l.NodeIDs(), nodeID) {
				out = append(out, l)
			}
			return false, nil
		})
	return out, err
}

// WalkActiveLeases calls fn for every ACTIVE lease with id >= fromLeaseID, in id order, until fn returns
// stop or an error. It reads only the ACTIVE part of the leases_by_state index, so a caller that stops after
// n leases does O(n) work whatever the number of ended leases.
func (k Keeper) WalkActiveLeases(ctx context.Context, fromLeaseID uint64, fn func(lease types.Lease) (stop bool, err error)) error {
	rng := collections.NewPrefixedPairRange[int32, uint64](int32(types.LEASE_STATE_ACTIVE)).StartInclusive(fromLeaseID)
	return k.Leases.Indexes.State.Walk(ctx, rng, func(_ int32, id uint64) (bool, error) {
		l, err := k.Leases.Get(ctx, id)
		if err != nil {
			return true, err
		}
		return fn(l)
	})
}
