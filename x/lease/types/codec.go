package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/legacy"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterLegacyAminoCodec registers the messages for amino JSON signing (Ledger).
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	legacy.RegisterAminoMsg(cdc, &MsgCreateLease{}, "nro/lease/MsgCreateLease")
	legacy.RegisterAminoMsg(cdc, &MsgCancelLease{}, "nro/lease/MsgCancelLease")
	legacy.RegisterAminoMsg(cdc, &MsgTopUpLease{}, "nro/lease/MsgTopUpLease")
	legacy.RegisterAminoMsg(cdc, &MsgCloseLease{}, "nro/lease/MsgCloseLease")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "nro/x/lease/MsgUpdateParams")
	cdc.RegisterConcrete(&Params{}, "nro/x/lease/Params", nil)
}

// RegisterInterfaces registers the messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgCreateLease{},
		&MsgCancelLease{},
		&MsgTopUpLease{},
		&MsgCloseLease{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
