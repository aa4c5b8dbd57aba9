package types

import errorsmod "cosmossdk.io/errors"

// x/audit errors. Codes start at 2 (1 is reserved by the SDK for internal errors) and never change.
var (
	ErrInvalidDecision  = errorsmod.Register(ModuleName, 2, "invalid decision record")
	ErrInvalidWinner    = errorsmod.Register(ModuleName, 3, "invalid decision winner")
	ErrDecisionNotFound = errorsmod.Register(ModuleName, 4, "decision not found")
	ErrInvalidGenesis   = errorsmod.Register(ModuleName, 5, "invalid genesis")
)
