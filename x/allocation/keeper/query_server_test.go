package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// queryFixture registers:
//
//	a-1 alice aws:us-east-1      H100      ACTIVE
//	a-2 alice aws:us-east-1      A100      ACTIVE
//	a-3 alice gcp:us-central1-a  H100, L4  UNBONDING
//	a-4 alice azure:westeurope   A100      JAILED
//	b-1 bob   aws:us-east-1      H100      ACTIVE
//	b-2 bob   gcp:us-central1-a  A10G      ACTIVE
func queryFixture(t *testing.T) (f *keepertest.AllocationFixture, alice, bob string) {
	t.Helper()
	f = keepertest.NewAllocationFixture(t)
	_, alice = f.Addr("alice")
	_, bob = f.Addr("bob")
	add := func(op, id, region string, gpus ...types.GpuGroup) {
		m := f.ValidRegisterMsg(op, id)
		m.Region = region
		m.Gpus = gpus
		var total uint32
		for _, g := range gpus {
			total += g.Count
		}
		m.Stake = f.Params().MinStake(total)
		f.RegisterNode(m)
	}
	h100 := types.GpuGroup{Model: "H100", Count: 8, MemoryMib: 81920}
	a100 := types.GpuGroup{Model: "A100", Count: 4, MemoryMib: 40960}
	// Registered out of id order, so that results in id order come from the store, not from insertion.
	add(bob, "b-2", "gcp:us-central1-a", types.GpuGroup{Model: "A10G", Count: 1, MemoryMib: 24576})
	add(alice, "a-3", "gcp:us-central1-a", h100, types.GpuGroup{Model: "L4", Count: 2, MemoryMib: 24576})
	add(alice, "a-1", "aws:us-east-1", h100)
	add(bob, "b-1", "aws:us-east-1", h100)
	add(alice, "a-4", "azure:westeurope", a100)
	add(alice, "a-2", "aws:us-east-1", a100)
	_, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: alice, NodeId: "a-3"})
	require.NoError(t, err)
	n := f.Node("a-4")
	n.Status = types.NODE_STATUS_JAILED
	f.SetNode(n)
	f.RequireInvariant()
	return f, alice, bob
}

func ids(nodes []types.Node) []string {
	out := []string{}
	for _, n := range nodes {
		out = append(out, n.Id)
	}
	return out
}

func requireCode(t *testing.T, err error, code codes.Code, contains string) {
	t.Helper()
	require.Error(t, err)
	st, ok := status.FromError(err)
	require.True(t, ok, "not a gRPC status: %v", err)
	require.Equal(t, code, st.Code(), st.Message())
	require.Contains(t, st.Message(), contains)
}

func TestQueryParams(t *testing.T) {
	f := keepertest.NewAllocationFixture(t)
	res, err := f.QueryServer.Params(f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, types.DefaultParams(), res.Params)
}

func TestQueryNode(t *testing.T) {
	f, alice, _ := queryFixture(t)

	res, err := f.QueryServer.Node(f.Ctx, &types.QueryNodeRequest{NodeId: "a-3"})
	require.NoError(t, err)
	require.Equal(t, f.Node("a-3"), res.Node)
	require.Equal(t, alice, res.Node.Operator)
	require.Equal(t, types.NODE_STATUS_UNBONDING, res.Node.Status)

	_, err = f.QueryServer.Node(f.Ctx, &types.QueryNodeRequest{NodeId: "zz-9"})
	requireCode(t, err, codes.NotFound, `"zz-9"`)

	_, err = f.QueryServer.Node(f.Ctx, &types.QueryNodeRequest{})
	requireCode(t, err, codes.InvalidArgument, "node_id")

	_, err = f.QueryServer.Node(f.Ctx, nil)
	requireCode(t, err, codes.InvalidArgument, "node_id")
}

