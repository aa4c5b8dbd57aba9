// Package simulation holds x/lease's randomized genesis and simsx message factories.
package simulation

import (
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/consensus-nro/nro/x/lease/types"
)

// RandomizedGenState writes a random but valid x/lease genesis: short pending windows and durations and a
// small close bound, so that expiries, completions, exhaustions and the EndBlock bound all happen within a
// simulation run.
func RandomizedGenState(simState *module.SimulationState) {
	gs := types.GenesisState{Params: RandomParams(simState.Rand.Intn), NextLeaseId: 1, NextRecordId: 1, NextBatchNonce: 1}
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(&gs)
}

// RandomParams returns valid params drawn with intn (rand.Intn or an equivalent).
func RandomParams(intn func(int) int) types.Params {
	p := types.DefaultParams()
	p.TakeBps = uint32(intn(1_001))
	p.BlocksPerHour = uint64(60 + intn(3_541))
	p.MinDepositBlocks = uint64(1 + intn(20))
	p.MaxPendingBlocks = uint64(5 + intn(50))
	p.MaxDurationBlocks = p.MinDepositBlocks + uint64(intn(500))
	p.MaxTotalGpus = uint32(1 + intn(64))
	p.MaxClosesPerBlock = uint32(1 + intn(5))
	return p
}
