package keeper_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/bech32"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

const minStake8 = 800_000_000 // default min_stake_per_gpu (100 NRO) × 8 GPUs, in unro

func coin(denom string, amount int64) sdk.Coin { return sdk.NewCoin(denom, math.NewInt(amount)) }

func unro(amount int64) sdk.Coin { return coin(types.DefaultDenom, amount) }

// wrongPrefix is the operator's address under another chain's prefix.
func wrongPrefix(t *testing.T, addr sdk.AccAddress) string {
	t.Helper()
	s, err := bech32.ConvertAndEncode("cosmos", addr)
	require.NoError(t, err)
	return s
}

func TestRegisterNodeRejected(t *testing.T) {
	longID := strings.Repeat("a", 64)
	tooManyGroups := make([]types.GpuGroup, types.MaxGPUGroups+1)
	for i := range tooManyGroups {
		tooManyGroups[i] = types.GpuGroup{Model: "H100", Count: 1, MemoryMib: uint64(81920 + i)}
	}

	cases := []struct {
		name     string
		mutate   func(f *keepertest.AllocationFixture, msg *types.MsgRegisterNode)
		err      error
		contains []string
	}{
		{
			name:     "operator is not bech32",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Operator = "not-an-address" },
			err:      types.ErrInvalidAddress,
			contains: []string{"operator", "not-an-address"},
		},
		{
			name: "operator has another chain's prefix",
			mutate: func(f *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.Operator = wrongPrefix(t, f.MustAccAddress(m.Operator))
			},
			err:      types.ErrInvalidAddress,
			contains: []string{"operator", "cosmos1"},
		},
		{
			name:     "agent is not bech32",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Agent = "agent?" },
			err:      types.ErrInvalidAddress,
			contains: []string{"agent", "agent?", "nro1"},
		},
		{
			name:     "agent is empty",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Agent = "" },
			err:      types.ErrInvalidAddress,
			contains: []string{"agent"},
		},
		{
			name:     "node id upper case",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.NodeId = "GPU-Node-1" },
			err:      types.ErrInvalidNodeID,
			contains: []string{"node_id", `"GPU-Node-1"`, "lower-case"},
		},
		{
			name:     "node id leading dash",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.NodeId = "-node" },
			err:      types.ErrInvalidNodeID,
			contains: []string{"node_id", `"-node"`},
		},
		{
			name:     "node id trailing dash",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.NodeId = "node-" },
			err:      types.ErrInvalidNodeID,
			contains: []string{"node_id", `"node-"`},
		},
		{
			name:     "node id too long",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.NodeId = longID },
			err:      types.ErrInvalidNodeID,
			contains: []string{"node_id", "1-63"},
		},
		{
			name:     "node id empty",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.NodeId = "" },
			err:      types.ErrInvalidNodeID,
			contains: []string{"node_id"},
		},
		{
			name:     "node id with underscore",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.NodeId = "gpu_node" },
			err:      types.ErrInvalidNodeID,
			contains: []string{"node_id", "gpu_node"},
		},
		{
			name:     "eth address too short",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.EthAddress = "0x1234" },
			err:      types.ErrInvalidEthAddress,
			contains: []string{"eth_address", "0x1234", "40 hex digits"},
		},
		{
			name: "eth address without 0x",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.EthAddress = strings.TrimPrefix(ethAddr1, "0x")
			},
			err:      types.ErrInvalidEthAddress,
			contains: []string{"eth_address", "0x"},
		},
		{
			name: "eth address not hex",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.EthAddress = "0x" + strings.Repeat("g", 40)
			},
			err:      types.ErrInvalidEthAddress,
			contains: []string{"eth_address", "hex"},
		},
		{
			name: "eth address all lower case",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.EthAddress = strings.ToLower(ethAddr1)
			},
			err:      types.ErrInvalidEthAddress,
			contains: []string{"eth_address", "EIP-55", ethAddr1},
		},
		{
			name: "eth address all upper case",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.EthAddress = "0x" + strings.ToUpper(ethAddr2[2:])
			},
			err:      types.ErrInvalidEthAddress,
			contains: []string{"eth_address", ethAddr2},
		},
		{
			name: "eth zero address",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.EthAddress = "0x" + strings.Repeat("0", 40)
			},
			err:      types.ErrInvalidEthAddress,
			contains: []string{"eth_address", "zero address"},
		},
		{
			name:     "unknown region",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Region = "aws:mars-1" },
			err:      types.ErrInvalidRegion,
			contains: []string{"region", `"aws:mars-1"`, "69 allowed", strings.Join(types.MeasuredRegions, ", ")},
		},
		{
			name:     "region in upper case",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Region = "AWS:US-EAST-1" },
			err:      types.ErrInvalidRegion,
			contains: []string{"region", "aws:us-east-1"},
		},
		{
			name:     "empty gpu groups",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Gpus = nil },
			err:      types.ErrInvalidGPUs,
			contains: []string{"gpus", "at least one group", "8xH100:81920"},
		},
		{
			name: "zero gpus in a group",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.Gpus = []types.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920}, {Model: "A100", Count: 0, MemoryMib: 40960}}
			},
			err:      types.ErrInvalidGPUs,
			contains: []string{"gpus[1].count"},
		},
		{
			name:     "lower-case gpu model",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Gpus[0].Model = "h100" },
			err:      types.ErrInvalidGPUs,
			contains: []string{"gpus[0].model", `"h100"`, "upper-case"},
		},
		{
			name:     "empty gpu model",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Gpus[0].Model = "" },
			err:      types.ErrInvalidGPUs,
			contains: []string{"gpus[0].model"},
		},
		{
			name: "duplicate group",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.Gpus = []types.GpuGroup{{Model: "H100", Count: 4, MemoryMib: 81920}, {Model: "H100", Count: 4, MemoryMib: 81920}}
			},
			err:      types.ErrInvalidGPUs,
			contains: []string{"gpus[1]", "H100", "listed twice"},
		},
		{
			name: "too many gpus",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.Gpus = []types.GpuGroup{{Model: "H100", Count: 600, MemoryMib: 81920}, {Model: "A100", Count: 425, MemoryMib: 81920}}
			},
			err:      types.ErrInvalidGPUs,
			contains: []string{"gpus", "1025 GPUs", "at most 1024"},
		},
		{
			name:     "too many groups",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Gpus = tooManyGroups },
			err:      types.ErrInvalidGPUs,
			contains: []string{"gpus", "17 groups", "at most 16"},
		},
		{
			name:     "memory below 1 GiB",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Gpus[0].MemoryMib = 1023 },
			err:      types.ErrInvalidGPUs,
			contains: []string{"gpus[0].memory_mib 1023", "1024..2097152"},
		},
		{
			name:     "memory above 2 TiB",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Gpus[0].MemoryMib = 1<<21 + 1 },
			err:      types.ErrInvalidGPUs,
			contains: []string{"gpus[0].memory_mib 2097153"},
		},
		{
			name:     "zero bandwidth",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.BandwidthMbps = 0 },
			err:      types.ErrInvalidBandwidth,
			contains: []string{"bandwidth_mbps 0", "1..10000000"},
		},
		{
			name: "bandwidth above 10 Tbit/s",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.BandwidthMbps = types.MaxBandwidthMbps + 1
			},
			err:      types.ErrInvalidBandwidth,
			contains: []string{"bandwidth_mbps 10000001"},
		},
		{
			name: "price in wrong denom",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.PricePerGpuHour = coin("uatom", 2_500_000)
			},
			err:      types.ErrInvalidPrice,
			contains: []string{"price_per_gpu_hour", `"uatom"`, "unro"},
		},
		{
			name:     "zero price",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.PricePerGpuHour = unro(0) },
			err:      types.ErrInvalidPrice,
			contains: []string{"price_per_gpu_hour", "positive"},
		},
		{
			name: "negative price",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.PricePerGpuHour = sdk.Coin{Denom: "unro", Amount: math.NewInt(-1)}
			},
			err:      types.ErrInvalidPrice,
			contains: []string{"price_per_gpu_hour", "negative"},
		},
		{
			name:     "price unset",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.PricePerGpuHour = sdk.Coin{} },
			err:      types.ErrInvalidPrice,
			contains: []string{"price_per_gpu_hour"},
		},
		{
			name:     "stake in wrong denom",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Stake = coin("uatom", minStake8) },
			err:      types.ErrInvalidStake,
			contains: []string{`stake denom "uatom"`, "stake is in unro"},
		},
		{
			name:     "zero stake",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Stake = unro(0) },
			err:      types.ErrInvalidStake,
			contains: []string{"stake must be positive"},
		},
		{
			name: "negative stake",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.Stake = sdk.Coin{Denom: "unro", Amount: math.NewInt(-minStake8)}
			},
			err:      types.ErrInvalidStake,
			contains: []string{"stake -800000000unro", "negative"},
		},
		{
			name:     "stake unset",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Stake = sdk.Coin{} },
			err:      types.ErrInvalidStake,
			contains: []string{"stake ", "denom"},
		},
		{
			name:     "stake one unro below the minimum",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Stake = unro(minStake8 - 1) },
			err:      types.ErrInsufficientStake,
			contains: []string{"stake 799999999unro", "minimum 800000000unro", "8 GPUs", "100000000unro per GPU"},
		},
		{
			name: "stake covers the first group only",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.Gpus = append(m.Gpus, types.GpuGroup{Model: "A100", Count: 2, MemoryMib: 40960})
			},
			err:      types.ErrInsufficientStake,
			contains: []string{"minimum 1000000000unro", "10 GPUs"},
		},
		{
			name: "operator without funds",
			mutate: func(f *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				_, poor := f.Addr("poor")
				m.Operator, m.Agent = poor, poor
			},
			err:      sdkerrors.ErrInsufficientFunds,
			contains: []string{"escrow stake 800000000unro"},
		},
		{
			name: "operator one unro short",
			mutate: func(f *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				short, shortStr := f.Addr("short")
				f.Fund(short, unro(minStake8-1))
				m.Operator, m.Agent = shortStr, shortStr
			},
			err:      sdkerrors.ErrInsufficientFunds,
			contains: []string{"escrow stake 800000000unro"},
		},
		{
			name:     "duplicate id",
			mutate:   func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.NodeId = "taken" },
			err:      types.ErrNodeExists,
			contains: []string{`"taken"`},
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := keepertest.NewAllocationFixture(t)
			op, opStr := f.Addr("operator")
			other, otherStr := f.Addr("other")
			f.Fund(op, unro(10*minStake8), coin("uatom", 10*minStake8))
			f.RegisterNode(f.ValidRegisterMsg(otherStr, "taken"))

			msg := f.ValidRegisterMsg(opStr, "gpu-node-1")
			tc.mutate(f, msg)
			f.ResetEvents()
			signers := []sdk.AccAddress{op, other}
			if bz, err := f.AddressCodec.StringToBytes(msg.Operator); err == nil {
				signers = append(signers, bz)
			}
			before := snapshot(t, f, signers...)

			res, err := f.MsgServer.RegisterNode(f.Ctx, msg)
			require.ErrorIs(t, err, tc.err)
			require.Nil(t, res)
			for _, s := range tc.contains {
				require.Contains(t, err.Error(), s)
			}
			requireUnchanged(t, f, before)
		})
	}
}

