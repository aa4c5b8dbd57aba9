package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/audit/types"
)

func TestLowerMedian(t *testing.T) {
	require.Zero(t, types.LowerMedian(nil))
	require.Equal(t, uint64(7), types.LowerMedian([]uint64{7}))
	require.Equal(t, uint64(3), types.LowerMedian([]uint64{9, 3}), "even count: the lower middle value")
	require.Equal(t, uint64(5), types.LowerMedian([]uint64{9, 1, 5}))
	require.Equal(t, uint64(4), types.LowerMedian([]uint64{8, 4, 4, 1000}))
	in := []uint64{3, 1, 2}
	types.LowerMedian(in)
	require.Equal(t, []uint64{3, 1, 2}, in, "input left as it was")
}

func TestTolerance(t *testing.T) {
	require.False(t, types.BeyondTolerance(1_250, 1_000, 2_500), "exactly at tolerance")
	require.True(t, types.BeyondTolerance(1_251, 1_000, 2_500))
	require.False(t, types.BeyondTolerance(750, 1_000, 2_500))
	require.True(t, types.BeyondTolerance(749, 1_000, 2_500))
	require.True(t, types.BeyondTolerance(types.MaxThroughputKbps, 1, types.MaxToleranceBps), "no overflow at the bounds")
	require.Equal(t, uint64(2_510), types.DeviationBps(1_251, 1_000))
	require.Equal(t, uint64(9_999), types.DeviationBps(1, 10_000))
	require.Zero(t, types.DeviationBps(5, 0))
}

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	tests := []struct {
		name     string
		edit     func(p *types.Params)
		contains string
	}{
		{"epoch 0", func(p *types.Params) { p.EpochBlocks = 0 }, "epoch_blocks 0: want 1.."},
		{"grace not below epoch", func(p *types.Params) { p.GraceBlocks = p.EpochBlocks }, "grace_blocks 100: want below epoch_blocks 100"},
		{"tolerance 0", func(p *types.Params) { p.ToleranceBps = 0 }, "tolerance_bps 0"},
		{"tolerance too loose", func(p *types.Params) { p.ToleranceBps = types.MaxToleranceBps + 1 }, "tolerance_bps 100001"},
		{"max faults 0", func(p *types.Params) { p.MaxFaults = 0 }, "max_faults must be at least 1"},
		{"fault window 0", func(p *types.Params) { p.FaultWindowEpochs = 0 }, "fault_window_epochs 0"},
		{"gain above 100%", func(p *types.Params) { p.ReputationCleanGainBps = 10_001 }, "reputation_clean_gain_bps 10001: want 0..10000"},
		{"fault penalty above 100%", func(p *types.Params) { p.ReputationFaultPenaltyBps = 10_001 }, "reputation_fault_penalty_bps"},
		{"dispute penalty above 100%", func(p *types.Params) { p.ReputationDisputePenaltyBps = 10_001 }, "reputation_dispute_penalty_bps"},
		{"link window 0", func(p *types.Params) { p.LinkReportWindowEpochs = 0 }, "link_report_window_epochs 0"},
		{"link window too long", func(p *types.Params) { p.LinkReportWindowEpochs = 65 }, "link_report_window_epochs 65: want 1..64"},
		{"sweep bound 0", func(p *types.Params) { p.MaxNodesCheckedPerBlock = 0 }, "max_nodes_checked_per_block must be at least 1"},
		{"gpus 0", func(p *types.Params) { p.MaxGpusPerReport = 0 }, "max_gpus_per_report 0"},
		{"links above the hard bound", func(p *types.Params) { p.MaxLinksPerReport = 1_025 }, "max_links_per_report 1025: want 1..1024"},
		{"gas", func(p *types.Params) { p.GasPerReportEntry = types.MaxGasPerReportEntry + 1 }, "gas_per_report_entry"},
		{"retention within the link window", func(p *types.Params) { p.ReportRetentionEpochs = 4 }, "report_retention_epochs 4: want 0 (keep forever) or 5.."},
		{"prune bound 0", func(p *types.Params) { p.MaxPrunedPerBlock = 0 }, "max_pruned_per_block must be at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := types.DefaultParams()
			tc.edit(&p)
			err := p.Validate()
			require.ErrorIs(t, err, types.ErrInvalidParams)
			require.ErrorContains(t, err, tc.contains)
		})
	}
	p := types.DefaultParams()
	p.ReportRetentionEpochs, p.GraceBlocks, p.GasPerReportEntry, p.ReputationCleanGainBps = 0, 0, 0, 0
	require.NoError(t, p.Validate(), "zero where zero means none")
}

