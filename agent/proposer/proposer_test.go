package proposer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/internal/chainclient"
	"github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

const me = "nro1proposer"

// fakeChain is an in-memory Chain. Tests that run the proposer's Run in the background lock mu around
// their changes; rounds and sentCh, when set, receive a value on every PendingLeases call and every proposal.
type fakeChain struct {
	t         *testing.T
	mu        sync.Mutex
	height    int64
	leases    []leasetypes.Lease
	nodes     []types.Node
	params    types.Params
	matrix    []audittypes.LinkAggregate
	epoch     uint64
	kept      map[uint64][]types.Proposal
	decisions map[uint64][]audittypes.Decision
	propose   func(*types.MsgProposeAllocation) (TxResult, error)
	sent      []*types.MsgProposeAllocation
	rounds    chan struct{}
	sentCh    chan *types.MsgProposeAllocation
	leaseErr  error
}

func (f *fakeChain) Address() string { return me }
func (f *fakeChain) LatestHeight(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.height, nil
}
func (f *fakeChain) PendingLeases(context.Context) ([]leasetypes.Lease, error) {
	f.mu.Lock()
	out := slices.Clone(f.leases)
	f.mu.Unlock()
	if f.rounds != nil {
		f.rounds <- struct{}{}
	}
	return out, nil
}
func (f *fakeChain) Lease(_ context.Context, id uint64) (leasetypes.Lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.leaseErr != nil {
		return leasetypes.Lease{}, f.leaseErr
	}
	for _, l := range f.leases {
		if l.Id == id {
			return l, nil
		}
	}
	// Not pending any more: placed.
	return leasetypes.Lease{Id: id, State: leasetypes.LEASE_STATE_ACTIVE}, nil
}
func (f *fakeChain) AllocationParams(context.Context) (types.Params, error) { return f.params, nil }
func (f *fakeChain) ActiveNodes(context.Context) ([]types.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.nodes), nil
}
func (f *fakeChain) RegionLinks(context.Context) ([]types.RegionLink, error) {
	return types.MeasuredRegionLinks, nil
}
func (f *fakeChain) LinkMatrix(context.Context) ([]audittypes.LinkAggregate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.matrix), nil
}
func (f *fakeChain) AuditParams(context.Context) (audittypes.Params, error) {
	return audittypes.DefaultParams(), nil
}
func (f *fakeChain) CurrentEpoch(context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return max(f.epoch, 1), nil
}
func (f *fakeChain) Proposals(_ context.Context, id uint64) ([]types.Proposal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.kept[id]), nil
}
func (f *fakeChain) LeaseDecisions(_ context.Context, id uint64) ([]audittypes.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.decisions[id], nil
}
func (f *fakeChain) ProposeAllocation(_ context.Context, msg *types.MsgProposeAllocation) (TxResult, error) {
	f.mu.Lock()
	f.sent = append(f.sent, msg)
	var res TxResult
	var err error
	if f.propose != nil {
		res, err = f.propose(msg)
	} else {
		f.kept[msg.LeaseId] = append(f.kept[msg.LeaseId], types.Proposal{Id: 1, LeaseId: msg.LeaseId, Proposer: msg.Proposer})
		res = TxResult{Hash: "AB", Height: f.height}
	}
	f.mu.Unlock()
	if f.sentCh != nil {
		f.sentCh <- msg
	}
	return res, err
}

func node(id string, gpus uint32, price int64) types.Node {
	return types.Node{Id: id, Region: "aws:us-east-1", Gpus: []types.GpuGroup{{Model: "H100", Count: gpus, MemoryMib: 81920}},
		BandwidthMbps: 25000, PricePerGpuHour: sdk.NewInt64Coin(types.DefaultDenom, price),
		Status: types.NODE_STATUS_ACTIVE, ReputationBps: types.NeutralReputationBps}
}

func lease(id uint64, created int64) leasetypes.Lease {
	return leasetypes.Lease{Id: id, State: leasetypes.LEASE_STATE_PENDING, CreatedHeight: created, BlocksPerHour: 3600,
		Spec: leasetypes.LeaseSpec{TotalGpus: 4, GpuModel: "H100", MinGpuMemoryMib: 81920, DurationBlocks: 600,
			MaxPricePerGpuHour: sdk.NewInt64Coin(types.DefaultDenom, 3_000_000)}}
}