// TestRegisterNodeCheckOrder checks that the first failing check, in the order the README lists them,
// decides the error.
func TestRegisterNodeCheckOrder(t *testing.T) {
	f := keepertest.NewAllocationFixture(t)
	_, opStr := f.Addr("operator")
	f.RegisterNode(f.ValidRegisterMsg(opStr, "taken"))

	// Every field wrong; fixing them one by one in README order moves the error to the next check.
	msg := &types.MsgRegisterNode{
		Operator:        "bad-operator",
		Agent:           "bad-agent",
		NodeId:          "Bad_ID",
		EthAddress:      strings.ToLower(ethAddr1),
		Region:          "nowhere:1",
		Gpus:            nil,
		BandwidthMbps:   0,
		PricePerGpuHour: coin("uatom", 1),
		Stake:           coin("uatom", 1),
	}
	steps := []struct {
		err error
		fix func()
	}{
		{types.ErrInvalidAddress, func() { msg.Operator = opStr }},
		{types.ErrInvalidAddress, func() { msg.Agent = opStr }},
		{types.ErrInvalidNodeID, func() { msg.NodeId = "taken" }},
		{types.ErrInvalidEthAddress, func() { msg.EthAddress = ethAddr1 }},
		{types.ErrInvalidRegion, func() { msg.Region = "gcp:us-central1-a" }},
		{types.ErrInvalidGPUs, func() { msg.Gpus = []types.GpuGroup{{Model: "A10G", Count: 4, MemoryMib: 24576}} }},
		{types.ErrInvalidBandwidth, func() { msg.BandwidthMbps = 10_000 }},
		{types.ErrInvalidPrice, func() { msg.PricePerGpuHour = unro(1_000_000) }},
		{types.ErrInvalidStake, func() { msg.Stake = unro(1) }},
		{types.ErrInsufficientStake, func() { msg.Stake = unro(400_000_000) }},
		{types.ErrNodeExists, func() { msg.NodeId = "fresh" }},
		{sdkerrors.ErrInsufficientFunds, func() { f.Fund(f.MustAccAddress(opStr), unro(400_000_000)) }},
	}
	for i, s := range steps {
		_, err := f.MsgServer.RegisterNode(f.Ctx, msg)
		require.ErrorIs(t, err, s.err, "step %d: %v", i, err)
		if errors.Is(s.err, types.ErrInvalidAddress) {
			field := []string{"operator", "agent"}[i]
			require.Contains(t, err.Error(), field, "step %d", i)
		}
		s.fix()
	}
	_, err := f.MsgServer.RegisterNode(f.Ctx, msg)
	require.NoError(t, err)
	require.Equal(t, int64(400_000_000), f.Node("fresh").Stake.Amount.Int64())
	f.RequireInvariant()
}

