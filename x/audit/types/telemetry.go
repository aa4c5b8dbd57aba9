package types

import (
	"cmp"
	"fmt"
	"slices"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
)

// Bounds of single telemetry values: far beyond any real device or link, tight enough that integer
// arithmetic on them (deviation in basis points, sums) cannot overflow.
const (
	// MaxUtilizationPct is 100%.
	MaxUtilizationPct uint32 = 100
	// MaxGPUMemoryMiB is 4 TiB per device.
	MaxGPUMemoryMiB uint64 = 1 << 22
	// MaxPowerMw is 10 kW per device.
	MaxPowerMw uint64 = 10_000_000
	// MaxTemperatureC is 200 °C.
	MaxTemperatureC uint32 = 200
	// MaxClockMHz is 20 GHz.
	MaxClockMHz uint32 = 20_000
	// MaxRTTUs is 60 s.
	MaxRTTUs uint64 = 60_000_000
	// MaxThroughputKbps is 1 Tbit/s.
	MaxThroughputKbps uint64 = 1_000_000_000
	// MaxLinkSamples bounds the probe count of one measurement.
	MaxLinkSamples uint32 = 1 << 20
	// MaxDeviceStringLen bounds a device's uuid and model strings.
	MaxDeviceStringLen = 128
)

// ValidateNodeID checks a node id as x/allocation does, with an x/audit error naming the field.
func ValidateNodeID(field, id string) error {
	if allocationtypes.ValidateNodeID(id) != nil {
		return errorsmod.Wrapf(ErrInvalidNodeID,
			"%s %q: want 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit, e.g. gpu-node-1", field, id)
	}
	return nil
}

// Validate checks one GPU entry on its own.
func (g GpuMetrics) Validate() error {
	switch g.Source {
	case SOURCE_NVML:
		if g.Uuid == "" {
			return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: uuid is empty; an NVML entry carries the device UUID (nvmlDeviceGetUUID)", g.DeviceIndex)
		}
		if g.Present && g.MemoryTotalMib == 0 && !slices.Contains(g.Unavailable, GPU_FIELD_MEMORY) {
			return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: memory_total_mib is 0; a present NVML device reports its memory size, or lists GPU_FIELD_MEMORY as unavailable", g.DeviceIndex)
		}
		if err := g.validateUnavailable(); err != nil {
			return err
		}
	case SOURCE_FALLBACK:
		if len(g.Unavailable) > 0 {
			return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: unavailable is for NVML entries; no value of a SOURCE_FALLBACK entry is a measurement, so leave it empty", g.DeviceIndex)
		}
	default:
		return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: source %s: GPU metrics come from SOURCE_NVML, or SOURCE_FALLBACK when NVML is unavailable",
			g.DeviceIndex, telemetrySourceName(g.Source))
	}
	if len(g.Uuid) > MaxDeviceStringLen || len(g.Model) > MaxDeviceStringLen {
		return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: uuid and model may be at most %d bytes", g.DeviceIndex, MaxDeviceStringLen)
	}
	if g.UtilizationPct > MaxUtilizationPct {
		return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: utilization_pct %d: want 0..%d", g.DeviceIndex, g.UtilizationPct, MaxUtilizationPct)
	}
	if g.MemoryTotalMib > MaxGPUMemoryMiB {
		return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: memory_total_mib %d: want at most %d", g.DeviceIndex, g.MemoryTotalMib, MaxGPUMemoryMiB)
	}
	if g.MemoryUsedMib > g.MemoryTotalMib {
		return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: memory_used_mib %d exceeds memory_total_mib %d", g.DeviceIndex, g.MemoryUsedMib, g.MemoryTotalMib)
	}
	if g.PowerMw > MaxPowerMw {
		return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: power_mw %d: want at most %d (milliwatts)", g.DeviceIndex, g.PowerMw, MaxPowerMw)
	}
	if g.TemperatureC > MaxTemperatureC {
		return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: temperature_c %d: want at most %d", g.DeviceIndex, g.TemperatureC, MaxTemperatureC)
	}
	if g.SmClockMhz > MaxClockMHz || g.MemoryClockMhz > MaxClockMHz {
		return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: sm_clock_mhz %d, memory_clock_mhz %d: want at most %d each", g.DeviceIndex, g.SmClockMhz, g.MemoryClockMhz, MaxClockMHz)
	}
	return nil
}

