package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

func TestSubmitTelemetryAccepted(t *testing.T) {
	f := telemetryFixture(t)
	startEpoch(t, f, 2)
	f.SetHeight(23)

	msg := report(f, nodeA, probe(nodeB, 1_000, 9_000_000))
	gasBefore := f.Ctx.GasMeter().GasConsumed()
	res := submit(t, f, msg)
	require.Equal(t, &types.MsgSubmitTelemetryResponse{ReputationBps: 5_010}, res)
	// gas_per_report_entry for each of the 8 GPUs and the link, on top of the store gas.
	require.GreaterOrEqual(t, f.Ctx.GasMeter().GasConsumed()-gasBefore, uint64(9*1_000))

	stored, err := f.Keeper.Reports.Get(f.Ctx, collections.Join(nodeA, uint64(2)))
	require.NoError(t, err)
	require.Equal(t, types.TelemetryReport{
		NodeId: nodeA, Epoch: 2, Agent: f.Agent(nodeA), Height: 23, Gpus: msg.Gpus, Links: msg.Links,
	}, stored)
	require.Equal(t, []proto.Message{
		&types.EventLinkAggregated{NodeA: nodeA, NodeB: nodeB, Reporter: nodeA, Epoch: 2, MedianRttUs: 1_000, MedianThroughputKbps: 9_000_000, Samples: 1},
		&types.EventReputationChanged{NodeId: nodeA, Epoch: 2, OldBps: 5_000, NewBps: 5_010, Reason: types.REPUTATION_REASON_CLEAN_REPORT},
		&types.EventTelemetryAccepted{NodeId: nodeA, Epoch: 2, Agent: f.Agent(nodeA), Gpus: 8, Links: 1},
	}, f.TypedEvents())
	require.Equal(t, uint32(5_010), f.Reputation(nodeA), "the reputation lands in x/allocation's node")
	require.Equal(t, types.NodeAuditStats{NodeId: nodeA, Reports: 1, CleanReports: 1, LastReportEpoch: 2}, stats(t, f, nodeA))

	// A node without leases reports its GPUs only; the previous epoch is still open in the grace blocks.
	startEpoch(t, f, 3)
	f.SetHeight(31)
	prev := report(f, nodeD)
	prev.Epoch = 2
	require.Equal(t, uint32(5_010), submit(t, f, prev).ReputationBps)
	require.True(t, mustHas(t, f, nodeD, 2))
}

func mustHas(t *testing.T, f *audittestutil.Fixture, node string, epoch uint64) bool {
	t.Helper()
	has, err := f.Keeper.Reports.Has(f.Ctx, collections.Join(node, epoch))
	require.NoError(t, err)
	return has
}

