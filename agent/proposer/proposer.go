// Package proposer is nro-agent's allocation proposer: it watches the chain's PENDING leases, places each one
// with the learned policy over the registered nodes and the chain's links (x/audit's measured link matrix
// where it has fresh measurements, the genesis region link table otherwise: what the chain scores with),
// and sends MsgProposeAllocation inside the lease's proposal window when the placement would win the
// chain's allocation (its chain cost at most the fallback's: proposals win ties). After the window it reads
// the decision record and counts the proposal won or lost.
//
// Watching is by CometBFT events (Events: new blocks, leases created or made PENDING again), with a
// catch-up query of every PENDING lease at start and after every reconnect, and a slow poll
// (PollInterval) as a safety net. See agent/README.md, "Proposing allocations".
package proposer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sdkmath "cosmossdk.io/math"

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
	// Lease is one lease by id.
	Lease(ctx context.Context, id uint64) (leasetypes.Lease, error)
	// AllocationParams are x/allocation's params.
	AllocationParams(ctx context.Context) (types.Params, error)
	// ActiveNodes are the ACTIVE registered nodes (all pages).
	ActiveNodes(ctx context.Context) ([]types.Node, error)
	// RegionLinks is the chain's region link table (all pages).
	RegionLinks(ctx context.Context) ([]types.RegionLink, error)
	// LinkMatrix is x/audit's measured link matrix (all pages).
	LinkMatrix(ctx context.Context) ([]audittypes.LinkAggregate, error)
	// AuditParams are x/audit's params (link_report_window_epochs says which measurements are fresh).
	AuditParams(ctx context.Context) (audittypes.Params, error)
	// CurrentEpoch is x/audit's current epoch.
	CurrentEpoch(ctx context.Context) (uint64, error)
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
	// Events is the chain's event stream; nil makes the proposer poll every PollInterval alone (a lease whose
	// whole window falls between two polls is then missed).
	Events Events
	// PollInterval is the time between two catch-up reads of every PENDING lease: the safety net behind the
	// events (with Events), or the only watch (without). Zero takes 30 s with Events, 1 s without.
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait before resubscribing after the event stream was lost or could
	// not be opened: it starts at MinBackoff and doubles after every failure, up to MaxBackoff. Zero takes
	// 500 ms and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// StaggerBlocks spreads the proposers of a lease over the first blocks of its window, so that they do
	// not all send in the same block: this proposer sends no earlier than PendingSince + an offset of 0 to
	// StaggerBlocks blocks (at most half the window) drawn from a hash of its address, the lease and its
	// pending period, and by then sees the proposals already kept; it sends nothing when one of them costs
	// no more than its own (the chain breaks ties by proposal id, so it could not win). 0 sends at once.
	StaggerBlocks uint32
	// Substitute proposes, when the policy's pick cannot win (or is the fallback's placement), the cheapest
	// candidate by chain cost that beats the fallback instead (Choose). Off, the chain places the policy's
	// pick or its own fallback.
	Substitute bool
	Logger     *slog.Logger
	// Registerer receives the proposer's metrics; nil registers them nowhere.
	Registerer prometheus.Registerer
}

// Triggers: what made the proposer look at a lease (Record.Trigger, and the proposal's log line).
const (
	// TriggerEvent: the lease's EventLeaseCreated or EventLeaseReallocating, or a new block (a retry).
	TriggerEvent = "event"
	// TriggerCatchUp: the read of every PENDING lease after (re)subscribing to the events.
	TriggerCatchUp = "catch-up"
	// TriggerPoll: the safety-net poll (or, without events, the only watch).
	TriggerPoll = "poll"
	// TriggerKept: the chain already kept a proposal of this key for the lease (sent before a restart).
	TriggerKept = "kept"
)

// Record is one proposal of this proposer and what became of it.
type Record struct {
	LeaseID uint64
	// PendingSince is the height the lease's PENDING period began; the window closes at
	// PendingSince + proposal_window_blocks.
	PendingSince, WindowCloses int64
	Trigger                    string
	// SeenHeight is the latest height the proposer knew when it decided; TxHeight the block the proposal is
	// in (0 for a kept proposal found after a restart, and for one the mempool took but no block was seen to
	// include: chainclient.NotIncludedError).
	SeenHeight, TxHeight int64
	TxHash               string
	// Total is the chain cost the proposer computed for its proposal (for a kept proposal found after a
	// restart, the chain's cost at submission); FallbackTotal the chain's fallback's, nil when it had none.
	Total         sdkmath.Int
	FallbackTotal *sdkmath.Int
	// Outcome is "" until the decision is read, then OutcomeWon or OutcomeLost.
	Outcome string
}

