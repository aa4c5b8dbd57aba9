package keeper_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// proposalFleet registers the nodes the proposal tests use. RTTs from the measured table: us-east-1 ↔
// us-east-2 11.461 ms, us-east-1 ↔ eu-west-1 84.933 ms, us-east-1 ↔ ap-northeast-1 168.446 ms.
func proposalFleet(e *engineFixture) {
	h100 := func(count, reserved uint32) []types.GpuGroup {
		return []types.GpuGroup{{Model: "H100", Count: count, MemoryMib: 81920, Reserved: reserved}}
	}
	e.node(keepertest.NodeSpec{ID: "use1-a", Region: "aws:us-east-1", PricePerGpuHour: 2_500_000})
	e.node(keepertest.NodeSpec{ID: "use1-b", Region: "aws:us-east-1", PricePerGpuHour: 2_600_000})
	e.node(keepertest.NodeSpec{ID: "use1-c", Region: "aws:us-east-1", PricePerGpuHour: 2_700_000})
	e.node(keepertest.NodeSpec{ID: "use1-d", Region: "aws:us-east-1", PricePerGpuHour: 2_800_000})
	e.node(keepertest.NodeSpec{ID: "use2-a", Region: "aws:us-east-2", PricePerGpuHour: 2_400_000})
	e.node(keepertest.NodeSpec{ID: "euw1-a", Region: "aws:eu-west-1", PricePerGpuHour: 2_000_000})
	e.node(keepertest.NodeSpec{ID: "apne1-a", Region: "aws:ap-northeast-1", PricePerGpuHour: 1_500_000})
	e.node(keepertest.NodeSpec{ID: "busy", Gpus: h100(8, 6)})
	e.node(keepertest.NodeSpec{ID: "a100", Gpus: []types.GpuGroup{{Model: "A100", Count: 8, MemoryMib: 81920}}})
	e.node(keepertest.NodeSpec{ID: "small-mem", Gpus: []types.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 40960}}})
	e.node(keepertest.NodeSpec{ID: "slow", BandwidthMbps: 5_000})
	e.node(keepertest.NodeSpec{ID: "pricey", PricePerGpuHour: 3_000_001})
	e.node(keepertest.NodeSpec{ID: "jailed", Status: types.NODE_STATUS_JAILED})
	e.node(keepertest.NodeSpec{ID: "unbonding", Status: types.NODE_STATUS_UNBONDING})
}

// agentOf is the agent account of a node added with AddNode defaults.
func agentOf(e *engineFixture, nodeID string) string {
	_, s := e.Addr("agent/" + nodeID)
	return s
}

func TestProposeAllocationAccepted(t *testing.T) {
	e := newEngineFixture(t)
	proposalFleet(e)
	lease := e.createLease(baseSpec())
	agent := agentOf(e, "use1-a")
	reserved := e.totalReserved()

	e.ResetEvents()
	res, err := e.propose(agent, lease, pl("use1-a", 8))
	require.NoError(t, err)
	require.GreaterOrEqual(t, res.ProposalId, uint64(1))
	// 8 GPUs × 2.5 NRO × 600 blocks / 600 blocks per hour; one node: no ring link, nothing stranded, neutral
	// reputation, 25 Gbit/s ≥ 10 Gbit/s.
	require.Equal(t, math.NewInt(20_000_000), res.Score.Total)
	require.Equal(t, res.Score.Total, res.Score.Price)
	requireEvents(t, e.AllocationFixture, &types.EventAllocationProposed{
		ProposalId: res.ProposalId, LeaseId: lease, Proposer: agent, Score: res.Score,
	})

	p, err := e.Keeper.Proposals.Get(e.Ctx, res.ProposalId)
	require.NoError(t, err)
	require.Equal(t, types.Proposal{
		Id: res.ProposalId, LeaseId: lease, Proposer: agent, Placement: pl("use1-a", 8),
		RingOrder: []string{"use1-a"}, Height: e.Height(), Total: res.Score.Total,
	}, p)
	require.Equal(t, []uint64{res.ProposalId}, e.proposalIDsOf(lease))
	// A proposal reserves nothing.
	require.Equal(t, reserved, e.totalReserved())
	e.requireEngineInvariants()

	// The last block of the window still accepts proposals, from an account holding the bond too.
	e.SetHeight(keepertest.StartHeight + int64(e.Params().ProposalWindowBlocks))
	bonded := e.bonded("bonded-proposer")
	res2, err := e.propose(bonded, lease, pl("use1-b", 4, "use1-c", 4), "use1-c", "use1-b")
	require.NoError(t, err)
	require.Equal(t, res.ProposalId+1, res2.ProposalId)
	p2, err := e.Keeper.Proposals.Get(e.Ctx, res2.ProposalId)
	require.NoError(t, err)
	require.Equal(t, []string{"use1-c", "use1-b"}, p2.RingOrder)
	require.Equal(t, []uint64{res.ProposalId, res2.ProposalId}, e.proposalIDsOf(lease))
	e.requireEngineInvariants()
}

