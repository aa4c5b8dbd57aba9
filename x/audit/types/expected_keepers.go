package types

import (
	"context"

	"cosmossdk.io/core/address"

	sdk "github.com/cosmos/cosmos-sdk/types"

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
	// SlashAndJail takes bps of an ACTIVE node's stake into recipientModule and jails the node until
	// jailedUntil; it returns the stake taken and the stake left.
	SlashAndJail(ctx context.Context, nodeID string, bps uint32, jailedUntil int64, recipientModule string) (sdk.Coin, sdk.Coin, error)
	// SlashStake takes bps of a node's stake into recipientModule without jailing it; it returns the stake
	// taken and the stake left.
	SlashStake(ctx context.Context, nodeID string, bps uint32, recipientModule string) (sdk.Coin, sdk.Coin, error)
	// WalkRegionNodes calls fn for the nodes of a region in id order from the first id >= from, until fn stops.
	WalkRegionNodes(ctx context.Context, region, from string, fn func(allocationtypes.Node) (stop bool, err error)) error
}

// BankKeeper is what x/audit needs from x/bank: slashed stake passes through x/audit's module account, which
// burns it or pays it to harmed submitters within the same block.
type BankKeeper interface {
	BurnCoins(ctx context.Context, moduleName string, amt sdk.Coins) error
	// SendCoinsFromAccountToModule escrows a challenger's bond.
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
	GetAllBalances(ctx context.Context, addr sdk.AccAddress) sdk.Coins
}

// DistributionKeeper funds the community pool with slashed stake (slash_destination COMMUNITY_POOL).
type DistributionKeeper interface {
	FundCommunityPool(ctx context.Context, amount sdk.Coins, sender sdk.AccAddress) error
}

// LeaseKeeper is what x/audit needs from x/lease, which knows where active leases are placed: which GPUs a
// report must show, which peers a node may report links to, and which nodes owe a report for an epoch.
type LeaseKeeper interface {
	// ActiveLeasesOfNode returns the ACTIVE leases with the node in their placement, in lease id order.
	ActiveLeasesOfNode(ctx context.Context, nodeID string) ([]leasetypes.Lease, error)
	// ReallocateLease moves an ACTIVE lease off its placement because of triggers (nodes of it), settling its
	// nodes up to settleUntil; it returns the lease and whether it was moved (false: closed, nothing left).
	ReallocateLease(ctx context.Context, leaseID uint64, reason leasetypes.ReallocationReason, triggers []string, settleUntil int64) (leasetypes.Lease, bool, error)
	// WalkActiveLeases calls fn for every ACTIVE lease with id >= fromLeaseID, in id order, until fn stops.
	WalkActiveLeases(ctx context.Context, fromLeaseID uint64, fn func(lease leasetypes.Lease) (stop bool, err error)) error
	// GetBatch returns a settlement batch, or an error wrapping x/lease's ErrBatchNotFound.
	GetBatch(ctx context.Context, nonce uint64) (leasetypes.SettlementBatch, error)
	// PendingBatches returns the PENDING settlement batches in nonce order.
	PendingBatches(ctx context.Context) ([]leasetypes.SettlementBatch, error)
	// MarkBatchBridged records that the contract executed batch nonce right after batch prev, cancelling
	// the pending batches in between.
	MarkBatchBridged(ctx context.Context, nonce, prev, ethBlock uint64, txHash string) error
}
