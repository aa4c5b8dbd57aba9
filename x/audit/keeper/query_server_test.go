package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/cosmos/cosmos-sdk/types/query"

	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

// queryFixture records, with the sample candidates (winner 0: n-a1+n-a2, 1: n-a1+n-g1, 3: n-g1):
//
//	id lease height nodes
//	1  1     100    n-a1 n-a2
//	2  2     100    n-g1
//	3  1     105    n-a1 n-g1
//	4  3     110    n-a1 n-a2
//	5  2     120    n-g1
func queryFixture(t *testing.T) *audittestutil.Fixture {
	t.Helper()
	f := audittestutil.NewFixture(t)
	for i, r := range []struct {
		lease  uint64
		height int64
		winner uint32
	}{{1, 100, 0}, {2, 100, 3}, {1, 105, 1}, {3, 110, 0}, {2, 120, 3}} {
		require.Equal(t, uint64(i+1), record(t, f, r.lease, r.height, r.winner))
	}
	return f
}

func TestQueryDecision(t *testing.T) {
	f := queryFixture(t)
	res, err := f.QueryServer.Decision(f.Ctx, &types.QueryDecisionRequest{DecisionId: 3})
	require.NoError(t, err)
	require.Equal(t, uint64(3), res.Decision.Id)
	require.Equal(t, uint64(1), res.Decision.LeaseId)
	require.Equal(t, []string{"n-a1", "n-g1"}, res.Decision.NodeIds)

	_, err = f.QueryServer.Decision(f.Ctx, &types.QueryDecisionRequest{DecisionId: 99})
	requireCode(t, err, codes.NotFound, "no decision with id 99")
	_, err = f.QueryServer.Decision(f.Ctx, &types.QueryDecisionRequest{})
	requireCode(t, err, codes.InvalidArgument, "decision_id is required")
	_, err = f.QueryServer.Decision(f.Ctx, nil)
	requireCode(t, err, codes.InvalidArgument, "decision_id is required")
}

func TestQueryDecisionsFilters(t *testing.T) {
	f := queryFixture(t)
	tests := []struct {
		name string
		req  *types.QueryDecisionsRequest
		want []uint64
	}{
		{"nil request", nil, []uint64{1, 2, 3, 4, 5}},
		{"all", &types.QueryDecisionsRequest{}, []uint64{1, 2, 3, 4, 5}},
		{"lease 1", &types.QueryDecisionsRequest{LeaseId: 1}, []uint64{1, 3}},
		{"lease 2", &types.QueryDecisionsRequest{LeaseId: 2}, []uint64{2, 5}},
		{"unknown lease", &types.QueryDecisionsRequest{LeaseId: 9}, []uint64{}},
		{"node n-a1", &types.QueryDecisionsRequest{NodeId: "n-a1"}, []uint64{1, 3, 4}},
		{"node n-g1", &types.QueryDecisionsRequest{NodeId: "n-g1"}, []uint64{2, 3, 5}},
		{"node n-a2", &types.QueryDecisionsRequest{NodeId: "n-a2"}, []uint64{1, 4}},
		{"node prefix is not a match", &types.QueryDecisionsRequest{NodeId: "n-a"}, []uint64{}},
		{"unknown node", &types.QueryDecisionsRequest{NodeId: "n-zz"}, []uint64{}},
		{"min height", &types.QueryDecisionsRequest{MinHeight: 105}, []uint64{3, 4, 5}},
		{"max height", &types.QueryDecisionsRequest{MaxHeight: 105}, []uint64{1, 2, 3}},
		{"height range", &types.QueryDecisionsRequest{MinHeight: 105, MaxHeight: 110}, []uint64{3, 4}},
		{"one height", &types.QueryDecisionsRequest{MinHeight: 100, MaxHeight: 100}, []uint64{1, 2}},
		{"empty height range", &types.QueryDecisionsRequest{MinHeight: 101, MaxHeight: 104}, []uint64{}},
		{"range past the end", &types.QueryDecisionsRequest{MinHeight: 121}, []uint64{}},
		{"range before the start", &types.QueryDecisionsRequest{MaxHeight: 99}, []uint64{}},
		{"lease and node", &types.QueryDecisionsRequest{LeaseId: 1, NodeId: "n-g1"}, []uint64{3}},
		{"lease and height", &types.QueryDecisionsRequest{LeaseId: 2, MaxHeight: 110}, []uint64{2}},
		{"node and height", &types.QueryDecisionsRequest{NodeId: "n-a1", MinHeight: 105}, []uint64{3, 4}},
		{"every filter", &types.QueryDecisionsRequest{LeaseId: 1, NodeId: "n-a1", MinHeight: 101, MaxHeight: 200}, []uint64{3}},
		{"every filter, no match", &types.QueryDecisionsRequest{LeaseId: 1, NodeId: "n-a2", MinHeight: 101}, []uint64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.QueryServer.Decisions(f.Ctx, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(res.Decisions))
			for _, d := range res.Decisions {
				require.NotEmpty(t, d.Candidates, "full records are returned")
			}
		})
	}
}

