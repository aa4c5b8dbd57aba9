package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit/keeper"
	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// epochStart is the first block of epoch n in the telemetry fixture (10-block epochs from StartHeight).
func epochStart(n int64) int64 { return audittestutil.StartHeight + (n-1)*10 }

// owedNet is what a node with gpus GPUs at the fixture's 2,500,000 unro per GPU-hour earns in blocks (600
// blocks per hour), less the 2% fee, each rounded down as x/lease does.
func owedNet(gpus, blocks int64) int64 {
	gross := gpus * 2_500_000 * blocks / 600
	return gross - gross*200/10_000
}

func balance(t *testing.T, f *audittestutil.Fixture, bech32 string) int64 {
	t.Helper()
	return f.Bank.GetBalance(f.Ctx, sdk.MustAccAddressFromBech32(bech32), audittestutil.Denom).Amount.Int64()
}

// silentNode runs the telemetry fixture with node B silent from epoch 2 while A and C report every epoch.
// B serves both leases (4 GPUs of lease 1, 2 of lease 2); its fourth missed epoch (epoch 5, swept at the
// second block of epoch 6) takes it over max_faults 3. It returns the height the slash happened at.
func silentNode(t *testing.T, f *audittestutil.Fixture) int64 {
	t.Helper()
	for e := uint64(2); e <= 6; e++ {
		startEpoch(t, f, e)
		for _, n := range []string{nodeA, nodeC} {
			if len(f.Node(n).Gpus) > 0 && f.Node(n).ReservedGpus > 0 {
				submit(t, f, report(f, n))
			}
		}
	}
	slashHeight := epochStart(6) + 1
	f.RunBlocks(slashHeight - 1)
	require.Equal(t, allocationtypes.NODE_STATUS_ACTIVE, f.Node(nodeB).Status, "three faults are within max_faults")
	f.SetHeight(slashHeight)
	require.NoError(t, f.EndBlock())
	f.RequireInvariant()
	return slashHeight
}