func TestRegisterNodeAccepted(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(f *keepertest.AllocationFixture, m *types.MsgRegisterNode)
		gpus   uint32
	}{
		{name: "minimum stake", gpus: 8},
		{
			name:   "stake above the minimum",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.Stake = unro(3 * minStake8) },
			gpus:   8,
		},
		{
			name: "separate agent and eth payout address",
			mutate: func(f *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				_, agent := f.Addr("agent")
				m.Agent = agent
				m.EthAddress = ethAddr2
			},
			gpus: 8,
		},
		{
			name:   "63-character id",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.NodeId = strings.Repeat("n", 63) },
			gpus:   8,
		},
		{
			name:   "one-character id",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.NodeId = "7" },
			gpus:   8,
		},
		{
			name: "mixed groups, same model with different memory",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.Gpus = []types.GpuGroup{
					{Model: "A100", Count: 4, MemoryMib: 40960},
					{Model: "A100", Count: 4, MemoryMib: 81920},
					{Model: "L4", Count: 2, MemoryMib: 24576},
				}
				m.Stake = unro(10 * 100_000_000)
				m.Region = "gcp:us-central1-a"
			},
			gpus: 10,
		},
		{
			name: "bounds: 1024 GPUs, 1 GiB and 2 TiB, 1 and 10^7 Mbit/s",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) {
				m.Gpus = []types.GpuGroup{
					{Model: "X1", Count: 1000, MemoryMib: types.MinGPUMemoryMiB},
					{Model: "X2", Count: 24, MemoryMib: types.MaxGPUMemoryMiB},
				}
				m.Stake = unro(1024 * 100_000_000)
				m.BandwidthMbps = types.MaxBandwidthMbps
			},
			gpus: 1024,
		},
		{
			name:   "1 Mbit/s",
			mutate: func(_ *keepertest.AllocationFixture, m *types.MsgRegisterNode) { m.BandwidthMbps = 1 },
			gpus:   8,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := keepertest.NewAllocationFixture(t)
			op, opStr := f.Addr("operator")
			msg := f.ValidRegisterMsg(opStr, "gpu-node-1")
			if tc.mutate != nil {
				tc.mutate(f, msg)
			}
			const spare = 123_456
			f.Fund(op, msg.Stake, unro(spare))
			f.SetHeight(77)

			res, err := f.MsgServer.RegisterNode(f.Ctx, msg)
			require.NoError(t, err)
			require.NotNil(t, res)

			require.Equal(t, int64(spare), bal(f, op), "operator keeps only what was not staked")
			require.Equal(t, msg.Stake, f.ModuleBalance())
			want := types.Node{
				Id:               msg.NodeId,
				Operator:         opStr,
				Agent:            msg.Agent,
				EthAddress:       msg.EthAddress,
				Region:           msg.Region,
				Gpus:             msg.Gpus,
				BandwidthMbps:    msg.BandwidthMbps,
				PricePerGpuHour:  msg.PricePerGpuHour,
				Stake:            msg.Stake,
				Status:           types.NODE_STATUS_ACTIVE,
				ReservedGpus:     0,
				ReputationBps:    5000,
				RegisteredHeight: 77,
				ReleaseHeight:    0,
			}
			require.Equal(t, want, f.Node(msg.NodeId))
			require.Equal(t, tc.gpus, f.Node(msg.NodeId).TotalGPUs())
			requireEvents(t, f, &types.EventNodeRegistered{
				NodeId:          msg.NodeId,
				Operator:        opStr,
				Agent:           msg.Agent,
				Region:          msg.Region,
				GpuCount:        tc.gpus,
				Stake:           msg.Stake,
				PricePerGpuHour: msg.PricePerGpuHour,
			})
			ev := f.TypedEvents()[0].(*types.EventNodeRegistered)
			require.Equal(t, tc.gpus, ev.GpuCount)
			require.Equal(t, msg.Stake.String(), ev.Stake.String())
			f.RequireInvariant()

			// The stored groups are a copy: changing the message afterwards does not change the node.
			msg.Gpus[0].Count++
			require.NotEqual(t, msg.Gpus[0].Count, f.Node(msg.NodeId).Gpus[0].Count)
		})
	}
}

