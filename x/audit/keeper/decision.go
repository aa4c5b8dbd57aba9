package keeper

import (
	"context"
	"errors"
	"slices"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit/types"
	"github.com/consensus-nro/nro/x/internal/typedevent"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

var _ allocationtypes.AuditKeeper = Keeper{}

// RecordDecision stores the record of an allocation decision made at the current block height and returns
// its id. x/allocation calls it from EndBlock with the lease's spec and price conversion, the scoring
// weights, every candidate with its inputs and score (rejected ones with their reason), and the index of the
// winner. The winner must be a scored candidate; node_ids are taken from it. moved is the placement the
// lease was moved off when the decision re-places it (nil for a first placement); the record then holds the
// move: its reason, the previous placement and how many GPUs the winner keeps and moves. A refused record
// changes no state and consumes no id.
func (k Keeper) RecordDecision(
	ctx context.Context,
	leaseID uint64,
	spec leasetypes.LeaseSpec,
	blocksPerHour uint64,
	weights allocationtypes.ScoringWeights,
	candidates []allocationtypes.Candidate,
	winner uint32,
	moved *leasetypes.PastPlacement,
) (uint64, error) {
	id, store, err := k.PrepareDecision(ctx, leaseID, spec, blocksPerHour, weights, candidates, winner, moved)
	if err != nil {
		return 0, err
	}
	return id, store()
}

// PrepareDecision does the checks of RecordDecision and returns the id the record gets and the function that
// stores it; it writes nothing itself, and store fails only if the store does. The allocation engine checks
// every step of a decision this way before it writes any, so that a refused decision leaves no state behind.
func (k Keeper) PrepareDecision(
	ctx context.Context,
	leaseID uint64,
	spec leasetypes.LeaseSpec,
	blocksPerHour uint64,
	weights allocationtypes.ScoringWeights,
	candidates []allocationtypes.Candidate,
	winner uint32,
	moved *leasetypes.PastPlacement,
) (uint64, func() error, error) {
	if err := types.ValidateWinner(candidates, winner); err != nil {
		return 0, nil, err
	}
	id, err := k.nextDecisionID(ctx)
	if err != nil {
		return 0, nil, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	d := types.Decision{
		Id:            id,
		LeaseId:       leaseID,
		Height:        sdkCtx.BlockHeight(),
		Spec:          spec,
		BlocksPerHour: blocksPerHour,
		Weights:       weights,
		Candidates:    candidates,
		Winner:        winner,
		NodeIds:       types.PlacementNodeIDs(candidates[winner]),
	}
	if moved != nil {
		prev := leasetypes.Placements(moved.Nodes)
		kept, movedGPUs := types.KeptAndMoved(prev, candidates[winner])
		d.Reallocation = &types.Reallocation{
			Reason:             moved.Reason,
			TriggerNodeIds:     slices.Clone(moved.TriggerNodeIds),
			PreviousDecisionId: moved.DecisionId,
			PreviousPlacement:  prev,
			PreviousRingOrder:  slices.Clone(moved.RingOrder),
			EndedHeight:        moved.EndedHeight,
			KeptGpus:           kept,
			MovedGpus:          movedGPUs,
		}
	}
	// The same checks as genesis import, so that every stored record can be exported and imported again.
	if err := d.Validate(); err != nil {
		return 0, nil, err
	}
	return id, func() error {
		if err := k.DecisionSeq.Set(ctx, id+1); err != nil {
			return err
		}
		if err := k.Decisions.Set(ctx, id, d); err != nil {
			return err
		}
		sdkCtx.EventManager().EmitEvent(typedevent.DecisionRecorded(&types.EventDecisionRecorded{
			DecisionId: id,
			LeaseId:    leaseID,
			Height:     d.Height,
			Candidates: uint32(len(candidates)),
		}))
		return nil
	}, nil
}

// MeasuredLink returns the link matrix's medians between two nodes (throughput in Mbit/s) and the epoch of
// the newest sample, when that sample is within link_report_window_epochs of the current epoch.
func (k Keeper) MeasuredLink(ctx context.Context, x, y string) (rttUs, bandwidthMbps, epoch uint64, found bool, err error) {
	a, b := types.LinkKey(x, y)
	agg, err := k.Links.Get(ctx, collections.Join(a, b))
	if errors.Is(err, collections.ErrNotFound) {
		return 0, 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, 0, false, err
	}
	p, err := k.Params.Get(ctx)
	if err != nil {
		return 0, 0, 0, false, err
	}
	cur, err := k.Epoch.Get(ctx)
	if err != nil {
		return 0, 0, 0, false, err
	}
	if agg.Epoch+p.LinkReportWindowEpochs <= cur.Number || len(agg.Samples) == 0 {
		return 0, 0, 0, false, nil
	}
	return agg.MedianRttUs, agg.MedianThroughputKbps / 1000, agg.Epoch, true, nil
}

// nextDecisionID is the id the next decision gets. Id 0 is never assigned: a sequence that genesis did not
// set starts at 1.
func (k Keeper) nextDecisionID(ctx context.Context) (uint64, error) {
	id, err := k.DecisionSeq.Peek(ctx)
	if err != nil {
		return 0, err
	}
	return max(id, 1), nil
}

// GetDecision returns a decision by id, or ErrDecisionNotFound.
func (k Keeper) GetDecision(ctx context.Context, id uint64) (types.Decision, error) {
	d, err := k.Decisions.Get(ctx, id)
	if err != nil {
		if errors.Is(err, collections.ErrNotFound) {
			return types.Decision{}, types.ErrDecisionNotFound.Wrapf("no decision with id %d", id)
		}
		return types.Decision{}, err
	}
	return d, nil
}
