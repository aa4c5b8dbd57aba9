package types_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/types"
)

// validGenesis has a PENDING lease (1), an ACTIVE lease settled to height 50 (2) and a COMPLETED lease (3)
// with its two settlement records.
func validGenesis(t *testing.T) types.GenesisState {
	sub, opA, opB := addr(t, 1), addr(t, 2), addr(t, 3)
	nodes := func(paid int64) []types.LeaseNode {
		mk := func(id, op string) types.LeaseNode {
			return types.LeaseNode{
				NodeId: id, Operator: op, Region: "aws:us-east-1", Gpus: 8, GpuModel: "H100", GpuMemoryMib: 81920,
				PricePerGpuHour: coin(3_000_000), Paid: math.NewInt(paid),
			}
		}
		return []types.LeaseNode{mk("n1", opA), mk("n2", opB)}
	}
	base := types.Lease{
		Submitter: sub, Spec: validSpec(), TakeBps: 200, BlocksPerHour: 600, CreatedHeight: 10,
		Paid: coin(0), Fees: coin(0), Refunded: coin(0),
	}
	pending := base
	pending.Id, pending.State, pending.Deposit, pending.DeadlineHeight = 1, types.LEASE_STATE_PENDING, coin(10_000_000), 610

	active := base
	active.Id, active.State, active.Deposit = 2, types.LEASE_STATE_ACTIVE, coin(100_000_000)
	active.Nodes, active.RingOrder, active.DecisionId = nodes(1_200_000), []string{"n2", "n1"}, 4
	active.ActivatedHeight, active.EndHeight, active.DeadlineHeight, active.SettledHeight = 20, 620, 620, 50
	active.Paid, active.Fees = coin(2_400_000), coin(48_000)

	closed := active
	closed.Id, closed.State, closed.CloseReason, closed.Deposit = 3, types.LEASE_STATE_CLOSED, types.CLOSE_REASON_COMPLETED, coin(48_000_000)
	closed.Nodes = nodes(24_000_000)
	closed.SettledHeight, closed.ClosedHeight = 620, 620
	closed.Paid, closed.Fees = coin(48_000_000), coin(960_000)

	// Lease 4 ran on n1 + n2 from 20 to 50, was moved off n2 (jailed) and waits for a new placement.
	moved := base
	moved.Id, moved.State, moved.Deposit, moved.DeadlineHeight = 4, types.LEASE_STATE_PENDING, coin(100_000_000), 650
	moved.PastPlacements = []types.PastPlacement{{
		Nodes: nodes(600_000), RingOrder: []string{"n1", "n2"}, DecisionId: 5, ActivatedHeight: 20, EndedHeight: 50,
		ServedBlocks: 30, Reason: types.REALLOCATION_REASON_NODE_JAILED, TriggerNodeIds: []string{"n2"},
	}}
	moved.Paid, moved.Fees = coin(1_200_000), coin(24_000)

	return types.GenesisState{
		Params: types.DefaultParams(),
		Leases: []types.Lease{pending, active, closed, moved},
		SettlementRecords: []types.SettlementRecord{
			{Id: 1, LeaseId: 3, NodeId: "n1", Operator: opA, Amount: coin(23_520_000), Fee: coin(480_000), Height: 620},
			{Id: 2, LeaseId: 3, NodeId: "n2", Operator: opB, Amount: coin(23_520_000), Fee: coin(480_000), Height: 620},
			{Id: 3, LeaseId: 4, NodeId: "n2", Operator: opB, Amount: coin(588_000), Fee: coin(12_000), Height: 50},
		},
		NextLeaseId:  5,
		NextRecordId: 4,
	}
}

