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
			Decisions:      []types.Decision{audittestutil.SampleDecision(t, 1, 10), audittestutil.SampleDecision(t, 3, 12)},
			NextDecisionId: 4,
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
			err: types.ErrInvalidDecision, contains: "candidates[3] is the fallback with proposal_id 2",
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
