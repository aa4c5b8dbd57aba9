package types_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/types"
)

var prefixOnce sync.Once

// addr returns a valid nro1... address (setting the SDK's global prefix once, as the app does).
func addr(t *testing.T, b byte) string {
	t.Helper()
	prefixOnce.Do(func() {
		cfg := sdk.GetConfig()
		if cfg.GetBech32AccountAddrPrefix() != "nro" {
			cfg.SetBech32PrefixForAccount("nro", "nropub")
		}
	})
	return sdk.AccAddress(strings.Repeat(string([]byte{b}), 20)).String()
}

func coin(amount int64) sdk.Coin { return sdk.NewCoin("unro", math.NewInt(amount)) }

func validSpec() types.LeaseSpec {
	return types.LeaseSpec{
		TotalGpus:          16,
		GpuModel:           "H100",
		MaxGpusPerNode:     8,
		Regions:            []string{"aws:us-east-1", "aws:us-west-2"},
		MaxRttMs:           40,
		DurationBlocks:     600,
		MaxPricePerGpuHour: coin(3_000_000),
	}
}

func TestSpecValidateBasic(t *testing.T) {
	cases := []struct {
		name     string
		mutate   func(s *types.LeaseSpec)
		err      error
		contains string
	}{
		{"valid", func(*types.LeaseSpec) {}, nil, ""},
		{"any model, any region, no cap", func(s *types.LeaseSpec) { s.GpuModel = ""; s.Regions = nil; s.MaxGpusPerNode = 0 }, nil, ""},
		{"model with dash and digits", func(s *types.LeaseSpec) { s.GpuModel = "RTX-6000" }, nil, ""},
		{"zero GPUs", func(s *types.LeaseSpec) { s.TotalGpus = 0; s.MaxGpusPerNode = 0 }, types.ErrInvalidSpec, "total_gpus"},
		{"lower-case model", func(s *types.LeaseSpec) { s.GpuModel = "a100" }, types.ErrInvalidSpec, `gpu_model "a100"`},
		{"model starting with a dash", func(s *types.LeaseSpec) { s.GpuModel = "-H100" }, types.ErrInvalidSpec, "gpu_model"},
		{"model too long", func(s *types.LeaseSpec) { s.GpuModel = strings.Repeat("A", 33) }, types.ErrInvalidSpec, "gpu_model"},
		{"cap above total", func(s *types.LeaseSpec) { s.MaxGpusPerNode = 17 }, types.ErrInvalidSpec, "max_gpus_per_node 17"},
		{"unsorted regions", func(s *types.LeaseSpec) { s.Regions = []string{"b:x", "a:x"} }, types.ErrInvalidSpec, "sorted and unique"},
		{"duplicate regions", func(s *types.LeaseSpec) { s.Regions = []string{"a:x", "a:x"} }, types.ErrInvalidSpec, "sorted and unique"},
		{"region too long", func(s *types.LeaseSpec) { s.Regions = []string{strings.Repeat("a", 65)} }, types.ErrInvalidSpec, "1-64 characters"},
		{
			"too many regions",
			func(s *types.LeaseSpec) {
				s.Regions = nil
				for i := range types.MaxSpecRegions + 1 {
					s.Regions = append(s.Regions, "r:"+strings.Repeat("a", 1+i/26)+string(rune('a'+i%26)))
				}
			},
			types.ErrInvalidSpec, "129 regions, at most 128",
		},
		{"zero duration", func(s *types.LeaseSpec) { s.DurationBlocks = 0 }, types.ErrInvalidSpec, "duration_blocks"},
		{"zero price", func(s *types.LeaseSpec) { s.MaxPricePerGpuHour = coin(0) }, types.ErrInvalidPrice, "must be positive"},
		{"negative price", func(s *types.LeaseSpec) { s.MaxPricePerGpuHour = sdk.Coin{Denom: "unro", Amount: math.NewInt(-1)} }, types.ErrInvalidPrice, "max_price_per_gpu_hour"},
		{"bad price denom", func(s *types.LeaseSpec) { s.MaxPricePerGpuHour = sdk.Coin{Denom: "1x", Amount: math.NewInt(1)} }, types.ErrInvalidPrice, "max_price_per_gpu_hour"},
	}
	for _, tc := range cases {
		s := validSpec()
		tc.mutate(&s)
		err := s.ValidateBasic()
		if tc.err == nil {
			require.NoError(t, err, tc.name)
			continue
		}
		require.ErrorIs(t, err, tc.err, tc.name)
		require.ErrorContains(t, err, tc.contains, tc.name)
	}
}

func TestMsgsValidateBasic(t *testing.T) {
	a := addr(t, 1)
	cases := []struct {
		name     string
		msg      sdk.HasValidateBasic
		err      error
		contains string
	}{
		{"create", &types.MsgCreateLease{Submitter: a, Spec: validSpec(), Deposit: coin(1)}, nil, ""},
		{"create without deposit", &types.MsgCreateLease{Submitter: a, Spec: validSpec()}, types.ErrInvalidDeposit, "deposit"},
		{"create with a bad spec", &types.MsgCreateLease{Submitter: a, Deposit: coin(1)}, types.ErrInvalidSpec, "total_gpus"},
		{"create without submitter", &types.MsgCreateLease{Spec: validSpec(), Deposit: coin(1)}, types.ErrInvalidAddress, "submitter"},
		{"cancel", &types.MsgCancelLease{Submitter: a, LeaseId: 1}, nil, ""},
		{"cancel lease 0", &types.MsgCancelLease{Submitter: a}, types.ErrInvalidLeaseID, "lease_id must be set"},
		{"cancel by nobody", &types.MsgCancelLease{LeaseId: 1}, types.ErrInvalidAddress, "submitter"},
		{"top up", &types.MsgTopUpLease{Sender: a, LeaseId: 1, Amount: coin(5)}, nil, ""},
		{"top up nothing", &types.MsgTopUpLease{Sender: a, LeaseId: 1, Amount: coin(0)}, types.ErrInvalidAmount, "amount must be positive"},
		{"top up lease 0", &types.MsgTopUpLease{Sender: a, Amount: coin(5)}, types.ErrInvalidLeaseID, "lease_id"},
		{"top up by nobody", &types.MsgTopUpLease{LeaseId: 1, Amount: coin(5)}, types.ErrInvalidAddress, "sender"},
		{"close", &types.MsgCloseLease{Submitter: a, LeaseId: 3}, nil, ""},
		{"close lease 0", &types.MsgCloseLease{Submitter: a}, types.ErrInvalidLeaseID, "lease_id"},
		{"update params", &types.MsgUpdateParams{Authority: a, Params: types.DefaultParams()}, nil, ""},
		{"update params with bad params", &types.MsgUpdateParams{Authority: a}, types.ErrInvalidParams, "blocks_per_hour 0"},
		{"update params without authority", &types.MsgUpdateParams{Params: types.DefaultParams()}, types.ErrInvalidAuthority, "authority"},
	}
	for _, tc := range cases {
		err := tc.msg.ValidateBasic()
		if tc.err == nil {
			require.NoError(t, err, tc.name)
			continue
		}
		require.ErrorIs(t, err, tc.err, tc.name)
		require.ErrorContains(t, err, tc.contains, tc.name)
	}
}
