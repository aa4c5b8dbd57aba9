// Package simulation holds x/audit's randomized genesis and simsx message factories. Decisions are recorded
// by x/allocation's EndBlock, which the simulation drives through x/allocation's operations; telemetry comes
// from MsgSubmitTelemetryFactory, challenges and their answers from MsgChallengeTelemetryFactory and
// MsgAnswerChallengeFactory; the bridge's signers, confirmations and attestations from the factories in
// bridge.go.
package simulation

import (
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/consensus-nro/nro/x/audit/types"
)

// RandomizedGenState writes an x/audit genesis with an empty decision log and no telemetry, and random but
// valid params: short epochs and small per-block bounds, so that epochs end, sweeps span several blocks,
// missed epochs are faulted and old reports are pruned within a simulation run. Random decisions or reports
// would have to refer to the nodes and leases of the other modules' random genesis; they fill up as the run
// places leases and agents report.
func RandomizedGenState(simState *module.SimulationState) {
	gs := types.DefaultGenesis()
	gs.Params = RandomParams(simState.Rand.Intn)
	gs.EthSigners = genesisSigners(simState)
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}

// genesisSigners registers the Ethereum signer (key generation 0, bridge.go) of nine in ten of the
// initially bonded validators — x/staking's randomized genesis makes the first NumBonded accounts
// validators with equal stake — so that the first block holds more than 2/3 of the power in registered
// signers and makes a valset: registering them one message at a time would take most of a run. The others
// register through MsgRegisterEthSignerFactory.
func genesisSigners(simState *module.SimulationState) []types.EthSigner {
	var out []types.EthSigner
	for i := 0; i < int(simState.NumBonded) && i < len(simState.Accounts); i++ {
		if simState.Rand.Intn(10) == 0 {
			continue
		}
		acc := simState.Accounts[i].Address
		key, err := simEthKey(acc.String(), 0)
		if err != nil {
			continue
		}
		out = append(out, types.EthSigner{
			Validator: sdk.ValAddress(acc).String(), EthAddress: crypto.PubkeyToAddress(key.PublicKey).Hex(), Orchestrator: acc.String(),
		})
	}
	return out
}

// RandomParams returns valid params drawn with intn (rand.Intn or an equivalent).
func RandomParams(intn func(int) int) types.Params {
	p := types.DefaultParams()
	p.EpochBlocks = uint64(2 + intn(10))
	p.GraceBlocks = uint64(intn(int(p.EpochBlocks)))
	p.ToleranceBps = uint32(500 + intn(5_000))
	p.MaxFaults = 1 // the second fault in the window slashes, so that runs slash, jail, move and unjail
	p.FaultWindowEpochs = uint64(10 + intn(41))
	p.ReputationCleanGainBps = uint32(intn(200))
	p.ReputationFaultPenaltyBps = uint32(intn(2_000))
	p.ReputationDisputePenaltyBps = uint32(intn(1_000))
	p.LinkReportWindowEpochs = uint64(1 + intn(4))
	p.MaxNodesCheckedPerBlock = uint32(1 + intn(8))
	p.MaxGpusPerReport = uint32(24 + intn(41))
	p.MaxLinksPerReport = uint32(8 + intn(57))
	p.GasPerReportEntry = uint64(intn(2_000))
	if intn(4) == 0 {
		p.ReportRetentionEpochs = 0
	} else {
		p.ReportRetentionEpochs = p.LinkReportWindowEpochs + 2 + uint64(intn(5))
	}
	p.MaxPrunedPerBlock = uint32(1 + intn(5))
	p.SlashBps = uint32(intn(3_000))
	p.JailBlocks = uint64(1 + intn(20))
	p.SlashDestination = types.SlashDestination(1 + intn(3))
	p.DisputeFaultMinLinks = uint32(intn(4))
	p.DegradedEpochs = uint64(intn(int(p.LinkReportWindowEpochs) + 1))
	p.ChallengeWindowEpochs = uint64(intn(4))
	p.MinChallengeBond = sdk.NewCoin(sdk.DefaultBondDenom, math.NewInt(int64(1_000+intn(1_000_000))))
	p.CommitteeSize = uint32(1 + intn(7))
	p.CommitteeScanLimit = p.CommitteeSize + uint32(intn(64))
	p.ChallengeBlocks = uint64(1 + intn(15))
	p.ChallengeSlashBps = uint32(intn(3_000))
	p.ChallengeRewardBps = uint32(intn(10_001))
	p.MaxChallengesResolvedPerBlock = uint32(1 + intn(5))
	// The bridge is on (simulated validators hold Ethereum keys, bridge.go), with short signing windows and
	// retention so that valsets are signed, missed, slashed and pruned within a run. Validators that miss
	// are slashed but not jailed: a random message schedule can miss with every registered validator, and
	// jailing them all would empty the validator set (jailing is covered by the keeper tests). x/lease's
	// randomized genesis turns bridge_enabled on in nine seeds in ten, with short batch intervals, so that
	// settlement batches are signed, attested, missed and pruned too.
	p.BridgeId, p.EthChainId, p.SettlementContract = simBridgeID, simChainID, simContract
	p.ValsetChangeBps = uint32(intn(2_000))
	p.SignerChangeDelayBlocks = uint64(intn(10))
	if intn(5) == 0 {
		p.SignedWindowBlocks = 0
	} else {
		p.SignedWindowBlocks = uint64(5 + intn(26))
	}
	p.SlashFractionUnsigned = math.LegacyNewDecWithPrec(int64(intn(11)), 3)
	p.JailUnsigned = false
	p.MaxUnsignedChecksPerBlock = uint32(1 + intn(4))
	p.BridgeRetentionBlocks = p.SignedWindowBlocks + 1 + uint64(intn(20))
	p.ValsetsKept = uint32(1 + intn(3))
	p.MaxBridgePrunedPerBlock = uint32(1 + intn(20))
	return p
}