func TestSubmitTelemetryRejected(t *testing.T) {
	tests := []struct {
		name string
		// setup changes the state before the message (optional); edit changes the valid report of gpu-b,
		// which links to gpu-a and gpu-c, sent at height 23 in epoch 2.
		setup    func(t *testing.T, f *audittestutil.Fixture)
		edit     func(f *audittestutil.Fixture, m *types.MsgSubmitTelemetry)
		err      error
		contains string
	}{
		{
			name: "wrong signer", edit: func(f *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Agent = f.Agent(nodeA) },
			err: types.ErrNotNodeAgent, contains: "signed for node gpu-b, whose registered agent is",
		},
		{
			name: "operator signs instead of the agent", edit: func(f *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Agent = f.Addr("operator/" + nodeB) },
			err: types.ErrNotNodeAgent, contains: "the node's agent signs its telemetry",
		},
		{
			name: "malformed agent", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Agent = "nro1nothing" },
			err: types.ErrInvalidAddress, contains: `agent "nro1nothing"`,
		},
		{
			name: "future epoch", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Epoch = 3 },
			err: types.ErrInvalidEpoch, contains: "epoch 3 has not started: the current epoch is 2 (started at height 20",
		},
		{
			name: "stale epoch", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Epoch = 1 },
			err: types.ErrInvalidEpoch, contains: "epoch 1 is closed: its reports were accepted until height 21 (grace_blocks 2",
		},
		{
			name: "stale epoch, two behind",
			setup: func(t *testing.T, f *audittestutil.Fixture) {
				startEpoch(t, f, 4)
			},
			edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Epoch = 2 },
			err:  types.ErrInvalidEpoch, contains: "epoch 2 is closed: the current epoch is 4",
		},
		{
			name: "epoch 0", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Epoch = 0 },
			err: types.ErrInvalidEpoch, contains: "epochs are numbered from 1",
		},
		{
			name: "duplicate report",
			setup: func(t *testing.T, f *audittestutil.Fixture) {
				submit(t, f, report(f, nodeB))
				f.ResetEvents()
			},
			err: types.ErrDuplicateReport, contains: "node gpu-b reported for epoch 2 at height 23; one report per node per epoch",
		},
		{
			name: "unknown node", edit: func(f *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.NodeId = "gpu-z"; m.Links = nil },
			err: types.ErrUnknownNode, contains: `no node "gpu-z" is registered`,
		},
		{
			name: "malformed node id", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.NodeId = "GPU_B" },
			err: types.ErrInvalidNodeID, contains: `node_id "GPU_B"`,
		},
		{
			name: "jailed node without leases",
			setup: func(t *testing.T, f *audittestutil.Fixture) {
				n := f.Node(nodeD)
				n.Status = allocationtypes.NODE_STATUS_JAILED
				f.SetNode(n)
			},
			edit: func(f *audittestutil.Fixture, m *types.MsgSubmitTelemetry) {
				m.NodeId, m.Agent, m.Links = nodeD, f.Agent(nodeD), nil
			},
			err: types.ErrNodeNotReporting, contains: "node gpu-d is NODE_STATUS_JAILED and runs no active lease",
		},
		{
			name: "utilisation above 100", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Gpus[3].UtilizationPct = 101 },
			err: types.ErrInvalidGPUMetrics, contains: "gpus[3]: device 3: utilization_pct 101: want 0..100",
		},
		{
			name: "memory used above total", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Gpus[0].MemoryUsedMib = 90_000 },
			err: types.ErrInvalidGPUMetrics, contains: "memory_used_mib 90000 exceeds memory_total_mib 81559",
		},
		{
			name: "unknown gpu source", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Gpus[1].Source = 9 },
			err: types.ErrInvalidGPUMetrics, contains: "source 9 (unknown): GPU metrics come from SOURCE_NVML, or SOURCE_FALLBACK",
		},
		{
			name: "unspecified gpu source", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) {
				m.Gpus[1].Source = types.SOURCE_UNSPECIFIED
			},
			err: types.ErrInvalidGPUMetrics, contains: "source SOURCE_UNSPECIFIED",
		},
		{
			name: "gpu from a probe", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Gpus[1].Source = types.SOURCE_PROBE },
			err: types.ErrInvalidGPUMetrics, contains: "source SOURCE_PROBE",
		},
		{
			name: "nvml without uuid", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Gpus[2].Uuid = "" },
			err: types.ErrInvalidGPUMetrics, contains: "device 2: uuid is empty",
		},
		{
			name: "temperature", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Gpus[2].TemperatureC = 250 },
			err: types.ErrInvalidGPUMetrics, contains: "temperature_c 250: want at most 200",
		},
		{
			name: "power", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Gpus[2].PowerMw = 20_000_000 },
			err: types.ErrInvalidGPUMetrics, contains: "power_mw 20000000: want at most 10000000 (milliwatts)",
		},
		{
			name: "duplicate device index", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Gpus[5].DeviceIndex = 4 },
			err: types.ErrInvalidGPUMetrics, contains: "gpus[5]: device_index 4 appears twice",
		},
		{
			name: "device beyond the registered GPUs", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Gpus[7].DeviceIndex = 8 },
			err: types.ErrInvalidGPUMetrics, contains: "gpus[7]: device_index 8: node gpu-b has 8 registered GPUs, devices 0..7",
		},
		{
			name: "link to self", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Links[0].PeerNodeId = nodeB },
			err: types.ErrInvalidLink, contains: "links[0]: peer_node_id gpu-b is the reporting node",
		},
		{
			name: "link to a node sharing no lease", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Links[1].PeerNodeId = nodeD },
			err: types.ErrLinkNotLeased, contains: "links[1]: node gpu-b shares no active lease with gpu-d; report links to the nodes of its active leases only (its peers: gpu-a, gpu-c)",
		},
		{
			name:  "link to a node whose lease ended",
			setup: func(_ *testing.T, f *audittestutil.Fixture) { f.EndLease(1) },
			err:   types.ErrLinkNotLeased, contains: "shares no active lease with gpu-a",
		},
		{
			name: "link to an unregistered node", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Links[1].PeerNodeId = "gpu-z" },
			err: types.ErrLinkNotLeased, contains: "shares no active lease with gpu-z",
		},
		{
			name: "duplicate peer", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Links[1].PeerNodeId = nodeA },
			err: types.ErrInvalidLink, contains: "links[1]: peer gpu-a appears twice",
		},
		{
			name: "probe without samples", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Links[0].Samples = 0 },
			err: types.ErrInvalidLink, contains: "samples 0: a probe summarises 1..",
		},
		{
			name: "probe without throughput", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Links[0].ThroughputKbps = 0 },
			err: types.ErrInvalidLink, contains: "a probe measures both rtt_us and throughput_kbps (got 1000 and 0)",
		},
		{
			name: "fallback presented as a measurement", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) {
				m.Links[0].Source = types.SOURCE_FALLBACK
			},
			err: types.ErrInvalidLink, contains: "a fallback value is not a measurement, so samples must be 0",
		},
		{
			name: "link from nvml", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Links[0].Source = types.SOURCE_NVML },
			err: types.ErrInvalidLink, contains: "source SOURCE_NVML: links come from SOURCE_PROBE",
		},
		{
			name: "rtt beyond bound", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) { m.Links[0].RttUs = 61_000_000 },
			err: types.ErrInvalidLink, contains: "rtt_us 61000000: want at most 60000000",
		},
		{
			name: "too many gpus for the params",
			setup: func(_ *testing.T, f *audittestutil.Fixture) {
				p := f.Params()
				p.MaxGpusPerReport = 4
				f.SetParams(p)
			},
			err: types.ErrReportTooLarge, contains: "8 gpus and 2 links: a report holds at most 4 gpus (max_gpus_per_report) and 64 links",
		},
		{
			name: "too many links for the params",
			setup: func(_ *testing.T, f *audittestutil.Fixture) {
				p := f.Params()
				p.MaxLinksPerReport = 1
				f.SetParams(p)
			},
			err: types.ErrReportTooLarge, contains: "and 1 links (max_links_per_report)",
		},
		{
			name: "too many entries for any params", edit: func(_ *audittestutil.Fixture, m *types.MsgSubmitTelemetry) {
				m.Gpus = gpus(1_025)
			},
			err: types.ErrReportTooLarge, contains: "1025 gpus and 2 links: a report holds at most 1024 of each",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := telemetryFixture(t)
			startEpoch(t, f, 2)
			f.SetHeight(23)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			msg := report(f, nodeB, probe(nodeA, 1_000, 9_000_000), probe(nodeC, 2_000, 5_000_000))
			msg.Epoch = 2
			if tc.edit != nil {
				tc.edit(f, msg)
			}
			f.ResetEvents()
			before := snapshotAudit(t, f)
			_, err := f.MsgServer.SubmitTelemetry(f.Ctx, msg)
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.contains)
			requireAuditUnchanged(t, f, before)
		})
	}
}

