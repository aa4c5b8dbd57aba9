package types_test

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
)

var nroCodec = addresscodec.NewBech32Codec("nro")

func addr(t *testing.T, name string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	s, err := nroCodec.BytesToString(sum[:20])
	require.NoError(t, err)
	return s
}

func unro(n int64) sdk.Coin { return sdk.NewCoin("unro", math.NewInt(n)) }

// validNode is an ACTIVE 8-GPU node at the default minimum stake.
func validNode(t *testing.T, id string) types.Node {
	return types.Node{
		Id:               id,
		Operator:         addr(t, "operator"),
		Agent:            addr(t, "agent"),
		EthAddress:       "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
		Region:           "aws:us-east-1",
		Gpus:             []types.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920}},
		BandwidthMbps:    25_000,
		PricePerGpuHour:  unro(2_500_000),
		Stake:            unro(800_000_000),
		Status:           types.NODE_STATUS_ACTIVE,
		ReputationBps:    5_000,
		RegisteredHeight: 3,
	}
}

func TestGenesisValidate(t *testing.T) {
	require.NoError(t, types.DefaultGenesis().Validate(nroCodec))

	cases := []struct {
		name     string
		mutate   func(gs *types.GenesisState)
		err      error // nil: valid
		contains string
	}{
		{name: "three valid nodes", mutate: func(*types.GenesisState) {}},
		{
			name: "UNBONDING below the minimum is fine",
			mutate: func(gs *types.GenesisState) {
				gs.Nodes[1].Status, gs.Nodes[1].ReleaseHeight, gs.Nodes[1].Stake = types.NODE_STATUS_UNBONDING, 500, unro(1)
			},
		},
		{
			name: "JAILED below the minimum is fine",
			mutate: func(gs *types.GenesisState) {
				gs.Nodes[1].Status, gs.Nodes[1].Stake = types.NODE_STATUS_JAILED, unro(0)
			},
		},
		{
			name:   "every GPU reserved",
			mutate: func(gs *types.GenesisState) { gs.Nodes[0].Gpus[0].Reserved, gs.Nodes[0].ReservedGpus = 8, 8 },
		},
		{
			name:     "duplicate ids",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[2].Id = gs.Nodes[0].Id },
			err:      types.ErrInvalidGenesis,
			contains: `nodes[2]: duplicate node id "node-a"`,
		},
		{
			name:     "unsorted regions",
			mutate:   func(gs *types.GenesisState) { gs.Params.Regions = []string{"gcp:us-east1-b", "aws:us-east-1"} },
			err:      types.ErrInvalidParams,
			contains: "sorted",
		},
		{
			name:     "zero unbonding_blocks",
			mutate:   func(gs *types.GenesisState) { gs.Params.UnbondingBlocks = 0 },
			err:      types.ErrInvalidParams,
			contains: "unbonding_blocks",
		},
		{
			name:     "zero min stake",
			mutate:   func(gs *types.GenesisState) { gs.Params.MinStakePerGpu = unro(0) },
			err:      types.ErrInvalidParams,
			contains: "min_stake_per_gpu",
		},
		{
			name:     "node in an unknown region",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[1].Region = "aws:mars-1" },
			err:      types.ErrInvalidRegion,
			contains: `nodes[1]`,
		},
		{
			name:     "node in a region the params no longer list",
			mutate:   func(gs *types.GenesisState) { gs.Params.Regions = []string{"gcp:us-east1-b"} },
			err:      types.ErrInvalidRegion,
			contains: `region "aws:us-east-1"`,
		},
		{
			// Governance may raise min_stake_per_gpu after registration; such a node must still export
			// and import.
			name:   "ACTIVE node below a raised minimum stake is valid",
			mutate: func(gs *types.GenesisState) { gs.Nodes[2].Stake = unro(799_999_999) },
		},
		{
			name:     "UNBONDING without release height",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].Status = types.NODE_STATUS_UNBONDING },
			err:      types.ErrInvalidGenesis,
			contains: "node node-a: UNBONDING without a release_height",
		},
		{
			name: "UNBONDING with a negative release height",
			mutate: func(gs *types.GenesisState) {
				gs.Nodes[0].Status, gs.Nodes[0].ReleaseHeight = types.NODE_STATUS_UNBONDING, -1
			},
			err:      types.ErrInvalidGenesis,
			contains: "release_height",
		},
		{
			name:     "ACTIVE with release height",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[1].ReleaseHeight = 100 },
			err:      types.ErrInvalidGenesis,
			contains: "node node-b: release_height is set but status is NODE_STATUS_ACTIVE",
		},
		{
			name: "JAILED with release height",
			mutate: func(gs *types.GenesisState) {
				gs.Nodes[1].Status, gs.Nodes[1].ReleaseHeight = types.NODE_STATUS_JAILED, 100
			},
			err:      types.ErrInvalidGenesis,
			contains: "release_height",
		},
		{
			name:     "unspecified status",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].Status = types.NODE_STATUS_UNSPECIFIED },
			err:      types.ErrInvalidGenesis,
			contains: "want ACTIVE, UNBONDING or JAILED",
		},
		{
			name:     "reserved above total",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].Gpus[0].Reserved, gs.Nodes[0].ReservedGpus = 9, 9 },
			err:      types.ErrInvalidGPUs,
			contains: "has 9 reserved of 8",
		},
		{
			name:     "node reserved differs from its groups",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].ReservedGpus = 3 },
			err:      types.ErrInvalidGPUs,
			contains: "reserved_gpus 3 is not the sum 0",
		},
		{
			name:     "bad node id",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].Id = "Node-A" },
			err:      types.ErrInvalidNodeID,
			contains: "nodes[0]",
		},
		{
			name:     "bad operator",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].Operator = "cosmos1xyz" },
			err:      types.ErrInvalidAddress,
			contains: "operator",
		},
		{
			name:     "bad agent",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].Agent = "" },
			err:      types.ErrInvalidAddress,
			contains: "agent",
		},
		{
			name:     "non-checksummed eth address",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].EthAddress = "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb" },
			err:      types.ErrInvalidEthAddress,
			contains: "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
		},
		{
			name:     "bad gpus",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].Gpus = nil },
			err:      types.ErrInvalidGPUs,
			contains: "node node-a",
		},
		{
			name:     "bad bandwidth",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].BandwidthMbps = 0 },
			err:      types.ErrInvalidBandwidth,
			contains: "node node-a",
		},
		{
			name:     "price in another denom",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].PricePerGpuHour = sdk.NewCoin("uatom", math.NewInt(1)) },
			err:      types.ErrInvalidPrice,
			contains: "node node-a",
		},
		{
			name:     "stake in another denom",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].Stake = sdk.NewCoin("uatom", math.NewInt(800_000_000)) },
			err:      types.ErrInvalidStake,
			contains: "node node-a: stake 800000000uatom",
		},
		{
			name: "negative stake",
			mutate: func(gs *types.GenesisState) {
				gs.Nodes[1].Status, gs.Nodes[1].Stake = types.NODE_STATUS_JAILED, sdk.Coin{Denom: "unro", Amount: math.NewInt(-1)}
			},
			err:      types.ErrInvalidStake,
			contains: "node node-b",
		},
		{
			// The keeper stores canonical lower-case addresses and compares signers against them.
			name:     "operator not in canonical lower-case form",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].Operator = strings.ToUpper(gs.Nodes[0].Operator) },
			err:      types.ErrInvalidAddress,
			contains: "not in canonical form; write it as nro1",
		},
		{
			name:     "reputation above 10000",
			mutate:   func(gs *types.GenesisState) { gs.Nodes[0].ReputationBps = 10_001 },
			err:      types.ErrInvalidGenesis,
			contains: "reputation_bps 10001",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gs := types.GenesisState{
				Params: types.DefaultParams(),
				Nodes:  []types.Node{validNode(t, "node-a"), validNode(t, "node-b"), validNode(t, "node-c")},
			}
			tc.mutate(&gs)
			err := gs.Validate(nroCodec)
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
			require.Contains(t, err.Error(), tc.contains)
		})
	}
}
