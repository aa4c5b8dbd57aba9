package types

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// ValidateBasic runs the stateless checks of a registration so that a malformed one is refused at CheckTx,
// before it costs a block; the checks that need params (region list, denoms, minimum stake) run in the
// keeper.
func (msg *MsgRegisterNode) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Operator); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "operator %q: %v", msg.Operator, err)
	}
	if _, err := sdk.AccAddressFromBech32(msg.Agent); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "agent %q: want the bech32 account of the node's agent: %v", msg.Agent, err)
	}
	if err := ValidateNodeID(msg.NodeId); err != nil {
		return err
	}
	if msg.EthAddress != "" {
		if err := ValidateEthAddress(msg.EthAddress); err != nil {
			return errorsmod.Wrap(ErrInvalidEthAddress, err.Error())
		}
	}
	if _, err := ValidateGPUs(msg.Gpus); err != nil {
		return err
	}
	return ValidateBandwidth(msg.BandwidthMbps)
}

// ValidateBasic checks the node id and signer of a deregistration.
func (msg *MsgDeregisterNode) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Operator); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "operator %q: %v", msg.Operator, err)
	}
	return ValidateNodeID(msg.NodeId)
}
