package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/types"
)

// InitGenesis stores params, leases, settlement records, batches, the bridged totals and the id sequences,
// rebuilds the deadline queue from the PENDING and ACTIVE leases and the pruning queue from the ended leases
// and finished batches, and checks that the module account holds exactly the unspent escrow of
// the leases (bank's genesis runs first).
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(k.addrCodec); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, l := range gs.Leases {
		if err := k.Leases.Set(ctx, l.Id, l); err != nil {
			return err
		}
		if l.IsOpen() {
			if err := k.Deadlines.Set(ctx, collections.Join(l.DeadlineHeight, l.Id)); err != nil {
				return err
			}
		}
	}
	for _, r := range gs.SettlementRecords {
		if err := k.SettlementRecords.Set(ctx, r.Id, r); err != nil {
			return err
		}
		if r.Bridged && r.BatchNonce == 0 {
			if err := k.Unbatched.Set(ctx, r.Id); err != nil {
				return err
			}
		}
	}
	for _, b := range gs.Batches {
		if err := k.Batches.Set(ctx, b.Nonce, b); err != nil {
			return err
		}
	}
	for _, c := range gs.BridgedTotal {
		if err := k.BridgedTotal.Set(ctx, c.Denom, c.Amount); err != nil {
			return err
		}
	}
	for _, key := range k.expectedPrunes(gs.Leases, gs.Batches) {
		if err := k.Prunes.Set(ctx, key); err != nil {
			return err
		}
	}
	if err := k.BatchSeq.Set(ctx, max(gs.NextBatchNonce, 1)); err != nil {
		return err
	}
	if err := k.LastBatchHeight.Set(ctx, gs.LastBatchHeight); err != nil {
		return err
	}
	if err := k.LeaseSeq.Set(ctx, gs.NextLeaseId); err != nil {
		return err
	}
	if err := k.RecordSeq.Set(ctx, gs.NextRecordId); err != nil {
		return err
	}
	if err := k.CheckEscrowInvariant(ctx); err != nil {
		return fmt.Errorf("x/lease genesis: %w; fund the %s module account in bank genesis with the leases' unspent deposits", err, types.ModuleName)
	}
	return nil
}

// ExportGenesis exports params, every lease and record in id order, and the next ids.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	if err := k.Leases.Walk(ctx, nil, func(_ uint64, l types.Lease) (bool, error) {
		gs.Leases = append(gs.Leases, l)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.SettlementRecords.Walk(ctx, nil, func(_ uint64, r types.SettlementRecord) (bool, error) {
		gs.SettlementRecords = append(gs.SettlementRecords, r)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Batches.Walk(ctx, nil, func(_ uint64, b types.SettlementBatch) (bool, error) {
		gs.Batches = append(gs.Batches, b)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.BridgedTotal, err = k.BridgedTotals(ctx); err != nil {
		return nil, err
	}
	if gs.NextBatchNonce, err = k.BatchSeq.Peek(ctx); err != nil {
		return nil, err
	}
	gs.NextBatchNonce = max(gs.NextBatchNonce, 1)
	if gs.LastBatchHeight, err = k.LastBatchHeight.Get(ctx); err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	if gs.NextLeaseId, err = k.LeaseSeq.Peek(ctx); err != nil {
		return nil, err
	}
	if gs.NextRecordId, err = k.RecordSeq.Peek(ctx); err != nil {
		return nil, err
	}
	gs.NextLeaseId = max(gs.NextLeaseId, 1)
	gs.NextRecordId = max(gs.NextRecordId, 1)
	return gs, nil
}

// CheckEscrowInvariant returns an error unless the module account's balance, in every denom, equals the sum
// over all leases of deposit − paid − refunded (no lease's being negative); every PENDING and ACTIVE lease
// has its deadline queue entry and the queue holds nothing else; and every placed lease's paid and fees are
// the sums over its nodes, past placements included; and leases_by_active_node holds exactly the
// (node, lease) pairs of the ACTIVE leases. Tests and simulations run it after every change.
func (k Keeper) CheckEscrowInvariant(ctx context.Context) error {
	escrow := sdk.NewCoins()
	bridgedPlaced := sdk.NewCoins()
	open, activeRefs := 0, 0
	err := k.Leases.Walk(ctx, nil, func(id uint64, l types.Lease) (bool, error) {
		if l.State == types.LEASE_STATE_ACTIVE {
			for _, n := range l.Nodes {
				if n.Bridged {
					bridgedPlaced = bridgedPlaced.Add(sdk.NewCoin(l.Deposit.Denom, n.Paid.Sub(types.Fee(n.Paid, l.TakeBps))))
				}
			}
			for _, n := range l.NodeIDs() {
				activeRefs++
				has, err := k.Leases.Indexes.ActiveNode.Has(ctx, n, id)
				if err != nil {
					return true, err
				}
				if !has {
					return true, fmt.Errorf("lease %d is ACTIVE on node %s but missing from leases_by_active_node", id, n)
				}
			}
		}
		balance := l.EscrowBalance()
		if balance.IsNegative() {
			return true, fmt.Errorf("lease %d: paid %s and refunded %s exceed the deposit %s", id, l.Paid, l.Refunded, l.Deposit)
		}
		if !l.IsOpen() && !balance.IsZero() {
			return true, fmt.Errorf("lease %d is %s but still holds %s%s of escrow", id, l.State, balance, l.Deposit.Denom)
		}
		escrow = escrow.Add(sdk.NewCoin(l.Deposit.Denom, balance))
		if l.IsOpen() {
			open++
			has, err := k.Deadlines.Has(ctx, collections.Join(l.DeadlineHeight, id))
			if err != nil {
				return true, err
			}
			if !has {
				return true, fmt.Errorf("lease %d is %s but has no deadline queue entry at height %d", id, l.State, l.DeadlineHeight)
			}
		}
		if all := l.AllNodes(); len(all) > 0 {
			paid, fees := math.ZeroInt(), math.ZeroInt()
			for _, n := range all {
				paid = paid.Add(n.Paid)
				fees = fees.Add(types.Fee(n.Paid, l.TakeBps))
			}
			if !paid.Equal(l.Paid.Amount) || !fees.Equal(l.Fees.Amount) {
				return true, fmt.Errorf("lease %d: paid %s and fees %s differ from its nodes' sums %s and %s", id, l.Paid, l.Fees, paid, fees)
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	entries := 0
	if err := k.Deadlines.Walk(ctx, nil, func(collections.Pair[int64, uint64]) (bool, error) {
		entries++
		return false, nil
	}); err != nil {
		return err
	}
	if entries != open {
		return fmt.Errorf("deadline queue has %d entries for %d PENDING and ACTIVE leases", entries, open)
	}
	indexed := 0
	if err := k.Leases.Indexes.ActiveNode.Walk(ctx, nil, func(string, uint64) (bool, error) {
		indexed++
		return false, nil
	}); err != nil {
		return err
	}
	if indexed != activeRefs {
		return fmt.Errorf("leases_by_active_node has %d entries for %d (ACTIVE lease, node) pairs", indexed, activeRefs)
	}
	balance := k.bk.SpendableCoins(ctx, k.ModuleAddress())
	if !balance.Equal(escrow) {
		return fmt.Errorf("escrow invariant broken: module account holds %s but the leases' unspent deposits sum to %s", balance, escrow)
	}
	if err := k.checkPruneInvariant(ctx); err != nil {
		return err
	}
	return k.checkBridgeInvariant(ctx, bridgedPlaced)
}
