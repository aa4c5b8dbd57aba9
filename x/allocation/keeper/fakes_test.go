package keeper_test

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// testBlocksPerHour is the blocks_per_hour the fake x/lease locks into every lease (6 s blocks).
const testBlocksPerHour = 600

// activation is one call the engine made to PrepareActivation.
type activation struct {
	LeaseID    uint64
	Nodes      []leasetypes.LeaseNode
	RingOrder  []string
	DecisionID uint64
	Height     int64
}

// fakeLeaseKeeper stands in for x/lease: leases live in a map (not in the store, so a rolled-back cache
// context does not undo its changes), PENDING leases are created by the tests and handed to EnqueueLease as
// x/lease does, and PrepareActivation checks the lease is PENDING and the placement passes x/lease's own
// validation; the function it returns stores the lease ACTIVE. A function field, when set, replaces that
// behaviour.
type fakeLeaseKeeper struct {
	addrCodec address.Codec
	denom     string
	leases    map[uint64]leasetypes.Lease
	nextID    uint64

	GetLeaseFn func(ctx context.Context, id uint64) (leasetypes.Lease, error)
	// ActivateLeaseFn, when set, is called first among PrepareActivation's checks; an error refuses the activation.
	ActivateLeaseFn func(ctx context.Context, id uint64, nodes []leasetypes.LeaseNode, ringOrder []string, decisionID uint64) error

	// Activations are the PrepareActivation calls in order, refused ones included.
	Activations []activation
}

var _ types.LeaseKeeper = (*fakeLeaseKeeper)(nil)

func newFakeLeaseKeeper(addrCodec address.Codec, denom string) *fakeLeaseKeeper {
	return &fakeLeaseKeeper{addrCodec: addrCodec, denom: denom, leases: map[uint64]leasetypes.Lease{}, nextID: 1}
}

// GetLease implements types.LeaseKeeper.
func (l *fakeLeaseKeeper) GetLease(ctx context.Context, id uint64) (leasetypes.Lease, error) {
	if l.GetLeaseFn != nil {
		return l.GetLeaseFn(ctx, id)
	}
	lease, ok := l.leases[id]
	if !ok {
		return leasetypes.Lease{}, leasetypes.ErrLeaseNotFound.Wrapf("no lease with id %d", id)
	}
	return cloneLease(lease), nil
}

// PrepareActivation implements types.LeaseKeeper: the checks run now (ActivateLeaseFn, when set, replaces
// them), the lease is stored ACTIVE when the engine calls the returned function.
func (l *fakeLeaseKeeper) PrepareActivation(ctx context.Context, id uint64, nodes []leasetypes.LeaseNode, ringOrder []string, decisionID uint64) (func() error, error) {
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	l.Activations = append(l.Activations, activation{
		LeaseID: id, Nodes: slices.Clone(nodes), RingOrder: slices.Clone(ringOrder), DecisionID: decisionID, Height: height,
	})
	if l.ActivateLeaseFn != nil {
		if err := l.ActivateLeaseFn(ctx, id, nodes, ringOrder, decisionID); err != nil {
			return nil, err
		}
	}
	lease, ok := l.leases[id]
	if !ok {
		return nil, leasetypes.ErrLeaseNotFound.Wrapf("no lease with id %d", id)
	}
	if lease.State != leasetypes.LEASE_STATE_PENDING {
		return nil, errorsmod.Wrapf(leasetypes.ErrLeaseNotPending, "lease %d is %s; only a PENDING lease can be activated", id, lease.State)
	}
	if err := leasetypes.ValidateNodes(l.addrCodec, lease.Spec, lease.Deposit.Denom, nodes, ringOrder); err != nil {
		return nil, errorsmod.Wrapf(err, "activate lease %d", id)
	}
	lease.State = leasetypes.LEASE_STATE_ACTIVE
	lease.Nodes = slices.Clone(nodes)
	lease.RingOrder = slices.Clone(ringOrder)
	lease.DecisionId = decisionID
	lease.ActivatedHeight = height
	lease.EndHeight = height + int64(lease.Spec.DurationBlocks)
	lease.SettledHeight = height
	return func() error {
		l.leases[id] = lease
		return nil
	}, nil
}

