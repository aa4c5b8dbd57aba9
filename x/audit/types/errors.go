package types

import errorsmod "cosmossdk.io/errors"

// x/audit errors. Codes start at 2 (1 is reserved by the SDK for internal errors) and never change.
var (
	ErrInvalidDecision  = errorsmod.Register(ModuleName, 2, "invalid decision record")
	ErrInvalidWinner    = errorsmod.Register(ModuleName, 3, "invalid decision winner")
	ErrDecisionNotFound = errorsmod.Register(ModuleName, 4, "decision not found")
	ErrInvalidGenesis   = errorsmod.Register(ModuleName, 5, "invalid genesis")

	ErrInvalidParams     = errorsmod.Register(ModuleName, 6, "invalid params")
	ErrInvalidAuthority  = errorsmod.Register(ModuleName, 7, "invalid authority")
	ErrInvalidAddress    = errorsmod.Register(ModuleName, 8, "invalid address")
	ErrInvalidNodeID     = errorsmod.Register(ModuleName, 9, "invalid node id")
	ErrInvalidEpoch      = errorsmod.Register(ModuleName, 10, "epoch not open for reports")
	ErrUnknownNode       = errorsmod.Register(ModuleName, 11, "unknown node")
	ErrNotNodeAgent      = errorsmod.Register(ModuleName, 12, "signer is not the node's agent")
	ErrDuplicateReport   = errorsmod.Register(ModuleName, 13, "node already reported for this epoch")
	ErrNodeNotReporting  = errorsmod.Register(ModuleName, 14, "node has nothing to attest")
	ErrInvalidGPUMetrics = errorsmod.Register(ModuleName, 15, "invalid gpu metrics")
	ErrInvalidLink       = errorsmod.Register(ModuleName, 16, "invalid link measurement")
	ErrLinkNotLeased     = errorsmod.Register(ModuleName, 17, "link to a node that shares no active lease")
	ErrReportTooLarge    = errorsmod.Register(ModuleName, 18, "report has too many entries")
	ErrReportNotFound    = errorsmod.Register(ModuleName, 19, "telemetry report not found")

	ErrInvalidChallenge   = errorsmod.Register(ModuleName, 20, "invalid challenge")
	ErrChallengeBond      = errorsmod.Register(ModuleName, 21, "challenge bond too small")
	ErrChallengeNotFound  = errorsmod.Register(ModuleName, 22, "challenge not found")
	ErrChallengeClosed    = errorsmod.Register(ModuleName, 23, "challenge is not open")
	ErrNotCommitteeMember = errorsmod.Register(ModuleName, 24, "not a member of the challenge committee")
	ErrAlreadyAnswered    = errorsmod.Register(ModuleName, 25, "committee member already answered")
	ErrNoCommittee        = errorsmod.Register(ModuleName, 26, "no committee can be drawn")
	ErrDuplicateChallenge = errorsmod.Register(ModuleName, 27, "link already challenged")

	ErrBridgeOff        = errorsmod.Register(ModuleName, 28, "ethereum bridge is not configured")
	ErrNotValidator     = errorsmod.Register(ModuleName, 29, "not a validator")
	ErrInvalidEthSigner = errorsmod.Register(ModuleName, 30, "invalid ethereum signer")
	ErrSignerTaken      = errorsmod.Register(ModuleName, 31, "ethereum signer or orchestrator already registered")
	ErrNotOrchestrator  = errorsmod.Register(ModuleName, 32, "not a registered orchestrator")
	ErrValsetNotFound   = errorsmod.Register(ModuleName, 33, "bridge valset not found")
	ErrAlreadyConfirmed = errorsmod.Register(ModuleName, 34, "already confirmed")
	ErrInvalidBridgeSig = errorsmod.Register(ModuleName, 35, "invalid bridge signature")
	ErrInvalidClaim     = errorsmod.Register(ModuleName, 36, "invalid batch execution claim")
	ErrAlreadyAttested  = errorsmod.Register(ModuleName, 37, "already attested")
)
