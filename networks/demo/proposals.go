package main

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	sdkmath "cosmossdk.io/math"

	"github.com/consensus-nro/nro/agent/proposer"
	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

// proposalSummary is what reportProposals found, for the demo's summary.
type proposalSummary struct {
	decisions, byAgents, byHand, byChain int
	// saved is what the agents' winning proposals cost less than the chain's own candidates of those
	// decisions, whose costs add up to chainCost.
	saved, chainCost sdkmath.Int
}

// reportProposals prints, for each decision of the demo's leases, what the agents' proposers did and the
// chain cost of the winner against the chain's own candidate (the fallback allocator's, or on a
// reallocation the partial placement that keeps the healthy nodes), all read from the decision records;
// and it checks that each winning proposer's own estimate of its cost is the decision record's.
func reportProposals(ctx context.Context, st *stepper, ag *agents, names map[string]string, leaseIDs []uint64) (proposalSummary, error) {
	st.step("The agents' proposers: the policy's placements against the chain's fallback (from the decision records)")
	sum := proposalSummary{saved: sdkmath.ZeroInt(), chainCost: sdkmath.ZeroInt()}
	agentOf := map[string]*agent{}
	var total proposer.Counts
	for _, id := range ag.order {
		a := ag.byNode[id]
		agentOf[a.address] = a
		c := a.proposer.Counts()
		total.Sent, total.Won, total.Lost, total.Skipped, total.Errors =
			total.Sent+c.Sent, total.Won+c.Won, total.Lost+c.Lost, total.Skipped+c.Skipped, total.Errors+c.Errors
		fmt.Printf("  %-8s (%s): %d proposals sent, %d won, %d lost; %d leases skipped (nothing beat the fallback or a kept proposal); %d errors\n",
			a.key, a.nodeID, c.Sent, c.Won, c.Lost, c.Skipped, c.Errors)
	}
	q := audittypes.NewQueryClient(ag.endpoint.Conn)
	for _, leaseID := range leaseIDs {
		res, err := q.Decisions(ctx, &audittypes.QueryDecisionsRequest{LeaseId: leaseID})
		if err != nil {
			return sum, fmt.Errorf("decisions of lease %d: %w", leaseID, err)
		}
		for _, d := range res.Decisions {
			sum.decisions++
			if int(d.Winner) >= len(d.Candidates) {
				return sum, fmt.Errorf("decision %d: winner %d of %d candidates", d.Id, d.Winner, len(d.Candidates))
			}
			w := d.Candidates[d.Winner]
			var own *allocationtypes.Candidate
			for i := range d.Candidates {
				c := &d.Candidates[i]
				if c.Source == allocationtypes.CANDIDATE_SOURCE_FALLBACK || (own == nil && c.Source == allocationtypes.CANDIDATE_SOURCE_PARTIAL) {
					own = c
				}
			}
			winner := "the chain's fallback"
			switch {
			case w.Source == allocationtypes.CANDIDATE_SOURCE_PARTIAL:
				winner = "the chain's partial placement"
			case w.Source == allocationtypes.CANDIDATE_SOURCE_PROPOSAL && agentOf[w.Proposer] != nil:
				winner = fmt.Sprintf("proposal %d by %s's proposer", w.ProposalId, names[w.Proposer])
				sum.byAgents++
			case w.Source == allocationtypes.CANDIDATE_SOURCE_PROPOSAL:
				winner = fmt.Sprintf("proposal %d by %s (by hand)", w.ProposalId, nameOr(names, w.Proposer))
				sum.byHand++
			}
			if w.Source != allocationtypes.CANDIDATE_SOURCE_PROPOSAL {
				sum.byChain++
			}
			line := fmt.Sprintf("  decision %d, lease %d at height %d: winner %s, cost %s unro", d.Id, d.LeaseId, d.Height, winner, w.Score.Total)
			switch {
			case own == nil:
				line += "; the chain had no valid placement of its own"
			case own.Rejected != "":
				line += "; the chain's own candidate was invalid: " + shorten(own.Rejected, 80)
			case w.Source == allocationtypes.CANDIDATE_SOURCE_PROPOSAL:
				diff := own.Score.Total.Sub(w.Score.Total)
				if diff.IsPositive() {
					line += fmt.Sprintf("\n      BEATS the chain's own %s by %s unro (%s): the %s costs %s unro on %s,\n"+
						"      the proposal %s unro on %s", ownName(own), diff, percent(diff, own.Score.Total), ownName(own),
						own.Score.Total, placement(own), w.Score.Total, placement(&w))
				} else {
					line += fmt.Sprintf("; the chain's own %s on %s costs the same (a proposal wins a tie)", own.Score.Total, placement(own))
				}
				if agentOf[w.Proposer] != nil {
					sum.saved, sum.chainCost = sum.saved.Add(diff), sum.chainCost.Add(own.Score.Total)
				}
			default:
				line += fmt.Sprintf(" on %s", placement(&w))
			}
			fmt.Println(line)
			for i, c := range d.Candidates {
				a := agentOf[c.Proposer]
				if c.Source != allocationtypes.CANDIDATE_SOURCE_PROPOSAL || a == nil {
					continue
				}
				r, ok := recordFor(a.proposer.Records(), d.LeaseId, d.Height)
				outcome := "lost"
				if uint32(i) == d.Winner {
					outcome = "won"
				}
				if c.Rejected != "" {
					outcome = "rejected at decision: " + shorten(c.Rejected, 60)
				}
				if !ok {
					fmt.Printf("      %s: proposal %d, cost %s -> %s\n", a.key, c.ProposalId, c.Score.Total, outcome)
					continue
				}
				est := "= the record's"
				if c.Rejected == "" && !r.Total.Equal(c.Score.Total) {
					est = fmt.Sprintf("!= the record's %s (the state changed between proposal and decision)", c.Score.Total)
				}
				fmt.Printf("      %s: proposal %d from the lease's %s, in block %d (%d of %d window blocks), its estimate %s %s -> %s\n",
					a.key, c.ProposalId, r.Trigger, r.TxHeight, r.TxHeight-r.PendingSince, r.WindowCloses-r.PendingSince, r.Total, est, outcome)
			}
		}
	}
	fmt.Printf("  in all: %d proposals sent, %d won, %d lost, %d skipped; the agents' proposals beat the chain's own placement\n"+
		"  in %d of %d decisions", total.Sent, total.Won, total.Lost, total.Skipped, sum.byAgents, sum.decisions)
	if sum.byAgents > 0 {
		fmt.Printf(", saving %s unro (%s of the chain's own cost for those leases)", sum.saved, percent(sum.saved, sum.chainCost))
	}
	fmt.Println()
	if total.Skipped > 0 {
		fmt.Println("  a lease is skipped where no candidate placement costs less than the chain's own by the chain's score (on\n" +
			"  the A100 nodes the fallback finds the optimum), or where another agent's kept proposal already costs no\n" +
			"  more (proposer.stagger_blocks spreads the agents over the window's first blocks, so later ones see it),\n" +
			"  or where the chain refused an exact copy of a proposal another agent got in first in the same block")
	}
	if total.Sent == 0 {
		fmt.Println("  no proposal was sent")
	}
	if total.Sent > 1 {
		fmt.Println("  (the agents run the same policy on the same chain state, so they tend to propose alike; the chain keeps\n" +
			"  one proposal per placement and takes the lowest cost, ties by the lowest proposal id)")
	}
	return sum, nil
}

