// Package keeper holds x/audit's state and logic: the log of allocation decisions, indexed by lease, node and
// height; nodes' telemetry attestations per epoch, the link matrix aggregated from them, faults (missed
// epochs, absent GPUs) and the reputation they move. Slashing, challenges and bridge attestations join it
// later.
package keeper

import (
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/store"
	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"github.com/consensus-nro/nro/internal/collx"
	"github.com/consensus-nro/nro/x/audit/types"
)

// ReportKey is the key of a telemetry report: (node id, epoch).
type ReportKey = collections.Pair[string, uint64]

// LinkKey is the key of a link of the link matrix: (node a, node b) with a < b.
type LinkKey = collections.Pair[string, string]

// ReportIndexes index the telemetry reports by epoch, for epoch-range queries and pruning.
type ReportIndexes struct {
	// Epoch holds (epoch, node id).
	Epoch *indexes.ReversePair[string, uint64, types.TelemetryReport]
}

// IndexesList implements collections.Indexes.
func (i ReportIndexes) IndexesList() []collections.Index[ReportKey, types.TelemetryReport] {
	return []collections.Index[ReportKey, types.TelemetryReport]{i.Epoch}
}

// LinkIndexes index the link matrix by node (either end) and by the epoch of the newest sample.
type LinkIndexes struct {
	// Node holds (node id, link) for both ends of every link.
	Node *collx.MultiIndex[string, LinkKey, types.LinkAggregate]
	// Epoch holds (newest sample's epoch, link), for pruning idle links.
	Epoch *indexes.Multi[uint64, LinkKey, types.LinkAggregate]
}

// IndexesList implements collections.Indexes.
func (i LinkIndexes) IndexesList() []collections.Index[LinkKey, types.LinkAggregate] {
	return []collections.Index[LinkKey, types.LinkAggregate]{i.Node, i.Epoch}
}

// FaultIndexes index the faults by node and epoch, and by epoch.
type FaultIndexes struct {
	// NodeEpoch holds ((node id, epoch), fault id): a node's faults in an epoch window without a scan.
	NodeEpoch *indexes.Multi[collections.Pair[string, uint64], uint64, types.Fault]
	// Epoch holds (epoch, fault id).
	Epoch *indexes.Multi[uint64, uint64, types.Fault]
}

// IndexesList implements collections.Indexes.
func (i FaultIndexes) IndexesList() []collections.Index[uint64, types.Fault] {
	return []collections.Index[uint64, types.Fault]{i.NodeEpoch, i.Epoch}
}

// DecisionIndexes are the secondary indexes of the decision log, so that the log is read by lease, by node or
// by height range without scanning every decision.
type DecisionIndexes struct {
	// Lease holds (lease id, decision id).
	Lease *indexes.Multi[uint64, uint64, types.Decision]
	// Height holds (height, decision id).
	Height *indexes.Multi[int64, uint64, types.Decision]
	// Node holds (node id, decision id) for every node of the winning placement.
	Node *multiValueIndex[string, uint64, types.Decision]
}

// IndexesList implements collections.Indexes.
func (i DecisionIndexes) IndexesList() []collections.Index[uint64, types.Decision] {
	return []collections.Index[uint64, types.Decision]{i.Lease, i.Height, i.Node}
}

func newDecisionIndexes(sb *collections.SchemaBuilder) DecisionIndexes {
	return DecisionIndexes{
		Lease: indexes.NewMulti(sb, types.DecisionsByLeaseKey, "decisions_by_lease",
			collections.Uint64Key, collections.Uint64Key,
			func(_ uint64, d types.Decision) (uint64, error) { return d.LeaseId, nil }),
		Height: indexes.NewMulti(sb, types.DecisionsByHeightKey, "decisions_by_height",
			collections.Int64Key, collections.Uint64Key,
			func(_ uint64, d types.Decision) (int64, error) { return d.Height, nil }),
		Node: newMultiValueIndex(sb, types.DecisionsByNodeKey, "decisions_by_node",
			collections.StringKey, collections.Uint64Key,
			func(_ uint64, d types.Decision) ([]string, error) { return d.NodeIds, nil }),
	}
}

