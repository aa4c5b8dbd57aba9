package report

import (
	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

// Msg turns the epoch's attestation into the chain's MsgSubmitTelemetry for epoch, signed by agent: field
// for field, each value set with its source. A device NVML could not read at all is reported absent; a link
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