// validateUnavailable checks an NVML entry's unavailable list: known fields, ascending, once each, only on a
// present device, and each of their values 0 (a value that was not read is not reported as one).
func (g GpuMetrics) validateUnavailable() error {
	if len(g.Unavailable) > 0 && !g.Present {
		return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: unavailable lists fields of an absent device; an absent device reports no values, so leave it empty", g.DeviceIndex)
	}
	for i, f := range g.Unavailable {
		v, known := g.fieldValue(f)
		switch {
		case !known:
			return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: unavailable[%d] %s: want GPU_FIELD_UTILIZATION … GPU_FIELD_MEMORY_CLOCK", g.DeviceIndex, i, f)
		case i > 0 && f <= g.Unavailable[i-1]:
			return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: unavailable lists %s after %s; list each field once, in ascending order", g.DeviceIndex, f, g.Unavailable[i-1])
		case v != 0:
			return errorsmod.Wrapf(ErrInvalidGPUMetrics, "device %d: %s is listed unavailable but its value is %d; send 0 for a value that was not read", g.DeviceIndex, f, v)
		}
	}
	return nil
}

// fieldValue is the value a GpuField names (for the memory pair, non-zero when either is), and whether the
// field is known.
func (g GpuMetrics) fieldValue(f GpuField) (uint64, bool) {
	switch f {
	case GPU_FIELD_UTILIZATION:
		return uint64(g.UtilizationPct), true
	case GPU_FIELD_MEMORY:
		return g.MemoryUsedMib | g.MemoryTotalMib, true
	case GPU_FIELD_POWER:
		return g.PowerMw, true
	case GPU_FIELD_TEMPERATURE:
		return uint64(g.TemperatureC), true
	case GPU_FIELD_ECC_CORRECTED:
		return g.EccCorrected, true
	case GPU_FIELD_ECC_UNCORRECTED:
		return g.EccUncorrected, true
	case GPU_FIELD_THROTTLE_REASONS:
		return g.ThrottleReasons, true
	case GPU_FIELD_SM_CLOCK:
		return uint64(g.SmClockMhz), true
	case GPU_FIELD_MEMORY_CLOCK:
		return uint64(g.MemoryClockMhz), true
	}
	return 0, false
}

// Validate checks one link entry on its own.
func (l LinkMeasurement) Validate() error {
	if err := ValidateNodeID("peer_node_id", l.PeerNodeId); err != nil {
		return errorsmod.Wrap(ErrInvalidLink, err.Error())
	}
	if l.RttUs > MaxRTTUs {
		return errorsmod.Wrapf(ErrInvalidLink, "link to %s: rtt_us %d: want at most %d (microseconds)", l.PeerNodeId, l.RttUs, MaxRTTUs)
	}
	if l.ThroughputKbps > MaxThroughputKbps {
		return errorsmod.Wrapf(ErrInvalidLink, "link to %s: throughput_kbps %d: want at most %d (kbit/s)", l.PeerNodeId, l.ThroughputKbps, MaxThroughputKbps)
	}
	switch l.Source {
	case SOURCE_PROBE:
		if l.RttUs == 0 || l.ThroughputKbps == 0 {
			return errorsmod.Wrapf(ErrInvalidLink, "link to %s: a probe measures both rtt_us and throughput_kbps (got %d and %d); report what was not measured as SOURCE_FALLBACK",
				l.PeerNodeId, l.RttUs, l.ThroughputKbps)
		}
		if l.Samples == 0 || l.Samples > MaxLinkSamples {
			return errorsmod.Wrapf(ErrInvalidLink, "link to %s: samples %d: a probe summarises 1..%d probes", l.PeerNodeId, l.Samples, MaxLinkSamples)
		}
	case SOURCE_FALLBACK:
		if l.Samples != 0 {
			return errorsmod.Wrapf(ErrInvalidLink, "link to %s: samples %d: a fallback value is not a measurement, so samples must be 0", l.PeerNodeId, l.Samples)
		}
	default:
		return errorsmod.Wrapf(ErrInvalidLink, "link to %s: source %s: links come from SOURCE_PROBE, or SOURCE_FALLBACK when they were not measured",
			l.PeerNodeId, telemetrySourceName(l.Source))
	}
	return nil
}

