package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/cosmos/cosmos-sdk/types/query"

	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

// telemetryQueryFixture: epochs 2-4 with reports from gpu-a (2, 3, 4), gpu-b (2, 4, disputed in 4), gpu-d
// (3); gpu-c never reports, so it has MISSED_EPOCH faults for epochs 2 and 3, gpu-b one for epoch 3, and a
// GPU_ABSENT fault is recorded for gpu-a in epoch 3. The state is at height 42 (epoch 4).
func telemetryQueryFixture(t *testing.T) *audittestutil.Fixture {
	t.Helper()
	f := telemetryFixture(t)
	startEpoch(t, f, 2)
	submit(t, f, report(f, nodeA, probe(nodeB, 1_000, 9_000_000)))
	submit(t, f, report(f, nodeB, probe(nodeA, 1_100, 9_000_000)))
	startEpoch(t, f, 3)
	absent := report(f, nodeA, probe(nodeB, 1_000, 9_000_000))
	absent.Gpus = absent.Gpus[:2]
	submit(t, f, absent)
	submit(t, f, report(f, nodeD))
	startEpoch(t, f, 4)
	submit(t, f, report(f, nodeA, probe(nodeB, 1_000, 9_000_000)))
	submit(t, f, report(f, nodeB, probe(nodeA, 9_000, 9_000_000), probe(nodeC, 2_000, 1_000_000)))
	f.RunBlocks(42)
	f.RequireInvariant()
	return f
}

func reportKeys(rs []types.TelemetryReport) [][2]any {
	out := [][2]any{}
	for _, r := range rs {
		out = append(out, [2]any{r.NodeId, r.Epoch})
	}
	return out
}

func faultKeys(fs []types.Fault) []string {
	out := []string{}
	for _, x := range fs {
		out = append(out, x.NodeId+"/"+x.Kind.String()[len("FAULT_KIND_"):]+"/"+string(rune('0'+x.Epoch)))
	}
	return out
}

