package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

func TestDefaultGenesis(t *testing.T) {
	gs := types.DefaultGenesis()
	require.NoError(t, gs.Validate())
	require.Equal(t, uint64(1), gs.NextDecisionId)
	require.Empty(t, gs.Decisions)
}

func TestGenesisValidate(t *testing.T) {
	valid := func(t *testing.T) types.GenesisState {
		return types.GenesisState{
			Decisions:       []types.Decision{audittestutil.SampleDecision(t, 1, 10), audittestutil.SampleDecision(t, 3, 12)},
			NextDecisionId:  4,
			Params:          types.DefaultParams(),
			NextFaultId:     1,
			NextSlashId:     1,
			NextChallengeId: 1,
		}
	}
	tests := []struct {
		name     string
		edit     func(gs *types.GenesisState)
		err      error
		contains string
	}{
		{name: "valid", edit: func(*types.GenesisState) {}},
		{name: "no decisions", edit: func(gs *types.GenesisState) { gs.Decisions = nil; gs.NextDecisionId = 1 }},
		{
			name: "next id 0", edit: func(gs *types.GenesisState) { gs.Decisions = nil; gs.NextDecisionId = 0 },
			err: types.ErrInvalidGenesis, contains: "next_decision_id is 0",
		},
		{
			name: "duplicate id", edit: func(gs *types.GenesisState) { gs.Decisions[1].Id = 1 },
			err: types.ErrInvalidGenesis, contains: "decisions[1]: duplicate decision id 1",
		},
		{
			name: "id not below next", edit: func(gs *types.GenesisState) { gs.NextDecisionId = 3 },
			err: types.ErrInvalidGenesis, contains: "id 3 is not below next_decision_id 3; raise next_decision_id to at least 4",
		},
		{
			name: "id 0", edit: func(gs *types.GenesisState) { gs.Decisions[0].Id = 0 },
			err: types.ErrInvalidDecision, contains: "genesis decisions[0]: id is 0",
		},
		{
			name: "lease 0", edit: func(gs *types.GenesisState) { gs.Decisions[0].LeaseId = 0 },
			err: types.ErrInvalidDecision, contains: "decision 1: lease_id is 0",
		},
		{
			name: "height 0", edit: func(gs *types.GenesisState) { gs.Decisions[1].Height = 0 },
			err: types.ErrInvalidDecision, contains: "decision 3: height 0",
		},
		{
			name: "negative height", edit: func(gs *types.GenesisState) { gs.Decisions[1].Height = -5 },
			err: types.ErrInvalidDecision, contains: "height -5",
		},
		{
			name: "blocks per hour 0", edit: func(gs *types.GenesisState) { gs.Decisions[0].BlocksPerHour = 0 },
			err: types.ErrInvalidDecision, contains: "blocks_per_hour is 0",
		},
		{
			name: "winner out of range", edit: func(gs *types.GenesisState) { gs.Decisions[0].Winner = 4 },
			err: types.ErrInvalidWinner, contains: "winner index 4 is out of range: there are 4 candidates (0..3)",
		},
		{
			name: "winner rejected", edit: func(gs *types.GenesisState) { gs.Decisions[0].Winner = 2 },
			err: types.ErrInvalidWinner, contains: `winner 2 (proposal 7 by nro1carol) was rejected ("node n-a1 is JAILED`,
		},
		{
			name: "no candidates", edit: func(gs *types.GenesisState) { gs.Decisions[0].Candidates = nil },
			err: types.ErrInvalidWinner, contains: "no candidates",
		},
		{
			name: "winner with no nodes", edit: func(gs *types.GenesisState) { gs.Decisions[0].Candidates[0].Nodes = nil },
			err: types.ErrInvalidWinner, contains: "places no nodes",
		},
		{
			name: "unspecified source", edit: func(gs *types.GenesisState) {
				gs.Decisions[0].Candidates[1].Source = allocationtypes.CANDIDATE_SOURCE_UNSPECIFIED
			},
			err: types.ErrInvalidDecision, contains: "candidates[1] has source CANDIDATE_SOURCE_UNSPECIFIED",
		},
		{
			name: "proposal without id", edit: func(gs *types.GenesisState) { gs.Decisions[0].Candidates[1].ProposalId = 0 },
			err: types.ErrInvalidDecision, contains: "candidates[1] is a proposal with proposal_id 0",
		},
		{
			name: "fallback with a proposal id", edit: func(gs *types.GenesisState) { gs.Decisions[0].Candidates[3].ProposalId = 2 },
			err: types.ErrInvalidDecision, contains: "candidates[3] is fallback with proposal_id 2",
		},
		{
			name: "node ids unsorted", edit: func(gs *types.GenesisState) { gs.Decisions[0].NodeIds = []string{"n-a2", "n-a1"} },
			err: types.ErrInvalidDecision, contains: "node_ids [n-a2 n-a1] must be sorted and unique",
		},
		{
			name: "node ids duplicated", edit: func(gs *types.GenesisState) { gs.Decisions[0].NodeIds = []string{"n-a1", "n-a1"} },
			err: types.ErrInvalidDecision, contains: "must be sorted and unique",
		},
		{
			name: "node ids not the winner's", edit: func(gs *types.GenesisState) { gs.Decisions[0].NodeIds = []string{"n-a1", "n-g1"} },
			err: types.ErrInvalidDecision, contains: "node_ids [n-a1 n-g1] differ from the winner's nodes [n-a1 n-a2]",
		},
		{
			name: "node ids missing", edit: func(gs *types.GenesisState) { gs.Decisions[0].NodeIds = nil },
			err: types.ErrInvalidDecision, contains: "node_ids [] differ from the winner's nodes",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gs := valid(t)
			tc.edit(&gs)
			err := gs.Validate()
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.contains)
		})
	}
}

