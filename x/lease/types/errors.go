package types

import errorsmod "cosmossdk.io/errors"

// x/lease errors. Codes start at 2 (1 is reserved by the SDK for internal errors) and never change.
var (
	ErrInvalidAddress      = errorsmod.Register(ModuleName, 2, "invalid address")
	ErrInvalidSpec         = errorsmod.Register(ModuleName, 3, "invalid lease spec")
	ErrInvalidPrice        = errorsmod.Register(ModuleName, 4, "invalid price")
	ErrInvalidDeposit      = errorsmod.Register(ModuleName, 5, "invalid deposit")
	ErrInsufficientDeposit = errorsmod.Register(ModuleName, 6, "deposit below the minimum")
	ErrLeaseNotFound       = errorsmod.Register(ModuleName, 7, "lease not found")
	ErrUnauthorized        = errorsmod.Register(ModuleName, 8, "signer is not the lease submitter")
	ErrLeaseNotPending     = errorsmod.Register(ModuleName, 9, "lease is not pending")
	ErrLeaseNotActive      = errorsmod.Register(ModuleName, 10, "lease is not active")
	ErrLeaseClosed         = errorsmod.Register(ModuleName, 11, "lease has ended")
	ErrInvalidPlacement    = errorsmod.Register(ModuleName, 12, "invalid placement")
	ErrInvalidAmount       = errorsmod.Register(ModuleName, 13, "invalid amount")
	ErrInvalidParams       = errorsmod.Register(ModuleName, 14, "invalid params")
	ErrInvalidAuthority    = errorsmod.Register(ModuleName, 15, "invalid authority")
	ErrInvalidGenesis      = errorsmod.Register(ModuleName, 16, "invalid genesis")
	ErrInvalidLeaseID      = errorsmod.Register(ModuleName, 17, "invalid lease id")
	ErrBatchNotFound       = errorsmod.Register(ModuleName, 18, "settlement batch not found")
	ErrBatchNotPending     = errorsmod.Register(ModuleName, 19, "settlement batch not pending")
)