func TestGPUAbsentFault(t *testing.T) {
	f := telemetryFixture(t)
	startEpoch(t, f, 2)

	// gpu-a: lease 1 holds 4 of its 8 GPUs. Four present (two absent, two left out) is enough.
	msg := report(f, nodeA)
	msg.Gpus = msg.Gpus[:6]
	msg.Gpus[0].Present, msg.Gpus[1].Present = false, false
	res := submit(t, f, msg)
	require.Zero(t, res.FaultId)
	require.Equal(t, uint32(5_010), res.ReputationBps)

	// gpu-c: lease 2 holds 4 GPUs of group 1 (devices 4-7); all of group 0 present does not make up for one
	// missing in group 1.
	f.ResetEvents()
	msg = report(f, nodeC)
	msg.Gpus[6].Present = false
	res = submit(t, f, msg)
	require.Equal(t, &types.MsgSubmitTelemetryResponse{FaultId: 1, ReputationBps: 4_500}, res)
	want := types.Fault{
		Id: 1, NodeId: nodeC, Epoch: 2, Kind: types.FAULT_KIND_GPU_ABSENT, Height: f.Height(),
		GpusRequired: 4, GpusPresent: 3, EpochStartHeight: 20, Detail: "group 1 (H100): 3 of the 4 GPUs active leases hold are present",
	}
	require.Equal(t, []types.Fault{want}, allFaults(t, f))
	require.Equal(t, []proto.Message{
		&types.EventFaultRecorded{Fault: want, FaultsInWindow: 1},
		&types.EventReputationChanged{NodeId: nodeC, Epoch: 2, OldBps: 5_000, NewBps: 4_500, Reason: types.REPUTATION_REASON_FAULT},
		&types.EventTelemetryAccepted{NodeId: nodeC, Epoch: 2, Agent: f.Agent(nodeC), Gpus: 8, FaultId: 1},
	}, f.TypedEvents())
	stored, err := f.Keeper.Reports.Get(f.Ctx, collections.Join(nodeC, uint64(2)))
	require.NoError(t, err)
	require.Equal(t, uint64(1), stored.FaultId)
	require.Equal(t, types.NodeAuditStats{NodeId: nodeC, Reports: 1, Faults: 1, LastReportEpoch: 2}, stats(t, f, nodeC))

	// gpu-b: a report with no GPUs at all shows none of the 6 its leases hold.
	f.ResetEvents()
	msg = report(f, nodeB)
	msg.Gpus = nil
	res = submit(t, f, msg)
	require.Equal(t, uint64(2), res.FaultId)
	require.Equal(t, uint32(6), allFaults(t, f)[1].GpusRequired)
	require.Zero(t, allFaults(t, f)[1].GpusPresent)
}
