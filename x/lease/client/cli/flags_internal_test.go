package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/types"
)

const testSubmitter = "nro1submitter"

func unro(n int64) sdk.Coin { return sdk.NewCoin("unro", math.NewInt(n)) }

func TestCreateLeaseMsgFromFlags(t *testing.T) {
	// The documented example, with the optional flags and regions given unsorted, repeated and duplicated.
	cmd := NewCreateLeaseCmd()
	require.NoError(t, cmd.ParseFlags([]string{
		"--gpus", "16", "--gpu-model", "H100",
		"--regions", "aws:us-west-2, aws:us-east-1", "--regions", "aws:us-east-1,",
		"--max-rtt-ms", "40", "--duration-blocks", "600",
		"--max-price", "3000000unro", "--deposit", "50000000000unro",
		"--min-gpu-memory-mib", "81920", "--max-gpus-per-node", "8", "--min-bandwidth-mbps", "25000",
	}))
	msg, err := createLeaseMsgFromFlags(cmd, testSubmitter)
	require.NoError(t, err)
	require.Equal(t, &types.MsgCreateLease{
		Submitter: testSubmitter,
		Spec: types.LeaseSpec{
			TotalGpus:          16,
			GpuModel:           "H100",
			MinGpuMemoryMib:    81920,
			MaxGpusPerNode:     8,
			Regions:            []string{"aws:us-east-1", "aws:us-west-2"},
			MinBandwidthMbps:   25000,
			MaxRttMs:           40,
			DurationBlocks:     600,
			MaxPricePerGpuHour: unro(3_000_000),
		},
		Deposit: unro(50_000_000_000),
	}, msg)
	require.NoError(t, msg.Spec.ValidateBasic())

	// Only the required flags: every optional limit is left open.
	cmd = NewCreateLeaseCmd()
	require.NoError(t, cmd.ParseFlags([]string{"--gpus", "1", "--duration-blocks", "10", "--max-price", "1unro", "--deposit", "5unro"}))
	msg, err = createLeaseMsgFromFlags(cmd, testSubmitter)
	require.NoError(t, err)
	require.Equal(t, types.LeaseSpec{TotalGpus: 1, DurationBlocks: 10, MaxPricePerGpuHour: unro(1)}, msg.Spec)

	for _, f := range []string{FlagGPUs, FlagDurationBlocks, FlagMaxPrice, FlagDeposit} {
		require.Equal(t, []string{"true"}, NewCreateLeaseCmd().Flags().Lookup(f).Annotations["cobra_annotation_bash_completion_one_required_flag"], f)
	}

	bad := []struct {
		name     string
		args     []string
		contains []string
	}{
		{"price without denom", []string{"--max-price", "3000000", "--deposit", "1unro"}, []string{"--max-price", `"3000000"`, "e.g. 3000000unro"}},
		{"deposit not a coin", []string{"--max-price", "1unro", "--deposit", "lots"}, []string{"--deposit", `"lots"`, "e.g. 50000000000unro"}},
	}
	for _, tc := range bad {
		cmd := NewCreateLeaseCmd()
		require.NoError(t, cmd.ParseFlags(append([]string{"--gpus", "1", "--duration-blocks", "1"}, tc.args...)), tc.name)
		_, err := createLeaseMsgFromFlags(cmd, testSubmitter)
		require.Error(t, err, tc.name)
		for _, s := range tc.contains {
			require.Contains(t, err.Error(), s, tc.name)
		}
	}
	// A negative GPU count is refused by the flag parser itself.
	require.Error(t, NewCreateLeaseCmd().ParseFlags([]string{"--gpus", "-1"}))
}

func TestNormalizeRegions(t *testing.T) {
	require.Nil(t, NormalizeRegions(nil))
	require.Nil(t, NormalizeRegions([]string{" ", ""}))
	require.Equal(t, []string{"a:1", "b:2"}, NormalizeRegions([]string{"b:2", " a:1", "b:2", "a:1 "}))
}
