package types

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// ValidateBasic runs the stateless checks of a lease creation so that a malformed one is refused at
// CheckTx; the checks that need state (params bounds, price denom, known regions, minimum deposit) run in
// the keeper.
func (msg *MsgCreateLease) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Submitter); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "submitter %q: %v", msg.Submitter, err)
	}
	if err := msg.Spec.ValidateBasic(); err != nil {
		return err
	}
	return ValidateCoin(ErrInvalidDeposit, "deposit", msg.Deposit)
}

// ValidateBasic checks the signer and lease id of a cancellation.
func (msg *MsgCancelLease) ValidateBasic() error {
	return validateSignerAndID("submitter", msg.Submitter, msg.LeaseId)
}

// ValidateBasic checks the signer, lease id and amount of a top-up.
func (msg *MsgTopUpLease) ValidateBasic() error {
	if err := validateSignerAndID("sender", msg.Sender, msg.LeaseId); err != nil {
		return err
	}
	return ValidateCoin(ErrInvalidAmount, "amount", msg.Amount)
}

// ValidateBasic checks the signer and lease id of a close.
func (msg *MsgCloseLease) ValidateBasic() error {
	return validateSignerAndID("submitter", msg.Submitter, msg.LeaseId)
}

// ValidateBasic checks the authority address and the params.
func (msg *MsgUpdateParams) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Authority); err != nil {
		return errorsmod.Wrapf(ErrInvalidAuthority, "authority %q: %v", msg.Authority, err)
	}
	return msg.Params.Validate()
}

func validateSignerAndID(field, signer string, id uint64) error {
	if _, err := sdk.AccAddressFromBech32(signer); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "%s %q: %v", field, signer, err)
	}
	if id == 0 {
		return errorsmod.Wrap(ErrInvalidLeaseID, "lease_id must be set; ids start at 1")
	}
	return nil
}