func TestQueryDecisionsBadRequest(t *testing.T) {
	f := queryFixture(t)
	_, err := f.QueryServer.Decisions(f.Ctx, &types.QueryDecisionsRequest{MinHeight: 110, MaxHeight: 105})
	requireCode(t, err, codes.InvalidArgument, "min_height 110 is above max_height 105")
	_, err = f.QueryServer.Decisions(f.Ctx, &types.QueryDecisionsRequest{MinHeight: -1})
	requireCode(t, err, codes.InvalidArgument, "must not be negative")
	_, err = f.QueryServer.Decisions(f.Ctx, &types.QueryDecisionsRequest{
		LeaseId: 1, Pagination: &query.PageRequest{Key: []byte{1}, Offset: 1},
	})
	requireCode(t, err, codes.InvalidArgument, "either offset or key")
}

// pages walks every page of req with the given limit and returns the ids of each page.
func pages(t *testing.T, f *audittestutil.Fixture, req types.QueryDecisionsRequest, limit uint64, reverse bool) [][]uint64 {
	t.Helper()
	var out [][]uint64
	var key []byte
	for i := 0; i < 10; i++ {
		req.Pagination = &query.PageRequest{Key: key, Limit: limit, Reverse: reverse}
		res, err := f.QueryServer.Decisions(f.Ctx, &req)
		require.NoError(t, err)
		out = append(out, ids(res.Decisions))
		if len(res.Pagination.NextKey) == 0 {
			return out
		}
		key = res.Pagination.NextKey
	}
	t.Fatal("pagination does not end")
	return nil
}

func TestQueryDecisionsPagination(t *testing.T) {
	f := queryFixture(t)
	tests := []struct {
		name    string
		req     types.QueryDecisionsRequest
		limit   uint64
		reverse bool
		want    [][]uint64
	}{
		{"all", types.QueryDecisionsRequest{}, 2, false, [][]uint64{{1, 2}, {3, 4}, {5}}},
		{"all, reverse", types.QueryDecisionsRequest{}, 2, true, [][]uint64{{5, 4}, {3, 2}, {1}}},
		{"lease", types.QueryDecisionsRequest{LeaseId: 1}, 1, false, [][]uint64{{1}, {3}}},
		{"node", types.QueryDecisionsRequest{NodeId: "n-a1"}, 2, false, [][]uint64{{1, 3}, {4}}},
		{"node, reverse", types.QueryDecisionsRequest{NodeId: "n-a1"}, 2, true, [][]uint64{{4, 3}, {1}}},
		{"height range", types.QueryDecisionsRequest{MinHeight: 100, MaxHeight: 110}, 3, false, [][]uint64{{1, 2, 3}, {4}}},
		{"height range, reverse", types.QueryDecisionsRequest{MinHeight: 100, MaxHeight: 110}, 3, true, [][]uint64{{4, 3, 2}, {1}}},
		{"open height range", types.QueryDecisionsRequest{MinHeight: 105}, 2, false, [][]uint64{{3, 4}, {5}}},
		{"open height range, reverse", types.QueryDecisionsRequest{MaxHeight: 105}, 2, true, [][]uint64{{3, 2}, {1}}},
		{"filtered index", types.QueryDecisionsRequest{NodeId: "n-g1", MinHeight: 101}, 1, false, [][]uint64{{3}, {5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, pages(t, f, tc.req, tc.limit, tc.reverse))
		})
	}
}

func TestQueryDecisionsOffsetAndTotal(t *testing.T) {
	f := queryFixture(t)
	tests := []struct {
		name   string
		req    types.QueryDecisionsRequest
		offset uint64
		want   []uint64
		total  uint64
	}{
		{"all", types.QueryDecisionsRequest{}, 1, []uint64{2, 3}, 5},
		{"node and height", types.QueryDecisionsRequest{NodeId: "n-g1", MinHeight: 101}, 0, []uint64{3, 5}, 2},
		{"height range", types.QueryDecisionsRequest{MinHeight: 100, MaxHeight: 110}, 2, []uint64{3, 4}, 4},
		{"lease", types.QueryDecisionsRequest{LeaseId: 2}, 1, []uint64{5}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Pagination = &query.PageRequest{Offset: tc.offset, Limit: 2, CountTotal: true}
			res, err := f.QueryServer.Decisions(f.Ctx, &tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(res.Decisions))
			require.Equal(t, tc.total, res.Pagination.Total)
		})
	}
}
