package keeper

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/internal/typedevent"
	"github.com/consensus-nro/nro/x/lease/types"
)

// CreateLease validates a lease fully before touching state, moves the deposit from the submitter into
// escrow, stores the lease PENDING with its expiry in the deadline queue, and hands it to x/allocation.
func (k Keeper) CreateLease(ctx context.Context, msg *types.MsgCreateLease) (uint64, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	submitter, submitterStr, err := k.canonicalAddress(msg.Submitter)
	if err != nil {
		return 0, errorsmod.Wrapf(types.ErrInvalidAddress, "submitter %q: %v", msg.Submitter, err)
	}
	spec := msg.Spec
	if err := spec.ValidateBasic(); err != nil {
		return 0, err
	}
	if spec.TotalGpus > params.MaxTotalGpus {
		return 0, errorsmod.Wrapf(types.ErrInvalidSpec, "spec.total_gpus %d exceeds max_total_gpus %d", spec.TotalGpus, params.MaxTotalGpus)
	}
	if spec.DurationBlocks > params.MaxDurationBlocks {
		return 0, errorsmod.Wrapf(types.ErrInvalidSpec, "spec.duration_blocks %d exceeds max_duration_blocks %d (%s)",
			spec.DurationBlocks, params.MaxDurationBlocks, blocksAsTime(params.MaxDurationBlocks, params.BlocksPerHour))
	}
	alloc := k.Allocation()
	denom, err := alloc.PriceDenom(ctx)
	if err != nil {
		return 0, err
	}
	if spec.MaxPricePerGpuHour.Denom != denom {
		return 0, errorsmod.Wrapf(types.ErrInvalidPrice, "spec.max_price_per_gpu_hour denom %q: prices are in %s, e.g. 3000000%s",
			spec.MaxPricePerGpuHour.Denom, denom, denom)
	}
	if len(spec.Regions) > 0 {
		if err := alloc.ValidateLeaseRegions(ctx, spec.Regions); err != nil {
			return 0, err
		}
	}
	if err := types.ValidateCoin(types.ErrInvalidDeposit, "deposit", msg.Deposit); err != nil {
		return 0, err
	}
	if msg.Deposit.Denom != denom {
		return 0, errorsmod.Wrapf(types.ErrInvalidDeposit, "deposit denom %q: deposits are in %s, the denom of the prices", msg.Deposit.Denom, denom)
	}
	if minDeposit := params.MinDeposit(spec); msg.Deposit.Amount.LT(minDeposit) {
		return 0, errorsmod.Wrapf(types.ErrInsufficientDeposit,
			"deposit %s is below the minimum %s%s: %d GPUs × %s per GPU-hour × min_deposit_blocks %d / blocks_per_hour %d, rounded up",
			msg.Deposit, minDeposit, denom, spec.TotalGpus, spec.MaxPricePerGpuHour, params.MinDepositBlocks, params.BlocksPerHour)
	}

	if err := k.bk.SendCoinsFromAccountToModule(ctx, submitter, types.ModuleName, sdk.NewCoins(msg.Deposit)); err != nil {
		return 0, errorsmod.Wrapf(err, "escrow deposit %s from %s", msg.Deposit, submitterStr)
	}
	id, err := nextID(ctx, k.LeaseSeq)
	if err != nil {
		return 0, err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	spec.Regions = slices.Clone(spec.Regions)
	zero := sdk.NewCoin(denom, math.ZeroInt())
	lease := types.Lease{
		Id:             id,
		Submitter:      submitterStr,
		Spec:           spec,
		Deposit:        msg.Deposit,
		State:          types.LEASE_STATE_PENDING,
		TakeBps:        params.TakeBps,
		BlocksPerHour:  params.BlocksPerHour,
		CreatedHeight:  height,
		DeadlineHeight: height + int64(params.MaxPendingBlocks),
		Paid:           zero,
		Fees:           zero,
		Refunded:       zero,
	}
	if err := k.Leases.Set(ctx, id, lease); err != nil {
		return 0, err
	}
	if err := k.Deadlines.Set(ctx, collections.Join(lease.DeadlineHeight, id)); err != nil {
		return 0, err
	}
	if err := alloc.EnqueueLease(ctx, id); err != nil {
		return 0, errorsmod.Wrapf(err, "enqueue lease %d for allocation", id)
	}
	return id, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventLeaseCreated{
		LeaseId:       id,
		Submitter:     submitterStr,
		Spec:          spec,
		Deposit:       msg.Deposit,
		ExpiresHeight: lease.DeadlineHeight,
	})
}

