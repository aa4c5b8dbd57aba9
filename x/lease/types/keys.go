package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the module, its store key and its module account (the lease escrow).
	ModuleName = "lease"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
)

// Store prefixes. Numbers are never reused: a removed collection keeps its prefix retired.
var (
	ParamsKey                   = collections.NewPrefix(0)
	LeasesKey                   = collections.NewPrefix(1)
	LeasesBySubmitterKey        = collections.NewPrefix(2)
	LeasesByStateKey            = collections.NewPrefix(3)
	LeasesByNodeKey             = collections.NewPrefix(4)
	LeaseSeqKey                 = collections.NewPrefix(5)
	DeadlinesKey                = collections.NewPrefix(6)
	SettlementRecordsKey        = collections.NewPrefix(7)
	SettlementRecordsByLeaseKey = collections.NewPrefix(8)
	SettlementRecordsByNodeKey  = collections.NewPrefix(9)
	RecordSeqKey                = collections.NewPrefix(10)
	// LeasesByActiveNodeKey indexes ACTIVE leases by the nodes of their current placement.
	LeasesByActiveNodeKey = collections.NewPrefix(11)
)
