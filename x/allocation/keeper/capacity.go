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

// The allocation engine decides every lease of a block against one view and writes the nodes it reserved GPUs
// on once, at the end of the block (view.flush), so that a node several leases take GPUs from is written
// once and a lease makes no node write at all. Until then the store's capacity index is the one of the start
// of the block, and the view keeps the difference: the entries reservations removed (capRemoved) and, per
// scope, the entries they added beyond the part of the scope read so far (scopeCache.pending). A walk of a
// scope merges the two, so that it visits exactly the entries the index would hold had every reservation
// been written at once — the same entries, in the same order, as the store would give.

// capKey is a CapacityKey as a comparable value (collections.Quad holds pointers).
type capKey struct {
	scope string
	price uint64
	free  uint32
	ref   string
}

func capKeyOf(k CapacityKey) capKey { return capKey{k.K1(), k.K2(), k.K3(), k.K4()} }

// scopeCache holds the capacity index entries of one scope read so far in a block, in index order, so that
// the leases decided in one EndBlock read each scope's cheapest groups from the store once. Reservations
// made through the view update it (see view.reserved).
type scopeCache struct {
	// keys are the current entries of the scope up to bound, in order.
	keys []CapacityKey
	// refs are keys[i].K4() parsed, so that each entry is parsed once per block.
	refs []groupID
	// bound is the largest entry read into keys so far (valid when read is set). Every current entry up to
	// bound is in keys, so the store is read on after bound.
	bound CapacityKey
	read  bool
	// pending are the current entries beyond bound that reservations of this block added (the store does
	// not hold them yet), in order.
	pending []CapacityKey
	// storeDone: the store's entries of the scope have all been read.
	storeDone bool
}

type groupID struct {
	node  string
	group uint32
}

// done: every current entry of the scope is in keys.
func (sc *scopeCache) done() bool { return sc.storeDone && len(sc.pending) == 0 }

// beyond reports whether k sorts after every entry read so far (and so is not in keys).
func (sc *scopeCache) beyond(k CapacityKey) bool {
	return !sc.done() && (!sc.read || compareCapacityKeys(k, sc.bound) > 0)
}

func (sc *scopeCache) add(k CapacityKey) error {
	nodeID, group, err := parseGroupRef(k.K4())
	if err != nil {
		return err
	}
	sc.keys = append(sc.keys, k)
	sc.refs = append(sc.refs, groupID{nodeID, group})
	sc.bound, sc.read = k, true
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

func (v *view) scope(scope string) *scopeCache {
	sc, ok := v.scopes[scope]
	if !ok {
		sc = &scopeCache{}
		v.scopes[scope] = sc
	}
	return sc
}

// WalkCapacity visits the groups of one scope with price <= maxPrice in (price, free, ref) order until fn
// returns true or limit entries have been read, and returns how many it read (types.Fleet). Entries already
// read in this block come from the view's per-scope cache, the rest from the store (continuing after the
// last key read, leaving out entries this block's reservations removed) merged with the entries they added.
func (v *view) WalkCapacity(scope string, maxPrice uint64, limit int,
	fn func(price uint64, free uint32, nodeID string, group uint32) (bool, error),
) (int, error) {
	sc := v.scope(scope)
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
	if sc.done() || read >= limit {
		return read, nil
	}
	// Opening an iterator costs far more than reading an entry, so once fn is done the walk reads ahead into
	// the cache as many entries as the cache already holds (at least capacityReadAhead): the leases after
	// this one find them there, and a scope is opened O(log entries) times per block however many leases
	// walk it.
	ahead := -1
	var it collections.KeySetIterator[CapacityKey]
	open := false
	defer func() {
		if open {
			_ = it.Close()
		}
	}()
	// next is the scope's next store entry once found (haveStore); entries that reservations removed are
	// skipped.
	var next CapacityKey
	haveStore := false
	for {
		for !sc.storeDone && !haveStore {
			if !open {
				rng := new(collections.Range[CapacityKey]).Prefix(collections.QuadPrefix[string, uint64, uint32, string](scope))
				if sc.read {
					rng = rng.StartExclusive(sc.bound)
				}
				var err error
				if it, err = v.k.Nodes.Indexes.Capacity.refs.Iterate(v.ctx, rng); err != nil {
					return read, err
				}
				open = true
			}
			if !it.Valid() {
				sc.storeDone = true
				break
			}
			k, err := it.Key()
			if err != nil {
				return read, err
			}
			if len(v.capRemoved) > 0 && v.capRemoved[capKeyOf(k)] {
				it.Next()
				continue
			}
			next, haveStore = k, true
		}
		// Merge with the entries this block added.
		var k CapacityKey
		switch {
		case len(sc.pending) > 0 && (!haveStore || compareCapacityKeys(sc.pending[0], next) < 0):
			k = sc.pending[0]
			sc.pending = sc.pending[1:]
		case haveStore:
			k, haveStore = next, false
			it.Next()
		default:
			return read, nil // the scope is read to its end
		}
		if err := sc.add(k); err != nil {
			return read, err
		}
		if ahead >= 0 {
			if ahead--; ahead == 0 {
				return read, nil
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
}

// capacityReadAhead is the least number of capacity index entries a walk reads ahead into the block's cache.
const capacityReadAhead = 64

// reserved updates the view's capacity index after a node changed from before to after: the node's old
// entries leave and its new ones take their place, in every scope, whether read yet or not.
func (v *view) reserved(before, after types.Node) {
	for _, k := range capacityKeys(before) {
		sc := v.scope(k.K1())
		if !sc.beyond(k) {
			if i, found := slices.BinarySearchFunc(sc.keys, k, compareCapacityKeys); found {
				sc.keys = slices.Delete(sc.keys, i, i+1)
				sc.refs = slices.Delete(sc.refs, i, i+1)
			}
			continue
		}
		if i, found := slices.BinarySearchFunc(sc.pending, k, compareCapacityKeys); found {
			sc.pending = slices.Delete(sc.pending, i, i+1)
			continue
		}
		v.capRemoved[capKeyOf(k)] = true // still in the store, not read yet: the walk skips it
	}
	for _, k := range capacityKeys(after) {
		sc := v.scope(k.K1())
		ck := capKeyOf(k)
		if v.capRemoved[ck] {
			// Back to an entry the store holds (a reservation undone).
			delete(v.capRemoved, ck)
			if sc.beyond(k) && !sc.storeDone {
				continue // beyond bound: the walk reads it from the store
			}
		}
		if sc.beyond(k) {
			if i, found := slices.BinarySearchFunc(sc.pending, k, compareCapacityKeys); !found {
				sc.pending = slices.Insert(sc.pending, i, k)
			}
			continue
		}
		i, found := slices.BinarySearchFunc(sc.keys, k, compareCapacityKeys)
		if found {
			continue
		}
		nodeID, group, err := parseGroupRef(k.K4())
		if err != nil {
			continue // capacityKeys builds refs with groupRef, which always parses
		}
		sc.keys = slices.Insert(sc.keys, i, k)
		sc.refs = slices.Insert(sc.refs, i, groupID{nodeID, group})
	}
}
