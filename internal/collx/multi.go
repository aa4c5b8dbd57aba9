// Package collx holds small extensions of cosmossdk.io/collections that the chain's modules share.
package collx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/codec"
	"cosmossdk.io/collections/indexes"
)

// MultiIndex is a secondary index that references one primary key from several reference keys, for values
// that belong to more than one group at once: a lease placed on several nodes is found under each of them.
// indexes.Multi supports one reference key per value; MultiIndex stores a KeySet[Pair[RK, PK]] with one
// entry per reference key the value yields.
//
// The reference keys of a value are deduplicated and handled in the order of their encoded bytes (the
// store order), so writes are deterministic whatever order the function returns them in. On an update only
// the entries that differ between the old and the new value are written or removed.
type MultiIndex[RK, PK, V any] struct {
	refCodec   codec.KeyCodec[RK]
	getRefKeys func(pk PK, value V) ([]RK, error)
	refKeys    collections.KeySet[collections.Pair[RK, PK]]
}

var _ collections.Index[uint64, struct{}] = (*MultiIndex[string, uint64, struct{}])(nil)

// NewMultiIndex builds the index under prefix. getRefKeys returns the reference keys of a value; it may
// return none (the value is then not indexed), duplicates, or keys in any order.
func NewMultiIndex[RK, PK, V any](
	sb *collections.SchemaBuilder,
	prefix collections.Prefix,
	name string,
	refCodec codec.KeyCodec[RK],
	pkCodec codec.KeyCodec[PK],
	getRefKeys func(pk PK, value V) ([]RK, error),
) *MultiIndex[RK, PK, V] {
	return &MultiIndex[RK, PK, V]{
		refCodec:   refCodec,
		getRefKeys: getRefKeys,
		refKeys: collections.NewKeySet(sb, prefix, name,
			collections.PairKeyCodec(refCodec, pkCodec), collections.WithKeySetSecondaryIndex()),
	}
}

// encodedRef is a reference key with its encoding, which orders and deduplicates keys of any type.
type encodedRef[RK any] struct {
	key RK
	enc []byte
}

// RefKeys returns the deduplicated reference keys of a value in store order.
func (m *MultiIndex[RK, PK, V]) RefKeys(pk PK, value V) ([]RK, error) {
	refs, err := m.refs(pk, value)
	if err != nil {
		return nil, err
	}
	out := make([]RK, len(refs))
	for i, r := range refs {
		out[i] = r.key
	}
	return out, nil
}

func (m *MultiIndex[RK, PK, V]) refs(pk PK, value V) ([]encodedRef[RK], error) {
	keys, err := m.getRefKeys(pk, value)
	if err != nil {
		return nil, err
	}
	refs := make([]encodedRef[RK], 0, len(keys))
	for _, k := range keys {
		buf := make([]byte, m.refCodec.SizeNonTerminal(k))
		n, err := m.refCodec.EncodeNonTerminal(buf, k)
		if err != nil {
			return nil, fmt.Errorf("collx: encode reference key %s: %w", m.refCodec.Stringify(k), err)
		}
		refs = append(refs, encodedRef[RK]{key: k, enc: buf[:n]})
	}
	slices.SortFunc(refs, func(a, b encodedRef[RK]) int { return bytes.Compare(a.enc, b.enc) })
	return slices.CompactFunc(refs, func(a, b encodedRef[RK]) bool { return bytes.Equal(a.enc, b.enc) }), nil
}

// Reference implements collections.Index: it indexes newValue under each of its reference keys, removing
// the entries of the old value that the new one no longer has.
func (m *MultiIndex[RK, PK, V]) Reference(ctx context.Context, pk PK, newValue V, lazyOldValue func() (V, error)) error {
	newRefs, err := m.refs(pk, newValue)
	if err != nil {
		return err
	}
	var oldRefs []encodedRef[RK]
	oldValue, err := lazyOldValue()
	switch {
	case err == nil:
		if oldRefs, err = m.refs(pk, oldValue); err != nil {
			return err
		}
	case errors.Is(err, collections.ErrNotFound):
		// A new value: nothing to remove.
	default:
		return err
	}
	// Both lists are sorted: one merge pass finds what to remove and what to add.
	i, j := 0, 0
	for i < len(oldRefs) || j < len(newRefs) {
		var c int
		switch {
		case i == len(oldRefs):
			c = 1
		case j == len(newRefs):
			c = -1
		default:
			c = bytes.Compare(oldRefs[i].enc, newRefs[j].enc)
		}
		switch {
		case c < 0: // only in the old value
			if err := m.refKeys.Remove(ctx, collections.Join(oldRefs[i].key, pk)); err != nil {
				return err
			}
			i++
		case c > 0: // only in the new value
			if err := m.refKeys.Set(ctx, collections.Join(newRefs[j].key, pk)); err != nil {
				return err
			}
			j++
		default: // in both: already stored
			i++
			j++
		}
	}
	return nil
}

// Unreference implements collections.Index: it removes every entry of the value.
func (m *MultiIndex[RK, PK, V]) Unreference(ctx context.Context, pk PK, lazyOldValue func() (V, error)) error {
	oldValue, err := lazyOldValue()
	if err != nil {
		return err
	}
	refs, err := m.refs(pk, oldValue)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if err := m.refKeys.Remove(ctx, collections.Join(r.key, pk)); err != nil {
			return err
		}
	}
	return nil
}

// Has reports whether pk is indexed under refKey.
func (m *MultiIndex[RK, PK, V]) Has(ctx context.Context, refKey RK, pk PK) (bool, error) {
	return m.refKeys.Has(ctx, collections.Join(refKey, pk))
}

// Iterate iterates over (reference key, primary key) pairs in the range.
func (m *MultiIndex[RK, PK, V]) Iterate(
	ctx context.Context, ranger collections.Ranger[collections.Pair[RK, PK]],
) (indexes.MultiIterator[RK, PK], error) {
	iter, err := m.refKeys.Iterate(ctx, ranger)
	return indexes.MultiIterator[RK, PK](iter), err
}

// MatchExact iterates over the primary keys indexed under refKey, in primary key order.
func (m *MultiIndex[RK, PK, V]) MatchExact(ctx context.Context, refKey RK) (indexes.MultiIterator[RK, PK], error) {
	return m.Iterate(ctx, collections.NewPrefixedPairRange[RK, PK](refKey))
}

// Walk calls walkFunc for every (reference key, primary key) pair in the range until it returns stop.
func (m *MultiIndex[RK, PK, V]) Walk(
	ctx context.Context,
	ranger collections.Ranger[collections.Pair[RK, PK]],
	walkFunc func(refKey RK, pk PK) (stop bool, err error),
) error {
	return m.refKeys.Walk(ctx, ranger, func(key collections.Pair[RK, PK]) (bool, error) {
		return walkFunc(key.K1(), key.K2())
	})
}

// IterateRaw iterates over raw key bytes; with KeyCodec it lets query.CollectionPaginate page the index.
func (m *MultiIndex[RK, PK, V]) IterateRaw(
	ctx context.Context, start, end []byte, order collections.Order,
) (collections.Iterator[collections.Pair[RK, PK], collections.NoValue], error) {
	return m.refKeys.IterateRaw(ctx, start, end, order)
}

// KeyCodec is the codec of the index's (reference key, primary key) pairs.
func (m *MultiIndex[RK, PK, V]) KeyCodec() codec.KeyCodec[collections.Pair[RK, PK]] {
	return m.refKeys.KeyCodec()
}
