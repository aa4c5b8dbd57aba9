// Package agent is the runtime of nro-agent, the daemon every provider runs beside its GPU node.
//
// Each epoch the agent samples the node's GPUs (agent/telemetry: NVML, or a fallback labelled as such) and
// measures the network path to its peers (agent/probe), and publishes the result as a report.Epoch: in its log,
// as Prometheus metrics, and to an OnEpoch hook. With chain.submit it signs the report with the node's agent
// key into MsgSubmitTelemetry and submits it for the chain's current epoch, at most once per chain epoch
// (Submitter). With proposer.enabled it proposes placements for PENDING leases with the learned policy
// (agent/proposer), signed with the same key through the same client. Meanwhile it serves its own probe
// endpoint so that its peers can measure it; see agent/README.md.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/consensus-nro/nro/agent/policy"
	"github.com/consensus-nro/nro/agent/probe"
	"github.com/consensus-nro/nro/agent/proposer"
	"github.com/consensus-nro/nro/agent/report"
	"github.com/consensus-nro/nro/agent/telemetry"
	"github.com/consensus-nro/nro/internal/chainclient"
)

// Options are the agent's collaborators.
type Options struct {
	// Logger receives the agent's structured log; nothing is logged when nil.
	Logger *slog.Logger
	// OnEpoch, when set, receives every completed epoch report, on the agent's loop goroutine: it must return
	// promptly.
	OnEpoch func(report.Epoch)
	// Home is the agent's home: the submitter's state file (StateFileName) and the default keyring live
	// there. Required when chain.submit is set.
	Home string
	// Chain, when set, is used to submit instead of dialing chain.grpc with the keyring (tests).
	Chain TelemetryChain
	// KeyringInput answers the keyring's passphrase prompts (file backend); nil for none.
	KeyringInput io.Reader
	// OnSubmit, when set, receives every submission outcome, on the submitter's goroutine.
	OnSubmit func(Submission)
	// ProposerChain, when set, is what the proposer uses instead of the dialed chain (tests). Without it the
	// proposer uses Chain when that implements proposer.Chain, else the dialed CosmosChain: the telemetry's
	// client, so that one sequence guard orders every transaction of the key.
	ProposerChain proposer.Chain
	// ProposerEvents, when set, is the proposer's event stream instead of chain.rpc's websocket (tests).
	ProposerEvents proposer.Events
}

// Agent samples, probes and serves. Create it with New, then Run it.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	onEpoch func(report.Epoch)
	peers   []Peer

	sampler   *telemetry.Sampler
	client    *probe.Client
	server    *probe.Server
	metricsLn net.Listener
	metrics   *metrics

	submitter *Submitter
	endpoint  *chainclient.Endpoint
	reports   chan report.Epoch // to the submitter: the newest report not yet taken
	onSubmit  func(Submission)
	proposer  *proposer.Proposer

	epochs    int    // epochs started; rotates which peer is probed first
	unmapped  string // the lease peers last logged as having no probe address (logged when it changes)
	mu        sync.Mutex
	last      *report.Epoch
	closeOnce sync.Once
}

// New validates cfg, binds the probe and metrics listeners (so that a busy port fails here, not later) and opens
// the GPU source.
func New(cfg Config, opts Options) (*Agent, error) {
	if err := cfg.Validate(true); err != nil {
		return nil, fmt.Errorf("invalid agent config:\n%w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("node_id", cfg.NodeID)
	client, err := probe.NewClient(cfg.clientConfig())
	if err != nil {
		return nil, err
	}
	server, err := probe.Listen(cfg.Probe.Listen, cfg.serverConfig(), log.With("component", "probe-server"))
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: log, onEpoch: opts.OnEpoch, peers: cfg.peers(), client: client, server: server}
	if cfg.Metrics.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			_ = server.Close()
			return nil, fmt.Errorf("metrics: listen on %s: %w", cfg.Metrics.Listen, err)
		}
		a.metricsLn = ln
	}
	a.metrics = newMetrics(server)
	if cfg.Chain.Submit || cfg.Proposer.Enabled {
		if err := a.openChain(opts); err != nil {
			_ = server.Close()
			if a.metricsLn != nil {
				_ = a.metricsLn.Close()
			}
			return nil, err
		}
	}
	a.sampler = telemetry.Open(cfg.TelemetryConfig(), log.With("component", "telemetry"))
	return a, nil
}

