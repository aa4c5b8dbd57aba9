package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

func TestMsgRegisterNodeValidateBasic(t *testing.T) {
	keepertest.SetBech32Prefixes() // ValidateBasic reads the global bech32 config

	valid := func() *types.MsgRegisterNode {
		return &types.MsgRegisterNode{
			Operator:        addr(t, "operator"),
			NodeId:          "gpu-node-1",
			Agent:           addr(t, "agent"),
			Region:          "aws:us-east-1",
			Gpus:            []types.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920}},
			BandwidthMbps:   25_000,
			PricePerGpuHour: unro(2_500_000),
			Stake:           unro(800_000_000),
		}
	}
	require.NoError(t, valid().ValidateBasic())

	cases := []struct {
		name     string
		mutate   func(m *types.MsgRegisterNode)
		err      error
		contains string
	}{
		{"bad operator", func(m *types.MsgRegisterNode) { m.Operator = "nro1bad" }, types.ErrInvalidAddress, "operator"},
		{"bad agent", func(m *types.MsgRegisterNode) { m.Agent = "" }, types.ErrInvalidAddress, "agent"},
		{"bad node id", func(m *types.MsgRegisterNode) { m.NodeId = "Node" }, types.ErrInvalidNodeID, "node_id"},
		{"bad eth address", func(m *types.MsgRegisterNode) { m.EthAddress = "0xabc" }, types.ErrInvalidEthAddress, "eth_address"},
		{"no gpus", func(m *types.MsgRegisterNode) { m.Gpus = nil }, types.ErrInvalidGPUs, "gpus"},
		{"zero bandwidth", func(m *types.MsgRegisterNode) { m.BandwidthMbps = 0 }, types.ErrInvalidBandwidth, "bandwidth_mbps"},
	}
	for _, tc := range cases {
		m := valid()
		tc.mutate(m)
		err := m.ValidateBasic()
		require.ErrorIs(t, err, tc.err, tc.name)
		require.Contains(t, err.Error(), tc.contains, tc.name)
	}

	// Checks that need params are left to the keeper.
	m := valid()
	m.Region, m.Stake = "aws:mars-1", unro(1)
	require.NoError(t, m.ValidateBasic())
}

func TestMsgDeregisterNodeValidateBasic(t *testing.T) {
	keepertest.SetBech32Prefixes()
	require.NoError(t, (&types.MsgDeregisterNode{Operator: addr(t, "operator"), NodeId: "gpu-node-1"}).ValidateBasic())
	require.ErrorIs(t, (&types.MsgDeregisterNode{Operator: "x", NodeId: "gpu-node-1"}).ValidateBasic(), types.ErrInvalidAddress)
	require.ErrorIs(t, (&types.MsgDeregisterNode{Operator: addr(t, "operator"), NodeId: "-x"}).ValidateBasic(), types.ErrInvalidNodeID)
}
