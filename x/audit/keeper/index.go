package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/codec"
)

// multiValueIndex is a collections.Index that references one primary key under several reference keys at
// once (one (reference, primary key) entry per reference), which indexes.Multi cannot: it maps every value
// to exactly one reference. x/audit uses it to index a decision under each node of its placement.
type multiValueIndex[R, PK, V any] struct {
	refsOf  func(pk PK, v V) ([]R, error)
	refKeys collections.KeySet[collections.Pair[R, PK]]
}

func newMultiValueIndex[R, PK, V any](
	sb *collections.SchemaBuilder,
	prefix collections.Prefix,
	name string,
	refCodec codec.KeyCodec[R],
	pkCodec codec.KeyCodec[PK],
	refsOf func(pk PK, v V) ([]R, error),
) *multiValueIndex[R, PK, V] {
	return &multiValueIndex[R, PK, V]{
		refsOf: refsOf,
		refKeys: collections.NewKeySet(sb, prefix, name, collections.PairKeyCodec(refCodec, pkCodec),
			collections.WithKeySetSecondaryIndex()),
	}
}

// Reference implements collections.Index: it drops the old value's entries, if any, and adds the new ones.
func (m *multiValueIndex[R, PK, V]) Reference(ctx context.Context, pk PK, newValue V, lazyOldValue func() (V, error)) error {
	old, err := lazyOldValue()
	switch {
	case err == nil:
		if err := m.unreference(ctx, pk, old); err != nil {
			return err
		}
	case errors.Is(err, collections.ErrNotFound):
	default:
		return err
	}
	refs, err := m.refsOf(pk, newValue)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if err := m.refKeys.Set(ctx, collections.Join(r, pk)); err != nil {
			return err
		}
	}
	return nil
}

// Unreference implements collections.Index.
func (m *multiValueIndex[R, PK, V]) Unreference(ctx context.Context, pk PK, getValue func() (V, error)) error {
	v, err := getValue()
	if err != nil {
		return err
	}
	return m.unreference(ctx, pk, v)
}

func (m *multiValueIndex[R, PK, V]) unreference(ctx context.Context, pk PK, v V) error {
	refs, err := m.refsOf(pk, v)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if err := m.refKeys.Remove(ctx, collections.Join(r, pk)); err != nil {
			return err
		}
	}
	return nil
}

// Has reports whether pk is referenced under ref.
func (m *multiValueIndex[R, PK, V]) Has(ctx context.Context, ref R, pk PK) (bool, error) {
	return m.refKeys.Has(ctx, collections.Join(ref, pk))
}

// Walk visits the (reference, primary key) entries in ranger, in key order.
func (m *multiValueIndex[R, PK, V]) Walk(
	ctx context.Context,
	ranger collections.Ranger[collections.Pair[R, PK]],
	walkFunc func(ref R, pk PK) (stop bool, err error),
) error {
	return m.refKeys.Walk(ctx, ranger, func(key collections.Pair[R, PK]) (bool, error) {
		return walkFunc(key.K1(), key.K2())
	})
}

// IterateRaw and KeyCodec make the index a query.Collection, so that it paginates like indexes.Multi.
func (m *multiValueIndex[R, PK, V]) IterateRaw(
	ctx context.Context, start, end []byte, order collections.Order,
) (collections.Iterator[collections.Pair[R, PK], collections.NoValue], error) {
	return m.refKeys.IterateRaw(ctx, start, end, order)
}

// KeyCodec returns the codec of the index's (reference, primary key) keys.
func (m *multiValueIndex[R, PK, V]) KeyCodec() codec.KeyCodec[collections.Pair[R, PK]] {
	return m.refKeys.KeyCodec()
}
