// Command demo runs Consensus-NRO's main job end to end on embedded defaults, as far as it is built: it
// starts a single-validator chain with the real nrod binary in a temporary home on 127.0.0.1, registers
// six provider nodes (three A100, three K80) whose GPUs, prices, regions and bandwidth come from the real
// datasets in data/, shows the queried registry and a rejected registration, creates two leases sized from
// real jobs of the Philly trace, has a provider propose a placement by hand (and another be refused) while the nodes' agents
// propose with the learned policy, shows the chain's allocation
// decision with every candidate's score and verifies it with `nrod audit verify-decision`, closes one lease
// early and lets the other complete, prints every balance that moved. Meanwhile each node's agent attests
// its GPUs (NVML, or the labelled fallback) and its probed links to its lease peers every epoch; then one
// provider goes silent, and the demo watches the chain fault, slash and jail it, move its lease to a healthy
// node and record the move, and prints the evidence trail. A 4-GPU lease from the trace on the K80 nodes
// is placed by an agent's proposal that beats the chain's fallback (whose bounded pool misses the node that
// strands no GPUs), and the decision is verified. Finally it deregisters a node, watches its stake
// come back after unbonding, prints what the agents' proposers sent, won and lost and each decision's winning
// cost against the chain's own placement, and stops the chain. `make demo` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/consensus-nro/nro/testutil/localnet"
)

func main() {
	nrod := flag.String("nrod", "build/nrod", "path to the nrod binary")
	dataDir := flag.String("data", "data", "directory of the real datasets")
	keep := flag.Bool("keep", false, "keep the temporary chain home after the demo")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *nrod, *dataDir, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo FAILED: %v\n", err)
		os.Exit(1)
	}
}

// demoAllocationParams widen the proposal window from 5 to 12 blocks, so that the proposals the demo makes
// by hand with the CLI (a transaction takes a block or two each, more on a busy machine) land inside it
// beside the agents' proposers.
var demoAllocationParams = map[string]any{"proposal_window_blocks": "12"}

type stepper struct{ n, total int }

func (s *stepper) step(format string, args ...any) {
	s.n++
	fmt.Printf("\n[%d/%d] %s\n", s.n, s.total, fmt.Sprintf(format, args...))
}