// nodeFixture is a fixture with one ACTIVE node "gpu-node-1" of operator "operator", who keeps some spare
// unro and uatom.
func nodeFixture(t *testing.T) (*keepertest.AllocationFixture, sdk.AccAddress, string, types.Node) {
	t.Helper()
	f := keepertest.NewAllocationFixture(t)
	op, opStr := f.Addr("operator")
	f.Fund(op, unro(5*minStake8), coin("uatom", 1_000_000))
	msg := f.ValidRegisterMsg(opStr, "gpu-node-1")
	msg.EthAddress = ethAddr1
	n := f.RegisterNode(msg)
	f.ResetEvents()
	f.RequireInvariant()
	return f, op, opStr, n
}

func ptrCoin(c sdk.Coin) *sdk.Coin { return &c }

func TestUpdateNodeRejected(t *testing.T) {
	cases := []struct {
		name     string
		setup    func(f *keepertest.AllocationFixture, n types.Node)
		msg      func(f *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode
		err      error
		contains []string
	}{
		{
			name: "not the operator",
			msg: func(f *keepertest.AllocationFixture, _ string) *types.MsgUpdateNode {
				_, intruder := f.Addr("intruder")
				return &types.MsgUpdateNode{Operator: intruder, NodeId: "gpu-node-1", BandwidthMbps: 1}
			},
			err:      types.ErrNotOperator,
			contains: []string{"gpu-node-1", "operated by"},
		},
		{
			name: "the agent is not the operator",
			setup: func(f *keepertest.AllocationFixture, n types.Node) {
				_, agent := f.Addr("agent")
				n.Agent = agent
				f.SetNode(n)
			},
			msg: func(f *keepertest.AllocationFixture, _ string) *types.MsgUpdateNode {
				_, agent := f.Addr("agent")
				return &types.MsgUpdateNode{Operator: agent, NodeId: "gpu-node-1", BandwidthMbps: 1}
			},
			err: types.ErrNotOperator,
		},
		{
			name: "bad signer address",
			msg: func(_ *keepertest.AllocationFixture, _ string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: "nro1garbage", NodeId: "gpu-node-1", BandwidthMbps: 1}
			},
			err:      types.ErrInvalidAddress,
			contains: []string{"operator", "nro1garbage"},
		},
		{
			name: "unknown node",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-2", BandwidthMbps: 1}
			},
			err:      types.ErrNodeNotFound,
			contains: []string{`"gpu-node-2"`},
		},
		{
			name: "bad node id",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "GPU-NODE-1", BandwidthMbps: 1}
			},
			err:      types.ErrInvalidNodeID,
			contains: []string{"node_id"},
		},
		{
			name: "changes nothing: no field set",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1"}
			},
			err:      types.ErrEmptyUpdate,
			contains: []string{"price_per_gpu_hour", "bandwidth_mbps", "agent", "eth_address"},
		},
		{
			name: "changes nothing: every field equal to the stored value",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{
					Operator: opStr, NodeId: "gpu-node-1", PricePerGpuHour: ptrCoin(unro(2_500_000)),
					BandwidthMbps: 25_000, Agent: opStr, EthAddress: ethAddr1,
				}
			},
			err: types.ErrEmptyUpdate,
		},
		{
			name: "changes nothing: clear an unset eth address",
			setup: func(f *keepertest.AllocationFixture, n types.Node) {
				n.EthAddress = ""
				f.SetNode(n)
			},
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", ClearEthAddress: true}
			},
			err: types.ErrEmptyUpdate,
		},
		{
			name: "price in wrong denom",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", PricePerGpuHour: ptrCoin(coin("uatom", 5))}
			},
			err:      types.ErrInvalidPrice,
			contains: []string{"price_per_gpu_hour", "uatom"},
		},
		{
			name: "zero price",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", PricePerGpuHour: ptrCoin(unro(0))}
			},
			err:      types.ErrInvalidPrice,
			contains: []string{"price_per_gpu_hour"},
		},
		{
			name: "bandwidth too high, with a valid price change",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{
					Operator: opStr, NodeId: "gpu-node-1", PricePerGpuHour: ptrCoin(unro(1)),
					BandwidthMbps: types.MaxBandwidthMbps + 1,
				}
			},
			err:      types.ErrInvalidBandwidth,
			contains: []string{"bandwidth_mbps"},
		},
		{
			name: "bad agent",
			msg: func(f *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{
					Operator: opStr, NodeId: "gpu-node-1", BandwidthMbps: 1,
					Agent: wrongPrefix(t, f.MustAccAddress(opStr)),
				}
			},
			err:      types.ErrInvalidAddress,
			contains: []string{"agent"},
		},
		{
			name: "non-checksummed eth address",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", EthAddress: strings.ToLower(ethAddr2)}
			},
			err:      types.ErrInvalidEthAddress,
			contains: []string{"eth_address", ethAddr2},
		},
		{
			name: "eth address and clear together",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", EthAddress: ethAddr2, ClearEthAddress: true}
			},
			err:      types.ErrInvalidEthAddress,
			contains: []string{"eth_address", "clear_eth_address"},
		},
		{
			name: "node is UNBONDING",
			setup: func(f *keepertest.AllocationFixture, n types.Node) {
				_, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: n.Operator, NodeId: n.Id})
				require.NoError(t, err)
			},
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", BandwidthMbps: 1}
			},
			err:      types.ErrNodeNotActive,
			contains: []string{"gpu-node-1", "UNBONDING"},
		},
		{
			name: "node is JAILED",
			setup: func(f *keepertest.AllocationFixture, n types.Node) {
				n.Status = types.NODE_STATUS_JAILED
				f.SetNode(n)
			},
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", BandwidthMbps: 1}
			},
			err:      types.ErrNodeNotActive,
			contains: []string{"JAILED"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, op, opStr, n := nodeFixture(t)
			if tc.setup != nil {
				tc.setup(f, n)
			}
			f.ResetEvents()
			before := snapshot(t, f, op)

			res, err := f.MsgServer.UpdateNode(f.Ctx, tc.msg(f, opStr))
			require.ErrorIs(t, err, tc.err)
			require.Nil(t, res)
			for _, s := range tc.contains {
				require.Contains(t, err.Error(), s)
			}
			requireUnchanged(t, f, before)
		})
	}
}

