package params

import (
	"fmt"

	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/std"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	v1bank "github.com/cosmos/cosmos-sdk/x/bank/migrations/v1"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	evidencetypes "github.com/cosmos/cosmos-sdk/x/evidence/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
	govv1beta1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1beta1"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	"github.com/cosmos/cosmos-sdk/x/tx/signing"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// EncodingConfig is the chain's interface registry, its binary/JSON codec and its transaction config.
type EncodingConfig struct {
	InterfaceRegistry types.InterfaceRegistry
	Codec             codec.Codec
	TxConfig          client.TxConfig
}

// SigningOptions are the chain's address codecs for finding a message's signers.
func SigningOptions() signing.Options {
	return signing.Options{
		AddressCodec:          address.NewBech32Codec(Bech32Prefix),
		ValidatorAddressCodec: address.NewBech32Codec(Bech32PrefixValAddr),
	}
}

// MakeEncodingConfig returns the codecs of every message, query and account type of the chain: the same
// registrations as the app's module manager makes (app's TestEncodingConfigMatchesApp holds the two
// together). It fails only if a registered message has no signer, which is a build error of the chain.
func MakeEncodingConfig() (EncodingConfig, error) {
	SetConfig()
	registry, err := types.NewInterfaceRegistryWithOptions(types.InterfaceRegistryOptions{
		ProtoFiles:     proto.HybridResolver,
		SigningOptions: SigningOptions(),
	})
	if err != nil {
		return EncodingConfig{}, fmt.Errorf("interface registry: %w", err)
	}
	std.RegisterInterfaces(registry)
	for _, register := range []func(types.InterfaceRegistry){
		authtypes.RegisterInterfaces,
		banktypes.RegisterInterfaces, v1bank.RegisterInterfaces,
		govv1.RegisterInterfaces, govv1beta1.RegisterInterfaces,
		minttypes.RegisterInterfaces,
		slashingtypes.RegisterInterfaces,
		distrtypes.RegisterInterfaces,
		stakingtypes.RegisterInterfaces,
		upgradetypes.RegisterInterfaces,
		evidencetypes.RegisterInterfaces,
		consensustypes.RegisterInterfaces,
		allocationtypes.RegisterInterfaces,
		leasetypes.RegisterInterfaces,
		audittypes.RegisterInterfaces,
	} {
		register(registry)
	}
	if err := registry.SigningContext().Validate(); err != nil {
		return EncodingConfig{}, fmt.Errorf("signing context: %w", err)
	}
	cdc := codec.NewProtoCodec(registry)
	return EncodingConfig{
		InterfaceRegistry: registry,
		Codec:             cdc,
		TxConfig:          authtx.NewTxConfig(cdc, authtx.DefaultSignModes),
	}, nil
}
