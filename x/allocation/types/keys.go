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
)