// CancelLease cancels a PENDING lease for its submitter with a full refund.
func (k Keeper) CancelLease(ctx context.Context, msg *types.MsgCancelLease) (sdk.Coin, error) {
	lease, err := k.submitterLease(ctx, msg.Submitter, msg.LeaseId, "cancel")
	if err != nil {
		return sdk.Coin{}, err
	}
	if lease.State == types.LEASE_STATE_ACTIVE {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrLeaseNotPending,
			"lease %d is ACTIVE; close it instead (MsgCloseLease, nrod tx lease close %d): providers are paid up to now and the rest is refunded",
			lease.Id, lease.Id)
	}
	if lease.State != types.LEASE_STATE_PENDING {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrLeaseNotPending, "lease %d is %s; only a PENDING lease can be cancelled", lease.Id, lease.State)
	}
	lease, err = k.endPending(ctx, lease, types.LEASE_STATE_CANCELLED, types.CLOSE_REASON_CANCELLED)
	if err != nil {
		return sdk.Coin{}, err
	}
	return lease.Refunded, nil
}

// TopUpLease adds to the deposit of a PENDING or ACTIVE lease; anyone may pay. An ACTIVE lease is settled
// first, then its deadline moves to where the larger deposit runs out (at most its end height).
func (k Keeper) TopUpLease(ctx context.Context, msg *types.MsgTopUpLease) (types.Lease, error) {
	sender, senderStr, err := k.canonicalAddress(msg.Sender)
	if err != nil {
		return types.Lease{}, errorsmod.Wrapf(types.ErrInvalidAddress, "sender %q: %v", msg.Sender, err)
	}
	if err := types.ValidateCoin(types.ErrInvalidAmount, "amount", msg.Amount); err != nil {
		return types.Lease{}, err
	}
	lease, err := k.GetLease(ctx, msg.LeaseId)
	if err != nil {
		return types.Lease{}, err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	if !lease.IsOpen() {
		return types.Lease{}, errorsmod.Wrapf(types.ErrLeaseClosed,
			"lease %d is %s since height %d; top up a PENDING or ACTIVE lease, or create a new one", lease.Id, lease.State, lease.ClosedHeight)
	}
	if lease.State == types.LEASE_STATE_ACTIVE && lease.DeadlineHeight < height {
		return types.Lease{}, errorsmod.Wrapf(types.ErrLeaseClosed,
			"lease %d reached its deadline at height %d and is being closed; create a new lease", lease.Id, lease.DeadlineHeight)
	}
	if msg.Amount.Denom != lease.Deposit.Denom {
		return types.Lease{}, errorsmod.Wrapf(types.ErrInvalidAmount, "amount denom %q: lease %d's deposit is in %s",
			msg.Amount.Denom, lease.Id, lease.Deposit.Denom)
	}

	// The payment comes in before the settlement, so that a sender who cannot pay changes nothing.
	if err := k.bk.SendCoinsFromAccountToModule(ctx, sender, types.ModuleName, sdk.NewCoins(msg.Amount)); err != nil {
		return types.Lease{}, errorsmod.Wrapf(err, "escrow top-up %s from %s", msg.Amount, senderStr)
	}
	if err := k.settle(ctx, &lease, height); err != nil {
		return types.Lease{}, err
	}
	lease.Deposit = lease.Deposit.Add(msg.Amount)
	if lease.State == types.LEASE_STATE_ACTIVE {
		if err := k.moveDeadline(ctx, &lease, lease.ComputeDeadline()); err != nil {
			return types.Lease{}, err
		}
	}
	if err := k.Leases.Set(ctx, lease.Id, lease); err != nil {
		return types.Lease{}, err
	}
	return lease, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventLeaseToppedUp{
		LeaseId:        lease.Id,
		Amount:         msg.Amount,
		Deposit:        lease.Deposit,
		DeadlineHeight: lease.DeadlineHeight,
	})
}

