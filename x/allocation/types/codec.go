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
	legacy.RegisterAminoMsg(cdc, &MsgRegisterNode{}, "nro/allocation/MsgRegisterNode")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateNode{}, "nro/allocation/MsgUpdateNode")
	legacy.RegisterAminoMsg(cdc, &MsgAddStake{}, "nro/allocation/MsgAddStake")
	legacy.RegisterAminoMsg(cdc, &MsgDeregisterNode{}, "nro/allocation/MsgDeregisterNode")
	legacy.RegisterAminoMsg(cdc, &MsgProposeAllocation{}, "nro/allocation/MsgProposeAllocation")
	legacy.RegisterAminoMsg(cdc, &MsgUnjailNode{}, "nro/allocation/MsgUnjailNode")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "nro/x/allocation/MsgUpdateParams")
	cdc.RegisterConcrete(&Params{}, "nro/x/allocation/Params", nil)
}

// RegisterInterfaces registers the messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgRegisterNode{},
		&MsgProposeAllocation{},
		&MsgUpdateNode{},
		&MsgAddStake{},
		&MsgDeregisterNode{},
		&MsgUnjailNode{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
