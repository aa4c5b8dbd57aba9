package app

import (
	"slices"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

// TestUnsignedValsetSlashedThroughBlocks runs x/audit's signing window against the real x/staking: the
// genesis validator has a registered Ethereum signer, so block 1 makes valset 1; nobody confirms it, and
// when its window closes the validator loses slash_fraction_unsigned of its tokens (not jailed here: it is
// the only validator).
func TestUnsignedValsetSlashedThroughBlocks(t *testing.T) {
	const window = 3
	app, valoper := setupUnsignedValset(t, window, false)
	vs, ok, err := app.AuditKeeper.LatestValset(CommittedContext(app))
	require.NoError(t, err)
	require.True(t, ok, "block 1 makes valset 1")
	bz, err := sdk.ValAddressFromBech32(valoper)
	require.NoError(t, err)
	before, err := app.StakingKeeper.GetValidator(CommittedContext(app), bz)
	require.NoError(t, err)

	var slashed *audittypes.EventBridgeSignerSlashed
	for app.LastBlockHeight() < vs.Height+window {
		res := NextBlock(t, app)
		for _, ev := range res.Events {
			if ev.Type != proto.MessageName(&audittypes.EventBridgeSignerSlashed{}) {
				continue
			}
			// FinalizeBlock tags block events with a plain "mode" attribute, which is not part of the typed event.
			ev.Attributes = slices.DeleteFunc(slices.Clone(ev.Attributes), func(a abci.EventAttribute) bool { return a.Key == "mode" })
			msg, err := sdk.ParseTypedEvent(ev)
			require.NoError(t, err)
			slashed = msg.(*audittypes.EventBridgeSignerSlashed)
		}
		if app.LastBlockHeight() < vs.Height+window {
			require.Nil(t, slashed, "height %d: the window is open", app.LastBlockHeight())
		}
	}
	require.NotNil(t, slashed, "the window closed at height %d", vs.Height+window)
	require.Equal(t, valoper, slashed.Validator)
	require.Equal(t, "valset", slashed.Kind)
	require.Equal(t, vs.Nonce, slashed.Nonce)
	require.False(t, slashed.Jailed)

	after, err := app.StakingKeeper.GetValidator(CommittedContext(app), bz)
	require.NoError(t, err)
	want := sdkmath.LegacyNewDecFromInt(before.Tokens).MulTruncate(sdkmath.LegacyNewDecWithPrec(1, 2)).TruncateInt()
	require.Equal(t, want, slashed.SlashedTokens)
	require.Equal(t, before.Tokens.Sub(want), after.Tokens, "x/staking took 1%% of the tokens")
	require.False(t, after.IsJailed())
	require.True(t, after.IsBonded())
}

// TestUnsignedValsetJailsUntilDowntimeJailDuration: with jail_unsigned, the validator that did not confirm
// the valset is jailed when the window closes and x/slashing holds it out for downtime_jail_duration from
// that block's time: MsgUnjail is refused before then and accepted after.
func TestUnsignedValsetJailsUntilDowntimeJailDuration(t *testing.T) {
	const window = 3
	app, valoper := setupUnsignedValset(t, window, true)
	vs, ok, err := app.AuditKeeper.LatestValset(CommittedContext(app))
	require.NoError(t, err)
	require.True(t, ok)
	for app.LastBlockHeight() < vs.Height+window {
		NextBlock(t, app)
	}
	jailedAt := TestBlockTime(app.LastBlockHeight())
	ctx := CommittedContext(app)
	bz, err := sdk.ValAddressFromBech32(valoper)
	require.NoError(t, err)
	v, err := app.StakingKeeper.GetValidator(ctx, bz)
	require.NoError(t, err)
	require.True(t, v.IsJailed(), "jailed when the window closed")
	cons, err := v.GetConsAddr()
	require.NoError(t, err)
	info, err := app.SlashingKeeper.GetValidatorSigningInfo(ctx, cons)
	require.NoError(t, err)
	d, err := app.SlashingKeeper.DowntimeJailDuration(ctx)
	require.NoError(t, err)
	require.Positive(t, d)
	require.True(t, info.JailedUntil.Equal(jailedAt.Add(d)), "jailed until %s, want %s + %s", info.JailedUntil, jailedAt, d)

	// x/slashing unjails only a validator with a self-delegation; the test genesis delegates from the test
	// account, so give the operator one.
	require.NoError(t, app.StakingKeeper.SetDelegation(ctx, stakingtypes.NewDelegation(sdk.AccAddress(bz).String(), valoper, sdkmath.LegacyNewDec(1_000_000))))
	err = app.SlashingKeeper.Unjail(ctx.WithBlockTime(jailedAt.Add(d-time.Second)), bz)
	require.ErrorIs(t, err, slashingtypes.ErrValidatorJailed, "too early to unjail")
	require.NoError(t, app.SlashingKeeper.Unjail(ctx.WithBlockTime(jailedAt.Add(d)), bz))
}

// setupUnsignedValset is a chain whose one genesis validator has a registered Ethereum signer (so block 1
// makes valset 1) and its x/slashing signing info, with a bridge signing window of window blocks,
// slash_fraction_unsigned 1 % and jail_unsigned as given. It returns the app and the validator's operator.
func setupUnsignedValset(t *testing.T, window uint64, jail bool) (*App, string) {
	t.Helper()
	var valoper string
	app, _ := SetupWithGenesis(t, func(gs GenesisState, acc TestAccount) GenesisState {
		cdc := NewTestApp(t).AppCodec()
		var staking stakingtypes.GenesisState
		cdc.MustUnmarshalJSON(gs[stakingtypes.ModuleName], &staking)
		require.Len(t, staking.Validators, 1)
		valoper = staking.Validators[0].OperatorAddress
		// x/slashing makes a validator's signing info when it bonds; this genesis bonds it directly, so the
		// signing info is part of the genesis, as in an exported chain.
		cons, err := staking.Validators[0].GetConsAddr()
		require.NoError(t, err)
		var slashing slashingtypes.GenesisState
		cdc.MustUnmarshalJSON(gs[slashingtypes.ModuleName], &slashing)
		slashing.SigningInfos = append(slashing.SigningInfos, slashingtypes.SigningInfo{Address: sdk.ConsAddress(cons).String(),
			ValidatorSigningInfo: slashingtypes.NewValidatorSigningInfo(cons, 0, 0, time.Unix(0, 0).UTC(), false, 0)})
		gs[slashingtypes.ModuleName] = cdc.MustMarshalJSON(&slashing)
		key, err := crypto.GenerateKey()
		require.NoError(t, err)
		var audit audittypes.GenesisState
		cdc.MustUnmarshalJSON(gs[audittypes.ModuleName], &audit)
		audit.Params.BridgeId = "0x6e726f2d6170702d746573742d62726964676500000000000000000000000000"
		audit.Params.EthChainId, audit.Params.SettlementContract = 1337, "0x5FbDB2315678afecb367f032d93F642f64180aa3"
		audit.Params.SignedWindowBlocks, audit.Params.BridgeRetentionBlocks = window, window+10
		audit.Params.SlashFractionUnsigned, audit.Params.JailUnsigned = sdkmath.LegacyNewDecWithPrec(1, 2), jail
		audit.EthSigners = []audittypes.EthSigner{{
			Validator: valoper, EthAddress: crypto.PubkeyToAddress(key.PublicKey).Hex(), Orchestrator: acc.Address.String(),
		}}
		gs[audittypes.ModuleName] = cdc.MustMarshalJSON(&audit)
		return gs
	})
	return app, valoper
}
