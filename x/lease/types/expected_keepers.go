package types

import (
	"context"

	"cosmossdk.io/core/address"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// AccountKeeper is what x/lease needs from x/auth.
type AccountKeeper interface {
	AddressCodec() address.Codec
	GetModuleAddress(moduleName string) sdk.AccAddress
}

// BankKeeper is what x/lease needs from x/bank: moving deposits into escrow and payments out of it.
type BankKeeper interface {
	SpendableCoins(ctx context.Context, addr sdk.AccAddress) sdk.Coins
	GetBalance(ctx context.Context, addr sdk.AccAddress, denom string) sdk.Coin
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
	SendCoinsFromModuleToModule(ctx context.Context, senderModule, recipientModule string, amt sdk.Coins) error
}

// AllocationKeeper is what x/lease needs from x/allocation, which owns nodes, their capacity and the
// allocation queue. x/allocation calls back into x/lease (GetLease, ActivateLease) when it places a lease.
type AllocationKeeper interface {
	// PriceDenom is the denom node prices and stakes are in; lease deposits and prices must use it.
	PriceDenom(ctx context.Context) (string, error)
	// ValidateLeaseRegions checks that every region of a lease spec is one nodes may register in.
	ValidateLeaseRegions(ctx context.Context, regions []string) error
	// EnqueueLease puts a new PENDING lease into the allocation queue; proposals are accepted from now on.
	EnqueueLease(ctx context.Context, leaseID uint64) error
	// DropPendingLease takes a PENDING lease that is cancelled or expired out of the allocation queue and
	// discards its proposals.
	DropPendingLease(ctx context.Context, leaseID uint64) error
	// ReleaseLease frees the GPUs an ending ACTIVE lease holds on its nodes.
	ReleaseLease(ctx context.Context, lease Lease) error
}
