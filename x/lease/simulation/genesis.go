// Package simulation holds x/lease's randomized genesis and simsx message factories.
package simulation

import (
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/consensus-nro/nro/x/lease/types"
)

// RandomizedGenState writes a random but valid x/lease genesis: short pending windows and durations and a
// small close bound, so that expiries, completions, exhaustions and the EndBlock bound all happen within a
// simulation run; and, in nine seeds in ten, the Ethereum bridge on with short batch intervals and small
// batches, so that settlement records of bridged nodes are batched, signed and attested within a run
// (x/audit's randomized genesis sets the bridge id, chain id and contract that the signatures bind); and
// a short retention, so that ended leases and finished batches are pruned within a run.
func RandomizedGenState(simState *module.SimulationState) {
	gs := types.GenesisState{Params: RandomParams(simState.Rand.Intn), NextLeaseId: 1, NextRecordId: 1, NextBatchNonce: 1}
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(&gs)
}

// simSecondsPerBlock is about the mean block time of x/simulation (5,000 to 10,000 seconds a block), to size
// batch timeouts in blocks.
const simSecondsPerBlock = 7_500

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
	// The bridge: a batch every 1..10 blocks or as soon as 1..20 records wait (one record per batch now and
	// then), executable on Ethereum for about 5..30 blocks — or, one time in five, for less than a few
	// blocks, so that batches time out and EndBlock makes the batches that overtake them.
	p.BridgeEnabled = intn(10) != 0
	p.BatchBlocks = uint64(1 + intn(10))
	p.MaxBatchRecords = uint32(1 + intn(20))
	if intn(5) == 0 {
		p.BatchTimeoutSeconds = types.MinBatchTimeoutSeconds + uint64(intn(3*simSecondsPerBlock))
	} else {
		p.BatchTimeoutSeconds = uint64(5+intn(26)) * simSecondsPerBlock
	}
	// Pruning: ended leases and finished batches go 1..40 blocks later, a few per block, so that pruning
	// and its bound happen within a run (and the import/export simulation sees a pruned state) — or, one
	// time in five, never.
	// (Wide draws: small draws here came out the same in most seeds of x/simulation's source, which made
	// "one time in five" nearly every seed.)
	p.RetentionBlocks = uint64(1 + intn(40_000)/1_000)
	if intn(1_000) < 200 {
		p.RetentionBlocks = 0
	}
	p.MaxPrunedPerBlock = uint32(1 + intn(5_000)/1_000)
	return p
}
