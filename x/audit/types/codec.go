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
	legacy.RegisterAminoMsg(cdc, &MsgSubmitTelemetry{}, "nro/audit/MsgSubmitTelemetry")
	legacy.RegisterAminoMsg(cdc, &MsgChallengeTelemetry{}, "nro/audit/MsgChallengeTelemetry")
	legacy.RegisterAminoMsg(cdc, &MsgAnswerChallenge{}, "nro/audit/MsgAnswerChallenge")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "nro/x/audit/MsgUpdateParams")
	cdc.RegisterConcrete(&Params{}, "nro/x/audit/Params", nil)
}

// RegisterInterfaces registers the messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgSubmitTelemetry{},
		&MsgChallengeTelemetry{},
		&MsgAnswerChallenge{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
