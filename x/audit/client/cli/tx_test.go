package cli_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/consensus-nro/nro/x/audit/client/cli"
	"github.com/consensus-nro/nro/x/audit/types"
)

// TestReadTelemetry decodes the report of the command's example, from a file and from stdin.
func TestReadTelemetry(t *testing.T) {
	example := cli.NewSubmitTelemetryCmd().Example
	report := example[strings.Index(example, "{"):]
	clientCtx := client.Context{}.WithCodec(codec.NewProtoCodec(codectypes.NewInterfaceRegistry()))

	want := &types.MsgSubmitTelemetry{
		NodeId: "gpu-node-1",
		Epoch:  12,
		Gpus: []types.GpuMetrics{{
			DeviceIndex: 0, Uuid: "GPU-5f0c", Model: "NVIDIA H100 80GB HBM3", Source: types.SOURCE_NVML, Present: true,
			UtilizationPct: 97, MemoryUsedMib: 70_000, MemoryTotalMib: 81_559, PowerMw: 650_000, TemperatureC: 61,
		}},
		Links: []types.LinkMeasurement{{PeerNodeId: "gpu-node-2", Source: types.SOURCE_PROBE, RttUs: 420, ThroughputKbps: 9_400_000, Samples: 10}},
	}
	got, err := cli.ReadTelemetry(clientCtx, writeFile(t, []byte(report)), nil)
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = cli.ReadTelemetry(clientCtx, "-", strings.NewReader(report))
	require.NoError(t, err)
	require.Equal(t, want, got)

	_, err = cli.ReadTelemetry(clientCtx, "-", strings.NewReader(`{"node_id": "gpu-node-1", "gpus": [{"source": "NVML"}]}`))
	require.ErrorContains(t, err, "decode report - as MsgSubmitTelemetry JSON")
	_, err = cli.ReadTelemetry(clientCtx, "/nonexistent/report.json", nil)
	require.ErrorContains(t, err, "read report /nonexistent/report.json")
}