func TestQueryNodesFilters(t *testing.T) {
	f, alice, bob := queryFixture(t)
	_, carol := f.Addr("carol")

	cases := []struct {
		name string
		req  *types.QueryNodesRequest
		want []string
	}{
		{"nil request", nil, []string{"a-1", "a-2", "a-3", "a-4", "b-1", "b-2"}},
		{"no filter", &types.QueryNodesRequest{}, []string{"a-1", "a-2", "a-3", "a-4", "b-1", "b-2"}},
		{"operator alice", &types.QueryNodesRequest{Operator: alice}, []string{"a-1", "a-2", "a-3", "a-4"}},
		{"operator bob", &types.QueryNodesRequest{Operator: bob}, []string{"b-1", "b-2"}},
		{"operator without nodes", &types.QueryNodesRequest{Operator: carol}, []string{}},
		{"region aws:us-east-1", &types.QueryNodesRequest{Region: "aws:us-east-1"}, []string{"a-1", "a-2", "b-1"}},
		{"region gcp:us-central1-a", &types.QueryNodesRequest{Region: "gcp:us-central1-a"}, []string{"a-3", "b-2"}},
		{"region without nodes", &types.QueryNodesRequest{Region: "aws:eu-west-1"}, []string{}},
		{"unknown region", &types.QueryNodesRequest{Region: "aws:mars-1"}, []string{}},
		{"status ACTIVE", &types.QueryNodesRequest{Status: types.NODE_STATUS_ACTIVE}, []string{"a-1", "a-2", "b-1", "b-2"}},
		{"status UNBONDING", &types.QueryNodesRequest{Status: types.NODE_STATUS_UNBONDING}, []string{"a-3"}},
		{"status JAILED", &types.QueryNodesRequest{Status: types.NODE_STATUS_JAILED}, []string{"a-4"}},
		{"gpu H100", &types.QueryNodesRequest{GpuModel: "H100"}, []string{"a-1", "a-3", "b-1"}},
		{"gpu L4 (second group)", &types.QueryNodesRequest{GpuModel: "L4"}, []string{"a-3"}},
		{"gpu A100", &types.QueryNodesRequest{GpuModel: "A100"}, []string{"a-2", "a-4"}},
		{"gpu model is case-sensitive", &types.QueryNodesRequest{GpuModel: "h100"}, []string{}},
		{"operator + region", &types.QueryNodesRequest{Operator: alice, Region: "aws:us-east-1"}, []string{"a-1", "a-2"}},
		{"operator + status", &types.QueryNodesRequest{Operator: alice, Status: types.NODE_STATUS_ACTIVE}, []string{"a-1", "a-2"}},
		{"operator + gpu", &types.QueryNodesRequest{Operator: bob, GpuModel: "H100"}, []string{"b-1"}},
		{"region + status", &types.QueryNodesRequest{Region: "gcp:us-central1-a", Status: types.NODE_STATUS_UNBONDING}, []string{"a-3"}},
		{"region + gpu", &types.QueryNodesRequest{Region: "aws:us-east-1", GpuModel: "A100"}, []string{"a-2"}},
		{"status + gpu", &types.QueryNodesRequest{Status: types.NODE_STATUS_ACTIVE, GpuModel: "H100"}, []string{"a-1", "b-1"}},
		{"operator + status + gpu", &types.QueryNodesRequest{Operator: bob, Status: types.NODE_STATUS_ACTIVE, GpuModel: "A10G"}, []string{"b-2"}},
		{
			"all four",
			&types.QueryNodesRequest{Operator: alice, Region: "aws:us-east-1", Status: types.NODE_STATUS_ACTIVE, GpuModel: "H100"},
			[]string{"a-1"},
		},
		{
			"all four, no match",
			&types.QueryNodesRequest{Operator: alice, Region: "aws:us-east-1", Status: types.NODE_STATUS_JAILED, GpuModel: "H100"},
			[]string{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.QueryServer.Nodes(f.Ctx, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(res.Nodes))
			for _, n := range res.Nodes {
				require.Equal(t, f.Node(n.Id), n, "full node returned")
			}
		})
	}

	t.Run("invalid operator", func(t *testing.T) {
		_, err := f.QueryServer.Nodes(f.Ctx, &types.QueryNodesRequest{Operator: "cosmos1xyz"})
		requireCode(t, err, codes.InvalidArgument, "operator")
	})
	t.Run("invalid status", func(t *testing.T) {
		_, err := f.QueryServer.Nodes(f.Ctx, &types.QueryNodesRequest{Status: types.NodeStatus(9)})
		requireCode(t, err, codes.InvalidArgument, "status 9")
	})
}

