package report_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/agent/report"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

func ptr[T any](v T) *T { return &v }

func TestEpochMsg(t *testing.T) {
	e := report.Epoch{
		NodeID: "gpu-node-1",
		GPUs: report.GPUSet{Source: report.SourceNVML, Devices: []report.Device{
			{Index: 0, UUID: "GPU-aa", Model: "NVIDIA H100 80GB HBM3", UtilizationGPUPct: ptr[uint32](97), MemoryUsedMiB: ptr[uint64](70_000),
				MemoryTotalMiB: ptr[uint64](81_559), PowerMilliwatts: ptr[uint32](650_000), TemperatureC: ptr[uint32](61),
				ECCCorrectedVolatile: ptr[uint64](2), ECCUncorrectedVolatile: ptr[uint64](0), ClockEventReasons: ptr[uint64](4),
				SMClockMHz: ptr[uint32](1_980), MemoryClockMHz: ptr[uint32](2_619)},
			{Index: 1, UUID: "GPU-bb", Error: "ERROR_GPU_IS_LOST"},
			// A board without power, ECC or clock-event readings: those are named, not sent as measured zeros.
			{Index: 2, UUID: "GPU-cc", Model: "NVIDIA L4", UtilizationGPUPct: ptr[uint32](10), MemoryUsedMiB: ptr[uint64](100),
				MemoryTotalMiB: ptr[uint64](23_034), TemperatureC: ptr[uint32](40), SMClockMHz: ptr[uint32](2_040), MemoryClockMHz: ptr[uint32](6_251),
				Unavailable: map[string]string{report.FieldPowerMilliwatts: "ERROR_NOT_SUPPORTED", report.FieldECCCorrectedVolatile: "ERROR_NOT_SUPPORTED",
					report.FieldECCUncorrectedVolatile: "ERROR_NOT_SUPPORTED", report.FieldClockEventReasons: "ERROR_NOT_SUPPORTED"}},
		}},
		Links: report.LinkSet{Source: report.SourceProbe, Links: []report.Link{
			{Peer: "gpu-node-2", Source: report.SourceProbe, RTTMicros: 420, RTTSamples: 10, ThroughputKbps: 9_400_000},
			{Peer: "gpu-node-3", Source: report.SourceProbe, Error: "dial tcp: connection refused"},
			{Peer: "gpu-node-4", Source: report.SourceProbe, RTTMicros: 900, RTTSamples: 10},
		}},
	}
	msg := e.Msg("nro1agent", 12)
	require.Equal(t, &audittypes.MsgSubmitTelemetry{
		Agent: "nro1agent", NodeId: "gpu-node-1", Epoch: 12,
		Gpus: []audittypes.GpuMetrics{
			{DeviceIndex: 0, Uuid: "GPU-aa", Model: "NVIDIA H100 80GB HBM3", Source: audittypes.SOURCE_NVML, Present: true,
				UtilizationPct: 97, MemoryUsedMib: 70_000, MemoryTotalMib: 81_559, PowerMw: 650_000, TemperatureC: 61,
				EccCorrected: 2, ThrottleReasons: 4, SmClockMhz: 1_980, MemoryClockMhz: 2_619},
			{DeviceIndex: 1, Uuid: "GPU-bb", Source: audittypes.SOURCE_NVML, Present: false},
			{DeviceIndex: 2, Uuid: "GPU-cc", Model: "NVIDIA L4", Source: audittypes.SOURCE_NVML, Present: true,
				UtilizationPct: 10, MemoryUsedMib: 100, MemoryTotalMib: 23_034, TemperatureC: 40, SmClockMhz: 2_040, MemoryClockMhz: 6_251,
				Unavailable: []audittypes.GpuField{audittypes.GPU_FIELD_POWER, audittypes.GPU_FIELD_ECC_CORRECTED,
					audittypes.GPU_FIELD_ECC_UNCORRECTED, audittypes.GPU_FIELD_THROTTLE_REASONS}},
		},
		Links: []audittypes.LinkMeasurement{
			{PeerNodeId: "gpu-node-2", Source: audittypes.SOURCE_PROBE, RttUs: 420, ThroughputKbps: 9_400_000, Samples: 10},
			{PeerNodeId: "gpu-node-4", Source: audittypes.SOURCE_FALLBACK, RttUs: 900},
		},
	}, msg)
	msg.Agent = "nro1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqm9qa9j" // any valid address, for ValidateBasic
	require.NoError(t, audittypes.ValidateTelemetry(msg.NodeId, msg.Epoch, msg.Gpus, msg.Links))

	// A fallback set is labelled fallback on chain: registered model and memory, nothing measured.
	fb := report.Epoch{NodeID: "gpu-node-1", GPUs: report.GPUSet{Source: report.SourceFallback, FallbackReason: "no NVML",
		Devices: []report.Device{{Index: 0, Model: "H100", MemoryTotalMiB: ptr[uint64](81_920)}}}}
	m := fb.Msg("nro1agent", 3)
	require.Equal(t, []audittypes.GpuMetrics{{DeviceIndex: 0, Model: "H100", Source: audittypes.SOURCE_FALLBACK, Present: true, MemoryTotalMib: 81_920}}, m.Gpus)
	require.Empty(t, m.Links)
}
