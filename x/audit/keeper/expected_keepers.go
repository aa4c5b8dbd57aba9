package keeper

import (
	"context"
	"time"

	"cosmossdk.io/core/address"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
)

// SlashingKeeper is what x/audit needs from x/slashing: a validator it jails for not signing the bridge's
// valsets and batches may unjail (MsgUnjail) only after x/slashing's downtime_jail_duration, as after
// downtime.
type SlashingKeeper interface {
	JailUntil(ctx context.Context, consAddr sdk.ConsAddress, jailTime time.Time) error
	DowntimeJailDuration(ctx context.Context) (time.Duration, error)
}

// StakingKeeper is what x/audit needs from x/staking for the Ethereum bridge: validators and their power.
// It is declared here rather than in x/audit/types, which nro-agent imports: x/staking/types would pull the
// SDK's server packages (and their background goroutines) into the agent.
type StakingKeeper interface {
	GetValidator(ctx context.Context, addr sdk.ValAddress) (stakingtypes.Validator, error)
	GetLastTotalPower(ctx context.Context) (math.Int, error)
	GetLastValidatorPower(ctx context.Context, operator sdk.ValAddress) (int64, error)
	// IterateLastValidatorPowers walks the bonded validators of the last block with their consensus power.
	IterateLastValidatorPowers(ctx context.Context, handler func(operator sdk.ValAddress, power int64) (stop bool)) error
	ValidatorAddressCodec() address.Codec
	// Slash, Jail and PowerReduction punish a validator that does not sign the bridge's valsets and
	// batches (bridge_signing.go), as x/slashing does for downtime.
	Slash(ctx context.Context, consAddr sdk.ConsAddress, infractionHeight, power int64, slashFactor math.LegacyDec) (math.Int, error)
	Jail(ctx context.Context, consAddr sdk.ConsAddress) error
	PowerReduction(ctx context.Context) math.Int
}
