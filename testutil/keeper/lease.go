package keeper

import (
	"testing"

	leasetestutil "github.com/consensus-nro/nro/x/lease/testutil"
)

// The x/lease fixture lives in x/lease/testutil so that x/lease's own tests build without x/allocation (it
// uses a fake AllocationKeeper). These aliases make it available next to the other keeper fixtures.
type (
	// LeaseFixture is an x/lease keeper over real x/auth and x/bank keepers with a fake x/allocation.
	LeaseFixture = leasetestutil.Fixture
	// FakeAllocationKeeper is the x/allocation stand-in of LeaseFixture; it records the calls made into it.
	FakeAllocationKeeper = leasetestutil.FakeAllocationKeeper
)

// NewLeaseFixture builds a fresh chain state at StartHeight with the default x/lease genesis.
func NewLeaseFixture(t testing.TB) *LeaseFixture { return leasetestutil.NewFixture(t) }