func run(ctx context.Context, nrodPath, dataDir string, keep bool) error {
	st := &stepper{total: 22}
	start := time.Now()

	st.step("Loading provider offers from the real datasets in %s/", dataDir)
	offers, err := loadOffers(dataDir)
	if err != nil {
		return err
	}
	for _, o := range offers {
		fmt.Printf("  %-20s %-6s %-18s %d x %-4s %3d GB  $%.2f/GPU-h  %-18s %6d Mbit/s (median of %d iperf3 runs)  [price row %d]\n",
			o.NodeID, o.Cloud, o.Instance, o.GPUs, o.Model, o.MemoryMiB/1024, o.USDPerGPUHour, o.Region, o.BandwidthMbps, o.Samples, o.PriceRow)
	}
	fmt.Println("  prices are converted at the demo's convention 1 NRO (10^6 unro) = 1 USD; the two p2.8xlarge nodes are two\n" +
		"  instances of one offer (price row: the line of fsdl-cloud-gpu-prices/cloud-gpus.csv)")

	st.step("Initialising a single-validator chain (nro-local-1) in a temporary home")
	binary, err := filepath.Abs(nrodPath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("nrod binary: %w (run `make build` first)", err)
	}
	home, err := os.MkdirTemp("", "nro-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer func() { _ = os.RemoveAll(home) }()
	}
	ports, err := localnet.FreePorts()
	if err != nil {
		return err
	}
	cfg := localnet.DefaultConfig(binary, home)
	cfg.Ports = ports
	cfg.UnbondingBlocks = 5
	auditParams := map[string]any{}
	for k, v := range demoAuditParams {
		auditParams[k] = v
	}
	for k, v := range demoBridgeParams {
		auditParams[k] = v
	}
	cfg.Params = map[string]map[string]any{"audit": auditParams, "lease": demoLeaseParams, "allocation": demoAllocationParams}
	cfg.Accounts = append(cfg.Accounts, localnet.Account{Name: "orchestrator", Balance: "1000000unro"})
	for i := 3; i < len(offers); i++ {
		// localnet funds provider-1..3; the K80 nodes' operators are funded alike.
		cfg.Accounts = append(cfg.Accounts, localnet.Account{Name: fmt.Sprintf("provider-%d", i+1), Balance: "100000000000unro"})
	}
	for i := range offers {
		cfg.Accounts = append(cfg.Accounts, localnet.Account{Name: fmt.Sprintf("agent-%d", i+1), Balance: "1000000unro"})
	}
	logFile, err := os.Create(filepath.Join(home, "nrod.log"))
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }()
	cfg.Log = logFile
	node, err := localnet.Init(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("  home %s, accounts: %s\n", home, accountNames(cfg.Accounts))

	st.step("Starting nrod (CometBFT RPC 127.0.0.1:%d, gRPC 127.0.0.1:%d, REST 127.0.0.1:%d)", ports.RPC, ports.GRPC, ports.API)
	if err := node.Start(ctx); err != nil {
		return fmt.Errorf("%w (log: %s)", err, logFile.Name())
	}
	defer func() {
		fmt.Println("\nStopping the chain")
		if err := node.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "  ", err)
		}
	}()
	fmt.Printf("  chain is producing blocks (pid %d, resident memory %s)\n", node.PID(), rss(node.PID()))

	br, err := startBridge(ctx, st, node)
	if err != nil {
		return err
	}
	defer br.close()

	var params struct {
		Params struct {
			MinStakePerGpu  struct{ Amount string } `json:"min_stake_per_gpu"`
			UnbondingBlocks string                  `json:"unbonding_blocks"`
			Regions         []string                `json:"regions"`
		} `json:"params"`
	}
	if err := node.Query(ctx, &params, "allocation", "params"); err != nil {
		return err
	}
	minPerGPU, err := strconv.ParseInt(params.Params.MinStakePerGpu.Amount, 10, 64)
	if err != nil {
		return fmt.Errorf("params min_stake_per_gpu %q: %w", params.Params.MinStakePerGpu.Amount, err)
	}

	st.step("Registering %d provider nodes (stake = min_stake_per_gpu x GPUs = %d unro per GPU)", len(offers), minPerGPU)
	for i, o := range offers {
		key := fmt.Sprintf("provider-%d", i+1)
		agentAddr, err := node.Address(ctx, fmt.Sprintf("agent-%d", i+1))
		if err != nil {
			return err
		}
		price := int64(math.Round(o.USDPerGPUHour * 1e6))
		args := []string{"allocation", "register-node", o.NodeID,
			"--region", o.Region,
			"--gpus", fmt.Sprintf("%dx%s:%d", o.GPUs, o.Model, o.MemoryMiB),
			"--bandwidth-mbps", strconv.FormatUint(o.BandwidthMbps, 10),
			"--price", fmt.Sprintf("%dunro", price),
			"--stake", fmt.Sprintf("%dunro", minPerGPU*int64(o.GPUs)),
			"--agent", agentAddr}
		if i == 0 {
			// provider-1 is paid on Ethereum: its node names a payout address, and the bridge is on.
			args = append(args, "--eth-address", providerEthAddress(key))
		}
		res, err := node.Tx(ctx, key, args...)
		if err != nil {
			return err
		}
		if res.Code != 0 {
			return fmt.Errorf("register %s: code %d: %s", o.NodeID, res.Code, res.Log)
		}
		fmt.Printf("  %-20s by %s (agent agent-%d)  tx %s… in block %d, gas %d\n", o.NodeID, key, i+1, res.Hash[:12], res.Height, res.GasUsed)
	}
	// The nodes' agents attest every epoch from now on, in the background (x/audit faults a node with an
	// active lease that misses an epoch).
	ag, err := startAgents(ctx, node, offers, home)
	if err != nil {
		return err
	}
	agentCtx, stopAgents := context.WithCancel(ctx)
	defer stopAgents()
	defer ag.close()
	ag.propose(agentCtx)
	go ag.run(agentCtx)
	names := map[string]string{}
	for _, id := range ag.order {
		names[ag.byNode[id].address] = ag.byNode[id].key
	}
	for i := range offers {
		key := fmt.Sprintf("provider-%d", i+1)
		addr, err := node.Address(ctx, key)
		if err != nil {
			return err
		}
		names[addr] = key
	}
	fmt.Printf("  agents started: each serves TCP probes on 127.0.0.1, reports every %s blocks (x/audit epoch_blocks) and\n"+
		"  runs the proposer (CometBFT events on the RPC's websocket, the committed policy, the chain's links; log in\n"+
		"  %s)\n", demoAuditParams["epoch_blocks"], ag.proposerLog.Name())

	st.step("Querying the registry: nrod q allocation nodes -o json")
	var nodes struct {
		Nodes []struct {
			ID       string `json:"id"`
			Operator string `json:"operator"`
			Region   string `json:"region"`
			Gpus     []struct {
				Model     string `json:"model"`
				Count     uint32 `json:"count"`
				MemoryMib string `json:"memory_mib"`
			} `json:"gpus"`
			BandwidthMbps string                  `json:"bandwidth_mbps"`
			Price         struct{ Amount string } `json:"price_per_gpu_hour"`
			Stake         struct{ Amount string } `json:"stake"`
			Status        string                  `json:"status"`
		} `json:"nodes"`
	}
	if err := node.Query(ctx, &nodes, "allocation", "nodes"); err != nil {
		return err
	}
	if len(nodes.Nodes) != len(offers) {
		return fmt.Errorf("registry holds %d nodes, want %d", len(nodes.Nodes), len(offers))
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NODE\tREGION\tGPUS\tBANDWIDTH\tPRICE/GPU-h\tSTAKE\tSTATUS")
	for _, n := range nodes.Nodes {
		var gpus []string
		for _, g := range n.Gpus {
			gpus = append(gpus, fmt.Sprintf("%dx%s:%s", g.Count, g.Model, g.MemoryMib))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s Mbit/s\t%s unro\t%s unro\t%s\n", n.ID, n.Region, strings.Join(gpus, ","),
			n.BandwidthMbps, n.Price.Amount, n.Stake.Amount, strings.TrimPrefix(n.Status, "NODE_STATUS_"))
	}
	tw.Flush()
	var inRegion struct {
		Nodes []struct{ ID string } `json:"nodes"`
	}
	if err := node.Query(ctx, &inRegion, "allocation", "nodes", "--region", offers[1].Region); err != nil {
		return err
	}
	fmt.Printf("  filter --region %s: %d node(s)\n", offers[1].Region, len(inRegion.Nodes))

	st.step("Sending a bad registration: region aws:us-east-7 (not measured) and 4 GPUs with 1 unro of stake")
	res, err := node.Tx(ctx, "provider-1", "allocation", "register-node", "bad-node",
		"--region", "aws:us-east-7", "--gpus", "4xH100:81920", "--bandwidth-mbps", "1000",
		"--price", "1000000unro", "--stake", "1unro")
	if err != nil {
		return err
	}
	if res.Code == 0 {
		return errors.New("the bad registration was accepted; it must be refused")
	}
	reason := res.Log
	for _, p := range []string{"rpc error: code = Unknown desc = ", "failed to execute message; message index: 0: "} {
		reason = strings.ReplaceAll(reason, p, "")
	}
	fmt.Printf("  refused as expected (the chain simulates the tx and the module refuses it):\n    %s\n", shorten(reason, 400))
	var one struct{}
	if err := node.Query(ctx, &one, "allocation", "node", "bad-node"); err == nil {
		return errors.New("bad-node is in the registry after a refused registration")
	}
	fmt.Println("  bad-node is not in the registry; no stake moved")

	if err := runLeases(ctx, st, node, dataDir, offers, names); err != nil {
		return err
	}
	if err := runMisbehaviour(ctx, st, node, ag, names); err != nil {
		return err
	}
	if err := runPolicyWin(ctx, st, node, dataDir, offers, names, ag); err != nil {
		return err
	}
	props, err := reportProposals(ctx, st, ag, names, []uint64{1, 2, 3, 4})
	if err != nil {
		return err
	}
	stopAgents()

	st.step("Deregistering %s and waiting %s blocks of unbonding for its stake to come back", offers[2].NodeID, params.Params.UnbondingBlocks)
	before, err := balance(ctx, node, "provider-3")
	if err != nil {
		return err
	}
	res, err = node.Tx(ctx, "provider-3", "allocation", "deregister-node", offers[2].NodeID)
	if err != nil {
		return err
	}
	if res.Code != 0 {
		return fmt.Errorf("deregister: code %d: %s", res.Code, res.Log)
	}
	var resp struct {
		Node struct {
			Status        string `json:"status"`
			ReleaseHeight string `json:"release_height"`
		} `json:"node"`
	}
	if err := node.Query(ctx, &resp, "allocation", "node", offers[2].NodeID); err != nil {
		return err
	}
	release, _ := strconv.ParseInt(resp.Node.ReleaseHeight, 10, 64)
	fmt.Printf("  deregistered in block %d: status %s, stake returns at height %d\n", res.Height, resp.Node.Status, release)
	if _, err := node.WaitForHeight(ctx, release+1, 60*time.Second); err != nil {
		return err
	}
	after, err := balance(ctx, node, "provider-3")
	if err != nil {
		return err
	}
	if err := node.Query(ctx, &one, "allocation", "node", offers[2].NodeID); err == nil {
		return fmt.Errorf("%s still registered after its release height", offers[2].NodeID)
	}
	staked := minPerGPU * int64(offers[2].GPUs)
	fmt.Printf("  provider-3 balance %d -> %d unro (+%d: the whole stake; gas is free on this localnet)\n",
		before, after, after-before)
	if after-before != staked {
		return fmt.Errorf("stake did not come back: balance changed by %d, staked %d", after-before, staked)
	}

	if err := br.report(ctx, st, node); err != nil {
		return err
	}

	if err := market(st, dataDir); err != nil {
		return err
	}

	st.step("Summary")
	h, _ := node.Height(ctx)
	_, _, reports := ag.drain()
	fmt.Printf("  %d blocks in %s; %d nodes registered, 1 bad registration refused, 4 leases placed and one moved\n"+
		"  (%d decisions: %d won by the agents' proposers, %d by a proposal made by hand, %d by the chain's own\n"+
		"  placement), %d telemetry reports attested, 1 silent provider slashed and jailed, 3 decisions verified,\n"+
		"  every lease settled to the unro, 1 node unbonded and paid back; the market simulator placed 1,000\n"+
		"  held-out trace jobs with the chain's fallback and the learned policy\n",
		h, time.Since(start).Round(time.Second), len(offers), props.decisions, props.byAgents, props.byHand, props.byChain, reports)
	if props.byAgents > 0 {
		fmt.Printf("  the agents' proposals beat the chain's own placement in %d decision(s), saving %s unro\n"+
			"  (%s of the chain's own cost for those leases)\n", props.byAgents, props.saved, percent(props.saved, props.chainCost))
	}
	fmt.Printf("  nrod resident memory after the demo's transactions: %s\n", rss(node.PID()))
	if keep {
		fmt.Printf("  home kept at %s\n", home)
	}
	return nil
}

func balance(ctx context.Context, node *localnet.Node, key string) (int64, error) {
	addr, err := node.Address(ctx, key)
	if err != nil {
		return 0, err
	}
	var res struct {
		Balance struct{ Amount string } `json:"balance"`
	}
	if err := node.Query(ctx, &res, "bank", "balance", addr, "unro"); err != nil {
		return 0, err
	}
	return strconv.ParseInt(res.Balance.Amount, 10, 64)
}

func accountNames(accs []localnet.Account) string {
	names := make([]string, len(accs))
	for i, a := range accs {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// rss reads a process's resident set size from /proc (Linux).
func rss(pid int) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "n/a"
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return fmt.Sprintf("%d MiB", kb/1024)
		}
	}
	return "n/a"
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