// TestProposeAllocationGas: validation is charged per placement and ring entry before it runs.
func TestProposeAllocationGas(t *testing.T) {
	gasFor := func(t *testing.T, placement []leasetypes.Placement, ring ...string) uint64 {
		e := newEngineFixture(t)
		proposalFleet(e)
		lease := e.createLease(baseSpec())
		e.Ctx = e.Ctx.WithGasMeter(storetypes.NewGasMeter(100_000_000))
		_, err := e.propose(agentOf(e, "use1-a"), lease, placement, ring...)
		require.NoError(t, err)
		return e.Ctx.GasMeter().GasConsumed()
	}
	perEntry := types.DefaultGasPerPlacementEntry
	one := gasFor(t, pl("use1-a", 8))
	four := gasFor(t, pl("use1-a", 2, "use1-b", 2, "use1-c", 2, "use1-d", 2))
	t.Logf("gas: 1 entry %d, 4 entries %d", one, four)
	// The messages carry no ring_order, so gas_per_placement_entry is charged once per placement entry, on
	// top of the store reads (which also grow with the placement).
	require.GreaterOrEqual(t, one, perEntry)
	require.GreaterOrEqual(t, four-one, 3*perEntry)
	// An explicit ring_order is charged per entry too.
	withRing := gasFor(t, pl("use1-a", 2, "use1-b", 2, "use1-c", 2, "use1-d", 2), "use1-d", "use1-c", "use1-b", "use1-a")
	require.GreaterOrEqual(t, withRing-four, 4*perEntry)
}