// Counts are the proposer's outcomes since it started.
type Counts struct {
	// Sent: proposals the chain accepted (kept) from this proposer.
	Sent int
	// Won and Lost: sent (or, after a restart, found kept) proposals whose lease the chain then decided, with
	// this proposer's proposal as the winner or not (another proposal, the fallback, or no decision).
	Won, Lost int
	// Skipped: leases where no candidate could beat the chain's fallback or a kept proposal, so nothing was
	// sent, or where the chain refused ours as a copy of a kept proposal (ErrDuplicateProposal).
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

// maxRecords bounds the proposals kept for Records: the newest are kept.
const maxRecords = 1000

// Proposer proposes placements for PENDING leases. Create it with New; Run it, or call Round and the
// Handle methods.
type Proposer struct {
	chain                  Chain
	net                    *policy.Network
	events                 Events
	stagger                uint32
	substitute             bool
	interval               time.Duration
	minBackoff, maxBackoff time.Duration
	log                    *slog.Logger
	outcomes               *prometheus.CounterVec
	resubscribes           prometheus.Counter
	connected              prometheus.Gauge

	mu     sync.Mutex
	counts Counts
	// handled holds the lease periods decided on (sent, found kept, skipped, refused), with the height their
	// window closes: at most one proposal per period. awaiting holds those with a proposal of ours, until the decision is read (the index of
	// its record). pending are the lease periods known PENDING with an open window (the policy's queue
	// length); retry the leases whose last attempt failed in a way worth trying again at the next block.
	handled  map[leaseKey]int64
	awaiting map[leaseKey]int
	pending  map[leaseKey]int64
	retry    map[uint64]bool
	records  []Record
	dropped  int // records dropped off the front of records
	height   int64
	regions  []types.RegionLink
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
		chain: chain, net: net, events: cfg.Events, interval: cfg.PollInterval, stagger: cfg.StaggerBlocks, substitute: cfg.Substitute,
		minBackoff: cfg.MinBackoff, maxBackoff: cfg.MaxBackoff, log: log.With("component", "proposer"),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nro_agent_proposals_total",
			Help: "Allocation proposals by outcome: sent (in a block, or taken by the mempool but not seen included), won, lost, skipped (no candidate could beat the fallback), error.",
		}, []string{"outcome"}),
		resubscribes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nro_agent_proposer_event_resubscriptions_total",
			Help: "Times the proposer's event stream was lost or could not be opened, and was opened again (each followed by a catch-up read).",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nro_agent_proposer_events_connected",
			Help: "1 while the proposer is subscribed to the chain's events, else 0 (it polls meanwhile).",
		}),
		handled: map[leaseKey]int64{}, awaiting: map[leaseKey]int{}, pending: map[leaseKey]int64{}, retry: map[uint64]bool{},
	}
	if p.interval <= 0 {
		p.interval = time.Second
		if p.events != nil {
			p.interval = 30 * time.Second
		}
	}
	if p.minBackoff <= 0 {
		p.minBackoff = 500 * time.Millisecond
	}
	if p.maxBackoff <= 0 {
		p.maxBackoff = 30 * time.Second
	}
	if p.maxBackoff < p.minBackoff {
		return nil, fmt.Errorf("proposer: max backoff %s is below min backoff %s", p.maxBackoff, p.minBackoff)
	}
	for _, o := range []string{OutcomeSent, OutcomeWon, OutcomeLost, OutcomeSkipped, OutcomeError} {
		p.outcomes.WithLabelValues(o)
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{p.outcomes, p.resubscribes, p.connected} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, err
			}
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

// Records returns the proposals sent (or found kept after a restart) so far, oldest first: at most the
// newest 1000.
func (p *Proposer) Records() []Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.records)
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