func TestUpdateNodeAccepted(t *testing.T) {
	cases := []struct {
		name    string
		msg     func(f *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode
		changed []string
		apply   func(f *keepertest.AllocationFixture, n *types.Node)
	}{
		{
			name: "price",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", PricePerGpuHour: ptrCoin(unro(2_400_000))}
			},
			changed: []string{"price_per_gpu_hour"},
			apply:   func(_ *keepertest.AllocationFixture, n *types.Node) { n.PricePerGpuHour = unro(2_400_000) },
		},
		{
			name: "bandwidth",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", BandwidthMbps: 100_000}
			},
			changed: []string{"bandwidth_mbps"},
			apply:   func(_ *keepertest.AllocationFixture, n *types.Node) { n.BandwidthMbps = 100_000 },
		},
		{
			name: "agent",
			msg: func(f *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				_, agent := f.Addr("new-agent")
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", Agent: agent}
			},
			changed: []string{"agent"},
			apply: func(f *keepertest.AllocationFixture, n *types.Node) {
				_, agent := f.Addr("new-agent")
				n.Agent = agent
			},
		},
		{
			name: "eth address",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", EthAddress: ethAddr2}
			},
			changed: []string{"eth_address"},
			apply:   func(_ *keepertest.AllocationFixture, n *types.Node) { n.EthAddress = ethAddr2 },
		},
		{
			name: "clear eth address",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{Operator: opStr, NodeId: "gpu-node-1", ClearEthAddress: true}
			},
			changed: []string{"eth_address"},
			apply:   func(_ *keepertest.AllocationFixture, n *types.Node) { n.EthAddress = "" },
		},
		{
			name: "only the fields that differ are reported",
			msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				return &types.MsgUpdateNode{
					Operator: opStr, NodeId: "gpu-node-1", PricePerGpuHour: ptrCoin(unro(2_500_000)),
					BandwidthMbps: 40_000, Agent: opStr, EthAddress: ethAddr1,
				}
			},
			changed: []string{"bandwidth_mbps"},
			apply:   func(_ *keepertest.AllocationFixture, n *types.Node) { n.BandwidthMbps = 40_000 },
		},
		{
			name: "all fields",
			msg: func(f *keepertest.AllocationFixture, opStr string) *types.MsgUpdateNode {
				_, agent := f.Addr("new-agent")
				return &types.MsgUpdateNode{
					Operator: opStr, NodeId: "gpu-node-1", PricePerGpuHour: ptrCoin(unro(9)),
					BandwidthMbps: 1, Agent: agent, EthAddress: ethAddr2,
				}
			},
			changed: []string{"price_per_gpu_hour", "bandwidth_mbps", "agent", "eth_address"},
			apply: func(f *keepertest.AllocationFixture, n *types.Node) {
				_, agent := f.Addr("new-agent")
				n.PricePerGpuHour, n.BandwidthMbps, n.Agent, n.EthAddress = unro(9), 1, agent, ethAddr2
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, op, opStr, n := nodeFixture(t)
			opBefore, moduleBefore := bal(f, op), f.ModuleBalance()
			f.NextBlock(3)

			res, err := f.MsgServer.UpdateNode(f.Ctx, tc.msg(f, opStr))
			require.NoError(t, err)
			require.NotNil(t, res)

			want := n
			tc.apply(f, &want)
			require.Equal(t, want, f.Node("gpu-node-1"))
			require.Equal(t, opBefore, bal(f, op), "an update moves no funds")
			require.Equal(t, moduleBefore, f.ModuleBalance())
			requireEvents(t, f, &types.EventNodeUpdated{NodeId: "gpu-node-1", Operator: opStr, Changed: tc.changed, Node: want})
			f.RequireInvariant()
		})
	}
}

