package types

import errorsmod "cosmossdk.io/errors"

// x/allocation errors. Codes start at 2 (1 is reserved by the SDK for internal errors) and never change.
var (
	ErrInvalidNodeID       = errorsmod.Register(ModuleName, 2, "invalid node id")
	ErrInvalidRegion       = errorsmod.Register(ModuleName, 3, "unknown region")
	ErrInvalidGPUs         = errorsmod.Register(ModuleName, 4, "invalid gpus")
	ErrInvalidBandwidth    = errorsmod.Register(ModuleName, 5, "invalid bandwidth")
	ErrInvalidPrice        = errorsmod.Register(ModuleName, 6, "invalid price")
	ErrInsufficientStake   = errorsmod.Register(ModuleName, 7, "insufficient stake")
	ErrInvalidEthAddress   = errorsmod.Register(ModuleName, 8, "invalid ethereum address")
	ErrNodeExists          = errorsmod.Register(ModuleName, 9, "node already registered")
	ErrNodeNotFound        = errorsmod.Register(ModuleName, 10, "node not found")
	ErrNotOperator         = errorsmod.Register(ModuleName, 11, "signer is not the node operator")
	ErrNodeNotActive       = errorsmod.Register(ModuleName, 12, "node is not active")
	ErrNodeHasReservations = errorsmod.Register(ModuleName, 13, "node has GPUs reserved by leases")
	ErrInvalidParams       = errorsmod.Register(ModuleName, 14, "invalid params")
	ErrInvalidAuthority    = errorsmod.Register(ModuleName, 15, "invalid authority")
	ErrInvalidAddress      = errorsmod.Register(ModuleName, 16, "invalid address")
	ErrInvalidStake        = errorsmod.Register(ModuleName, 17, "invalid stake amount")
	ErrEmptyUpdate         = errorsmod.Register(ModuleName, 18, "update changes nothing")
	ErrInvalidGenesis      = errorsmod.Register(ModuleName, 19, "invalid genesis")
	ErrLeaseNotPending     = errorsmod.Register(ModuleName, 20, "lease is not pending")
	ErrProposalWindow      = errorsmod.Register(ModuleName, 21, "proposal window closed")
	ErrNotProposer         = errorsmod.Register(ModuleName, 22, "account may not propose")
	ErrInvalidProposal     = errorsmod.Register(ModuleName, 23, "invalid proposal")
	ErrProposalNotBetter   = errorsmod.Register(ModuleName, 24, "proposal is not better than the kept proposals")
	ErrUnknownLink         = errorsmod.Register(ModuleName, 25, "no region link")
	ErrNodeNotJailed       = errorsmod.Register(ModuleName, 26, "node is not jailed")
	ErrStillJailed         = errorsmod.Register(ModuleName, 27, "node is still jailed")
	ErrDuplicateProposal   = errorsmod.Register(ModuleName, 28, "a kept proposal already places the lease on the same nodes")
)