// openChain dials the chain (unless opts gives the chains), then builds the submitter (chain.submit: it loads
// its state) and the proposer (proposer.enabled) over the same client.
func (a *Agent) openChain(opts Options) error {
	if a.cfg.Chain.Submit && opts.Home == "" {
		return errors.New("chain.submit is set but the agent has no home for its state file")
	}
	tchain, pchain := opts.Chain, opts.ProposerChain
	if pchain == nil {
		if pc, ok := tchain.(proposer.Chain); ok {
			pchain = pc
		}
	}
	if (a.cfg.Chain.Submit && tchain == nil) || (a.cfg.Proposer.Enabled && pchain == nil) {
		c, ep, err := DialChain(a.cfg, opts.Home, opts.KeyringInput)
		if err != nil {
			return err
		}
		a.endpoint = ep
		if tchain == nil {
			tchain = c
		}
		if pchain == nil {
			pchain = c
		}
	}
	fail := func(err error) error {
		if a.endpoint != nil {
			_ = a.endpoint.Close()
		}
		return err
	}
	if a.cfg.Chain.Submit {
		sub, err := NewSubmitter(tchain, SubmitterConfig{
			NodeID: a.cfg.NodeID, ChainID: a.cfg.Chain.ChainID, StatePath: filepath.Join(opts.Home, StateFileName),
			Logger: a.log, Registerer: a.metrics.registry,
		})
		if err != nil {
			return fail(err)
		}
		a.submitter, a.reports, a.onSubmit = sub, make(chan report.Epoch, 1), opts.OnSubmit
	}
	if a.cfg.Proposer.Enabled {
		var net *policy.Network
		if f := a.cfg.Proposer.PolicyFile; f != "" {
			var err error
			if net, err = policy.Load(f); err != nil {
				return fail(fmt.Errorf("proposer.policy_file: %w", err))
			}
		}
		events := opts.ProposerEvents
		if events == nil && a.cfg.Proposer.Events {
			ce, err := proposer.NewCometEvents(a.cfg.Chain.RPC, a.log)
			if err != nil {
				return fail(fmt.Errorf("chain.rpc: %w", err))
			}
			events = ce
		}
		p, err := proposer.New(pchain, proposer.Config{Policy: net, Events: events,
			PollInterval: time.Duration(a.cfg.Proposer.PollInterval), StaggerBlocks: a.cfg.Proposer.StaggerBlocks, Substitute: a.cfg.Proposer.Substitute,
			Logger: a.log, Registerer: a.metrics.registry})
		if err != nil {
			return fail(err)
		}
		a.proposer = p
	}
	return nil
}

// Proposer is the agent's allocation proposer; nil unless proposer.enabled.
func (a *Agent) Proposer() *proposer.Proposer { return a.proposer }

// ProbeAddr is where the agent's probe server listens.
func (a *Agent) ProbeAddr() net.Addr { return a.server.Addr() }

// MetricsAddr is where the metrics endpoint listens; nil when metrics are off.
func (a *Agent) MetricsAddr() net.Addr {
	if a.metricsLn == nil {
		return nil
	}
	return a.metricsLn.Addr()
}

// Last returns the last completed epoch report.
func (a *Agent) Last() (report.Epoch, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		return report.Epoch{}, false
	}
	return *a.last, true
}

