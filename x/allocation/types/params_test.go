package types_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
)

func TestMeasuredRegions(t *testing.T) {
	require.Len(t, types.MeasuredRegions, 69)
	require.True(t, slices.IsSorted(types.MeasuredRegions))
	require.Equal(t, len(types.MeasuredRegions), len(slices.Compact(slices.Clone(types.MeasuredRegions))), "unique")
	for _, r := range []string{"aws:us-east-1", "azure:westeurope", "gcp:us-central1-a"} {
		require.Contains(t, types.MeasuredRegions, r)
	}
	require.NotContains(t, types.MeasuredRegions, "gcp:us-central1", "GCP regions are zones in the grid")

	p := types.DefaultParams()
	require.Equal(t, types.MeasuredRegions, p.Regions)
	p.Regions[0] = "changed"
	require.NotEqual(t, "changed", types.MeasuredRegions[0], "DefaultParams copies the list")
}

// TestMeasuredRegionsMatchLatencyGrid checks that regions_gen.go is up to date with the data it is
// generated from (make gen-regions).
func TestMeasuredRegionsMatchLatencyGrid(t *testing.T) {
	data, err := os.ReadFile("../../../data/skyplane-latency-grid/latency.csv")
	require.NoError(t, err)
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	require.NoError(t, err)
	src, dst := slices.Index(header, "src_region"), slices.Index(header, "dst_region")
	require.True(t, src >= 0 && dst >= 0, "columns %v", header)
	seen := map[string]bool{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		seen[rec[src]], seen[rec[dst]] = true, true
	}
	want := make([]string, 0, len(seen))
	for k := range seen {
		want = append(want, k)
	}
	slices.Sort(want)
	require.Equal(t, want, types.MeasuredRegions)
}

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	require.Equal(t, "unro", types.DefaultParams().Denom())
	require.Equal(t, sdk.NewCoin("unro", math.NewInt(800_000_000)), types.DefaultParams().MinStake(8))
	require.Equal(t, sdk.NewCoin("unro", math.NewInt(0)), types.DefaultParams().MinStake(0))

	cases := []struct {
		name     string
		mutate   func(p *types.Params)
		contains string // empty: valid
	}{
		{name: "default", mutate: func(*types.Params) {}},
		{name: "one region", mutate: func(p *types.Params) { p.Regions = []string{"aws:us-east-1"} }},
		{name: "other denom", mutate: func(p *types.Params) {
			p.MinStakePerGpu = sdk.NewCoin("stake", math.NewInt(1))
			p.MinProposerBond = sdk.NewCoin("stake", math.NewInt(1))
		}},
		{
			name:     "proposer bond in another denom",
			mutate:   func(p *types.Params) { p.MinProposerBond = sdk.NewCoin("stake", math.NewInt(1)) },
			contains: "min_proposer_bond denom",
		},
		{
			name:     "zero proposal window",
			mutate:   func(p *types.Params) { p.ProposalWindowBlocks = 0 },
			contains: "proposal_window_blocks must be at least 1",
		},
		{
			name:     "too many proposals",
			mutate:   func(p *types.Params) { p.MaxProposalsPerLease = 65 },
			contains: "max_proposals_per_lease 65",
		},
		{
			name:     "zero allocations per block",
			mutate:   func(p *types.Params) { p.MaxAllocationsPerBlock = 0 },
			contains: "max_allocations_per_block must be at least 1",
		},
		{name: "one block", mutate: func(p *types.Params) { p.UnbondingBlocks, p.MaxReleasesPerBlock = 1, 1 }},
		{
			name:     "zero min stake",
			mutate:   func(p *types.Params) { p.MinStakePerGpu = sdk.NewCoin("unro", math.ZeroInt()) },
			contains: "min_stake_per_gpu must be positive",
		},
		{
			name:     "negative min stake",
			mutate:   func(p *types.Params) { p.MinStakePerGpu = sdk.Coin{Denom: "unro", Amount: math.NewInt(-1)} },
			contains: "min_stake_per_gpu",
		},
		{
			name:     "bad min stake denom",
			mutate:   func(p *types.Params) { p.MinStakePerGpu = sdk.Coin{Denom: "1x", Amount: math.NewInt(1)} },
			contains: "min_stake_per_gpu",
		},
		{
			name:     "min stake unset",
			mutate:   func(p *types.Params) { p.MinStakePerGpu = sdk.Coin{} },
			contains: "min_stake_per_gpu",
		},
		{name: "zero unbonding_blocks", mutate: func(p *types.Params) { p.UnbondingBlocks = 0 }, contains: "unbonding_blocks"},
		{name: "zero max_releases_per_block", mutate: func(p *types.Params) { p.MaxReleasesPerBlock = 0 }, contains: "max_releases_per_block"},
		{name: "no regions", mutate: func(p *types.Params) { p.Regions = nil }, contains: "regions"},
		{
			name:     "unsorted regions",
			mutate:   func(p *types.Params) { p.Regions = []string{"gcp:us-east1-b", "aws:us-east-1"} },
			contains: `regions must be sorted and unique; "aws:us-east-1" comes after "gcp:us-east1-b"`,
		},
		{
			name:     "duplicate region",
			mutate:   func(p *types.Params) { p.Regions = []string{"aws:us-east-1", "aws:us-east-1"} },
			contains: "sorted and unique",
		},
		{
			name:     "upper-case region",
			mutate:   func(p *types.Params) { p.Regions = []string{"AWS:us-east-1"} },
			contains: `regions[0] "AWS:us-east-1"`,
		},
		{
			name:     "region without cloud",
			mutate:   func(p *types.Params) { p.Regions = []string{"aws:us-east-1", "us-east-2"} },
			contains: `regions[1] "us-east-2": want cloud:region`,
		},
		{
			name:     "region ending in a dash",
			mutate:   func(p *types.Params) { p.Regions = []string{"aws:us-east-"} },
			contains: "regions[0]",
		},
		{
			name:     "empty region",
			mutate:   func(p *types.Params) { p.Regions = []string{""} },
			contains: "regions[0]",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := types.DefaultParams()
			tc.mutate(&p)
			err := p.Validate()
			if tc.contains == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidParams)
			require.Contains(t, err.Error(), tc.contains)
		})
	}
}

func TestParamsRegions(t *testing.T) {
	p := types.DefaultParams()
	for _, r := range types.MeasuredRegions {
		require.True(t, p.HasRegion(r), r)
	}
	for _, r := range []string{"", "aws:us-east-3", "AWS:US-EAST-1", "aws:us-east-1 ", "gcp:us-central1"} {
		require.False(t, p.HasRegion(r), r)
	}
	err := p.RegionError("aws:mars-1")
	require.ErrorIs(t, err, types.ErrInvalidRegion)
	require.Contains(t, err.Error(), `region "aws:mars-1"`)
	require.Contains(t, err.Error(), strings.Join(types.MeasuredRegions, ", "))
}
