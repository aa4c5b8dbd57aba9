package collx_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/colltest"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/consensus-nro/nro/internal/collx"
)

// job is a value that belongs to several groups at once, as a lease belongs to each of its nodes.
type job struct {
	Nodes []string
}

type jobIndexes struct {
	Node *collx.MultiIndex[string, uint64, job]
}

func (i jobIndexes) IndexesList() []collections.Index[uint64, job] {
	return []collections.Index[uint64, job]{i.Node}
}

var errBadNode = errors.New("bad node")

func newJobs(t *testing.T) (context.Context, *collections.IndexedMap[uint64, job, jobIndexes], collections.Schema) {
	t.Helper()
	ss, ctx := colltest.MockStore()
	sb := collections.NewSchemaBuilderFromAccessor(ss.OpenKVStore)
	jobs := collections.NewIndexedMap(sb, collections.NewPrefix(1), "jobs", collections.Uint64Key,
		colltest.MockValueCodec[job](),
		jobIndexes{Node: collx.NewMultiIndex(sb, collections.NewPrefix(2), "jobs_by_node",
			collections.StringKey, collections.Uint64Key,
			func(_ uint64, j job) ([]string, error) {
				for _, n := range j.Nodes {
					if n == "" {
						return nil, errBadNode
					}
				}
				return j.Nodes, nil
			})})
	schema, err := sb.Build()
	require.NoError(t, err)
	return ctx, jobs, schema
}

// entries lists the whole index as "node/id".
func entries(t *testing.T, ctx context.Context, idx *collx.MultiIndex[string, uint64, job]) []collections.Pair[string, uint64] {
	t.Helper()
	out := []collections.Pair[string, uint64]{}
	require.NoError(t, idx.Walk(ctx, nil, func(n string, id uint64) (bool, error) {
		out = append(out, collections.Join(n, id))
		return false, nil
	}))
	return out
}

func match(t *testing.T, ctx context.Context, idx *collx.MultiIndex[string, uint64, job], node string) []uint64 {
	t.Helper()
	iter, err := idx.MatchExact(ctx, node)
	require.NoError(t, err)
	ids, err := iter.PrimaryKeys()
	require.NoError(t, err)
	if ids == nil {
		ids = []uint64{}
	}
	return ids
}

func TestMultiIndexLifecycle(t *testing.T) {
	ctx, jobs, schema := newJobs(t)
	idx := jobs.Indexes.Node
	var names []string
	for _, c := range schema.ListCollections() {
		names = append(names, c.GetName())
	}
	require.Equal(t, []string{"jobs", "jobs_by_node"}, names)

	// Duplicates and order do not matter: one entry per distinct node.
	require.NoError(t, jobs.Set(ctx, 1, job{Nodes: []string{"b", "a", "b"}}))
	require.NoError(t, jobs.Set(ctx, 2, job{Nodes: []string{"b", "c"}}))
	require.NoError(t, jobs.Set(ctx, 3, job{})) // not indexed at all
	require.Equal(t, []collections.Pair[string, uint64]{
		collections.Join("a", uint64(1)), collections.Join("b", uint64(1)),
		collections.Join("b", uint64(2)), collections.Join("c", uint64(2)),
	}, entries(t, ctx, idx))
	require.Equal(t, []uint64{1, 2}, match(t, ctx, idx, "b"))
	require.Equal(t, []uint64{2}, match(t, ctx, idx, "c"))
	require.Equal(t, []uint64{}, match(t, ctx, idx, "z"))
	has, err := idx.Has(ctx, "a", 1)
	require.NoError(t, err)
	require.True(t, has)
	has, err = idx.Has(ctx, "a", 2)
	require.NoError(t, err)
	require.False(t, has)

	// An update moves job 1 from a to c and keeps b.
	require.NoError(t, jobs.Set(ctx, 1, job{Nodes: []string{"c", "b"}}))
	require.Equal(t, []collections.Pair[string, uint64]{
		collections.Join("b", uint64(1)), collections.Join("b", uint64(2)),
		collections.Join("c", uint64(1)), collections.Join("c", uint64(2)),
	}, entries(t, ctx, idx))

	// An update to no nodes removes every entry of the job.
	require.NoError(t, jobs.Set(ctx, 2, job{}))
	require.Equal(t, []uint64{1}, match(t, ctx, idx, "b"))

	// Removal drops the remaining entries.
	require.NoError(t, jobs.Remove(ctx, 1))
	require.Empty(t, entries(t, ctx, idx))

	// A failing reference function fails the write.
	require.ErrorIs(t, jobs.Set(ctx, 4, job{Nodes: []string{"a", ""}}), errBadNode)
}