// put stores a lease as it is.
func (l *fakeLeaseKeeper) put(lease leasetypes.Lease) { l.leases[lease.Id] = cloneLease(lease) }

// setState changes a lease's state behind the engine's back (cancel, close, expire).
func (l *fakeLeaseKeeper) setState(id uint64, s leasetypes.LeaseState) {
	lease := l.leases[id]
	lease.State = s
	l.leases[id] = lease
}

func (l *fakeLeaseKeeper) lease(t *testing.T, id uint64) leasetypes.Lease {
	t.Helper()
	lease, ok := l.leases[id]
	require.True(t, ok, "lease %d", id)
	return cloneLease(lease)
}

func cloneLease(l leasetypes.Lease) leasetypes.Lease {
	l.Spec.Regions = slices.Clone(l.Spec.Regions)
	l.Nodes = slices.Clone(l.Nodes)
	l.RingOrder = slices.Clone(l.RingOrder)
	return l
}

// decision is one RecordDecision call.
type decision struct {
	ID            uint64
	LeaseID       uint64
	Spec          leasetypes.LeaseSpec
	BlocksPerHour uint64
	Weights       types.ScoringWeights
	Candidates    []types.Candidate
	Winner        uint32
	Height        int64
	Moved         *leasetypes.PastPlacement
}

// fakeAuditKeeper stands in for x/audit: it records every decision and returns increasing ids from 1.
type fakeAuditKeeper struct {
	RecordDecisionFn func(ctx context.Context, d decision) (uint64, error)
	Decisions        []decision
	// Links are measured links by sorted node pair.
	Links map[[2]string]measuredLink
}

type measuredLink struct{ rttUs, mbps, epoch uint64 }

// MeasuredLink implements types.AuditKeeper.
func (a *fakeAuditKeeper) MeasuredLink(_ context.Context, x, y string) (uint64, uint64, uint64, bool, error) {
	if x > y {
		x, y = y, x
	}
	l, ok := a.Links[[2]string{x, y}]
	return l.rttUs, l.mbps, l.epoch, ok, nil
}

var _ types.AuditKeeper = (*fakeAuditKeeper)(nil)

// PrepareDecision implements types.AuditKeeper: the decision is recorded when the engine calls store.
func (a *fakeAuditKeeper) PrepareDecision(ctx context.Context, leaseID uint64, spec leasetypes.LeaseSpec, blocksPerHour uint64,
	weights types.ScoringWeights, candidates []types.Candidate, winner uint32, moved *leasetypes.PastPlacement,
) (uint64, func() error, error) {
	d := decision{
		ID: uint64(len(a.Decisions) + 1), LeaseID: leaseID, Spec: spec, BlocksPerHour: blocksPerHour, Weights: weights,
		Candidates: slices.Clone(candidates), Winner: winner, Height: sdk.UnwrapSDKContext(ctx).BlockHeight(), Moved: moved,
	}
	if a.RecordDecisionFn != nil {
		id, err := a.RecordDecisionFn(ctx, d)
		return id, func() error { return nil }, err
	}
	return d.ID, func() error {
		a.Decisions = append(a.Decisions, d)
		return nil
	}, nil
}

func (a *fakeAuditKeeper) last(t *testing.T) decision {
	t.Helper()
	require.NotEmpty(t, a.Decisions, "no decision recorded")
	return a.Decisions[len(a.Decisions)-1]
}

// engineFixture is the x/allocation fixture with the measured region links loaded and fake x/lease and
// x/audit keepers plugged in.
type engineFixture struct {
	*keepertest.AllocationFixture
	leases *fakeLeaseKeeper
	audit  *fakeAuditKeeper
}

