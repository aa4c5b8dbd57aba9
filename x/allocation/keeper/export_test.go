package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// TestView exposes the allocation engine's block view to the tests of this package.
type TestView struct{ v *view }

// NewTestView returns a fresh view, as AllocatePending makes one per block.
func (k Keeper) NewTestView(ctx context.Context) TestView { return TestView{k.newView(ctx)} }

// WalkCapacity is view.WalkCapacity.
func (t TestView) WalkCapacity(scope string, maxPrice uint64, limit int, fn func(g *types.CapacityGroup) (bool, error)) (int, error) {
	return t.v.WalkCapacity(scope, maxPrice, limit, fn)
}

// Reserve is view.reserve.
func (t TestView) Reserve(nodes []types.ScoredNode) (func(), error) { return t.v.reserve(nodes) }

// Node is view.Node.
func (t TestView) Node(id string) (*types.Node, error) { return t.v.Node(id) }

// Flush is view.flush.
func (t TestView) Flush() error { return t.v.flush() }

// CapacityEntries lists the store's capacity index entries of one scope, in order, as the groups they list.
func (k Keeper) CapacityEntries(ctx context.Context, scope string) ([]types.CapacityGroup, error) {
	rng := new(collections.Range[CapacityKey]).Prefix(collections.QuadPrefix[string, uint64, uint32, string](scope))
	it, err := k.Nodes.Indexes.Capacity.refs.Iterate(ctx, rng)
	if err != nil {
		return nil, err
	}
	kvs, err := it.KeyValues()
	if err != nil {
		return nil, err
	}
	var out []types.CapacityGroup
	for _, kv := range kvs {
		e, err := entryOf(kv.Key, kv.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, e.group)
	}
	return out, nil
}