// TestSilentNodeIsSlashedAndLosesItsLeases: a node that stops reporting is slashed on its fourth missed
// epoch and jailed; its leases are moved off it (PENDING again with their deposits, for x/allocation to
// re-place); no node is paid for the epochs it was silent, so the submitter pays nothing for the dead
// period; and the slashed stake compensates the submitter.
func TestSilentNodeIsSlashedAndLosesItsLeases(t *testing.T) {
	f := telemetryFixture(t)
	submitter := f.Addr("submitter")
	supply := f.Bank.GetSupply(f.Ctx, audittestutil.Denom).Amount
	h := silentNode(t, f)

	b := f.Node(nodeB)
	require.Equal(t, allocationtypes.NODE_STATUS_JAILED, b.Status)
	require.Equal(t, h+int64(types.DefaultJailBlocks), b.JailedUntilHeight)
	require.Equal(t, int64(720_000_000), b.Stake.Amount.Int64(), "10% of 800,000,000 taken")
	require.Zero(t, b.ReservedGpus, "its leases released their GPUs")
	// Every node is paid up to the start of epoch 2, where B's run of missed epochs began: the job could not
	// run after that, so the submitter pays for none of it.
	unpaidFrom := epochStart(2)
	silentPaid := unpaidFrom - audittestutil.StartHeight
	for _, id := range []uint64{1, 2} {
		l, err := f.LeaseKeeper.GetLease(f.Ctx, id)
		require.NoError(t, err)
		require.Equal(t, leasetypes.LEASE_STATE_PENDING, l.State)
		require.Empty(t, l.Nodes)
		require.Len(t, l.PastPlacements, 1)
		require.Equal(t, leasetypes.REALLOCATION_REASON_NODE_JAILED, l.PastPlacements[0].Reason)
		require.Equal(t, []string{nodeB}, l.PastPlacements[0].TriggerNodeIds)
		require.Equal(t, silentPaid, l.PastPlacements[0].ServedBlocks)
		require.Equal(t, h, l.PendingSince())
		require.True(t, l.Refunded.IsZero(), "the deposit stays for the next placement")
	}
	require.Equal(t, owedNet(4, silentPaid)+owedNet(2, silentPaid), balance(t, f, f.Node(nodeB).Operator))
	require.Equal(t, owedNet(4, silentPaid), balance(t, f, f.Node(nodeA).Operator))
	require.Equal(t, owedNet(4, silentPaid), balance(t, f, f.Node(nodeC).Operator))

	// 80,000,000 split by the GPUs B held: 4 of 6 on lease 1, 2 of 6 on lease 2; the rounding unit goes to
	// the first lease. Nothing is burned.
	s, err := f.QueryServer.Slash(f.Ctx, &types.QuerySlashRequest{SlashId: 1})
	require.NoError(t, err)
	slash := s.Slash
	require.Equal(t, []uint64{1, 2, 3, 4}, slash.FaultIds)
	require.Equal(t, uint64(5), slash.Epoch)
	require.Equal(t, h, slash.Height)
	require.Equal(t, unpaidFrom, slash.UnpaidFromHeight)
	require.Equal(t, types.SLASH_DESTINATION_HARMED_SUBMITTERS, slash.Destination)
	require.Equal(t, int64(80_000_000), slash.Amount.Amount.Int64())
	require.Equal(t, int64(720_000_000), slash.StakeAfter.Amount.Int64())
	require.Len(t, slash.Leases, 2)
	require.Equal(t, uint32(4), slash.Leases[0].Gpus)
	require.Equal(t, int64(53_333_334), slash.Leases[0].Compensation.Amount.Int64())
	require.Equal(t, uint32(2), slash.Leases[1].Gpus)
	require.Equal(t, int64(26_666_666), slash.Leases[1].Compensation.Amount.Int64())
	for _, sl := range slash.Leases {
		require.True(t, sl.Reallocated)
		require.True(t, sl.Refunded.IsZero())
		require.Equal(t, submitter, sl.Submitter)
	}
	require.Equal(t, int64(80_000_000), balance(t, f, submitter))
	// Each deposit = paid for the served blocks + what is still escrowed.
	for _, sl := range slash.Leases {
		l, _ := f.LeaseKeeper.GetLease(f.Ctx, sl.LeaseId)
		require.Equal(t, l.Deposit.Amount, l.Paid.Amount.Add(l.EscrowBalance()))
	}
	require.Equal(t, supply, f.Bank.GetSupply(f.Ctx, audittestutil.Denom).Amount, "harmed submitters: nothing burned")

	require.Contains(t, f.TypedEvents(), proto.Message(&types.EventNodeSlashed{Slash: slash}))
	st := stats(t, f, nodeB)
	require.Equal(t, uint64(1), st.Slashes)
	require.Equal(t, uint64(6), st.LastSlashEpoch)
	inWindow, err := f.Keeper.FaultsInWindow(f.Ctx, nodeB)
	require.NoError(t, err)
	require.Zero(t, inWindow, "the faults the slash punished no longer count")

	list, err := f.QueryServer.Slashes(f.Ctx, &types.QuerySlashesRequest{NodeId: nodeB})
	require.NoError(t, err)
	require.Equal(t, []types.Slash{slash}, list.Slashes)
	list, err = f.QueryServer.Slashes(f.Ctx, &types.QuerySlashesRequest{NodeId: nodeA})
	require.NoError(t, err)
	require.Empty(t, list.Slashes)
	_, err = f.QueryServer.Slash(f.Ctx, &types.QuerySlashRequest{})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.QueryServer.Slash(f.Ctx, &types.QuerySlashRequest{SlashId: 9})
	require.Equal(t, codes.NotFound, status.Code(err))

	// The honest nodes were never faulted, so never slashed.
	for _, n := range []string{nodeA, nodeC, nodeD} {
		require.Equal(t, allocationtypes.NODE_STATUS_ACTIVE, f.Node(n).Status, n)
	}

	// Exported and imported again, the slash and the counters come back.
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate())
	require.Equal(t, []types.Slash{slash}, gs.Slashes)
	require.Equal(t, uint64(2), gs.NextSlashId)
}

