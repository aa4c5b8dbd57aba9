package report

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEpochValidate(t *testing.T) {
	e := Epoch{
		GPUs:  GPUSet{Source: SourceNVML},
		Links: LinkSet{Source: SourceProbe, Links: []Link{{Peer: "gpu-node-2", Source: SourceProbe}}},
	}
	require.NoError(t, e.Validate())

	e.Links.Links[0].Source = SourceFallback
	require.ErrorContains(t, e.Validate(), `link 0 (gpu-node-2) source is "fallback"`)
	e.Links.Links[0].Source = SourceProbe
	e.Links.Source = SourceNVML
	require.ErrorContains(t, e.Validate(), "links come only from probes")

	e.Links.Source = SourceProbe
	e.GPUs = GPUSet{Source: SourceFallback}
	require.ErrorContains(t, e.Validate(), "no fallback_reason")
	e.GPUs.FallbackReason = "NVML unavailable"
	mem := uint64(81920)
	e.GPUs.Devices = []Device{{Model: "H100", MemoryTotalMiB: &mem}}
	require.NoError(t, e.Validate(), "registered model and memory are what a fallback may carry")
}

func TestSource(t *testing.T) {
	require.True(t, SourceNVML.Measured())
	require.True(t, SourceProbe.Measured())
	require.False(t, SourceFallback.Measured())
	require.False(t, Source("guess").Valid())
}

func TestSetUnavailable(t *testing.T) {
	var d Device
	d.SetUnavailable(FieldPowerMilliwatts, "ERROR_NOT_SUPPORTED")
	require.Equal(t, map[string]string{"power_mw": "ERROR_NOT_SUPPORTED"}, d.Unavailable)
}
