package types

import (
	"fmt"

	"cosmossdk.io/collections"
)

const (
	// ModuleName is the name of the module, its store key and its module account (the lease escrow).
	ModuleName = "lease"
	// BridgeEscrowName is the module account holding the providers' shares paid through the Ethereum bridge:
	// what settlement batches pay (pending) and have paid (bridged) as wNRO, which these unro back.
	BridgeEscrowName = "lease_bridge"
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
	// Settlement batches for the Ethereum bridge.
	BatchesKey        = collections.NewPrefix(12)
	BatchesByStateKey = collections.NewPrefix(13)
	BatchSeqKey       = collections.NewPrefix(14)
	// UnbatchedKey holds the ids of bridged records waiting for a batch.
	UnbatchedKey       = collections.NewPrefix(15)
	LastBatchHeightKey = collections.NewPrefix(16)
	// PrunesKey queues (height, kind, id) of the ended leases and the batches no longer needed, from the
	// height they stopped being needed; EndBlock prunes them retention_blocks later.
	PrunesKey = collections.NewPrefix(17)
	// BridgedTotalKey maps a denom to the sum of the totals of every batch ever bridged.
	BridgedTotalKey = collections.NewPrefix(18)
)

// PruneKind says what a pruning queue entry removes.
type PruneKind = int32

const (
	// PruneLease removes an ended lease and its settlement records that were not bridged (a bridged record
	// goes with its batch).
	PruneLease PruneKind = 1
	// PruneBatch removes a cancelled batch, or a bridged batch with its settlement records.
	PruneBatch PruneKind = 2
)

// PrunedBatch says why batch nonce, below the next batch nonce, is no longer stored: queries and x/audit's
// refusals of a pruned batch say it in the same words.
func PrunedBatch(nonce uint64) string {
	return fmt.Sprintf("batch %d was pruned: it was cancelled, or bridged and followed by a newer bridged batch, more than x/lease's retention_blocks ago", nonce)
}