func telemetrySourceName(s Source) string {
	if name, ok := Source_name[int32(s)]; ok {
		return name
	}
	return fmt.Sprintf("%d (unknown)", int32(s))
}

// ValidateTelemetry checks the content of a report independently of state: the node id, the epoch, every
// entry, and that device indexes and peers are unique and no link is to the node itself. It is shared by
// MsgSubmitTelemetry.ValidateBasic and genesis validation.
func ValidateTelemetry(nodeID string, epoch uint64, gpus []GpuMetrics, links []LinkMeasurement) error {
	if err := ValidateNodeID("node_id", nodeID); err != nil {
		return err
	}
	if epoch == 0 {
		return errorsmod.Wrap(ErrInvalidEpoch, "epoch 0: epochs are numbered from 1 (nrod q audit epoch)")
	}
	if len(gpus) > int(MaxReportEntries) || len(links) > int(MaxReportEntries) {
		return errorsmod.Wrapf(ErrReportTooLarge, "%d gpus and %d links: a report holds at most %d of each", len(gpus), len(links), MaxReportEntries)
	}
	seenDevice := make(map[uint32]bool, len(gpus))
	for i, g := range gpus {
		if seenDevice[g.DeviceIndex] {
			return errorsmod.Wrapf(ErrInvalidGPUMetrics, "gpus[%d]: device_index %d appears twice; report each device once", i, g.DeviceIndex)
		}
		seenDevice[g.DeviceIndex] = true
		if err := g.Validate(); err != nil {
			return errorsmod.Wrapf(err, "gpus[%d]", i)
		}
	}
	seenPeer := make(map[string]bool, len(links))
	for i, l := range links {
		if l.PeerNodeId == nodeID {
			return errorsmod.Wrapf(ErrInvalidLink, "links[%d]: peer_node_id %s is the reporting node; links go to other nodes of its leases", i, l.PeerNodeId)
		}
		if seenPeer[l.PeerNodeId] {
			return errorsmod.Wrapf(ErrInvalidLink, "links[%d]: peer %s appears twice; report each peer once", i, l.PeerNodeId)
		}
		seenPeer[l.PeerNodeId] = true
		if err := l.Validate(); err != nil {
			return errorsmod.Wrapf(err, "links[%d]", i)
		}
	}
	return nil
}

// ValidateBasic runs the stateless checks, so that a malformed report is refused at CheckTx; the checks that
// need state (the agent, the epoch, the leases, the params' size limits) run in the keeper.
func (msg *MsgSubmitTelemetry) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Agent); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "agent %q: %v", msg.Agent, err)
	}
	return ValidateTelemetry(msg.NodeId, msg.Epoch, msg.Gpus, msg.Links)
}

// ValidateBasic checks the authority address and the params.
func (msg *MsgUpdateParams) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Authority); err != nil {
		return errorsmod.Wrapf(ErrInvalidAuthority, "authority %q: %v", msg.Authority, err)
	}
	return msg.Params.Validate()
}

// LinkKey orders a node pair as the link matrix stores it: (a, b) with a < b.
func LinkKey(a, b string) (string, string) {
	if b < a {
		return b, a
	}
	return a, b
}

// LowerMedian returns the lower median of values: the element at index (n-1)/2 once sorted, so the middle
// one for an odd count and the lower of the two middle ones for an even count. It is always a reported
// value (no averaging, no rounding), and deterministic. It returns 0 for no values. values is not modified.
func LowerMedian(values []uint64) uint64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return sorted[(len(sorted)-1)/2]
}

// DeviationBps is |v − median| in basis points of median, rounded down; 0 when median is 0.
func DeviationBps(v, median uint64) uint64 {
	if median == 0 {
		return 0
	}
	return absDiff(v, median) * uint64(BpsDenominator) / median
}