func TestAddStake(t *testing.T) {
	t.Run("rejected", func(t *testing.T) {
		cases := []struct {
			name     string
			setup    func(f *keepertest.AllocationFixture, n types.Node)
			msg      func(f *keepertest.AllocationFixture, opStr string) *types.MsgAddStake
			err      error
			contains []string
		}{
			{
				name: "not the operator",
				msg: func(f *keepertest.AllocationFixture, _ string) *types.MsgAddStake {
					intruder, intruderStr := f.Addr("intruder")
					f.Fund(intruder, unro(1_000))
					return &types.MsgAddStake{Operator: intruderStr, NodeId: "gpu-node-1", Amount: unro(1_000)}
				},
				err:      types.ErrNotOperator,
				contains: []string{"gpu-node-1"},
			},
			{
				name: "unknown node",
				msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgAddStake {
					return &types.MsgAddStake{Operator: opStr, NodeId: "nope", Amount: unro(1)}
				},
				err:      types.ErrNodeNotFound,
				contains: []string{`"nope"`},
			},
			{
				name: "bad operator address",
				msg: func(_ *keepertest.AllocationFixture, _ string) *types.MsgAddStake {
					return &types.MsgAddStake{Operator: "", NodeId: "gpu-node-1", Amount: unro(1)}
				},
				err:      types.ErrInvalidAddress,
				contains: []string{"operator"},
			},
			{
				name: "wrong denom",
				msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgAddStake {
					return &types.MsgAddStake{Operator: opStr, NodeId: "gpu-node-1", Amount: coin("uatom", 1_000)}
				},
				err:      types.ErrInvalidStake,
				contains: []string{`amount denom "uatom"`, "stake is in unro"},
			},
			{
				name: "zero amount",
				msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgAddStake {
					return &types.MsgAddStake{Operator: opStr, NodeId: "gpu-node-1", Amount: unro(0)}
				},
				err:      types.ErrInvalidStake,
				contains: []string{"amount must be positive"},
			},
			{
				name: "more than the operator holds",
				msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgAddStake {
					return &types.MsgAddStake{Operator: opStr, NodeId: "gpu-node-1", Amount: unro(5*minStake8 + 1)}
				},
				err:      sdkerrors.ErrInsufficientFunds,
				contains: []string{"escrow stake"},
			},
			{
				name: "node is UNBONDING",
				setup: func(f *keepertest.AllocationFixture, n types.Node) {
					_, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: n.Operator, NodeId: n.Id})
					require.NoError(t, err)
				},
				msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgAddStake {
					return &types.MsgAddStake{Operator: opStr, NodeId: "gpu-node-1", Amount: unro(1_000)}
				},
				err:      types.ErrNodeNotActive,
				contains: []string{"gpu-node-1", "UNBONDING"},
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				f, op, opStr, n := nodeFixture(t)
				if tc.setup != nil {
					tc.setup(f, n)
				}
				msg := tc.msg(f, opStr)
				f.ResetEvents()
				accounts := []sdk.AccAddress{op}
				if bz, err := f.AddressCodec.StringToBytes(msg.Operator); err == nil {
					accounts = append(accounts, bz)
				}
				before := snapshot(t, f, accounts...)

				res, err := f.MsgServer.AddStake(f.Ctx, msg)
				require.ErrorIs(t, err, tc.err)
				require.Nil(t, res)
				for _, s := range tc.contains {
					require.Contains(t, err.Error(), s)
				}
				requireUnchanged(t, f, before)
			})
		}
	})

	for _, status := range []types.NodeStatus{types.NODE_STATUS_ACTIVE, types.NODE_STATUS_JAILED} {
		t.Run("accepted while "+status.String(), func(t *testing.T) {
			f, op, opStr, n := nodeFixture(t)
			n.Status = status
			f.SetNode(n)
			opBefore := bal(f, op)

			res, err := f.MsgServer.AddStake(f.Ctx, &types.MsgAddStake{Operator: opStr, NodeId: n.Id, Amount: unro(250)})
			require.NoError(t, err)
			require.Equal(t, unro(minStake8+250), res.TotalStake)
			require.Equal(t, opBefore-250, bal(f, op))
			require.Equal(t, unro(minStake8+250), f.ModuleBalance())
			n.Stake = unro(minStake8 + 250)
			require.Equal(t, n, f.Node(n.Id), "only the stake changes")
			requireEvents(t, f, &types.EventStakeAdded{NodeId: n.Id, Operator: opStr, Amount: unro(250), TotalStake: unro(minStake8 + 250)})
			f.RequireInvariant()

			// The whole remaining balance can be added, too.
			f.ResetEvents()
			rest := bal(f, op)
			res, err = f.MsgServer.AddStake(f.Ctx, &types.MsgAddStake{Operator: opStr, NodeId: n.Id, Amount: unro(rest)})
			require.NoError(t, err)
			require.Equal(t, unro(minStake8+250+rest), res.TotalStake)
			require.Zero(t, bal(f, op))
			f.RequireInvariant()
		})
	}
}