func TestPlacementNodeIDsAndHasNode(t *testing.T) {
	cands := audittestutil.SampleCandidates(t)
	// Proposal 5 lists n-g1 before n-a1; node_ids are sorted.
	require.Equal(t, []string{"n-a1", "n-g1"}, types.PlacementNodeIDs(cands[1]))
	d := types.Decision{NodeIds: []string{"n-a1", "n-g1"}}
	require.True(t, d.HasNode("n-a1"))
	require.True(t, d.HasNode("n-g1"))
	require.False(t, d.HasNode("n-a2"))
	require.False(t, d.HasNode(""))
}

func TestCandidateLabel(t *testing.T) {
	require.Equal(t, "fallback", types.CandidateLabel(allocationtypes.Candidate{Source: allocationtypes.CANDIDATE_SOURCE_FALLBACK}))
	require.Equal(t, "proposal 4 by nro1x", types.CandidateLabel(allocationtypes.Candidate{
		Source: allocationtypes.CANDIDATE_SOURCE_PROPOSAL, ProposalId: 4, Proposer: "nro1x",
	}))
	require.Equal(t, "proposal 4", types.CandidateLabel(allocationtypes.Candidate{Source: allocationtypes.CANDIDATE_SOURCE_PROPOSAL, ProposalId: 4}))
	require.Equal(t, "candidate of source unspecified", types.CandidateLabel(allocationtypes.Candidate{}))
}

