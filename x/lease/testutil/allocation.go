package testutil

import (
	"context"
	"fmt"
	"slices"

	"github.com/consensus-nro/nro/x/lease/types"
)

// AllocationCall is one call x/lease made into x/allocation that changes its state.
type AllocationCall struct {
	// Method is EnqueueLease, DropPendingLease or ReleaseLease.
	Method  string
	LeaseID uint64
}

// FakeAllocationKeeper stands in for x/allocation. By default it reports Denom as the price denom, accepts
// the regions in Regions, and accepts every queue change; each function field, when set, replaces that
// behaviour. The state-changing calls are recorded in Calls in order, including refused ones.
type FakeAllocationKeeper struct {
	Denom   string
	Regions []string

	PriceDenomFn           func(ctx context.Context) (string, error)
	ValidateLeaseRegionsFn func(ctx context.Context, regions []string) error
	EnqueueLeaseFn         func(ctx context.Context, leaseID uint64) error
	DropPendingLeaseFn     func(ctx context.Context, leaseID uint64) error
	ReleaseLeaseFn         func(ctx context.Context, lease types.Lease) error

	Calls []AllocationCall
	// Released are the leases passed to ReleaseLease, in order.
	Released []types.Lease
}

var _ types.AllocationKeeper = (*FakeAllocationKeeper)(nil)

// NewFakeAllocationKeeper returns a fake with the unro denom and a few real regions.
func NewFakeAllocationKeeper() *FakeAllocationKeeper {
	return &FakeAllocationKeeper{
		Denom:   Denom,
		Regions: []string{"aws:us-east-1", "aws:us-west-2", "azure:westeurope", "gcp:us-central1-a"},
	}
}

// PriceDenom implements types.AllocationKeeper.
func (f *FakeAllocationKeeper) PriceDenom(ctx context.Context) (string, error) {
	if f.PriceDenomFn != nil {
		return f.PriceDenomFn(ctx)
	}
	return f.Denom, nil
}

// ValidateLeaseRegions implements types.AllocationKeeper.
func (f *FakeAllocationKeeper) ValidateLeaseRegions(ctx context.Context, regions []string) error {
	if f.ValidateLeaseRegionsFn != nil {
		return f.ValidateLeaseRegionsFn(ctx, regions)
	}
	for _, r := range regions {
		if !slices.Contains(f.Regions, r) {
			return fmt.Errorf("unknown region %q: not one of %v", r, f.Regions)
		}
	}
	return nil
}

// EnqueueLease implements types.AllocationKeeper.
func (f *FakeAllocationKeeper) EnqueueLease(ctx context.Context, leaseID uint64) error {
	f.Calls = append(f.Calls, AllocationCall{"EnqueueLease", leaseID})
	if f.EnqueueLeaseFn != nil {
		return f.EnqueueLeaseFn(ctx, leaseID)
	}
	return nil
}

// DropPendingLease implements types.AllocationKeeper.
func (f *FakeAllocationKeeper) DropPendingLease(ctx context.Context, leaseID uint64) error {
	f.Calls = append(f.Calls, AllocationCall{"DropPendingLease", leaseID})
	if f.DropPendingLeaseFn != nil {
		return f.DropPendingLeaseFn(ctx, leaseID)
	}
	return nil
}

// ReleaseLease implements types.AllocationKeeper.
func (f *FakeAllocationKeeper) ReleaseLease(ctx context.Context, lease types.Lease) error {
	f.Calls = append(f.Calls, AllocationCall{"ReleaseLease", lease.Id})
	f.Released = append(f.Released, lease)
	if f.ReleaseLeaseFn != nil {
		return f.ReleaseLeaseFn(ctx, lease)
	}
	return nil
}

// ResetCalls forgets the recorded calls.
func (f *FakeAllocationKeeper) ResetCalls() {
	f.Calls = nil
	f.Released = nil
}
