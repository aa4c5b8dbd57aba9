package app

import (
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// withFundedAccount adds a base account with a balance to the genesis.
func withFundedAccount(t *testing.T, gs GenesisState, acc TestAccount, amount int64) GenesisState {
	t.Helper()
	cdc := NewTestApp(t).AppCodec()
	var auth authtypes.GenesisState
	cdc.MustUnmarshalJSON(gs[authtypes.ModuleName], &auth)
	accounts, err := authtypes.UnpackAccounts(auth.Accounts)
	require.NoError(t, err)
	accounts = append(accounts, authtypes.NewBaseAccount(acc.Address, acc.PrivKey.PubKey(), uint64(len(accounts)), 0))
	packed, err := authtypes.PackAccounts(authtypes.SanitizeGenesisAccounts(accounts))
	require.NoError(t, err)
	auth.Accounts = packed
	gs[authtypes.ModuleName] = cdc.MustMarshalJSON(&auth)

	var bank banktypes.GenesisState
	cdc.MustUnmarshalJSON(gs[banktypes.ModuleName], &bank)
	coins := sdk.NewCoins(sdk.NewCoin(BondDenom, sdkmath.NewInt(amount)))
	bank.Balances = banktypes.SanitizeGenesisBalances(append(bank.Balances, banktypes.Balance{Address: acc.Address.String(), Coins: coins}))
	bank.Supply = bank.Supply.Add(coins...)
	gs[banktypes.ModuleName] = cdc.MustMarshalJSON(&bank)
	return gs
}

// TestLeaseLifecycleThroughBlocks runs the whole path through FinalizeBlock: two nodes register, a submitter
// leases 16 GPUs across two regions, a node agent proposes, the proposal wins in EndBlock when the window
// closes, the decision verifies from its record, the lease runs and is closed, and every unro is accounted
// for: what the submitter paid is what the provider and the fee collector got, and the escrow is empty.
func TestLeaseLifecycleThroughBlocks(t *testing.T) {
	submitter := TestAccount{PrivKey: secp256k1.GenPrivKey()}
	submitter.Address = sdk.AccAddress(submitter.PrivKey.PubKey().Address())
	app, provider := SetupWithGenesis(t, func(gs GenesisState, _ TestAccount) GenesisState {
		return withFundedAccount(t, gs, submitter, 1_000_000_000_000)
	})
	deliver := func(acc TestAccount, msg sdk.Msg) {
		t.Helper()
		res := NextBlock(t, app, signTx(t, app, acc, msg))
		require.Len(t, res.TxResults, 1)
		require.Zerof(t, res.TxResults[0].Code, "%T failed: %s", msg, res.TxResults[0].Log)
	}

	a := testRegisterNodeMsg(provider.Address.String(), "gpu-node-a")
	a.Region = "aws:us-east-1"
	b := testRegisterNodeMsg(provider.Address.String(), "gpu-node-b")
	b.Region, b.PricePerGpuHour = "aws:us-east-2", sdk.NewCoin(BondDenom, sdkmath.NewInt(2_900_000))
	deliver(provider, a)
	deliver(provider, b)

	create := &leasetypes.MsgCreateLease{
		Submitter: submitter.Address.String(),
		Spec: leasetypes.LeaseSpec{
			TotalGpus: 16, GpuModel: "H100", Regions: []string{"aws:us-east-1", "aws:us-east-2"},
			MaxRttMs: 40, DurationBlocks: 600, MaxPricePerGpuHour: sdk.NewCoin(BondDenom, sdkmath.NewInt(3_000_000)),
		},
		Deposit: sdk.NewCoin(BondDenom, sdkmath.NewInt(50_000_000_000)),
	}
	deliver(submitter, create)
	createdAt := app.LastBlockHeight()
	ctx := CommittedContext(app)
	lease, err := app.LeaseKeeper.GetLease(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, leasetypes.LEASE_STATE_PENDING, lease.State)

	deliver(provider, &allocationtypes.MsgProposeAllocation{
		Proposer: provider.Address.String(), LeaseId: 1,
		Placement: []leasetypes.Placement{{NodeId: "gpu-node-a", Gpus: 8}, {NodeId: "gpu-node-b", Gpus: 8}},
		RingOrder: []string{"gpu-node-b", "gpu-node-a"},
	})

	params, err := app.AllocationKeeper.GetParams(ctx)
	require.NoError(t, err)
	for app.LastBlockHeight() < createdAt+int64(params.ProposalWindowBlocks) {
		NextBlock(t, app)
	}
	ctx = CommittedContext(app)
	lease, err = app.LeaseKeeper.GetLease(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, lease.State)
	require.Equal(t, []string{"gpu-node-b", "gpu-node-a"}, lease.RingOrder, "the proposal's ring order")
	for _, id := range []string{"gpu-node-a", "gpu-node-b"} {
		n, err := app.AllocationKeeper.GetNode(ctx, id)
		require.NoError(t, err)
		require.EqualValues(t, 8, n.ReservedGpus, id)
	}
	decision, err := app.AuditKeeper.GetDecision(ctx, lease.DecisionId)
	require.NoError(t, err)
	require.Equal(t, allocationtypes.CANDIDATE_SOURCE_PROPOSAL, decision.Candidates[decision.Winner].Source)
	require.NoError(t, app.CheckInvariants(ctx))
	report := audittypes.VerifyDecision(decision, 0)
	require.Truef(t, report.Match, "decision does not verify: %s", report)

	escrow := app.LeaseKeeper.ModuleAddress()
	feeCollector := app.AccountKeeper.GetModuleAddress(authtypes.FeeCollectorName)
	bal := func(addr sdk.AccAddress) sdkmath.Int {
		return app.BankKeeper.GetBalance(CommittedContext(app), addr, BondDenom).Amount
	}
	subBefore, provBefore := bal(submitter.Address), bal(provider.Address)
	require.Equal(t, create.Deposit.Amount, bal(escrow))
	for range 10 {
		NextBlock(t, app)
	}
	deliver(submitter, &leasetypes.MsgCloseLease{Submitter: submitter.Address.String(), LeaseId: 1})
	ctx = CommittedContext(app)
	lease, err = app.LeaseKeeper.GetLease(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, leasetypes.LEASE_STATE_CLOSED, lease.State)
	require.Equal(t, leasetypes.CLOSE_REASON_SUBMITTER_CLOSED, lease.CloseReason)

	// Paid for every block from activation to the close, at the locked prices, fee included.
	blocks := lease.ClosedHeight - lease.ActivatedHeight
	wantPaid := sdkmath.ZeroInt()
	for _, n := range lease.Nodes {
		wantPaid = wantPaid.Add(sdkmath.NewInt(int64(n.Gpus)).Mul(n.PricePerGpuHour.Amount).MulRaw(blocks).QuoRaw(int64(lease.BlocksPerHour)))
	}
	require.Equal(t, wantPaid.String(), lease.Paid.Amount.String())
	require.True(t, lease.Fees.IsPositive())
	require.Equal(t, create.Deposit.Amount.Sub(lease.Paid.Amount).String(), lease.Refunded.Amount.String())

	require.True(t, bal(escrow).IsZero(), "escrow empty after the close")
	require.Equal(t, lease.Refunded.Amount.String(), bal(submitter.Address).Sub(subBefore).String(), "submitter got the refund")
	require.Equal(t, lease.Paid.Amount.Sub(lease.Fees.Amount).String(), bal(provider.Address).Sub(provBefore).String(), "provider got the payments less the fee")
	require.Equal(t, lease.Fees.Amount.String(), bal(feeCollector).String(), "fee collector got the fee in the closing block")
	for _, id := range []string{"gpu-node-a", "gpu-node-b"} {
		n, err := app.AllocationKeeper.GetNode(ctx, id)
		require.NoError(t, err)
		require.Zero(t, n.ReservedGpus, "GPUs released on %s", id)
	}
	require.NoError(t, app.CheckInvariants(ctx))
}
