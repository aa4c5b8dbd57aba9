package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

var _ allocationtypes.AuditKeeper = Keeper{}

// RecordDecision stores the record of an allocation decision made at the current block height and returns
// its id. x/allocation calls it from EndBlock with the lease's spec and price conversion, the scoring
// weights, every candidate with its inputs and score (rejected ones with their reason), and the index of the
// winner. The winner must be a scored candidate; node_ids are taken from it. A refused record changes no
// state and consumes no id.
func (k Keeper) RecordDecision(
	ctx context.Context,
	leaseID uint64,
	spec leasetypes.LeaseSpec,
	blocksPerHour uint64,
	weights allocationtypes.ScoringWeights,
	candidates []allocationtypes.Candidate,
	winner uint32,
) (uint64, error) {
	if err := types.ValidateWinner(candidates, winner); err != nil {
		return 0, err
	}
	id, err := k.nextDecisionID(ctx)
	if err != nil {
		return 0, err
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
	// The same checks as genesis import, so that every stored record can be exported and imported again.
	if err := d.Validate(); err != nil {
		return 0, err
	}
	if err := k.DecisionSeq.Set(ctx, id+1); err != nil {
		return 0, err
	}
	if err := k.Decisions.Set(ctx, id, d); err != nil {
		return 0, err
	}
	return id, sdkCtx.EventManager().EmitTypedEvent(&types.EventDecisionRecorded{
		DecisionId: id,
		LeaseId:    leaseID,
		Height:     d.Height,
		Candidates: uint32(len(candidates)),
	})
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