func TestMultiIndexRefKeys(t *testing.T) {
	_, jobs, _ := newJobs(t)
	got, err := jobs.Indexes.Node.RefKeys(7, job{Nodes: []string{"node-2", "node-10", "node-2", "a"}})
	require.NoError(t, err)
	// Store order of the encoded keys: string keys sort by bytes.
	require.Equal(t, []string{"a", "node-10", "node-2"}, got)
	got, err = jobs.Indexes.Node.RefKeys(7, job{})
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestMultiIndexOrdersNumericKeysNumerically(t *testing.T) {
	ss, ctx := colltest.MockStore()
	sb := collections.NewSchemaBuilderFromAccessor(ss.OpenKVStore)
	type v struct{ Groups []uint64 }
	idx := collx.NewMultiIndex(sb, collections.NewPrefix(2), "by_group", collections.Uint64Key, collections.StringKey,
		func(_ string, x v) ([]uint64, error) { return x.Groups, nil })
	m := collections.NewIndexedMap(sb, collections.NewPrefix(1), "m", collections.StringKey, colltest.MockValueCodec[v](),
		struct {
			G *collx.MultiIndex[uint64, string, v]
		}{idx})
	_, err := sb.Build()
	require.NoError(t, err)
	got, err := idx.RefKeys("x", v{Groups: []uint64{300, 2, 1 << 40, 2}})
	require.NoError(t, err)
	require.Equal(t, []uint64{2, 300, 1 << 40}, got)
	require.NoError(t, m.Set(ctx, "x", v{Groups: []uint64{300, 2}}))
	iter, err := idx.Iterate(ctx, nil)
	require.NoError(t, err)
	keys, err := iter.FullKeys()
	require.NoError(t, err)
	require.Equal(t, []collections.Pair[uint64, string]{collections.Join(uint64(2), "x"), collections.Join(uint64(300), "x")}, keys)
}

func TestMultiIndexPaginates(t *testing.T) {
	ctx, jobs, _ := newJobs(t)
	for id := uint64(1); id <= 5; id++ {
		require.NoError(t, jobs.Set(ctx, id, job{Nodes: []string{"shared", "other"}}))
	}
	require.NoError(t, jobs.Set(ctx, 6, job{Nodes: []string{"other"}}))

	var got []uint64
	var next []byte
	for {
		page, res, err := query.CollectionPaginate(ctx, jobs.Indexes.Node, &query.PageRequest{Key: next, Limit: 2},
			func(k collections.Pair[string, uint64], _ collections.NoValue) (uint64, error) { return k.K2(), nil },
			query.WithCollectionPaginationPairPrefix[string, uint64]("shared"))
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 2)
		got = append(got, page...)
		if res.NextKey == nil {
			break
		}
		next = res.NextKey
	}
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, got)
}

// TestMultiIndexUnreferenceMissing mirrors indexes.Multi: unreferencing a value that does not exist reports
// collections.ErrNotFound.
func TestMultiIndexUnreferenceMissing(t *testing.T) {
	ctx, jobs, _ := newJobs(t)
	err := jobs.Indexes.Node.Unreference(ctx, 9, func() (job, error) { return job{}, collections.ErrNotFound })
	require.ErrorIs(t, err, collections.ErrNotFound)
	err = jobs.Indexes.Node.Reference(ctx, 9, job{Nodes: []string{"a"}}, func() (job, error) { return job{}, errBadNode })
	require.ErrorIs(t, err, errBadNode)
	require.Empty(t, entries(t, ctx, jobs.Indexes.Node))
}