func newEngineFixture(t testing.TB) *engineFixture {
	return newEngineFixtureAmong(t)
}

// newEngineFixtureAmong is newEngineFixture with only the links between the given regions loaded (all of
// them when none is given).
func newEngineFixtureAmong(t testing.TB, regions ...string) *engineFixture {
	f := keepertest.NewAllocationFixture(t)
	if len(regions) == 0 {
		f.LoadRegionLinks()
	} else {
		f.LoadRegionLinksAmong(regions...)
	}
	e := &engineFixture{
		AllocationFixture: f,
		leases:            newFakeLeaseKeeper(f.AddressCodec, f.Denom()),
		audit:             &fakeAuditKeeper{},
	}
	f.Keeper.SetLeaseKeeper(e.leases)
	f.Keeper.SetAuditKeeper(e.audit)
	return e
}

// baseSpec is 8 H100 GPUs of at least 80 GiB, 10 Gbit/s, RTT at most 100 ms, 1 hour (600 blocks), at most
// 3 NRO per GPU-hour, any region.
func baseSpec() leasetypes.LeaseSpec {
	return leasetypes.LeaseSpec{
		TotalGpus:          8,
		GpuModel:           "H100",
		MinGpuMemoryMib:    81920,
		MinBandwidthMbps:   10_000,
		MaxRttMs:           100,
		DurationBlocks:     600,
		MaxPricePerGpuHour: unro(3_000_000),
	}
}

// createLease stores a PENDING lease created at the current height and enqueues it, as x/lease's
// CreateLease does.
func (e *engineFixture) createLease(spec leasetypes.LeaseSpec) uint64 {
	e.T.Helper()
	require.NoError(e.T, spec.ValidateBasic())
	id := e.leases.nextID
	e.leases.nextID++
	_, submitter := e.Addr("submitter")
	zero := sdk.NewCoin(e.Denom(), math.ZeroInt())
	e.leases.put(leasetypes.Lease{
		Id:             id,
		Submitter:      submitter,
		Spec:           spec,
		Deposit:        sdk.NewCoin(e.Denom(), spec.MaxPricePerGpuHour.Amount.MulRaw(int64(spec.TotalGpus))),
		State:          leasetypes.LEASE_STATE_PENDING,
		BlocksPerHour:  testBlocksPerHour,
		CreatedHeight:  e.Height(),
		DeadlineHeight: e.Height() + 1000,
		Paid:           zero,
		Fees:           zero,
		Refunded:       zero,
	})
	require.NoError(e.T, e.Keeper.EnqueueLease(e.Ctx, id))
	return id
}

// dueHeight is the height at which a lease created now is decided.
func (e *engineFixture) dueHeight() int64 { return e.Height() + int64(e.Params().ProposalWindowBlocks) }

// node adds an ACTIVE node with defaults (see keepertest.NodeSpec).
func (e *engineFixture) node(s keepertest.NodeSpec) types.Node {
	e.T.Helper()
	return e.AddNode(s)
}

// bonded returns an account holding exactly min_proposer_bond, which may propose.
func (e *engineFixture) bonded(name string) string {
	e.T.Helper()
	addr, s := e.Addr(name)
	e.Fund(addr, e.Params().MinProposerBond)
	return s
}

func (e *engineFixture) propose(proposer string, leaseID uint64, placement []leasetypes.Placement, ring ...string) (*types.MsgProposeAllocationResponse, error) {
	msg := &types.MsgProposeAllocation{Proposer: proposer, LeaseId: leaseID, Placement: placement, RingOrder: ring}
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	return e.MsgServer.ProposeAllocation(e.Ctx, msg)
}

func (e *engineFixture) mustPropose(proposer string, leaseID uint64, placement []leasetypes.Placement, ring ...string) uint64 {
	e.T.Helper()
	res, err := e.propose(proposer, leaseID, placement, ring...)
	require.NoError(e.T, err)
	return res.ProposalId
}

