package app

import (
	"github.com/consensus-nro/nro/app/params"
)

// The chain's names and prefixes live in app/params, which clients link without the app; these are the
// same values.
const (
	// AppName is the name of the application, reported over ABCI.
	AppName = params.AppName
	// Bech32Prefix is the account address prefix: nro1...
	Bech32Prefix = params.Bech32Prefix
	// BondDenom is the base denomination: 1 NRO = 10^6 unro.
	BondDenom = params.BondDenom
	// DisplayDenom is the human unit.
	DisplayDenom = params.DisplayDenom
	// DefaultChainID is the chain id of local networks.
	DefaultChainID = params.DefaultChainID
)

var (
	Bech32PrefixAccPub   = params.Bech32PrefixAccPub
	Bech32PrefixValAddr  = params.Bech32PrefixValAddr
	Bech32PrefixValPub   = params.Bech32PrefixValPub
	Bech32PrefixConsAddr = params.Bech32PrefixConsAddr
	Bech32PrefixConsPub  = params.Bech32PrefixConsPub
)

// SetConfig sets the global SDK address prefixes to nro (params.SetConfig). It is idempotent and must run
// before any address is rendered; the SDK config is process-global, so it is sealed afterwards.
func SetConfig() { params.SetConfig() }