func TestMsgSubmitTelemetryValidateBasic(t *testing.T) {
	valid := func() types.MsgSubmitTelemetry {
		return types.MsgSubmitTelemetry{
			// Whatever prefix the SDK config holds: ValidateBasic decodes with it.
			Agent:  sdk.AccAddress(make([]byte, 20)).String(),
			NodeId: "gpu-a",
			Epoch:  3,
			Gpus: []types.GpuMetrics{
				{DeviceIndex: 0, Uuid: "GPU-1", Source: types.SOURCE_NVML, Present: true, MemoryUsedMib: 1, MemoryTotalMib: 2},
				{DeviceIndex: 1, Source: types.SOURCE_FALLBACK},
			},
			Links: []types.LinkMeasurement{
				{PeerNodeId: "gpu-b", Source: types.SOURCE_PROBE, RttUs: 1, ThroughputKbps: 1, Samples: 1},
				{PeerNodeId: "gpu-c", Source: types.SOURCE_FALLBACK},
			},
		}
	}
	m := valid()
	require.NoError(t, m.ValidateBasic())
	m.Gpus[0].MemoryTotalMib = 0
	m.Gpus[0].MemoryUsedMib = 0
	require.ErrorContains(t, m.ValidateBasic(), "memory_total_mib is 0; a present NVML device reports its memory size")
	m = valid()
	m.Gpus[0].Present = false
	m.Gpus[0].MemoryTotalMib, m.Gpus[0].MemoryUsedMib = 0, 0
	require.NoError(t, m.ValidateBasic(), "an absent device reports no memory")
	m = valid()
	m.Links[0].PeerNodeId = "Gpu B"
	require.ErrorIs(t, m.ValidateBasic(), types.ErrInvalidLink)
	m = valid()
	m.Gpus[1].Model = string(make([]byte, 129))
	require.ErrorContains(t, m.ValidateBasic(), "uuid and model may be at most 128 bytes")
}

// TestGpuMetricsUnavailable: a value NVML could not read is listed in unavailable and sent as 0 — never a 0
// that looks measured; the list names known fields, ascending, once each, on a present NVML device only.
func TestGpuMetricsUnavailable(t *testing.T) {
	nvml := func() types.GpuMetrics {
		return types.GpuMetrics{DeviceIndex: 2, Uuid: "GPU-1", Source: types.SOURCE_NVML, Present: true, MemoryUsedMib: 1, MemoryTotalMib: 2,
			PowerMw: 70_000, SmClockMhz: 1_410, MemoryClockMhz: 1_215}
	}
	g := nvml()
	g.PowerMw = 0
	g.Unavailable = []types.GpuField{types.GPU_FIELD_POWER}
	require.NoError(t, g.Validate())

	g = nvml()
	g.MemoryUsedMib, g.MemoryTotalMib, g.SmClockMhz, g.MemoryClockMhz = 0, 0, 0, 0
	g.Unavailable = []types.GpuField{types.GPU_FIELD_MEMORY, types.GPU_FIELD_SM_CLOCK, types.GPU_FIELD_MEMORY_CLOCK}
	require.NoError(t, g.Validate(), "memory unread: its total may be 0")

	for _, tc := range []struct {
		name     string
		edit     func(g *types.GpuMetrics)
		contains string
	}{
		{"value sent anyway", func(g *types.GpuMetrics) { g.Unavailable = []types.GpuField{types.GPU_FIELD_POWER} },
			"device 2: GPU_FIELD_POWER is listed unavailable but its value is 70000; send 0"},
		{"memory pair, one set", func(g *types.GpuMetrics) {
			g.MemoryUsedMib = 0
			g.Unavailable = []types.GpuField{types.GPU_FIELD_MEMORY}
		}, "GPU_FIELD_MEMORY is listed unavailable but its value is 2"},
		{"memory values that wrap a sum", func(g *types.GpuMetrics) {
			g.MemoryUsedMib, g.MemoryTotalMib = 1<<63, 1<<63
			g.Unavailable = []types.GpuField{types.GPU_FIELD_MEMORY}
		}, "GPU_FIELD_MEMORY is listed unavailable"},
		{"unspecified", func(g *types.GpuMetrics) { g.Unavailable = []types.GpuField{types.GPU_FIELD_UNSPECIFIED} },
			"unavailable[0] GPU_FIELD_UNSPECIFIED: want GPU_FIELD_UTILIZATION"},
		{"unknown", func(g *types.GpuMetrics) { g.Unavailable = []types.GpuField{42} }, "unavailable[0] 42"},
		{"twice", func(g *types.GpuMetrics) {
			g.PowerMw = 0
			g.Unavailable = []types.GpuField{types.GPU_FIELD_POWER, types.GPU_FIELD_POWER}
		}, "lists GPU_FIELD_POWER after GPU_FIELD_POWER; list each field once, in ascending order"},
		{"descending", func(g *types.GpuMetrics) {
			g.PowerMw, g.TemperatureC = 0, 0
			g.Unavailable = []types.GpuField{types.GPU_FIELD_TEMPERATURE, types.GPU_FIELD_POWER}
		}, "in ascending order"},
		{"absent device", func(g *types.GpuMetrics) {
			g.Present, g.PowerMw = false, 0
			g.Unavailable = []types.GpuField{types.GPU_FIELD_POWER}
		}, "unavailable lists fields of an absent device"},
		{"fallback entry", func(g *types.GpuMetrics) {
			g.Source, g.Uuid, g.PowerMw = types.SOURCE_FALLBACK, "", 0
			g.Unavailable = []types.GpuField{types.GPU_FIELD_POWER}
		}, "unavailable is for NVML entries"},
		{"clock", func(g *types.GpuMetrics) { g.SmClockMhz = types.MaxClockMHz + 1 }, "sm_clock_mhz 20001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := nvml()
			tc.edit(&g)
			err := g.Validate()
			require.ErrorIs(t, err, types.ErrInvalidGPUMetrics)
			require.ErrorContains(t, err, tc.contains)
		})
	}
}
