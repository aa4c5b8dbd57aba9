// Package params holds what a client of the chain needs without the app itself: the address prefixes and
// denominations (config.go) and the codecs of every message and query the chain knows (encoding.go).
//
// Daemons that only talk to nrod — nro-agent, nro-relayer — link this package instead of app, which keeps
// the keepers, stores and CometBFT out of their binaries (and their resident memory).
package params

import (
	"os"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

const (
	// AppName is the name of the application, reported over ABCI.
	AppName = "nro"
	// Bech32Prefix is the account address prefix: nro1...
	Bech32Prefix = "nro"
	// BondDenom is the base denomination: 1 NRO = 10^6 unro.
	BondDenom = "unro"
	// DisplayDenom is the human unit.
	DisplayDenom = "nro"
	// DefaultChainID is the chain id of local networks.
	DefaultChainID = "nro-local-1"
)

var (
	Bech32PrefixAccPub   = Bech32Prefix + sdk.PrefixPublic
	Bech32PrefixValAddr  = Bech32Prefix + sdk.PrefixValidator + sdk.PrefixOperator
	Bech32PrefixValPub   = Bech32PrefixValAddr + sdk.PrefixPublic
	Bech32PrefixConsAddr = Bech32Prefix + sdk.PrefixValidator + sdk.PrefixConsensus
	Bech32PrefixConsPub  = Bech32PrefixConsAddr + sdk.PrefixPublic
)

// SetConfig sets the global SDK address prefixes to nro. It is idempotent and must run before any
// address is rendered; the SDK config is process-global, so it is sealed afterwards.
//
// It also names the SDK config scope (COSMOS_SDK_CONFIG_SCOPE) when the environment does not: without it,
// every sdk.GetConfig — called by each bech32 decode through VerifyAddressFormat — builds its registry key
// from os.Executable and os.Hostname, two system calls per address (about 6 % of an allocation EndBlock).
func SetConfig() {
	if os.Getenv(sdk.EnvConfigScope) == "" {
		_ = os.Setenv(sdk.EnvConfigScope, AppName)
	}
	cfg := sdk.GetConfig()
	if cfg.GetBech32AccountAddrPrefix() == Bech32Prefix {
		return
	}
	cfg.SetBech32PrefixForAccount(Bech32Prefix, Bech32PrefixAccPub)
	cfg.SetBech32PrefixForValidator(Bech32PrefixValAddr, Bech32PrefixValPub)
	cfg.SetBech32PrefixForConsensusNode(Bech32PrefixConsAddr, Bech32PrefixConsPub)
	cfg.Seal()
}

func init() {
	SetConfig()
	sdk.DefaultBondDenom = BondDenom
}