func TestDeregisterNode(t *testing.T) {
	t.Run("rejected", func(t *testing.T) {
		cases := []struct {
			name     string
			setup    func(f *keepertest.AllocationFixture, n types.Node)
			msg      func(f *keepertest.AllocationFixture, opStr string) *types.MsgDeregisterNode
			err      error
			contains []string
		}{
			{
				name: "not the operator",
				msg: func(f *keepertest.AllocationFixture, _ string) *types.MsgDeregisterNode {
					_, intruder := f.Addr("intruder")
					return &types.MsgDeregisterNode{Operator: intruder, NodeId: "gpu-node-1"}
				},
				err:      types.ErrNotOperator,
				contains: []string{"gpu-node-1"},
			},
			{
				name: "unknown node",
				msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgDeregisterNode {
					return &types.MsgDeregisterNode{Operator: opStr, NodeId: "gpu-node-9"}
				},
				err:      types.ErrNodeNotFound,
				contains: []string{"gpu-node-9"},
			},
			{
				name: "bad node id",
				msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgDeregisterNode {
					return &types.MsgDeregisterNode{Operator: opStr, NodeId: "-gpu"}
				},
				err:      types.ErrInvalidNodeID,
				contains: []string{"node_id"},
			},
			{
				name: "already UNBONDING",
				setup: func(f *keepertest.AllocationFixture, n types.Node) {
					_, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: n.Operator, NodeId: n.Id})
					require.NoError(t, err)
					f.NextBlock(5)
				},
				msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgDeregisterNode {
					return &types.MsgDeregisterNode{Operator: opStr, NodeId: "gpu-node-1"}
				},
				err:      types.ErrNodeNotActive,
				contains: []string{"already UNBONDING", "100810"},
			},
			{
				name: "GPUs reserved",
				setup: func(f *keepertest.AllocationFixture, n types.Node) {
					n.Gpus[0].Reserved, n.ReservedGpus = 3, 3
					f.SetNode(n)
				},
				msg: func(_ *keepertest.AllocationFixture, opStr string) *types.MsgDeregisterNode {
					return &types.MsgDeregisterNode{Operator: opStr, NodeId: "gpu-node-1"}
				},
				err:      types.ErrNodeHasReservations,
				contains: []string{"gpu-node-1", "3 GPUs reserved"},
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				f, op, opStr, n := nodeFixture(t)
				if tc.setup != nil {
					tc.setup(f, n)
				}
				f.ResetEvents()
				before := snapshot(t, f, op)

				res, err := f.MsgServer.DeregisterNode(f.Ctx, tc.msg(f, opStr))
				require.ErrorIs(t, err, tc.err)
				require.Nil(t, res)
				for _, s := range tc.contains {
					require.Contains(t, err.Error(), s)
				}
				requireUnchanged(t, f, before)
			})
		}
	})

	for _, status := range []types.NodeStatus{types.NODE_STATUS_ACTIVE, types.NODE_STATUS_JAILED} {
		t.Run("accepted while "+status.String(), func(t *testing.T) {
			f, op, opStr, n := nodeFixture(t)
			n.Status = status
			f.SetNode(n)
			opBefore := bal(f, op)
			f.SetHeight(1_000)

			res, err := f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: opStr, NodeId: n.Id})
			require.NoError(t, err)
			release := int64(1_000) + int64(types.DefaultUnbondingBlocks)
			require.Equal(t, release, res.ReleaseHeight)

			n.Status, n.ReleaseHeight = types.NODE_STATUS_UNBONDING, release
			require.Equal(t, n, f.Node(n.Id))
			has, err := f.Keeper.UnbondingQueue.Has(f.Ctx, collections.Join(release, n.Id))
			require.NoError(t, err)
			require.True(t, has)
			require.Equal(t, opBefore, bal(f, op), "the stake stays escrowed while unbonding")
			require.Equal(t, unro(minStake8), f.ModuleBalance())
			requireEvents(t, f, &types.EventNodeDeregistered{NodeId: n.Id, Operator: opStr, ReleaseHeight: release})
			f.RequireInvariant()
		})
	}
}

func TestUpdateParams(t *testing.T) {
	valid := types.DefaultParams()
	valid.UnbondingBlocks = 50
	valid.MaxReleasesPerBlock = 7
	valid.MinStakePerGpu = unro(1)
	valid.Regions = []string{"aws:us-east-1", "gcp:us-central1-a"}

	t.Run("rejected", func(t *testing.T) {
		cases := []struct {
			name      string
			authority func(f *keepertest.AllocationFixture) string
			params    func() types.Params
			err       error
			contains  []string
		}{
			{
				name:      "not the authority",
				authority: func(f *keepertest.AllocationFixture) string { _, s := f.Addr("operator"); return s },
				params:    func() types.Params { return valid },
				err:       types.ErrInvalidAuthority,
				contains:  []string{"gov module account"},
			},
			{
				name:      "empty authority",
				authority: func(*keepertest.AllocationFixture) string { return "" },
				params:    func() types.Params { return valid },
				err:       types.ErrInvalidAuthority,
			},
			{
				name:   "zero unbonding_blocks",
				params: func() types.Params { p := valid; p.UnbondingBlocks = 0; return p },
				err:    types.ErrInvalidParams, contains: []string{"unbonding_blocks"},
			},
			{
				name:   "zero max_releases_per_block",
				params: func() types.Params { p := valid; p.MaxReleasesPerBlock = 0; return p },
				err:    types.ErrInvalidParams, contains: []string{"max_releases_per_block"},
			},
			{
				name:   "zero min stake",
				params: func() types.Params { p := valid; p.MinStakePerGpu = unro(0); return p },
				err:    types.ErrInvalidParams, contains: []string{"min_stake_per_gpu"},
			},
			{
				name:   "unsorted regions",
				params: func() types.Params { p := valid; p.Regions = []string{"gcp:us-central1-a", "aws:us-east-1"}; return p },
				err:    types.ErrInvalidParams, contains: []string{"regions", "sorted"},
			},
			{
				name:   "no regions",
				params: func() types.Params { p := valid; p.Regions = nil; return p },
				err:    types.ErrInvalidParams, contains: []string{"regions"},
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				f, op, _, _ := nodeFixture(t)
				authority := f.Authority
				if tc.authority != nil {
					authority = tc.authority(f)
				}
				before := snapshot(t, f, op)
				res, err := f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: authority, Params: tc.params()})
				require.ErrorIs(t, err, tc.err)
				require.Nil(t, res)
				for _, s := range tc.contains {
					require.Contains(t, err.Error(), s)
				}
				requireUnchanged(t, f, before)
			})
		}
	})

	t.Run("accepted", func(t *testing.T) {
		f := keepertest.NewAllocationFixture(t)
		res, err := f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: valid})
		require.NoError(t, err)
		require.NotNil(t, res)
		require.Equal(t, valid, f.Params())
		requireEvents(t, f, &types.EventParamsUpdated{Authority: f.Authority, Params: valid})
		f.RequireInvariant()

		// The new params apply to the next message: 1 unro per GPU is now enough, and the old default
		// region is gone.
		op, opStr := f.Addr("operator")
		msg := f.ValidRegisterMsg(opStr, "cheap")
		msg.Stake = unro(8)
		f.Fund(op, msg.Stake)
		_, err = f.MsgServer.RegisterNode(f.Ctx, msg)
		require.NoError(t, err)
		msg2 := f.ValidRegisterMsg(opStr, "elsewhere")
		msg2.Region = "aws:eu-west-1"
		_, err = f.MsgServer.RegisterNode(f.Ctx, msg2)
		require.ErrorIs(t, err, types.ErrInvalidRegion)
		require.Contains(t, err.Error(), "aws:us-east-1, gcp:us-central1-a")
		f.RequireInvariant()
	})
}

