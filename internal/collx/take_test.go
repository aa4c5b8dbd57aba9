package collx_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/colltest"

	"github.com/consensus-nro/nro/internal/collx"
)

func TestTakeKeys(t *testing.T) {
	ss, ctx := colltest.MockStore()
	sb := collections.NewSchemaBuilderFromAccessor(ss.OpenKVStore)
	queue := collections.NewKeySet(sb, collections.NewPrefix(1), "queue", collections.Uint64Key)
	_, err := sb.Build()
	require.NoError(t, err)
	for _, k := range []uint64{5, 1, 3, 9} {
		require.NoError(t, queue.Set(ctx, k))
	}
	for _, tc := range []struct {
		limit int
		rng   collections.Ranger[uint64]
		want  []uint64
	}{
		{2, nil, []uint64{1, 3}},
		{10, nil, []uint64{1, 3, 5, 9}},
		{0, nil, nil},
		{10, new(collections.Range[uint64]).EndExclusive(5), []uint64{1, 3}},
		{10, new(collections.Range[uint64]).StartInclusive(10), nil},
	} {
		it, err := queue.Iterate(ctx, tc.rng)
		require.NoError(t, err)
		got, err := collx.TakeKeys[uint64](it, tc.limit)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "limit %d", tc.limit)
		// The iterator is closed: the store takes writes again.
		require.NoError(t, queue.Set(ctx, 7))
		require.NoError(t, queue.Remove(ctx, 7))
	}
}