func TestGenesisValidate(t *testing.T) {
	ac := addresscodec.NewBech32Codec("nro")
	require.NoError(t, types.DefaultGenesis().Validate(ac))
	require.NoError(t, validGenesis(t).Validate(ac))

	cases := []struct {
		name     string
		mutate   func(gs *types.GenesisState)
		contains string
	}{
		{"bad params", func(gs *types.GenesisState) { gs.Params.BlocksPerHour = 0 }, "blocks_per_hour"},
		{"next lease id 0", func(gs *types.GenesisState) { gs.NextLeaseId = 0 }, "start at 1"},
		{"lease id not below next", func(gs *types.GenesisState) { gs.NextLeaseId = 3 }, "id 3 is not below next_lease_id 3"},
		{"duplicate lease id", func(gs *types.GenesisState) { gs.Leases[1].Id = 1 }, "duplicate lease id 1"},
		{"lease id 0", func(gs *types.GenesisState) { gs.Leases[0].Id = 0 }, "lease id 0 is never used"},
		{"submitter not canonical", func(gs *types.GenesisState) { gs.Leases[0].Submitter = strings.ToUpper(gs.Leases[0].Submitter) }, "canonical"},
		{"unspecified state", func(gs *types.GenesisState) { gs.Leases[0].State = types.LEASE_STATE_UNSPECIFIED }, "is not a lease state"},
		{"pending with a reason", func(gs *types.GenesisState) { gs.Leases[0].CloseReason = types.CLOSE_REASON_EXPIRED }, "a LEASE_STATE_PENDING lease cannot have close reason"},
		{"closed without a reason", func(gs *types.GenesisState) { gs.Leases[2].CloseReason = types.CLOSE_REASON_UNSPECIFIED }, "cannot have close reason CLOSE_REASON_UNSPECIFIED"},
		{"closed as cancelled", func(gs *types.GenesisState) { gs.Leases[2].CloseReason = types.CLOSE_REASON_CANCELLED }, "LEASE_STATE_CLOSED lease cannot have close reason CLOSE_REASON_CANCELLED"},
		{"active without nodes", func(gs *types.GenesisState) { gs.Leases[1].Nodes = nil }, "a LEASE_STATE_ACTIVE lease must have nodes"},
		{"pending with nodes", func(gs *types.GenesisState) { gs.Leases[0].Nodes = gs.Leases[1].Nodes }, "has no current placement, so no nodes"},
		{"deposit in another denom", func(gs *types.GenesisState) { gs.Leases[1].Deposit.Denom = "uatom" }, `deposit denom "uatom" differs`},
		{"node price in another denom", func(gs *types.GenesisState) { gs.Leases[1].Nodes[0].PricePerGpuHour.Denom = "uatom" }, `price denom "uatom"`},
		{"paid above deposit", func(gs *types.GenesisState) { gs.Leases[2].Deposit = coin(47_000_000) }, "exceed the deposit"},
		{"fees above paid", func(gs *types.GenesisState) { gs.Leases[0].Fees = coin(1) }, "fees 1unro exceed paid 0unro"},
		{"open lease refunded", func(gs *types.GenesisState) { gs.Leases[1].Refunded = coin(1) }, "has refunded nothing yet"},
		{"ended lease with escrow left", func(gs *types.GenesisState) { gs.Leases[2].Deposit = coin(48_000_001) }, "holds no escrow, but 1unro is left"},
		{"paid differs from the nodes", func(gs *types.GenesisState) { gs.Leases[1].Nodes[0].Paid = math.NewInt(1) }, "differ from the nodes' sums"},
		{"settled past the deadline", func(gs *types.GenesisState) { gs.Leases[1].SettledHeight = 621 }, "heights must satisfy"},
		{"end not activation + duration", func(gs *types.GenesisState) { gs.Leases[1].EndHeight = 619; gs.Leases[1].DeadlineHeight = 619 }, "heights must satisfy"},
		{"bad placement", func(gs *types.GenesisState) { gs.Leases[1].RingOrder = []string{"n1"} }, "ring_order"},
		{"take above 100%", func(gs *types.GenesisState) { gs.Leases[1].TakeBps = 10_001 }, "take_bps 10001"},
		{"record id 0", func(gs *types.GenesisState) { gs.SettlementRecords[0].Id = 0 }, "id 0 must be in 1..next_record_id-1"},
		{"record id not below next", func(gs *types.GenesisState) { gs.NextRecordId = 2 }, "id 2 must be in 1..next_record_id-1 (1)"},
		{"duplicate record", func(gs *types.GenesisState) { gs.SettlementRecords[1].Id = 1 }, "duplicate record id 1"},
		{"record of an open lease", func(gs *types.GenesisState) { gs.SettlementRecords[0].LeaseId = 2 }, "lease 2 has neither closed nor been moved"},
		{"record of another node", func(gs *types.GenesisState) { gs.SettlementRecords[0].NodeId = "n9" }, `node "n9" is not a node of lease 3`},
		{"record in another denom", func(gs *types.GenesisState) { gs.SettlementRecords[0].Fee = sdk.NewCoin("uatom", math.NewInt(1)) }, `fee denom "uatom"`},
		{"record without height", func(gs *types.GenesisState) { gs.SettlementRecords[0].Height = 0 }, "height must be positive"},
		{"past placement without reason", func(gs *types.GenesisState) { gs.Leases[3].PastPlacements[0].Reason = 0 }, "want a reallocation reason"},
		{"past placement without triggers", func(gs *types.GenesisState) { gs.Leases[3].PastPlacements[0].TriggerNodeIds = nil }, "want a reallocation reason"},
		{"past placement served beyond its span", func(gs *types.GenesisState) { gs.Leases[3].PastPlacements[0].ServedBlocks = 31 }, "served_blocks (31)"},
		{"past placement before creation", func(gs *types.GenesisState) { gs.Leases[3].PastPlacements[0].ActivatedHeight = 5 }, "want 10 <= activated (5)"},
		{"moved lease paid differs", func(gs *types.GenesisState) { gs.Leases[3].Paid = coin(1_200_001) }, "has paid only its past placements"},
		{"moved lease served it all", func(gs *types.GenesisState) {
			gs.Leases[3].Spec.DurationBlocks = 30
		}, "served 30 blocks of a 30-block duration"},
	}
	for _, tc := range cases {
		gs := validGenesis(t)
		tc.mutate(&gs)
		err := gs.Validate(ac)
		require.Error(t, err, tc.name)
		require.ErrorContains(t, err, tc.contains, tc.name)
	}
}