// ownName names the chain's own candidate of a decision.
func ownName(c *allocationtypes.Candidate) string {
	if c.Source == allocationtypes.CANDIDATE_SOURCE_PARTIAL {
		return "partial placement"
	}
	return "fallback"
}

// placement lists a candidate's nodes as node:GPUs, with the GPUs its groups had free and would leave
// stranded.
func placement(c *allocationtypes.Candidate) string {
	parts := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		parts[i] = fmt.Sprintf("%s:%d", n.NodeId, n.Gpus)
	}
	out := strings.Join(parts, ",")
	if c.Rejected == "" && c.Score.StrandedGpus > 0 {
		out += fmt.Sprintf(" (strands %d GPUs)", c.Score.StrandedGpus)
	}
	return out
}

// recordFor is a proposer's record of the lease period a decision at height ended: the latest one that
// began at or before it.
func recordFor(recs []proposer.Record, leaseID uint64, height int64) (proposer.Record, bool) {
	var out proposer.Record
	found := false
	for _, r := range recs {
		if r.LeaseID == leaseID && r.PendingSince <= height && (!found || r.PendingSince > out.PendingSince) {
			out, found = r, true
		}
	}
	return out, found
}

func percent(part, whole sdkmath.Int) string {
	if whole.IsZero() {
		return "n/a"
	}
	f, _ := new(big.Rat).SetFrac(part.BigInt(), whole.BigInt()).Float64()
	return fmt.Sprintf("%.2f %%", 100*f)
}

func nameOr(names map[string]string, addr string) string {
	if n, ok := names[addr]; ok {
		return n
	}
	if len(addr) > 12 {
		return addr[:12] + "…"
	}
	return strings.TrimSpace(addr)
}