// pageThrough reads every page of a paginated query with key-based pagination and returns the ids per page.
func pageThrough(t *testing.T, limit uint64, get func(*query.PageRequest) ([]types.Node, *query.PageResponse, error)) [][]string {
	t.Helper()
	var pages [][]string
	var key []byte
	for i := 0; ; i++ {
		require.Less(t, i, 20, "pagination does not end")
		nodes, page, err := get(&query.PageRequest{Key: key, Limit: limit})
		require.NoError(t, err)
		require.NotNil(t, page)
		pages = append(pages, ids(nodes))
		if page.NextKey == nil {
			return pages
		}
		key = page.NextKey
	}
}

func TestQueryNodesPagination(t *testing.T) {
	f := keepertest.NewAllocationFixture(t)
	_, carol := f.Addr("carol")
	_, dave := f.Addr("dave")
	// dave's node sorts in the middle of carol's, so operator pagination must skip it.
	for _, id := range []string{"p-5", "p-1", "p-3", "p-2", "p-4"} {
		f.RegisterNode(f.ValidRegisterMsg(carol, id))
	}
	m := f.ValidRegisterMsg(dave, "p-25")
	m.Region = "aws:eu-west-1"
	m.Gpus = []types.GpuGroup{{Model: "A100", Count: 8, MemoryMib: 81920}}
	f.RegisterNode(m)
	_, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: dave, NodeId: "p-25"})
	require.NoError(t, err)

	want := [][]string{{"p-1", "p-2"}, {"p-3", "p-4"}, {"p-5"}}
	filters := map[string]types.QueryNodesRequest{
		"operator index": {Operator: carol},
		"region index":   {Region: "aws:us-east-1"},
		"status index":   {Status: types.NODE_STATUS_ACTIVE},
		"gpu filter":     {GpuModel: "H100"},
		"all filters":    {Operator: carol, Region: "aws:us-east-1", Status: types.NODE_STATUS_ACTIVE, GpuModel: "H100"},
	}
	for name, filter := range filters {
		t.Run(name, func(t *testing.T) {
			pages := pageThrough(t, 2, func(p *query.PageRequest) ([]types.Node, *query.PageResponse, error) {
				req := filter
				req.Pagination = p
				res, err := f.QueryServer.Nodes(f.Ctx, &req)
				if err != nil {
					return nil, nil, err
				}
				return res.Nodes, res.Pagination, nil
			})
			require.Equal(t, want, pages)

			req := filter
			req.Pagination = &query.PageRequest{Limit: 2, CountTotal: true}
			res, err := f.QueryServer.Nodes(f.Ctx, &req)
			require.NoError(t, err)
			require.Equal(t, []string{"p-1", "p-2"}, ids(res.Nodes))
			require.Equal(t, uint64(5), res.Pagination.Total)

			req.Pagination = &query.PageRequest{Offset: 4, Limit: 2}
			res, err = f.QueryServer.Nodes(f.Ctx, &req)
			require.NoError(t, err)
			require.Equal(t, []string{"p-5"}, ids(res.Nodes))
		})
	}

	t.Run("no filter", func(t *testing.T) {
		pages := pageThrough(t, 2, func(p *query.PageRequest) ([]types.Node, *query.PageResponse, error) {
			res, err := f.QueryServer.Nodes(f.Ctx, &types.QueryNodesRequest{Pagination: p})
			if err != nil {
				return nil, nil, err
			}
			return res.Nodes, res.Pagination, nil
		})
		require.Equal(t, [][]string{{"p-1", "p-2"}, {"p-25", "p-3"}, {"p-4", "p-5"}}, pages)

		res, err := f.QueryServer.Nodes(f.Ctx, &types.QueryNodesRequest{Pagination: &query.PageRequest{Limit: 2, CountTotal: true}})
		require.NoError(t, err)
		require.Equal(t, uint64(6), res.Pagination.Total)

		res, err = f.QueryServer.Nodes(f.Ctx, &types.QueryNodesRequest{Pagination: &query.PageRequest{Limit: 3, Reverse: true}})
		require.NoError(t, err)
		require.Equal(t, []string{"p-5", "p-4", "p-3"}, ids(res.Nodes))
	})

	t.Run("one per page", func(t *testing.T) {
		pages := pageThrough(t, 1, func(p *query.PageRequest) ([]types.Node, *query.PageResponse, error) {
			res, err := f.QueryServer.Nodes(f.Ctx, &types.QueryNodesRequest{Operator: carol, Pagination: p})
			if err != nil {
				return nil, nil, err
			}
			return res.Nodes, res.Pagination, nil
		})
		require.Equal(t, [][]string{{"p-1"}, {"p-2"}, {"p-3"}, {"p-4"}, {"p-5"}}, pages)
	})

	t.Run("reverse over an index", func(t *testing.T) {
		res, err := f.QueryServer.Nodes(f.Ctx, &types.QueryNodesRequest{
			Operator: carol, Pagination: &query.PageRequest{Limit: 2, Reverse: true},
		})
		require.NoError(t, err)
		require.Equal(t, []string{"p-5", "p-4"}, ids(res.Nodes))
	})

	t.Run("NodesByOperator", func(t *testing.T) {
		pages := pageThrough(t, 2, func(p *query.PageRequest) ([]types.Node, *query.PageResponse, error) {
			res, err := f.QueryServer.NodesByOperator(f.Ctx, &types.QueryNodesByOperatorRequest{Operator: carol, Pagination: p})
			if err != nil {
				return nil, nil, err
			}
			return res.Nodes, res.Pagination, nil
		})
		require.Equal(t, want, pages)

		res, err := f.QueryServer.NodesByOperator(f.Ctx, &types.QueryNodesByOperatorRequest{
			Operator: carol, Pagination: &query.PageRequest{Limit: 2, CountTotal: true},
		})
		require.NoError(t, err)
		require.Equal(t, uint64(5), res.Pagination.Total)
	})
}

