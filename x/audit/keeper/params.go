package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/audit/types"
)

// UpdateParams replaces the params; only the authority may do it. A new epoch_blocks applies from the
// current epoch's start (the epoch ends once that many blocks have passed, at once if they already have); a
// new link window applies to the next report of each link.
func (k Keeper) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) error {
	if msg.Authority != k.authority {
		return errorsmod.Wrapf(types.ErrInvalidAuthority, "expected %s (the gov module account), got %s", k.authority, msg.Authority)
	}
	if err := msg.Params.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, msg.Params); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventParamsUpdated{Params: msg.Params})
}
