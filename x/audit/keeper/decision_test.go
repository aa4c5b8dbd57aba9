package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

func TestRecordDecision(t *testing.T) {
	f := audittestutil.NewFixture(t)
	f.SetHeight(120)
	want := audittestutil.SampleDecision(t, 1, 120)

	id, err := f.Keeper.RecordDecision(f.Ctx, want.LeaseId, want.Spec, want.BlocksPerHour, want.Weights, want.Candidates, want.Winner, nil)
	require.NoError(t, err)
	require.Equal(t, uint64(1), id)
	got, err := f.Keeper.GetDecision(f.Ctx, id)
	require.NoError(t, err)
	requireSameProto(t, &want, &got)
	require.Equal(t, []string{"n-a1", "n-a2"}, got.NodeIds)
	require.Equal(t, []proto.Message{&types.EventDecisionRecorded{DecisionId: 1, LeaseId: 42, Height: 120, Candidates: 4}}, f.TypedEvents())
	f.RequireInvariant()

	// What the chain stored re-verifies off-chain.
	r := types.VerifyDecision(got, allocationtypes.DefaultMaxPlacementNodes)
	require.True(t, r.Match, r.String())

	// Ids follow each other; a decision records the height of its block.
	f.SetHeight(121)
	id, err = f.Keeper.RecordDecision(f.Ctx, 43, want.Spec, want.BlocksPerHour, want.Weights, want.Candidates, 3, nil)
	require.NoError(t, err)
	require.Equal(t, uint64(2), id)
	got, err = f.Keeper.GetDecision(f.Ctx, 2)
	require.NoError(t, err)
	require.Equal(t, int64(121), got.Height)
	require.Equal(t, uint64(43), got.LeaseId)
	require.Equal(t, []string{"n-g1"}, got.NodeIds)
	require.Equal(t, []proto.Message{&types.EventDecisionRecorded{DecisionId: 2, LeaseId: 43, Height: 121, Candidates: 4}}, f.TypedEvents())
	f.RequireInvariant()
}

func TestRecordDecisionWithoutGenesis(t *testing.T) {
	// An unset sequence still starts at 1: id 0 is never assigned.
	f := audittestutil.NewFixtureWithoutGenesis(t)
	require.Equal(t, uint64(1), record(t, f, 1, 20, 0))
	require.Equal(t, uint64(2), record(t, f, 1, 21, 0))
}

func TestRecordDecisionRefused(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(f *audittestutil.Fixture, d *types.Decision)
		err      error
		contains string
	}{
		{
			name: "winner out of range", edit: func(_ *audittestutil.Fixture, d *types.Decision) { d.Winner = 4 },
			err: types.ErrInvalidWinner, contains: "winner index 4 is out of range: there are 4 candidates (0..3)",
		},
		{
			name: "winner rejected", edit: func(_ *audittestutil.Fixture, d *types.Decision) { d.Winner = 2 },
			err: types.ErrInvalidWinner, contains: "winner 2 (proposal 7 by nro1carol) was rejected",
		},
		{
			name: "no candidates", edit: func(_ *audittestutil.Fixture, d *types.Decision) { d.Candidates = nil },
			err: types.ErrInvalidWinner, contains: "no candidates",
		},
		{
			name: "winner places no nodes", edit: func(_ *audittestutil.Fixture, d *types.Decision) { d.Candidates[0].Nodes = nil },
			err: types.ErrInvalidWinner, contains: "places no nodes",
		},
		{
			name: "lease 0", edit: func(_ *audittestutil.Fixture, d *types.Decision) { d.LeaseId = 0 },
			err: types.ErrInvalidDecision, contains: "lease_id is 0",
		},
		{
			name: "blocks per hour 0", edit: func(_ *audittestutil.Fixture, d *types.Decision) { d.BlocksPerHour = 0 },
			err: types.ErrInvalidDecision, contains: "blocks_per_hour is 0",
		},
		{
			name: "unspecified source", edit: func(_ *audittestutil.Fixture, d *types.Decision) {
				d.Candidates[1].Source = allocationtypes.CANDIDATE_SOURCE_UNSPECIFIED
			},
			err: types.ErrInvalidDecision, contains: "has source CANDIDATE_SOURCE_UNSPECIFIED",
		},
		{
			name: "height 0 (genesis)", edit: func(f *audittestutil.Fixture, _ *types.Decision) { f.SetHeight(0) },
			err: types.ErrInvalidDecision, contains: "height 0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := audittestutil.NewFixture(t)
			f.SetHeight(50)
			d := audittestutil.SampleDecision(t, 1, 50)
			tc.edit(f, &d)
			id, err := f.Keeper.RecordDecision(f.Ctx, d.LeaseId, d.Spec, d.BlocksPerHour, d.Weights, d.Candidates, d.Winner, nil)
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.contains)
			require.Zero(t, id)
			// Nothing stored, no event, no id consumed.
			require.Empty(t, allDecisions(t, f))
			require.Empty(t, f.TypedEvents())
			f.RequireInvariant()
			require.Equal(t, uint64(1), record(t, f, 1, 51, 0))
		})
	}
}

func TestGetDecisionNotFound(t *testing.T) {
	f := audittestutil.NewFixture(t)
	_, err := f.Keeper.GetDecision(f.Ctx, 5)
	require.ErrorIs(t, err, types.ErrDecisionNotFound)
	require.ErrorContains(t, err, "no decision with id 5")
}
