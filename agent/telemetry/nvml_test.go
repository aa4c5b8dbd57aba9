//go:build cgo && linux

package telemetry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/agent/report"
)

// fakeGPU is what one mocked device reports; a non-SUCCESS entry in fail makes that getter return it.
type fakeGPU struct {
	uuid, name   string
	util, memUtl uint32
	usedB, totB  uint64
	powerMW      uint32
	tempC        uint32
	eccCorr      uint64
	eccUncorr    uint64
	smMHz, mMHz  uint32
	reasons      uint64
	fail         map[string]nvml.Return
}

func (g fakeGPU) ret(field string) nvml.Return {
	if r, ok := g.fail[field]; ok {
		return r
	}
	return nvml.SUCCESS
}

func (g fakeGPU) device() *mock.Device {
	return &mock.Device{
		GetUUIDFunc: func() (string, nvml.Return) { return g.uuid, g.ret(report.FieldUUID) },
		GetNameFunc: func() (string, nvml.Return) { return g.name, g.ret(report.FieldModel) },
		GetUtilizationRatesFunc: func() (nvml.Utilization, nvml.Return) {
			return nvml.Utilization{Gpu: g.util, Memory: g.memUtl}, g.ret(report.FieldUtilizationGPUPct)
		},
		GetMemoryInfoFunc: func() (nvml.Memory, nvml.Return) {
			return nvml.Memory{Used: g.usedB, Total: g.totB, Free: g.totB - g.usedB}, g.ret(report.FieldMemory)
		},
		GetPowerUsageFunc: func() (uint32, nvml.Return) { return g.powerMW, g.ret(report.FieldPowerMilliwatts) },
		GetTemperatureFunc: func(s nvml.TemperatureSensors) (uint32, nvml.Return) {
			if s != nvml.TEMPERATURE_GPU {
				return 0, nvml.ERROR_INVALID_ARGUMENT
			}
			return g.tempC, g.ret(report.FieldTemperatureC)
		},
		GetTotalEccErrorsFunc: func(t nvml.MemoryErrorType, c nvml.EccCounterType) (uint64, nvml.Return) {
			if c != nvml.VOLATILE_ECC {
				return 0, nvml.ERROR_INVALID_ARGUMENT
			}
			if t == nvml.MEMORY_ERROR_TYPE_CORRECTED {
				return g.eccCorr, g.ret(report.FieldECCCorrectedVolatile)
			}
			return g.eccUncorr, g.ret(report.FieldECCUncorrectedVolatile)
		},
		GetClockInfoFunc: func(c nvml.ClockType) (uint32, nvml.Return) {
			switch c {
			case nvml.CLOCK_SM:
				return g.smMHz, g.ret(report.FieldSMClockMHz)
			case nvml.CLOCK_MEM:
				return g.mMHz, g.ret(report.FieldMemoryClockMHz)
			}
			return 0, nvml.ERROR_INVALID_ARGUMENT
		},
		GetCurrentClocksEventReasonsFunc: func() (uint64, nvml.Return) {
			return g.reasons, g.ret(report.FieldClockEventReasons)
		},
		GetCurrentClocksThrottleReasonsFunc: func() (uint64, nvml.Return) {
			return g.reasons, g.ret(report.FieldClockEventReasons)
		},
	}
}

var h100 = fakeGPU{
	uuid: "GPU-11111111-2222-3333-4444-555555555555", name: "NVIDIA H100 80GB HBM3",
	util: 87, memUtl: 41, usedB: 40 << 30, totB: 81559 << 20, powerMW: 512345, tempC: 61,
	eccCorr: 3, eccUncorr: 0, smMHz: 1980, mMHz: 2619, reasons: 0x4,
}

// fakeLibrary mocks the NVML library with the given devices; a nil entry fails DeviceGetHandleByIndex.
func fakeLibrary(devs []*mock.Device, eventReasonsSymbol bool) *mock.Interface {
	return &mock.Interface{
		InitFunc:                   func() nvml.Return { return nvml.SUCCESS },
		ShutdownFunc:               func() nvml.Return { return nvml.SUCCESS },
		SystemGetDriverVersionFunc: func() (string, nvml.Return) { return "550.54.15", nvml.SUCCESS },
		SystemGetNVMLVersionFunc:   func() (string, nvml.Return) { return "12.550.54.15", nvml.SUCCESS },
		ExtensionsFunc: func() nvml.ExtendedInterface {
			return &mock.ExtendedInterface{LookupSymbolFunc: func(name string) error {
				if name == symbolClockEventReasons && eventReasonsSymbol {
					return nil
				}
				return errors.New("undefined symbol: " + name)
			}}
		},
		DeviceGetCountFunc: func() (int, nvml.Return) { return len(devs), nvml.SUCCESS },
		DeviceGetHandleByIndexFunc: func(i int) (nvml.Device, nvml.Return) {
			if devs[i] == nil {
				return nil, nvml.ERROR_UNKNOWN
			}
			return devs[i], nvml.SUCCESS
		},
	}
}