// TestSlashDestinations: burned stake leaves the supply; community-pool stake reaches x/distribution.
func TestSlashDestinations(t *testing.T) {
	t.Run("burn", func(t *testing.T) {
		f := telemetryFixture(t)
		p := f.Params()
		p.SlashDestination = types.SLASH_DESTINATION_BURN
		f.SetParams(p)
		supply := f.Bank.GetSupply(f.Ctx, audittestutil.Denom).Amount
		silentNode(t, f)
		require.Equal(t, supply.Sub(math.NewInt(80_000_000)), f.Bank.GetSupply(f.Ctx, audittestutil.Denom).Amount)
		s, err := f.Keeper.Slashes.Get(f.Ctx, 1)
		require.NoError(t, err)
		for _, l := range s.Leases {
			require.True(t, l.Compensation.IsZero())
		}
	})
	t.Run("community pool", func(t *testing.T) {
		f := telemetryFixture(t)
		p := f.Params()
		p.SlashDestination = types.SLASH_DESTINATION_COMMUNITY_POOL
		f.SetParams(p)
		silentNode(t, f)
		require.Equal(t, []sdk.Coins{sdk.NewCoins(sdk.NewInt64Coin(audittestutil.Denom, 80_000_000))}, f.Distr.Funded)
		pool := f.Bank.GetBalance(f.Ctx, authtypes.NewModuleAddress(audittestutil.CommunityPoolModule), audittestutil.Denom)
		require.Equal(t, int64(80_000_000), pool.Amount.Int64())
	})
}

// TestGPUAbsentFaultsSlashInTheTransaction: a report that crosses max_faults slashes at once, and the
// response names the slash.
func TestGPUAbsentFaultsSlashInTheTransaction(t *testing.T) {
	f := telemetryFixture(t)
	p := f.Params()
	p.MaxFaults = 1
	f.SetParams(p)
	absent := func() *types.MsgSubmitTelemetry {
		msg := report(f, nodeC)
		msg.Gpus[5].Present = false // group 1, which lease 2 holds all of
		return msg
	}
	startEpoch(t, f, 2)
	res := submit(t, f, absent())
	require.Equal(t, uint64(1), res.FaultId)
	require.Zero(t, res.SlashId)
	startEpoch(t, f, 3)
	res = submit(t, f, absent())
	require.Equal(t, uint64(1), res.SlashId)
	require.Equal(t, allocationtypes.NODE_STATUS_JAILED, f.Node(nodeC).Status)
	s, err := f.Keeper.Slashes.Get(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, epochStart(2), s.UnpaidFromHeight, "faulty in epochs 2 and 3")
	require.Len(t, s.Leases, 1)
	require.Equal(t, uint64(2), s.Leases[0].LeaseId)
	l, err := f.LeaseKeeper.GetLease(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, l.State, "lease 1 does not use node C")

	// A jailed node on no lease has nothing to report any more, so it cannot be faulted or slashed twice.
	startEpoch(t, f, 4)
	_, err = f.MsgServer.SubmitTelemetry(f.Ctx, report(f, nodeC))
	require.ErrorIs(t, err, types.ErrNodeNotReporting)
}

func TestUnpaidFrom(t *testing.T) {
	fault := func(epoch uint64, start, height int64) types.Fault {
		return types.Fault{Epoch: epoch, EpochStartHeight: start, Height: height}
	}
	for _, tc := range []struct {
		name   string
		faults []types.Fault
		want   int64
	}{
		{"none: from now", nil, 500},
		{"one fault", []types.Fault{fault(4, 300, 412)}, 300},
		{"a run of three", []types.Fault{fault(2, 100, 212), fault(3, 200, 312), fault(4, 300, 412)}, 100},
		{"the run after a clean epoch", []types.Fault{fault(2, 100, 212), fault(4, 300, 412), fault(5, 400, 512)}, 300},
		{"two faults in one epoch", []types.Fault{fault(3, 200, 250), fault(4, 300, 350), fault(4, 300, 412)}, 200},
		{"no epoch start recorded: the fault's height", []types.Fault{fault(4, 0, 412)}, 412},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, keeper.UnpaidFrom(tc.faults, 500))
		})
	}
}

func TestSplitByGPUs(t *testing.T) {
	leases := []types.SlashedLease{{Gpus: 4}, {Gpus: 2}, {Gpus: 1}}
	shares := keeper.SplitByGPUs(math.NewInt(100), leases, 7)
	require.Equal(t, []math.Int{math.NewInt(58), math.NewInt(28), math.NewInt(14)}, shares)
	require.Equal(t, []math.Int{math.NewInt(0)}, keeper.SplitByGPUs(math.NewInt(0), leases[:1], 4))
}
