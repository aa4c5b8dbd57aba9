package keeper

import (
	"context"
	"errors"
	"slices"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// GetParams returns the current params.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) { return k.Params.Get(ctx) }

// CurrentEpoch returns the current telemetry epoch.
func (k Keeper) CurrentEpoch(ctx context.Context) (types.EpochInfo, error) { return k.Epoch.Get(ctx) }

// checkReportEpoch accepts a report for the current epoch, or for the previous one while the block is
// within grace_blocks of the current epoch's start.
func checkReportEpoch(epoch uint64, cur types.EpochInfo, p types.Params, height int64) error {
	graceEnd := cur.StartHeight + int64(p.GraceBlocks) // first block no longer in the grace period
	switch {
	case epoch == cur.Number:
		return nil
	case epoch > cur.Number:
		return errorsmod.Wrapf(types.ErrInvalidEpoch, "epoch %d has not started: the current epoch is %d (started at height %d, at least %d blocks long); report for epoch %d",
			epoch, cur.Number, cur.StartHeight, p.EpochBlocks, cur.Number)
	case epoch+1 == cur.Number && height < graceEnd:
		return nil
	case epoch+1 == cur.Number:
		return errorsmod.Wrapf(types.ErrInvalidEpoch, "epoch %d is closed: its reports were accepted until height %d (grace_blocks %d after epoch %d started at %d); report for the current epoch %d",
			epoch, graceEnd-1, p.GraceBlocks, cur.Number, cur.StartHeight, cur.Number)
	default:
		return errorsmod.Wrapf(types.ErrInvalidEpoch, "epoch %d is closed: the current epoch is %d and only it, or epoch %d within grace_blocks %d of height %d, accepts reports",
			epoch, cur.Number, cur.Number-1, p.GraceBlocks, cur.StartHeight)
	}
}

// EndBlock ends the epoch when its blocks are used up, moves the missed-epoch sweep forward by at most
// max_nodes_checked_per_block checks, and prunes at most max_pruned_per_block old records. Its work is
// bounded by the params whatever the number of nodes, leases or reports.
func (k Keeper) EndBlock(ctx context.Context) error {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	cur, err := k.advanceEpoch(ctx, p)
	if err != nil {
		return err
	}
	if err := k.sweep(ctx, p); err != nil {
		return err
	}
	if err := k.resolveTimedOut(ctx, p); err != nil {
		return err
	}
	if err := k.ApplySignerChanges(ctx); err != nil {
		return err
	}
	if err := k.MaybeMakeValset(ctx, p); err != nil {
		return err
	}
	if err := k.observeBatches(ctx, p); err != nil {
		return err
	}
	if err := k.checkSigningWindows(ctx, p); err != nil {
		return err
	}
	if err := k.pruneBridge(ctx, p); err != nil {
		return err
	}
	return k.prune(ctx, p, cur)
}

// advanceEpoch ends the current epoch in the EndBlock of its last block (epoch_blocks after its start, or
// at once when a smaller epoch_blocks has been voted in meanwhile): the epoch is queued for its sweep and the
// next one starts at the next block.
func (k Keeper) advanceEpoch(ctx context.Context, p types.Params) (types.EpochInfo, error) {
	cur, err := k.Epoch.Get(ctx)
	if err != nil {
		return cur, err
	}
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	if h+1 < cur.StartHeight+int64(p.EpochBlocks) {
		return cur, nil
	}
	if err := k.Sweeps.Set(ctx, cur.Number, types.EpochSweep{
		Epoch:       cur.Number,
		StartHeight: cur.StartHeight,
		EndHeight:   h,
		NextLeaseId: 1,
	}); err != nil {
		return cur, err
	}
	next := types.EpochInfo{Number: cur.Number + 1, StartHeight: h + 1}
	if err := k.Epoch.Set(ctx, next); err != nil {
		return cur, err
	}
	return next, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventEpochStarted{
		Epoch: next.Number, StartHeight: next.StartHeight,
	})
}

// oldestSweep returns the unfinished sweep of the oldest ended epoch, if any.
func (k Keeper) oldestSweep(ctx context.Context) (types.EpochSweep, bool, error) {
	it, err := k.Sweeps.Iterate(ctx, nil)
	if err != nil {
		return types.EpochSweep{}, false, err
	}
	defer func() { _ = it.Close() }()
	if !it.Valid() {
		return types.EpochSweep{}, false, nil
	}
	s, err := it.Value()
	return s, err == nil, err
}