// Close releases what New acquired; Run calls it on return. It is safe to call more than once.
func (a *Agent) Close() error {
	var errs []error
	a.closeOnce.Do(func() {
		errs = append(errs, a.server.Close())
		if a.metricsLn != nil {
			if err := a.metricsLn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		errs = append(errs, a.sampler.Close())
		if a.endpoint != nil {
			errs = append(errs, a.endpoint.Close())
		}
	})
	return errors.Join(errs...)
}

// Run serves probes and metrics and runs an epoch every epoch_interval (the first at once) until ctx is done;
// then it stops everything, waits for it, and returns nil. It returns an error when a server fails.
func (a *Agent) Run(ctx context.Context) error {
	defer func() {
		if err := a.Close(); err != nil {
			a.log.Warn("closing the agent", "error", err)
		}
	}()
	submitAs := "off"
	if a.submitter != nil {
		submitAs = a.submitter.chain.Address()
	}
	a.log.Info("nro-agent starting", "probe_addr", a.ProbeAddr().String(), "metrics_addr", addrString(a.MetricsAddr()),
		"gpu_source", a.sampler.Source(), "peers", len(a.peers), "epoch_interval", a.cfg.EpochInterval.String(),
		"submit_as", submitAs, "chain_id", a.cfg.Chain.ChainID)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.server.Serve(gctx) })
	if a.metricsLn != nil {
		srv := &http.Server{
			Handler:           a.httpHandler(),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       60 * time.Second,
			ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		}
		g.Go(func() error {
			if err := srv.Serve(a.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("metrics server: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
	}
	g.Go(func() error { return a.loop(gctx) })
	if a.submitter != nil {
		g.Go(func() error { return a.submitLoop(gctx) })
	}
	if a.proposer != nil {
		g.Go(func() error { return a.proposer.Run(gctx) })
	}
	err := g.Wait()
	a.log.Info("nro-agent stopped")
	return err
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

func (a *Agent) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{Registry: a.metrics.registry}))
	mux.HandleFunc("GET /report", func(w http.ResponseWriter, _ *http.Request) {
		e, ok := a.Last()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"no epoch has completed yet"}` + "\n"))
			return
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(e)
	})
	return mux
}

func (a *Agent) loop(ctx context.Context) error {
	interval := time.Duration(a.cfg.EpochInterval)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		a.runEpoch(ctx, interval)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// runEpoch samples and probes within one interval and publishes the report. An epoch cut short by shutdown is
// not published.
func (a *Agent) runEpoch(ctx context.Context, interval time.Duration) {
	start := time.Now()
	ectx, cancel := context.WithTimeout(ctx, interval)
	defer cancel()

	gpus, err := a.sampler.Sample(ectx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		// The sampler logs when NVML starts and stops failing; the set is the labelled fallback.
		a.metrics.telemetryErrors.WithLabelValues("nvml").Inc()
	}
	failed := 0
	for _, d := range gpus.Devices {
		if d.Error != "" {
			failed++
			a.metrics.telemetryErrors.WithLabelValues("device").Inc()
			a.log.Warn("GPU could not be read", "device", d.Index, "uuid", d.UUID, "error", d.Error)
		}
	}

	links := a.probePeers(ctx, ectx)
	if ctx.Err() != nil {
		return
	}
	e := report.Epoch{
		NodeID:    a.cfg.NodeID,
		StartedAt: start.UTC(),
		GPUs:      gpus,
		Links:     report.LinkSet{Source: report.SourceProbe, Links: links},
	}
	took := time.Since(start)
	a.metrics.observe(e)
	a.metrics.epochs.Inc()
	a.metrics.epochDuration.Observe(took.Seconds())
	a.mu.Lock()
	a.last = &e
	a.mu.Unlock()

	linksFailed := 0
	for _, l := range links {
		if l.Error != "" {
			linksFailed++
		}
	}
	a.log.Info("epoch complete", "gpu_source", gpus.Source, "gpus", len(gpus.Devices), "gpus_failed", failed,
		"peers", len(links), "peers_failed", linksFailed, "took_ms", took.Milliseconds())
	if a.onEpoch != nil {
		a.onEpoch(e)
	}
	if a.reports != nil {
		// The newest report replaces one the submitter has not taken yet (it is still busy with an older one).
		select {
		case <-a.reports:
		default:
		}
		a.reports <- e
	}
}

// minSubmitTime is the least time a report gets for its submission and retries, however short the epoch
// interval: enough for a few blocks, so that a slow block does not turn into a second transaction.
const minSubmitTime = 30 * time.Second

// submitLoop submits each report as it comes, giving each one epoch interval (at least minSubmitTime) for its
// retries. Reports made meanwhile wait in a.reports, the newest replacing older ones.
func (a *Agent) submitLoop(ctx context.Context) error {
	interval := max(time.Duration(a.cfg.EpochInterval), minSubmitTime)
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-a.reports:
			sctx, cancel := context.WithTimeout(ctx, interval)
			sub := a.submitter.Submit(sctx, e)
			cancel()
			// A submission cut short by shutdown is not an outcome; the select above then returns.
			if ctx.Err() == nil && a.onSubmit != nil {
				a.onSubmit(sub)
			}
		}
	}
}

// peersThisEpoch are the configured peers (probe.peers) to measure this epoch. With the chain (chain.submit)
// they are those that share an ACTIVE lease with this node, read from the chain every epoch: the only links
// the chain takes, so the others are not probed at all; lease peers without a configured address are logged
// (when that set changes). Without the chain, or when the read fails, every configured peer is measured.
func (a *Agent) peersThisEpoch(ctx context.Context) []Peer {
	if a.submitter == nil {
		return a.peers
	}
	mates, err := a.submitter.chain.LeasePeers(ctx, a.cfg.NodeID)
	if err != nil {
		a.log.Warn("could not read the nodes that share this node's leases; probing every configured peer", "error", err)
		return a.peers
	}
	leased := make(map[string]bool, len(mates))
	for _, m := range mates {
		leased[m] = true
	}
	var out []Peer
	for _, p := range a.peers {
		if p.NodeID != "" && leased[p.NodeID] {
			out = append(out, p)
			delete(leased, p.NodeID)
		}
	}
	var unmapped []string // what is left of leased, in the chain's (sorted) order
	for _, m := range mates {
		if leased[m] {
			unmapped = append(unmapped, m)
		}
	}
	if list := strings.Join(unmapped, ","); list != a.unmapped {
		a.unmapped = list
		if list != "" {
			a.log.Warn("nodes share a lease with this node but have no probe address in probe.peers (node-id@host:port): their links are not measured",
				"nodes", unmapped)
		}
	}
	return out
}

// probePeers measures the peers one after another (concurrent transfers would share the NIC and understate
// each other), starting with a different peer each epoch so that a deadline does not always starve the same
// ones. Links are returned sorted by peer.
func (a *Agent) probePeers(ctx, ectx context.Context) []report.Link {
	peers := a.peersThisEpoch(ectx)
	n := len(peers)
	links := make([]report.Link, 0, n)
	first := 0
	if n > 0 {
		first = a.epochs % n
	}
	a.epochs++
	for i := range n {
		p := peers[(first+i)%n]
		at := time.Now().UTC()
		if ectx.Err() != nil {
			if ctx.Err() != nil {
				return nil
			}
			a.metrics.probeErrors.WithLabelValues(p.Label(), "epoch_deadline").Inc()
			links = append(links, report.Link{Peer: p.Label(), Address: p.Address, Source: report.SourceProbe, MeasuredAt: at,
				Error: "not probed: the epoch interval ended before this peer's turn; lengthen epoch_interval or shorten probe transfers"})
			continue
		}
		m, err := a.client.Measure(ectx, p.Address)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			kind := probe.ErrorKind(err)
			a.metrics.probeErrors.WithLabelValues(p.Label(), kind).Inc()
			a.log.Warn("probe failed", "peer", p.Label(), "address", p.Address, "kind", kind, "error", err)
			links = append(links, report.Link{Peer: p.Label(), Address: p.Address, Source: report.SourceProbe, MeasuredAt: at, Error: err.Error()})
			continue
		}
		l := m.Link(p.Label(), at)
		a.log.Debug("probed", "peer", l.Peer, "rtt_us", l.RTTMicros, "throughput_kbps", l.ThroughputKbps)
		links = append(links, l)
	}
	slices.SortFunc(links, func(x, y report.Link) int { return strings.Compare(x.Peer, y.Peer) })
	return links
}