// Run watches until ctx is done, and returns nil then. With Events it subscribes, reads every PENDING lease
// once subscribed (the catch-up: nothing created while it was not listening is missed), then handles each
// event as it comes; when the stream is lost it subscribes again after a backoff (MinBackoff, doubling up to
// MaxBackoff, back to MinBackoff once a stream has delivered an event) and catches up again. Every
// PollInterval, connected or not, it reads every PENDING lease as a safety net. Without Events it only
// polls. A failed round is logged, counted and tried again later.
func (p *Proposer) Run(ctx context.Context) error {
	p.log.Info("proposer starting", "proposer", p.chain.Address(), "events", p.events != nil, "poll_interval", p.interval.String())
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	if p.events == nil {
		for {
			p.round(ctx, TriggerPoll)
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	}
	backoff := p.minBackoff
	for {
		sub, err := p.events.Subscribe(ctx)
		if err == nil {
			p.connected.Set(1)
			delivered := p.watch(ctx, sub, tick.C)
			p.connected.Set(0)
			_ = sub.Close()
			if ctx.Err() != nil {
				return nil
			}
			if delivered {
				backoff = p.minBackoff
			}
			err = sub.Err()
			if err == nil {
				err = errors.New("the event stream ended")
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		p.resubscribes.Inc()
		p.log.Warn("proposer events lost; subscribing again after a backoff (the safety-net poll goes on meanwhile)",
			"error", err, "backoff", backoff.String())
		wait := time.NewTimer(backoff)
	waiting:
		for {
			select {
			case <-ctx.Done():
				wait.Stop()
				return nil
			case <-tick.C:
				p.round(ctx, TriggerPoll)
			case <-wait.C:
				break waiting
			}
		}
		backoff = min(2*backoff, p.maxBackoff)
	}
}

// watch catches up, then handles the subscription's events and the safety-net polls until the stream ends
// or ctx is done; it says whether any event came.
func (p *Proposer) watch(ctx context.Context, sub Subscription, poll <-chan time.Time) bool {
	p.log.Info("proposer subscribed to the chain's events; catching up on the PENDING leases")
	p.round(ctx, TriggerCatchUp)
	delivered := false
	for {
		select {
		case <-ctx.Done():
			return delivered
		case <-poll:
			p.round(ctx, TriggerPoll)
		case ev, ok := <-sub.Events():
			if !ok {
				return delivered
			}
			delivered = true
			var err error
			switch ev.Kind {
			case EventNewBlock:
				err = p.HandleBlock(ctx, ev.Height)
			case EventLeasePending:
				err = p.HandleLease(ctx, ev.LeaseID, ev.Height)
			}
			if err != nil && ctx.Err() == nil {
				p.count(OutcomeError)
				p.log.Warn("proposer event handling failed; trying again at the next block", "event", ev.String(), "error", err)
			}
		}
	}
}

// round runs Round and logs and counts its failure.
func (p *Proposer) round(ctx context.Context, trigger string) {
	if err := p.roundWith(ctx, trigger); err != nil && ctx.Err() == nil {
		p.count(OutcomeError)
		p.log.Warn("proposer round failed; trying again later", "trigger", trigger, "error", err)
	}
}

// Round reads every PENDING lease once (the catch-up and the poll): it settles the outcomes of proposals
// whose window has closed, and proposes for every lease inside its window that it has not decided on yet.
func (p *Proposer) Round(ctx context.Context) error { return p.roundWith(ctx, TriggerPoll) }

func (p *Proposer) roundWith(ctx context.Context, trigger string) error {
	height, err := p.chain.LatestHeight(ctx)
	if err != nil {
		return fmt.Errorf("latest height: %w", err)
	}
	p.seeHeight(height)
	leases, err := p.chain.PendingLeases(ctx)
	if err != nil {
		return fmt.Errorf("pending leases: %w", err)
	}
	listed := make(map[leaseKey]bool, len(leases))
	for _, l := range leases {
		listed[leaseKey{l.Id, l.PendingSince()}] = true
	}
	var errs []error
	if err := p.settle(ctx, height, func(k leaseKey) (bool, error) { return listed[k], nil }); err != nil {
		errs = append(errs, err)
	}
	p.mu.Lock()
	clear(p.pending)
	clear(p.retry)
	p.mu.Unlock()
	p.regions = nil // the region link table is governance's: read again once a round
	if err := p.consider(ctx, height, leases, trigger); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// HandleLease looks at a lease an event said was created or made PENDING again at height: it proposes for
// it if it is PENDING, inside its window and not yet decided on.
func (p *Proposer) HandleLease(ctx context.Context, id uint64, height int64) error {
	l, err := p.chain.Lease(ctx, id)
	if err != nil {
		p.markRetry(id)
		return fmt.Errorf("lease %d: %w", id, err)
	}
	if l.State != leasetypes.LEASE_STATE_PENDING {
		return nil
	}
	return p.consider(ctx, max(height, p.latest()), []leasetypes.Lease{l}, TriggerEvent)
}

// HandleBlock takes a new block: it settles the proposals whose window closed before it (reading each
// lease, then its decisions) and tries again the leases whose last attempt failed.
func (p *Proposer) HandleBlock(ctx context.Context, height int64) error {
	p.seeHeight(height)
	var errs []error
	err := p.settle(ctx, height, func(k leaseKey) (bool, error) {
		l, err := p.chain.Lease(ctx, k.id)
		if err != nil {
			return false, err
		}
		return l.State == leasetypes.LEASE_STATE_PENDING && l.PendingSince() == k.since, nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	p.mu.Lock()
	for k, closes := range p.pending {
		if height > closes {
			delete(p.pending, k)
		}
	}
	// A period whose window closed cannot be proposed for again; it is forgotten a window later (a margin
	// for a governance change that lengthens the window), so that a long-running agent's memory is bounded
	// by the leases of about two windows.
	for k, closes := range p.handled {
		if height > closes+(closes-k.since) {
			delete(p.handled, k)
		}
	}
	retry := slices.Sorted(maps.Keys(p.retry))
	clear(p.retry)
	p.mu.Unlock()
	for _, id := range retry {
		if err := p.HandleLease(ctx, id, height); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *Proposer) seeHeight(h int64) {
	p.mu.Lock()
	p.height = max(p.height, h)
	p.mu.Unlock()
}

func (p *Proposer) latest() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.height
}

func (p *Proposer) markRetry(id uint64) {
	p.mu.Lock()
	p.retry[id] = true
	p.mu.Unlock()
}

// consider proposes for each of the PENDING leases that is inside its window at height and not decided on
// in its current pending period.
func (p *Proposer) consider(ctx context.Context, height int64, leases []leasetypes.Lease, trigger string) error {
	var open []leasetypes.Lease
	p.mu.Lock()
	for _, l := range leases {
		if _, done := p.handled[leaseKey{l.Id, l.PendingSince()}]; !done {
			open = append(open, l)
		}
	}
	p.mu.Unlock()
	if len(open) == 0 {
		return nil
	}
	params, err := p.chain.AllocationParams(ctx)
	if err != nil {
		for _, l := range open {
			p.markRetry(l.Id)
		}
		return fmt.Errorf("allocation params: %w", err)
	}
	var inWindow []leasetypes.Lease
	p.mu.Lock()
	for _, l := range leases {
		closes := l.PendingSince() + int64(params.ProposalWindowBlocks)
		if height <= closes {
			p.pending[leaseKey{l.Id, l.PendingSince()}] = closes
		}
	}
	queued := len(p.pending)
	p.mu.Unlock()
	for _, l := range open {
		if height > l.PendingSince()+int64(params.ProposalWindowBlocks) {
			continue
		}
		// Not before this proposer's offset into the window (Config.StaggerBlocks): the next block looks
		// again, and nothing is read for the lease until then.
		if start := l.PendingSince() + p.offset(l, params); height < start {
			p.markRetry(l.Id)
			p.log.Debug("proposal staggered", "lease_id", l.Id, "not_before", start, "height", height)
			continue
		}
		inWindow = append(inWindow, l)
	}
	if len(inWindow) == 0 {
		return nil
	}
	fleet, links, err := p.fleet(ctx)
	if err != nil {
		for _, l := range inWindow {
			p.markRetry(l.Id)
		}
		return err
	}
	slices.SortFunc(inWindow, func(a, b leasetypes.Lease) int { return compareU64(a.Id, b.Id) })
	var errs []error
	for _, l := range inWindow {
		if err := p.propose(ctx, fleet, links, params, l, height, queued, trigger); err != nil {
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

// fleet reads the ACTIVE nodes and the chain's links: the region link table (once per Round) and x/audit's measured
// link matrix, its freshness window and current epoch (every time: measurements come every epoch).
func (p *Proposer) fleet(ctx context.Context) (*sim.Fleet, Links, error) {
	if p.regions == nil {
		regions, err := p.chain.RegionLinks(ctx)
		if err != nil {
			return nil, Links{}, fmt.Errorf("region links: %w", err)
		}
		p.regions = regions
	}
	matrix, err := p.chain.LinkMatrix(ctx)
	if err != nil {
		return nil, Links{}, fmt.Errorf("link matrix: %w", err)
	}
	ap, err := p.chain.AuditParams(ctx)
	if err != nil {
		return nil, Links{}, fmt.Errorf("audit params: %w", err)
	}
	epoch, err := p.chain.CurrentEpoch(ctx)
	if err != nil {
		return nil, Links{}, fmt.Errorf("audit epoch: %w", err)
	}
	nodes, err := p.chain.ActiveNodes(ctx)
	if err != nil {
		return nil, Links{}, fmt.Errorf("nodes: %w", err)
	}
	fleet, err := sim.NewFleetFromNodes(nodes, p.regions)
	if err != nil {
		return nil, Links{}, err
	}
	return fleet, NewLinks(p.regions, matrix, ap.LinkReportWindowEpochs, epoch), nil
}

// propose decides on one lease inside its window and sends the proposal, at most once per PENDING period.
func (p *Proposer) propose(ctx context.Context, fleet *sim.Fleet, links Links, params types.Params, l leasetypes.Lease,
	height int64, queued int, trigger string) error {
	k := leaseKey{l.Id, l.PendingSince()}
	closes := l.PendingSince() + int64(params.ProposalWindowBlocks)
	// After a restart (or an inclusion this process did not see) the chain may already keep ours.
	kept, err := p.chain.Proposals(ctx, l.Id)
	if err != nil {
		p.markRetry(l.Id)
		return fmt.Errorf("lease %d: proposals: %w", l.Id, err)
	}
	if i := slices.IndexFunc(kept, func(pr types.Proposal) bool { return pr.Proposer == p.chain.Address() }); i >= 0 {
		p.mark(k, closes, &Record{LeaseID: l.Id, PendingSince: k.since, WindowCloses: closes, Trigger: TriggerKept,
			SeenHeight: height, Total: kept[i].Total})
		p.log.Info("a proposal of ours is already kept for the lease; not sending another", "lease_id", l.Id)
		return nil
	}
	plan := Plan(fleet, links, params, l, p.net, queued, p.substitute)
	if !plan.Propose {
		p.mark(k, closes, nil)
		p.count(OutcomeSkipped)
		p.log.Info("no proposal: the policy's pick would not beat the chain's fallback", "lease_id", l.Id, "reason", plan.Reason,
			"fallback_total", totalString(plan.Fallback), "candidates", plan.Candidates, "trigger", trigger)
		return nil
	}
	c := plan.Candidate
	if i := slices.IndexFunc(kept, func(pr types.Proposal) bool { return !pr.Total.IsNil() && pr.Total.LTE(c.Score.Total) }); i >= 0 {
		p.mark(k, closes, nil)
		p.count(OutcomeSkipped)
		p.log.Info("no proposal: a kept proposal costs no more than ours", "lease_id", l.Id, "kept_id", kept[i].Id,
			"kept_by", kept[i].Proposer, "kept_total", kept[i].Total.String(), "total", c.Score.Total.String(), "trigger", trigger)
		return nil
	}
	msg := &types.MsgProposeAllocation{Proposer: p.chain.Address(), LeaseId: l.Id, RingOrder: c.RingOrder}
	for _, n := range c.Nodes {
		msg.Placement = append(msg.Placement, leasetypes.Placement{NodeId: n.NodeId, Gpus: n.Gpus})
	}
	sentRecord := func(hash string, txHeight int64) *Record {
		rec := &Record{LeaseID: l.Id, PendingSince: k.since, WindowCloses: closes, Trigger: trigger, SeenHeight: height,
			TxHeight: txHeight, TxHash: hash, Total: c.Score.Total}
		if plan.Fallback != nil {
			t := plan.Fallback.Score.Total
			rec.FallbackTotal = &t
		}
		return rec
	}
	res, err := p.chain.ProposeAllocation(ctx, msg)
	if errors.Is(err, types.ErrDuplicateProposal) {
		// Another agent computed the same placement and got it in first (in this block, or one this
		// round's read of the kept proposals did not see yet): the lease gets it either way.
		p.mark(k, closes, nil)
		p.count(OutcomeSkipped)
		p.log.Info("no proposal: another proposer's kept proposal has the same placement", "lease_id", l.Id,
			"total", c.Score.Total.String(), "trigger", trigger, "refusal", err.Error())
		return nil
	}
	var unseen *chainclient.NotIncludedError
	if errors.As(err, &unseen) {
		// In the mempool but not seen in a block: it may still get in, so sending again could put a second,
		// different proposal of ours on the lease. It counts as sent; the decision record settles it.
		p.mark(k, closes, sentRecord(unseen.Hash, 0))
		p.count(OutcomeSent)
		p.log.Warn("proposal sent but not seen in a block; not sending another for this lease period", "lease_id", l.Id,
			"tx_hash", unseen.Hash, "total", c.Score.Total.String(), "error", unseen.Err.Error())
		return nil
	}
	if err != nil {
		var refused *chainclient.ChainError
		if errors.As(err, &refused) && !errors.Is(err, sdkerrors.ErrWrongSequence) && !errors.Is(err, sdkerrors.ErrMempoolIsFull) {
			// A refusal (window closed, lease placed, a node taken meanwhile, kept proposals all cheaper…) is
			// not retried for this period.
			p.mark(k, closes, nil)
		} else {
			// Otherwise the next block (or poll) looks again: the kept proposals say whether this one got in.
			p.markRetry(l.Id)
		}
		p.count(OutcomeError)
		return fmt.Errorf("lease %d: propose: %w", l.Id, err)
	}
	p.mark(k, closes, sentRecord(res.Hash, res.Height))
	p.count(OutcomeSent)
	p.log.Info("proposal sent", "lease_id", l.Id, "trigger", trigger, "nodes", len(c.Nodes), "total", c.Score.Total.String(),
		"fallback_total", totalString(plan.Fallback), "measured_links", links.Measured(), "policy_choice", plan.PolicyChoice,
		"chosen", plan.Chosen, "seen_height", height, "pending_since", k.since, "window_closes", closes,
		"tx_hash", res.Hash, "height", res.Height)
	return nil
}

// offset is how many blocks after the start of lease l's pending period this proposer sends (Config.StaggerBlocks).
func (p *Proposer) offset(l leasetypes.Lease, params types.Params) int64 {
	if p.stagger == 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "%s/%d/%d", p.chain.Address(), l.Id, l.PendingSince())
	off := h.Sum64() % (uint64(p.stagger) + 1)
	return int64(min(off, params.ProposalWindowBlocks/2))
}

func totalString(c *types.Candidate) string {
	if c == nil {
		return "none"
	}
	return c.Score.Total.String()
}

// mark records that a lease period is decided on, and the proposal of ours that awaits its outcome.
func (p *Proposer) mark(k leaseKey, closes int64, r *Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handled[k] = closes
	delete(p.retry, k.id)
	if r == nil {
		return
	}
	if len(p.records) == maxRecords {
		p.records = slices.Delete(p.records, 0, 1)
		p.dropped++
	}
	p.records = append(p.records, *r)
	p.awaiting[k] = p.dropped + len(p.records) - 1
}

// settle reads the decision of every lease period with a proposal of ours whose window has closed before
// height and which is no longer PENDING in that period (stillPending; a deferred lease stays PENDING and is
// looked at again).
func (p *Proposer) settle(ctx context.Context, height int64, stillPending func(leaseKey) (bool, error)) error {
	p.mu.Lock()
	var due []leaseKey
	for k, i := range p.awaiting {
		if r := p.recordAt(i); r == nil || height > r.WindowCloses {
			due = append(due, k)
		}
	}
	p.mu.Unlock()
	slices.SortFunc(due, func(a, b leaseKey) int { return compareU64(a.id, b.id) })
	var errs []error
	for _, k := range due {
		pending, err := stillPending(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("lease %d: %w", k.id, err))
			continue
		}
		if pending {
			continue
		}
		decisions, err := p.chain.LeaseDecisions(ctx, k.id)
		if err != nil {
			errs = append(errs, fmt.Errorf("lease %d: decisions: %w", k.id, err))
			continue
		}
		won, found := Won(decisions, k.since, p.chain.Address())
		outcome := OutcomeLost
		if won {
			outcome = OutcomeWon
		}
		p.mu.Lock()
		if r := p.recordAt(p.awaiting[k]); r != nil {
			r.Outcome = outcome
		}
		delete(p.awaiting, k)
		p.mu.Unlock()
		p.count(outcome)
		p.log.Info("allocation decided", "lease_id", k.id, "won", won, "decision_found", found)
	}
	return errors.Join(errs...)
}

// recordAt is the record with absolute index i, nil when it was dropped; p.mu is held.
func (p *Proposer) recordAt(i int) *Record {
	if i -= p.dropped; i < 0 || i >= len(p.records) {
		return nil
	}
	return &p.records[i]
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