// newFake is a fleet where the fallback's pool (16 GPUs at the cheapest price) misses a slightly dearer
// node that fits a 4-GPU lease exactly: it strands no GPUs, so it costs less on the chain's own score.
func newFake(t *testing.T, withExactFit bool) *fakeChain {
	nodes := []types.Node{node("gpu-a1", 8, 2_500_000), node("gpu-a2", 8, 2_500_000)}
	if withExactFit {
		nodes = append(nodes, node("gpu-b", 4, 2_550_000))
	}
	return &fakeChain{t: t, height: 11, leases: []leasetypes.Lease{lease(1, 10)}, nodes: nodes, params: types.DefaultParams(),
		kept: map[uint64][]types.Proposal{}, decisions: map[uint64][]audittypes.Decision{}}
}

func decided(winner types.Candidate, height int64) audittypes.Decision {
	return audittypes.Decision{LeaseId: 1, Height: height, Winner: 1,
		Candidates: []types.Candidate{{Source: types.CANDIDATE_SOURCE_FALLBACK}, winner}}
}

func TestProposesCheaperThanFallbackAndCountsWon(t *testing.T) {
	ctx := context.Background()
	c := newFake(t, true)
	p, err := New(c, Config{})
	require.NoError(t, err)
	require.NoError(t, p.Round(ctx))
	require.Len(t, c.sent, 1)
	msg := c.sent[0]
	require.Equal(t, me, msg.Proposer)
	require.Equal(t, []leasetypes.Placement{{NodeId: "gpu-b", Gpus: 4}}, msg.Placement)

	// Next block, still inside the window: at most one proposal per lease.
	c.height++
	require.NoError(t, p.Round(ctx))
	require.Len(t, c.sent, 1)
	require.Equal(t, Counts{Sent: 1}, p.Counts())

	// The window closes and the chain places the lease with our proposal.
	c.height = 10 + int64(c.params.ProposalWindowBlocks) + 1
	c.leases = nil
	c.decisions[1] = []audittypes.Decision{decided(types.Candidate{Source: types.CANDIDATE_SOURCE_PROPOSAL, ProposalId: 1, Proposer: me}, c.height)}
	require.NoError(t, p.Round(ctx))
	require.Equal(t, Counts{Sent: 1, Won: 1}, p.Counts())
	require.NoError(t, p.Round(ctx))
	require.Equal(t, Counts{Sent: 1, Won: 1}, p.Counts(), "an outcome is counted once")

	// A window after the window closed, the period is forgotten: memory stays bounded.
	require.Len(t, p.handled, 1)
	closes := 10 + int64(c.params.ProposalWindowBlocks)
	require.NoError(t, p.HandleBlock(ctx, closes+int64(c.params.ProposalWindowBlocks)))
	require.Len(t, p.handled, 1)
	require.NoError(t, p.HandleBlock(ctx, closes+int64(c.params.ProposalWindowBlocks)+1))
	require.Empty(t, p.handled)
}

func TestRestartDoesNotProposeTwice(t *testing.T) {
	ctx := context.Background()
	c := newFake(t, true)
	p, err := New(c, Config{})
	require.NoError(t, err)
	require.NoError(t, p.Round(ctx))
	require.Len(t, c.sent, 1)

	// A new process (no memory): the chain keeps our proposal, so nothing is sent; the outcome still counts.
	p2, err := New(c, Config{})
	require.NoError(t, err)
	require.NoError(t, p2.Round(ctx))
	require.Len(t, c.sent, 1)
	c.height, c.leases = 20, nil
	c.decisions[1] = []audittypes.Decision{decided(types.Candidate{Source: types.CANDIDATE_SOURCE_PROPOSAL, ProposalId: 7, Proposer: "nro1other"}, 16)}
	require.NoError(t, p2.Round(ctx))
	require.Equal(t, Counts{Lost: 1}, p2.Counts(), "another proposal won")
}

func TestSkipsWhenNothingBeatsFallback(t *testing.T) {
	c := newFake(t, false)
	p, err := New(c, Config{})
	require.NoError(t, err)
	require.NoError(t, p.Round(context.Background()))
	require.Empty(t, c.sent)
	require.Equal(t, Counts{Skipped: 1}, p.Counts())
	require.NoError(t, p.Round(context.Background()))
	require.Equal(t, Counts{Skipped: 1}, p.Counts(), "a lease is decided on once")
}