// Keeper is the x/audit keeper.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	logger       log.Logger
	// authority is the account allowed to change params: the gov module account.
	authority string
	// alloc and leases are x/allocation (nodes, agents, reputation) and x/lease (where active leases are
	// placed); telemetry is checked against them.
	alloc  types.AllocationKeeper
	leases types.LeaseKeeper
	// bank and distr move slashed stake on from x/audit's module account (burn, community pool, submitters).
	bank  types.BankKeeper
	distr types.DistributionKeeper
	// staking gives the validators and their power for the Ethereum bridge.
	staking StakingKeeper
	// slashing holds a validator jailed for not signing out for x/slashing's downtime_jail_duration.
	slashing SlashingKeeper

	Schema collections.Schema
	// Decisions maps decision id to its record.
	Decisions *collections.IndexedMap[uint64, types.Decision, DecisionIndexes]
	// DecisionSeq is the next decision id.
	DecisionSeq collections.Sequence

	// Params are the telemetry, aggregation, fault and reputation parameters.
	Params collections.Item[types.Params]
	// Epoch is the current telemetry epoch.
	Epoch collections.Item[types.EpochInfo]
	// Sweeps maps an ended epoch to its unfinished missed-epoch sweep; EndBlock works on the oldest.
	Sweeps collections.Map[uint64, types.EpochSweep]
	// Reports maps (node id, epoch) to the node's telemetry report.
	Reports *collections.IndexedMap[ReportKey, types.TelemetryReport, ReportIndexes]
	// Links maps (node a, node b), a < b, to the link's recent reports from both ends and their medians.
	Links *collections.IndexedMap[LinkKey, types.LinkAggregate, LinkIndexes]
	// Faults maps fault id to the fault; FaultSeq is the next fault id.
	Faults   *collections.IndexedMap[uint64, types.Fault, FaultIndexes]
	FaultSeq collections.Sequence
	// NodeStats maps node id to x/audit's counts for the node.
	NodeStats collections.Map[string, types.NodeAuditStats]
	// Slashes maps slash id to the slash; SlashSeq is the next slash id.
	Slashes  *collections.IndexedMap[uint64, types.Slash, SlashIndexes]
	SlashSeq collections.Sequence
	// Challenges maps challenge id to the challenge; ChallengeSeq is the next challenge id.
	Challenges   *collections.IndexedMap[uint64, types.Challenge, ChallengeIndexes]
	ChallengeSeq collections.Sequence
	// ChallengeDeadlines queues the OPEN challenges by (deadline height, id) for EndBlock's timeouts.
	ChallengeDeadlines collections.KeySet[collections.Pair[int64, uint64]]
	// ChallengedLinks maps (node, epoch, peer) to the challenge of that link of the node's report.
	ChallengedLinks collections.Map[collections.Triple[string, uint64, string], uint64]

	// EthSigners maps a validator (nrovaloper) to its Ethereum bridge signer and orchestrator.
	EthSigners collections.Map[string, types.EthSigner]
	// SignerByEthAddress and SignerByOrchestrator map an Ethereum signer or orchestrator, current or pending,
	// to its validator: each belongs to one validator.
	SignerByEthAddress   collections.Map[string, string]
	SignerByOrchestrator collections.Map[string, string]
	// SignerChanges queues (effective height, validator) for pending signer changes.
	SignerChanges collections.KeySet[collections.Pair[int64, string]]
	// Valsets maps nonce to bridge valset; ValsetSeq is the next nonce (from 1).
	Valsets   collections.Map[uint64, types.BridgeValset]
	ValsetSeq collections.Sequence
	// ValsetConfirms and BatchConfirms map (nonce, validator) to its signature.
	ValsetConfirms collections.Map[collections.Pair[uint64, string], types.BridgeConfirm]
	BatchConfirms  collections.Map[collections.Pair[uint64, string], types.BridgeConfirm]
	// BatchAttestations maps (batch nonce, claim hash) to the validators that attested the claim;
	// AttestVotes holds (batch nonce, validator): one attestation per validator per batch.
	BatchAttestations collections.Map[collections.Pair[uint64, []byte], types.BatchAttestation]
	AttestVotes       collections.KeySet[collections.Pair[uint64, string]]
	// BridgePrunes queues (height, kind, nonce): at height EndBlock looks at the item's records and removes
	// them once they are no longer needed (bridge_upkeep.go).
	BridgePrunes collections.KeySet[BridgeQueueKey]
	// UnsignedChecks queues (due height, kind, nonce) → the signing window to check at that height.
	UnsignedChecks collections.Map[BridgeQueueKey, types.UnsignedCheck]
	// LastObservedBatch is the newest x/lease batch nonce queued for its signing window and pruning.
	LastObservedBatch collections.Item[uint64]
}

// BridgeQueueKey is the key of the bridge queues: (height, kind, nonce).
type BridgeQueueKey = collections.Triple[int64, int32, uint64]

// ChallengeIndexes index the challenges by challenged node.
type ChallengeIndexes struct {
	Node *indexes.Multi[string, uint64, types.Challenge]
}

// IndexesList implements collections.Indexes.
func (i ChallengeIndexes) IndexesList() []collections.Index[uint64, types.Challenge] {
	return []collections.Index[uint64, types.Challenge]{i.Node}
}

