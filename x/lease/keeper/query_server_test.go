package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/consensus-nro/nro/x/lease/testutil"
	"github.com/consensus-nro/nro/x/lease/types"
)

func requireCode(t *testing.T, err error, code codes.Code, contains string) {
	t.Helper()
	require.Error(t, err)
	st, ok := status.FromError(err)
	require.True(t, ok, "not a gRPC status: %v", err)
	require.Equal(t, code, st.Code(), st.Message())
	require.Contains(t, st.Message(), contains)
}

func leaseIDs(ls []types.Lease) []uint64 {
	out := []uint64{}
	for _, l := range ls {
		out = append(out, l.Id)
	}
	return out
}

func TestQueryParams(t *testing.T) {
	f := testutil.NewFixture(t)
	res, err := f.QueryServer.Params(f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, types.DefaultParams(), res.Params)
}

func TestQueryLease(t *testing.T) {
	f := populated(t) // at height 60
	// Lease 4: 8 GPUs × 2000003 per hour from height 40, settled at 45, deposit 48001000.
	res, err := f.QueryServer.Lease(f.Ctx, &types.QueryLeaseRequest{LeaseId: 4})
	require.NoError(t, err)
	l := res.Lease
	require.Equal(t, uint64(4), l.Id)
	require.Equal(t, int64(45), l.SettledHeight)
	// Paid at 45: floor(16000024 × 5 / 600) = 133333. Owed at 60: floor(16000024 × 20 / 600) = 533334.
	require.Equal(t, unro(133_333), l.Paid)
	require.Equal(t, unro(533_334-133_333), res.Accrued)
	require.Equal(t, unro(48_001_000-133_333), res.EscrowBalance)

	// Querying wrote nothing.
	require.Equal(t, int64(45), f.Lease(4).SettledHeight)

	// A pending lease owes nothing; a closed one holds no escrow.
	res, err = f.QueryServer.Lease(f.Ctx, &types.QueryLeaseRequest{LeaseId: 6})
	require.NoError(t, err)
	require.Equal(t, zero.String(), res.Accrued.String())
	require.Equal(t, unro(48_000_000).String(), res.EscrowBalance.String())
	res, err = f.QueryServer.Lease(f.Ctx, &types.QueryLeaseRequest{LeaseId: 3})
	require.NoError(t, err)
	require.Equal(t, zero.String(), res.Accrued.String())
	require.Equal(t, zero.String(), res.EscrowBalance.String())

	// Past the deadline, accrual stops at the deadline.
	f.SetHeight(5_000)
	res, err = f.QueryServer.Lease(f.Ctx, &types.QueryLeaseRequest{LeaseId: 4})
	require.NoError(t, err)
	// Deadline = end = 40 + 1200: floor(16000024 × 1200 / 600) = 32000048.
	require.Equal(t, int64(1240), res.Lease.DeadlineHeight)
	require.Equal(t, unro(32_000_048-133_333), res.Accrued)

	_, err = f.QueryServer.Lease(f.Ctx, &types.QueryLeaseRequest{})
	requireCode(t, err, codes.InvalidArgument, "lease_id is required")
	_, err = f.QueryServer.Lease(f.Ctx, nil)
	requireCode(t, err, codes.InvalidArgument, "lease_id is required")
	_, err = f.QueryServer.Lease(f.Ctx, &types.QueryLeaseRequest{LeaseId: 99})
	requireCode(t, err, codes.NotFound, "no lease with id 99")
}

func TestQueryLeases(t *testing.T) {
	f := populated(t)
	_, alice := f.Addr("alice")
	_, bob := f.Addr("bob")
	cases := []struct {
		name string
		req  *types.QueryLeasesRequest
		want []uint64
	}{
		{"all", &types.QueryLeasesRequest{}, []uint64{1, 2, 3, 4, 5, 6}},
		{"nil request", nil, []uint64{1, 2, 3, 4, 5, 6}},
		{"by submitter", &types.QueryLeasesRequest{Submitter: alice}, []uint64{1, 3, 5}},
		{"by submitter in upper case", &types.QueryLeasesRequest{Submitter: strings.ToUpper(bob)}, []uint64{2, 4, 6}},
		{"by state", &types.QueryLeasesRequest{State: types.LEASE_STATE_ACTIVE}, []uint64{4, 5}},
		{"by node", &types.QueryLeasesRequest{NodeId: "n1"}, []uint64{3, 5}},
		{"by node, closed leases included", &types.QueryLeasesRequest{NodeId: "n2"}, []uint64{3, 4}},
		{"by node and state", &types.QueryLeasesRequest{NodeId: "n2", State: types.LEASE_STATE_ACTIVE}, []uint64{4}},
		{"by node and submitter", &types.QueryLeasesRequest{NodeId: "n1", Submitter: alice}, []uint64{3, 5}},
		{"by node and another submitter", &types.QueryLeasesRequest{NodeId: "n1", Submitter: bob}, []uint64{}},
		{"by submitter and state", &types.QueryLeasesRequest{Submitter: bob, State: types.LEASE_STATE_PENDING}, []uint64{6}},
		{"all three", &types.QueryLeasesRequest{Submitter: alice, State: types.LEASE_STATE_CLOSED, NodeId: "n2"}, []uint64{3}},
		{"unknown node", &types.QueryLeasesRequest{NodeId: "nope"}, []uint64{}},
	}
	for _, tc := range cases {
		res, err := f.QueryServer.Leases(f.Ctx, tc.req)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, leaseIDs(res.Leases), tc.name)
	}

	_, err := f.QueryServer.Leases(f.Ctx, &types.QueryLeasesRequest{Submitter: "nro1bad"})
	requireCode(t, err, codes.InvalidArgument, `submitter "nro1bad"`)
	_, err = f.QueryServer.Leases(f.Ctx, &types.QueryLeasesRequest{State: 42})
	requireCode(t, err, codes.InvalidArgument, "state 42")
}

