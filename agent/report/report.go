// Package report holds what an nro-agent attests for its node each epoch: GPU metrics and link measurements.
//
// Every value set carries the source it came from (nvml, probe, fallback), so that a value the agent could not
// measure is never presented as a measurement. All values are integers in fixed units (MiB, milliwatts,
// microseconds, kbit/s), which is what the chain's MsgSubmitTelemetry carries: the mapping is field for field.
package report

import (
	"fmt"
	"time"
)

// Source says where a value set came from.
type Source string

const (
	// SourceNVML values were read from the NVIDIA driver through NVML on this node.
	SourceNVML Source = "nvml"
	// SourceProbe values were measured by TCP probes between this agent and a peer agent.
	SourceProbe Source = "probe"
	// SourceFallback values were not measured: they repeat what the node registered on chain, because NVML was
	// unavailable. Consumers must not treat them as measurements.
	SourceFallback Source = "fallback"
)

// Valid reports whether s is one of the known sources.
func (s Source) Valid() bool {
	switch s {
	case SourceNVML, SourceProbe, SourceFallback:
		return true
	}
	return false
}

// Measured reports whether values from s are measurements (nvml, probe) rather than registered values.
func (s Source) Measured() bool { return s == SourceNVML || s == SourceProbe }

// GPUGroup is a set of identical GPUs as the node registered them on chain (x/allocation GpuGroup).
type GPUGroup struct {
	Model     string `json:"model"`
	Count     uint32 `json:"count"`
	MemoryMiB uint64 `json:"memory_mib"`
}

// GPUSet is one sample of all the node's GPUs from a single source.
type GPUSet struct {
	Source Source `json:"source"`
	// FallbackReason says why the set is not from NVML; empty for nvml sets.
	FallbackReason string    `json:"fallback_reason,omitempty"`
	CollectedAt    time.Time `json:"collected_at"`
	// DriverVersion and NVMLVersion are reported by NVML; empty in fallback sets.
	DriverVersion string   `json:"driver_version,omitempty"`
	NVMLVersion   string   `json:"nvml_version,omitempty"`
	Devices       []Device `json:"devices"`
}

// Field names of Device, as used in JSON and as keys of Device.Unavailable.
const (
	FieldUUID                   = "uuid"
	FieldModel                  = "model"
	FieldUtilizationGPUPct      = "utilization_gpu_pct"
	FieldUtilizationMemoryPct   = "utilization_memory_pct"
	FieldMemory                 = "memory" // memory_used_mib and memory_total_mib come from one NVML call
	FieldPowerMilliwatts        = "power_mw"
	FieldTemperatureC           = "temperature_c"
	FieldECCCorrectedVolatile   = "ecc_corrected_volatile"
	FieldECCUncorrectedVolatile = "ecc_uncorrected_volatile"
	FieldSMClockMHz             = "sm_clock_mhz"
	FieldMemoryClockMHz         = "memory_clock_mhz"
	FieldClockEventReasons      = "clock_event_reasons"
)

// Device is one GPU's metrics. A nil field was not available: Unavailable says why (for nvml sets), or the set's
// source is fallback. A device whose Error is set could not be read at all and carries no metrics.
type Device struct {
	Index uint32 `json:"index"`
	UUID  string `json:"uuid,omitempty"`
	// Model is NVML's product name (e.g. "NVIDIA H100 80GB HBM3"), or the registered model in fallback sets.
	Model string `json:"model,omitempty"`
	// UtilizationGPUPct is the percent of the last sample period during which a kernel ran.
	UtilizationGPUPct *uint32 `json:"utilization_gpu_pct,omitempty"`
	// UtilizationMemoryPct is the percent of the last sample period during which device memory was read or written.
	UtilizationMemoryPct *uint32 `json:"utilization_memory_pct,omitempty"`
	MemoryUsedMiB        *uint64 `json:"memory_used_mib,omitempty"`
	MemoryTotalMiB       *uint64 `json:"memory_total_mib,omitempty"`
	PowerMilliwatts      *uint32 `json:"power_mw,omitempty"`
	TemperatureC         *uint32 `json:"temperature_c,omitempty"`
	// ECC error counts since the last driver load (NVML's volatile counters).
	ECCCorrectedVolatile   *uint64 `json:"ecc_corrected_volatile,omitempty"`
	ECCUncorrectedVolatile *uint64 `json:"ecc_uncorrected_volatile,omitempty"`
	SMClockMHz             *uint32 `json:"sm_clock_mhz,omitempty"`
	MemoryClockMHz         *uint32 `json:"memory_clock_mhz,omitempty"`
	// ClockEventReasons is NVML's bitmask of why clocks are held below their maximum (throttle reasons).
	ClockEventReasons *uint64 `json:"clock_event_reasons,omitempty"`
	// Unavailable maps a field name (Field* constants) to the NVML return code that kept it from being read,
	// e.g. "power_mw": "ERROR_NOT_SUPPORTED".
	Unavailable map[string]string `json:"unavailable,omitempty"`
	// Error says why the device could not be read at all.
	Error string `json:"error,omitempty"`
}

