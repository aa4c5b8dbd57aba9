package types_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
)

func TestValidateNodeID(t *testing.T) {
	for _, id := range []string{"a", "7", "gpu-node-1", "a-b-c", "0node", strings.Repeat("x", 63), "a" + strings.Repeat("-", 61) + "z"} {
		require.NoError(t, types.ValidateNodeID(id), id)
	}
	for _, id := range []string{
		"", "-", "-a", "a-", "GPU", "gpu-Node", "gpu_node", "gpu.node", "gpu node", "nöde",
		strings.Repeat("x", 64), "a\n",
	} {
		err := types.ValidateNodeID(id)
		require.ErrorIs(t, err, types.ErrInvalidNodeID, "%q", id)
		require.Contains(t, err.Error(), "node_id")
		require.Contains(t, err.Error(), "1-63 lower-case letters, digits or '-'")
	}
}

func h100(n uint32) types.GpuGroup { return types.GpuGroup{Model: "H100", Count: n, MemoryMib: 81920} }

func TestValidateGPUs(t *testing.T) {
	ok := []struct {
		name   string
		groups []types.GpuGroup
		total  uint32
	}{
		{"one group", []types.GpuGroup{h100(8)}, 8},
		{"same model, two memory sizes", []types.GpuGroup{
			{Model: "A100", Count: 4, MemoryMib: 40960}, {Model: "A100", Count: 2, MemoryMib: 81920},
		}, 6},
		{"models with digits and dashes", []types.GpuGroup{
			{Model: "A10G", Count: 1, MemoryMib: 24576}, {Model: "RTX-4090", Count: 2, MemoryMib: 24576}, {Model: "L4", Count: 3, MemoryMib: 24576},
		}, 6},
		{"memory bounds", []types.GpuGroup{
			{Model: "X", Count: 1, MemoryMib: types.MinGPUMemoryMiB}, {Model: "Y", Count: 1, MemoryMib: types.MaxGPUMemoryMiB},
		}, 2},
		{"1024 GPUs", []types.GpuGroup{h100(1000), {Model: "A100", Count: 24, MemoryMib: 40960}}, 1024},
		{"16 groups", sixteenGroups(), 16},
	}
	for _, tc := range ok {
		total, err := types.ValidateGPUs(tc.groups)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.total, total, tc.name)
		require.Equal(t, tc.total, types.Node{Gpus: tc.groups}.TotalGPUs(), tc.name)
	}

	bad := []struct {
		name     string
		groups   []types.GpuGroup
		contains string
	}{
		{"nil", nil, "at least one group"},
		{"empty", []types.GpuGroup{}, "at least one group"},
		{"17 groups", append(sixteenGroups(), types.GpuGroup{Model: "Z", Count: 1, MemoryMib: 1024}), "17 groups, at most 16"},
		{"zero count", []types.GpuGroup{h100(0)}, "gpus[0].count is 0"},
		{"lower-case model", []types.GpuGroup{h100(1), {Model: "a100", Count: 1, MemoryMib: 40960}}, `gpus[1].model "a100"`},
		{"mixed-case model", []types.GpuGroup{{Model: "H100s", Count: 1, MemoryMib: 81920}}, `gpus[0].model "H100s"`},
		{"empty model", []types.GpuGroup{{Model: "", Count: 1, MemoryMib: 81920}}, "gpus[0].model"},
		{"model with space", []types.GpuGroup{{Model: "H 100", Count: 1, MemoryMib: 81920}}, "gpus[0].model"},
		{"model starting with dash", []types.GpuGroup{{Model: "-H100", Count: 1, MemoryMib: 81920}}, "gpus[0].model"},
		{"model too long", []types.GpuGroup{{Model: strings.Repeat("H", 33), Count: 1, MemoryMib: 81920}}, "gpus[0].model"},
		{"memory below 1 GiB", []types.GpuGroup{{Model: "H100", Count: 1, MemoryMib: 1023}}, "gpus[0].memory_mib 1023"},
		{"memory zero", []types.GpuGroup{{Model: "H100", Count: 1}}, "gpus[0].memory_mib 0"},
		{"memory above 2 TiB", []types.GpuGroup{{Model: "H100", Count: 1, MemoryMib: 1<<21 + 1}}, "gpus[0].memory_mib 2097153"},
		{"duplicate group", []types.GpuGroup{h100(1), {Model: "A100", Count: 1, MemoryMib: 40960}, h100(2)}, "gpus[2]: H100 with 81920 MiB listed twice"},
		{"1025 GPUs", []types.GpuGroup{h100(1024), {Model: "A100", Count: 1, MemoryMib: 40960}}, "1025 GPUs on one node, at most 1024"},
		{"count overflow of uint32 sum", []types.GpuGroup{h100(1 << 31), {Model: "A100", Count: 1 << 31, MemoryMib: 40960}}, "4294967296 GPUs"},
	}
	for _, tc := range bad {
		_, err := types.ValidateGPUs(tc.groups)
		require.ErrorIs(t, err, types.ErrInvalidGPUs, tc.name)
		require.Contains(t, err.Error(), "gpus", tc.name)
		require.Contains(t, err.Error(), tc.contains, tc.name)
	}
}

func sixteenGroups() []types.GpuGroup {
	out := make([]types.GpuGroup, 16)
	for i := range out {
		out[i] = types.GpuGroup{Model: "H100", Count: 1, MemoryMib: uint64(1024 * (i + 1))}
	}
	return out
}

func TestValidateBandwidth(t *testing.T) {
	for _, ok := range []uint64{1, 25_000, types.MaxBandwidthMbps} {
		require.NoError(t, types.ValidateBandwidth(ok))
	}
	for _, bad := range []uint64{0, types.MaxBandwidthMbps + 1, 1 << 63} {
		err := types.ValidateBandwidth(bad)
		require.ErrorIs(t, err, types.ErrInvalidBandwidth)
		require.Contains(t, err.Error(), "bandwidth_mbps")
	}
}

func TestValidatePrice(t *testing.T) {
	require.NoError(t, types.ValidatePrice(sdk.NewCoin("unro", math.NewInt(1)), "unro"))
	cases := []struct {
		price    sdk.Coin
		contains string
	}{
		{sdk.NewCoin("unro", math.ZeroInt()), "must be positive"},
		{sdk.Coin{Denom: "unro", Amount: math.NewInt(-3)}, "negative"},
		{sdk.NewCoin("uatom", math.NewInt(5)), `denom "uatom": prices are in unro`},
		{sdk.Coin{}, "price_per_gpu_hour"},
		{sdk.Coin{Denom: "unro"}, "nil"},
	}
	for _, tc := range cases {
		err := types.ValidatePrice(tc.price, "unro")
		require.ErrorIs(t, err, types.ErrInvalidPrice, tc.price.String())
		require.Contains(t, err.Error(), "price_per_gpu_hour")
		require.Contains(t, err.Error(), tc.contains)
	}
}

func TestNodeHelpers(t *testing.T) {
	n := types.Node{Gpus: []types.GpuGroup{h100(8), {Model: "L4", Count: 2, MemoryMib: 24576}}}
	require.Equal(t, uint32(10), n.TotalGPUs())
	require.True(t, n.HasGPUModel("H100"))
	require.True(t, n.HasGPUModel("L4"))
	require.False(t, n.HasGPUModel("h100"))
	require.False(t, n.HasGPUModel("A100"))
	require.Zero(t, types.Node{}.TotalGPUs())
}
