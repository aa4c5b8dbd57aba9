package keeper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cosmossdk.io/collections"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// CapacityKey is an entry of the capacity index: (scope, price per GPU-hour, free GPUs, "node/group").
type CapacityKey = collections.Quad[string, uint64, uint32, string]

func groupRef(nodeID string, group int) string { return nodeID + "/" + strconv.Itoa(group) }

func parseGroupRef(ref string) (string, uint32, error) {
	i := strings.LastIndexByte(ref, '/')
	if i < 0 {
		return "", 0, fmt.Errorf("capacity index: malformed group reference %q", ref)
	}
	g, err := strconv.ParseUint(ref[i+1:], 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("capacity index: malformed group reference %q: %w", ref, err)
	}
	return ref[:i], uint32(g), nil
}

func capacityKeys(n types.Node) []CapacityKey {
	if n.Status != types.NODE_STATUS_ACTIVE {
		return nil
	}
	price := n.PricePerGpuHour.Amount.Uint64() // bounded by types.MaxPriceAmount
	var keys []CapacityKey
	for i, g := range n.Gpus {
		free := g.Free()
		if free == 0 {
			continue
		}
		ref := groupRef(n.Id, i)
		for _, s := range types.GroupScopes(n.Region, g.Model) {
			keys = append(keys, collections.Join4(s, price, free, ref))
		}
	}
	return keys
}

// capacityIndex is a collections.Index over the node registry with several entries per node (four per GPU
// group with free GPUs), kept in step with every write of a node by the IndexedMap.
type capacityIndex struct {
	refs collections.KeySet[CapacityKey]
}

func newCapacityIndex(sb *collections.SchemaBuilder) *capacityIndex {
	return &capacityIndex{refs: collections.NewKeySet(sb, types.CapacityIndexKey, "capacity_index",
		collections.QuadKeyCodec(collections.StringKey, collections.Uint64Key, collections.Uint32Key, collections.StringKey))}
}

func (i *capacityIndex) Reference(ctx context.Context, pk string, v types.Node, lazyOld func() (types.Node, error)) error {
	if err := i.Unreference(ctx, pk, lazyOld); err != nil {
		return err
	}
	for _, k := range capacityKeys(v) {
		if err := i.refs.Set(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (i *capacityIndex) Unreference(ctx context.Context, _ string, lazyOld func() (types.Node, error)) error {
	old, err := lazyOld()
	if errors.Is(err, collections.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, k := range capacityKeys(old) {
		if err := i.refs.Remove(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// scopeCache holds the capacity index entries of one scope read so far in a block, in index order, so that
// the leases decided in one EndBlock read each scope's cheapest groups from the store once. Reservations
// made through the view update it (see view.reserved).
type scopeCache struct {
	keys []CapacityKey
	// refs are keys[i].K4() parsed, so that each entry is parsed once per block.
	refs []groupID
	// done: the scope has been read to its end.
	done bool
}

type groupID struct {
	node  string
	group uint32
}

func (sc *scopeCache) add(k CapacityKey) error {
	nodeID, group, err := parseGroupRef(k.K4())
	if err != nil {
		return err
	}
	sc.keys = append(sc.keys, k)
	sc.refs = append(sc.refs, groupID{nodeID, group})
	return nil
}

func compareCapacityKeys(a, b CapacityKey) int {
	if c := strings.Compare(a.K1(), b.K1()); c != 0 {
		return c
	}
	if a.K2() != b.K2() {
		if a.K2() < b.K2() {
			return -1
		}
		return 1
	}
	if a.K3() != b.K3() {
		if a.K3() < b.K3() {
			return -1
		}
		return 1
	}
	return strings.Compare(a.K4(), b.K4())
}

// WalkCapacity visits the groups of one scope with price <= maxPrice in (price, free, ref) order until fn
// returns true or limit entries have been read, and returns how many it read (types.Fleet). Entries already
// read in this block come from the view's per-scope cache, the rest from the store, continuing after the
// last key read.
func (v *view) WalkCapacity(scope string, maxPrice uint64, limit int,
	fn func(price uint64, free uint32, nodeID string, group uint32) (bool, error),
) (int, error) {
	sc, ok := v.scopes[scope]
	if !ok {
		sc = &scopeCache{}
		v.scopes[scope] = sc
	}
	read := 0
	visit := func(i int) (bool, error) {
		read++
		k := sc.keys[i]
		if k.K2() > maxPrice {
			return true, nil
		}
		return fn(k.K2(), k.K3(), sc.refs[i].node, sc.refs[i].group)
	}
	for i := 0; i < len(sc.keys) && read < limit; i++ {
		if stop, err := visit(i); err != nil || stop {
			return read, err
		}
	}
	if sc.done || read >= limit {
		return read, nil
	}
	rng := new(collections.Range[CapacityKey]).Prefix(collections.QuadPrefix[string, uint64, uint32, string](scope))
	if len(sc.keys) > 0 {
		rng = rng.StartExclusive(sc.keys[len(sc.keys)-1])
	}
	it, err := v.k.Nodes.Indexes.Capacity.refs.Iterate(v.ctx, rng)
	if err != nil {
		return read, err
	}
	defer func() { _ = it.Close() }()
	// Opening an iterator costs far more than reading an entry (it merges the block's pending writes), so
	// once fn is done the iterator reads ahead into the cache as many entries as the cache already holds
	// (at least capacityReadAhead): the leases after this one find them there, and a scope is opened
	// O(log entries) times per block however many leases walk it.
	ahead := -1
	for ; it.Valid(); it.Next() {
		k, err := it.Key()
		if err != nil {
			return read, err
		}
		if err := sc.add(k); err != nil {
			return read, err
		}
		if ahead >= 0 {
			if ahead--; ahead == 0 {
				it.Next()
				break
			}
			continue
		}
		stop, err := visit(len(sc.keys) - 1)
		if err != nil {
			return read, err
		}
		if stop || read >= limit {
			ahead = max(capacityReadAhead, len(sc.keys))
		}
	}
	if !it.Valid() {
		sc.done = true
	}
	return read, nil
}

// capacityReadAhead is the least number of capacity index entries a walk reads ahead into the block's cache.
const capacityReadAhead = 64

// reserved updates the cached scopes after a group's free count changed from before to after: its old keys
// leave and its new keys (if it still has free GPUs) take their place. Free only shrinks during allocation,
// so a new key sorts before the old one and lies within the part of the scope already read.
func (v *view) reserved(before, after types.Node) {
	if len(v.scopes) == 0 {
		return
	}
	for _, k := range capacityKeys(before) {
		if sc, ok := v.scopes[k.K1()]; ok {
			if i, found := slices.BinarySearchFunc(sc.keys, k, compareCapacityKeys); found {
				sc.keys = slices.Delete(sc.keys, i, i+1)
				sc.refs = slices.Delete(sc.refs, i, i+1)
			}
		}
	}
	for _, k := range capacityKeys(after) {
		sc, ok := v.scopes[k.K1()]
		if !ok {
			continue
		}
		i, found := slices.BinarySearchFunc(sc.keys, k, compareCapacityKeys)
		if found {
			continue
		}
		if i == len(sc.keys) && !sc.done {
			continue // beyond what was read: the store still has it in place
		}
		nodeID, group, err := parseGroupRef(k.K4())
		if err != nil {
			continue // capacityKeys builds refs with groupRef, which always parses
		}
		sc.keys = slices.Insert(sc.keys, i, k)
		sc.refs = slices.Insert(sc.refs, i, groupID{nodeID, group})
	}
}