func TestTelemetryQueries(t *testing.T) {
	f := telemetryQueryFixture(t)
	q := f.QueryServer

	params, err := q.Params(f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, telemetryParams(), params.Params)

	one, err := q.TelemetryReport(f.Ctx, &types.QueryTelemetryReportRequest{NodeId: nodeB, Epoch: 4})
	require.NoError(t, err)
	require.True(t, one.Report.Disputed)
	_, err = q.TelemetryReport(f.Ctx, &types.QueryTelemetryReportRequest{NodeId: nodeB, Epoch: 3})
	requireCode(t, err, codes.NotFound, "node gpu-b has no report for epoch 3")
	_, err = q.TelemetryReport(f.Ctx, &types.QueryTelemetryReportRequest{NodeId: nodeB})
	requireCode(t, err, codes.InvalidArgument, "epoch is required")
	_, err = q.TelemetryReport(f.Ctx, nil)
	requireCode(t, err, codes.InvalidArgument, "node_id")

	tests := []struct {
		name string
		req  *types.QueryTelemetryRequest
		want [][2]any
	}{
		{"all, by epoch then node", &types.QueryTelemetryRequest{}, [][2]any{{nodeA, uint64(2)}, {nodeB, uint64(2)}, {nodeA, uint64(3)}, {nodeD, uint64(3)}, {nodeA, uint64(4)}, {nodeB, uint64(4)}}},
		{"one node", &types.QueryTelemetryRequest{NodeId: nodeA}, [][2]any{{nodeA, uint64(2)}, {nodeA, uint64(3)}, {nodeA, uint64(4)}}},
		{"one node, epoch range", &types.QueryTelemetryRequest{NodeId: nodeA, MinEpoch: 3, MaxEpoch: 3}, [][2]any{{nodeA, uint64(3)}}},
		{"one node, open end", &types.QueryTelemetryRequest{NodeId: nodeB, MinEpoch: 3}, [][2]any{{nodeB, uint64(4)}}},
		{"epoch range", &types.QueryTelemetryRequest{MinEpoch: 3, MaxEpoch: 3}, [][2]any{{nodeA, uint64(3)}, {nodeD, uint64(3)}}},
		{"up to an epoch", &types.QueryTelemetryRequest{MaxEpoch: 2}, [][2]any{{nodeA, uint64(2)}, {nodeB, uint64(2)}}},
		{"disputed", &types.QueryTelemetryRequest{DisputedOnly: true}, [][2]any{{nodeB, uint64(4)}}},
		{"node without reports", &types.QueryTelemetryRequest{NodeId: nodeC}, [][2]any{}},
		{"reverse", &types.QueryTelemetryRequest{NodeId: nodeA, Pagination: &query.PageRequest{Reverse: true}}, [][2]any{{nodeA, uint64(4)}, {nodeA, uint64(3)}, {nodeA, uint64(2)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := q.Telemetry(f.Ctx, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.want, reportKeys(res.Reports))
		})
	}

	// Pages of 2 through the epoch index, by key and by offset.
	var got [][2]any
	page := &query.PageRequest{Limit: 2, CountTotal: true}
	for {
		res, err := q.Telemetry(f.Ctx, &types.QueryTelemetryRequest{MinEpoch: 2, Pagination: page})
		require.NoError(t, err)
		require.LessOrEqual(t, len(res.Reports), 2)
		got = append(got, reportKeys(res.Reports)...)
		if page.Key == nil && page.Offset == 0 {
			require.Equal(t, uint64(6), res.Pagination.Total)
		}
		if res.Pagination.NextKey == nil {
			break
		}
		page = &query.PageRequest{Key: res.Pagination.NextKey, Limit: 2}
	}
	require.Len(t, got, 6)
	res, err := q.Telemetry(f.Ctx, &types.QueryTelemetryRequest{NodeId: nodeA, Pagination: &query.PageRequest{Offset: 1, Limit: 1}})
	require.NoError(t, err)
	require.Equal(t, [][2]any{{nodeA, uint64(3)}}, reportKeys(res.Reports))

	_, err = q.Telemetry(f.Ctx, &types.QueryTelemetryRequest{MinEpoch: 4, MaxEpoch: 3})
	requireCode(t, err, codes.InvalidArgument, "min_epoch 4 is above max_epoch 3")
	_, err = q.Telemetry(f.Ctx, &types.QueryTelemetryRequest{NodeId: "Bad Node"})
	requireCode(t, err, codes.InvalidArgument, `node_id "Bad Node"`)
	_, err = q.Telemetry(f.Ctx, &types.QueryTelemetryRequest{Pagination: &query.PageRequest{Key: []byte{1}, Offset: 1}})
	requireCode(t, err, codes.InvalidArgument, "")
}

func TestLinkQueries(t *testing.T) {
	f := telemetryQueryFixture(t)
	q := f.QueryServer

	ab, err := q.Link(f.Ctx, &types.QueryLinkRequest{NodeA: nodeB, NodeB: nodeA})
	require.NoError(t, err)
	require.Equal(t, nodeA, ab.Link.NodeA, "either order")
	require.Equal(t, uint64(1_000), ab.Link.MedianRttUs)
	require.Len(t, ab.Link.Samples, 5)
	_, err = q.Link(f.Ctx, &types.QueryLinkRequest{NodeA: nodeA, NodeB: nodeD})
	requireCode(t, err, codes.NotFound, "no measured link between gpu-a and gpu-d")
	_, err = q.Link(f.Ctx, &types.QueryLinkRequest{NodeA: nodeA, NodeB: nodeA})
	requireCode(t, err, codes.InvalidArgument, "a link joins two different nodes")
	_, err = q.Link(f.Ctx, &types.QueryLinkRequest{NodeA: nodeA})
	requireCode(t, err, codes.InvalidArgument, "node_b")

	pairs := func(ls []types.LinkAggregate) []string {
		out := []string{}
		for _, l := range ls {
			out = append(out, l.NodeA+"-"+l.NodeB)
		}
		return out
	}
	all, err := q.Links(f.Ctx, &types.QueryLinksRequest{})
	require.NoError(t, err)
	require.Equal(t, []string{"gpu-a-gpu-b", "gpu-b-gpu-c"}, pairs(all.Links))
	byNode, err := q.Links(f.Ctx, &types.QueryLinksRequest{NodeId: nodeB})
	require.NoError(t, err)
	require.Equal(t, []string{"gpu-a-gpu-b", "gpu-b-gpu-c"}, pairs(byNode.Links))
	byNode, err = q.Links(f.Ctx, &types.QueryLinksRequest{NodeId: nodeC, Pagination: &query.PageRequest{CountTotal: true}})
	require.NoError(t, err)
	require.Equal(t, []string{"gpu-b-gpu-c"}, pairs(byNode.Links))
	require.Equal(t, uint64(1), byNode.Pagination.Total)
	page, err := q.Links(f.Ctx, &types.QueryLinksRequest{Pagination: &query.PageRequest{Limit: 1}})
	require.NoError(t, err)
	require.Equal(t, []string{"gpu-a-gpu-b"}, pairs(page.Links))
	page, err = q.Links(f.Ctx, &types.QueryLinksRequest{Pagination: &query.PageRequest{Key: page.Pagination.NextKey, Limit: 1}})
	require.NoError(t, err)
	require.Equal(t, []string{"gpu-b-gpu-c"}, pairs(page.Links))
	require.Nil(t, page.Pagination.NextKey)
	_, err = q.Links(f.Ctx, &types.QueryLinksRequest{NodeId: "-x"})
	requireCode(t, err, codes.InvalidArgument, `node_id "-x"`)
}

func TestFaultAndReputationQueries(t *testing.T) {
	f := telemetryQueryFixture(t)
	q := f.QueryServer

	tests := []struct {
		name string
		req  *types.QueryFaultsRequest
		want []string
	}{
		// The GPU_ABSENT fault comes with gpu-a's report in epoch 3; the MISSED_EPOCH faults with the sweeps of
		// epochs 2 and 3, after their grace.
		{"all, by id", &types.QueryFaultsRequest{}, []string{"gpu-a/GPU_ABSENT/3", "gpu-c/MISSED_EPOCH/2", "gpu-b/MISSED_EPOCH/3", "gpu-c/MISSED_EPOCH/3"}},
		{"one node", &types.QueryFaultsRequest{NodeId: nodeC}, []string{"gpu-c/MISSED_EPOCH/2", "gpu-c/MISSED_EPOCH/3"}},
		{"one node, epoch range", &types.QueryFaultsRequest{NodeId: nodeC, MinEpoch: 3, MaxEpoch: 9}, []string{"gpu-c/MISSED_EPOCH/3"}},
		{"epoch range", &types.QueryFaultsRequest{MinEpoch: 3, MaxEpoch: 3}, []string{"gpu-a/GPU_ABSENT/3", "gpu-b/MISSED_EPOCH/3", "gpu-c/MISSED_EPOCH/3"}},
		{"kind", &types.QueryFaultsRequest{Kind: types.FAULT_KIND_GPU_ABSENT}, []string{"gpu-a/GPU_ABSENT/3"}},
		{"kind and epoch", &types.QueryFaultsRequest{Kind: types.FAULT_KIND_MISSED_EPOCH, MaxEpoch: 2}, []string{"gpu-c/MISSED_EPOCH/2"}},
		{"node without faults", &types.QueryFaultsRequest{NodeId: nodeD}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := q.Faults(f.Ctx, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.want, faultKeys(res.Faults))
		})
	}
	res, err := q.Faults(f.Ctx, &types.QueryFaultsRequest{Pagination: &query.PageRequest{Limit: 3, CountTotal: true}})
	require.NoError(t, err)
	require.Len(t, res.Faults, 3)
	require.Equal(t, uint64(4), res.Pagination.Total)
	res, err = q.Faults(f.Ctx, &types.QueryFaultsRequest{Pagination: &query.PageRequest{Key: res.Pagination.NextKey}})
	require.NoError(t, err)
	require.Equal(t, []string{"gpu-c/MISSED_EPOCH/3"}, faultKeys(res.Faults))
	_, err = q.Faults(f.Ctx, &types.QueryFaultsRequest{Kind: 7})
	requireCode(t, err, codes.InvalidArgument, "kind 7")
	_, err = q.Faults(f.Ctx, &types.QueryFaultsRequest{MinEpoch: 5, MaxEpoch: 1})
	requireCode(t, err, codes.InvalidArgument, "min_epoch 5 is above max_epoch 1")

	rep, err := q.Reputation(f.Ctx, &types.QueryReputationRequest{NodeId: nodeC})
	require.NoError(t, err)
	require.Equal(t, &types.QueryReputationResponse{
		NodeId:            nodeC,
		ReputationBps:     4_000,
		Stats:             types.NodeAuditStats{NodeId: nodeC, Faults: 2, MissedEpochs: 2},
		FaultsInWindow:    2,
		FaultWindowEpochs: types.DefaultFaultWindowEpochs,
		MaxFaults:         types.DefaultMaxFaults,
	}, rep)
	require.Equal(t, f.Reputation(nodeC), rep.ReputationBps)
	rep, err = q.Reputation(f.Ctx, &types.QueryReputationRequest{NodeId: nodeD})
	require.NoError(t, err)
	require.Equal(t, uint32(5_010), rep.ReputationBps)
	require.Equal(t, uint64(1), rep.Stats.CleanReports)

	// The window counts only the last fault_window_epochs epochs.
	p := f.Params()
	p.FaultWindowEpochs = 1
	f.SetParams(p)
	n, err := f.Keeper.FaultsInWindow(f.Ctx, nodeC)
	require.NoError(t, err)
	require.Zero(t, n, "epoch 4 only")
	p.FaultWindowEpochs = 2
	f.SetParams(p)
	n, err = f.Keeper.FaultsInWindow(f.Ctx, nodeC)
	require.NoError(t, err)
	require.Equal(t, uint32(1), n, "epochs 3 and 4")

	_, err = q.Reputation(f.Ctx, &types.QueryReputationRequest{NodeId: "gpu-z"})
	requireCode(t, err, codes.NotFound, `no node "gpu-z" is registered`)
	_, err = q.Reputation(f.Ctx, &types.QueryReputationRequest{})
	requireCode(t, err, codes.InvalidArgument, "node_id")
}
