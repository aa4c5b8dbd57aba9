package types

import (
	"regexp"
	"slices"

	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/internal/canon"
)

const (
	// MaxSpecRegions bounds the allowed regions of one lease.
	MaxSpecRegions = 128
	// MaxRegionLength bounds one region name.
	MaxRegionLength = 64
)

// gpuModelRe is the GPU model rule of x/allocation's node registry, so that a lease can name any model a
// node can register.
var gpuModelRe = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{0,31}$`)

// ValidateBasic runs the checks of a spec that need no state: params bounds, the price denom and the
// region list are checked by the keeper.
func (s LeaseSpec) ValidateBasic() error {
	if s.TotalGpus == 0 {
		return errorsmod.Wrap(ErrInvalidSpec, "spec.total_gpus must be at least 1")
	}
	if s.GpuModel != "" && !gpuModelRe.MatchString(s.GpuModel) {
		return errorsmod.Wrapf(ErrInvalidSpec,
			"spec.gpu_model %q: want upper-case letters, digits or '-', e.g. H100, A100, A10G, L4; leave it empty to accept any model", s.GpuModel)
	}
	if s.MaxGpusPerNode > s.TotalGpus {
		return errorsmod.Wrapf(ErrInvalidSpec, "spec.max_gpus_per_node %d exceeds total_gpus %d; use 0 for no cap", s.MaxGpusPerNode, s.TotalGpus)
	}
	if len(s.Regions) > MaxSpecRegions {
		return errorsmod.Wrapf(ErrInvalidSpec, "spec.regions lists %d regions, at most %d allowed; leave it empty to allow every region",
			len(s.Regions), MaxSpecRegions)
	}
	for i, r := range s.Regions {
		if r == "" || len(r) > MaxRegionLength {
			return errorsmod.Wrapf(ErrInvalidSpec, "spec.regions[%d] %q: want a cloud:region name of 1-%d characters, e.g. aws:us-east-1", i, r, MaxRegionLength)
		}
		if i > 0 && s.Regions[i-1] >= r {
			return errorsmod.Wrapf(ErrInvalidSpec, "spec.regions must be sorted and unique; %q comes after %q", r, s.Regions[i-1])
		}
	}
	if s.DurationBlocks == 0 {
		return errorsmod.Wrap(ErrInvalidSpec, "spec.duration_blocks must be at least 1")
	}
	return ValidatePrice("spec.max_price_per_gpu_hour", s.MaxPricePerGpuHour)
}

// ValidatePrice checks that a price per GPU-hour is a valid, positive coin within MaxPriceAmount.
func ValidatePrice(field string, price sdk.Coin) error {
	if err := price.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidPrice, "%s %s: %v; want an amount with denom, e.g. 3000000unro", field, price, err)
	}
	if !price.IsPositive() {
		return errorsmod.Wrapf(ErrInvalidPrice, "%s must be positive, e.g. 3000000unro", field)
	}
	if price.Amount.GT(MaxPriceAmount) {
		return errorsmod.Wrapf(ErrInvalidPrice, "%s %s exceeds the largest price %s", field, price, MaxPriceAmount)
	}
	return nil
}

// ValidateCoin checks that an amount moved into escrow is a valid, positive coin.
func ValidateCoin(errType *errorsmod.Error, field string, c sdk.Coin) error {
	if err := c.Validate(); err != nil {
		return errorsmod.Wrapf(errType, "%s %s: %v; want an amount with denom, e.g. 50000000000unro", field, c, err)
	}
	if !c.IsPositive() {
		return errorsmod.Wrapf(errType, "%s must be positive", field)
	}
	return nil
}

// IsOpen reports whether the lease is PENDING or ACTIVE: it holds escrow and has a deadline.
func (l Lease) IsOpen() bool {
	return l.State == LEASE_STATE_PENDING || l.State == LEASE_STATE_ACTIVE
}

// EscrowBalance is the unspent deposit: deposit − paid − refunded.
func (l Lease) EscrowBalance() math.Int {
	return l.Deposit.Amount.Sub(l.Paid.Amount).Sub(l.Refunded.Amount)
}

// SettlementBlocks is E for a settlement at height: blocks since activation, up to the deadline.
func (l Lease) SettlementBlocks(height int64) int64 {
	return min(height, l.DeadlineHeight) - l.ActivatedHeight
}

// TotalRate is what the active lease pays per hour across its nodes, fee included.
func (l Lease) TotalRate() math.Int { return TotalRate(l.Nodes) }

// ComputeDeadline is the deadline of an active lease from its deposit and rate: the current placement is
// funded by the deposit less what past placements were paid.
func (l Lease) ComputeDeadline() int64 {
	return DeadlineHeight(l.ActivatedHeight, l.EndHeight, l.Deposit.Amount.Sub(l.PastPaid()), l.TotalRate(), l.BlocksPerHour)
}

// DeadlineReason is why an ACTIVE lease closes at its deadline: COMPLETED when the deadline is its end height,
// INSUFFICIENT_FUNDS when the deposit ran out first.
func (l Lease) DeadlineReason() CloseReason {
	if l.DeadlineHeight == l.EndHeight {
		return CLOSE_REASON_COMPLETED
	}
	return CLOSE_REASON_INSUFFICIENT_FUNDS
}

// Placements are the (node, GPUs) entries of nodes, in order.
func Placements(nodes []LeaseNode) []Placement {
	out := make([]Placement, len(nodes))
	for i, n := range nodes {
		out[i] = Placement{NodeId: n.NodeId, Gpus: n.Gpus}
	}
	return out
}

// PastPaid is what the lease's past placements were paid, fee included.
func (l Lease) PastPaid() math.Int {
	sum := math.ZeroInt()
	for _, p := range l.PastPlacements {
		for _, n := range p.Nodes {
			sum = sum.Add(n.Paid)
		}
	}
	return sum
}

// ServedBlocks is the part of the duration past placements served.
func (l Lease) ServedBlocks() int64 {
	var sum int64
	for _, p := range l.PastPlacements {
		sum += p.ServedBlocks
	}
	return sum
}

// RemainingBlocks is the part of the duration a new placement owes the lease.
func (l Lease) RemainingBlocks() int64 { return int64(l.Spec.DurationBlocks) - l.ServedBlocks() }

// PendingSince is the height the lease last became PENDING: its creation, or the end of its last placement.
// Proposals for it are accepted for proposal_window_blocks from then.
func (l Lease) PendingSince() int64 {
	if n := len(l.PastPlacements); n > 0 {
		return l.PastPlacements[n-1].EndedHeight
	}
	return l.CreatedHeight
}

// AllNodes are the nodes of the current placement followed by those of the past placements (newest first):
// every node that was ever paid by the lease.
func (l Lease) AllNodes() []LeaseNode {
	out := slices.Clone(l.Nodes)
	for i := len(l.PastPlacements) - 1; i >= 0; i-- {
		out = append(out, l.PastPlacements[i].Nodes...)
	}
	return out
}

// NodeIDs are the distinct node ids of the placement, in placement order.
func (l Lease) NodeIDs() []string {
	out := make([]string, 0, len(l.Nodes))
	seen := make(map[string]bool, len(l.Nodes))
	for _, n := range l.Nodes {
		if !seen[n.NodeId] {
			seen[n.NodeId] = true
			out = append(out, n.NodeId)
		}
	}
	return out
}

// EverNodeIDs are the distinct node ids of the current and past placements, current first.
func (l Lease) EverNodeIDs() []string {
	out := make([]string, 0, len(l.Nodes))
	seen := map[string]bool{}
	for _, n := range l.AllNodes() {
		if !seen[n.NodeId] {
			seen[n.NodeId] = true
			out = append(out, n.NodeId)
		}
	}
	return out
}

// closeReasons are the reasons each ended state may carry.
var closeReasons = map[LeaseState][]CloseReason{
	LEASE_STATE_PENDING:   {CLOSE_REASON_UNSPECIFIED},
	LEASE_STATE_ACTIVE:    {CLOSE_REASON_UNSPECIFIED},
	LEASE_STATE_CANCELLED: {CLOSE_REASON_CANCELLED},
	LEASE_STATE_EXPIRED:   {CLOSE_REASON_EXPIRED},
	LEASE_STATE_CLOSED: {
		CLOSE_REASON_COMPLETED, CLOSE_REASON_INSUFFICIENT_FUNDS, CLOSE_REASON_PROVIDER_FAULT, CLOSE_REASON_SUBMITTER_CLOSED,
	},
}

// Validate checks a stored lease (genesis import): addresses in canonical form, the spec, state and reason,
// consistent denoms and amounts, and heights. Bounds that come from params (max GPUs, max duration, minimum
// deposit) are not re-checked: params may have changed since the lease was created.
func (l Lease) Validate(addrCodec address.Codec) error {
	if l.Id == 0 {
		return errorsmod.Wrap(ErrInvalidLeaseID, "lease id 0 is never used; ids start at 1")
	}
	if err := validateCanonicalAddress(addrCodec, l.Submitter); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "lease %d: submitter %q: %v", l.Id, l.Submitter, err)
	}
	if err := l.Spec.ValidateBasic(); err != nil {
		return errorsmod.Wrapf(err, "lease %d", l.Id)
	}
	reasons, ok := closeReasons[l.State]
	if !ok {
		return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: state %s is not a lease state", l.Id, l.State)
	}
	if !slices.Contains(reasons, l.CloseReason) {
		return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: a %s lease cannot have close reason %s", l.Id, l.State, l.CloseReason)
	}
	if l.TakeBps > BpsDenominator || l.BlocksPerHour == 0 || l.BlocksPerHour > MaxBlocksPerHour {
		return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: take_bps %d or blocks_per_hour %d out of range", l.Id, l.TakeBps, l.BlocksPerHour)
	}
	denom := l.Spec.MaxPricePerGpuHour.Denom
	if err := ValidateCoin(ErrInvalidDeposit, "deposit", l.Deposit); err != nil {
		return errorsmod.Wrapf(err, "lease %d", l.Id)
	}
	for _, c := range []struct {
		name string
		coin sdk.Coin
	}{{"deposit", l.Deposit}, {"paid", l.Paid}, {"fees", l.Fees}, {"refunded", l.Refunded}} {
		if err := c.coin.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: %s: %v", l.Id, c.name, err)
		}
		if c.coin.Denom != denom {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: %s denom %q differs from the price denom %q", l.Id, c.name, c.coin.Denom, denom)
		}
	}
	if l.Fees.Amount.GT(l.Paid.Amount) {
		return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: fees %s exceed paid %s", l.Id, l.Fees, l.Paid)
	}
	if l.EscrowBalance().IsNegative() {
		return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: paid %s and refunded %s exceed the deposit %s", l.Id, l.Paid, l.Refunded, l.Deposit)
	}
	if l.IsOpen() && !l.Refunded.IsZero() {
		return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: a %s lease has refunded nothing yet, not %s", l.Id, l.State, l.Refunded)
	}
	if !l.IsOpen() && !l.EscrowBalance().IsZero() {
		return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: an ended lease holds no escrow, but %s%s is left", l.Id, l.EscrowBalance(), denom)
	}
	placed := l.State == LEASE_STATE_ACTIVE || l.State == LEASE_STATE_CLOSED
	if placed != (len(l.Nodes) > 0) {
		if placed {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: a %s lease must have nodes", l.Id, l.State)
		}
		return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: a %s lease has no current placement, so no nodes (past placements are in past_placements)", l.Id, l.State)
	}
	if err := l.validatePastPlacements(addrCodec, denom); err != nil {
		return err
	}
	if !placed {
		if !l.Paid.Equal(sdk.NewCoin(denom, l.PastPaid())) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: a %s lease has paid only its past placements (%s), not %s", l.Id, l.State, l.PastPaid(), l.Paid)
		}
		return nil
	}
	if err := ValidateNodes(addrCodec, l.Spec, denom, l.Nodes, l.RingOrder); err != nil {
		return errorsmod.Wrapf(err, "lease %d", l.Id)
	}
	paid, fees := math.ZeroInt(), math.ZeroInt()
	for _, n := range l.AllNodes() {
		if n.Paid.IsNil() || n.Paid.IsNegative() {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: node %s: paid must be set and not negative", l.Id, n.NodeId)
		}
		paid = paid.Add(n.Paid)
		fees = fees.Add(Fee(n.Paid, l.TakeBps))
	}
	if !paid.Equal(l.Paid.Amount) || !fees.Equal(l.Fees.Amount) {
		return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: paid %s and fees %s differ from the nodes' sums %s and %s",
			l.Id, l.Paid, l.Fees, paid, fees)
	}
	if l.ActivatedHeight <= 0 || l.EndHeight != l.ActivatedHeight+l.RemainingBlocks() ||
		l.DeadlineHeight < l.ActivatedHeight || l.DeadlineHeight > l.EndHeight ||
		l.SettledHeight < l.ActivatedHeight || l.SettledHeight > l.DeadlineHeight {
		return errorsmod.Wrapf(ErrInvalidGenesis,
			"lease %d: heights must satisfy 0 < activated (%d) <= settled (%d) <= deadline (%d) <= end (%d) = activated + duration_blocks - served by past placements",
			l.Id, l.ActivatedHeight, l.SettledHeight, l.DeadlineHeight, l.EndHeight)
	}
	return nil
}

// validatePastPlacements checks each past placement: its nodes as a placement of the lease, heights in order
// after creation, a reason and trigger nodes, and served blocks within the duration.
func (l Lease) validatePastPlacements(addrCodec address.Codec, denom string) error {
	prevEnd := l.CreatedHeight
	var served int64
	for i, p := range l.PastPlacements {
		if err := ValidateNodes(addrCodec, l.Spec, denom, p.Nodes, p.RingOrder); err != nil {
			return errorsmod.Wrapf(err, "lease %d: past_placements[%d]", l.Id, i)
		}
		for _, n := range p.Nodes {
			if n.Paid.IsNil() || n.Paid.IsNegative() {
				return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: past_placements[%d]: node %s: paid must be set and not negative", l.Id, i, n.NodeId)
			}
		}
		if p.ActivatedHeight < prevEnd || p.EndedHeight < p.ActivatedHeight || p.ServedBlocks < 0 || p.ServedBlocks > p.EndedHeight-p.ActivatedHeight {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: past_placements[%d]: want %d <= activated (%d) <= ended (%d) and 0 <= served_blocks (%d) <= ended - activated",
				l.Id, i, prevEnd, p.ActivatedHeight, p.EndedHeight, p.ServedBlocks)
		}
		if _, ok := ReallocationReason_name[int32(p.Reason)]; !ok || p.Reason == REALLOCATION_REASON_UNSPECIFIED || len(p.TriggerNodeIds) == 0 {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: past_placements[%d]: want a reallocation reason and the nodes that triggered it", l.Id, i)
		}
		prevEnd = p.EndedHeight
		served += p.ServedBlocks
	}
	if served >= int64(l.Spec.DurationBlocks) && len(l.PastPlacements) > 0 {
		return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: past placements served %d blocks of a %d-block duration; a lease is moved only with blocks left",
			l.Id, served, l.Spec.DurationBlocks)
	}
	return nil
}

// ValidateNodes checks a placement against the lease it is for: each node has a node id, a canonical
// operator address, at least one GPU and a price in the lease's denom within its maximum price; the spec's
// model, memory, region and per-node limits hold; the GPUs add up to total_gpus; no (node, GPU group) pair
// is listed twice; and ring_order is an ordering of the distinct node ids.
func ValidateNodes(addrCodec address.Codec, spec LeaseSpec, denom string, nodes []LeaseNode, ringOrder []string) error {
	if len(nodes) == 0 {
		return errorsmod.Wrap(ErrInvalidPlacement, "a placement needs at least one node")
	}
	type slot struct {
		node  string
		group uint32
	}
	seen := make(map[slot]bool, len(nodes))
	perNode := make(map[string]uint64, len(nodes))
	var total uint64
	for i, n := range nodes {
		if n.NodeId == "" {
			return errorsmod.Wrapf(ErrInvalidPlacement, "nodes[%d]: node_id is empty", i)
		}
		if seen[slot{n.NodeId, n.GpuGroup}] {
			return errorsmod.Wrapf(ErrInvalidPlacement, "nodes[%d]: node %s GPU group %d is listed twice", i, n.NodeId, n.GpuGroup)
		}
		seen[slot{n.NodeId, n.GpuGroup}] = true
		if err := validateCanonicalAddress(addrCodec, n.Operator); err != nil {
			return errorsmod.Wrapf(ErrInvalidPlacement, "nodes[%d] (%s): operator %q: %v", i, n.NodeId, n.Operator, err)
		}
		if n.Gpus == 0 {
			return errorsmod.Wrapf(ErrInvalidPlacement, "nodes[%d] (%s): gpus is 0", i, n.NodeId)
		}
		if err := ValidatePrice("price_per_gpu_hour", n.PricePerGpuHour); err != nil {
			return errorsmod.Wrapf(ErrInvalidPlacement, "nodes[%d] (%s): %v", i, n.NodeId, err)
		}
		if n.PricePerGpuHour.Denom != denom {
			return errorsmod.Wrapf(ErrInvalidPlacement, "nodes[%d] (%s): price denom %q differs from the lease's %q", i, n.NodeId, n.PricePerGpuHour.Denom, denom)
		}
		if n.PricePerGpuHour.Amount.GT(spec.MaxPricePerGpuHour.Amount) {
			return errorsmod.Wrapf(ErrInvalidPlacement, "nodes[%d] (%s): price %s exceeds the lease's max_price_per_gpu_hour %s",
				i, n.NodeId, n.PricePerGpuHour, spec.MaxPricePerGpuHour)
		}
		if spec.GpuModel != "" && n.GpuModel != spec.GpuModel {
			return errorsmod.Wrapf(ErrInvalidPlacement, "nodes[%d] (%s): GPU model %q, the lease needs %q", i, n.NodeId, n.GpuModel, spec.GpuModel)
		}
		if n.GpuMemoryMib < spec.MinGpuMemoryMib {
			return errorsmod.Wrapf(ErrInvalidPlacement, "nodes[%d] (%s): %d MiB per GPU, the lease needs %d", i, n.NodeId, n.GpuMemoryMib, spec.MinGpuMemoryMib)
		}
		if len(spec.Regions) > 0 && !slices.Contains(spec.Regions, n.Region) {
			return errorsmod.Wrapf(ErrInvalidPlacement, "nodes[%d] (%s): region %q is not one of the lease's regions", i, n.NodeId, n.Region)
		}
		perNode[n.NodeId] += uint64(n.Gpus)
		if spec.MaxGpusPerNode > 0 && perNode[n.NodeId] > uint64(spec.MaxGpusPerNode) {
			return errorsmod.Wrapf(ErrInvalidPlacement, "node %s: %d GPUs exceed the lease's max_gpus_per_node %d", n.NodeId, perNode[n.NodeId], spec.MaxGpusPerNode)
		}
		total += uint64(n.Gpus)
	}
	if total != uint64(spec.TotalGpus) {
		return errorsmod.Wrapf(ErrInvalidPlacement, "the placement has %d GPUs, the lease needs %d", total, spec.TotalGpus)
	}
	if len(ringOrder) != len(perNode) {
		return errorsmod.Wrapf(ErrInvalidPlacement, "ring_order has %d entries for %d distinct nodes; list each node once", len(ringOrder), len(perNode))
	}
	inRing := make(map[string]bool, len(ringOrder))
	for i, id := range ringOrder {
		if _, ok := perNode[id]; !ok || inRing[id] {
			return errorsmod.Wrapf(ErrInvalidPlacement, "ring_order[%d] %q: want each node of the placement exactly once", i, id)
		}
		inRing[id] = true
	}
	return nil
}

// validateCanonicalAddress accepts only the canonical (lower-case) bech32 form the keeper stores.
func validateCanonicalAddress(addrCodec address.Codec, addr string) error {
	if err := canon.Check(addrCodec, addr); err != nil {
		return errorsmod.Wrap(ErrInvalidAddress, err.Error())
	}
	return nil
}