func TestQueryNodesByOperator(t *testing.T) {
	f, alice, bob := queryFixture(t)
	_, carol := f.Addr("carol")

	for op, want := range map[string][]string{
		alice: {"a-1", "a-2", "a-3", "a-4"},
		bob:   {"b-1", "b-2"},
		carol: {},
	} {
		res, err := f.QueryServer.NodesByOperator(f.Ctx, &types.QueryNodesByOperatorRequest{Operator: op})
		require.NoError(t, err)
		require.Equal(t, want, ids(res.Nodes))
	}

	_, err := f.QueryServer.NodesByOperator(f.Ctx, &types.QueryNodesByOperatorRequest{})
	requireCode(t, err, codes.InvalidArgument, "operator")
	_, err = f.QueryServer.NodesByOperator(f.Ctx, nil)
	requireCode(t, err, codes.InvalidArgument, "operator")
	_, err = f.QueryServer.NodesByOperator(f.Ctx, &types.QueryNodesByOperatorRequest{Operator: "nro1notanaddress"})
	requireCode(t, err, codes.InvalidArgument, `"nro1notanaddress"`)
	_, err = f.QueryServer.NodesByOperator(f.Ctx, &types.QueryNodesByOperatorRequest{Operator: wrongPrefix(t, f.MustAccAddress(alice))})
	requireCode(t, err, codes.InvalidArgument, "operator")
}