// CloseLease ends an ACTIVE lease for its submitter: providers are paid up to this block (or the deadline,
// if it passed), the rest of the deposit is refunded. It returns the lease as closed.
func (k Keeper) CloseLease(ctx context.Context, msg *types.MsgCloseLease) (types.Lease, error) {
	lease, err := k.submitterLease(ctx, msg.Submitter, msg.LeaseId, "close")
	if err != nil {
		return types.Lease{}, err
	}
	if lease.State == types.LEASE_STATE_PENDING {
		return types.Lease{}, errorsmod.Wrapf(types.ErrLeaseNotActive,
			"lease %d is PENDING (not placed yet); cancel it instead (MsgCancelLease, nrod tx lease cancel %d) for a full refund", lease.Id, lease.Id)
	}
	if lease.State != types.LEASE_STATE_ACTIVE {
		return types.Lease{}, errorsmod.Wrapf(types.ErrLeaseNotActive, "lease %d is already %s", lease.Id, lease.State)
	}
	return k.closeActive(ctx, lease, types.CLOSE_REASON_SUBMITTER_CLOSED)
}

// ReallocateLease moves an ACTIVE lease off its placement because of triggers, nodes of the placement
// (x/audit: a node jailed, or both ends of a degraded link). It settles every node up to settleUntil — for a
// jailed node the start of its faults, so that the submitter pays no node for the blocks the job could not
// run; never less than already settled, as a payment is never taken back — and counts the settled blocks as
// served. It frees the GPUs, writes the nodes' settlement records, keeps the placement in past_placements and
// makes the lease PENDING again with the rest of its deposit: x/allocation places it for the remaining
// duration (proposals accepted again for proposal_window_blocks, then the fallback), or it expires with a
// refund after max_pending_blocks. A lease with no duration or deposit left closes instead, with reason
// PROVIDER_FAULT; one already at its deadline closes as its deadline says (COMPLETED or INSUFFICIENT_FUNDS).
// It returns the lease and whether it was moved (false: closed).
func (k Keeper) ReallocateLease(ctx context.Context, leaseID uint64, reason types.ReallocationReason, triggers []string, settleUntil int64) (types.Lease, bool, error) {
	lease, err := k.GetLease(ctx, leaseID)
	if err != nil {
		return types.Lease{}, false, err
	}
	if lease.State != types.LEASE_STATE_ACTIVE {
		return types.Lease{}, false, errorsmod.Wrapf(types.ErrLeaseNotActive, "lease %d is %s; only an ACTIVE lease can be moved", lease.Id, lease.State)
	}
	if reason == types.REALLOCATION_REASON_UNSPECIFIED || len(triggers) == 0 {
		return types.Lease{}, false, errorsmod.Wrapf(types.ErrInvalidPlacement, "moving lease %d needs a reason and the nodes that caused it", lease.Id)
	}
	for _, id := range triggers {
		if !slices.Contains(lease.NodeIDs(), id) {
			return types.Lease{}, false, errorsmod.Wrapf(types.ErrInvalidPlacement, "lease %d is not placed on node %s (its nodes: %s)", lease.Id, id, strings.Join(lease.NodeIDs(), ", "))
		}
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Lease{}, false, err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	if lease.DeadlineHeight <= height {
		// Due to close in this block's EndBlock anyway (completed or out of funds): close it for that reason.
		closed, err := k.closeActive(ctx, lease, lease.DeadlineReason())
		return closed, false, err
	}
	if err := k.settle(ctx, &lease, max(min(settleUntil, height), lease.ActivatedHeight)); err != nil {
		return types.Lease{}, false, err
	}
	served := lease.SettledHeight - lease.ActivatedHeight
	if lease.ServedBlocks()+served >= int64(lease.Spec.DurationBlocks) || !lease.EscrowBalance().IsPositive() {
		closed, err := k.closeSettled(ctx, lease, types.CLOSE_REASON_PROVIDER_FAULT)
		return closed, false, err
	}
	if err := k.Allocation().ReleaseLease(ctx, lease); err != nil {
		return types.Lease{}, false, errorsmod.Wrapf(err, "release the GPUs of lease %d", lease.Id)
	}
	if err := k.recordSettlements(ctx, lease, lease.Nodes, height); err != nil {
		return types.Lease{}, false, err
	}
	previous := lease.NodeIDs()
	lease.PastPlacements = append(lease.PastPlacements, types.PastPlacement{
		Nodes:           lease.Nodes,
		RingOrder:       lease.RingOrder,
		DecisionId:      lease.DecisionId,
		ActivatedHeight: lease.ActivatedHeight,
		EndedHeight:     height,
		ServedBlocks:    served,
		Reason:          reason,
		TriggerNodeIds:  slices.Clone(triggers),
	})
	lease.Nodes, lease.RingOrder, lease.DecisionId = nil, nil, 0
	lease.ActivatedHeight, lease.EndHeight, lease.SettledHeight = 0, 0, 0
	lease.State = types.LEASE_STATE_PENDING
	if err := k.moveDeadline(ctx, &lease, height+int64(params.MaxPendingBlocks)); err != nil {
		return types.Lease{}, false, err
	}
	if err := k.Leases.Set(ctx, lease.Id, lease); err != nil {
		return types.Lease{}, false, err
	}
	if err := k.Allocation().EnqueueLease(ctx, lease.Id); err != nil {
		return types.Lease{}, false, errorsmod.Wrapf(err, "queue lease %d for a new placement", lease.Id)
	}
	k.logger.Info("lease moved off its placement", "lease", lease.Id, "reason", reason.String(), "triggers", strings.Join(triggers, ","))
	return lease, true, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventLeaseReallocating{
		LeaseId:         lease.Id,
		Reason:          reason,
		TriggerNodeIds:  slices.Clone(triggers),
		PreviousNodeIds: previous,
		SettledUntil:    lease.PastPlacements[len(lease.PastPlacements)-1].ActivatedHeight + served,
		ServedBlocks:    lease.ServedBlocks(),
		RemainingBlocks: lease.RemainingBlocks(),
		DeadlineHeight:  lease.DeadlineHeight,
	})
}

