package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sdkmath "cosmossdk.io/math"

	"github.com/consensus-nro/nro/testutil/localnet"
)

// firstJob returns the first job of the Philly trace that asked for the given number of GPUs.
func firstJob(dataDir string, gpus uint32) (job, error) {
	rows, err := readCSV(filepath.Join(dataDir, "philly-pollux", "philly.csv"))
	if err != nil {
		return job{}, err
	}
	for i, r := range rows {
		n, err1 := strconv.ParseUint(r["num_gpus"], 10, 32)
		secs, err2 := strconv.ParseFloat(r["duration"], 64)
		if err1 != nil || err2 != nil || uint32(n) != gpus {
			continue
		}
		return job{Row: i + 2, Submitted: r["timestamp"], GPUs: gpus, Seconds: secs}, nil
	}
	return job{}, fmt.Errorf("philly.csv has no %d-GPU job", gpus)
}

// proposalChoice reads the proposers' log for the "proposal sent" line of an agent for a lease: the policy's
// pick and the candidate sent (indexes into the proposer's candidate list, 0 the fallback's).
func proposalChoice(path, agentKey string, leaseID uint64) (choice, chosen int, ok bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(string(raw), "\n") {
		var l struct {
			Msg     string `json:"msg"`
			Agent   string `json:"agent"`
			LeaseID uint64 `json:"lease_id"`
			Choice  *int   `json:"policy_choice"`
			Chosen  *int   `json:"chosen"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "proposal sent" || l.Agent != agentKey || l.LeaseID != leaseID ||
			l.Choice == nil || l.Chosen == nil {
			continue
		}
		choice, chosen, ok = *l.Choice, *l.Chosen, true
	}
	return choice, chosen, ok
}

// runPolicyWin is the lease the chain's fallback places worse than an agent's proposal: the first 4-GPU job
// of the Philly trace on the K80 nodes (demoOffers). The fallback reads the K80 capacity index only until
// its pool holds 16 GPUs (4 x the lease, at least 16) and the rest of that price level: the two 8-GPU
// p2.8xlarge nodes at $0.90. Its best fit takes 4 GPUs of one and strands the other 4. The agents'
// proposers read every registered node, and the 4-GPU n1-highmem-32 at $0.92 strands none. The step
// prints the decision, checks that an agent's proposal won it at a lower chain cost than the fallback's
// candidate, verifies it from its record and closes the lease.
func runPolicyWin(ctx context.Context, st *stepper, node *localnet.Node, dataDir string, offers []offer, names map[string]string, ag *agents) error {
	fleet := offers[a100Nodes:]
	j, err := firstJob(dataDir, 4)
	if err != nil {
		return err
	}
	model := fleet[0].Model
	var desc []string
	for _, o := range fleet {
		desc = append(desc, fmt.Sprintf("%s %dx$%.2f", o.NodeID, o.GPUs, o.USDPerGPUHour))
	}
	st.step("Lease 4 (a 4-GPU Philly job) on the %s nodes, where the chain's fallback misses the cheapest placement", model)
	fmt.Printf("  %s nodes: %s\n", model, strings.Join(desc, ", "))
	fmt.Printf("  the fallback reads the %s capacity index cheapest first until its pool holds max(4 x 4, 16) = 16 GPUs\n"+
		"  and the rest of that price: the two 8-GPU nodes. Its best fit strands 4 GPUs (fragmentation 0.1 NRO per\n"+
		"  GPU-hour at the default weights); the agents' proposers read every registered node\n", model)

	lp, err := queryLeaseParams(ctx, node)
	if err != nil {
		return err
	}
	maxPrice := int64(6_000_000)
	blocks := int64(j.Seconds) // one block per second on this localnet
	deposit := lp.deposit(j.GPUs, maxPrice, blocks)
	spec := []string{"--gpus", strconv.FormatUint(uint64(j.GPUs), 10), "--gpu-model", model}
	args := append([]string{"lease", "create"}, spec...)
	args = append(args, "--duration-blocks", strconv.FormatInt(blocks, 10),
		"--max-price", fmt.Sprintf("%dunro", maxPrice), "--deposit", fmt.Sprintf("%dunro", deposit))
	res, err := node.Tx(ctx, "submitter", args...)
	if err != nil {
		return err
	}
	if res.Code != 0 {
		return fmt.Errorf("create lease 4: code %d: %s", res.Code, res.Log)
	}
	fmt.Printf("  lease 4: the first %d-GPU job of the trace, at row %d (submitted %s, ran %.0f s) -> %s, %d blocks,\n"+
		"           max %d unro/GPU-h, deposit %d unro; tx in block %d\n",
		j.GPUs, j.Row, j.Submitted, j.Seconds, strings.Join(spec, " "), blocks, maxPrice, deposit, res.Height)

	l4, err := waitLease(ctx, node, "4", 90*time.Second, "LEASE_STATE_ACTIVE")
	if err != nil {
		return err
	}
	if err := printDecision(ctx, node, names, l4.Lease.DecisionID); err != nil {
		return err
	}
	var d decisionJSON
	if err := node.Query(ctx, &d, "audit", "decision", l4.Lease.DecisionID); err != nil {
		return err
	}
	if int(d.Decision.Winner) >= len(d.Decision.Candidates) {
		return fmt.Errorf("decision %s: winner %d of %d candidates", d.Decision.ID, d.Decision.Winner, len(d.Decision.Candidates))
	}
	w := d.Decision.Candidates[d.Decision.Winner]
	fb := -1
	for i, c := range d.Decision.Candidates {
		if c.Source == "CANDIDATE_SOURCE_FALLBACK" {
			fb = i
		}
	}
	if w.Source != "CANDIDATE_SOURCE_PROPOSAL" || !strings.HasPrefix(names[w.Proposer], "agent-") || fb < 0 {
		return fmt.Errorf("lease 4 (decision %s) was not won by an agent's proposal over the fallback: winner %s by %s (proposers' log %s)",
			d.Decision.ID, w.Source, nameOr(names, w.Proposer), ag.proposerLog.Name())
	}
	wt, ok1 := sdkmath.NewIntFromString(w.Score.Total)
	ft, ok2 := sdkmath.NewIntFromString(d.Decision.Candidates[fb].Score.Total)
	if !ok1 || !ok2 || !wt.LT(ft) {
		return fmt.Errorf("decision %s: the winning proposal's cost %s is not below the fallback's %s", d.Decision.ID, w.Score.Total, d.Decision.Candidates[fb].Score.Total)
	}
	place := func(i int) string {
		c := d.Decision.Candidates[i]
		var p []string
		for _, n := range c.Nodes {
			p = append(p, fmt.Sprintf("%s:%d", n.NodeID, n.Gpus))
		}
		return fmt.Sprintf("%s (strands %d GPUs)", strings.Join(p, ","), c.Score.Stranded)
	}
	won := fmt.Sprintf("WON by proposal %s (%s's proposer):", w.ProposalID, names[w.Proposer])
	lost := "the fallback's candidate:"
	pad := max(len(won), len(lost))
	fmt.Printf("  %-*s %s, chain cost %s unro\n", pad, won, place(int(d.Decision.Winner)), w.Score.Total)
	fmt.Printf("  %-*s %s, chain cost %s unro\n", pad, lost, place(fb), d.Decision.Candidates[fb].Score.Total)
	fmt.Printf("  the proposal costs %s unro (%s) less over the lease, for the same %d GPUs\n", ft.Sub(wt), percent(ft.Sub(wt), ft), j.GPUs)
	switch choice, chosen, ok := proposalChoice(ag.proposerLog.Name(), names[w.Proposer], 4); {
	case !ok:
	case choice == chosen:
		fmt.Printf("  the placement is the learned policy's own pick (candidate %d of the proposer's list; 0 is the fallback's)\n", chosen)
	default:
		fmt.Printf("  the learned policy picked candidate %d (0 is the fallback's); the proposer sent candidate %d, the cheapest that\n"+
			"  beats the fallback on the chain's score (agent/proposer Choose)\n", choice, chosen)
	}

	fmt.Printf("  $ nrod audit verify-decision %s\n", l4.Lease.DecisionID)
	if err := printVerifyDecision(ctx, node, l4.Lease.DecisionID, "      "); err != nil {
		return err
	}

	res, err = node.Tx(ctx, "submitter", "lease", "close", "4")
	if err != nil {
		return err
	}
	if res.Code != 0 {
		return fmt.Errorf("close lease 4: code %d: %s", res.Code, res.Log)
	}
	l4, err = queryLease(ctx, node, "4")
	if err != nil {
		return err
	}
	if l4.Lease.State != "LEASE_STATE_CLOSED" {
		return errors.New("lease 4 is " + l4.Lease.State + " after the submitter closed it")
	}
	fmt.Printf("  the submitter closes lease 4 at height %s: paid %s unro for blocks %s..%s, refunded %s\n",
		l4.Lease.ClosedHeight, l4.Lease.Paid.Amount, l4.Lease.ActivatedHeight, l4.Lease.ClosedHeight, l4.Lease.Refunded.Amount)
	return nil
}
