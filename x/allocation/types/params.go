package types

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

const (
	// DefaultDenom is the stake and price denomination.
	DefaultDenom = "unro"
	// DefaultUnbondingBlocks is about 7 days at 6 s blocks.
	DefaultUnbondingBlocks uint64 = 100_800
	// DefaultMaxReleasesPerBlock bounds EndBlock work.
	DefaultMaxReleasesPerBlock uint32 = 100
	// NeutralReputationBps is the reputation of a node with no history.
	NeutralReputationBps uint32 = 5_000
	// MaxReputationBps is the best reputation.
	MaxReputationBps uint32 = 10_000
	// DefaultProposalWindowBlocks gives agents 5 blocks (30 s at 6 s blocks) to propose.
	DefaultProposalWindowBlocks uint64 = 5
	DefaultMaxProposalsPerLease uint32 = 8
	// DefaultMaxAllocationsPerBlock bounds EndBlock allocation work (see docs/benchmarks.md for its cost).
	DefaultMaxAllocationsPerBlock uint32 = 100
	DefaultGasPerPlacementEntry   uint64 = 2_000
	DefaultFallbackScanLimit      uint32 = 256
	DefaultMaxPlacementNodes      uint32 = 64
	// MaxPriceAmount bounds a price per GPU-hour (10^9 NRO) so that prices fit the capacity index key.
	MaxPriceAmount uint64 = 1_000_000_000_000_000
)

// DefaultMinProposerBond is 1,000 NRO.
var DefaultMinProposerBond = sdk.NewCoin(DefaultDenom, math.NewInt(1_000_000_000))

// DefaultWeights value, per GPU-hour: 1 ms of bottleneck RTT at 0.01 NRO, 1 Gbit/s of bandwidth shortfall at
// 0.1 NRO, a stranded GPU at 0.1 NRO per hour, full reputation (+5000 bps) at 0.1 NRO.
func DefaultWeights() ScoringWeights {
	return ScoringWeights{
		LatencyPerMs:        10_000,
		BandwidthPerMbps:    100,
		FragmentationPerGpu: 100_000,
		ReputationPerBps:    20,
	}
}

// DefaultMinStakePerGPU is 100 NRO per GPU: an 8-GPU node stakes at least 800 NRO.
var DefaultMinStakePerGPU = sdk.NewCoin(DefaultDenom, math.NewInt(100_000_000))

var regionRe = regexp.MustCompile(`^[a-z][a-z0-9]*:[a-z0-9][a-z0-9-]*[a-z0-9]$`)

// DefaultParams returns the default parameters, with the measured regions.
func DefaultParams() Params {
	return Params{
		MinStakePerGpu:      DefaultMinStakePerGPU,
		UnbondingBlocks:     DefaultUnbondingBlocks,
		MaxReleasesPerBlock: DefaultMaxReleasesPerBlock,
		Regions:             slices.Clone(MeasuredRegions),

		ProposalWindowBlocks:   DefaultProposalWindowBlocks,
		MaxProposalsPerLease:   DefaultMaxProposalsPerLease,
		MaxAllocationsPerBlock: DefaultMaxAllocationsPerBlock,
		MinProposerBond:        DefaultMinProposerBond,
		GasPerPlacementEntry:   DefaultGasPerPlacementEntry,
		Weights:                DefaultWeights(),
		FallbackScanLimit:      DefaultFallbackScanLimit,
		MaxPlacementNodes:      DefaultMaxPlacementNodes,
	}
}

// Validate checks every parameter and says which one is wrong.
func (p Params) Validate() error {
	if err := p.MinStakePerGpu.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidParams, "min_stake_per_gpu: %v", err)
	}
	if !p.MinStakePerGpu.IsPositive() {
		return errorsmod.Wrapf(ErrInvalidParams, "min_stake_per_gpu must be positive, e.g. 100000000%s", DefaultDenom)
	}
	if p.UnbondingBlocks == 0 {
		return errorsmod.Wrap(ErrInvalidParams, "unbonding_blocks must be at least 1")
	}
	if p.MaxReleasesPerBlock == 0 {
		return errorsmod.Wrap(ErrInvalidParams, "max_releases_per_block must be at least 1")
	}
	if len(p.Regions) == 0 {
		return errorsmod.Wrap(ErrInvalidParams, "regions must list at least one cloud:region")
	}
	for i, r := range p.Regions {
		if !regionRe.MatchString(r) {
			return errorsmod.Wrapf(ErrInvalidParams, "regions[%d] %q: want cloud:region in lower case, e.g. aws:us-east-1", i, r)
		}
		if i > 0 && p.Regions[i-1] >= r {
			return errorsmod.Wrapf(ErrInvalidParams, "regions must be sorted and unique; %q comes after %q", r, p.Regions[i-1])
		}
	}
	if p.ProposalWindowBlocks == 0 {
		return errorsmod.Wrap(ErrInvalidParams, "proposal_window_blocks must be at least 1")
	}
	if p.MaxProposalsPerLease == 0 || p.MaxProposalsPerLease > 64 {
		return errorsmod.Wrapf(ErrInvalidParams, "max_proposals_per_lease %d: want 1..64", p.MaxProposalsPerLease)
	}
	if p.MaxAllocationsPerBlock == 0 {
		return errorsmod.Wrap(ErrInvalidParams, "max_allocations_per_block must be at least 1")
	}
	if err := p.MinProposerBond.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidParams, "min_proposer_bond: %v", err)
	}
	if p.MinProposerBond.Denom != p.Denom() {
		return errorsmod.Wrapf(ErrInvalidParams, "min_proposer_bond denom %q must be the stake denom %q", p.MinProposerBond.Denom, p.Denom())
	}
	if p.FallbackScanLimit == 0 {
		return errorsmod.Wrap(ErrInvalidParams, "fallback_scan_limit must be at least 1")
	}
	if p.MaxPlacementNodes == 0 || p.MaxPlacementNodes > 1024 {
		return errorsmod.Wrapf(ErrInvalidParams, "max_placement_nodes %d: want 1..1024", p.MaxPlacementNodes)
	}
	return nil
}

// Denom is the stake and price denomination.
func (p Params) Denom() string { return p.MinStakePerGpu.Denom }

// HasRegion reports whether r is an allowed region (binary search over the sorted list).
func (p Params) HasRegion(r string) bool {
	_, ok := slices.BinarySearch(p.Regions, r)
	return ok
}

// RegionError describes an unknown region and the allowed values.
func (p Params) RegionError(r string) error {
	return errorsmod.Wrapf(ErrInvalidRegion, "region %q is not one of the %d allowed regions: %s",
		r, len(p.Regions), strings.Join(p.Regions, ", "))
}

// MinStake is the minimum stake for a node with gpuCount GPUs.
func (p Params) MinStake(gpuCount uint32) sdk.Coin {
	return sdk.NewCoin(p.Denom(), p.MinStakePerGpu.Amount.MulRaw(int64(gpuCount)))
}

// String renders the params for logs.
func (p Params) LogString() string {
	return fmt.Sprintf("min_stake_per_gpu=%s unbonding_blocks=%d max_releases_per_block=%d regions=%d",
		p.MinStakePerGpu, p.UnbondingBlocks, p.MaxReleasesPerBlock, len(p.Regions))
}