// TestQueryLeasesPagination pages through every index with a limit of 1 and 2 and checks that the pages
// join up to the unpaginated answer, with totals when asked.
func TestQueryLeasesPagination(t *testing.T) {
	f := populated(t)
	_, alice := f.Addr("alice")
	reqs := []*types.QueryLeasesRequest{
		{}, {Submitter: alice}, {State: types.LEASE_STATE_ACTIVE}, {NodeId: "n2"}, {NodeId: "n1", State: types.LEASE_STATE_ACTIVE},
	}
	for _, base := range reqs {
		full, err := f.QueryServer.Leases(f.Ctx, base)
		require.NoError(t, err)
		for _, limit := range []uint64{1, 2} {
			var got []uint64
			var next []byte
			for {
				req := *base
				req.Pagination = &query.PageRequest{Key: next, Limit: limit}
				res, err := f.QueryServer.Leases(f.Ctx, &req)
				require.NoError(t, err)
				require.LessOrEqual(t, uint64(len(res.Leases)), limit)
				got = append(got, leaseIDs(res.Leases)...)
				if res.Pagination.NextKey == nil {
					break
				}
				next = res.Pagination.NextKey
			}
			if got == nil {
				got = []uint64{}
			}
			require.Equal(t, leaseIDs(full.Leases), got, "%+v limit %d", base, limit)
		}
	}
	res, err := f.QueryServer.Leases(f.Ctx, &types.QueryLeasesRequest{Pagination: &query.PageRequest{Limit: 2, CountTotal: true}})
	require.NoError(t, err)
	require.Equal(t, uint64(6), res.Pagination.Total)
	res, err = f.QueryServer.Leases(f.Ctx, &types.QueryLeasesRequest{Pagination: &query.PageRequest{Offset: 4, Limit: 10}})
	require.NoError(t, err)
	require.Equal(t, []uint64{5, 6}, leaseIDs(res.Leases))
	res, err = f.QueryServer.Leases(f.Ctx, &types.QueryLeasesRequest{Pagination: &query.PageRequest{Limit: 2, Reverse: true}})
	require.NoError(t, err)
	require.Equal(t, []uint64{6, 5}, leaseIDs(res.Leases))
}

func TestQuerySettlementRecords(t *testing.T) {
	f := populated(t)
	// Close the two ACTIVE leases: records 3 (lease 4, n2), 4 and 5 (lease 5, n1 and n3).
	f.SetHeight(2_000)
	require.NoError(t, f.EndBlock())
	ids := func(rs []types.SettlementRecord) []uint64 {
		out := []uint64{}
		for _, r := range rs {
			out = append(out, r.Id)
		}
		return out
	}
	cases := []struct {
		name string
		req  *types.QuerySettlementRecordsRequest
		want []uint64
	}{
		{"all", &types.QuerySettlementRecordsRequest{}, []uint64{1, 2, 3, 4, 5}},
		{"nil request", nil, []uint64{1, 2, 3, 4, 5}},
		{"by lease", &types.QuerySettlementRecordsRequest{LeaseId: 3}, []uint64{1, 2}},
		{"by lease with one node", &types.QuerySettlementRecordsRequest{LeaseId: 4}, []uint64{3}},
		{"by node", &types.QuerySettlementRecordsRequest{NodeId: "n2"}, []uint64{2, 3}},
		{"by node and lease", &types.QuerySettlementRecordsRequest{NodeId: "n1", LeaseId: 5}, []uint64{4}},
		{"by node of another lease", &types.QuerySettlementRecordsRequest{NodeId: "n3", LeaseId: 3}, []uint64{}},
		{"unknown lease", &types.QuerySettlementRecordsRequest{LeaseId: 99}, []uint64{}},
	}
	for _, tc := range cases {
		res, err := f.QueryServer.SettlementRecords(f.Ctx, tc.req)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, ids(res.Records), tc.name)
	}
	res, err := f.QueryServer.SettlementRecords(f.Ctx, &types.QuerySettlementRecordsRequest{
		NodeId: "n2", Pagination: &query.PageRequest{Limit: 1, CountTotal: true},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{2}, ids(res.Records))
	require.Equal(t, uint64(2), res.Pagination.Total)
	res, err = f.QueryServer.SettlementRecords(f.Ctx, &types.QuerySettlementRecordsRequest{
		NodeId: "n2", Pagination: &query.PageRequest{Key: res.Pagination.NextKey, Limit: 1},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{3}, ids(res.Records))
}

func TestUpdateParams(t *testing.T) {
	f := testutil.NewFixture(t)
	_, stranger := f.Addr("stranger")
	p := types.DefaultParams()
	p.TakeBps = 500
	p.MaxClosesPerBlock = 7

	before := snapshot(t, f)
	_, err := f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: stranger, Params: p})
	require.ErrorIs(t, err, types.ErrInvalidAuthority)
	require.ErrorContains(t, err, "expected "+f.Authority+" (the gov module account)")
	requireUnchanged(t, f, before)

	bad := p
	bad.TakeBps = 10_001
	_, err = f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: bad})
	require.ErrorIs(t, err, types.ErrInvalidParams)
	require.ErrorContains(t, err, "take_bps 10001")
	requireUnchanged(t, f, before)

	_, err = f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)
	require.Equal(t, p, f.Params())
	requireEvents(t, f, &types.EventParamsUpdated{Params: p})
}