// TestAddressCase checks that an account is the same account whatever the case of its bech32 form (a
// signature covers the address bytes, not the string): addresses are stored in canonical lower case and
// compared as such.
func TestAddressCase(t *testing.T) {
	f := keepertest.NewAllocationFixture(t)
	op, opStr := f.Addr("operator")
	_, agentStr := f.Addr("agent")
	msg := f.ValidRegisterMsg(strings.ToUpper(opStr), "gpu-node-1")
	msg.Agent = strings.ToUpper(agentStr)
	f.Fund(op, msg.Stake, unro(1_000))

	_, err := f.MsgServer.RegisterNode(f.Ctx, msg)
	require.NoError(t, err)
	n := f.Node("gpu-node-1")
	require.Equal(t, opStr, n.Operator)
	require.Equal(t, agentStr, n.Agent)
	require.Equal(t, opStr, f.TypedEvents()[0].(*types.EventNodeRegistered).Operator)

	// The same agent in another case changes nothing.
	_, err = f.MsgServer.UpdateNode(f.Ctx, &types.MsgUpdateNode{Operator: opStr, NodeId: n.Id, Agent: agentStr})
	require.ErrorIs(t, err, types.ErrEmptyUpdate)
	// The operator may sign with either case.
	_, err = f.MsgServer.UpdateNode(f.Ctx, &types.MsgUpdateNode{Operator: strings.ToUpper(opStr), NodeId: n.Id, BandwidthMbps: 1})
	require.NoError(t, err)
	_, err = f.MsgServer.AddStake(f.Ctx, &types.MsgAddStake{Operator: opStr, NodeId: n.Id, Amount: unro(1_000)})
	require.NoError(t, err)
	f.RequireInvariant()

	for _, q := range []string{opStr, strings.ToUpper(opStr)} {
		res, err := f.QueryServer.Nodes(f.Ctx, &types.QueryNodesRequest{Operator: q})
		require.NoError(t, err)
		require.Len(t, res.Nodes, 1, q)
		byOp, err := f.QueryServer.NodesByOperator(f.Ctx, &types.QueryNodesByOperatorRequest{Operator: q})
		require.NoError(t, err)
		require.Len(t, byOp.Nodes, 1, q)
	}

	_, err = f.MsgServer.DeregisterNode(f.Ctx, &types.MsgDeregisterNode{Operator: strings.ToUpper(opStr), NodeId: n.Id})
	require.NoError(t, err)
	f.SetHeight(f.Node(n.Id).ReleaseHeight)
	require.NoError(t, f.EndBlock())
	require.Equal(t, int64(minStake8+1_000), bal(f, op))
	f.RequireInvariant()
}

// TestUpdateParamsProtectsRegisteredNodes: governance cannot change params in a way registered nodes would
// violate (stake denom, occupied regions), and a raised minimum stake keeps existing nodes exportable.
func TestUpdateParamsProtectsRegisteredNodes(t *testing.T) {
	f, op, _, n := nodeFixture(t)

	newDenom := types.DefaultParams()
	newDenom.MinStakePerGpu = coin("uatom", 1)
	newDenom.MinProposerBond = coin("uatom", 1)
	dropRegion := types.DefaultParams()
	dropRegion.Regions = slices.DeleteFunc(slices.Clone(dropRegion.Regions), func(r string) bool { return r == n.Region })
	for _, tc := range []struct {
		name     string
		params   types.Params
		contains string
	}{
		{"stake denom change while nodes hold stake", newDenom, "the stake denom cannot change while nodes are registered"},
		{"dropping a region that has nodes", dropRegion, `"aws:us-east-1" still has registered nodes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, f, op)
			_, err := f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: tc.params})
			require.ErrorIs(t, err, types.ErrInvalidParams)
			require.Contains(t, err.Error(), tc.contains)
			requireUnchanged(t, f, before)
		})
	}

	// Dropping an empty region is fine.
	emptyDropped := types.DefaultParams()
	emptyDropped.Regions = slices.DeleteFunc(slices.Clone(emptyDropped.Regions), func(r string) bool { return r == "gcp:us-west1-a" })
	_, err := f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: emptyDropped})
	require.NoError(t, err)

	// Raising the minimum stake: the existing node stays valid and round-trips through genesis.
	raised := emptyDropped
	raised.MinStakePerGpu = unro(10 * 100_000_000)
	_, err = f.MsgServer.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: raised})
	require.NoError(t, err)
	exported, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.NoError(t, exported.Validate(f.AddressCodec))
	dst := keepertest.NewAllocationFixtureWithoutParams(t)
	dst.FundModule(f.ModuleBalance())
	require.NoError(t, dst.Keeper.InitGenesis(dst.Ctx, *exported))
	require.Equal(t, n, dst.Node(n.Id))
	dst.RequireInvariant()
}
