package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

// record stores the sample decision's inputs for lease leaseID with the given winner at height h, and
// returns the new id.
func record(t *testing.T, f *audittestutil.Fixture, leaseID uint64, h int64, winner uint32) uint64 {
	t.Helper()
	f.SetHeight(h)
	d := audittestutil.SampleDecision(t, 1, h)
	id, err := f.Keeper.RecordDecision(f.Ctx, leaseID, d.Spec, d.BlocksPerHour, d.Weights, d.Candidates, winner, nil)
	require.NoError(t, err)
	f.RequireInvariant()
	return id
}

// allDecisions returns every stored decision in id order.
func allDecisions(t *testing.T, f *audittestutil.Fixture) []types.Decision {
	t.Helper()
	var out []types.Decision
	require.NoError(t, f.Keeper.Decisions.Walk(f.Ctx, nil, func(_ uint64, d types.Decision) (bool, error) {
		out = append(out, d)
		return false, nil
	}))
	return out
}

func ids(ds []types.Decision) []uint64 {
	out := []uint64{}
	for _, d := range ds {
		out = append(out, d.Id)
	}
	return out
}

// requireSameProto compares two messages by their binary encoding (math.Int values do not compare well
// with reflect.DeepEqual).
func requireSameProto(t *testing.T, want, got proto.Message) {
	t.Helper()
	wantBz, err := proto.Marshal(want)
	require.NoError(t, err)
	gotBz, err := proto.Marshal(got)
	require.NoError(t, err)
	require.Equal(t, wantBz, gotBz, "want %v\ngot  %v", want, got)
}

func requireCode(t *testing.T, err error, code codes.Code, contains string) {
	t.Helper()
	require.Error(t, err)
	st, ok := status.FromError(err)
	require.True(t, ok, "not a gRPC status: %v", err)
	require.Equal(t, code, st.Code(), st.Message())
	require.Contains(t, st.Message(), contains)
}
