package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cosmos/cosmos-sdk/types/query"

	nroagent "github.com/consensus-nro/nro/agent"
	"github.com/consensus-nro/nro/agent/probe"
	"github.com/consensus-nro/nro/agent/proposer"
	"github.com/consensus-nro/nro/agent/report"
	"github.com/consensus-nro/nro/agent/telemetry"
	"github.com/consensus-nro/nro/internal/chainclient"
	"github.com/consensus-nro/nro/testutil/localnet"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// demoAuditParams are the x/audit params the demo's genesis sets, so that epochs end, a silent node is
// faulted, slashed and its lease moved while the demo watches (1 block per second).
var demoAuditParams = map[string]any{
	"epoch_blocks": "10",
	"grace_blocks": "3",
	"max_faults":   1,
	"jail_blocks":  "30",
}

// agent is one node's nro-agent as the demo runs it: a probe server on 127.0.0.1, the agent's GPU sampler
// (NVML when the machine has it, else the labelled fallback), the agent's submitter, which signs with the
// node's own agent key and submits over gRPC exactly as `nro-agent start` does, and its allocation proposer
// (agent/proposer: CometBFT events, the committed policy, the chain's links), which sends through the same
// client, so that one sequence guard orders the key's reports and proposals.
type agent struct {
	key       string
	address   string
	nodeID    string
	sampler   *telemetry.Sampler
	server    *probe.Server
	submitter *nroagent.Submitter
	proposer  *proposer.Proposer
	// stopProposing ends the proposer's Run; proposing is closed when it has returned.
	stopProposing context.CancelFunc
	proposing     chan struct{}
}

// agents report telemetry for every node with an active lease, once per epoch, in the background.
type agents struct {
	node     *localnet.Node
	client   *probe.Client
	endpoint *chainclient.Endpoint
	byNode   map[string]*agent
	order    []string
	// proposerLog receives the proposers' structured log (JSON lines).
	proposerLog *os.File

	mu       sync.Mutex
	silent   map[string]bool
	reported map[string]uint64 // node → last epoch reported
	reports  int
	lines    []string
	errs     []string
}

func startAgents(ctx context.Context, node *localnet.Node, offers []offer, dir string) (*agents, error) {
	client, err := probe.NewClient(probe.ClientConfig{Echoes: 10, TransferBytes: 1 << 20, TransferDuration: time.Second})
	if err != nil {
		return nil, err
	}
	// The agents' keys are in the validator home's test keyring; one endpoint serves them all, with one
	// sequence guard per key.
	ep, err := chainclient.Dial(fmt.Sprintf("127.0.0.1:%d", node.Ports.GRPC), "test", node.Home, nil)
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "proposers.log"))
	if err != nil {
		return nil, err
	}
	a := &agents{node: node, client: client, endpoint: ep, byNode: map[string]*agent{}, silent: map[string]bool{}, reported: map[string]uint64{},
		proposerLog: logf}
	plog := slog.New(slog.NewJSONHandler(logf, nil))
	rpc := fmt.Sprintf("http://127.0.0.1:%d", node.Ports.RPC)
	for i, o := range offers {
		key := fmt.Sprintf("agent-%d", i+1)
		tx, err := ep.Client(node.ChainID, key)
		if err != nil {
			return nil, err
		}
		tx.GasPrices = "0unro"
		chain := nroagent.NewCosmosChain(ep.Conn, tx)
		events, err := proposer.NewCometEvents(rpc, plog)
		if err != nil {
			return nil, err
		}
		prop, err := proposer.New(chain, proposer.Config{Events: events, StaggerBlocks: nroagent.DefaultConfig().Proposer.StaggerBlocks,
			Logger: plog.With("agent", key, "node_id", o.NodeID)})
		if err != nil {
			return nil, err
		}
		sub, err := nroagent.NewSubmitter(chain, nroagent.SubmitterConfig{
			NodeID: o.NodeID, ChainID: node.ChainID, StatePath: filepath.Join(dir, "agent-"+o.NodeID+"-"+nroagent.StateFileName),
			MinBackoff: 500 * time.Millisecond, MaxBackoff: 2 * time.Second, MaxAttempts: 4,
		})
		if err != nil {
			return nil, err
		}
		srv, err := probe.Listen("127.0.0.1:0", probe.DefaultServerConfig(), nil)
		if err != nil {
			return nil, err
		}
		go func() { _ = srv.Serve(ctx) }()
		sampler := telemetry.Open(telemetry.Config{Registered: []report.GPUGroup{{Model: o.Model, Count: o.GPUs, MemoryMiB: o.MemoryMiB}}}, slog.New(slog.DiscardHandler))
		a.byNode[o.NodeID] = &agent{key: key, address: tx.Address(), nodeID: o.NodeID, sampler: sampler, server: srv, submitter: sub,
			proposer: prop}
		a.order = append(a.order, o.NodeID)
	}
	return a, nil
}