func TestOutsideWindowAndRefusals(t *testing.T) {
	ctx := context.Background()
	c := newFake(t, true)
	c.height = 100 // the window of lease 1 (created at 10) is over: the fallback places it
	p, err := New(c, Config{})
	require.NoError(t, err)
	require.NoError(t, p.Round(ctx))
	require.Empty(t, c.sent)
	require.Equal(t, Counts{}, p.Counts())

	// A refusal is counted and not retried; a transport error is retried at the next poll.
	c.height = 11
	c.propose = func(*types.MsgProposeAllocation) (TxResult, error) {
		return TxResult{}, errors.New("connection refused")
	}
	require.Error(t, p.Round(ctx))
	c.propose = func(*types.MsgProposeAllocation) (TxResult, error) {
		return TxResult{}, &chainclient.ChainError{Codespace: types.ErrProposalWindow.Codespace(), Code: types.ErrProposalWindow.ABCICode()}
	}
	err = p.Round(ctx)
	require.ErrorIs(t, err, types.ErrProposalWindow)
	require.NoError(t, p.Round(ctx))
	require.Len(t, c.sent, 2)
	require.Equal(t, Counts{Errors: 2}, p.Counts())
}

func opt(total int64) Option {
	return Option{Valid: true, Candidate: types.Candidate{Score: types.ScoreBreakdown{Total: sdkmath.NewInt(total)}}}
}

func TestChoose(t *testing.T) {
	invalid := Option{}
	for _, tc := range []struct {
		name             string
		opts             []Option
		fallback, choice int
		// want is the choice without substitution; substituted with it.
		want, substituted int
	}{
		{"policy choice cheaper", []Option{opt(100), opt(90), opt(80)}, 0, 1, 1, 1},
		{"policy choice ties the fallback: a proposal wins ties", []Option{opt(100), opt(100), opt(80)}, 0, 1, 1, 1},
		{"policy choice dearer: nothing, or the cheapest other", []Option{opt(100), opt(120), opt(80), opt(90)}, 0, 1, -1, 2},
		{"policy choice dearer, nothing cheaper: skip", []Option{opt(100), opt(120), opt(100)}, 0, 1, -1, -1},
		{"policy chose the fallback, something cheaper", []Option{opt(100), opt(99)}, 0, 0, -1, 1},
		{"policy chose the fallback, nothing cheaper: skip", []Option{opt(100), opt(100)}, 0, 0, -1, -1},
		{"policy choice invalid on the chain", []Option{opt(100), invalid, opt(90)}, 0, 1, -1, 2},
		{"no fallback: the policy's choice", []Option{opt(100), opt(90)}, -1, 0, 0, 0},
		{"no fallback, invalid choice: the cheapest valid", []Option{invalid, opt(90), opt(80)}, -1, 0, 2, 2},
		{"nothing valid", []Option{invalid}, -1, 0, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, sub := range []bool{false, true} {
				want := tc.want
				if sub {
					want = tc.substituted
				}
				got, reason := Choose(tc.opts, tc.fallback, tc.choice, sub)
				require.Equal(t, want, got, "substitute %v: %s", sub, reason)
				if got < 0 {
					require.NotEmpty(t, reason)
				}
			}
		})
	}
}

func TestWon(t *testing.T) {
	ours := types.Candidate{Source: types.CANDIDATE_SOURCE_PROPOSAL, Proposer: me}
	old := decided(ours, 5)
	won, found := Won([]audittypes.Decision{old}, 10, me)
	require.False(t, found, "a decision before the pending period is an earlier placement")
	require.False(t, won)
	won, found = Won([]audittypes.Decision{old, decided(types.Candidate{Source: types.CANDIDATE_SOURCE_FALLBACK}, 16)}, 10, me)
	require.True(t, found)
	require.False(t, won)
	won, _ = Won([]audittypes.Decision{decided(ours, 16)}, 10, me)
	require.True(t, won)
}

// TestStaggerWaitsThenProposes: with StaggerBlocks the proposer sends no earlier than its offset into the
// window (a hash of its address and the lease, at most half the window), and sends at that block.
func TestStaggerWaitsThenProposes(t *testing.T) {
	ctx := context.Background()
	c := newFake(t, true)
	c.params.ProposalWindowBlocks = 20
	p, err := New(c, Config{StaggerBlocks: 6})
	require.NoError(t, err)
	// A lease whose offset for this proposer is at least 2 blocks.
	var l leasetypes.Lease
	off := int64(-1)
	for id := uint64(1); id < 100 && off < 2; id++ {
		l = lease(id, 10)
		off = p.offset(l, c.params)
	}
	require.GreaterOrEqual(t, off, int64(2))
	require.LessOrEqual(t, off, int64(6))
	for id := uint64(1); id < 200; id++ {
		o := p.offset(lease(id, 10), types.Params{ProposalWindowBlocks: 4})
		require.LessOrEqual(t, o, int64(2), "at most half the window")
	}
	c.leases, c.height = []leasetypes.Lease{l}, 10
	for h := int64(10); h < 10+off; h++ {
		c.height = h
		require.NoError(t, p.Round(ctx))
		require.Empty(t, c.sent, "height %d is before the offset %d", h, off)
	}
	c.height = 10 + off
	require.NoError(t, p.Round(ctx))
	require.Len(t, c.sent, 1)
	require.Equal(t, Counts{Sent: 1}, p.Counts())

	// Without a stagger it sends at once.
	c2 := newFake(t, true)
	p2, err := New(c2, Config{})
	require.NoError(t, err)
	require.Zero(t, p2.offset(lease(1, 10), c2.params))
	require.NoError(t, p2.Round(ctx))
	require.Len(t, c2.sent, 1)
}

