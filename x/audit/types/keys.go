package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the module and its store key.
	ModuleName = "audit"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
)

// Store prefixes. Numbers are never reused: a removed collection keeps its prefix retired.
var (
	// ParamsKey holds the module's params (telemetry epochs, aggregation, faults, reputation).
	ParamsKey = collections.NewPrefix(0)

	// DecisionsKey holds decision id → Decision.
	DecisionsKey = collections.NewPrefix(1)
	// DecisionsByLeaseKey indexes decisions by (lease id, decision id).
	DecisionsByLeaseKey = collections.NewPrefix(2)
	// DecisionsByHeightKey indexes decisions by (height, decision id).
	DecisionsByHeightKey = collections.NewPrefix(3)
	// DecisionsByNodeKey indexes decisions by (node id, decision id): one entry per node of the winning placement.
	DecisionsByNodeKey = collections.NewPrefix(4)
	// DecisionSeqKey is the next decision id; ids start at 1.
	DecisionSeqKey = collections.NewPrefix(5)

	// EpochKey holds the current telemetry epoch (EpochInfo).
	EpochKey = collections.NewPrefix(6)
	// SweepsKey holds epoch → EpochSweep for every ended epoch whose missed-epoch sweep has not finished.
	SweepsKey = collections.NewPrefix(7)
	// ReportsKey holds (node id, epoch) → TelemetryReport.
	ReportsKey = collections.NewPrefix(8)
	// ReportsByEpochKey indexes reports by (epoch, node id).
	ReportsByEpochKey = collections.NewPrefix(9)
	// LinksKey holds (node a, node b), a < b → LinkAggregate: the link matrix.
	LinksKey = collections.NewPrefix(10)
	// LinksByNodeKey indexes links by (node id, (node a, node b)): one entry for each end.
	LinksByNodeKey = collections.NewPrefix(11)
	// LinksByEpochKey indexes links by (newest sample's epoch, (node a, node b)), for pruning idle links.
	LinksByEpochKey = collections.NewPrefix(12)
	// FaultsKey holds fault id → Fault.
	FaultsKey = collections.NewPrefix(13)
	// FaultsByNodeKey indexes faults by ((node id, epoch), fault id): a node's faults in an epoch window.
	FaultsByNodeKey = collections.NewPrefix(14)
	// FaultsByEpochKey indexes faults by (epoch, fault id).
	FaultsByEpochKey = collections.NewPrefix(15)
	// FaultSeqKey is the next fault id; ids start at 1.
	FaultSeqKey = collections.NewPrefix(16)
	// NodeStatsKey holds node id → NodeAuditStats.
	NodeStatsKey = collections.NewPrefix(17)
	// SlashesKey holds slash id → Slash.
	SlashesKey = collections.NewPrefix(18)
	// SlashesByNodeKey indexes slashes by (node id, slash id).
	SlashesByNodeKey = collections.NewPrefix(19)
	// SlashSeqKey is the next slash id; ids start at 1.
	SlashSeqKey = collections.NewPrefix(20)
	// ChallengesKey holds challenges by id.
	ChallengesKey = collections.NewPrefix(21)
	// ChallengesByNodeKey indexes challenges by the challenged node.
	ChallengesByNodeKey = collections.NewPrefix(22)
	// ChallengeSeqKey is the next challenge id.
	ChallengeSeqKey = collections.NewPrefix(23)
	// ChallengeDeadlinesKey queues OPEN challenges by (deadline height, id).
	ChallengeDeadlinesKey = collections.NewPrefix(24)
	// ChallengedLinksKey marks (node, epoch, peer) links with a challenge, one per link.
	ChallengedLinksKey = collections.NewPrefix(25)

	// Ethereum bridge.
	EthSignersKey           = collections.NewPrefix(26)
	SignerByEthAddressKey   = collections.NewPrefix(27)
	SignerByOrchestratorKey = collections.NewPrefix(28)
	SignerChangesKey        = collections.NewPrefix(29)
	ValsetsKey              = collections.NewPrefix(30)
	ValsetSeqKey            = collections.NewPrefix(31)
	ValsetConfirmsKey       = collections.NewPrefix(32)
	BatchConfirmsKey        = collections.NewPrefix(33)
	BatchAttestationsKey    = collections.NewPrefix(34)
	AttestVotesKey          = collections.NewPrefix(35)
	// BridgePrunesKey queues (height, kind, nonce) of valsets and batches whose records are to be pruned.
	BridgePrunesKey = collections.NewPrefix(36)
	// UnsignedChecksKey queues (due height, kind, nonce) → UnsignedCheck: signing windows to check.
	UnsignedChecksKey = collections.NewPrefix(37)
	// LastObservedBatchKey is the newest x/lease batch nonce x/audit has queued.
	LastObservedBatchKey = collections.NewPrefix(38)
)
