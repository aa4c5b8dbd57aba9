package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/consensus-nro/nro/x/lease/types"
)

// settle pays an ACTIVE lease's nodes what they earned up to height (at most the deadline), from escrow:
// each operator its net share, the fee collector the fee. It updates the lease in memory; the caller stores
// it. Nothing happens for a lease in another state or already settled to that height.
func (k Keeper) settle(ctx context.Context, lease *types.Lease, height int64) error {
	if lease.State != types.LEASE_STATE_ACTIVE {
		return nil
	}
	target := min(height, lease.DeadlineHeight)
	if target <= lease.SettledHeight {
		return nil
	}
	payments, err := types.SettleNodes(lease.Nodes, target-lease.ActivatedHeight, lease.BlocksPerHour, lease.TakeBps)
	if err != nil {
		return errorsmod.Wrapf(err, "settle lease %d", lease.Id)
	}
	total := types.SumPayments(payments)
	if total.Gross.GT(lease.EscrowBalance()) {
		// Cannot happen while the deadline is computed from the deposit; refuse rather than pay from other
		// leases' escrow.
		return errorsmod.Wrapf(types.ErrInvalidDeposit, "settle lease %d: %s owed exceeds the escrow balance %s",
			lease.Id, total.Gross, lease.EscrowBalance())
	}
	denom := lease.Deposit.Denom

	// One transfer per operator, in placement order, so that an operator with several nodes gets one payment;
	// the shares of bridged nodes go, in one transfer, to the bridge escrow, and are paid on Ethereum by a
	// settlement batch once the lease leaves the placement.
	var operators []string
	net := map[string]math.Int{}
	bridged := math.ZeroInt()
	for i, p := range payments {
		if lease.Nodes[i].Bridged {
			bridged = bridged.Add(p.Provider())
			continue
		}
		op := lease.Nodes[i].Operator
		if _, ok := net[op]; !ok {
			operators = append(operators, op)
			net[op] = math.ZeroInt()
		}
		net[op] = net[op].Add(p.Provider())
	}
	for _, op := range operators {
		if !net[op].IsPositive() {
			continue
		}
		addr, err := k.addrCodec.StringToBytes(op)
		if err != nil {
			return err
		}
		if err := k.bk.SendCoinsFromModuleToAccount(ctx, types.ModuleName, addr, sdk.NewCoins(sdk.NewCoin(denom, net[op]))); err != nil {
			return errorsmod.Wrapf(err, "pay operator %s for lease %d", op, lease.Id)
		}
	}
	if bridged.IsPositive() {
		if err := k.bk.SendCoinsFromModuleToModule(ctx, types.ModuleName, types.BridgeEscrowName,
			sdk.NewCoins(sdk.NewCoin(denom, bridged))); err != nil {
			return errorsmod.Wrapf(err, "move the bridged payouts of lease %d to the bridge escrow", lease.Id)
		}
	}
	if total.Fee.IsPositive() {
		if err := k.bk.SendCoinsFromModuleToModule(ctx, types.ModuleName, authtypes.FeeCollectorName,
			sdk.NewCoins(sdk.NewCoin(denom, total.Fee))); err != nil {
			return errorsmod.Wrapf(err, "pay fee of lease %d", lease.Id)
		}
	}

	for i := range lease.Nodes {
		lease.Nodes[i].Paid = lease.Nodes[i].Paid.Add(payments[i].Gross)
	}
	lease.Paid = lease.Paid.AddAmount(total.Gross)
	lease.Fees = lease.Fees.AddAmount(total.Fee)
	lease.SettledHeight = target
	if !total.Gross.IsPositive() {
		return nil
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventLeaseSettled{
		LeaseId:       lease.Id,
		SettledHeight: target,
		Amount:        sdk.NewCoin(denom, total.Gross),
		Fee:           sdk.NewCoin(denom, total.Fee),
	})
}

