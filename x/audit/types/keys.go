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
	// Prefix 0 is reserved for the module's params (telemetry, faults, slashing), which a later change adds;
	// it is deliberately left unused until then so that params sit at 0 as in every other module.

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
)
