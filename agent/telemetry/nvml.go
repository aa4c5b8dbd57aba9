//go:build cgo && linux

package telemetry

import (
	"context"
	"fmt"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/dl"
	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/consensus-nro/nro/agent/report"
)

// symbolClockEventReasons is the current name of the throttle-reasons call (driver R535 and later). Calling a
// symbol the loaded library lacks would crash the process, so the source checks for it once and falls back to
// the older, equivalent nvmlDeviceGetCurrentClocksThrottleReasons.
const symbolClockEventReasons = "nvmlDeviceGetCurrentClocksEventReasons"

const mib = 1 << 20

// openNVML loads the NVML library at path and initialises it.
func openNVML(path string) (gpuSource, error) {
	lib := nvml.New(nvml.WithLibraryPath(path))
	return newNVMLSource(lib, func() string { return dlopenError(path) })
}

// dlopenError returns the dynamic loader's message for path ("cannot open shared object file: ..."), which
// go-nvml reduces to ERROR_LIBRARY_NOT_FOUND.
func dlopenError(path string) string {
	lib := dl.New(path, dl.RTLD_LAZY|dl.RTLD_LOCAL)
	if err := lib.Open(); err != nil {
		return err.Error()
	}
	_ = lib.Close()
	return ""
}

// nvmlSource reads every device through an nvml.Interface (the real library, or go-nvml's mock in tests).
type nvmlSource struct {
	mu               sync.Mutex // NVML is thread safe; this keeps one sample's reads together
	lib              nvml.Interface
	driverVersion    string
	nvmlVersion      string
	hasEventReasons  bool
	shutdownComplete bool
}

// newNVMLSource initialises lib. diagnose, when not nil, explains ERROR_LIBRARY_NOT_FOUND.
func newNVMLSource(lib nvml.Interface, diagnose func() string) (*nvmlSource, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, initError(ret, diagnose)
	}
	s := &nvmlSource{lib: lib}
	if v, ret := lib.SystemGetDriverVersion(); ret == nvml.SUCCESS {
		s.driverVersion = v
	}
	if v, ret := lib.SystemGetNVMLVersion(); ret == nvml.SUCCESS {
		s.nvmlVersion = v
	}
	if ext := lib.Extensions(); ext != nil && ext.LookupSymbol(symbolClockEventReasons) == nil {
		s.hasEventReasons = true
	}
	return s, nil
}

func initError(ret nvml.Return, diagnose func() string) error {
	name := returnName(ret)
	switch ret {
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		detail := ""
		if diagnose != nil {
			detail = diagnose()
		}
		if detail == "" {
			detail = name
		}
		return fmt.Errorf("%w: cannot load the NVML library (%s): install the NVIDIA driver, or set telemetry.nvml_library to the path of libnvidia-ml.so.1",
			ErrNVMLUnavailable, detail)
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return fmt.Errorf("%w: nvmlInit: %s: the NVIDIA kernel driver is not running", ErrNVMLUnavailable, name)
	case nvml.ERROR_NO_PERMISSION:
		return fmt.Errorf("%w: nvmlInit: %s: the agent's user may not open the GPU device files (/dev/nvidia*)", ErrNVMLUnavailable, name)
	case nvml.ERROR_LIB_RM_VERSION_MISMATCH:
		return fmt.Errorf("%w: nvmlInit: %s: the NVML library and the kernel driver are different versions; reboot or reload the driver", ErrNVMLUnavailable, name)
	default:
		return fmt.Errorf("%w: nvmlInit: %s", ErrNVMLUnavailable, name)
	}
}

func (s *nvmlSource) collect(ctx context.Context) (report.GPUSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdownComplete {
		return report.GPUSet{}, fmt.Errorf("%w: the NVML source is closed", ErrNVMLUnavailable)
	}
	count, ret := s.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return report.GPUSet{}, fmt.Errorf("%w: nvmlDeviceGetCount: %s", ErrNVMLUnavailable, returnName(ret))
	}
	set := report.GPUSet{
		Source:        report.SourceNVML,
		CollectedAt:   now(),
		DriverVersion: s.driverVersion,
		NVMLVersion:   s.nvmlVersion,
		Devices:       make([]report.Device, 0, count),
	}
	for i := range count {
		// NVML calls cannot be interrupted; stop between devices.
		if err := ctx.Err(); err != nil {
			return report.GPUSet{}, err
		}
		set.Devices = append(set.Devices, s.device(i))
	}
	return set, nil
}

