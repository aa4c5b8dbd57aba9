package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// slash punishes nodeID for more than max_faults faults in the window (epoch is the fault that crossed it):
//
//  1. the faults counted are listed; the node is unpaid from the first block of the run of consecutive
//     faulty epochs that ends with the newest one (a node that went silent three epochs ago is not paid for
//     those three epochs);
//  2. x/allocation takes slash_bps of its stake into x/audit's module account and jails it for jail_blocks:
//     it gets no new allocations;
//  3. each ACTIVE lease on the node is moved off its placement (x/lease ReallocateLease, reason NODE_JAILED):
//     no node of it is paid past where the faults began, since the job could not run; it is PENDING again
//     with the rest of its deposit and x/allocation re-places it, keeping its healthy nodes where it can. A
//     lease with no duration or deposit left closes with reason PROVIDER_FAULT and a refund instead;
//  4. the slashed stake goes to slash_destination: burned, to the community pool, or to the submitters of
//     the harmed leases in proportion to the GPUs the node held for each (the rounding remainder to the
//     first lease; burned when there was no lease);
//  5. the Slash record is stored and EventNodeSlashed emitted.
//
// A node that is not ACTIVE (already jailed, or unbonding) is not slashed again; slash returns nil then.
// The work is bounded by the node's faults in the window and its leases, each of which holds at least one
// of its GPUs.
func (k Keeper) slash(ctx context.Context, p types.Params, nodeID string, epoch uint64) (*types.Slash, error) {
	node, err := k.alloc.GetNode(ctx, nodeID)
	if err != nil {
		if isNodeNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	if node.Status != allocationtypes.NODE_STATUS_ACTIVE {
		return nil, nil
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	height := sdkCtx.BlockHeight()
	cur, err := k.Epoch.Get(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := k.windowFaultIDs(ctx, p, cur.Number, nodeID)
	if err != nil {
		return nil, err
	}
	faults := make([]types.Fault, len(ids))
	for i, id := range ids {
		if faults[i], err = k.Faults.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	unpaidFrom := UnpaidFrom(faults, height)

	leases, err := k.leases.ActiveLeasesOfNode(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	jailedUntil := height + int64(p.JailBlocks)
	slashed, after, err := k.alloc.SlashAndJail(ctx, nodeID, p.SlashBps, jailedUntil, types.ModuleName)
	if err != nil {
		return nil, err
	}
	rec := types.Slash{
		NodeId:            nodeID,
		Operator:          node.Operator,
		Epoch:             epoch,
		Height:            height,
		FaultIds:          ids,
		Amount:            slashed,
		StakeAfter:        after,
		Destination:       p.SlashDestination,
		JailedUntilHeight: jailedUntil,
		UnpaidFromHeight:  unpaidFrom,
	}
	var totalGPUs uint32
	for _, l := range leases {
		var gpus uint32
		for _, n := range l.Nodes {
			if n.NodeId == nodeID {
				gpus += n.Gpus
			}
		}
		after, moved, err := k.leases.ReallocateLease(ctx, l.Id, leasetypes.REALLOCATION_REASON_NODE_JAILED, []string{nodeID}, unpaidFrom)
		if err != nil {
			return nil, errorsmod.Wrapf(err, "move lease %d off slashed node %s", l.Id, nodeID)
		}
		totalGPUs += gpus
		rec.Leases = append(rec.Leases, types.SlashedLease{
			LeaseId:      after.Id,
			Submitter:    after.Submitter,
			Gpus:         gpus,
			Refunded:     after.Refunded,
			Compensation: sdk.NewCoin(slashed.Denom, math.ZeroInt()),
			Reallocated:  moved,
		})
	}
	if err := k.payOutSlash(ctx, &rec, totalGPUs); err != nil {
		return nil, err
	}

	id, err := k.SlashSeq.Peek(ctx)
	if err != nil {
		return nil, err
	}
	rec.Id = max(id, 1)
	if err := k.SlashSeq.Set(ctx, rec.Id+1); err != nil {
		return nil, err
	}
	if err := k.Slashes.Set(ctx, rec.Id, rec); err != nil {
		return nil, err
	}
	if err := k.updateStats(ctx, nodeID, func(s *types.NodeAuditStats) {
		s.Slashes++
		s.LastSlashEpoch = max(s.LastSlashEpoch, cur.Number)
	}); err != nil {
		return nil, err
	}
	k.logger.Info("node slashed", "node", nodeID, "slash", rec.Id, "amount", slashed.String(), "leases_moved", len(rec.Leases),
		"unpaid_from", unpaidFrom, "jailed_until", rec.JailedUntilHeight)
	return &rec, sdkCtx.EventManager().EmitTypedEvent(&types.EventNodeSlashed{Slash: rec})
}

// UnpaidFrom is the first block a slashed node is not paid for: the epoch start of the oldest fault in the
// run of consecutive faulty epochs that ends with the newest fault. faults are in (epoch, id) order; with
// none it is height.
func UnpaidFrom(faults []types.Fault, height int64) int64 {
	if len(faults) == 0 {
		return height
	}
	i := len(faults) - 1
	for i > 0 && faults[i-1].Epoch+1 >= faults[i].Epoch {
		i--
	}
	from := height
	for _, f := range faults[i:] {
		start := f.EpochStartHeight
		if start <= 0 {
			start = f.Height
		}
		from = min(from, start)
	}
	return from
}

// payOutSlash moves the slashed stake, now in x/audit's module account, to rec.Destination and records the
// submitters' shares on rec.Leases.
func (k Keeper) payOutSlash(ctx context.Context, rec *types.Slash, totalGPUs uint32) error {
	if !rec.Amount.IsPositive() {
		return nil
	}
	coins := sdk.NewCoins(rec.Amount)
	switch {
	case rec.Destination == types.SLASH_DESTINATION_COMMUNITY_POOL:
		return k.distr.FundCommunityPool(ctx, coins, authtypes.NewModuleAddress(types.ModuleName))
	case rec.Destination == types.SLASH_DESTINATION_HARMED_SUBMITTERS && totalGPUs > 0:
		shares := SplitByGPUs(rec.Amount.Amount, rec.Leases, totalGPUs)
		for i := range rec.Leases {
			if !shares[i].IsPositive() {
				continue
			}
			share := sdk.NewCoin(rec.Amount.Denom, shares[i])
			if err := k.payFromModule(ctx, rec.Leases[i].Submitter, share); err != nil {
				return errorsmod.Wrapf(err, "compensate %s for lease %d", rec.Leases[i].Submitter, rec.Leases[i].LeaseId)
			}
			rec.Leases[i].Compensation = share
		}
		return nil
	default:
		// BURN, or HARMED_SUBMITTERS with nobody harmed.
		return k.bank.BurnCoins(ctx, types.ModuleName, coins)
	}
}

// SplitByGPUs splits amount over leases in proportion to their GPUs (of total), each share rounded down; the
// remainder goes to the first lease, so that the shares add up to amount exactly.
func SplitByGPUs(amount math.Int, leases []types.SlashedLease, total uint32) []math.Int {
	out := make([]math.Int, len(leases))
	rest := amount
	for i, l := range leases {
		out[i] = amount.MulRaw(int64(l.Gpus)).QuoRaw(int64(total))
		rest = rest.Sub(out[i])
	}
	if len(out) > 0 {
		out[0] = out[0].Add(rest)
	}
	return out
}

// CheckSlashes is the slash part of the telemetry invariant: every slash is stored under its id, below the
// next id, valid, and indexed by its node; then the challenges are checked, with x/audit's module account
// (slashed stake passes through it within the block; between blocks it holds only open bonds).
func (k Keeper) CheckSlashes(ctx context.Context) error {
	next, err := k.SlashSeq.Peek(ctx)
	if err != nil {
		return err
	}
	n := 0
	err = k.Slashes.Walk(ctx, nil, func(id uint64, s types.Slash) (bool, error) {
		n++
		if s.Id != id || id == 0 || id >= max(next, 1) {
			return true, errorsmod.Wrapf(types.ErrInvalidGenesis, "slash %d stored under id %d; next slash id %d", s.Id, id, next)
		}
		if err := s.Validate(); err != nil {
			return true, err
		}
		has := false
		if err := k.Slashes.Indexes.Node.Walk(ctx, collections.NewPrefixedPairRange[string, uint64](s.NodeId),
			func(_ string, pk uint64) (bool, error) {
				has = pk == id
				return has, nil
			}); err != nil {
			return true, err
		}
		if !has {
			return true, errorsmod.Wrapf(types.ErrInvalidGenesis, "slash %d of node %s is missing from slashes_by_node", id, s.NodeId)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	indexed := 0
	if err := k.Slashes.Indexes.Node.Walk(ctx, nil, func(string, uint64) (bool, error) {
		indexed++
		return false, nil
	}); err != nil {
		return err
	}
	if indexed != n {
		return errorsmod.Wrapf(types.ErrInvalidGenesis, "slashes_by_node has %d entries for %d slashes", indexed, n)
	}
	// Slashed stake leaves x/audit's module account in the block it arrives; what stays is the open
	// challenges' bonds (CheckChallenges).
	return k.CheckChallenges(ctx)
}
