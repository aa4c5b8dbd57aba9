package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

// The telemetry fixture: four nodes and two active leases, placed at the start height (before epoch 2).
//
//	gpu-a  8 H100                      lease 1 holds 4
//	gpu-b  8 H100                      lease 1 holds 4, lease 2 holds 2
//	gpu-c  4 A100 (devices 0-3) +      lease 2 holds 4 of the H100 group (devices 4-7)
//	       4 H100 (devices 4-7)
//	gpu-d  8 H100                      no lease
//
// Peers: gpu-a—gpu-b (lease 1), gpu-b—gpu-c (lease 2). Epochs are 10 blocks with 2 blocks of grace: epoch 1
// is heights 10-19, epoch 2 is 20-29, and so on.
const (
	nodeA = "gpu-a"
	nodeB = "gpu-b"
	nodeC = "gpu-c"
	nodeD = "gpu-d"
)

func telemetryParams() types.Params {
	p := types.DefaultParams()
	p.EpochBlocks = 10
	p.GraceBlocks = 2
	p.ToleranceBps = 2_500
	p.LinkReportWindowEpochs = 3
	p.ReputationCleanGainBps = 10
	p.ReputationFaultPenaltyBps = 500
	p.ReputationDisputePenaltyBps = 250
	p.GasPerReportEntry = 1_000
	p.ReportRetentionEpochs = 0
	return p
}

func telemetryFixture(t *testing.T) *audittestutil.Fixture {
	t.Helper()
	f := audittestutil.NewFixture(t)
	f.SetParams(telemetryParams())
	f.AddNode(nodeA)
	f.AddNode(nodeB)
	f.AddNode(nodeC,
		allocationtypes.GpuGroup{Model: "A100", Count: 4, MemoryMib: 40960},
		allocationtypes.GpuGroup{Model: "H100", Count: 4, MemoryMib: 81920})
	f.AddNode(nodeD)
	f.AddLease(audittestutil.Place{Node: nodeA, Gpus: 4}, audittestutil.Place{Node: nodeB, Gpus: 4})
	f.AddLease(audittestutil.Place{Node: nodeB, Gpus: 2}, audittestutil.Place{Node: nodeC, Gpus: 4, Group: 1})
	f.RequireInvariant()
	return f
}

// gpus returns n present NVML GPU entries, devices 0..n-1.
func gpus(n int) []types.GpuMetrics {
	out := make([]types.GpuMetrics, n)
	for i := range out {
		out[i] = types.GpuMetrics{
			DeviceIndex:    uint32(i),
			Uuid:           "GPU-0000-" + string(rune('a'+i)),
			Model:          "NVIDIA H100 80GB HBM3",
			Source:         types.SOURCE_NVML,
			Present:        true,
			UtilizationPct: 90,
			MemoryUsedMib:  60_000,
			MemoryTotalMib: 81_559,
			PowerMw:        600_000,
			TemperatureC:   60,
			EccCorrected:   1,
		}
	}
	return out
}

func probe(peer string, rttUs, kbps uint64) types.LinkMeasurement {
	return types.LinkMeasurement{PeerNodeId: peer, Source: types.SOURCE_PROBE, RttUs: rttUs, ThroughputKbps: kbps, Samples: 8}
}

// report is a clean report of node for the current epoch: every registered GPU present, and the given links.
func report(f *audittestutil.Fixture, node string, links ...types.LinkMeasurement) *types.MsgSubmitTelemetry {
	return &types.MsgSubmitTelemetry{
		Agent:  f.Agent(node),
		NodeId: node,
		Epoch:  f.Epoch().Number,
		Gpus:   gpus(int(f.Node(node).TotalGPUs())),
		Links:  links,
	}
}

// submit sends msg, requires it to be accepted and the invariants to hold, and returns the response.
func submit(t *testing.T, f *audittestutil.Fixture, msg *types.MsgSubmitTelemetry) *types.MsgSubmitTelemetryResponse {
	t.Helper()
	res, err := f.MsgServer.SubmitTelemetry(f.Ctx, msg)
	require.NoError(t, err)
	f.RequireInvariant()
	return res
}

// startEpoch moves to the first block of epoch n (epochs of 10 blocks from height 10), running EndBlock on
// every block in between, with fresh events.
func startEpoch(t *testing.T, f *audittestutil.Fixture, n uint64) {
	t.Helper()
	target := audittestutil.StartHeight + int64(n-1)*10
	require.GreaterOrEqual(t, target, f.Height())
	for f.Height() < target {
		require.NoError(t, f.EndBlock())
		f.SetHeight(f.Height() + 1)
	}
	require.Equal(t, n, f.Epoch().Number)
	f.RequireInvariant()
}

// auditState is everything x/audit and the nodes' reputations hold, for asserting that a rejected message
// changed nothing.
type auditState struct {
	genesis     []byte
	reputations map[string]uint32
}

func snapshotAudit(t *testing.T, f *audittestutil.Fixture) auditState {
	t.Helper()
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	bz, err := proto.Marshal(gs)
	require.NoError(t, err)
	s := auditState{genesis: bz, reputations: map[string]uint32{}}
	require.NoError(t, f.AllocationKeeper.Nodes.Walk(f.Ctx, nil, func(id string, n allocationtypes.Node) (bool, error) {
		s.reputations[id] = n.ReputationBps
		return false, nil
	}))
	return s
}

func requireAuditUnchanged(t *testing.T, f *audittestutil.Fixture, before auditState) {
	t.Helper()
	after := snapshotAudit(t, f)
	require.Equal(t, before.reputations, after.reputations, "reputations changed")
	require.Equal(t, before.genesis, after.genesis, "x/audit state changed")
	require.Empty(t, f.TypedEvents(), "a rejected message emitted events")
	f.RequireInvariant()
}

func stats(t *testing.T, f *audittestutil.Fixture, node string) types.NodeAuditStats {
	t.Helper()
	s, err := f.Keeper.NodeStats.Get(f.Ctx, node)
	require.NoError(t, err)
	return s
}

func allFaults(t *testing.T, f *audittestutil.Fixture) []types.Fault {
	t.Helper()
	var out []types.Fault
	require.NoError(t, f.Keeper.Faults.Walk(f.Ctx, nil, func(_ uint64, x types.Fault) (bool, error) {
		out = append(out, x)
		return false, nil
	}))
	return out
}