func TestProposeAllocationRefused(t *testing.T) {
	cases := []struct {
		name string
		// mutate changes the default setup: lease spec (before the lease is created), then msg.
		spec   func(s *leasetypes.LeaseSpec)
		mutate func(e *engineFixture, lease uint64, msg *types.MsgProposeAllocation)
		// basic is true when ValidateBasic refuses the message (the keeper must refuse it too).
		basic    bool
		err      *errorsmod.Error
		contains []string
		// keeperContains is what the keeper's own error says when ValidateBasic was skipped.
		keeperContains []string
	}{
		{
			name: "unknown lease",
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.LeaseId = 99
			},
			err:      leasetypes.ErrLeaseNotFound,
			contains: []string{"no lease with id 99"},
		},
		{
			name: "lease already active",
			mutate: func(e *engineFixture, lease uint64, _ *types.MsgProposeAllocation) {
				e.leases.setState(lease, leasetypes.LEASE_STATE_ACTIVE)
			},
			err:      types.ErrLeaseNotPending,
			contains: []string{"lease 1 is LEASE_STATE_ACTIVE", "only accepted for PENDING leases"},
		},
		{
			name: "lease cancelled",
			mutate: func(e *engineFixture, lease uint64, _ *types.MsgProposeAllocation) {
				e.leases.setState(lease, leasetypes.LEASE_STATE_CANCELLED)
			},
			err:      types.ErrLeaseNotPending,
			contains: []string{"LEASE_STATE_CANCELLED"},
		},
		{
			name: "after the proposal window",
			mutate: func(e *engineFixture, _ uint64, _ *types.MsgProposeAllocation) {
				e.SetHeight(keepertest.StartHeight + int64(e.Params().ProposalWindowBlocks) + 1)
			},
			err:      types.ErrProposalWindow,
			contains: []string{"proposal window of lease 1 closed at height 15 (now 16)", "fallback allocator places it"},
		},
		{
			name: "proposer neither agent nor bonded",
			mutate: func(e *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				addr, s := e.Addr("stranger")
				e.Fund(addr, e.Coin(e.Params().MinProposerBond.Amount.Int64()-1))
				m.Proposer = s
			},
			err:      types.ErrNotProposer,
			contains: []string{"not the agent of an ACTIVE node", "holds 999999999unro", "less than min_proposer_bond 1000000000unro"},
		},
		{
			name: "proposer is the agent of a jailed node only",
			mutate: func(e *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Proposer = agentOf(e, "jailed")
			},
			err:      types.ErrNotProposer,
			contains: []string{"not the agent of an ACTIVE node"},
		},
		{
			name: "proposer is an operator, not the agent",
			mutate: func(e *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				_, m.Proposer = e.Addr("operator/use1-a")
			},
			err:      types.ErrNotProposer,
			contains: []string{"min_proposer_bond"},
		},
		{
			name:           "proposer address malformed",
			mutate:         func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) { m.Proposer = "nro1xyz" },
			basic:          true,
			err:            types.ErrInvalidAddress,
			contains:       []string{"proposer", "nro1xyz"},
			keeperContains: []string{"proposer", "nro1xyz"},
		},
		{
			name:     "over-commit",
			mutate:   func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) { m.Placement = pl("busy", 8) },
			err:      types.ErrInvalidProposal,
			contains: []string{"node busy: 8 GPUs asked", "over-commit", "H100:81920 MiB 2 of 8 free"},
		},
		{
			name: "over-commit across a split placement",
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Placement = pl("use1-a", 5, "busy", 3)
			},
			err:      types.ErrInvalidProposal,
			contains: []string{"node busy: 3 GPUs asked", "2 of 8 free"},
		},
		{
			name:     "wrong GPU model",
			mutate:   func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) { m.Placement = pl("a100", 8) },
			err:      types.ErrInvalidProposal,
			contains: []string{"node a100 has no H100 GPUs with at least 81920 MiB"},
		},
		{
			name:     "memory too low",
			mutate:   func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) { m.Placement = pl("small-mem", 8) },
			err:      types.ErrInvalidProposal,
			contains: []string{"node small-mem has no H100 GPUs with at least 81920 MiB"},
		},
		{
			name:     "node bandwidth too low",
			mutate:   func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) { m.Placement = pl("slow", 8) },
			err:      types.ErrInvalidProposal,
			contains: []string{"node slow: 5000 Mbit/s is below the lease's min_bandwidth_mbps 10000"},
		},
		{
			name:     "price above the lease's max",
			mutate:   func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) { m.Placement = pl("pricey", 8) },
			err:      types.ErrInvalidProposal,
			contains: []string{"node pricey: price 3000001 per GPU-hour is above the lease's max 3000000"},
		},
		{
			name: "region outside the lease's regions",
			spec: func(s *leasetypes.LeaseSpec) { s.Regions = []string{"aws:us-east-1", "aws:us-east-2"} },
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Placement = pl("use1-a", 4, "euw1-a", 4)
			},
			err:      types.ErrInvalidProposal,
			contains: []string{"node euw1-a is in aws:eu-west-1, outside the lease's regions [aws:us-east-1 aws:us-east-2]"},
		},
		{
			// us-east-1 ↔ ap-northeast-1 is 168.446 ms in the measured table.
			name: "ring link RTT above max_rtt_ms",
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Placement = pl("use1-a", 4, "apne1-a", 4)
			},
			err:      types.ErrInvalidProposal,
			contains: []string{"ring link use1-a → apne1-a has RTT 168.446 ms, above the lease's max_rtt_ms 100"},
		},
		{
			name: "ring link without a measured RTT",
			mutate: func(e *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				removeLink(e, "aws:us-east-1", "aws:us-east-2")
				m.Placement = pl("use1-a", 4, "use2-a", 4)
			},
			err:      types.ErrInvalidProposal,
			contains: []string{"no measured link between aws:us-east-1 and aws:us-east-2"},
		},
		{
			name:     "unknown node",
			mutate:   func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) { m.Placement = pl("ghost", 8) },
			err:      types.ErrInvalidProposal,
			contains: []string{`no node with id "ghost"`},
		},
		{
			name:     "jailed node",
			mutate:   func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) { m.Placement = pl("jailed", 8) },
			err:      types.ErrInvalidProposal,
			contains: []string{"node jailed is NODE_STATUS_JAILED; only ACTIVE nodes take leases"},
		},
		{
			name:     "unbonding node",
			mutate:   func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) { m.Placement = pl("unbonding", 8) },
			err:      types.ErrInvalidProposal,
			contains: []string{"node unbonding is NODE_STATUS_UNBONDING"},
		},
		{
			name: "duplicate node",
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Placement = pl("use1-a", 4, "use1-a", 4)
			},
			basic:          true,
			err:            types.ErrInvalidProposal,
			contains:       []string{"use1-a", "twice"},
			keeperContains: []string{"node use1-a is listed twice; give each node once with its total GPUs"},
		},
		{
			name: "entry with 0 GPUs",
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Placement = pl("use1-a", 8, "use1-b", 0)
			},
			basic:          true,
			err:            types.ErrInvalidProposal,
			contains:       []string{"use1-b", "0 GPUs"},
			keeperContains: []string{"node use1-b: 0 GPUs; every entry needs at least 1"},
		},
		{
			name: "ring order names a node outside the placement",
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Placement = pl("use1-a", 4, "use1-b", 4)
				m.RingOrder = []string{"use1-a", "use1-c"}
			},
			basic:          true,
			err:            types.ErrInvalidProposal,
			contains:       []string{"ring_order", "exactly once"},
			keeperContains: []string{"ring_order names use1-c, which is not in the placement"},
		},
		{
			name: "ring order repeats a node",
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Placement = pl("use1-a", 4, "use1-b", 4)
				m.RingOrder = []string{"use1-a", "use1-a"}
			},
			basic:          true,
			err:            types.ErrInvalidProposal,
			contains:       []string{"ring_order [use1-a use1-a] must list each placement node exactly once"},
			keeperContains: []string{"ring_order [use1-a use1-a] must list each placement node exactly once"},
		},
		{
			name: "ring order too short",
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Placement = pl("use1-a", 4, "use1-b", 4)
				m.RingOrder = []string{"use1-b"}
			},
			basic:          true,
			err:            types.ErrInvalidProposal,
			contains:       []string{"ring_order has 1 nodes; it must list each of the 2 placement nodes once"},
			keeperContains: []string{"ring_order has 1 nodes; it must list each of the 2 placement nodes once"},
		},
		{
			name:     "fewer GPUs than the lease's",
			mutate:   func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) { m.Placement = pl("use1-a", 4) },
			err:      types.ErrInvalidProposal,
			contains: []string{"placement has 4 GPUs; the lease needs exactly 8"},
		},
		{
			name: "more GPUs than the lease's",
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Placement = pl("use1-a", 8, "use1-b", 1)
			},
			err:      types.ErrInvalidProposal,
			contains: []string{"placement has 9 GPUs; the lease needs exactly 8"},
		},
		{
			name: "more than max_gpus_per_node on one node",
			spec: func(s *leasetypes.LeaseSpec) { s.MaxGpusPerNode = 4 },
			mutate: func(_ *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				m.Placement = pl("use1-a", 5, "use1-b", 3)
			},
			err:      types.ErrInvalidProposal,
			contains: []string{"node use1-a: 5 GPUs exceed the lease's max_gpus_per_node 4"},
		},
		{
			name: "more nodes than max_placement_nodes",
			mutate: func(e *engineFixture, _ uint64, m *types.MsgProposeAllocation) {
				p := e.Params()
				p.MaxPlacementNodes = 2
				e.SetParams(p)
				m.Placement = pl("use1-a", 2, "use1-b", 2, "use1-c", 4)
			},
			err:      types.ErrInvalidProposal,
			contains: []string{"placement has 3 nodes; at most max_placement_nodes 2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngineFixture(t)
			proposalFleet(e)
			spec := baseSpec()
			if tc.spec != nil {
				tc.spec(&spec)
			}
			lease := e.createLease(spec)
			msg := &types.MsgProposeAllocation{Proposer: agentOf(e, "use1-a"), LeaseId: lease, Placement: pl("use1-a", 8)}
			tc.mutate(e, lease, msg)
			e.ResetEvents()
			before := e.snapshot(t)

			basicErr := msg.ValidateBasic()
			if tc.basic {
				require.ErrorIs(t, basicErr, tc.err)
				for _, s := range tc.contains {
					require.ErrorContains(t, basicErr, s)
				}
			} else {
				require.NoError(t, basicErr)
			}
			// The keeper refuses it too, whether or not the ante handler ran ValidateBasic.
			_, err := e.MsgServer.ProposeAllocation(e.Ctx, msg)
			require.ErrorIs(t, err, tc.err)
			want := tc.contains
			if tc.basic {
				want = tc.keeperContains
				require.NotEmpty(t, want)
			}
			for _, s := range want {
				require.ErrorContains(t, err, s)
			}
			e.requireUnchanged(t, before)
		})
	}
}

