package app

import (
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	auditkeeper "github.com/consensus-nro/nro/x/audit/keeper"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// TestTelemetryThroughBlocks runs telemetry through FinalizeBlock: two nodes serve a lease, their agent
// reports both every epoch, the link between them is aggregated and their reputation rises in x/allocation;
// then one node falls silent and the EndBlock sweep faults it once its epoch's grace has passed.
func TestTelemetryThroughBlocks(t *testing.T) {
	submitter := TestAccount{PrivKey: secp256k1.GenPrivKey()}
	submitter.Address = sdk.AccAddress(submitter.PrivKey.PubKey().Address())
	app, provider := SetupWithGenesis(t, func(gs GenesisState, _ TestAccount) GenesisState {
		gs = withFundedAccount(t, gs, submitter, 1_000_000_000_000)
		cdc := NewTestApp(t).AppCodec()
		var audit audittypes.GenesisState
		cdc.MustUnmarshalJSON(gs[audittypes.ModuleName], &audit)
		audit.Params.EpochBlocks, audit.Params.GraceBlocks = 6, 2
		audit.Params.SlashDestination, audit.Params.JailBlocks = audittypes.SLASH_DESTINATION_COMMUNITY_POOL, 5
		gs[audittypes.ModuleName] = cdc.MustMarshalJSON(&audit)
		return gs
	})
	deliver := func(msg sdk.Msg) {
		t.Helper()
		acc := provider
		if _, ok := msg.(*leasetypes.MsgCreateLease); ok {
			acc = submitter
		}
		res := NextBlock(t, app, signTx(t, app, acc, msg))
		require.Len(t, res.TxResults, 1)
		require.Zerof(t, res.TxResults[0].Code, "%T failed: %s", msg, res.TxResults[0].Log)
	}

	deliver(testRegisterNodeMsg(provider.Address.String(), "gpu-node-a"))
	deliver(testRegisterNodeMsg(provider.Address.String(), "gpu-node-b"))
	deliver(&leasetypes.MsgCreateLease{
		Submitter: submitter.Address.String(),
		Spec: leasetypes.LeaseSpec{
			TotalGpus: 16, GpuModel: "H100", MaxGpusPerNode: 8, DurationBlocks: 600,
			MaxPricePerGpuHour: sdk.NewCoin(BondDenom, sdkmath.NewInt(3_000_000)),
		},
		Deposit: sdk.NewCoin(BondDenom, sdkmath.NewInt(50_000_000_000)),
	})
	var lease leasetypes.Lease
	for lease.State != leasetypes.LEASE_STATE_ACTIVE {
		NextBlock(t, app)
		var err error
		lease, err = app.LeaseKeeper.GetLease(CommittedContext(app), 1)
		require.NoError(t, err)
		require.Less(t, app.LastBlockHeight(), int64(40), "the lease is never placed")
	}
	require.ElementsMatch(t, []string{"gpu-node-a", "gpu-node-b"}, lease.NodeIDs())

	epoch := func() audittypes.EpochInfo {
		e, err := app.AuditKeeper.CurrentEpoch(CommittedContext(app))
		require.NoError(t, err)
		return e
	}
	// Wait for the first epoch that starts after the activation: the nodes owe reports from it on.
	for epoch().StartHeight <= lease.ActivatedHeight {
		NextBlock(t, app)
	}
	owed := epoch().Number
	gpus := func() []audittypes.GpuMetrics {
		var out []audittypes.GpuMetrics
		for i := range 8 {
			out = append(out, audittypes.GpuMetrics{
				DeviceIndex: uint32(i), Uuid: "GPU-test", Model: "NVIDIA H100", Source: audittypes.SOURCE_NVML, Present: true,
				UtilizationPct: 80, MemoryUsedMib: 1_000, MemoryTotalMib: 81_559, PowerMw: 500_000, TemperatureC: 55,
			})
		}
		return out
	}
	msg := func(node, peer string, rtt uint64) *audittypes.MsgSubmitTelemetry {
		return &audittypes.MsgSubmitTelemetry{
			Agent: provider.Address.String(), NodeId: node, Epoch: epoch().Number, Gpus: gpus(),
			Links: []audittypes.LinkMeasurement{{PeerNodeId: peer, Source: audittypes.SOURCE_PROBE, RttUs: rtt, ThroughputKbps: 10_000_000, Samples: 5}},
		}
	}
	deliver(msg("gpu-node-a", "gpu-node-b", 800))
	deliver(msg("gpu-node-b", "gpu-node-a", 900))

	ctx := CommittedContext(app)
	l, err := app.AuditKeeper.Links.Get(ctx, collections.Join("gpu-node-a", "gpu-node-b"))
	require.NoError(t, err)
	require.Len(t, l.Samples, 2)
	require.Equal(t, uint64(800), l.MedianRttUs)
	params, err := app.AuditKeeper.GetParams(ctx)
	require.NoError(t, err)
	for _, id := range []string{"gpu-node-a", "gpu-node-b"} {
		n, err := app.AllocationKeeper.GetNode(ctx, id)
		require.NoError(t, err)
		require.Equal(t, allocationtypes.NeutralReputationBps+params.ReputationCleanGainBps, n.ReputationBps, id)
	}

	// Gas grows with the report's size: gas_per_report_entry per entry is charged before the checks that
	// need state, so even a refused report pays for its entries.
	for epoch().Number == owed {
		NextBlock(t, app)
	}
	refusedGas := func(entries int) int64 {
		m := msg("gpu-node-a", "gpu-node-b", 800)
		m.Gpus = nil
		for i := range entries {
			g := gpus()[0]
			g.DeviceIndex = uint32(100 + i)
			m.Gpus = append(m.Gpus, g)
		}
		res := NextBlock(t, app, signTx(t, app, provider, m))
		require.NotZero(t, res.TxResults[0].Code, "device indexes beyond the node's 8 GPUs are refused")
		require.Contains(t, res.TxResults[0].Log, "node gpu-node-a has 8 registered GPUs")
		return res.TxResults[0].GasUsed
	}
	one, many := refusedGas(1), refusedGas(57)
	require.GreaterOrEqual(t, many-one, int64(56*params.GasPerReportEntry))

	// Epoch owed+1: only gpu-node-a reports. After the epoch and its grace, gpu-node-b is faulted.
	silent := epoch().Number
	deliver(msg("gpu-node-a", "gpu-node-b", 800))
	for epoch().Number == silent || app.LastBlockHeight() < epoch().StartHeight+int64(params.GraceBlocks) {
		NextBlock(t, app)
	}
	ctx = CommittedContext(app)
	faults, err := auditkeeper.NewQueryServerImpl(app.AuditKeeper).Faults(ctx, &audittypes.QueryFaultsRequest{NodeId: "gpu-node-b"})
	require.NoError(t, err)
	require.Len(t, faults.Faults, 1)
	require.Equal(t, audittypes.FAULT_KIND_MISSED_EPOCH, faults.Faults[0].Kind)
	require.Equal(t, silent, faults.Faults[0].Epoch)
	n, err := app.AllocationKeeper.GetNode(ctx, "gpu-node-b")
	require.NoError(t, err)
	require.Equal(t, allocationtypes.NeutralReputationBps+params.ReputationCleanGainBps-params.ReputationFaultPenaltyBps, n.ReputationBps)
	require.NoError(t, app.CheckInvariants(ctx))

	// gpu-node-b stays silent: its fourth missed epoch (max_faults 3) slashes and jails it, moves the lease
	// off it (PENDING again, no node paid past the start of its silence), and sends the slashed stake to the
	// community pool.
	stake := n.Stake
	pool, err := app.DistrKeeper.FeePool.Get(ctx)
	require.NoError(t, err)
	poolBefore := pool.CommunityPool.AmountOf(BondDenom)
	for {
		ctx = CommittedContext(app)
		if n, err = app.AllocationKeeper.GetNode(ctx, "gpu-node-b"); err == nil && n.Status == allocationtypes.NODE_STATUS_JAILED {
			break
		}
		require.NoError(t, err)
		require.Less(t, app.LastBlockHeight(), int64(200), "gpu-node-b is never slashed")
		if l, _ := app.LeaseKeeper.GetLease(ctx, 1); l.State == leasetypes.LEASE_STATE_ACTIVE {
			if _, err := app.AuditKeeper.Reports.Get(ctx, collections.Join("gpu-node-a", epoch().Number)); err != nil {
				deliver(msg("gpu-node-a", "gpu-node-b", 800))
				continue
			}
		}
		NextBlock(t, app)
	}
	slashes, err := auditkeeper.NewQueryServerImpl(app.AuditKeeper).Slashes(ctx, &audittypes.QuerySlashesRequest{NodeId: "gpu-node-b"})
	require.NoError(t, err)
	require.Len(t, slashes.Slashes, 1)
	slash := slashes.Slashes[0]
	require.Len(t, slash.FaultIds, 4)
	require.Equal(t, stake.Amount.QuoRaw(10), slash.Amount.Amount, "slash_bps 1000 of the stake")
	require.Equal(t, stake.Sub(slash.Amount), n.Stake)
	lease, err = app.LeaseKeeper.GetLease(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, leasetypes.LEASE_STATE_PENDING, lease.State)
	require.Len(t, lease.PastPlacements, 1)
	past := lease.PastPlacements[0]
	require.Equal(t, slash.UnpaidFromHeight-past.ActivatedHeight, past.ServedBlocks, "nothing is paid for the silent epochs")
	require.Equal(t, lease.PastPaid(), lease.Paid.Amount)
	pool, err = app.DistrKeeper.FeePool.Get(ctx)
	require.NoError(t, err)
	require.True(t, pool.CommunityPool.AmountOf(BondDenom).Sub(poolBefore).GTE(sdkmath.LegacyNewDecFromInt(slash.Amount.Amount)),
		"the community pool holds the slashed stake")
	require.NoError(t, app.CheckInvariants(ctx))

	// A healthy node joins; the lease is placed again, keeping gpu-node-a and replacing gpu-node-b, for the
	// rest of its duration, and the decision record holds the move.
	deliver(testRegisterNodeMsg(provider.Address.String(), "gpu-node-c"))
	for lease.State != leasetypes.LEASE_STATE_ACTIVE {
		require.Less(t, app.LastBlockHeight(), past.EndedHeight+100, "the lease is never placed again")
		NextBlock(t, app)
		lease, err = app.LeaseKeeper.GetLease(CommittedContext(app), 1)
		require.NoError(t, err)
	}
	require.ElementsMatch(t, []string{"gpu-node-a", "gpu-node-c"}, lease.NodeIDs())
	require.Equal(t, lease.ActivatedHeight+int64(lease.Spec.DurationBlocks)-past.ServedBlocks, lease.EndHeight)
	d, err := app.AuditKeeper.GetDecision(CommittedContext(app), lease.DecisionId)
	require.NoError(t, err)
	require.NotNil(t, d.Reallocation)
	require.Equal(t, leasetypes.REALLOCATION_REASON_NODE_JAILED, d.Reallocation.Reason)
	require.Equal(t, []string{"gpu-node-b"}, d.Reallocation.TriggerNodeIds)
	require.Equal(t, past.DecisionId, d.Reallocation.PreviousDecisionId)
	require.Equal(t, uint32(8), d.Reallocation.KeptGpus)
	require.Equal(t, uint32(8), d.Reallocation.MovedGpus)
	require.NoError(t, app.CheckInvariants(CommittedContext(app)))

	// After jail_blocks the operator tops the stake up to the minimum and unjails the node.
	for app.LastBlockHeight() < n.JailedUntilHeight {
		NextBlock(t, app)
	}
	deliver(&allocationtypes.MsgAddStake{Operator: provider.Address.String(), NodeId: "gpu-node-b", Amount: slash.Amount})
	deliver(&allocationtypes.MsgUnjailNode{Operator: provider.Address.String(), NodeId: "gpu-node-b"})
	n, err = app.AllocationKeeper.GetNode(CommittedContext(app), "gpu-node-b")
	require.NoError(t, err)
	require.Equal(t, allocationtypes.NODE_STATUS_ACTIVE, n.Status)
	require.NoError(t, app.CheckInvariants(CommittedContext(app)))
}