// SlashIndexes index the slashes by node.
type SlashIndexes struct {
	// Node holds (node id, slash id).
	Node *indexes.Multi[string, uint64, types.Slash]
}

// IndexesList implements collections.Indexes.
func (i SlashIndexes) IndexesList() []collections.Index[uint64, types.Slash] {
	return []collections.Index[uint64, types.Slash]{i.Node}
}

// NewKeeper builds the keeper. It panics on an authority that is not a bech32 address, as the SDK's keepers
// do on a malformed authority, and on a missing x/allocation or x/lease keeper.
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	logger log.Logger,
	authority string,
	alloc types.AllocationKeeper,
	leases types.LeaseKeeper,
	bank types.BankKeeper,
	distr types.DistributionKeeper,
	staking StakingKeeper,
	slashing SlashingKeeper,
) Keeper {
	if _, _, err := bech32.DecodeAndConvert(authority); err != nil {
		panic(fmt.Errorf("x/audit: invalid authority %q: %w", authority, err))
	}
	if alloc == nil || leases == nil || bank == nil || distr == nil || staking == nil || slashing == nil {
		panic("x/audit: NewKeeper needs the x/allocation, x/lease, x/bank, x/distribution, x/staking and x/slashing keepers")
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		logger:       logger.With("module", "x/"+types.ModuleName),
		authority:    authority,
		alloc:        alloc,
		leases:       leases,
		bank:         bank,
		distr:        distr,
		staking:      staking,
		slashing:     slashing,
		Decisions: collections.NewIndexedMap(sb, types.DecisionsKey, "decisions", collections.Uint64Key,
			codec.CollValue[types.Decision](cdc), newDecisionIndexes(sb)),
		DecisionSeq: collections.NewSequence(sb, types.DecisionSeqKey, "decision_seq"),
		Params:      collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Epoch:       collections.NewItem(sb, types.EpochKey, "epoch", codec.CollValue[types.EpochInfo](cdc)),
		Sweeps: collections.NewMap(sb, types.SweepsKey, "sweeps", collections.Uint64Key,
			codec.CollValue[types.EpochSweep](cdc)),
		Reports: collections.NewIndexedMap(sb, types.ReportsKey, "reports",
			collections.PairKeyCodec(collections.StringKey, collections.Uint64Key),
			codec.CollValue[types.TelemetryReport](cdc), newReportIndexes(sb)),
		Links: collections.NewIndexedMap(sb, types.LinksKey, "links",
			collections.PairKeyCodec(collections.StringKey, collections.StringKey),
			codec.CollValue[types.LinkAggregate](cdc), newLinkIndexes(sb)),
		Faults: collections.NewIndexedMap(sb, types.FaultsKey, "faults", collections.Uint64Key,
			codec.CollValue[types.Fault](cdc), newFaultIndexes(sb)),
		FaultSeq: collections.NewSequence(sb, types.FaultSeqKey, "fault_seq"),
		NodeStats: collections.NewMap(sb, types.NodeStatsKey, "node_stats", collections.StringKey,
			codec.CollValue[types.NodeAuditStats](cdc)),
		Slashes: collections.NewIndexedMap(sb, types.SlashesKey, "slashes", collections.Uint64Key,
			codec.CollValue[types.Slash](cdc), SlashIndexes{
				Node: indexes.NewMulti(sb, types.SlashesByNodeKey, "slashes_by_node", collections.StringKey, collections.Uint64Key,
					func(_ uint64, s types.Slash) (string, error) { return s.NodeId, nil }),
			}),
		SlashSeq: collections.NewSequence(sb, types.SlashSeqKey, "slash_seq"),
		Challenges: collections.NewIndexedMap(sb, types.ChallengesKey, "challenges", collections.Uint64Key,
			codec.CollValue[types.Challenge](cdc), ChallengeIndexes{
				Node: indexes.NewMulti(sb, types.ChallengesByNodeKey, "challenges_by_node", collections.StringKey, collections.Uint64Key,
					func(_ uint64, c types.Challenge) (string, error) { return c.NodeId, nil }),
			}),
		ChallengeSeq: collections.NewSequence(sb, types.ChallengeSeqKey, "challenge_seq"),
		ChallengeDeadlines: collections.NewKeySet(sb, types.ChallengeDeadlinesKey, "challenge_deadlines",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		ChallengedLinks: collections.NewMap(sb, types.ChallengedLinksKey, "challenged_links",
			collections.TripleKeyCodec(collections.StringKey, collections.Uint64Key, collections.StringKey), collections.Uint64Value),
		EthSigners: collections.NewMap(sb, types.EthSignersKey, "eth_signers", collections.StringKey,
			codec.CollValue[types.EthSigner](cdc)),
		SignerByEthAddress: collections.NewMap(sb, types.SignerByEthAddressKey, "signer_by_eth_address",
			collections.StringKey, collections.StringValue),
		SignerByOrchestrator: collections.NewMap(sb, types.SignerByOrchestratorKey, "signer_by_orchestrator",
			collections.StringKey, collections.StringValue),
		SignerChanges: collections.NewKeySet(sb, types.SignerChangesKey, "signer_changes",
			collections.PairKeyCodec(collections.Int64Key, collections.StringKey)),
		Valsets: collections.NewMap(sb, types.ValsetsKey, "valsets", collections.Uint64Key,
			codec.CollValue[types.BridgeValset](cdc)),
		ValsetSeq: collections.NewSequence(sb, types.ValsetSeqKey, "valset_seq"),
		ValsetConfirms: collections.NewMap(sb, types.ValsetConfirmsKey, "valset_confirms",
			collections.PairKeyCodec(collections.Uint64Key, collections.StringKey), codec.CollValue[types.BridgeConfirm](cdc)),
		BatchConfirms: collections.NewMap(sb, types.BatchConfirmsKey, "batch_confirms",
			collections.PairKeyCodec(collections.Uint64Key, collections.StringKey), codec.CollValue[types.BridgeConfirm](cdc)),
		BatchAttestations: collections.NewMap(sb, types.BatchAttestationsKey, "batch_attestations",
			collections.PairKeyCodec(collections.Uint64Key, collections.BytesKey), codec.CollValue[types.BatchAttestation](cdc)),
		AttestVotes: collections.NewKeySet(sb, types.AttestVotesKey, "attest_votes",
			collections.PairKeyCodec(collections.Uint64Key, collections.StringKey)),
		BridgePrunes: collections.NewKeySet(sb, types.BridgePrunesKey, "bridge_prunes",
			collections.TripleKeyCodec(collections.Int64Key, collections.Int32Key, collections.Uint64Key)),
		UnsignedChecks: collections.NewMap(sb, types.UnsignedChecksKey, "unsigned_checks",
			collections.TripleKeyCodec(collections.Int64Key, collections.Int32Key, collections.Uint64Key),
			codec.CollValue[types.UnsignedCheck](cdc)),
		LastObservedBatch: collections.NewItem(sb, types.LastObservedBatchKey, "last_observed_batch", collections.Uint64Value),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

func newReportIndexes(sb *collections.SchemaBuilder) ReportIndexes {
	return ReportIndexes{
		Epoch: indexes.NewReversePair[types.TelemetryReport](sb, types.ReportsByEpochKey, "reports_by_epoch",
			collections.PairKeyCodec(collections.StringKey, collections.Uint64Key)),
	}
}

func newLinkIndexes(sb *collections.SchemaBuilder) LinkIndexes {
	linkCodec := collections.PairKeyCodec(collections.StringKey, collections.StringKey)
	return LinkIndexes{
		Node: collx.NewMultiIndex(sb, types.LinksByNodeKey, "links_by_node", collections.StringKey, linkCodec,
			func(k LinkKey, _ types.LinkAggregate) ([]string, error) { return []string{k.K1(), k.K2()}, nil }),
		Epoch: indexes.NewMulti(sb, types.LinksByEpochKey, "links_by_epoch", collections.Uint64Key, linkCodec,
			func(_ LinkKey, l types.LinkAggregate) (uint64, error) { return l.Epoch, nil }),
	}
}

func newFaultIndexes(sb *collections.SchemaBuilder) FaultIndexes {
	return FaultIndexes{
		NodeEpoch: indexes.NewMulti(sb, types.FaultsByNodeKey, "faults_by_node",
			collections.PairKeyCodec(collections.StringKey, collections.Uint64Key), collections.Uint64Key,
			func(_ uint64, f types.Fault) (collections.Pair[string, uint64], error) {
				return collections.Join(f.NodeId, f.Epoch), nil
			}),
		Epoch: indexes.NewMulti(sb, types.FaultsByEpochKey, "faults_by_epoch", collections.Uint64Key, collections.Uint64Key,
			func(_ uint64, f types.Fault) (uint64, error) { return f.Epoch, nil }),
	}
}

// AllocationKeeper returns x/allocation as x/audit sees it (simulation factories read nodes through it).
func (k Keeper) AllocationKeeper() types.AllocationKeeper { return k.alloc }

// StakingKeeper returns x/staking as x/audit sees it (simulation factories read validators through it).
func (k Keeper) StakingKeeper() StakingKeeper { return k.staking }

// LeaseKeeper returns x/lease as x/audit sees it.
func (k Keeper) LeaseKeeper() types.LeaseKeeper { return k.leases }

// Authority returns the params authority.
func (k Keeper) Authority() string { return k.authority }

// Logger returns the module logger.
func (k Keeper) Logger() log.Logger { return k.logger }
