package report

import (
	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

// Msg turns the epoch's attestation into the chain's MsgSubmitTelemetry for epoch, signed by agent: field
// for field, each value set with its source. A value NVML did not give on a present device is sent as 0 and
// listed in the entry's unavailable fields; a device NVML could not read at all is reported absent; a link
// whose probe failed is left out (it was not measured); a link measured without a throughput transfer is
// reported as SOURCE_FALLBACK with its RTT, since the chain takes a probe link only with both values.
func (e Epoch) Msg(agent string, epoch uint64) *audittypes.MsgSubmitTelemetry {
	msg := &audittypes.MsgSubmitTelemetry{Agent: agent, NodeId: e.NodeID, Epoch: epoch}
	src := audittypes.SOURCE_FALLBACK
	if e.GPUs.Source == SourceNVML {
		src = audittypes.SOURCE_NVML
	}
	for _, d := range e.GPUs.Devices {
		g := audittypes.GpuMetrics{
			DeviceIndex: d.Index, Uuid: d.UUID, Model: d.Model, Source: src, Present: d.Error == "",
			UtilizationPct:  deref(d.UtilizationGPUPct),
			MemoryUsedMib:   deref(d.MemoryUsedMiB),
			MemoryTotalMib:  deref(d.MemoryTotalMiB),
			PowerMw:         uint64(deref(d.PowerMilliwatts)),
			TemperatureC:    deref(d.TemperatureC),
			EccCorrected:    deref(d.ECCCorrectedVolatile),
			EccUncorrected:  deref(d.ECCUncorrectedVolatile),
			ThrottleReasons: deref(d.ClockEventReasons),
			SmClockMhz:      deref(d.SMClockMHz),
			MemoryClockMhz:  deref(d.MemoryClockMHz),
		}
		if src == audittypes.SOURCE_NVML && g.Present {
			// The memory pair is one NVML call: both values, or neither.
			memoryUnread := d.MemoryUsedMiB == nil || d.MemoryTotalMiB == nil
			if memoryUnread {
				g.MemoryUsedMib, g.MemoryTotalMib = 0, 0
			}
			// What NVML did not give is sent as 0 and named, so that no 0 passes for a measurement.
			for _, f := range []struct {
				field  audittypes.GpuField
				absent bool
			}{
				{audittypes.GPU_FIELD_UTILIZATION, d.UtilizationGPUPct == nil},
				{audittypes.GPU_FIELD_MEMORY, memoryUnread},
				{audittypes.GPU_FIELD_POWER, d.PowerMilliwatts == nil},
				{audittypes.GPU_FIELD_TEMPERATURE, d.TemperatureC == nil},
				{audittypes.GPU_FIELD_ECC_CORRECTED, d.ECCCorrectedVolatile == nil},
				{audittypes.GPU_FIELD_ECC_UNCORRECTED, d.ECCUncorrectedVolatile == nil},
				{audittypes.GPU_FIELD_THROTTLE_REASONS, d.ClockEventReasons == nil},
				{audittypes.GPU_FIELD_SM_CLOCK, d.SMClockMHz == nil},
				{audittypes.GPU_FIELD_MEMORY_CLOCK, d.MemoryClockMHz == nil},
			} {
				if f.absent {
					g.Unavailable = append(g.Unavailable, f.field)
				}
			}
		}
		msg.Gpus = append(msg.Gpus, g)
	}
	for _, l := range e.Links.Links {
		if l.Error != "" || l.RTTMicros == 0 {
			continue
		}
		m := audittypes.LinkMeasurement{PeerNodeId: l.Peer, Source: audittypes.SOURCE_PROBE, RttUs: l.RTTMicros,
			ThroughputKbps: l.ThroughputKbps, Samples: l.RTTSamples}
		if l.ThroughputKbps == 0 {
			m = audittypes.LinkMeasurement{PeerNodeId: l.Peer, Source: audittypes.SOURCE_FALLBACK, RttUs: l.RTTMicros}
		}
		msg.Links = append(msg.Links, m)
	}
	return msg
}

func deref[T uint32 | uint64](p *T) T {
	if p == nil {
		return 0
	}
	return *p
}
