package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
)

const (
	testOperator = "nro1operator"
	testAgent    = "nro1agent"
)

func TestRegisterNodeMsgFromFlags(t *testing.T) {
	base := []string{
		"--region", "aws:us-east-1",
		"--gpus", "8xH100:81920",
		"--gpus", "2xL4:24576,1xA10G:24576",
		"--bandwidth-mbps", "25000",
		"--price", "2500000unro",
		"--stake", "1200000000unro",
	}

	cmd := NewRegisterNodeCmd()
	require.NoError(t, cmd.ParseFlags(base))
	msg, err := registerNodeMsgFromFlags(cmd, testOperator, "gpu-node-1")
	require.NoError(t, err)
	require.Equal(t, &types.MsgRegisterNode{
		Operator: testOperator,
		NodeId:   "gpu-node-1",
		Agent:    testOperator, // defaults to the operator
		Region:   "aws:us-east-1",
		Gpus: []types.GpuGroup{
			{Model: "H100", Count: 8, MemoryMib: 81920},
			{Model: "L4", Count: 2, MemoryMib: 24576},
			{Model: "A10G", Count: 1, MemoryMib: 24576},
		},
		BandwidthMbps:   25_000,
		PricePerGpuHour: sdk.NewCoin("unro", math.NewInt(2_500_000)),
		Stake:           sdk.NewCoin("unro", math.NewInt(1_200_000_000)),
	}, msg)

	cmd = NewRegisterNodeCmd()
	require.NoError(t, cmd.ParseFlags(append(base, "--agent", testAgent, "--eth-address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")))
	msg, err = registerNodeMsgFromFlags(cmd, testOperator, "gpu-node-1")
	require.NoError(t, err)
	require.Equal(t, testAgent, msg.Agent)
	require.Equal(t, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", msg.EthAddress)

	bad := []struct {
		name     string
		override []string
		contains []string
	}{
		{"price without denom", []string{"--price", "2500000"}, []string{"--price", `"2500000"`, "e.g. 2500000unro"}},
		{"stake without amount", []string{"--stake", "unro"}, []string{"--stake", "e.g. 800000000unro"}},
		{"malformed gpus", []string{"--gpus", "8xH100"}, []string{"--gpus", "COUNTxMODEL:MEMORY_MIB"}},
	}
	for _, tc := range bad {
		cmd := NewRegisterNodeCmd()
		require.NoError(t, cmd.ParseFlags(append(append([]string{}, base...), tc.override...)), tc.name)
		_, err := registerNodeMsgFromFlags(cmd, testOperator, "gpu-node-1")
		require.Error(t, err, tc.name)
		for _, s := range tc.contains {
			require.Contains(t, err.Error(), s, tc.name)
		}
	}
}

func TestRegisterNodeCmdFlags(t *testing.T) {
	cmd := NewRegisterNodeCmd()
	for _, name := range []string{FlagRegion, FlagGPUs, FlagBandwidthMbps, FlagPrice, FlagStake} {
		f := cmd.Flags().Lookup(name)
		require.NotNil(t, f, name)
		require.Equal(t, []string{"true"}, f.Annotations["cobra_annotation_bash_completion_one_required_flag"], "%s is required", name)
	}
	for _, name := range []string{FlagAgent, FlagEthAddress} {
		f := cmd.Flags().Lookup(name)
		require.NotNil(t, f, name)
		require.Empty(t, f.Annotations, "%s is optional", name)
	}
	require.Error(t, cmd.Args(cmd, nil), "NODE_ID is required")
	require.NoError(t, cmd.Args(cmd, []string{"gpu-node-1"}))

	tx := NewTxCmd()
	sub, _, err := tx.Find([]string{"register-node"})
	require.NoError(t, err)
	require.Equal(t, "register-node NODE_ID", sub.Use)
}
