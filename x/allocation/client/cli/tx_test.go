package cli_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/x/allocation/client/cli"
	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

func TestParseGPUGroups(t *testing.T) {
	ok := []struct {
		name string
		args []string
		want []types.GpuGroup
	}{
		{"one group", []string{"8xH100:81920"}, []types.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920}}},
		{
			"repeated flag",
			[]string{"4xA100:40960", "4xA100:81920"},
			[]types.GpuGroup{{Model: "A100", Count: 4, MemoryMib: 40960}, {Model: "A100", Count: 4, MemoryMib: 81920}},
		},
		{
			"comma-separated",
			[]string{"4xA100:40960,2xL4:24576"},
			[]types.GpuGroup{{Model: "A100", Count: 4, MemoryMib: 40960}, {Model: "L4", Count: 2, MemoryMib: 24576}},
		},
		{
			"both, order kept, spaces and empty parts ignored",
			[]string{" 1xA10G:24576 , ", "8xH100:81920,,2xL4:24576"},
			[]types.GpuGroup{
				{Model: "A10G", Count: 1, MemoryMib: 24576},
				{Model: "H100", Count: 8, MemoryMib: 81920},
				{Model: "L4", Count: 2, MemoryMib: 24576},
			},
		},
		{
			// The parser only splits; the keeper rejects the lower-case model with a precise error.
			"model case is kept",
			[]string{"1xh100:81920"},
			[]types.GpuGroup{{Model: "h100", Count: 1, MemoryMib: 81920}},
		},
		{
			// The first 'x' separates the count, so models may contain an x.
			"model containing x",
			[]string{"2xRTX-6000X:49152"},
			[]types.GpuGroup{{Model: "RTX-6000X", Count: 2, MemoryMib: 49152}},
		},
	}
	for _, tc := range ok {
		got, err := cli.ParseGPUGroups(tc.args)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}

	bad := []struct {
		name     string
		args     []string
		contains []string
	}{
		{"no flag", nil, []string{"--gpus", "at least one group", "COUNTxMODEL:MEMORY_MIB", "8xH100:81920"}},
		{"only separators", []string{" , ,"}, []string{"at least one group"}},
		{"missing x", []string{"8H100:81920"}, []string{`--gpus "8H100:81920"`, "missing 'x'", "want COUNTxMODEL:MEMORY_MIB"}},
		{"missing memory", []string{"8xH100"}, []string{`"8xH100"`, "missing ':'", "want COUNTxMODEL:MEMORY_MIB"}},
		{"count not a number", []string{"eightxH100:81920"}, []string{"count is not a whole number", "want COUNTxMODEL:MEMORY_MIB"}},
		{"negative count", []string{"-1xH100:81920"}, []string{"count is not a whole number"}},
		{"count above uint32", []string{"4294967296xH100:81920"}, []string{"count is not a whole number"}},
		{"memory not a number", []string{"8xH100:80GB"}, []string{"memory is not a whole number of MiB", "want COUNTxMODEL:MEMORY_MIB"}},
		{"empty memory", []string{"8xH100:"}, []string{"memory is not a whole number"}},
		{"bad part after a good one", []string{"8xH100:81920,2xL4"}, []string{`"2xL4"`, "missing ':'"}},
		{"bad repeated flag", []string{"8xH100:81920", "x:1"}, []string{`"x:1"`, "count is not a whole number"}},
	}
	for _, tc := range bad {
		got, err := cli.ParseGPUGroups(tc.args)
		require.Error(t, err, tc.name)
		require.Nil(t, got, tc.name)
		for _, s := range tc.contains {
			require.Contains(t, err.Error(), s, tc.name)
		}
	}
}

func TestParsePlacement(t *testing.T) {
	got, err := cli.ParsePlacement([]string{"gpu-a:8,gpu-b:4", "gpu-c:1"})
	require.NoError(t, err)
	require.Equal(t, []leasetypes.Placement{{NodeId: "gpu-a", Gpus: 8}, {NodeId: "gpu-b", Gpus: 4}, {NodeId: "gpu-c", Gpus: 1}}, got)
	for _, bad := range []string{"gpu-a", "gpu-a:0", "gpu-a:x", ":4", "gpu-a:-1"} {
		_, err := cli.ParsePlacement([]string{bad})
		require.ErrorContains(t, err, "want NODE_ID:GPUS", bad)
	}
	_, err = cli.ParsePlacement(nil)
	require.ErrorContains(t, err, "at least one")
}