// TestSkipsWhenKeptProposalIsAsCheap: another proposer's kept proposal that costs no more than ours wins any
// tie (lower proposal id), so nothing is sent and the lease counts as skipped; a dearer one does not stop us.
func TestSkipsWhenKeptProposalIsAsCheap(t *testing.T) {
	ctx := context.Background()
	c := newFake(t, true)
	c.kept[1] = []types.Proposal{{Id: 4, LeaseId: 1, Proposer: "nro1other", Total: sdkmath.NewInt(1)}}
	p, err := New(c, Config{})
	require.NoError(t, err)
	require.NoError(t, p.Round(ctx))
	require.Empty(t, c.sent)
	require.Equal(t, Counts{Skipped: 1}, p.Counts())

	c = newFake(t, true)
	c.kept[1] = []types.Proposal{{Id: 4, LeaseId: 1, Proposer: "nro1other", Total: sdkmath.NewInt(1_000_000_000_000_000)}}
	p, err = New(c, Config{})
	require.NoError(t, err)
	require.NoError(t, p.Round(ctx))
	require.Len(t, c.sent, 1)
	require.Equal(t, Counts{Sent: 1}, p.Counts())
}

// TestDuplicateRefusalIsSkipped: when the chain refuses the proposal as a copy of a kept one (another agent
// sent the same placement first), the lease is counted as skipped, not as an error, and not retried.
func TestDuplicateRefusalIsSkipped(t *testing.T) {
	ctx := context.Background()
	c := newFake(t, true)
	c.propose = func(*types.MsgProposeAllocation) (TxResult, error) {
		return TxResult{}, &chainclient.ChainError{Codespace: types.ErrDuplicateProposal.Codespace(), Code: types.ErrDuplicateProposal.ABCICode(),
			Log: "proposal 3 by nro1other already places lease 1 on these nodes and GPUs"}
	}
	p, err := New(c, Config{})
	require.NoError(t, err)
	require.NoError(t, p.Round(ctx))
	require.Len(t, c.sent, 1)
	require.Equal(t, Counts{Skipped: 1}, p.Counts())
	require.NoError(t, p.Round(ctx))
	require.Len(t, c.sent, 1, "a lease period is decided on once")
	require.Equal(t, Counts{Skipped: 1}, p.Counts())
}

// TestUnseenProposalIsNotSentAgain: a proposal the mempool took but no block was seen to include may still
// get in, so the proposer does not send another (a second, different proposal of ours would take a slot);
// it counts as sent and the decision record settles it.
func TestUnseenProposalIsNotSentAgain(t *testing.T) {
	ctx := context.Background()
	c := newFake(t, true)
	c.propose = func(msg *types.MsgProposeAllocation) (TxResult, error) {
		return TxResult{}, &chainclient.NotIncludedError{Hash: "CD", Err: errors.New("transaction CD not in a block after 1m0s: context deadline exceeded")}
	}
	p, err := New(c, Config{})
	require.NoError(t, err)
	require.NoError(t, p.Round(ctx))
	require.Len(t, c.sent, 1)
	require.Equal(t, Counts{Sent: 1}, p.Counts())
	recs := p.Records()
	require.Len(t, recs, 1)
	require.Equal(t, "CD", recs[0].TxHash)
	require.Zero(t, recs[0].TxHeight)

	// Next block, the fleet changed (another placement would now be picked): still nothing is sent.
	c.height++
	c.nodes = append(c.nodes, node("gpu-c", 4, 2_540_000))
	require.NoError(t, p.Round(ctx))
	require.Len(t, c.sent, 1)

	// It got in after all and won.
	c.height = 10 + int64(c.params.ProposalWindowBlocks) + 1
	c.leases = nil
	c.decisions[1] = []audittypes.Decision{decided(types.Candidate{Source: types.CANDIDATE_SOURCE_PROPOSAL, ProposalId: 1, Proposer: me}, c.height)}
	require.NoError(t, p.Round(ctx))
	require.Equal(t, Counts{Sent: 1, Won: 1}, p.Counts())
}
