package types

import (
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
)

// RegisterInterfaces registers the module's messages with the interface registry. x/audit has no messages
// yet (telemetry and attestation messages come later); the function is kept so that the app wiring does not
// change when they arrive.
func RegisterInterfaces(_ codectypes.InterfaceRegistry) {}