// SetUnavailable records that field could not be read, and why.
func (d *Device) SetUnavailable(field, reason string) {
	if d.Unavailable == nil {
		d.Unavailable = make(map[string]string)
	}
	d.Unavailable[field] = reason
}

// Link is one measurement of the network path from this node to a peer node.
type Link struct {
	// Peer is the peer's node id when known, else its probe address.
	Peer    string `json:"peer"`
	Address string `json:"address"`
	// Source is always probe: links are never reported from a fallback.
	Source     Source    `json:"source"`
	MeasuredAt time.Time `json:"measured_at"`
	// RTT statistics over RTTSamples timed echoes, in microseconds; RTTMicros is the median.
	RTTMicros    uint64 `json:"rtt_us"`
	RTTMinMicros uint64 `json:"rtt_min_us"`
	RTTMaxMicros uint64 `json:"rtt_max_us"`
	RTTSamples   uint32 `json:"rtt_samples"`
	// ThroughputKbps is the TCP throughput from the peer to this node in kbit/s; 0 when not measured.
	ThroughputKbps uint64 `json:"throughput_kbps"`
	// TransferBytes and TransferMicros are the timed part of the bounded transfer the throughput comes from.
	TransferBytes  uint64 `json:"transfer_bytes"`
	TransferMicros uint64 `json:"transfer_us"`
	// Error says why the peer could not be measured; the values above are zero then.
	Error string `json:"error,omitempty"`
}

// LinkSet is one epoch's link measurements, all from probes.
type LinkSet struct {
	Source Source `json:"source"`
	Links  []Link `json:"links"`
}

// Epoch is what the agent attests for its node for one epoch.
type Epoch struct {
	NodeID    string    `json:"node_id"`
	StartedAt time.Time `json:"started_at"`
	GPUs      GPUSet    `json:"gpus"`
	Links     LinkSet   `json:"links"`
}

// Validate checks the invariants consumers rely on: known sources, fallback sets explained, no measured-only
// values in fallback sets, links only from probes.
func (e Epoch) Validate() error {
	if err := e.GPUs.Validate(); err != nil {
		return err
	}
	if e.Links.Source != SourceProbe {
		return fmt.Errorf("link set source is %q; links come only from probes (%q)", e.Links.Source, SourceProbe)
	}
	for i, l := range e.Links.Links {
		if l.Source != SourceProbe {
			return fmt.Errorf("link %d (%s) source is %q; want %q", i, l.Peer, l.Source, SourceProbe)
		}
	}
	return nil
}

// Validate checks that the set's source is known and that a fallback set carries a reason and no measured values.
func (s GPUSet) Validate() error {
	if !s.Source.Valid() || s.Source == SourceProbe {
		return fmt.Errorf("GPU set source %q is not %q or %q", s.Source, SourceNVML, SourceFallback)
	}
	if s.Source != SourceFallback {
		return nil
	}
	if s.FallbackReason == "" {
		return fmt.Errorf("fallback GPU set has no fallback_reason: say why NVML was not used")
	}
	for _, d := range s.Devices {
		if d.UtilizationGPUPct != nil || d.UtilizationMemoryPct != nil || d.MemoryUsedMiB != nil ||
			d.PowerMilliwatts != nil || d.TemperatureC != nil || d.ECCCorrectedVolatile != nil ||
			d.ECCUncorrectedVolatile != nil || d.SMClockMHz != nil || d.MemoryClockMHz != nil ||
			d.ClockEventReasons != nil {
			return fmt.Errorf("fallback GPU set device %d carries a measured value; a fallback reports only the registered model and memory", d.Index)
		}
	}
	return nil
}
