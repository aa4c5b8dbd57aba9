// Package telemetry samples the node's GPUs for nro-agent.
//
// The measured source is NVML (through github.com/NVIDIA/go-nvml, which loads libnvidia-ml.so.1 at run time with
// dlopen, so the agent starts on machines without the NVIDIA driver). When NVML cannot be used — library absent,
// driver not loaded, no permission, a build without cgo, or disabled by configuration — the sampler says so once
// in the log and reports from a fallback source instead: every such set is labelled report.SourceFallback, carries
// the reason, and contains only what the node registered (model, count, memory), never utilisation or any other
// value that would have to be measured.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/consensus-nro/nro/agent/report"
)

// DefaultNVMLLibrary is the library go-nvml opens when Config.NVMLLibrary is empty.
const DefaultNVMLLibrary = "libnvidia-ml.so.1"

// ErrNVMLUnavailable wraps every reason NVML could not be initialised or read.
var ErrNVMLUnavailable = errors.New("NVML unavailable")

// Config selects and configures the GPU source.
type Config struct {
	// DisableNVML skips NVML and reports from the fallback source (for machines whose GPUs must not be touched).
	DisableNVML bool
	// NVMLLibrary is the file name or path of the NVML shared library; DefaultNVMLLibrary when empty.
	NVMLLibrary string
	// Registered is what the node registered on chain; the fallback reports it.
	Registered []report.GPUGroup
}

// gpuSource is one way of reading the GPUs.
type gpuSource interface {
	collect(ctx context.Context) (report.GPUSet, error)
	close() error
}

// Sampler reads the node's GPUs from NVML when it can and from the fallback otherwise.
type Sampler struct {
	log      *slog.Logger
	nvml     gpuSource // nil when NVML could not be initialised
	fallback *fallbackSource

	mu      sync.Mutex
	failing bool // the last NVML sample failed; logged once per transition
}

// Open initialises NVML and returns a sampler. It never fails: when NVML cannot be used it logs the reason once
// and the sampler reports from the fallback source.
func Open(cfg Config, log *slog.Logger) *Sampler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lib := cfg.NVMLLibrary
	if lib == "" {
		lib = DefaultNVMLLibrary
	}
	if cfg.DisableNVML {
		reason := "NVML disabled by configuration (telemetry.disable_nvml = true)"
		log.Info("GPU telemetry from the fallback source: every report is labelled fallback and carries only the registered GPUs",
			"reason", reason, "registered_gpus", registeredCount(cfg.Registered))
		return &Sampler{log: log, fallback: newFallbackSource(cfg.Registered, reason)}
	}
	src, err := openNVML(lib)
	return newSampler(src, err, cfg.Registered, log)
}

// newSampler builds a sampler from an NVML source or the error that kept NVML from opening.
func newSampler(src gpuSource, openErr error, registered []report.GPUGroup, log *slog.Logger) *Sampler {
	if openErr != nil {
		reason := openErr.Error()
		log.Warn("GPU telemetry from the fallback source because NVML cannot be used: every report is labelled fallback and carries only the registered GPUs, no measurements",
			"reason", reason, "registered_gpus", registeredCount(registered))
		return &Sampler{log: log, fallback: newFallbackSource(registered, reason)}
	}
	log.Info("GPU telemetry from NVML")
	return &Sampler{log: log, nvml: src, fallback: newFallbackSource(registered, "")}
}

// Source is the source the sampler reports from while NVML works: nvml, or fallback when NVML never opened.
func (s *Sampler) Source() report.Source {
	if s.nvml == nil {
		return report.SourceFallback
	}
	return report.SourceNVML
}

// Sample reads the GPUs once. It returns a set to report unless ctx is done. When NVML is in use but fails this
// time, the set comes from the fallback (labelled so, with the reason) and err says what failed; per-device
// failures are not errors here, they are reported in the set's devices.
func (s *Sampler) Sample(ctx context.Context) (report.GPUSet, error) {
	if err := ctx.Err(); err != nil {
		return report.GPUSet{}, err
	}
	if s.nvml == nil {
		return s.fallback.collect(ctx)
	}
	set, err := s.nvml.collect(ctx)
	if err == nil {
		s.setFailing(false, nil)
		return set, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return report.GPUSet{}, ctxErr
	}
	s.setFailing(true, err)
	fb, _ := s.fallback.withReason(err.Error()).collect(ctx)
	return fb, err
}

func (s *Sampler) setFailing(failing bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if failing == s.failing {
		return
	}
	s.failing = failing
	if failing {
		s.log.Warn("NVML read failed; reporting from the fallback source until it recovers", "reason", err)
	} else {
		s.log.Info("NVML read recovered; reporting from NVML again")
	}
}

// Close releases NVML.
func (s *Sampler) Close() error {
	if s.nvml == nil {
		return nil
	}
	return s.nvml.close()
}

func registeredCount(groups []report.GPUGroup) uint64 {
	var n uint64
	for _, g := range groups {
		n += uint64(g.Count)
	}
	return n
}

// ClockEventReason is one bit of NVML's clock event (throttle) reasons mask.
type ClockEventReason struct {
	Bit  uint64
	Name string
}

// ClockEventReasons lists the bits of nvmlClocksEventReason* that NVML documents, with stable snake_case names.
var ClockEventReasons = []ClockEventReason{
	{0x1, "gpu_idle"},
	{0x2, "applications_clocks_setting"},
	{0x4, "sw_power_cap"},
	{0x8, "hw_slowdown"},
	{0x10, "sync_boost"},
	{0x20, "sw_thermal_slowdown"},
	{0x40, "hw_thermal_slowdown"},
	{0x80, "hw_power_brake_slowdown"},
	{0x100, "display_clock_setting"},
}

// ClockEventReasonNames names the bits set in mask; unknown bits are named by their hex value.
func ClockEventReasonNames(mask uint64) []string {
	var names []string
	known := uint64(0)
	for _, r := range ClockEventReasons {
		known |= r.Bit
		if mask&r.Bit != 0 {
			names = append(names, r.Name)
		}
	}
	for bit := uint64(1); bit != 0; bit <<= 1 {
		if mask&bit != 0 && known&bit == 0 {
			names = append(names, fmt.Sprintf("0x%x", bit))
		}
	}
	return names
}

// now is the clock for CollectedAt; UTC so that JSON output does not depend on the host's zone.
func now() time.Time { return time.Now().UTC() }