// sweep looks for nodes that owed a report for an ended epoch and sent none. An epoch is swept once no report
// for it can arrive any more (its last block plus grace_blocks), oldest epoch first. A node owes a report for
// epoch E when it is in the placement of a lease that is ACTIVE now and was activated before E started, so
// that it ran through the whole epoch. The sweep walks the ACTIVE leases in id order from a stored cursor
// (lease id, node index), one budget unit per lease visited or node checked, at most
// max_nodes_checked_per_block per block; an epoch with more work continues in the next block.
//
// Nodes that a missed epoch takes over max_faults are slashed after the walk (slashing closes leases, which
// must not happen under the walk's iterator), in the order their faults were recorded.
func (k Keeper) sweep(ctx context.Context, p types.Params) error {
	var over []overLimitNode
	if err := k.sweepEpochs(ctx, p, &over); err != nil {
		return err
	}
	for _, o := range over {
		if _, err := k.slash(ctx, p, o.nodeID, o.epoch); err != nil {
			return err
		}
	}
	return nil
}

// overLimitNode is a node a fault took over max_faults, with the fault's epoch.
type overLimitNode struct {
	nodeID string
	epoch  uint64
}

func (k Keeper) sweepEpochs(ctx context.Context, p types.Params, over *[]overLimitNode) error {
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	budget := p.MaxNodesCheckedPerBlock
	for budget > 0 {
		s, ok, err := k.oldestSweep(ctx)
		if err != nil || !ok {
			return err
		}
		if h < s.EndHeight+int64(p.GraceBlocks) {
			return nil // reports for the epoch may still arrive
		}
		done, err := k.sweepEpoch(ctx, p, &s, &budget, over)
		if err != nil {
			return err
		}
		if !done {
			return k.Sweeps.Set(ctx, s.Epoch, s)
		}
		if err := k.Sweeps.Remove(ctx, s.Epoch); err != nil {
			return err
		}
		if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventEpochSwept{
			Epoch: s.Epoch, NodesChecked: s.NodesChecked, Faults: s.Faults,
		}); err != nil {
			return err
		}
	}
	return nil
}

// sweepEpoch checks nodes of s's epoch from its cursor until the budget is spent (done false, cursor moved)
// or every ACTIVE lease has been visited (done true).
func (k Keeper) sweepEpoch(ctx context.Context, p types.Params, s *types.EpochSweep, budget *uint32, over *[]overLimitNode) (bool, error) {
	done := true
	err := k.leases.WalkActiveLeases(ctx, s.NextLeaseId, func(l leasetypes.Lease) (bool, error) {
		if *budget == 0 {
			s.NextLeaseId, s.NextNodeIndex, done = l.Id, 0, false
			return true, nil
		}
		if l.ActivatedHeight >= s.StartHeight {
			// Placed during or after the epoch: its nodes did not owe a report for all of it.
			*budget--
			s.NextLeaseId, s.NextNodeIndex = l.Id+1, 0
			return false, nil
		}
		nodes := l.NodeIDs()
		for i := int(s.NextNodeIndex); i < len(nodes); i++ {
			if *budget == 0 {
				s.NextLeaseId, s.NextNodeIndex, done = l.Id, uint32(i), false
				return true, nil
			}
			*budget--
			s.NodesChecked++
			recorded, overLimit, err := k.checkMissedEpoch(ctx, p, nodes[i], s.Epoch)
			if err != nil {
				return true, err
			}
			if recorded {
				s.Faults++
			}
			if overLimit && !slices.ContainsFunc(*over, func(o overLimitNode) bool { return o.nodeID == nodes[i] }) {
				*over = append(*over, overLimitNode{nodeID: nodes[i], epoch: s.Epoch})
			}
		}
		s.NextLeaseId, s.NextNodeIndex = l.Id+1, 0
		return false, nil
	})
	return done, err
}

// checkMissedEpoch records a MISSED_EPOCH fault for nodeID in epoch unless it reported for the epoch or the
// fault is already recorded (a node on several leases is checked once per lease).
func (k Keeper) checkMissedEpoch(ctx context.Context, p types.Params, nodeID string, epoch uint64) (recorded, overLimit bool, err error) {
	reported, err := k.Reports.Has(ctx, collections.Join(nodeID, epoch))
	if err != nil || reported {
		return false, false, err
	}
	has, err := k.hasFault(ctx, nodeID, epoch, types.FAULT_KIND_MISSED_EPOCH)
	if err != nil || has {
		return false, false, err
	}
	_, overLimit, err = k.recordFault(ctx, p, types.Fault{
		NodeId: nodeID,
		Epoch:  epoch,
		Kind:   types.FAULT_KIND_MISSED_EPOCH,
		Detail: "no telemetry report for the epoch while the node served an active lease",
	})
	return err == nil, overLimit, err
}