// Accrued is what settling the lease at height would pay, fee included, computed without writing anything.
func (k Keeper) Accrued(lease types.Lease, height int64) (sdk.Coin, error) {
	zero := sdk.NewCoin(lease.Deposit.Denom, math.ZeroInt())
	if lease.State != types.LEASE_STATE_ACTIVE || min(height, lease.DeadlineHeight) <= lease.SettledHeight {
		return zero, nil
	}
	payments, err := types.SettleNodes(lease.Nodes, lease.SettlementBlocks(height), lease.BlocksPerHour, lease.TakeBps)
	if err != nil {
		return zero, err
	}
	return sdk.NewCoin(lease.Deposit.Denom, types.SumPayments(payments).Gross), nil
}

// closeActive ends an ACTIVE lease: it settles up to this block (at most the deadline), refunds the rest of
// the deposit to the submitter, frees the GPUs in x/allocation, writes one settlement record per node and
// stores the lease CLOSED with the reason.
func (k Keeper) closeActive(ctx context.Context, lease types.Lease, reason types.CloseReason) (types.Lease, error) {
	if err := k.settle(ctx, &lease, sdk.UnwrapSDKContext(ctx).BlockHeight()); err != nil {
		return types.Lease{}, err
	}
	return k.closeSettled(ctx, lease, reason)
}

// closeSettled ends an ACTIVE lease its caller has settled: it refunds the rest of the deposit, frees the
// GPUs, writes the settlement records and stores the lease CLOSED with the reason.
func (k Keeper) closeSettled(ctx context.Context, lease types.Lease, reason types.CloseReason) (types.Lease, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	height := sdkCtx.BlockHeight()
	if err := k.refund(ctx, &lease); err != nil {
		return types.Lease{}, err
	}
	// x/allocation sees the lease as it ran: ACTIVE, with its placement.
	if err := k.Allocation().ReleaseLease(ctx, lease); err != nil {
		return types.Lease{}, errorsmod.Wrapf(err, "release the GPUs of lease %d", lease.Id)
	}
	if err := k.Deadlines.Remove(ctx, collections.Join(lease.DeadlineHeight, lease.Id)); err != nil {
		return types.Lease{}, err
	}
	lease.State = types.LEASE_STATE_CLOSED
	lease.CloseReason = reason
	lease.ClosedHeight = height
	if err := k.Leases.Set(ctx, lease.Id, lease); err != nil {
		return types.Lease{}, err
	}
	if err := k.queuePrune(ctx, height, types.PruneLease, lease.Id); err != nil {
		return types.Lease{}, err
	}
	if err := k.recordSettlements(ctx, lease, lease.Nodes, height); err != nil {
		return types.Lease{}, err
	}
	k.logger.Info("lease closed", "lease", lease.Id, "reason", reason.String(), "paid", lease.Paid.String(), "refunded", lease.Refunded.String())
	return lease, sdkCtx.EventManager().EmitTypedEvent(&types.EventLeaseClosed{
		LeaseId:  lease.Id,
		State:    lease.State,
		Reason:   reason,
		Paid:     lease.Paid,
		Fees:     lease.Fees,
		Refunded: lease.Refunded,
	})
}

// recordSettlements writes one settlement record per node of a placement the lease leaves (it closes or
// moves): what the node was paid, less the fee.
func (k Keeper) recordSettlements(ctx context.Context, lease types.Lease, nodes []types.LeaseNode, height int64) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	denom := lease.Deposit.Denom
	for _, n := range nodes {
		id, err := nextID(ctx, k.RecordSeq)
		if err != nil {
			return err
		}
		fee := types.Fee(n.Paid, lease.TakeBps)
		rec := types.SettlementRecord{
			Id:         id,
			LeaseId:    lease.Id,
			NodeId:     n.NodeId,
			Operator:   n.Operator,
			EthAddress: n.EthAddress,
			Amount:     sdk.NewCoin(denom, n.Paid.Sub(fee)),
			Fee:        sdk.NewCoin(denom, fee),
			Height:     height,
			Bridged:    n.Bridged,
		}
		if err := k.SettlementRecords.Set(ctx, id, rec); err != nil {
			return err
		}
		if rec.Bridged {
			if err := k.Unbatched.Set(ctx, id); err != nil {
				return err
			}
		}
		if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventSettlementRecorded{Record: rec}); err != nil {
			return err
		}
	}
	return nil
}

