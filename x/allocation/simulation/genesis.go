// Package simulation holds x/allocation's randomized genesis and simsx message factories.
package simulation

import (
	"math/rand"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// RandomizedGenState writes a random but valid x/allocation genesis: a small min stake so that random
// accounts can register several nodes, a short unbonding period so that stakes are released within a
// simulation run, small allocation bounds so that leases queue, and the measured region link table.
func RandomizedGenState(simState *module.SimulationState) {
	r := simState.Rand
	params := types.DefaultParams()
	params.MinStakePerGpu = sdk.NewCoin(simState.BondDenom, math.NewInt(int64(1_000+r.Intn(100_000))))
	params.UnbondingBlocks = uint64(1 + r.Intn(20))
	params.MaxReleasesPerBlock = uint32(1 + r.Intn(5))
	params.MinProposerBond = sdk.NewCoin(simState.BondDenom, math.NewInt(int64(1_000+r.Intn(1_000_000))))
	params.ProposalWindowBlocks = uint64(1 + r.Intn(5))
	params.MaxProposalsPerLease = uint32(1 + r.Intn(4))
	params.MaxAllocationsPerBlock = uint32(1 + r.Intn(10))
	params.FallbackScanLimit = uint32(8 + r.Intn(256))
	gs := *types.DefaultGenesis()
	gs.Params = params
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(&gs)
}

// randomGPUs returns 1-3 distinct GPU groups drawn from real models and memory sizes.
func randomGPUs(r *rand.Rand) []types.GpuGroup {
	catalogue := []types.GpuGroup{
		{Model: "H100", MemoryMib: 81920},
		{Model: "A100", MemoryMib: 40960},
		{Model: "A100", MemoryMib: 81920},
		{Model: "V100", MemoryMib: 16384},
		{Model: "A10G", MemoryMib: 24576},
		{Model: "L4", MemoryMib: 24576},
		{Model: "T4", MemoryMib: 16384},
	}
	r.Shuffle(len(catalogue), func(i, j int) { catalogue[i], catalogue[j] = catalogue[j], catalogue[i] })
	n := 1 + r.Intn(3)
	out := make([]types.GpuGroup, n)
	for i := range out {
		out[i] = catalogue[i]
		out[i].Count = uint32(1 + r.Intn(8))
	}
	return out
}
