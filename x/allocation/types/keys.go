package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the module, its store key and its module account.
	ModuleName = "allocation"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
)

// Store prefixes. Numbers are never reused: a removed collection keeps its prefix retired.
var (
	ParamsKey          = collections.NewPrefix(0)
	NodesKey           = collections.NewPrefix(1)
	NodesByOperatorKey = collections.NewPrefix(2)
	NodesByRegionKey   = collections.NewPrefix(3)
	NodesByStatusKey   = collections.NewPrefix(4)
	UnbondingQueueKey  = collections.NewPrefix(5)
	// RegionLinksKey holds the region-pair RTT and bandwidth table.
	RegionLinksKey = collections.NewPrefix(6)
	// CapacityIndexKey indexes the GPU groups of ACTIVE nodes with free GPUs by scope, price and free count.
	CapacityIndexKey = collections.NewPrefix(7)
	// NodesByAgentKey indexes nodes by agent account (proposer eligibility).
	NodesByAgentKey    = collections.NewPrefix(8)
	ProposalsKey       = collections.NewPrefix(9)
	ProposalsByLease   = collections.NewPrefix(10)
	ProposalSeqKey     = collections.NewPrefix(11)
	AllocationQueueKey = collections.NewPrefix(12)
	PendingDueKey      = collections.NewPrefix(13)
	// LeasesWithProposalsKey marks the leases that have kept proposals, so that EndBlock reads the proposal
	// list only for them (a point read instead of an iterator for most leases).
	LeasesWithProposalsKey = collections.NewPrefix(14)
)