// endPending ends a PENDING lease (cancelled or expired) with a full refund and takes it out of the
// allocation queue.
func (k Keeper) endPending(ctx context.Context, lease types.Lease, state types.LeaseState, reason types.CloseReason) (types.Lease, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := k.refund(ctx, &lease); err != nil {
		return types.Lease{}, err
	}
	if err := k.Allocation().DropPendingLease(ctx, lease.Id); err != nil {
		return types.Lease{}, errorsmod.Wrapf(err, "drop pending lease %d from the allocation queue", lease.Id)
	}
	if err := k.Deadlines.Remove(ctx, collections.Join(lease.DeadlineHeight, lease.Id)); err != nil {
		return types.Lease{}, err
	}
	lease.State = state
	lease.CloseReason = reason
	lease.ClosedHeight = sdkCtx.BlockHeight()
	if err := k.Leases.Set(ctx, lease.Id, lease); err != nil {
		return types.Lease{}, err
	}
	if err := k.queuePrune(ctx, lease.ClosedHeight, types.PruneLease, lease.Id); err != nil {
		return types.Lease{}, err
	}
	return lease, sdkCtx.EventManager().EmitTypedEvent(&types.EventLeaseClosed{
		LeaseId:  lease.Id,
		State:    lease.State,
		Reason:   reason,
		Paid:     lease.Paid,
		Fees:     lease.Fees,
		Refunded: lease.Refunded,
	})
}

// refund returns the lease's escrow balance to the submitter.
func (k Keeper) refund(ctx context.Context, lease *types.Lease) error {
	rest := lease.EscrowBalance()
	if !rest.IsPositive() {
		return nil
	}
	submitter, err := k.addrCodec.StringToBytes(lease.Submitter)
	if err != nil {
		return err
	}
	amount := sdk.NewCoin(lease.Deposit.Denom, rest)
	if err := k.bk.SendCoinsFromModuleToAccount(ctx, types.ModuleName, submitter, sdk.NewCoins(amount)); err != nil {
		return errorsmod.Wrapf(err, "refund %s of lease %d to %s", amount, lease.Id, lease.Submitter)
	}
	lease.Refunded = lease.Refunded.Add(amount)
	return nil
}

// ProcessDeadlines runs in EndBlock. It walks the deadline queue up to the current height in (height, id)
// order, at most max_closes_per_block entries: a PENDING lease expires with a full refund; an ACTIVE lease is
// settled up to its deadline and closed, COMPLETED when the deadline is its end height, INSUFFICIENT_FUNDS
// when its deposit ran out first. Entries beyond the bound wait for the next block; since payment never runs
// past the deadline, a lease that waits is not charged for the wait.
func (k Keeper) ProcessDeadlines(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	rng := new(collections.Range[collections.Pair[int64, uint64]]).
		EndExclusive(collections.Join(height+1, uint64(0)))
	iter, err := k.Deadlines.Iterate(ctx, rng)
	if err != nil {
		return err
	}
	due := make([]uint64, 0, params.MaxClosesPerBlock)
	for ; iter.Valid() && len(due) < int(params.MaxClosesPerBlock); iter.Next() {
		key, err := iter.Key()
		if err != nil {
			return errors.Join(err, iter.Close())
		}
		due = append(due, key.K2())
	}
	if err := iter.Close(); err != nil {
		return err
	}
	for _, id := range due {
		lease, err := k.GetLease(ctx, id)
		if err != nil {
			return errorsmod.Wrapf(err, "deadline queue entry for lease %d", id)
		}
		switch lease.State {
		case types.LEASE_STATE_PENDING:
			_, err = k.endPending(ctx, lease, types.LEASE_STATE_EXPIRED, types.CLOSE_REASON_EXPIRED)
		case types.LEASE_STATE_ACTIVE:
			_, err = k.closeActive(ctx, lease, lease.DeadlineReason())
		default:
			err = errorsmod.Wrapf(types.ErrLeaseClosed, "deadline queue entry for lease %d, which is %s", id, lease.State)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
