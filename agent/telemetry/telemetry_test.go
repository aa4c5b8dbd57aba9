package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/consensus-nro/nro/agent/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDisabledNVMLReportsRegisteredGPUsAsFallback(t *testing.T) {
	var logs bytes.Buffer
	s := Open(Config{DisableNVML: true, Registered: []report.GPUGroup{{Model: "H100", Count: 8, MemoryMiB: 81920}}},
		slog.New(slog.NewTextHandler(&logs, nil)))
	defer func() { require.NoError(t, s.Close()) }()
	require.Equal(t, report.SourceFallback, s.Source())
	require.Contains(t, logs.String(), "telemetry.disable_nvml")

	set, err := s.Sample(context.Background())
	require.NoError(t, err)
	require.NoError(t, set.Validate())
	require.Equal(t, report.SourceFallback, set.Source)
	require.Contains(t, set.FallbackReason, "disabled by configuration")
	require.Len(t, set.Devices, 8)
	for i, d := range set.Devices {
		require.Equal(t, uint32(i), d.Index)
		require.Equal(t, "H100", d.Model)
		require.Equal(t, uint64(81920), *d.MemoryTotalMiB)
		require.Empty(t, d.UUID)
	}

	// In JSON a fallback set carries its label and no measured field at all.
	raw, err := json.Marshal(set.Devices[0])
	require.NoError(t, err)
	require.JSONEq(t, `{"index":0,"model":"H100","memory_total_mib":81920}`, string(raw))
}

func TestFallbackWithoutRegisteredGPUsSaysSo(t *testing.T) {
	s := Open(Config{DisableNVML: true}, nil)
	set, err := s.Sample(context.Background())
	require.NoError(t, err)
	require.Empty(t, set.Devices)
	require.NotNil(t, set.Devices, "an empty list, not null, in JSON")
	require.Contains(t, set.FallbackReason, "no registered GPUs configured")
}

func TestClockEventReasonNames(t *testing.T) {
	require.Nil(t, ClockEventReasonNames(0))
	require.Equal(t, []string{"gpu_idle", "sw_power_cap", "hw_thermal_slowdown"}, ClockEventReasonNames(0x1|0x4|0x40))
	require.Equal(t, []string{"display_clock_setting", "0x200"}, ClockEventReasonNames(0x100|0x200))
}

func TestGPUSetValidateRejectsMeasuredValuesInFallback(t *testing.T) {
	util := uint32(50)
	set := report.GPUSet{Source: report.SourceFallback, FallbackReason: "x", Devices: []report.Device{{UtilizationGPUPct: &util}}}
	require.ErrorContains(t, set.Validate(), "carries a measured value")
	set.Devices = nil
	set.FallbackReason = ""
	require.ErrorContains(t, set.Validate(), "no fallback_reason")
	require.ErrorContains(t, report.GPUSet{Source: report.SourceProbe}.Validate(), "is not")
}
