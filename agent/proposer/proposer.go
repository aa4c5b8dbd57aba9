// Package proposer is nro-agent's allocation proposer: it watches the chain's PENDING leases, places each one
// with the learned policy over the registered nodes and the chain's region link table, and sends
// MsgProposeAllocation inside the lease's proposal window when the placement would win the chain's
// allocation (its chain cost at most the fallback's: proposals win ties). After the window it reads the
// decision record and counts the proposal won or lost.
//
// Watching is by polling: every PollInterval the proposer reads the latest height and the PENDING leases
// (paginated). Each poll is also the catch-up after a restart or a lost connection, so nothing depends on
// a live subscription; a lease created and placed between two polls (a window shorter than the interval) is
// missed. See agent/README.md, "Proposing allocations".
package proposer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/consensus-nro/nro/agent/policy"
	"github.com/consensus-nro/nro/agent/sim"
	"github.com/consensus-nro/nro/internal/chainclient"
	"github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// Chain is what the proposer reads from and sends to the chain. agent.CosmosChain implements it over nrod's
// gRPC with the node's agent key (the same client, and so the same sequence guard, as telemetry); tests use
// fakes.
type Chain interface {
	// Address is the account that signs the proposals.
	Address() string
	// LatestHeight is the height of the latest block.
	LatestHeight(ctx context.Context) (int64, error)
	// PendingLeases are every PENDING lease (all pages).
	PendingLeases(ctx context.Context) ([]leasetypes.Lease, error)
	// AllocationParams are x/allocation's params.
	AllocationParams(ctx context.Context) (types.Params, error)
	// ActiveNodes are the ACTIVE registered nodes (all pages).
	ActiveNodes(ctx context.Context) ([]types.Node, error)
	// RegionLinks is the chain's region link table (all pages).
	RegionLinks(ctx context.Context) ([]types.RegionLink, error)
	// Proposals are the proposals the chain keeps for a PENDING lease.
	Proposals(ctx context.Context, leaseID uint64) ([]types.Proposal, error)
	// LeaseDecisions are x/audit's decision records of a lease, oldest first.
	LeaseDecisions(ctx context.Context, leaseID uint64) ([]audittypes.Decision, error)
	// ProposeAllocation signs, broadcasts and waits for msg. A refusal matches its registered error with
	// errors.Is (a *chainclient.ChainError does).
	ProposeAllocation(ctx context.Context, msg *types.MsgProposeAllocation) (TxResult, error)
}

// TxResult is where an accepted transaction landed.
type TxResult struct {
	Hash   string
	Height int64
}

// Config configures a Proposer.
type Config struct {
	// Policy scores the candidate placements; nil takes the committed default (policy.Default).
	Policy *policy.Network
	// PollInterval is the time between two reads of the PENDING leases; keep it below the chain's block time
	// × proposal_window_blocks. Zero takes 1 s.
	PollInterval time.Duration
	Logger       *slog.Logger
	// Registerer receives the proposer's metrics; nil registers them nowhere.
	Registerer prometheus.Registerer
}

// Counts are the proposer's outcomes since it started.
type Counts struct {
	// Sent: proposals the chain accepted (kept) from this proposer.
	Sent int
	// Won and Lost: sent (or, after a restart, found kept) proposals whose lease the chain then decided, with
	// this proposer's proposal as the winner or not (another proposal, the fallback, or no decision).
	Won, Lost int
	// Skipped: leases where no candidate could beat the chain's fallback, so nothing was sent.
	Skipped int
	// Errors: failed rounds and refused proposals.
	Errors int
}

// Outcome labels of nro_agent_proposals_total.
const (
	OutcomeSent    = "sent"
	OutcomeWon     = "won"
	OutcomeLost    = "lost"
	OutcomeSkipped = "skipped"
	OutcomeError   = "error"
)

// leaseKey is one PENDING period of a lease: a lease moved off its placement is PENDING again from a later
// height and may be proposed for again.
type leaseKey struct {
	id    uint64
	since int64
}

// sentProposal is a proposal of this proposer whose outcome is not read yet.
type sentProposal struct {
	closes int64 // the last height of the proposal window
}

// Proposer proposes placements for PENDING leases. Create it with New; Run it, or call Round.
type Proposer struct {
	chain    Chain
	net      *policy.Network
	interval time.Duration
	log      *slog.Logger
	outcomes *prometheus.CounterVec

	mu     sync.Mutex
	counts Counts
	// handled holds the lease periods decided on (sent, found kept, skipped, refused): at most one proposal
	// per period. awaiting holds those with a proposal of ours, until the decision is read.
	handled  map[leaseKey]bool
	awaiting map[leaseKey]sentProposal
	links    []types.RegionLink
}

