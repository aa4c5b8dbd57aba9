package keeper

import (
	"context"
	"fmt"

	"github.com/consensus-nro/nro/x/audit/types"
)

// InitGenesis stores the decisions (their indexes are rebuilt as they are set) and the next decision id.
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	for _, d := range gs.Decisions {
		if err := k.Decisions.Set(ctx, d.Id, d); err != nil {
			return err
		}
	}
	return k.DecisionSeq.Set(ctx, gs.NextDecisionId)
}

// ExportGenesis exports every decision in id order and the next decision id.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	next, err := k.nextDecisionID(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{NextDecisionId: next}
	err = k.Decisions.Walk(ctx, nil, func(_ uint64, d types.Decision) (bool, error) {
		gs.Decisions = append(gs.Decisions, d)
		return false, nil
	})
	return gs, err
}

// CheckDecisionIndexes returns an error unless the decision log is consistent: every index entry points at a
// stored decision whose lease, height or node it names; every decision has its entries (one per index, one
// per node in the node index); and the next decision id is above every stored id. Keeper tests run it after
// every change; the simulation runs it after every block.
func (k Keeper) CheckDecisionIndexes(ctx context.Context) error {
	next, err := k.nextDecisionID(ctx)
	if err != nil {
		return err
	}
	var decisions, nodeRefs uint64
	err = k.Decisions.Walk(ctx, nil, func(id uint64, d types.Decision) (bool, error) {
		if id != d.Id {
			return true, fmt.Errorf("decision stored under id %d has id %d", id, d.Id)
		}
		if id >= next {
			return true, fmt.Errorf("decision %d is not below the next decision id %d", id, next)
		}
		decisions++
		nodeRefs += uint64(len(d.NodeIds))
		return false, nil
	})
	if err != nil {
		return err
	}

	// Each entry is checked against its decision, and entries are distinct keys; so equal counts mean that
	// every decision has exactly its entries.
	count := func(name string, n uint64, want uint64) error {
		if n != want {
			return fmt.Errorf("index %s has %d entries; the %d decisions need %d", name, n, decisions, want)
		}
		return nil
	}
	var n uint64
	err = k.Decisions.Indexes.Lease.Walk(ctx, nil, func(lease, id uint64) (bool, error) {
		d, err := k.indexedDecision(ctx, "decisions_by_lease", id)
		if err == nil && d.LeaseId != lease {
			err = fmt.Errorf("decisions_by_lease: entry (%d, %d) but decision %d is for lease %d", lease, id, id, d.LeaseId)
		}
		n++
		return err != nil, err
	})
	if err == nil {
		err = count("decisions_by_lease", n, decisions)
	}
	if err != nil {
		return err
	}

	n = 0
	err = k.Decisions.Indexes.Height.Walk(ctx, nil, func(height int64, id uint64) (bool, error) {
		d, err := k.indexedDecision(ctx, "decisions_by_height", id)
		if err == nil && d.Height != height {
			err = fmt.Errorf("decisions_by_height: entry (%d, %d) but decision %d is at height %d", height, id, id, d.Height)
		}
		n++
		return err != nil, err
	})
	if err == nil {
		err = count("decisions_by_height", n, decisions)
	}
	if err != nil {
		return err
	}

	n = 0
	err = k.Decisions.Indexes.Node.Walk(ctx, nil, func(node string, id uint64) (bool, error) {
		d, err := k.indexedDecision(ctx, "decisions_by_node", id)
		if err == nil && !d.HasNode(node) {
			err = fmt.Errorf("decisions_by_node: entry (%s, %d) but decision %d places nothing on %s (nodes %v)", node, id, id, node, d.NodeIds)
		}
		n++
		return err != nil, err
	})
	if err == nil {
		err = count("decisions_by_node", n, nodeRefs)
	}
	return err
}

func (k Keeper) indexedDecision(ctx context.Context, index string, id uint64) (types.Decision, error) {
	d, err := k.Decisions.Get(ctx, id)
	if err != nil {
		return types.Decision{}, fmt.Errorf("%s: entry for decision %d: %w", index, id, err)
	}
	return d, nil
}