func TestTelemetryGenesisValidate(t *testing.T) {
	report := types.TelemetryReport{
		NodeId: "gpu-a", Epoch: 2, Agent: "nro1agent", Height: 25,
		Gpus:  []types.GpuMetrics{{DeviceIndex: 0, Uuid: "GPU-1", Source: types.SOURCE_NVML, Present: true, MemoryTotalMib: 80_000}},
		Links: []types.LinkMeasurement{{PeerNodeId: "gpu-b", Source: types.SOURCE_PROBE, RttUs: 900, ThroughputKbps: 1_000, Samples: 3}},
	}
	link := types.LinkAggregate{
		NodeA: "gpu-a", NodeB: "gpu-b",
		Samples: []types.LinkSample{
			{Reporter: "gpu-a", Epoch: 2, RttUs: 900, ThroughputKbps: 1_000, Samples: 3},
			{Reporter: "gpu-b", Epoch: 2, RttUs: 1_100, ThroughputKbps: 900, Samples: 3},
		},
		MedianRttUs: 900, MedianThroughputKbps: 900, Epoch: 2, UpdatedHeight: 26,
	}
	fault := types.Fault{Id: 1, NodeId: "gpu-c", Epoch: 2, Kind: types.FAULT_KIND_MISSED_EPOCH, Height: 33}
	valid := func() types.GenesisState {
		gs := *types.DefaultGenesis()
		gs.Epoch = types.EpochInfo{Number: 3, StartHeight: 30}
		gs.Sweeps = []types.EpochSweep{{Epoch: 2, StartHeight: 20, EndHeight: 29, NextLeaseId: 4}}
		gs.Reports = []types.TelemetryReport{report}
		gs.Links = []types.LinkAggregate{link}
		gs.Faults = []types.Fault{fault}
		gs.NextFaultId = 2
		gs.NodeStats = []types.NodeAuditStats{{NodeId: "gpu-a", Reports: 1, CleanReports: 1, LastReportEpoch: 2}}
		return gs
	}
	tests := []struct {
		name     string
		edit     func(gs *types.GenesisState)
		contains string
	}{
		{"valid", func(*types.GenesisState) {}, ""},
		{"invalid params", func(gs *types.GenesisState) { gs.Params.EpochBlocks = 0 }, "genesis params: epoch_blocks 0"},
		{"report from a future epoch", func(gs *types.GenesisState) { gs.Reports[0].Epoch = 4 }, "is from epoch 4, after the current epoch 3"},
		{"duplicate report", func(gs *types.GenesisState) { gs.Reports = append(gs.Reports, report) }, "node gpu-a has two reports for epoch 2"},
		{"malformed report", func(gs *types.GenesisState) { gs.Reports[0].Gpus[0].UtilizationPct = 200 }, "utilization_pct 200"},
		{"disputed flag wrong", func(gs *types.GenesisState) { gs.Reports[0].Disputed = true }, "disputed is true but 0 of 0 comparable links deviate"},
		{"report names an unknown fault", func(gs *types.GenesisState) { gs.Reports[0].FaultId = 2 }, "fault_id 2 is not below next_fault_id 2"},
		{"link ends out of order", func(gs *types.GenesisState) { gs.Links[0].NodeA, gs.Links[0].NodeB = "gpu-b", "gpu-a" }, "node_a must sort before node_b"},
		{"link median wrong", func(gs *types.GenesisState) { gs.Links[0].MedianRttUs = 1_100 }, "medians 1100 us / 900 kbit/s, but the samples give 900 us / 900 kbit/s"},
		{"link sample from a third node", func(gs *types.GenesisState) { gs.Links[0].Samples[1].Reporter = "gpu-c" }, "reported by gpu-c, not an end of the link"},
		{"link samples unsorted", func(gs *types.GenesisState) {
			gs.Links[0].Samples[0], gs.Links[0].Samples[1] = gs.Links[0].Samples[1], gs.Links[0].Samples[0]
		}, "samples must be sorted by reporter then epoch"},
		{"duplicate link", func(gs *types.GenesisState) { gs.Links = append(gs.Links, link) }, "pair (gpu-a, gpu-b) appears twice"},
		{"fault id not below next", func(gs *types.GenesisState) { gs.NextFaultId = 1 }, "id 1 is not below next_fault_id 1"},
		{"fault kind unspecified", func(gs *types.GenesisState) { gs.Faults[0].Kind = types.FAULT_KIND_UNSPECIFIED }, "kind FAULT_KIND_UNSPECIFIED"},
		{"duplicate fault", func(gs *types.GenesisState) {
			f := fault
			f.Id = 2
			gs.Faults = append(gs.Faults, f)
			gs.NextFaultId = 3
		}, "node gpu-c has two FAULT_KIND_MISSED_EPOCH faults in epoch 2"},
		{"sweep of an epoch not ended", func(gs *types.GenesisState) { gs.Sweeps[0].Epoch = 3 }, "sweeps[0]: epoch 3 has not ended"},
		{"sweep heights", func(gs *types.GenesisState) { gs.Sweeps[0].EndHeight = 30 }, "spans heights 20..30"},
		{"stats that do not add up", func(gs *types.GenesisState) { gs.NodeStats[0].DisputedReports = 1 }, "counts 1 clean and 1 disputed of 1 reports"},
		{"epoch 0 with a start height", func(gs *types.GenesisState) {
			gs.Epoch = types.EpochInfo{StartHeight: 5}
			gs.Sweeps, gs.Reports, gs.Links, gs.Faults = nil, nil, nil, nil
		}, "number 0 (start at genesis) with start_height 5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gs := valid()
			gs.Reports[0].Gpus = append([]types.GpuMetrics(nil), report.Gpus...)
			gs.Links[0].Samples = append([]types.LinkSample(nil), link.Samples...)
			tc.edit(&gs)
			err := gs.Validate()
			if tc.contains == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.contains)
		})
	}
}
