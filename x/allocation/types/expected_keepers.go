package types

import (
	"context"

	"cosmossdk.io/core/address"

	sdk "github.com/cosmos/cosmos-sdk/types"

	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// AccountKeeper is what x/allocation needs from x/auth.
type AccountKeeper interface {
	AddressCodec() address.Codec
	GetModuleAddress(moduleName string) sdk.AccAddress
	GetAccount(ctx context.Context, addr sdk.AccAddress) sdk.AccountI
}

// BankKeeper is what x/allocation needs from x/bank: moving stake in and out of the module account.
type BankKeeper interface {
	SpendableCoins(ctx context.Context, addr sdk.AccAddress) sdk.Coins
	GetBalance(ctx context.Context, addr sdk.AccAddress, denom string) sdk.Coin
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
	// SendCoinsFromModuleToModule hands slashed stake to x/audit, which burns it or pays it out.
	SendCoinsFromModuleToModule(ctx context.Context, senderModule, recipientModule string, amt sdk.Coins) error
}

// LeaseKeeper is what the allocation engine needs from x/lease. x/lease owns leases and their escrow; the
// engine reads pending leases and activates them once placed.
type LeaseKeeper interface {
	GetLease(ctx context.Context, id uint64) (leasetypes.Lease, error)
	// PrepareActivation checks that a PENDING lease can turn ACTIVE on the given placement (capacity is
	// reserved by the caller) and returns the function that stores the activation. It writes nothing itself,
	// and activate fails only if the store does: the engine checks every step of a decision before it
	// writes any.
	PrepareActivation(ctx context.Context, id uint64, nodes []leasetypes.LeaseNode, ringOrder []string, decisionID uint64) (activate func() error, err error)
}

// AuditKeeper stores allocation decision records and aggregates measured links (x/audit).
type AuditKeeper interface {
	// PrepareDecision checks the record of the decision for a lease and returns the id it will have and the
	// function that stores it; moved is the placement the lease was moved off when the decision re-places
	// it, nil for its first placement. It writes nothing itself, and store fails only if the store does.
	PrepareDecision(ctx context.Context, leaseID uint64, spec leasetypes.LeaseSpec, blocksPerHour uint64,
		weights ScoringWeights, candidates []Candidate, winner uint32, moved *leasetypes.PastPlacement) (id uint64, store func() error, err error)
	// MeasuredLink returns the link between two nodes from the link matrix — the medians of both ends' recent
	// probe reports, throughput in Mbit/s — and the epoch of its newest sample; found is false when the pair
	// has no samples within link_report_window_epochs of the current epoch.
	MeasuredLink(ctx context.Context, nodeA, nodeB string) (rttUs, bandwidthMbps, epoch uint64, found bool, err error)
}
