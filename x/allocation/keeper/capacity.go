package keeper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cosmossdk.io/collections"
	collcodec "cosmossdk.io/collections/codec"

	"github.com/cosmos/cosmos-sdk/codec"

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

// capEntry is one entry of the capacity index: its key and the group it lists (the key's fields and the
// entry's value).
type capEntry struct {
	key   CapacityKey
	group types.CapacityGroup
}

// capacityEntries returns the capacity index entries of a node: one per scope (types.GroupScopes) for each
// GPU group with free GPUs of an ACTIVE node.
func capacityEntries(n types.Node) []capEntry {
	groups := types.CapacityGroupsOf(&n)
	if len(groups) == 0 {
		return nil
	}
	out := make([]capEntry, 0, 4*len(groups))
	for _, g := range groups {
		ref := groupRef(n.Id, int(g.Group))
		for _, s := range types.GroupScopes(g.Entry.Region, g.Entry.GpuModel) {
			out = append(out, capEntry{collections.Join4(s, g.Price, g.Free, ref), g})
		}
	}
	return out
}

// capacityIndex is a collections.Index over the node registry with several entries per node (four per GPU
// group with free GPUs), kept in step with every write of a node by the IndexedMap. Each entry's value
// (types.CapacityEntry) holds what the fallback allocator needs of the node, so that a walk reads no node.
type capacityIndex struct {
	refs collections.Map[CapacityKey, types.CapacityEntry]
}

func capacityKeyCodec() collcodec.KeyCodec[CapacityKey] {
	return collections.QuadKeyCodec(collections.StringKey, collections.Uint64Key, collections.Uint32Key, collections.StringKey)
}

func newCapacityIndex(sb *collections.SchemaBuilder, cdc codec.BinaryCodec) *capacityIndex {
	return &capacityIndex{refs: collections.NewMap(sb, types.CapacityIndexKey, "capacity_index", capacityKeyCodec(),
		codec.CollValue[types.CapacityEntry](cdc))}
}

func (i *capacityIndex) Reference(ctx context.Context, pk string, v types.Node, lazyOld func() (types.Node, error)) error {
	if err := i.Unreference(ctx, pk, lazyOld); err != nil {
		return err
	}
	for _, e := range capacityEntries(v) {
		if err := i.refs.Set(ctx, e.key, e.group.Entry); err != nil {
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
	for _, e := range capacityEntries(old) {
		if err := i.refs.Remove(ctx, e.key); err != nil {
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
	// entries are the current entries of the scope up to bound, in order.
	entries []capEntry
	// bound is the largest entry read into keys so far (valid when read is set). Every current entry up to
	// bound is in keys, so the store is read on after bound.
	bound CapacityKey
	read  bool
	// pending are the current entries beyond bound that reservations of this block added (the store does
	// not hold them yet), in order.
	pending []capEntry
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

func (sc *scopeCache) add(e capEntry) {
	sc.entries = append(sc.entries, e)
	sc.bound, sc.read = e.key, true
}

// entryOf is the capacity index entry of a store key and value.
func entryOf(k CapacityKey, v types.CapacityEntry) (capEntry, error) {
	nodeID, group, err := parseGroupRef(k.K4())
	if err != nil {
		return capEntry{}, err
	}
	return capEntry{k, types.CapacityGroup{NodeID: nodeID, Group: group, Price: k.K2(), Free: k.K3(), Entry: v}}, nil
}

func compareEntries(a, b capEntry) int { return compareCapacityKeys(a.key, b.key) }

func compareEntryKey(e capEntry, k CapacityKey) int { return compareCapacityKeys(e.key, k) }

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
func (v *view) WalkCapacity(scope string, maxPrice uint64, limit int, fn func(g *types.CapacityGroup) (bool, error)) (int, error) {
	sc := v.scope(scope)
	read := 0
	visit := func(i int) (bool, error) {
		read++
		g := &sc.entries[i].group
		if g.Price > maxPrice {
			return true, nil
		}
		return fn(g)
	}
	for i := 0; i < len(sc.entries) && read < limit; i++ {
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
	var it collections.Iterator[CapacityKey, types.CapacityEntry]
	open := false
	defer func() {
		if open {
			_ = it.Close()
		}
	}()
	// next is the scope's next store entry once found (haveStore); entries that reservations removed are
	// skipped.
	var next capEntry
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
			kv, err := it.KeyValue()
			if err != nil {
				return read, err
			}
			if len(v.capRemoved) > 0 && v.capRemoved[capKeyOf(kv.Key)] {
				it.Next()
				continue
			}
			if next, err = entryOf(kv.Key, kv.Value); err != nil {
				return read, err
			}
			haveStore = true
		}
		// Merge with the entries this block added.
		var e capEntry
		switch {
		case len(sc.pending) > 0 && (!haveStore || compareEntries(sc.pending[0], next) < 0):
			e = sc.pending[0]
			sc.pending = sc.pending[1:]
		case haveStore:
			e, haveStore = next, false
			it.Next()
		default:
			return read, nil // the scope is read to its end
		}
		sc.add(e)
		if ahead >= 0 {
			if ahead--; ahead == 0 {
				return read, nil
			}
			continue
		}
		stop, err := visit(len(sc.entries) - 1)
		if err != nil {
			return read, err
		}
		if stop || read >= limit {
			ahead = max(capacityReadAhead, len(sc.entries))
		}
	}
}

// capacityReadAhead is the least number of capacity index entries a walk reads ahead into the block's cache.
const capacityReadAhead = 64

// reserved updates the view's capacity index after a node changed from before to after: the node's old
// entries leave and its new ones take their place, in every scope, whether read yet or not.
func (v *view) reserved(before, after types.Node) {
	for _, e := range capacityEntries(before) {
		k := e.key
		sc := v.scope(k.K1())
		if !sc.beyond(k) {
			if i, found := slices.BinarySearchFunc(sc.entries, k, compareEntryKey); found {
				sc.entries = slices.Delete(sc.entries, i, i+1)
			}
			continue
		}
		if i, found := slices.BinarySearchFunc(sc.pending, k, compareEntryKey); found {
			sc.pending = slices.Delete(sc.pending, i, i+1)
			continue
		}
		v.capRemoved[capKeyOf(k)] = true // still in the store, not read yet: the walk skips it
	}
	for _, e := range capacityEntries(after) {
		k := e.key
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
			if i, found := slices.BinarySearchFunc(sc.pending, k, compareEntryKey); !found {
				sc.pending = slices.Insert(sc.pending, i, e)
			}
			continue
		}
		if i, found := slices.BinarySearchFunc(sc.entries, k, compareEntryKey); !found {
			sc.entries = slices.Insert(sc.entries, i, e)
		}
	}
}