func TestNVMLSourceReadsEveryField(t *testing.T) {
	second := h100
	second.uuid, second.util = "GPU-66666666-7777-8888-9999-000000000000", 3
	d0, d1 := h100.device(), second.device()
	src, err := newNVMLSource(fakeLibrary([]*mock.Device{d0, d1}, true), nil)
	require.NoError(t, err)

	set, err := src.collect(context.Background())
	require.NoError(t, err)
	require.Equal(t, report.SourceNVML, set.Source)
	require.Empty(t, set.FallbackReason)
	require.Equal(t, "550.54.15", set.DriverVersion)
	require.Equal(t, "12.550.54.15", set.NVMLVersion)
	require.NoError(t, set.Validate())
	require.Len(t, set.Devices, 2)

	d := set.Devices[0]
	require.Equal(t, uint32(0), d.Index)
	require.Equal(t, h100.uuid, d.UUID)
	require.Equal(t, "NVIDIA H100 80GB HBM3", d.Model)
	require.Equal(t, uint32(87), *d.UtilizationGPUPct)
	require.Equal(t, uint32(41), *d.UtilizationMemoryPct)
	require.Equal(t, uint64(40*1024), *d.MemoryUsedMiB) // bytes to MiB
	require.Equal(t, uint64(81559), *d.MemoryTotalMiB)
	require.Equal(t, uint32(512345), *d.PowerMilliwatts)
	require.Equal(t, uint32(61), *d.TemperatureC)
	require.Equal(t, uint64(3), *d.ECCCorrectedVolatile)
	require.Equal(t, uint64(0), *d.ECCUncorrectedVolatile)
	require.Equal(t, uint32(1980), *d.SMClockMHz)
	require.Equal(t, uint32(2619), *d.MemoryClockMHz)
	require.Equal(t, uint64(0x4), *d.ClockEventReasons)
	require.Empty(t, d.Unavailable)
	require.Empty(t, d.Error)

	require.Equal(t, uint32(1), set.Devices[1].Index)
	require.Equal(t, second.uuid, set.Devices[1].UUID)
	require.Equal(t, uint32(3), *set.Devices[1].UtilizationGPUPct)

	// The driver has the current symbol: the deprecated throttle call is not used.
	require.Len(t, d0.GetCurrentClocksEventReasonsCalls(), 1)
	require.Empty(t, d0.GetCurrentClocksThrottleReasonsCalls())
	require.NoError(t, src.close())
}

func TestNVMLSourceOlderDriverUsesThrottleReasons(t *testing.T) {
	d0 := h100.device()
	src, err := newNVMLSource(fakeLibrary([]*mock.Device{d0}, false), nil)
	require.NoError(t, err)
	set, err := src.collect(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint64(0x4), *set.Devices[0].ClockEventReasons)
	require.Empty(t, d0.GetCurrentClocksEventReasonsCalls(), "calling a symbol the driver lacks would crash the agent")
	require.Len(t, d0.GetCurrentClocksThrottleReasonsCalls(), 1)
}

