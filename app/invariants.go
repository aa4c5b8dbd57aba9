package app

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// CheckInvariants runs every invariant of our modules and the ones that span them. Tests run it after
// transactions; the simulations run it at every commit. It walks all state, so it is never called by the
// chain itself.
func (app *App) CheckInvariants(ctx context.Context) error {
	if err := app.AllocationKeeper.CheckStakeInvariant(ctx); err != nil {
		return fmt.Errorf("x/allocation stake invariant: %w", err)
	}
	if err := app.LeaseKeeper.CheckEscrowInvariant(ctx); err != nil {
		return fmt.Errorf("x/lease escrow invariant: %w", err)
	}
	if err := app.AuditKeeper.CheckDecisionIndexes(ctx); err != nil {
		return fmt.Errorf("x/audit decision indexes: %w", err)
	}
	if err := app.AuditKeeper.CheckTelemetryState(ctx); err != nil {
		return fmt.Errorf("x/audit telemetry state: %w", err)
	}
	if err := app.checkReservations(ctx); err != nil {
		return fmt.Errorf("reservation invariant: %w", err)
	}
	return nil
}

// checkReservations: the GPUs each node group reserves are exactly those the ACTIVE leases hold on it, and
// every PENDING lease is in the allocation queue.
func (app *App) checkReservations(ctx context.Context) error {
	type groupKey struct {
		node  string
		group uint32
	}
	held := map[groupKey]uint32{}
	it, err := app.LeaseKeeper.Leases.Indexes.State.MatchExact(ctx, int32(leasetypes.LEASE_STATE_ACTIVE))
	if err != nil {
		return err
	}
	active, err := it.PrimaryKeys()
	if err != nil {
		return err
	}
	for _, id := range active {
		l, err := app.LeaseKeeper.GetLease(ctx, id)
		if err != nil {
			return err
		}
		for _, n := range l.Nodes {
			held[groupKey{n.NodeId, n.GpuGroup}] += n.Gpus
		}
	}
	seen := map[groupKey]bool{}
	err = app.AllocationKeeper.Nodes.Walk(ctx, nil, func(id string, n allocationtypes.Node) (bool, error) {
		for i, g := range n.Gpus {
			k := groupKey{id, uint32(i)}
			seen[k] = true
			if g.Reserved != held[k] {
				return true, fmt.Errorf("node %s group %d reserves %d GPUs but active leases hold %d", id, i, g.Reserved, held[k])
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	keys := make([]groupKey, 0, len(held))
	for k := range held {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.node, b.node), cmp.Compare(a.group, b.group))
	})
	for _, k := range keys {
		if !seen[k] {
			return fmt.Errorf("active leases hold %d GPUs on node %s group %d, which does not exist", held[k], k.node, k.group)
		}
	}
	pit, err := app.LeaseKeeper.Leases.Indexes.State.MatchExact(ctx, int32(leasetypes.LEASE_STATE_PENDING))
	if err != nil {
		return err
	}
	pending, err := pit.PrimaryKeys()
	if err != nil {
		return err
	}
	for _, id := range pending {
		if has, err := app.AllocationKeeper.PendingDue.Has(ctx, id); err != nil {
			return err
		} else if !has {
			return fmt.Errorf("PENDING lease %d is not in the allocation queue", id)
		}
	}
	n := 0
	err = app.AllocationKeeper.PendingDue.Walk(ctx, nil, func(uint64, int64) (bool, error) { n++; return false, nil })
	if err != nil {
		return err
	}
	if n != len(pending) {
		return fmt.Errorf("allocation queue holds %d leases but %d are PENDING", n, len(pending))
	}
	return nil
}