// propose starts every agent's proposer; each runs until ctx ends or its agent is silenced.
func (a *agents) propose(ctx context.Context) {
	for _, id := range a.order {
		ag := a.byNode[id]
		pctx, cancel := context.WithCancel(ctx)
		ag.stopProposing, ag.proposing = cancel, make(chan struct{})
		go func() {
			defer close(ag.proposing)
			_ = ag.proposer.Run(pctx)
		}()
	}
}

// run reports every epoch until ctx ends.
func (a *agents) run(ctx context.Context) {
	for {
		a.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

type epochJSON struct {
	Epoch struct {
		Number      string `json:"number"`
		StartHeight string `json:"start_height"`
	} `json:"epoch"`
}

// tick reads the chain over gRPC (no CLI processes in the background: the demo's foreground steps are timed
// in blocks).
func (a *agents) tick(ctx context.Context) {
	res, err := audittypes.NewQueryClient(a.endpoint.Conn).Epoch(ctx, &audittypes.QueryEpochRequest{})
	if err != nil {
		return
	}
	epoch := res.Epoch.Number
	for _, id := range a.order {
		ag := a.byNode[id]
		a.mu.Lock()
		skip := a.silent[id] || a.reported[id] >= epoch
		a.mu.Unlock()
		if skip {
			continue
		}
		peers, ok := a.activePeers(ctx, id)
		if !ok {
			continue // no active lease: nothing to attest
		}
		if err := a.report(ctx, ag, peers); err != nil {
			a.mu.Lock()
			a.errs = append(a.errs, fmt.Sprintf("%s epoch %d: %v", id, epoch, err))
			a.mu.Unlock()
			continue
		}
	}
}

// activePeers returns the other nodes of the node's active leases; ok is false when it has none.
func (a *agents) activePeers(ctx context.Context, nodeID string) ([]string, bool) {
	res, err := leasetypes.NewQueryClient(a.endpoint.Conn).Leases(ctx, &leasetypes.QueryLeasesRequest{
		NodeId: nodeID, State: leasetypes.LEASE_STATE_ACTIVE, Pagination: &query.PageRequest{Limit: 1000},
	})
	if err != nil {
		return nil, false
	}
	var peers []string
	active := false
	for _, l := range res.Leases {
		// The node filter also matches leases the node was moved off (past placements).
		if !slices.ContainsFunc(l.Nodes, func(n leasetypes.LeaseNode) bool { return n.NodeId == nodeID }) {
			continue
		}
		active = true
		for _, n := range l.Nodes {
			if n.NodeId != nodeID && !slices.Contains(peers, n.NodeId) {
				peers = append(peers, n.NodeId)
			}
		}
	}
	slices.Sort(peers)
	return peers, active
}

// report samples the GPUs, probes each peer's agent and submits the signed report through the agent's
// submitter (for the chain's current epoch, once).
func (a *agents) report(ctx context.Context, ag *agent, peers []string) error {
	gpus, err := ag.sampler.Sample(ctx)
	if err != nil {
		return err
	}
	e := report.Epoch{NodeID: ag.nodeID, StartedAt: time.Now(), GPUs: gpus, Links: report.LinkSet{Source: report.SourceProbe}}
	var linkDesc []string
	for _, p := range peers {
		peer, ok := a.byNode[p]
		if !ok {
			continue
		}
		m, err := a.client.Measure(ctx, peer.server.Addr().String())
		if err != nil {
			e.Links.Links = append(e.Links.Links, report.Link{Peer: p, Source: report.SourceProbe, Error: err.Error()})
			continue
		}
		l := m.Link(p, time.Now())
		e.Links.Links = append(e.Links.Links, l)
		linkDesc = append(linkDesc, fmt.Sprintf("%s %d µs %.1f Gbit/s", p, l.RTTMicros, float64(l.ThroughputKbps)/1e6))
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	sub := ag.submitter.Submit(sctx, e)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch sub.Result {
	case nroagent.SubmitSkipped, nroagent.SubmitDuplicate:
		a.reported[ag.nodeID] = sub.Epoch
		return nil
	case nroagent.SubmitOK:
	default:
		return fmt.Errorf("%s: %s", sub.Result, shorten(cleanLog(sub.Err.Error()), 200))
	}
	a.reported[ag.nodeID] = sub.Epoch
	a.reports++
	src := string(gpus.Source)
	if gpus.Source == report.SourceFallback {
		src = "fallback (" + shorten(gpus.FallbackReason, 60) + ")"
	}
	links := strings.Join(linkDesc, ", ")
	if links == "" {
		links = "none (its lease is on this node alone)"
	}
	a.lines = append(a.lines, fmt.Sprintf("epoch %d  %-20s %d GPUs from %s; links: %s  [block %d]",
		sub.Epoch, ag.nodeID, len(gpus.Devices), src, links, sub.Height))
	return nil
}

// silence stops a node's agent, its reports and its proposals: the provider's machine has gone dark.
func (a *agents) silence(nodeID string) {
	a.mu.Lock()
	a.silent[nodeID] = true
	a.mu.Unlock()
	if ag := a.byNode[nodeID]; ag != nil && ag.stopProposing != nil {
		ag.stopProposing()
	}
}

// drain returns the report lines logged since the last call.
func (a *agents) drain() (lines, errs []string, total int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	lines, errs = a.lines, a.errs
	a.lines, a.errs = nil, nil
	return lines, errs, a.reports
}

func (a *agents) close() {
	for _, ag := range a.byNode {
		if ag.stopProposing != nil {
			ag.stopProposing()
			<-ag.proposing
		}
		_ = ag.server.Close()
		_ = ag.sampler.Close()
	}
	_ = a.endpoint.Close()
	_ = a.proposerLog.Close()
}

func printLines(lines []string, max int) {
	for i, l := range lines {
		if i == max {
			fmt.Printf("  … and %d more\n", len(lines)-max)
			return
		}
		fmt.Println("  " + l)
	}
}

// runMisbehaviour is the audit part of the demo: a lease on two nodes, both agents attesting every epoch;
// then one provider goes silent, the chain faults it, slashes and jails it, moves the lease to a healthy
// node without charging the submitter for the dead epochs, and the demo prints the evidence an auditor
// follows.
func runMisbehaviour(ctx context.Context, st *stepper, node *localnet.Node, ag *agents, names map[string]string) error {
	st.step("Telemetry: lease 3 (8 A100, at most 4 per node) on two nodes; their agents attest every epoch")
	res, err := node.Tx(ctx, "submitter", "lease", "create", "--gpus", "8", "--gpu-model", "A100", "--max-gpus-per-node", "4",
		"--duration-blocks", "600", "--max-price", "6000000unro", "--deposit", "20000000000unro")
	if err != nil {
		return err
	}
	if res.Code != 0 {
		return fmt.Errorf("create lease 3: code %d: %s", res.Code, res.Log)
	}
	l3, err := waitLease(ctx, node, "3", 60*time.Second, "LEASE_STATE_ACTIVE")
	if err != nil {
		return err
	}
	var placed []string
	for _, n := range l3.Lease.Nodes {
		placed = append(placed, fmt.Sprintf("%s:%d", n.NodeID, n.Gpus))
	}
	fmt.Printf("  lease 3 ACTIVE at height %s on %s (decision %s)\n", l3.Lease.ActivatedHeight, strings.Join(placed, ", "), l3.Lease.DecisionID)
	// Two epochs of reports from both nodes.
	var ep epochJSON
	if err := node.Query(ctx, &ep, "audit", "epoch"); err != nil {
		return err
	}
	first, _ := strconv.ParseUint(ep.Epoch.Number, 10, 64)
	if err := waitEpoch(ctx, node, first+2); err != nil {
		return err
	}
	lines, errs, total := ag.drain()
	printLines(lines, 8)
	for _, e := range errs {
		fmt.Println("  refused report (the agent moves on to the current epoch): " + e)
	}
	fmt.Printf("  %d reports accepted on chain so far (every node with an active lease, every epoch since the demo began);\n"+
		"  links are probed over 127.0.0.1 here, so their microsecond RTTs jitter and single-link disagreements are\n"+
		"  disputed (reputation only: one link cannot tell which end is wrong)\n", total)

	// The more expensive node of the lease goes silent.
	silent := l3.Lease.Nodes[0]
	for _, n := range l3.Lease.Nodes {
		p, _ := strconv.ParseInt(n.Price.Amount, 10, 64)
		q, _ := strconv.ParseInt(silent.Price.Amount, 10, 64)
		if p > q {
			silent = n
		}
	}
	st.step("%s's agent goes silent (its provider's machine went dark); the chain sweeps missed epochs", silent.NodeID)
	ag.silence(silent.NodeID)
	stakeBefore, err := nodeStake(ctx, node, silent.NodeID)
	if err != nil {
		return err
	}
	var slashes struct {
		Slashes []struct {
			ID          string                  `json:"id"`
			FaultIDs    []string                `json:"fault_ids"`
			Amount      struct{ Amount string } `json:"amount"`
			StakeAfter  struct{ Amount string } `json:"stake_after"`
			Destination string                  `json:"destination"`
			JailedUntil string                  `json:"jailed_until_height"`
			UnpaidFrom  string                  `json:"unpaid_from_height"`
			Height      string                  `json:"height"`
			Leases      []struct {
				LeaseID      string                  `json:"lease_id"`
				Compensation struct{ Amount string } `json:"compensation"`
				Reallocated  bool                    `json:"reallocated"`
			} `json:"leases"`
		} `json:"slashes"`
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(slashes.Slashes) == 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s was not slashed within 90 s", silent.NodeID)
		}
		time.Sleep(time.Second)
		if err := node.Query(ctx, &slashes, "audit", "slashes", "--node-id", silent.NodeID); err != nil {
			return err
		}
	}
	s := slashes.Slashes[0]
	fmt.Printf("  slash %s at height %s: faults %s, %s of %d unro staked taken (-> %s), jailed until height %s\n",
		s.ID, s.Height, strings.Join(s.FaultIDs, ", "), s.Amount.Amount, stakeBefore, strings.TrimPrefix(s.Destination, "SLASH_DESTINATION_"), s.JailedUntil)
	for _, l := range s.Leases {
		fmt.Printf("  lease %s moved off the node (reallocated %v); its submitter is compensated %s unro from the stake\n", l.LeaseID, l.Reallocated, l.Compensation.Amount)
	}
	fmt.Printf("  no node of lease 3 is paid from height %s, where the silent epochs began\n", s.UnpaidFrom)

	st.step("The chain places lease 3 again: the healthy node keeps its GPUs, a new node replaces %s", silent.NodeID)
	l3, err = waitLease(ctx, node, "3", 90*time.Second, "LEASE_STATE_ACTIVE")
	if err != nil {
		return err
	}
	var moved struct {
		Lease struct {
			DecisionID     string `json:"decision_id"`
			PastPlacements []struct {
				Nodes []struct {
					NodeID string `json:"node_id"`
					Gpus   uint32 `json:"gpus"`
					Paid   string `json:"paid"`
				} `json:"nodes"`
				ActivatedHeight string `json:"activated_height"`
				EndedHeight     string `json:"ended_height"`
				ServedBlocks    string `json:"served_blocks"`
				Reason          string `json:"reason"`
			} `json:"past_placements"`
			EndHeight string `json:"end_height"`
		} `json:"lease"`
	}
	if err := node.Query(ctx, &moved, "lease", "lease", "3"); err != nil {
		return err
	}
	if len(moved.Lease.PastPlacements) != 1 {
		return fmt.Errorf("lease 3 has %d past placements, want 1", len(moved.Lease.PastPlacements))
	}
	past := moved.Lease.PastPlacements[0]
	for _, n := range past.Nodes {
		fmt.Printf("  previous placement: %s:%d paid %s unro for blocks %s..%s\n", n.NodeID, n.Gpus, n.Paid, past.ActivatedHeight, s.UnpaidFrom)
	}
	fmt.Printf("  served %s blocks there (%s); the new placement owes the rest, to height %s\n",
		past.ServedBlocks, strings.TrimPrefix(past.Reason, "REALLOCATION_REASON_"), moved.Lease.EndHeight)
	if err := printDecision(ctx, node, names, moved.Lease.DecisionID); err != nil {
		return err
	}
	var dec struct {
		Decision struct {
			Reallocation struct {
				Reason             string   `json:"reason"`
				TriggerNodeIDs     []string `json:"trigger_node_ids"`
				PreviousDecisionID string   `json:"previous_decision_id"`
				KeptGPUs           uint32   `json:"kept_gpus"`
				MovedGPUs          uint32   `json:"moved_gpus"`
			} `json:"reallocation"`
		} `json:"decision"`
	}
	if err := node.Query(ctx, &dec, "audit", "decision", moved.Lease.DecisionID); err != nil {
		return err
	}
	r := dec.Decision.Reallocation
	fmt.Printf("  the decision records the move: %s of %s (previous decision %s), %d GPUs kept, %d moved\n",
		strings.TrimPrefix(r.Reason, "REALLOCATION_REASON_"), strings.Join(r.TriggerNodeIDs, ","), r.PreviousDecisionID, r.KeptGPUs, r.MovedGPUs)

	st.step("The evidence trail an auditor follows (every line is a query anyone can run)")
	var faults struct {
		Faults []struct {
			ID     string `json:"id"`
			Epoch  string `json:"epoch"`
			Kind   string `json:"kind"`
			Height string `json:"height"`
		} `json:"faults"`
	}
	if err := node.Query(ctx, &faults, "audit", "faults", "--node-id", silent.NodeID); err != nil {
		return err
	}
	fmt.Printf("  $ nrod q audit faults --node-id %s\n", silent.NodeID)
	for _, f := range faults.Faults {
		fmt.Printf("      fault %s: %s in epoch %s (recorded at height %s)\n", f.ID, strings.TrimPrefix(f.Kind, "FAULT_KIND_"), f.Epoch, f.Height)
	}
	var tel struct {
		Reports []struct {
			Epoch string `json:"epoch"`
		} `json:"reports"`
	}
	if err := node.Query(ctx, &tel, "audit", "telemetry", "--node-id", silent.NodeID); err != nil {
		return err
	}
	last := "none"
	if n := len(tel.Reports); n > 0 {
		last = tel.Reports[n-1].Epoch
	}
	fmt.Printf("  $ nrod q audit telemetry --node-id %s      -> %d reports, the last for epoch %s\n", silent.NodeID, len(tel.Reports), last)
	fmt.Printf("  $ nrod q audit slash %s                      -> faults %s, %s unro slashed, unpaid from height %s\n", s.ID, strings.Join(s.FaultIDs, ","), s.Amount.Amount, s.UnpaidFrom)
	fmt.Printf("  $ nrod q lease lease 3                        -> past placement on %s ended at %s, reason %s\n", silent.NodeID, past.EndedHeight, strings.TrimPrefix(past.Reason, "REALLOCATION_REASON_"))
	fmt.Printf("  $ nrod q audit decision %s                    -> the move and both placements\n", moved.Lease.DecisionID)
	fmt.Printf("  $ nrod audit verify-decision %s\n", moved.Lease.DecisionID)
	if err := printVerifyDecision(ctx, node, moved.Lease.DecisionID, "      "); err != nil {
		return err
	}
	after, err := nodeStake(ctx, node, silent.NodeID)
	if err != nil {
		return err
	}
	fmt.Printf("  %s: stake %d -> %d unro, status JAILED\n", silent.NodeID, stakeBefore, after)

	res, err = node.Tx(ctx, "submitter", "lease", "close", "3")
	if err != nil {
		return err
	}
	if res.Code != 0 {
		return fmt.Errorf("close lease 3: code %d: %s", res.Code, res.Log)
	}
	fmt.Println("  the submitter closes lease 3; the rest of its deposit comes back")
	return nil
}

func waitEpoch(ctx context.Context, node *localnet.Node, epoch uint64) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ep epochJSON
		if err := node.Query(ctx, &ep, "audit", "epoch"); err != nil {
			return err
		}
		if n, _ := strconv.ParseUint(ep.Epoch.Number, 10, 64); n >= epoch {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("epoch %d did not start within 60 s", epoch)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func nodeStake(ctx context.Context, node *localnet.Node, id string) (int64, error) {
	var res struct {
		Node struct {
			Stake struct{ Amount string } `json:"stake"`
		} `json:"node"`
	}
	if err := node.Query(ctx, &res, "allocation", "node", id); err != nil {
		return 0, err
	}
	return strconv.ParseInt(res.Node.Stake.Amount, 10, 64)
}