// TestProposeAllocationBondedAccount: an account that is no node's agent may propose once it holds
// min_proposer_bond; one unro less is refused (TestProposeAllocationRefused).
func TestProposeAllocationBondedAccount(t *testing.T) {
	e := newEngineFixture(t)
	proposalFleet(e)
	lease := e.createLease(baseSpec())
	addr, s := e.Addr("bonded")
	e.Fund(addr, e.Params().MinProposerBond)
	res, err := e.propose(s, lease, pl("use1-a", 8))
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.ProposalId)
	// Proposing locks nothing: the bond stays spendable.
	require.Equal(t, e.Params().MinProposerBond, e.Balance(addr))
}

// TestProposeAllocationKeepsBest: at most max_proposals_per_lease proposals are kept, best first; a proposal
// that is not strictly cheaper than the worst kept one is refused, a cheaper one evicts the worst.
func TestProposeAllocationKeepsBest(t *testing.T) {
	e := newEngineFixture(t)
	proposalFleet(e)
	p := e.Params()
	p.MaxProposalsPerLease = 2
	e.SetParams(p)
	e.node(keepertest.NodeSpec{ID: "use1-c2", Region: "aws:us-east-1", PricePerGpuHour: 2_700_000})
	lease := e.createLease(baseSpec())
	agent := agentOf(e, "use1-a")

	// Costs are 8 × price: use1-a 20.0 NRO, use1-b 20.8, use1-c and use1-c2 21.6, use1-d 22.4, use2-a 19.2.
	idA := e.mustPropose(agent, lease, pl("use1-a", 8))
	idC := e.mustPropose(agent, lease, pl("use1-c", 8))
	require.Equal(t, []uint64{idA, idC}, e.proposalIDsOf(lease))

	for _, tc := range []struct {
		name      string
		placement []leasetypes.Placement
		cost      string
	}{
		{"worse than every kept proposal", pl("use1-d", 8), "22400000"},
		{"as costly as the worst kept proposal", pl("use1-c2", 8), "21600000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.ResetEvents()
			before := e.snapshot(t)
			_, err := e.propose(agent, lease, tc.placement)
			require.ErrorIs(t, err, types.ErrProposalNotBetter)
			require.ErrorContains(t, err, "cost "+tc.cost+" is not below the worst of the 2 kept proposals for lease 1 (21600000)")
			require.ErrorContains(t, err, "propose a cheaper placement")
			e.requireUnchanged(t, before)
		})
	}

	// Better than the worst: the worst (use1-c) is evicted.
	e.ResetEvents()
	res, err := e.propose(agent, lease, pl("use1-b", 8))
	require.NoError(t, err)
	require.Equal(t, math.NewInt(20_800_000), res.Score.Total)
	requireEvents(t, e.AllocationFixture, &types.EventAllocationProposed{
		ProposalId: res.ProposalId, LeaseId: lease, Proposer: agent, Score: res.Score, EvictedProposalId: idC,
	})
	require.Equal(t, []uint64{idA, res.ProposalId}, e.proposalIDsOf(lease))
	_, err = e.Keeper.Proposals.Get(e.Ctx, idC)
	require.Error(t, err, "the evicted proposal is deleted")

	// Better than all: the worst is now use1-b.
	e.ResetEvents()
	res2, err := e.propose(agent, lease, pl("use2-a", 8))
	require.NoError(t, err)
	require.Equal(t, res.ProposalId, typedEvents[*types.EventAllocationProposed](t, e.AllocationFixture)[0].EvictedProposalId)
	ranked, err := e.Keeper.ProposalsByRank(e.Ctx, lease)
	require.NoError(t, err)
	require.Len(t, ranked, 2)
	require.Equal(t, []uint64{res2.ProposalId, idA}, []uint64{ranked[0].Id, ranked[1].Id})
	e.requireEngineInvariants()

	// Other leases have their own limit.
	other := e.createLease(baseSpec())
	e.mustPropose(agent, other, pl("use1-d", 8))
	require.Len(t, e.proposalIDsOf(other), 1)
	require.Len(t, e.proposalIDsOf(lease), 2)
}