// BeyondTolerance reports whether v is more than toleranceBps away from median, exactly (no rounding):
// |v − median| × 10000 > toleranceBps × median. Values are bounded (MaxThroughputKbps, MaxRTTUs), so the
// products fit in uint64.
func BeyondTolerance(v, median uint64, toleranceBps uint32) bool {
	return absDiff(v, median)*uint64(BpsDenominator) > uint64(toleranceBps)*median
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// SortLinkSamples orders samples by reporter, then epoch: the stored order.
func SortLinkSamples(samples []LinkSample) {
	slices.SortFunc(samples, func(a, b LinkSample) int {
		return cmp.Or(cmp.Compare(a.Reporter, b.Reporter), cmp.Compare(a.Epoch, b.Epoch))
	})
}

// Medians returns the lower medians of the samples' RTT and throughput.
func Medians(samples []LinkSample) (rttUs, throughputKbps uint64) {
	rtts := make([]uint64, len(samples))
	tputs := make([]uint64, len(samples))
	for i, s := range samples {
		rtts[i], tputs[i] = s.RttUs, s.ThroughputKbps
	}
	return LowerMedian(rtts), LowerMedian(tputs)
}

// DegradedThrough reports whether a link's samples show it beyond a lease's limits in every epoch from first
// to last: in each epoch both ends reported, and even the better of their two values breaks a limit — the
// lower RTT above maxRttUs (when not 0), or the higher throughput below minKbps (when not 0). One end alone
// can therefore never make a link degraded. It returns the last epoch's better values.
func DegradedThrough(samples []LinkSample, first, last, maxRttUs, minKbps uint64) (rttUs, throughputKbps uint64, degraded bool) {
	if first > last || (maxRttUs == 0 && minKbps == 0) {
		return 0, 0, false
	}
	for e := first; e <= last; e++ {
		reporters := map[string]bool{}
		rttUs, throughputKbps = ^uint64(0), 0
		for _, s := range samples {
			if s.Epoch == e {
				reporters[s.Reporter] = true
				rttUs, throughputKbps = min(rttUs, s.RttUs), max(throughputKbps, s.ThroughputKbps)
			}
		}
		if len(reporters) < 2 {
			return 0, 0, false
		}
		slow := maxRttUs > 0 && rttUs > maxRttUs
		thin := minKbps > 0 && throughputKbps < minKbps
		if !slow && !thin {
			return 0, 0, false
		}
	}
	return rttUs, throughputKbps, true
}

// Validate checks a stored link aggregate (genesis import, invariant): the pair in order, samples from its two
// ends in stored order with unique (reporter, epoch), valid values, and medians that match the samples.
func (a LinkAggregate) Validate() error {
	if err := ValidateNodeID("node_a", a.NodeA); err != nil {
		return err
	}
	if err := ValidateNodeID("node_b", a.NodeB); err != nil {
		return err
	}
	if a.NodeA >= a.NodeB {
		return errorsmod.Wrapf(ErrInvalidLink, "link (%s, %s): node_a must sort before node_b", a.NodeA, a.NodeB)
	}
	if len(a.Samples) == 0 {
		return errorsmod.Wrapf(ErrInvalidLink, "link (%s, %s) has no samples", a.NodeA, a.NodeB)
	}
	var newest uint64
	for i, s := range a.Samples {
		if s.Reporter != a.NodeA && s.Reporter != a.NodeB {
			return errorsmod.Wrapf(ErrInvalidLink, "link (%s, %s): samples[%d] reported by %s, not an end of the link", a.NodeA, a.NodeB, i, s.Reporter)
		}
		if s.Epoch == 0 {
			return errorsmod.Wrapf(ErrInvalidLink, "link (%s, %s): samples[%d] has epoch 0", a.NodeA, a.NodeB, i)
		}
		m := LinkMeasurement{PeerNodeId: a.NodeB, Source: SOURCE_PROBE, RttUs: s.RttUs, ThroughputKbps: s.ThroughputKbps, Samples: s.Samples}
		if err := m.Validate(); err != nil {
			return errorsmod.Wrapf(err, "link (%s, %s): samples[%d]", a.NodeA, a.NodeB, i)
		}
		if i > 0 {
			p := a.Samples[i-1]
			if c := cmp.Or(cmp.Compare(p.Reporter, s.Reporter), cmp.Compare(p.Epoch, s.Epoch)); c >= 0 {
				return errorsmod.Wrapf(ErrInvalidLink, "link (%s, %s): samples must be sorted by reporter then epoch, each (reporter, epoch) once", a.NodeA, a.NodeB)
			}
		}
		newest = max(newest, s.Epoch)
	}
	if newest != a.Epoch {
		return errorsmod.Wrapf(ErrInvalidLink, "link (%s, %s): epoch %d but the newest sample is from epoch %d", a.NodeA, a.NodeB, a.Epoch, newest)
	}
	rtt, tput := Medians(a.Samples)
	if rtt != a.MedianRttUs || tput != a.MedianThroughputKbps {
		return errorsmod.Wrapf(ErrInvalidLink, "link (%s, %s): medians %d us / %d kbit/s, but the samples give %d us / %d kbit/s",
			a.NodeA, a.NodeB, a.MedianRttUs, a.MedianThroughputKbps, rtt, tput)
	}
	return nil
}

// Validate checks a stored fault.
func (f Fault) Validate() error {
	if f.Id == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "fault id 0 is never used; ids start at 1")
	}
	if err := ValidateNodeID("node_id", f.NodeId); err != nil {
		return errorsmod.Wrapf(err, "fault %d", f.Id)
	}
	if f.Epoch == 0 {
		return errorsmod.Wrapf(ErrInvalidGenesis, "fault %d: epoch 0; epochs are numbered from 1", f.Id)
	}
	if _, ok := FaultKind_name[int32(f.Kind)]; !ok || f.Kind == FAULT_KIND_UNSPECIFIED {
		return errorsmod.Wrapf(ErrInvalidGenesis, "fault %d: kind %s: want FAULT_KIND_MISSED_EPOCH, _GPU_ABSENT, _DISPUTED or _CHALLENGE_LOST", f.Id, f.Kind)
	}
	if f.Height <= 0 {
		return errorsmod.Wrapf(ErrInvalidGenesis, "fault %d: height %d must be positive", f.Id, f.Height)
	}
	return nil
}

