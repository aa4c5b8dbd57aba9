// Package simulation holds x/audit's randomized genesis. x/audit has no messages yet: decisions are
// recorded by x/allocation's EndBlock, which the simulation drives through x/allocation's operations.
package simulation

import (
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/consensus-nro/nro/x/audit/types"
)

// RandomizedGenState writes the default x/audit genesis: an empty decision log. Random decisions would have
// to refer to leases and nodes of the other modules' random genesis; the log fills up as leases are placed.
func RandomizedGenState(simState *module.SimulationState) {
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(types.DefaultGenesis())
}
