// Package keeper holds x/audit's state and logic: the log of allocation decisions, indexed by lease, node and
// height. Telemetry, faults, slashing, reputation and bridge attestations join it later.
package keeper

import (
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/store"
	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"github.com/consensus-nro/nro/x/audit/types"
)

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
	// authority is the account allowed to change params (the gov module account); x/audit has no params
	// yet, it is kept for them.
	authority string

	Schema collections.Schema
	// Decisions maps decision id to its record.
	Decisions *collections.IndexedMap[uint64, types.Decision, DecisionIndexes]
	// DecisionSeq is the next decision id.
	DecisionSeq collections.Sequence
}

// NewKeeper builds the keeper. It panics on an authority that is not a bech32 address, as the SDK's keepers
// do on a malformed authority.
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	logger log.Logger,
	authority string,
) Keeper {
	if _, _, err := bech32.DecodeAndConvert(authority); err != nil {
		panic(fmt.Errorf("x/audit: invalid authority %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		logger:       logger.With("module", "x/"+types.ModuleName),
		authority:    authority,
		Decisions: collections.NewIndexedMap(sb, types.DecisionsKey, "decisions", collections.Uint64Key,
			codec.CollValue[types.Decision](cdc), newDecisionIndexes(sb)),
		DecisionSeq: collections.NewSequence(sb, types.DecisionSeqKey, "decision_seq"),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// Authority returns the params authority.
func (k Keeper) Authority() string { return k.authority }

// Logger returns the module logger.
func (k Keeper) Logger() log.Logger { return k.logger }