// prune removes, oldest first and at most max_pruned_per_block in all, the reports and the idle link
// aggregates (newest sample) from epochs more than report_retention_epochs before the current one. Nothing
// an unfinished sweep still reads is pruned.
func (k Keeper) prune(ctx context.Context, p types.Params, cur types.EpochInfo) error {
	if p.ReportRetentionEpochs == 0 || cur.Number <= p.ReportRetentionEpochs {
		return nil
	}
	before := cur.Number - p.ReportRetentionEpochs
	if s, ok, err := k.oldestSweep(ctx); err != nil {
		return err
	} else if ok {
		before = min(before, s.Epoch)
	}
	budget := int(p.MaxPrunedPerBlock)

	var reports []ReportKey
	rr := new(collections.Range[collections.Pair[uint64, string]]).EndExclusive(collections.PairPrefix[uint64, string](before))
	err := k.Reports.Indexes.Epoch.Walk(ctx, rr, func(epoch uint64, node string) (bool, error) {
		reports = append(reports, collections.Join(node, epoch))
		return len(reports) >= budget, nil
	})
	if err != nil {
		return err
	}
	for _, key := range reports {
		if err := k.Reports.Remove(ctx, key); err != nil {
			return err
		}
	}
	budget -= len(reports)

	var links []LinkKey
	if budget > 0 {
		lr := new(collections.Range[collections.Pair[uint64, LinkKey]]).EndExclusive(collections.PairPrefix[uint64, LinkKey](before))
		err := k.Links.Indexes.Epoch.Walk(ctx, lr, func(_ uint64, key LinkKey) (bool, error) {
			links = append(links, key)
			return len(links) >= budget, nil
		})
		if err != nil {
			return err
		}
		for _, key := range links {
			if err := k.Links.Remove(ctx, key); err != nil {
				return err
			}
		}
	}
	if len(reports) == 0 && len(links) == 0 {
		return nil
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventTelemetryPruned{
		BeforeEpoch: before, Reports: uint32(len(reports)), Links: uint32(len(links)),
	})
}

// hasFault reports whether nodeID already has a fault of kind in epoch.
func (k Keeper) hasFault(ctx context.Context, nodeID string, epoch uint64, kind types.FaultKind) (bool, error) {
	_, found, err := k.faultOf(ctx, nodeID, epoch, kind)
	return found, err
}

// faultOf returns nodeID's fault of kind in epoch, if it has one (at most one per node, epoch and kind).
func (k Keeper) faultOf(ctx context.Context, nodeID string, epoch uint64, kind types.FaultKind) (types.Fault, bool, error) {
	var fault types.Fault
	found := false
	err := k.Faults.Indexes.NodeEpoch.Walk(ctx,
		collections.NewPrefixedPairRange[collections.Pair[string, uint64], uint64](collections.Join(nodeID, epoch)),
		func(_ collections.Pair[string, uint64], id uint64) (bool, error) {
			f, err := k.Faults.Get(ctx, id)
			if err != nil {
				return true, err
			}
			if f.Kind == kind {
				fault, found = f, true
			}
			return found, nil
		})
	return fault, found, err
}

// FaultsInWindow counts nodeID's faults in the fault_window_epochs epochs ending with the current one, after
// the epoch of its last slash (faults a slash has punished do not count again).
func (k Keeper) FaultsInWindow(ctx context.Context, nodeID string) (uint32, error) {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	cur, err := k.Epoch.Get(ctx)
	if err != nil {
		return 0, err
	}
	return k.faultsInWindow(ctx, p, cur.Number, nodeID)
}

func (k Keeper) faultsInWindow(ctx context.Context, p types.Params, current uint64, nodeID string) (uint32, error) {
	ids, err := k.windowFaultIDs(ctx, p, current, nodeID)
	return uint32(len(ids)), err
}

// windowFaultIDs lists nodeID's faults that count towards max_faults: those of the fault_window_epochs
// epochs ending with current and after the node's last slash, in (epoch, id) order. It reads the node's
// part of faults_by_node for the window only.
func (k Keeper) windowFaultIDs(ctx context.Context, p types.Params, current uint64, nodeID string) ([]uint64, error) {
	from := uint64(1)
	if current > p.FaultWindowEpochs {
		from = current - p.FaultWindowEpochs + 1
	}
	stats, err := k.NodeStats.Get(ctx, nodeID)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	from = max(from, stats.LastSlashEpoch+1)
	if from > current {
		return nil, nil
	}
	rng := new(collections.Range[collections.Pair[collections.Pair[string, uint64], uint64]]).
		StartInclusive(collections.PairPrefix[collections.Pair[string, uint64], uint64](collections.Join(nodeID, from))).
		EndExclusive(collections.PairPrefix[collections.Pair[string, uint64], uint64](collections.Join(nodeID, current+1)))
	var ids []uint64
	err = k.Faults.Indexes.NodeEpoch.Walk(ctx, rng, func(_ collections.Pair[string, uint64], id uint64) (bool, error) {
		ids = append(ids, id)
		return false, nil
	})
	return ids, err
}

