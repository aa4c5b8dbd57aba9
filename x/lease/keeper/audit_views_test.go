package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/x/lease/testutil"
	"github.com/consensus-nro/nro/x/lease/types"
)

// TestAuditViews: x/audit's read-only views list the ACTIVE leases of a node, and walk the ACTIVE leases from
// a lease id, skipping pending and ended ones.
func TestAuditViews(t *testing.T) {
	f := testutil.NewFixture(t)
	_, sub := f.Addr("submitter")
	_, op := f.Addr("operator")
	create := func() types.Lease { return f.CreateLease(f.ValidCreateMsg(sub)) }

	l1 := create()
	f.Activate(l1.Id, f.LeaseNode("gpu-a", op, 4, 2_000_000), f.LeaseNode("gpu-b", op, 4, 2_000_000))
	l2 := create() // stays PENDING
	l3 := create()
	f.Activate(l3.Id, f.LeaseNode("gpu-b", op, 8, 2_000_000))
	l4 := create()
	f.Activate(l4.Id, f.LeaseNode("gpu-a", op, 8, 2_000_000))
	_, err := f.MsgServer.CloseLease(f.Ctx, &types.MsgCloseLease{Submitter: sub, LeaseId: l4.Id})
	require.NoError(t, err)

	active, err := f.Keeper.ActiveLeasesOfNode(f.Ctx, "gpu-a")
	require.NoError(t, err)
	require.Equal(t, []uint64{l1.Id}, leaseIDs(active), "lease 4 has ended")
	active, err = f.Keeper.ActiveLeasesOfNode(f.Ctx, "gpu-b")
	require.NoError(t, err)
	require.Equal(t, []uint64{l1.Id, l3.Id}, leaseIDs(active))
	active, err = f.Keeper.ActiveLeasesOfNode(f.Ctx, "gpu-z")
	require.NoError(t, err)
	require.Empty(t, active)

	walk := func(from uint64, limit int) []uint64 {
		var got []types.Lease
		require.NoError(t, f.Keeper.WalkActiveLeases(f.Ctx, from, func(l types.Lease) (bool, error) {
			require.Equal(t, types.LEASE_STATE_ACTIVE, l.State)
			got = append(got, l)
			return len(got) >= limit, nil
		}))
		return leaseIDs(got)
	}
	require.Equal(t, []uint64{l1.Id, l3.Id}, walk(0, 10))
	require.Equal(t, []uint64{l3.Id}, walk(l2.Id, 10), "from an id, inclusive")
	require.Equal(t, []uint64{l1.Id}, walk(1, 1), "stops when told")
	require.Empty(t, walk(l4.Id, 10))
}