// endBlock runs AllocatePending at the current height with fresh events.
func (e *engineFixture) endBlock() {
	e.T.Helper()
	e.ResetEvents()
	require.NoError(e.T, e.AllocateEndBlock())
	e.requireEngineInvariants()
}

// advanceTo moves block by block to height h, running the allocation EndBlock at each height after the
// current one; the events of the last block stay on the context.
func (e *engineFixture) advanceTo(h int64) {
	e.T.Helper()
	require.GreaterOrEqual(e.T, h, e.Height())
	for e.Height() < h {
		e.NextBlock(1)
		e.endBlock()
	}
}

func pl(nodeGPUs ...any) []leasetypes.Placement {
	out := make([]leasetypes.Placement, 0, len(nodeGPUs)/2)
	for i := 0; i < len(nodeGPUs); i += 2 {
		out = append(out, leasetypes.Placement{NodeId: nodeGPUs[i].(string), Gpus: uint32(nodeGPUs[i+1].(int))})
	}
	return out
}

// queue is the allocation queue, (due height, lease id), in order.
func (e *engineFixture) queue() []collections.Pair[int64, uint64] {
	e.T.Helper()
	var out []collections.Pair[int64, uint64]
	require.NoError(e.T, e.Keeper.AllocationQueue.Walk(e.Ctx, nil, func(k collections.Pair[int64, uint64]) (bool, error) {
		out = append(out, k)
		return false, nil
	}))
	return out
}

func (e *engineFixture) pendingDue() map[uint64]int64 {
	e.T.Helper()
	out := map[uint64]int64{}
	require.NoError(e.T, e.Keeper.PendingDue.Walk(e.Ctx, nil, func(id uint64, due int64) (bool, error) {
		out[id] = due
		return false, nil
	}))
	return out
}

func (e *engineFixture) proposals() []types.Proposal {
	e.T.Helper()
	var out []types.Proposal
	require.NoError(e.T, e.Keeper.Proposals.Walk(e.Ctx, nil, func(_ uint64, p types.Proposal) (bool, error) {
		out = append(out, p)
		return false, nil
	}))
	return out
}

func (e *engineFixture) proposalIDsOf(leaseID uint64) []uint64 {
	e.T.Helper()
	var out []uint64
	require.NoError(e.T, e.Keeper.ProposalsByLease.Walk(e.Ctx, collections.NewPrefixedPairRange[uint64, uint64](leaseID),
		func(k collections.Pair[uint64, uint64]) (bool, error) {
			out = append(out, k.K2())
			return false, nil
		}))
	return out
}

func (e *engineFixture) nodes() []types.Node {
	e.T.Helper()
	var out []types.Node
	require.NoError(e.T, e.Keeper.Nodes.Walk(e.Ctx, nil, func(_ string, n types.Node) (bool, error) {
		out = append(out, n)
		return false, nil
	}))
	return out
}

func (e *engineFixture) totalReserved() uint64 {
	var sum uint64
	for _, n := range e.nodes() {
		for _, g := range n.Gpus {
			sum += uint64(g.Reserved)
		}
	}
	return sum
}

// expectedCapacityIndex recomputes the capacity index from the nodes, independently of the keeper: four
// entries per GPU group with free GPUs on an ACTIVE node, each holding the group's and node's filter fields.
func expectedCapacityIndex(nodes []types.Node) []keepertest.CapacityIndexEntry {
	var out []keepertest.CapacityIndexEntry
	for _, n := range nodes {
		if n.Status != types.NODE_STATUS_ACTIVE {
			continue
		}
		for i, g := range n.Gpus {
			free := g.Count - g.Reserved
			if free == 0 {
				continue
			}
			ref := n.Id + "/" + strconv.Itoa(i)
			v := types.CapacityEntry{Region: n.Region, GpuModel: g.Model, GpuMemoryMib: g.MemoryMib,
				BandwidthMbps: n.BandwidthMbps, ReputationBps: n.ReputationBps}
			for _, s := range []string{"*", "m/" + g.Model, "r/" + n.Region + "/*", "r/" + n.Region + "/m/" + g.Model} {
				out = append(out, keepertest.CapacityIndexEntry{Key: collections.Join4(s, n.PricePerGpuHour.Amount.Uint64(), free, ref), Value: v})
			}
		}
	}
	slices.SortFunc(out, func(x, y keepertest.CapacityIndexEntry) int {
		a, b := x.Key, y.Key
		return cmp.Or(cmp.Compare(a.K1(), b.K1()), cmp.Compare(a.K2(), b.K2()), cmp.Compare(a.K3(), b.K3()), cmp.Compare(a.K4(), b.K4()))
	})
	return out
}