// Validate checks a slash record as genesis import and the invariant require.
func (s Slash) Validate() error {
	if s.Id == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "slash id 0: ids start at 1")
	}
	if s.NodeId == "" || s.Operator == "" {
		return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d: node_id and operator are required", s.Id)
	}
	if s.Epoch == 0 || s.Height <= 0 {
		return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d: epoch %d and height %d must be positive", s.Id, s.Epoch, s.Height)
	}
	if err := s.Amount.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d amount: %v", s.Id, err)
	}
	if err := s.StakeAfter.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d stake_after: %v", s.Id, err)
	}
	if _, ok := SlashDestination_name[int32(s.Destination)]; !ok || s.Destination == SLASH_DESTINATION_UNSPECIFIED {
		return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d: destination %d is not a slash destination", s.Id, s.Destination)
	}
	if s.JailedUntilHeight <= s.Height || s.UnpaidFromHeight > s.Height {
		return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d at height %d: jailed_until_height %d must be later and unpaid_from_height %d not later",
			s.Id, s.Height, s.JailedUntilHeight, s.UnpaidFromHeight)
	}
	if len(s.FaultIds) == 0 {
		return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d lists no faults", s.Id)
	}
	compensated := math.ZeroInt()
	for i, l := range s.Leases {
		if l.LeaseId == 0 || l.Submitter == "" {
			return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d lease %d: lease_id and submitter are required", s.Id, i)
		}
		if err := l.Compensation.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d lease %d compensation: %v", s.Id, l.LeaseId, err)
		}
		if err := l.Refunded.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d lease %d refunded: %v", s.Id, l.LeaseId, err)
		}
		compensated = compensated.Add(l.Compensation.Amount)
	}
	if compensated.GT(s.Amount.Amount) {
		return errorsmod.Wrapf(ErrInvalidGenesis, "slash %d pays %s in compensation out of %s slashed", s.Id, compensated, s.Amount)
	}
	return nil
}
