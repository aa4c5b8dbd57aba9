package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/consensus-nro/nro/testutil/localnet"
)

// job is a row of the Philly trace the demo turns into a lease.
type job struct {
	Row       int
	Submitted string
	GPUs      uint32
	Seconds   float64
}

// pickJobs takes the first 16-GPU job of the trace and the first 8-GPU job that ran between 20 and 90
// seconds, so that the second lease completes while the demo watches (one block per second).
func pickJobs(dataDir string) (job, job, error) {
	rows, err := readCSV(filepath.Join(dataDir, "philly-pollux", "philly.csv"))
	if err != nil {
		return job{}, job{}, err
	}
	var big, small *job
	for i, r := range rows {
		gpus, err1 := strconv.ParseUint(r["num_gpus"], 10, 32)
		secs, err2 := strconv.ParseFloat(r["duration"], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		j := job{Row: i + 2, Submitted: r["timestamp"], GPUs: uint32(gpus), Seconds: secs}
		if big == nil && gpus == 16 {
			big = &j
		}
		if small == nil && gpus == 8 && secs >= 20 && secs <= 90 {
			small = &j
		}
		if big != nil && small != nil {
			return *big, *small, nil
		}
	}
	return job{}, job{}, errors.New("philly.csv has no 16-GPU job or no short 8-GPU job")
}

type leaseJSON struct {
	Lease struct {
		ID        string `json:"id"`
		Submitter string `json:"submitter"`
		State     string `json:"state"`
		Reason    string `json:"close_reason"`
		Nodes     []struct {
			NodeID   string                  `json:"node_id"`
			Operator string                  `json:"operator"`
			Gpus     uint32                  `json:"gpus"`
			Price    struct{ Amount string } `json:"price_per_gpu_hour"`
			Paid     string                  `json:"paid"`
		} `json:"nodes"`
		RingOrder       []string                `json:"ring_order"`
		DecisionID      string                  `json:"decision_id"`
		ActivatedHeight string                  `json:"activated_height"`
		DeadlineHeight  string                  `json:"deadline_height"`
		ClosedHeight    string                  `json:"closed_height"`
		Deposit         struct{ Amount string } `json:"deposit"`
		Paid            struct{ Amount string } `json:"paid"`
		Fees            struct{ Amount string } `json:"fees"`
		Refunded        struct{ Amount string } `json:"refunded"`
		TakeBps         uint32                  `json:"take_bps"`
	} `json:"lease"`
}

func queryLease(ctx context.Context, node *localnet.Node, id string) (leaseJSON, error) {
	var l leaseJSON
	err := node.Query(ctx, &l, "lease", "lease", id)
	return l, err
}

// waitLease polls a lease until it reaches one of the states.
func waitLease(ctx context.Context, node *localnet.Node, id string, timeout time.Duration, states ...string) (leaseJSON, error) {
	deadline := time.Now().Add(timeout)
	for {
		l, err := queryLease(ctx, node, id)
		if err != nil {
			return l, err
		}
		for _, s := range states {
			if l.Lease.State == s {
				return l, nil
			}
		}
		if time.Now().After(deadline) {
			return l, fmt.Errorf("lease %s is %s after %s, want %v", id, l.Lease.State, timeout, states)
		}
		select {
		case <-ctx.Done():
			return l, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

type decisionJSON struct {
	Decision struct {
		ID         string `json:"id"`
		LeaseID    string `json:"lease_id"`
		Height     string `json:"height"`
		Winner     uint32 `json:"winner"`
		Candidates []struct {
			Source     string `json:"source"`
			ProposalID string `json:"proposal_id"`
			Proposer   string `json:"proposer"`
			Nodes      []struct {
				NodeID string `json:"node_id"`
				Region string `json:"region"`
				Gpus   uint32 `json:"gpus"`
			} `json:"nodes"`
			RingOrder []string `json:"ring_order"`
			Score     struct {
				Price         string `json:"price"`
				Latency       string `json:"latency"`
				Bandwidth     string `json:"bandwidth"`
				Fragmentation string `json:"fragmentation"`
				Reputation    string `json:"reputation"`
				Total         string `json:"total"`
				RTT           string `json:"bottleneck_rtt_us"`
				Stranded      uint32 `json:"stranded_gpus"`
			} `json:"score"`
			Rejected string `json:"rejected"`
		} `json:"candidates"`
	} `json:"decision"`
}

func printDecision(ctx context.Context, node *localnet.Node, names map[string]string, id string) error {
	var d decisionJSON
	if err := node.Query(ctx, &d, "audit", "decision", id); err != nil {
		return err
	}
	fmt.Printf("  decision %s for lease %s at height %s: %d candidates (cost in unro over the whole lease)\n",
		d.Decision.ID, d.Decision.LeaseID, d.Decision.Height, len(d.Decision.Candidates))
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  \tCANDIDATE\tPLACEMENT (ring order)\tPRICE\tLATENCY\tBANDWIDTH\tFRAGMENT.\tREPUTATION\tTOTAL\t")
	for i, c := range d.Decision.Candidates {
		mark := " "
		if uint32(i) == d.Decision.Winner {
			mark = "*"
		}
		name := "fallback"
		switch c.Source {
		case "CANDIDATE_SOURCE_PROPOSAL":
			name = "proposal " + c.ProposalID + " (" + nameOr(names, c.Proposer) + ")"
		case "CANDIDATE_SOURCE_PARTIAL":
			name = "partial (keeps)"
		}
		gpus := map[string]uint32{}
		for _, n := range c.Nodes {
			gpus[n.NodeID] = n.Gpus
		}
		var ring []string
		for _, id := range c.RingOrder {
			ring = append(ring, fmt.Sprintf("%s:%d", id, gpus[id]))
		}
		if c.Rejected != "" {
			fmt.Fprintf(tw, "  %s\t%s\trejected: %s\t\t\t\t\t\t\t\n", mark, name, shorten(c.Rejected, 90))
			continue
		}
		rep := c.Score.Reputation
		switch {
		case strings.HasPrefix(rep, "-"):
			rep = "+" + rep[1:] // below-neutral reputation: the total adds it
		case rep != "0":
			rep = "-" + rep // a credit: the total subtracts it
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", mark, name, strings.Join(ring, " > "),
			c.Score.Price, c.Score.Latency, c.Score.Bandwidth, c.Score.Fragmentation, rep, c.Score.Total)
	}
	tw.Flush()
	w := d.Decision.Candidates[d.Decision.Winner]
	rtt, _ := strconv.ParseFloat(w.Score.RTT, 64)
	fmt.Printf("  * winner; its ring's bottleneck RTT is %.1f ms (region link table from the Skyplane pings, or\n"+
		"    x/audit's measured link between two nodes where it has fresh probe reports)\n", rtt/1000)
	return nil
}

// runLeases is the lease part of the demo: two leases from real jobs, a refused and an accepted proposal,
// the chain's decision and its verification, a lease closed early and one that completes, and every unro
// that moved.
func runLeases(ctx context.Context, st *stepper, node *localnet.Node, dataDir string, offers []offer, names map[string]string) error {
	big, small, err := pickJobs(dataDir)
	if err != nil {
		return err
	}
	lp, err := queryLeaseParams(ctx, node)
	if err != nil {
		return err
	}

	st.step("Creating two leases sized from real jobs of the Philly trace (data/philly-pollux)")
	maxPrice := int64(6_000_000)
	type spec struct {
		j    job
		args []string
	}
	specs := []spec{
		{big, []string{"--gpus", "16", "--gpu-model", "A100", "--min-gpu-memory-mib", "81920", "--max-rtt-ms", "30"}},
		{small, []string{"--gpus", "8", "--gpu-model", "A100"}},
	}
	for i, s := range specs {
		blocks := int64(s.j.Seconds) // one block per second on this localnet
		deposit := lp.deposit(s.j.GPUs, maxPrice, blocks)
		args := append([]string{"lease", "create"}, s.args...)
		args = append(args, "--duration-blocks", strconv.FormatInt(blocks, 10),
			"--max-price", fmt.Sprintf("%dunro", maxPrice), "--deposit", fmt.Sprintf("%dunro", deposit))
		res, err := node.Tx(ctx, "submitter", args...)
		if err != nil {
			return err
		}
		if res.Code != 0 {
			return fmt.Errorf("create lease %d: code %d: %s", i+1, res.Code, res.Log)
		}
		fmt.Printf("  lease %d: Philly job at row %d (submitted %s, %d GPUs, ran %.0f s) -> %s, %d blocks,\n"+
			"           max %d unro/GPU-h, deposit %d unro; tx in block %d\n",
			i+1, s.j.Row, s.j.Submitted, s.j.GPUs, s.j.Seconds, strings.Join(s.args, " "), blocks, maxPrice, deposit, res.Height)
	}
	l1, err := queryLease(ctx, node, "1")
	if err != nil {
		return err
	}
	fmt.Printf("  lease 1 is %s; proposers have proposal_window_blocks to propose\n", l1.Lease.State)

	st.step("A provider proposes placements for lease 1 by hand (the agents' proposers propose on their own)")
	res, err := node.Tx(ctx, "provider-3", "allocation", "propose", "1",
		"--placement", fmt.Sprintf("%s:8,%s:8", offers[2].NodeID, offers[0].NodeID))
	if err != nil {
		return err
	}
	if res.Code == 0 {
		return errors.New("a proposal with 40 GB GPUs for a lease that needs 80 GB was accepted")
	}
	fmt.Printf("  provider-3 proposes %s:8,%s:8 -> refused:\n    %s\n", offers[2].NodeID, offers[0].NodeID, shorten(cleanLog(res.Log), 300))
	res, err = node.Tx(ctx, "provider-1", "allocation", "propose", "1",
		"--placement", fmt.Sprintf("%s:8,%s:8", offers[0].NodeID, offers[1].NodeID),
		"--ring", fmt.Sprintf("%s,%s", offers[1].NodeID, offers[0].NodeID))
	if err != nil {
		return err
	}
	if res.Code != 0 {
		return fmt.Errorf("propose: code %d: %s", res.Code, res.Log)
	}
	var props struct {
		Proposals []struct {
			ID       string `json:"id"`
			Proposer string `json:"proposer"`
			Total    string `json:"total"`
		} `json:"proposals"`
	}
	if err := node.Query(ctx, &props, "allocation", "proposals", "1"); err != nil {
		return err
	}
	byHand := -1
	for i, p := range props.Proposals {
		if names[p.Proposer] == "provider-1" {
			byHand = i
		}
	}
	others := len(props.Proposals)
	if byHand >= 0 {
		others--
		fmt.Printf("  provider-1 (operator of %s, bonded) proposes %s:8,%s:8 -> kept as proposal %s, cost %s unro (gas %d)\n",
			offers[0].NodeID, offers[0].NodeID, offers[1].NodeID, props.Proposals[byHand].ID, props.Proposals[byHand].Total, res.GasUsed)
		fmt.Printf("  the chain keeps %d other proposal(s) for lease 1, from the agents' proposers\n", others)
	} else {
		// The window closed between the transaction and the query: the decision below holds the proposal.
		fmt.Printf("  provider-1 (operator of %s, bonded) proposes %s:8,%s:8 -> accepted in block %d (gas %d); the window has closed since\n",
			offers[0].NodeID, offers[0].NodeID, offers[1].NodeID, res.Height, res.GasUsed)
	}

	st.step("The chain decides in EndBlock when the window closes: every candidate scored, cheapest wins")
	l1, err = waitLease(ctx, node, "1", 60*time.Second, "LEASE_STATE_ACTIVE")
	if err != nil {
		return err
	}
	if err := printDecision(ctx, node, names, l1.Lease.DecisionID); err != nil {
		return err
	}
	l2, err := waitLease(ctx, node, "2", 60*time.Second, "LEASE_STATE_ACTIVE")
	if err != nil {
		return err
	}
	fmt.Printf("  lease 1 ACTIVE at height %s on %s; lease 2 placed on %s (decision %s)\n",
		l1.Lease.ActivatedHeight, strings.Join(l1.Lease.RingOrder, " > "), strings.Join(l2.Lease.RingOrder, ", "), l2.Lease.DecisionID)
	var n1 struct {
		Node struct {
			Reserved uint32 `json:"reserved_gpus"`
		} `json:"node"`
	}
	if err := node.Query(ctx, &n1, "allocation", "node", offers[0].NodeID); err != nil {
		return err
	}
	fmt.Printf("  %s now has %d GPUs reserved\n", offers[0].NodeID, n1.Node.Reserved)

	st.step("An auditor re-runs decision %s from its record: nrod audit verify-decision %s", l1.Lease.DecisionID, l1.Lease.DecisionID)
	if err := printVerifyDecision(ctx, node, l1.Lease.DecisionID, "  "); err != nil {
		return err
	}

	st.step("Lease 1 runs for a few blocks and the submitter closes it; lease 2 runs to its end")
	accounts := []string{"submitter", "provider-1", "provider-2", "provider-3"}
	before := map[string]int64{}
	for _, a := range accounts {
		if before[a], err = balance(ctx, node, a); err != nil {
			return err
		}
	}
	escrowAddr, err := moduleAddress(ctx, node, "lease")
	if err != nil {
		return err
	}
	escrowBefore, err := addressBalance(ctx, node, escrowAddr)
	if err != nil {
		return err
	}
	bridgeAddr, err := moduleAddress(ctx, node, "lease_bridge")
	if err != nil {
		return err
	}
	bridgeBefore, err := addressBalance(ctx, node, bridgeAddr)
	if err != nil {
		return err
	}
	activated, _ := strconv.ParseInt(l1.Lease.ActivatedHeight, 10, 64)
	if _, err := node.WaitForHeight(ctx, activated+8, 60*time.Second); err != nil {
		return err
	}
	res, err = node.Tx(ctx, "submitter", "lease", "close", "1")
	if err != nil {
		return err
	}
	if res.Code != 0 {
		return fmt.Errorf("close lease 1: code %d: %s", res.Code, res.Log)
	}
	l2, err = waitLease(ctx, node, "2", 120*time.Second, "LEASE_STATE_CLOSED")
	if err != nil {
		return err
	}
	l1, err = queryLease(ctx, node, "1")
	if err != nil {
		return err
	}
	var paid, fees, refunded int64
	for _, l := range []leaseJSON{l1, l2} {
		p, _ := strconv.ParseInt(l.Lease.Paid.Amount, 10, 64)
		f, _ := strconv.ParseInt(l.Lease.Fees.Amount, 10, 64)
		r, _ := strconv.ParseInt(l.Lease.Refunded.Amount, 10, 64)
		paid, fees, refunded = paid+p, fees+f, refunded+r
		fmt.Printf("  lease %s: %s (%s) at height %s: paid %d unro for blocks %s..%s, fee %d (take %d bps), refunded %d\n",
			l.Lease.ID, strings.TrimPrefix(l.Lease.State, "LEASE_STATE_"), strings.TrimPrefix(l.Lease.Reason, "CLOSE_REASON_"),
			l.Lease.ClosedHeight, p, l.Lease.ActivatedHeight, l.Lease.ClosedHeight, f, l.Lease.TakeBps, r)
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  ACCOUNT\tBEFORE\tAFTER\tCHANGE\t")
	var sum int64
	for _, a := range accounts {
		after, err := balance(ctx, node, a)
		if err != nil {
			return err
		}
		sum += after - before[a]
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%+d\t\n", a, before[a], after, after-before[a])
	}
	escrowAfter, err := addressBalance(ctx, node, escrowAddr)
	if err != nil {
		return err
	}
	bridgeAfter, err := addressBalance(ctx, node, bridgeAddr)
	if err != nil {
		return err
	}
	fmt.Fprintf(tw, "  lease escrow (both deposits)\t%d\t%d\t%+d\t\n", escrowBefore, escrowAfter, escrowAfter-escrowBefore)
	fmt.Fprintf(tw, "  lease_bridge (provider-1's share, paid on Ethereum)\t%d\t%d\t%+d\t\n", bridgeBefore, bridgeAfter, bridgeAfter-bridgeBefore)
	fmt.Fprintf(tw, "  fee collector (protocol fee)\t\t\t%+d\t\n", fees)
	tw.Flush()
	if sum+fees+(bridgeAfter-bridgeBefore)+escrowAfter-escrowBefore != 0 || escrowAfter != 0 {
		return fmt.Errorf("balances do not add up: accounts %+d, fees %+d, bridge escrow %+d, escrow %+d", sum, fees, bridgeAfter-bridgeBefore, escrowAfter-escrowBefore)
	}
	fmt.Printf("  every unro is accounted for: the escrow paid out %d = %d to providers + %d protocol fee + %d refunded\n",
		escrowBefore, paid-fees, fees, refunded)
	return nil
}

func moduleAddress(ctx context.Context, node *localnet.Node, name string) (string, error) {
	var macc struct {
		Account struct {
			Value struct {
				Address string `json:"address"`
			} `json:"value"`
		} `json:"account"`
	}
	if err := node.Query(ctx, &macc, "auth", "module-account", name); err != nil {
		return "", err
	}
	if macc.Account.Value.Address == "" {
		return "", fmt.Errorf("module account %s: no address in the query result", name)
	}
	return macc.Account.Value.Address, nil
}

func addressBalance(ctx context.Context, node *localnet.Node, addr string) (int64, error) {
	var res struct {
		Balances []struct{ Denom, Amount string } `json:"balances"`
	}
	if err := node.Query(ctx, &res, "bank", "balances", addr); err != nil {
		return 0, err
	}
	for _, c := range res.Balances {
		if c.Denom == "unro" {
			return strconv.ParseInt(c.Amount, 10, 64)
		}
	}
	return 0, nil
}

func cleanLog(s string) string {
	for _, p := range []string{"rpc error: code = Unknown desc = ", "failed to execute message; message index: 0: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	if i := strings.Index(s, " [/"); i > 0 {
		s = s[:i] // the source position and gas the node appends
	}
	return s
}

// leaseParams are the x/lease params the demo sizes deposits with.
type leaseParams struct{ blocksPerHour, minDepositBlocks int64 }

func queryLeaseParams(ctx context.Context, node *localnet.Node) (leaseParams, error) {
	var lp struct {
		Params struct {
			BlocksPerHour    string `json:"blocks_per_hour"`
			MinDepositBlocks string `json:"min_deposit_blocks"`
		} `json:"params"`
	}
	if err := node.Query(ctx, &lp, "lease", "params"); err != nil {
		return leaseParams{}, err
	}
	bph, err := strconv.ParseInt(lp.Params.BlocksPerHour, 10, 64)
	if err != nil || bph <= 0 {
		return leaseParams{}, fmt.Errorf("x/lease params: blocks_per_hour %q is not a positive integer", lp.Params.BlocksPerHour)
	}
	minBlocks, err := strconv.ParseInt(lp.Params.MinDepositBlocks, 10, 64)
	if err != nil {
		return leaseParams{}, fmt.Errorf("x/lease params: min_deposit_blocks %q is not an integer", lp.Params.MinDepositBlocks)
	}
	return leaseParams{blocksPerHour: bph, minDepositBlocks: minBlocks}, nil
}

// deposit is twice the worst case of a lease of gpus at maxPrice unro per GPU-hour for blocks, and at
// least twice its worst case over min_deposit_blocks.
func (p leaseParams) deposit(gpus uint32, maxPrice, blocks int64) int64 {
	return int64(gpus) * maxPrice * max(blocks, p.minDepositBlocks) / p.blocksPerHour * 2
}

// printVerifyDecision runs nrod audit verify-decision id and prints its report, each line after indent.
func printVerifyDecision(ctx context.Context, node *localnet.Node, id, indent string) error {
	out, err := node.Run(ctx, "audit", "verify-decision", id, "--node", node.NodeURL())
	if err != nil {
		return fmt.Errorf("verify-decision %s: %w", id, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fmt.Println(indent + line)
	}
	return nil
}