// requireEngineInvariants checks the stake invariant (which includes "no group reserves more than it has"),
// that the capacity index matches the nodes exactly, and that the queue and its due-height map agree.
func (e *engineFixture) requireEngineInvariants() {
	e.T.Helper()
	e.RequireInvariant()
	require.Equal(e.T, expectedCapacityIndex(e.nodes()), e.CapacityIndexEntries(), "capacity index out of step with the nodes")
	due := e.pendingDue()
	q := e.queue()
	require.Len(e.T, q, len(due), "allocation queue %v and pending_due %v differ", q, due)
	for _, k := range q {
		require.Equal(e.T, k.K1(), due[k.K2()], "lease %d: queue says due %d, pending_due %d", k.K2(), k.K1(), due[k.K2()])
	}
	for _, p := range e.proposals() {
		require.Contains(e.T, e.proposalIDsOf(p.LeaseId), p.Id, "proposal %d missing from proposals_by_lease", p.Id)
	}
}

// engineState is everything a refused proposal or allocation step must leave untouched.
type engineState struct {
	base        state
	index       []keepertest.CapacityIndexEntry
	queue       []collections.Pair[int64, uint64]
	due         map[uint64]int64
	proposals   []types.Proposal
	seq         uint64
	leases      map[uint64]leasetypes.Lease
	activations int
	decisions   int
}

func (e *engineFixture) snapshot(t *testing.T, accounts ...sdk.AccAddress) engineState {
	t.Helper()
	seq, err := e.Keeper.ProposalSeq.Peek(e.Ctx)
	require.NoError(t, err)
	leases := make(map[uint64]leasetypes.Lease, len(e.leases.leases))
	for id, l := range e.leases.leases {
		leases[id] = cloneLease(l)
	}
	return engineState{
		base:        snapshot(t, e.AllocationFixture, accounts...),
		index:       e.CapacityIndexEntries(),
		queue:       e.queue(),
		due:         e.pendingDue(),
		proposals:   e.proposals(),
		seq:         seq,
		leases:      leases,
		activations: len(e.leases.Activations),
		decisions:   len(e.audit.Decisions),
	}
}

// requireUnchanged asserts that the state is exactly before and that no x/allocation event was emitted.
func (e *engineFixture) requireUnchanged(t *testing.T, before engineState) {
	t.Helper()
	requireUnchanged(t, e.AllocationFixture, before.base)
	after := e.snapshot(t)
	require.Equal(t, before.index, after.index, "capacity index changed")
	require.Equal(t, before.queue, after.queue, "allocation queue changed")
	require.Equal(t, before.due, after.due, "pending_due changed")
	require.Equal(t, before.proposals, after.proposals, "proposals changed")
	require.Equal(t, before.seq, after.seq, "proposal sequence changed")
	require.Equal(t, before.leases, after.leases, "leases changed")
	require.Equal(t, before.activations, after.activations, "ActivateLease was called")
	require.Equal(t, before.decisions, after.decisions, "a decision was recorded")
}

// typedEvents returns the x/allocation events of type T emitted since the last reset.
func typedEvents[T proto.Message](t *testing.T, f *keepertest.AllocationFixture) []T {
	t.Helper()
	var out []T
	for _, ev := range f.TypedEvents() {
		if v, ok := ev.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