// TestGenesisPrunedState: a genesis exported after pruning holds bridged records whose lease is gone (they
// go with their batch) and a bridged_total that counts the pruned bridged batches too.
func TestGenesisPrunedState(t *testing.T) {
	ac := addresscodec.NewBech32Codec("nro")
	eth := "0x00000000000000000000000000000000000000A1"
	pruned := func(t *testing.T) types.GenesisState {
		gs := validGenesis(t)
		gs.NextLeaseId, gs.NextRecordId, gs.NextBatchNonce = 10, 6, 3
		gs.SettlementRecords = append(gs.SettlementRecords,
			// Lease 7 was pruned; its bridged records stay: one waits, one is in bridged batch 2.
			types.SettlementRecord{Id: 4, LeaseId: 7, NodeId: "n5", Operator: addr(t, 5), EthAddress: eth, Amount: coin(900), Fee: coin(18), Height: 40, Bridged: true},
			types.SettlementRecord{Id: 5, LeaseId: 7, NodeId: "n6", Operator: addr(t, 6), EthAddress: eth, Amount: coin(700), Fee: coin(14), Height: 40, Bridged: true, BatchNonce: 2},
		)
		// Batch 1 (bridged, 500unro) was pruned with its records; batch 2 is the newest bridged one.
		gs.Batches = []types.SettlementBatch{{Nonce: 2, RecordIds: []uint64{5}, Total: coin(700), State: types.BATCH_STATE_BRIDGED,
			Payouts: []types.BatchPayout{{EthAddress: eth, Amount: math.NewInt(700)}}, CreatedHeight: 41, ClosedHeight: 45}}
		gs.BridgedTotal = sdk.NewCoins(coin(1_200))
		return gs
	}
	require.NoError(t, pruned(t).Validate(ac))

	cases := []struct {
		name     string
		mutate   func(gs *types.GenesisState)
		contains string
	}{
		{"unbridged record of a pruned lease", func(gs *types.GenesisState) { gs.SettlementRecords[3].Bridged = false }, "lease 7 is not in this genesis"},
		{"record of a lease never made", func(gs *types.GenesisState) { gs.SettlementRecords[3].LeaseId = 10 }, "lease 10 is not in this genesis"},
		{"record of lease 0", func(gs *types.GenesisState) { gs.SettlementRecords[3].LeaseId = 0 }, "lease 0 is not in this genesis"},
		{"pruned lease's record in two denoms", func(gs *types.GenesisState) { gs.SettlementRecords[3].Fee = sdk.NewCoin("uatom", math.NewInt(1)) }, `fee denom "uatom" differs`},
		{"bridged total below the bridged batches", func(gs *types.GenesisState) { gs.BridgedTotal = sdk.NewCoins(coin(699)) }, "bridged_total 699unro is below the totals of the bridged batches of this genesis (700unro)"},
		{"no bridged total", func(gs *types.GenesisState) { gs.BridgedTotal = nil }, "bridged_total  is below"},
		{"bridged total not sorted", func(gs *types.GenesisState) {
			gs.BridgedTotal = sdk.Coins{coin(1_200), sdk.NewCoin("uatom", math.NewInt(1))}
		}, "bridged_total: "},
	}
	for _, tc := range cases {
		gs := pruned(t)
		tc.mutate(&gs)
		err := gs.Validate(ac)
		require.Error(t, err, tc.name)
		require.ErrorIs(t, err, types.ErrInvalidGenesis, tc.name)
		require.ErrorContains(t, err, tc.contains, tc.name)
	}
}
