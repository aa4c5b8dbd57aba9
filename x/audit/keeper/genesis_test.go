package keeper_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

func TestGenesisRoundTrip(t *testing.T) {
	f := queryFixture(t)
	exported, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.NoError(t, exported.Validate())
	require.Equal(t, uint64(6), exported.NextDecisionId)
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, ids(exported.Decisions))

	// Through JSON, as in a genesis file.
	var gs types.GenesisState
	f.Codec.MustUnmarshalJSON(f.Codec.MustMarshalJSON(exported), &gs)

	g := audittestutil.NewFixtureWithoutGenesis(t)
	require.NoError(t, g.Keeper.InitGenesis(g.Ctx, gs))
	g.RequireInvariant()
	again, err := g.Keeper.ExportGenesis(g.Ctx)
	require.NoError(t, err)
	requireSameProto(t, exported, again)

	// The indexes were rebuilt, and new ids continue after the imported ones.
	res, err := g.QueryServer.Decisions(g.Ctx, &types.QueryDecisionsRequest{NodeId: "n-g1", MinHeight: 101})
	require.NoError(t, err)
	require.Equal(t, []uint64{3, 5}, ids(res.Decisions))
	require.Equal(t, uint64(6), record(t, g, 4, 130, 0))
}

func TestInitGenesisKeepsNextID(t *testing.T) {
	f := audittestutil.NewFixtureWithoutGenesis(t)
	require.NoError(t, f.Keeper.InitGenesis(f.Ctx, types.GenesisState{
		Decisions:       []types.Decision{audittestutil.SampleDecision(t, 2, 10), audittestutil.SampleDecision(t, 5, 11)},
		NextDecisionId:  10,
		Params:          types.DefaultParams(),
		NextFaultId:     1,
		NextSlashId:     1,
		NextChallengeId: 1,
	}))
	f.RequireInvariant()
	require.Equal(t, uint64(10), record(t, f, 1, 20, 0))
}

func TestInitGenesisInvalid(t *testing.T) {
	f := audittestutil.NewFixtureWithoutGenesis(t)
	err := f.Keeper.InitGenesis(f.Ctx, types.GenesisState{
		Decisions:       []types.Decision{audittestutil.SampleDecision(t, 2, 10)},
		NextDecisionId:  2,
		Params:          types.DefaultParams(),
		NextFaultId:     1,
		NextSlashId:     1,
		NextChallengeId: 1,
	})
	require.ErrorIs(t, err, types.ErrInvalidGenesis)
	require.Empty(t, allDecisions(t, f))
}

func TestExportGenesisFresh(t *testing.T) {
	// A store that never ran InitGenesis exports a valid genesis.
	f := audittestutil.NewFixtureWithoutGenesis(t)
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, types.DefaultGenesis(), gs)
	require.NoError(t, gs.Validate())
}

func TestCheckDecisionIndexes(t *testing.T) {
	rawKey := func(prefix collections.Prefix, key []byte) []byte {
		return append(append([]byte{}, prefix.Bytes()...), key...)
	}
	id := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	pairKey := func(t *testing.T, ref string, n uint64) []byte {
		kc := collections.PairKeyCodec(collections.StringKey, collections.Uint64Key)
		k := collections.Join(ref, n)
		buf := make([]byte, kc.Size(k))
		_, err := kc.Encode(buf, k)
		require.NoError(t, err)
		return buf
	}
	tests := []struct {
		name     string
		corrupt  func(t *testing.T, f *audittestutil.Fixture)
		contains string
	}{
		{
			name: "decision gone, index entries left",
			corrupt: func(_ *testing.T, f *audittestutil.Fixture) {
				f.Ctx.KVStore(f.StoreKey).Delete(rawKey(types.DecisionsKey, id(3)))
			},
			contains: "decisions_by_lease: entry for decision 3: collections: not found",
		},
		{
			name: "stray node entry",
			corrupt: func(t *testing.T, f *audittestutil.Fixture) {
				f.Ctx.KVStore(f.StoreKey).Set(rawKey(types.DecisionsByNodeKey, pairKey(t, "n-x", 1)), []byte{})
			},
			contains: "decisions_by_node: entry (n-x, 1) but decision 1 places nothing on n-x (nodes [n-a1 n-a2])",
		},
		{
			name: "missing node entry",
			corrupt: func(t *testing.T, f *audittestutil.Fixture) {
				f.Ctx.KVStore(f.StoreKey).Delete(rawKey(types.DecisionsByNodeKey, pairKey(t, "n-g1", 3)))
			},
			contains: "index decisions_by_node has 7 entries; the 5 decisions need 8",
		},
		{
			name: "sequence behind the ids",
			corrupt: func(t *testing.T, f *audittestutil.Fixture) {
				require.NoError(t, f.Keeper.DecisionSeq.Set(f.Ctx, 4))
			},
			contains: "decision 4 is not below the next decision id 4",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := queryFixture(t)
			f.RequireInvariant()
			tc.corrupt(t, f)
			require.ErrorContains(t, f.Keeper.CheckDecisionIndexes(f.Ctx), tc.contains)
		})
	}
}