// ActivateLease turns a PENDING lease ACTIVE on a placement decided by x/allocation, which has already
// reserved the GPUs. The terms (nodes, prices, operators) are locked; payment runs from this block; the end
// height is this block plus the duration not yet served (all of it, unless the lease was moved), and the
// deadline is the end height, or earlier when the deposit runs out first.
func (k Keeper) ActivateLease(ctx context.Context, id uint64, nodes []types.LeaseNode, ringOrder []string, decisionID uint64) error {
	activate, err := k.PrepareActivation(ctx, id, nodes, ringOrder, decisionID)
	if err != nil {
		return err
	}
	return activate()
}

// PrepareActivation does the checks of ActivateLease and returns the function that stores the activation; it
// writes nothing itself, and activate fails only if the store does. The allocation engine checks every step
// of a decision this way before it writes any, so that a refused decision leaves no state behind.
func (k Keeper) PrepareActivation(ctx context.Context, id uint64, nodes []types.LeaseNode, ringOrder []string, decisionID uint64) (func() error, error) {
	lease, err := k.GetLease(ctx, id)
	if err != nil {
		return nil, err
	}
	if lease.State != types.LEASE_STATE_PENDING {
		return nil, errorsmod.Wrapf(types.ErrLeaseNotPending, "lease %d is %s; only a PENDING lease can be activated", id, lease.State)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	placed := make([]types.LeaseNode, len(nodes))
	for i, n := range nodes {
		n.Paid = math.ZeroInt()
		// Payouts go through the bridge for nodes with an Ethereum address while it is enabled; the choice is
		// locked for the placement, like the price.
		n.Bridged = params.BridgeEnabled && n.EthAddress != ""
		// Stored addresses are canonical (lower case); only one with upper-case letters can differ from its
		// canonical form (an invalid one is refused by ValidateNodes below either way).
		if strings.ToLower(n.Operator) != n.Operator {
			if _, canonical, err := k.canonicalAddress(n.Operator); err == nil {
				n.Operator = canonical
			}
		}
		placed[i] = n
	}
	if err := types.ValidateNodes(k.addrCodec, lease.Spec, lease.Deposit.Denom, placed, ringOrder); err != nil {
		return nil, errorsmod.Wrapf(err, "activate lease %d", id)
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	lease.Nodes = placed
	lease.RingOrder = slices.Clone(ringOrder)
	lease.DecisionId = decisionID
	lease.ActivatedHeight = height
	lease.EndHeight = height + lease.RemainingBlocks()
	lease.SettledHeight = height
	lease.State = types.LEASE_STATE_ACTIVE
	deadline := lease.ComputeDeadline()
	return func() error {
		if err := k.moveDeadline(ctx, &lease, deadline); err != nil {
			return err
		}
		if err := k.Leases.Set(ctx, id, lease); err != nil {
			return err
		}
		nodeIDs := make([]string, len(lease.Nodes))
		for i, n := range lease.Nodes {
			nodeIDs[i] = n.NodeId
		}
		sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(typedevent.LeaseActivated(&types.EventLeaseActivated{
			LeaseId:        id,
			NodeIds:        nodeIDs,
			RingOrder:      lease.RingOrder,
			DecisionId:     decisionID,
			RatePerHour:    sdk.NewCoin(lease.Deposit.Denom, lease.TotalRate()).String(),
			EndHeight:      lease.EndHeight,
			DeadlineHeight: lease.DeadlineHeight,
		}))
		return nil
	}, nil
}

// submitterLease loads a lease and checks that signer is its submitter; action names what the signer tried.
func (k Keeper) submitterLease(ctx context.Context, signer string, id uint64, action string) (types.Lease, error) {
	_, canonical, err := k.canonicalAddress(signer)
	if err != nil {
		return types.Lease{}, errorsmod.Wrapf(types.ErrInvalidAddress, "submitter %q: %v", signer, err)
	}
	if id == 0 {
		return types.Lease{}, errorsmod.Wrap(types.ErrInvalidLeaseID, "lease_id must be set; ids start at 1")
	}
	lease, err := k.GetLease(ctx, id)
	if err != nil {
		return types.Lease{}, err
	}
	if lease.Submitter != canonical {
		return types.Lease{}, errorsmod.Wrapf(types.ErrUnauthorized, "lease %d was submitted by %s; only its submitter may %s it, not %s",
			lease.Id, lease.Submitter, action, signer)
	}
	return lease, nil
}

// moveDeadline moves the lease's deadline queue entry to a new height and records it on the lease (which
// the caller stores).
func (k Keeper) moveDeadline(ctx context.Context, lease *types.Lease, deadline int64) error {
	if deadline == lease.DeadlineHeight {
		return nil
	}
	if err := k.Deadlines.Remove(ctx, collections.Join(lease.DeadlineHeight, lease.Id)); err != nil {
		return err
	}
	lease.DeadlineHeight = deadline
	return k.Deadlines.Set(ctx, collections.Join(deadline, lease.Id))
}

// blocksAsTime renders a block count as whole hours or days at the locked block rate, for error messages.
func blocksAsTime(blocks, blocksPerHour uint64) string {
	hours := blocks / blocksPerHour
	if hours >= 48 {
		return fmt.Sprintf("about %d days", hours/24)
	}
	return fmt.Sprintf("about %d hours", hours)
}
