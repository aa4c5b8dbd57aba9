package telemetry

import (
	"context"

	"github.com/consensus-nro/nro/agent/report"
)

// fallbackSource reports what the node registered, labelled fallback: one device per registered GPU with the
// registered model and memory size (as memory_total_mib) and nothing else. It measures nothing.
type fallbackSource struct {
	registered []report.GPUGroup
	reason     string
}

func newFallbackSource(registered []report.GPUGroup, reason string) *fallbackSource {
	return &fallbackSource{registered: append([]report.GPUGroup(nil), registered...), reason: reason}
}

// withReason returns a copy that reports reason, for a fallback taken after NVML failed at run time.
func (f *fallbackSource) withReason(reason string) *fallbackSource {
	return &fallbackSource{registered: f.registered, reason: reason}
}

func (f *fallbackSource) collect(context.Context) (report.GPUSet, error) {
	reason := f.reason
	if len(f.registered) == 0 {
		reason += "; no registered GPUs configured (telemetry.registered_gpus), so the set is empty"
	}
	set := report.GPUSet{Source: report.SourceFallback, FallbackReason: reason, CollectedAt: now(), Devices: []report.Device{}}
	var index uint32
	for _, g := range f.registered {
		for range g.Count {
			mem := g.MemoryMiB
			set.Devices = append(set.Devices, report.Device{Index: index, Model: g.Model, MemoryTotalMiB: &mem})
			index++
		}
	}
	return set, nil
}

func (f *fallbackSource) close() error { return nil }
