package types

import (
	"context"

	"cosmossdk.io/core/address"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// AllocationKeeper is what x/audit needs from x/allocation, which owns the node registry: a report's node and
// its agent, and the reputation that allocation scoring reads.
type AllocationKeeper interface {
	// AddressCodec is the account address codec nodes' agent addresses are stored in.
	AddressCodec() address.Codec
	// GetNode returns a node by id, or an error wrapping x/allocation's ErrNodeNotFound.
	GetNode(ctx context.Context, id string) (allocationtypes.Node, error)
	// SetNodeReputation sets a node's reputation_bps (0..10000).
	SetNodeReputation(ctx context.Context, nodeID string, bps uint32) error
}

// LeaseKeeper is what x/audit needs from x/lease, which knows where active leases are placed: which GPUs a
// report must show, which peers a node may report links to, and which nodes owe a report for an epoch.
type LeaseKeeper interface {
	// ActiveLeasesOfNode returns the ACTIVE leases with the node in their placement, in lease id order.
	ActiveLeasesOfNode(ctx context.Context, nodeID string) ([]leasetypes.Lease, error)
	// WalkActiveLeases calls fn for every ACTIVE lease with id >= fromLeaseID, in id order, until fn stops.
	WalkActiveLeases(ctx context.Context, fromLeaseID uint64, fn func(lease leasetypes.Lease) (stop bool, err error)) error
}