// New builds a proposer over chain.
func New(chain Chain, cfg Config) (*Proposer, error) {
	net := cfg.Policy
	if net == nil {
		var err error
		if net, err = policy.Default(); err != nil {
			return nil, fmt.Errorf("the committed policy: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Proposer{
		chain: chain, net: net, interval: cfg.PollInterval, log: log.With("component", "proposer"),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nro_agent_proposals_total",
			Help: "Allocation proposals by outcome: sent (kept by the chain), won, lost, skipped (no candidate could beat the fallback), error.",
		}, []string{"outcome"}),
		handled: map[leaseKey]bool{}, awaiting: map[leaseKey]sentProposal{},
	}
	if p.interval <= 0 {
		p.interval = time.Second
	}
	for _, o := range []string{OutcomeSent, OutcomeWon, OutcomeLost, OutcomeSkipped, OutcomeError} {
		p.outcomes.WithLabelValues(o)
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(p.outcomes); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Counts returns the outcomes so far.
func (p *Proposer) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

func (p *Proposer) count(outcome string) {
	p.mu.Lock()
	switch outcome {
	case OutcomeSent:
		p.counts.Sent++
	case OutcomeWon:
		p.counts.Won++
	case OutcomeLost:
		p.counts.Lost++
	case OutcomeSkipped:
		p.counts.Skipped++
	case OutcomeError:
		p.counts.Errors++
	}
	p.mu.Unlock()
	p.outcomes.WithLabelValues(outcome).Inc()
}

// Run polls every PollInterval until ctx is done, and returns nil then. A failed round is logged, counted
// and tried again at the next poll.
func (p *Proposer) Run(ctx context.Context) error {
	p.log.Info("proposer starting", "proposer", p.chain.Address(), "poll_interval", p.interval.String())
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		if err := p.Round(ctx); err != nil && ctx.Err() == nil {
			p.count(OutcomeError)
			p.log.Warn("proposer round failed; trying again at the next poll", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Round reads the PENDING leases once: it settles the outcomes of proposals whose window has closed, and
// proposes for every lease inside its window that it has not decided on yet.
func (p *Proposer) Round(ctx context.Context) error {
	height, err := p.chain.LatestHeight(ctx)
	if err != nil {
		return fmt.Errorf("latest height: %w", err)
	}
	leases, err := p.chain.PendingLeases(ctx)
	if err != nil {
		return fmt.Errorf("pending leases: %w", err)
	}
	pending := make(map[leaseKey]bool, len(leases))
	for _, l := range leases {
		pending[leaseKey{l.Id, l.PendingSince()}] = true
	}
	var errs []error
	if err := p.settle(ctx, height, pending); err != nil {
		errs = append(errs, err)
	}
	var open []leasetypes.Lease
	for _, l := range leases {
		k := leaseKey{l.Id, l.PendingSince()}
		p.mu.Lock()
		done := p.handled[k]
		p.mu.Unlock()
		if !done {
			open = append(open, l)
		}
	}
	if len(open) == 0 {
		return errors.Join(errs...)
	}
	params, err := p.chain.AllocationParams(ctx)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("allocation params: %w", err))...)
	}
	var inWindow []leasetypes.Lease
	for _, l := range open {
		if height <= l.PendingSince()+int64(params.ProposalWindowBlocks) {
			inWindow = append(inWindow, l)
		}
	}
	if len(inWindow) == 0 {
		return errors.Join(errs...)
	}
	fleet, err := p.fleet(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	slices.SortFunc(inWindow, func(a, b leasetypes.Lease) int { return compareU64(a.Id, b.Id) })
	for _, l := range inWindow {
		if err := p.propose(ctx, fleet, params, l, len(leases)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func compareU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fleet reads the ACTIVE nodes and (once) the region link table.
func (p *Proposer) fleet(ctx context.Context) (*sim.Fleet, error) {
	if p.links == nil {
		links, err := p.chain.RegionLinks(ctx)
		if err != nil {
			return nil, fmt.Errorf("region links: %w", err)
		}
		p.links = links
	}
	nodes, err := p.chain.ActiveNodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	return sim.NewFleetFromNodes(nodes, p.links)
}

// propose decides on one lease inside its window and sends the proposal, at most once per PENDING period.
func (p *Proposer) propose(ctx context.Context, fleet *sim.Fleet, params types.Params, l leasetypes.Lease, queued int) error {
	k := leaseKey{l.Id, l.PendingSince()}
	closes := l.PendingSince() + int64(params.ProposalWindowBlocks)
	// After a restart (or an inclusion this process did not see) the chain may already keep ours.
	kept, err := p.chain.Proposals(ctx, l.Id)
	if err != nil {
		return fmt.Errorf("lease %d: proposals: %w", l.Id, err)
	}
	if slices.ContainsFunc(kept, func(pr types.Proposal) bool { return pr.Proposer == p.chain.Address() }) {
		p.mark(k, &sentProposal{closes: closes})
		p.log.Info("a proposal of ours is already kept for the lease; not sending another", "lease_id", l.Id)
		return nil
	}
	plan := Plan(fleet, params, l, p.net, queued)
	if !plan.Propose {
		p.mark(k, nil)
		p.count(OutcomeSkipped)
		p.log.Info("no proposal: nothing beats the chain's fallback", "lease_id", l.Id, "reason", plan.Reason,
			"fallback_total", totalString(plan.Fallback), "candidates", plan.Candidates)
		return nil
	}
	c := plan.Candidate
	msg := &types.MsgProposeAllocation{Proposer: p.chain.Address(), LeaseId: l.Id, RingOrder: c.RingOrder}
	for _, n := range c.Nodes {
		msg.Placement = append(msg.Placement, leasetypes.Placement{NodeId: n.NodeId, Gpus: n.Gpus})
	}
	res, err := p.chain.ProposeAllocation(ctx, msg)
	if err != nil {
		var refused *chainclient.ChainError
		if errors.As(err, &refused) && !errors.Is(err, sdkerrors.ErrWrongSequence) && !errors.Is(err, sdkerrors.ErrMempoolIsFull) {
			// A refusal (window closed, lease placed, a node taken meanwhile, kept proposals all cheaper…) is
			// not retried for this period.
			p.mark(k, nil)
		}
		// Otherwise the next poll looks again: the kept proposals say whether this one got in.
		p.count(OutcomeError)
		return fmt.Errorf("lease %d: propose: %w", l.Id, err)
	}
	p.mark(k, &sentProposal{closes: closes})
	p.count(OutcomeSent)
	p.log.Info("proposal sent", "lease_id", l.Id, "nodes", len(c.Nodes), "total", c.Score.Total.String(),
		"fallback_total", totalString(plan.Fallback), "policy_choice", plan.PolicyChoice, "chosen", plan.Chosen,
		"tx_hash", res.Hash, "height", res.Height)
	return nil
}

func totalString(c *types.Candidate) string {
	if c == nil {
		return "none"
	}
	return c.Score.Total.String()
}

// mark records that a lease period is decided on, and whether a proposal of ours awaits its outcome.
func (p *Proposer) mark(k leaseKey, s *sentProposal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handled[k] = true
	if s != nil {
		p.awaiting[k] = *s
	}
}

// settle reads the decision of every lease period with a proposal of ours whose window has closed and which
// is no longer PENDING in that period (a deferred lease stays PENDING and is looked at again).
func (p *Proposer) settle(ctx context.Context, height int64, pending map[leaseKey]bool) error {
	p.mu.Lock()
	var due []leaseKey
	for k, s := range p.awaiting {
		if height > s.closes && !pending[k] {
			due = append(due, k)
		}
	}
	p.mu.Unlock()
	var errs []error
	for _, k := range due {
		decisions, err := p.chain.LeaseDecisions(ctx, k.id)
		if err != nil {
			errs = append(errs, fmt.Errorf("lease %d: decisions: %w", k.id, err))
			continue
		}
		won, found := Won(decisions, k.since, p.chain.Address())
		p.mu.Lock()
		delete(p.awaiting, k)
		p.mu.Unlock()
		if won {
			p.count(OutcomeWon)
		} else {
			p.count(OutcomeLost)
		}
		p.log.Info("allocation decided", "lease_id", k.id, "won", won, "decision_found", found)
	}
	return errors.Join(errs...)
}

// Won says whether the decision that ended a lease's PENDING period from height since has this proposer's
// proposal as its winner; found is false when no decision was made in that period (the lease expired or
// was closed unplaced: lost).
func Won(decisions []audittypes.Decision, since int64, proposer string) (won, found bool) {
	for _, d := range decisions {
		if d.Height < since {
			continue
		}
		if int(d.Winner) >= len(d.Candidates) {
			return false, true
		}
		w := d.Candidates[d.Winner]
		return w.Source == types.CANDIDATE_SOURCE_PROPOSAL && w.Proposer == proposer, true
	}
	return false, false
}
