package types

import (
	"fmt"
	"regexp"

	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/internal/canon"
)

const (
	// MaxGPUGroups bounds the GPU groups of one node.
	MaxGPUGroups = 16
	// MaxGPUsPerNode bounds the GPUs of one node.
	MaxGPUsPerNode = 1024
	// MinGPUMemoryMiB and MaxGPUMemoryMiB bound one GPU's memory (1 GiB .. 2 TiB).
	MinGPUMemoryMiB = 1 << 10
	MaxGPUMemoryMiB = 1 << 21
	// MaxBandwidthMbps is 10 Tbit/s.
	MaxBandwidthMbps = 10_000_000
)

var (
	nodeIDRe   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	gpuModelRe = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{0,31}$`)
)

// ValidateNodeID accepts DNS-label-like ids: 1 to 63 of a-z, 0-9 and '-', not starting or ending with '-'.
func ValidateNodeID(id string) error {
	if !nodeIDRe.MatchString(id) {
		return errorsmod.Wrapf(ErrInvalidNodeID,
			"node_id %q: want 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit, e.g. gpu-node-1", id)
	}
	return nil
}

// ValidateGPUs checks the GPU groups of a node and returns the total GPU count.
func ValidateGPUs(groups []GpuGroup) (uint32, error) {
	if len(groups) == 0 {
		return 0, errorsmod.Wrap(ErrInvalidGPUs, "gpus: at least one group is required, e.g. 8xH100:81920 (count x model : memory MiB)")
	}
	if len(groups) > MaxGPUGroups {
		return 0, errorsmod.Wrapf(ErrInvalidGPUs, "gpus: %d groups, at most %d allowed", len(groups), MaxGPUGroups)
	}
	var total uint64
	seen := make(map[string]bool, len(groups))
	for i, g := range groups {
		if !gpuModelRe.MatchString(g.Model) {
			return 0, errorsmod.Wrapf(ErrInvalidGPUs, "gpus[%d].model %q: want upper-case letters, digits or '-', e.g. H100, A100, A10G, L4", i, g.Model)
		}
		if g.Count == 0 {
			return 0, errorsmod.Wrapf(ErrInvalidGPUs, "gpus[%d].count is 0: each group needs at least 1 GPU", i)
		}
		if g.Reserved != 0 {
			return 0, errorsmod.Wrapf(ErrInvalidGPUs, "gpus[%d].reserved is %d: reservations are made by the chain; leave it 0", i, g.Reserved)
		}
		if g.MemoryMib < MinGPUMemoryMiB || g.MemoryMib > MaxGPUMemoryMiB {
			return 0, errorsmod.Wrapf(ErrInvalidGPUs, "gpus[%d].memory_mib %d: want %d..%d MiB per GPU, e.g. 81920 for an 80 GB H100",
				i, g.MemoryMib, MinGPUMemoryMiB, MaxGPUMemoryMiB)
		}
		key := fmt.Sprintf("%s:%d", g.Model, g.MemoryMib)
		if seen[key] {
			return 0, errorsmod.Wrapf(ErrInvalidGPUs, "gpus[%d]: %s with %d MiB listed twice; merge the groups", i, g.Model, g.MemoryMib)
		}
		seen[key] = true
		total += uint64(g.Count)
	}
	if total > MaxGPUsPerNode {
		return 0, errorsmod.Wrapf(ErrInvalidGPUs, "gpus: %d GPUs on one node, at most %d allowed", total, MaxGPUsPerNode)
	}
	return uint32(total), nil
}

// ValidateBandwidth checks a bandwidth in Mbit/s.
func ValidateBandwidth(mbps uint64) error {
	if mbps == 0 || mbps > MaxBandwidthMbps {
		return errorsmod.Wrapf(ErrInvalidBandwidth, "bandwidth_mbps %d: want 1..%d Mbit/s, e.g. 25000 for 25 Gbit/s", mbps, MaxBandwidthMbps)
	}
	return nil
}

// ValidatePrice checks a price per GPU-hour against the params denom.
func ValidatePrice(price sdk.Coin, denom string) error {
	if err := price.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidPrice, "price_per_gpu_hour: %v", err)
	}
	if price.Denom != denom {
		return errorsmod.Wrapf(ErrInvalidPrice, "price_per_gpu_hour denom %q: prices are in %s, e.g. 2500000%s", price.Denom, denom, denom)
	}
	if !price.IsPositive() {
		return errorsmod.Wrapf(ErrInvalidPrice, "price_per_gpu_hour must be positive, e.g. 2500000%s", denom)
	}
	if price.Amount.GT(math.NewIntFromUint64(MaxPriceAmount)) {
		return errorsmod.Wrapf(ErrInvalidPrice, "price_per_gpu_hour %s is above the maximum %d%s", price, MaxPriceAmount, denom)
	}
	return nil
}

// TotalGPUs is the number of GPUs on the node.
func (n Node) TotalGPUs() uint32 {
	var total uint32
	for _, g := range n.Gpus {
		total += g.Count
	}
	return total
}

// HasGPUModel reports whether the node has at least one GPU of the model.
func (n Node) HasGPUModel(model string) bool {
	for _, g := range n.Gpus {
		if g.Model == model {
			return true
		}
	}
	return false
}

// Validate checks a stored node (genesis import) against the params.
func (n Node) Validate(p Params, addrCodec address.Codec) error {
	if err := ValidateNodeID(n.Id); err != nil {
		return err
	}
	if err := validateCanonicalAddress(addrCodec, n.Operator); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "node %s: operator %q: %v", n.Id, n.Operator, err)
	}
	if err := validateCanonicalAddress(addrCodec, n.Agent); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "node %s: agent %q: %v", n.Id, n.Agent, err)
	}
	if n.EthAddress != "" {
		if err := ValidateEthAddress(n.EthAddress); err != nil {
			return errorsmod.Wrapf(ErrInvalidEthAddress, "node %s: %v", n.Id, err)
		}
	}
	if !p.HasRegion(n.Region) {
		return errorsmod.Wrapf(p.RegionError(n.Region), "node %s", n.Id)
	}
	groups := make([]GpuGroup, len(n.Gpus))
	var reserved uint32
	for i, g := range n.Gpus {
		if g.Reserved > g.Count {
			return errorsmod.Wrapf(ErrInvalidGPUs, "node %s: gpus[%d] has %d reserved of %d", n.Id, i, g.Reserved, g.Count)
		}
		reserved += g.Reserved
		groups[i] = g
		groups[i].Reserved = 0
	}
	total, err := ValidateGPUs(groups)
	if err != nil {
		return errorsmod.Wrapf(err, "node %s", n.Id)
	}
	if n.ReservedGpus > total {
		return errorsmod.Wrapf(ErrInvalidGPUs, "node %s: reserved_gpus %d exceeds its %d GPUs", n.Id, n.ReservedGpus, total)
	}
	if n.ReservedGpus != reserved {
		return errorsmod.Wrapf(ErrInvalidGPUs, "node %s: reserved_gpus %d is not the sum %d of its groups' reserved GPUs", n.Id, n.ReservedGpus, reserved)
	}
	if err := ValidateBandwidth(n.BandwidthMbps); err != nil {
		return errorsmod.Wrapf(err, "node %s", n.Id)
	}
	if err := ValidatePrice(n.PricePerGpuHour, p.Denom()); err != nil {
		return errorsmod.Wrapf(err, "node %s", n.Id)
	}
	if err := n.Stake.Validate(); err != nil || n.Stake.Denom != p.Denom() {
		return errorsmod.Wrapf(ErrInvalidStake, "node %s: stake %s must be a valid %s amount", n.Id, n.Stake, p.Denom())
	}
	if n.ReputationBps > 10_000 {
		return errorsmod.Wrapf(ErrInvalidGenesis, "node %s: reputation_bps %d above 10000", n.Id, n.ReputationBps)
	}
	if n.JailedUntilHeight < 0 || (n.JailedUntilHeight != 0 && n.Status != NODE_STATUS_JAILED) {
		return errorsmod.Wrapf(ErrInvalidGenesis, "node %s: jailed_until_height %d with status %s; only a JAILED node has one (positive)",
			n.Id, n.JailedUntilHeight, n.Status)
	}
	switch n.Status {
	case NODE_STATUS_ACTIVE, NODE_STATUS_JAILED:
		if n.ReleaseHeight != 0 {
			return errorsmod.Wrapf(ErrInvalidGenesis, "node %s: release_height is set but status is %s", n.Id, n.Status)
		}
		// No minimum-stake check here: governance may raise min_stake_per_gpu after a node registered, and
		// slashing may take stake; the node stays valid (the minimum applies to registration and unjailing).
	case NODE_STATUS_UNBONDING:
		if n.ReleaseHeight <= 0 {
			return errorsmod.Wrapf(ErrInvalidGenesis, "node %s: UNBONDING without a release_height", n.Id)
		}
	default:
		return errorsmod.Wrapf(ErrInvalidGenesis, "node %s: status %s; want ACTIVE, UNBONDING or JAILED", n.Id, n.Status)
	}
	return nil
}

// validateCanonicalAddress accepts only the canonical (lower-case) bech32 form that the keeper stores, so
// that an imported node's operator is recognised when it signs.
func validateCanonicalAddress(addrCodec address.Codec, addr string) error {
	return canon.Check(addrCodec, addr)
}

// Free is how many GPUs of the group no lease holds.
func (g GpuGroup) Free() uint32 { return g.Count - g.Reserved }