func TestNVMLSourceUnsupportedFieldsAreUnavailableNotFatal(t *testing.T) {
	g := h100
	g.fail = map[string]nvml.Return{
		report.FieldPowerMilliwatts:        nvml.ERROR_NOT_SUPPORTED,
		report.FieldECCCorrectedVolatile:   nvml.ERROR_NOT_SUPPORTED,
		report.FieldECCUncorrectedVolatile: nvml.ERROR_NOT_SUPPORTED,
		report.FieldUtilizationGPUPct:      nvml.ERROR_NO_PERMISSION,
	}
	src, err := newNVMLSource(fakeLibrary([]*mock.Device{g.device()}, true), nil)
	require.NoError(t, err)
	set, err := src.collect(context.Background())
	require.NoError(t, err)
	d := set.Devices[0]
	require.Empty(t, d.Error)
	require.Nil(t, d.PowerMilliwatts)
	require.Nil(t, d.ECCCorrectedVolatile)
	require.Nil(t, d.ECCUncorrectedVolatile)
	require.Nil(t, d.UtilizationGPUPct)
	require.Nil(t, d.UtilizationMemoryPct)
	require.Equal(t, map[string]string{
		report.FieldPowerMilliwatts:        "ERROR_NOT_SUPPORTED",
		report.FieldECCCorrectedVolatile:   "ERROR_NOT_SUPPORTED",
		report.FieldECCUncorrectedVolatile: "ERROR_NOT_SUPPORTED",
		report.FieldUtilizationGPUPct:      "ERROR_NO_PERMISSION",
		report.FieldUtilizationMemoryPct:   "ERROR_NO_PERMISSION",
	}, d.Unavailable)
	// Everything else still reads.
	require.Equal(t, uint32(61), *d.TemperatureC)
	require.Equal(t, uint64(81559), *d.MemoryTotalMiB)
	require.Equal(t, uint32(1980), *d.SMClockMHz)
	require.Equal(t, h100.uuid, d.UUID)
}

func TestNVMLSourceFailingDeviceDoesNotFailTheOthers(t *testing.T) {
	lost := h100
	lost.uuid = "GPU-lost"
	lost.fail = map[string]nvml.Return{report.FieldTemperatureC: nvml.ERROR_GPU_IS_LOST}
	src, err := newNVMLSource(fakeLibrary([]*mock.Device{h100.device(), nil, lost.device()}, true), nil)
	require.NoError(t, err)
	set, err := src.collect(context.Background())
	require.NoError(t, err)
	require.Len(t, set.Devices, 3)

	require.Empty(t, set.Devices[0].Error)
	require.NotNil(t, set.Devices[0].UtilizationGPUPct)

	require.Equal(t, uint32(1), set.Devices[1].Index)
	require.Equal(t, "nvmlDeviceGetHandleByIndex(1): ERROR_UNKNOWN", set.Devices[1].Error)
	require.Nil(t, set.Devices[1].MemoryTotalMiB)

	gone := set.Devices[2]
	require.Equal(t, "GPU-lost", gone.UUID)
	require.Contains(t, gone.Error, "ERROR_GPU_IS_LOST")
	require.Contains(t, gone.Error, report.FieldTemperatureC)
	require.Nil(t, gone.UtilizationGPUPct, "values read before the loss are dropped")
	require.Nil(t, gone.MemoryUsedMiB)
}

func TestNVMLSourceDeviceCountFailure(t *testing.T) {
	lib := fakeLibrary(nil, true)
	lib.DeviceGetCountFunc = func() (int, nvml.Return) { return 0, nvml.ERROR_UNKNOWN }
	src, err := newNVMLSource(lib, nil)
	require.NoError(t, err)
	_, err = src.collect(context.Background())
	require.ErrorIs(t, err, ErrNVMLUnavailable)
	require.ErrorContains(t, err, "nvmlDeviceGetCount: ERROR_UNKNOWN")
}

func TestNVMLInitFailureExplainsTheCause(t *testing.T) {
	for _, tc := range []struct {
		ret      nvml.Return
		diagnose func() string
		want     string
	}{
		{nvml.ERROR_DRIVER_NOT_LOADED, nil, "ERROR_DRIVER_NOT_LOADED: the NVIDIA kernel driver is not running"},
		{nvml.ERROR_NO_PERMISSION, nil, "may not open the GPU device files"},
		{nvml.ERROR_LIBRARY_NOT_FOUND, func() string { return "libnvidia-ml.so.1: cannot open shared object file" },
			"cannot load the NVML library (libnvidia-ml.so.1: cannot open shared object file): install the NVIDIA driver"},
		{nvml.ERROR_UNKNOWN, nil, "nvmlInit: ERROR_UNKNOWN"},
	} {
		lib := fakeLibrary(nil, true)
		lib.InitFunc = func() nvml.Return { return tc.ret }
		_, err := newNVMLSource(lib, tc.diagnose)
		require.ErrorIs(t, err, ErrNVMLUnavailable)
		require.ErrorContains(t, err, tc.want)
	}
}