// removeLink deletes a region link from the table.
func removeLink(e *engineFixture, a, b string) {
	e.T.Helper()
	a, b = types.LinkKey(a, b)
	require.NoError(e.T, e.Keeper.RegionLinks.Remove(e.Ctx, collections.Join(a, b)))
}

// TestProposeAllocationDuplicate: a placement a kept proposal already has — the same GPUs on the same
// nodes, listed in any order — is refused with ErrDuplicateProposal and changes nothing, whoever sends it,
// unless it costs less (a better ring order), in which case it replaces the kept one.
func TestProposeAllocationDuplicate(t *testing.T) {
	e := newEngineFixture(t)
	proposalFleet(e)
	spec := baseSpec()
	spec.MaxRttMs = 0 // any: the four nodes span three continents
	lease := e.createLease(spec)
	first, second := agentOf(e, "use1-a"), agentOf(e, "use1-b")

	id := e.mustPropose(first, lease, pl("use1-a", 2, "use2-a", 2, "euw1-a", 2, "apne1-a", 2),
		"use1-a", "use2-a", "euw1-a", "apne1-a")
	kept, err := e.Keeper.Proposals.Get(e.Ctx, id)
	require.NoError(t, err)

	for _, tc := range []struct {
		name      string
		placement []leasetypes.Placement
		ring      []string
	}{
		{"same placement and ring", pl("use1-a", 2, "use2-a", 2, "euw1-a", 2, "apne1-a", 2), []string{"use1-a", "use2-a", "euw1-a", "apne1-a"}},
		{"same nodes listed in another order", pl("apne1-a", 2, "euw1-a", 2, "use2-a", 2, "use1-a", 2), []string{"use2-a", "euw1-a", "apne1-a", "use1-a"}},
		// Its bottleneck is the same Europe–Tokyo link.
		{"same nodes in another ring of the same cost", pl("use1-a", 2, "use2-a", 2, "euw1-a", 2, "apne1-a", 2), []string{"use1-a", "use2-a", "apne1-a", "euw1-a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.ResetEvents()
			before := e.snapshot(t)
			res, err := e.propose(second, lease, tc.placement, tc.ring...)
			require.ErrorIs(t, err, types.ErrDuplicateProposal, "got %v", res)
			require.ErrorContains(t, err, fmt.Sprintf("proposal %d by %s already places lease %d on these nodes and GPUs at cost %s", id, first, lease, kept.Total))
			require.ErrorContains(t, err, "propose other nodes, or the same nodes in a ring order that costs less")
			e.requireUnchanged(t, before)
		})
	}

	// The same GPUs elsewhere, or other GPU counts on the same nodes, are other placements.
	e.mustPropose(second, lease, pl("use1-a", 4, "use2-a", 2, "euw1-a", 2), "use1-a", "use2-a", "euw1-a")

	// The same nodes in a cheaper ring order (its bottleneck Tokyo–Virginia, not Tokyo–Ireland) replace the
	// kept proposal.
	e.ResetEvents()
	res, err := e.propose(second, lease, pl("use1-a", 2, "use2-a", 2, "euw1-a", 2, "apne1-a", 2), "use1-a", "euw1-a", "use2-a", "apne1-a")
	if errors.Is(err, types.ErrDuplicateProposal) {
		t.Fatalf("a cheaper ring order on the same nodes must replace the kept proposal: %v", err)
	}
	require.NoError(t, err)
	require.True(t, res.Score.Total.LT(kept.Total), "%s < %s", res.Score.Total, kept.Total)
	require.Equal(t, id, typedEvents[*types.EventAllocationProposed](t, e.AllocationFixture)[0].EvictedProposalId)
	_, err = e.Keeper.Proposals.Get(e.Ctx, id)
	require.Error(t, err, "the replaced proposal is deleted")
	require.Len(t, e.proposalIDsOf(lease), 2)
	e.requireEngineInvariants()
}