// device reads one device. A field NVML cannot provide (ERROR_NOT_SUPPORTED is common for ECC and power) is
// left nil and recorded in Unavailable; only a missing handle or a lost GPU fails the whole device.
func (s *nvmlSource) device(index int) report.Device {
	d := report.Device{Index: uint32(index)}
	h, ret := s.lib.DeviceGetHandleByIndex(index)
	if ret != nvml.SUCCESS {
		d.Error = fmt.Sprintf("nvmlDeviceGetHandleByIndex(%d): %s", index, returnName(ret))
		return d
	}
	lost := ""
	ok := func(field string, ret nvml.Return) bool {
		switch ret {
		case nvml.SUCCESS:
			return true
		case nvml.ERROR_GPU_IS_LOST:
			lost = field
		}
		d.SetUnavailable(field, returnName(ret))
		return false
	}

	if v, ret := h.GetUUID(); ok(report.FieldUUID, ret) {
		d.UUID = v
	}
	if v, ret := h.GetName(); ok(report.FieldModel, ret) {
		d.Model = v
	}
	if u, ret := h.GetUtilizationRates(); ok(report.FieldUtilizationGPUPct, ret) {
		gpu, mem := u.Gpu, u.Memory
		d.UtilizationGPUPct, d.UtilizationMemoryPct = &gpu, &mem
	} else {
		d.SetUnavailable(report.FieldUtilizationMemoryPct, d.Unavailable[report.FieldUtilizationGPUPct])
	}
	if m, ret := h.GetMemoryInfo(); ok(report.FieldMemory, ret) {
		used, total := m.Used/mib, m.Total/mib
		d.MemoryUsedMiB, d.MemoryTotalMiB = &used, &total
	}
	if v, ret := h.GetPowerUsage(); ok(report.FieldPowerMilliwatts, ret) {
		d.PowerMilliwatts = &v
	}
	if v, ret := h.GetTemperature(nvml.TEMPERATURE_GPU); ok(report.FieldTemperatureC, ret) {
		d.TemperatureC = &v
	}
	if v, ret := h.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_CORRECTED, nvml.VOLATILE_ECC); ok(report.FieldECCCorrectedVolatile, ret) {
		d.ECCCorrectedVolatile = &v
	}
	if v, ret := h.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_UNCORRECTED, nvml.VOLATILE_ECC); ok(report.FieldECCUncorrectedVolatile, ret) {
		d.ECCUncorrectedVolatile = &v
	}
	if v, ret := h.GetClockInfo(nvml.CLOCK_SM); ok(report.FieldSMClockMHz, ret) {
		d.SMClockMHz = &v
	}
	if v, ret := h.GetClockInfo(nvml.CLOCK_MEM); ok(report.FieldMemoryClockMHz, ret) {
		d.MemoryClockMHz = &v
	}
	var reasons uint64
	if s.hasEventReasons {
		reasons, ret = h.GetCurrentClocksEventReasons()
	} else {
		reasons, ret = h.GetCurrentClocksThrottleReasons()
	}
	if ok(report.FieldClockEventReasons, ret) {
		d.ClockEventReasons = &reasons
	}

	if lost != "" {
		// Values read before the loss are not trustworthy: report the device as failed, with no metrics.
		return report.Device{Index: d.Index, UUID: d.UUID, Model: d.Model,
			Error: fmt.Sprintf("GPU is lost (%s while reading %s): it needs a reset or the node a reboot", returnName(nvml.ERROR_GPU_IS_LOST), lost)}
	}
	return d
}

func (s *nvmlSource) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdownComplete {
		return nil
	}
	s.shutdownComplete = true
	if ret := s.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("nvmlShutdown: %s", returnName(ret))
	}
	return nil
}

// returnName is the stable name of an NVML return code. go-nvml's Return.Error switches to the driver's prose
// ("Not Supported") once the library is loaded; reports and logs use the constant's name on every machine.
func returnName(ret nvml.Return) string {
	if name, ok := returnNames[ret]; ok {
		return name
	}
	return fmt.Sprintf("NVML_RETURN_%d", int32(ret))
}

var returnNames = map[nvml.Return]string{
	nvml.SUCCESS:                       "SUCCESS",
	nvml.ERROR_UNINITIALIZED:           "ERROR_UNINITIALIZED",
	nvml.ERROR_INVALID_ARGUMENT:        "ERROR_INVALID_ARGUMENT",
	nvml.ERROR_NOT_SUPPORTED:           "ERROR_NOT_SUPPORTED",
	nvml.ERROR_NO_PERMISSION:           "ERROR_NO_PERMISSION",
	nvml.ERROR_ALREADY_INITIALIZED:     "ERROR_ALREADY_INITIALIZED",
	nvml.ERROR_NOT_FOUND:               "ERROR_NOT_FOUND",
	nvml.ERROR_INSUFFICIENT_SIZE:       "ERROR_INSUFFICIENT_SIZE",
	nvml.ERROR_INSUFFICIENT_POWER:      "ERROR_INSUFFICIENT_POWER",
	nvml.ERROR_DRIVER_NOT_LOADED:       "ERROR_DRIVER_NOT_LOADED",
	nvml.ERROR_TIMEOUT:                 "ERROR_TIMEOUT",
	nvml.ERROR_IRQ_ISSUE:               "ERROR_IRQ_ISSUE",
	nvml.ERROR_LIBRARY_NOT_FOUND:       "ERROR_LIBRARY_NOT_FOUND",
	nvml.ERROR_FUNCTION_NOT_FOUND:      "ERROR_FUNCTION_NOT_FOUND",
	nvml.ERROR_CORRUPTED_INFOROM:       "ERROR_CORRUPTED_INFOROM",
	nvml.ERROR_GPU_IS_LOST:             "ERROR_GPU_IS_LOST",
	nvml.ERROR_RESET_REQUIRED:          "ERROR_RESET_REQUIRED",
	nvml.ERROR_OPERATING_SYSTEM:        "ERROR_OPERATING_SYSTEM",
	nvml.ERROR_LIB_RM_VERSION_MISMATCH: "ERROR_LIB_RM_VERSION_MISMATCH",
	nvml.ERROR_IN_USE:                  "ERROR_IN_USE",
	nvml.ERROR_MEMORY:                  "ERROR_MEMORY",
	nvml.ERROR_NO_DATA:                 "ERROR_NO_DATA",
	nvml.ERROR_VGPU_ECC_NOT_SUPPORTED:  "ERROR_VGPU_ECC_NOT_SUPPORTED",
	nvml.ERROR_INSUFFICIENT_RESOURCES:  "ERROR_INSUFFICIENT_RESOURCES",
	nvml.ERROR_UNKNOWN:                 "ERROR_UNKNOWN",
}