func TestInitFailureFallsBackAndSaysSoOnce(t *testing.T) {
	lib := fakeLibrary(nil, true)
	lib.InitFunc = func() nvml.Return { return nvml.ERROR_DRIVER_NOT_LOADED }
	src, err := newNVMLSource(lib, nil)
	require.Error(t, err)

	var logs bytes.Buffer
	registered := []report.GPUGroup{{Model: "H100", Count: 2, MemoryMiB: 81920}, {Model: "L4", Count: 1, MemoryMiB: 24576}}
	s := newSampler(src, err, registered, slog.New(slog.NewTextHandler(&logs, nil)))
	require.Equal(t, report.SourceFallback, s.Source())

	for range 3 {
		set, err := s.Sample(context.Background())
		require.NoError(t, err)
		require.Equal(t, report.SourceFallback, set.Source)
		require.Contains(t, set.FallbackReason, "the NVIDIA kernel driver is not running")
		require.NoError(t, set.Validate())
		require.Len(t, set.Devices, 3)
		require.Equal(t, "H100", set.Devices[1].Model)
		require.Equal(t, uint64(81920), *set.Devices[1].MemoryTotalMiB)
		require.Equal(t, "L4", set.Devices[2].Model)
		require.Equal(t, uint32(2), set.Devices[2].Index)
		require.Nil(t, set.Devices[0].UtilizationGPUPct, "the fallback measures nothing")
	}
	require.Equal(t, 1, strings.Count(logs.String(), "GPU telemetry from the fallback source"), logs.String())
	require.Contains(t, logs.String(), "level=WARN")
	require.NoError(t, s.Close())
}

func TestRuntimeNVMLFailureReportsFallbackAndRecovers(t *testing.T) {
	broken := false
	lib := fakeLibrary([]*mock.Device{h100.device()}, true)
	lib.DeviceGetCountFunc = func() (int, nvml.Return) {
		if broken {
			return 0, nvml.ERROR_UNKNOWN
		}
		return 1, nvml.SUCCESS
	}
	src, err := newNVMLSource(lib, nil)
	require.NoError(t, err)
	var logs bytes.Buffer
	s := newSampler(src, nil, []report.GPUGroup{{Model: "H100", Count: 1, MemoryMiB: 81920}}, slog.New(slog.NewTextHandler(&logs, nil)))
	require.Equal(t, report.SourceNVML, s.Source())

	set, err := s.Sample(context.Background())
	require.NoError(t, err)
	require.Equal(t, report.SourceNVML, set.Source)

	broken = true
	for range 2 {
		set, err = s.Sample(context.Background())
		require.ErrorIs(t, err, ErrNVMLUnavailable)
		require.Equal(t, report.SourceFallback, set.Source)
		require.Contains(t, set.FallbackReason, "nvmlDeviceGetCount: ERROR_UNKNOWN")
		require.NoError(t, set.Validate())
	}
	require.Equal(t, 1, strings.Count(logs.String(), "NVML read failed"), logs.String())

	broken = false
	set, err = s.Sample(context.Background())
	require.NoError(t, err)
	require.Equal(t, report.SourceNVML, set.Source)
	require.Contains(t, logs.String(), "NVML read recovered")
}

func TestSampleStopsOnCancelledContext(t *testing.T) {
	src, err := newNVMLSource(fakeLibrary([]*mock.Device{h100.device()}, true), nil)
	require.NoError(t, err)
	s := newSampler(src, nil, nil, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Sample(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

// TestOpenWithoutLibrary runs the real dlopen path: this is what an agent does on a machine without the driver.
func TestOpenWithoutLibrary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libnvidia-ml.so.1")
	_, err := openNVML(missing)
	require.ErrorIs(t, err, ErrNVMLUnavailable)
	require.ErrorContains(t, err, missing)
	require.ErrorContains(t, err, "No such file or directory")

	var logs bytes.Buffer
	s := Open(Config{NVMLLibrary: missing, Registered: []report.GPUGroup{{Model: "A100", Count: 1, MemoryMiB: 40960}}},
		slog.New(slog.NewTextHandler(&logs, nil)))
	defer func() { require.NoError(t, s.Close()) }()
	require.Equal(t, report.SourceFallback, s.Source())
	set, err := s.Sample(context.Background())
	require.NoError(t, err)
	require.Equal(t, report.SourceFallback, set.Source)
	require.Contains(t, set.FallbackReason, "No such file or directory")
	require.Contains(t, logs.String(), "No such file or directory")
}

func TestReturnNames(t *testing.T) {
	require.Equal(t, "ERROR_NOT_SUPPORTED", returnName(nvml.ERROR_NOT_SUPPORTED))
	require.Equal(t, "NVML_RETURN_12345", returnName(nvml.Return(12345)))
}