// nextFaultID is the id the next fault gets; ids start at 1.
func (k Keeper) nextFaultID(ctx context.Context) (uint64, error) {
	id, err := k.FaultSeq.Peek(ctx)
	if err != nil {
		return 0, err
	}
	return max(id, 1), nil
}

// recordFault stores a fault at the current height with the next id, counts it in the node's stats, emits
// EventFaultRecorded and lowers the node's reputation by reputation_fault_penalty_bps. overLimit reports
// that the node now has more than max_faults faults in the window: the caller slashes it (see slash).
func (k Keeper) recordFault(ctx context.Context, p types.Params, f types.Fault) (recorded types.Fault, overLimit bool, err error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	id, err := k.nextFaultID(ctx)
	if err != nil {
		return f, false, err
	}
	f.Id = id
	f.Height = sdkCtx.BlockHeight()
	cur, err := k.Epoch.Get(ctx)
	if err != nil {
		return f, false, err
	}
	if f.EpochStartHeight, err = k.epochStart(ctx, p, cur, f.Epoch); err != nil {
		return f, false, err
	}
	if err := k.FaultSeq.Set(ctx, id+1); err != nil {
		return f, false, err
	}
	if err := k.Faults.Set(ctx, id, f); err != nil {
		return f, false, err
	}
	if err := k.updateStats(ctx, f.NodeId, func(s *types.NodeAuditStats) {
		s.Faults++
		if f.Kind == types.FAULT_KIND_MISSED_EPOCH {
			s.MissedEpochs++
		}
	}); err != nil {
		return f, false, err
	}
	inWindow, err := k.faultsInWindow(ctx, p, cur.Number, f.NodeId)
	if err != nil {
		return f, false, err
	}
	k.logger.Info("fault recorded", "node", f.NodeId, "epoch", f.Epoch, "kind", f.Kind.String(), "faults_in_window", inWindow)
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventFaultRecorded{Fault: f, FaultsInWindow: inWindow}); err != nil {
		return f, false, err
	}
	if _, err := k.adjustReputation(ctx, f.NodeId, f.Epoch, -int64(p.ReputationFaultPenaltyBps), types.REPUTATION_REASON_FAULT); err != nil {
		return f, false, err
	}
	return f, inWindow > p.MaxFaults, nil
}

// epochStart is the first block of epoch: the current one, or an ended one whose sweep is still queued. For an
// older epoch (a challenge upheld against a report whose epoch has been swept) it is reckoned back from the
// current epoch's start at the current epoch_blocks, and never before height 1.
func (k Keeper) epochStart(ctx context.Context, p types.Params, cur types.EpochInfo, epoch uint64) (int64, error) {
	if epoch == cur.Number {
		return cur.StartHeight, nil
	}
	s, err := k.Sweeps.Get(ctx, epoch)
	switch {
	case err == nil:
		return s.StartHeight, nil
	case errors.Is(err, collections.ErrNotFound) && epoch < cur.Number:
		back := int64(cur.Number-epoch) * int64(p.EpochBlocks)
		return max(cur.StartHeight-back, 1), nil
	case errors.Is(err, collections.ErrNotFound):
		return sdk.UnwrapSDKContext(ctx).BlockHeight(), nil
	default:
		return 0, err
	}
}

// updateStats applies change to nodeID's stats, creating them on first use.
func (k Keeper) updateStats(ctx context.Context, nodeID string, change func(*types.NodeAuditStats)) error {
	s, err := k.NodeStats.Get(ctx, nodeID)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		s = types.NodeAuditStats{NodeId: nodeID}
	case err != nil:
		return err
	}
	change(&s)
	return k.NodeStats.Set(ctx, nodeID, s)
}

// adjustReputation moves nodeID's reputation (x/allocation's Node.reputation_bps) by delta, clamped to
// 0..10000, and emits EventReputationChanged when it changed. It returns the new value. A node that is no
// longer registered has no reputation to change.
func (k Keeper) adjustReputation(ctx context.Context, nodeID string, epoch uint64, delta int64, reason types.ReputationReason) (uint32, error) {
	n, err := k.alloc.GetNode(ctx, nodeID)
	if err != nil {
		if isNodeNotFound(err) {
			return 0, nil
		}
		return 0, err
	}
	old := n.ReputationBps
	next := uint32(min(max(int64(old)+delta, 0), int64(types.BpsDenominator)))
	if next == old {
		return old, nil
	}
	if err := k.alloc.SetNodeReputation(ctx, nodeID, next); err != nil {
		return old, err
	}
	return next, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventReputationChanged{
		NodeId: nodeID, Epoch: epoch, OldBps: old, NewBps: next, Reason: reason,
	})
}
