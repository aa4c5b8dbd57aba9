package proposer

import (
	"fmt"
	"slices"

	"github.com/consensus-nro/nro/agent/policy"
	"github.com/consensus-nro/nro/agent/sim"
	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// PlanResult is the proposer's decision for one lease.
type PlanResult struct {
	// Propose says whether to send Candidate; Reason says why not.
	Propose   bool
	Candidate types.Candidate
	Reason    string
	// Fallback is the chain's own fallback placement as computed from the state read (nil: none is valid).
	Fallback *types.Candidate
	// Candidates is the number of placements scored, Scored those placements with the chain's scores (the
	// fallback's first when there is one); PolicyChoice the policy's pick and Chosen the one proposed
	// (indexes into them; -1 when none).
	Candidates, PolicyChoice, Chosen int
	Scored                           []types.Candidate
}

// Plan places a lease on the fleet read from the chain, with the chain's links: the chain's own fallback
// (types.Fallback over the registered nodes and the chain's links, as x/allocation runs it), the other
// placements of sim.Candidates, each re-scored as the chain scores a proposal (chainFleet.candidate), the
// policy's pick among them, and Choose (with substitute, see there). A candidate with the fallback's own placement is never
// proposed: the chain makes it anyway.
func Plan(fleet *sim.Fleet, links Links, params types.Params, lease leasetypes.Lease, net *policy.Network, queued int, substitute bool) PlanResult {
	cf := chainFleet{Fleet: fleet, links: links}
	d := &sim.Decision{Job: &sim.Job{Lease: lease}, Fleet: fleet, Params: params, Queued: max(queued, 1)}
	fb, fbErr := types.Fallback(cf, params, lease, nil)
	fbOK := fbErr == nil
	// sim.Candidates lists first the fallback as the simulator sees it (the region table alone); the chain's
	// own takes its place.
	_, simFbOK := sim.Fallback{}.Place(d)
	others := sim.Candidates(d, policy.MaxCandidates)
	if simFbOK && len(others) > 0 {
		others = others[1:]
	}
	// Every candidate is scored as the chain scores a proposal, over the chain's links (measured where a
	// fresh measurement exists), before the policy sees it: its features are the chain's RTT, throughput and
	// cost, not the region table's. The chain takes each node's GPUs from its first fitting group, which may
	// make a placement the simulator listed the same as the fallback's or as another; those, and those the
	// chain would refuse, are dropped.
	var cands []types.Candidate
	if fbOK {
		cands = append(cands, fb)
	}
	for _, c := range others {
		if len(cands) >= policy.MaxCandidates {
			break
		}
		rc, err := cf.candidate(params, lease, c.Nodes, c.RingOrder)
		if err != nil || slices.ContainsFunc(cands, func(k types.Candidate) bool { return samePlacement(k, rc) }) {
			continue
		}
		cands = append(cands, rc)
	}
	res := PlanResult{Candidates: len(cands), Scored: cands, PolicyChoice: -1, Chosen: -1}
	if len(cands) == 0 {
		res.Reason = "no valid placement on the registered nodes"
		return res
	}
	fallback := -1
	if fbOK {
		fallback = 0
		res.Fallback = &fb
	}
	choice := 0
	if len(cands) > 1 {
		choice = argmax(net.Score(policy.Features(d, cands, fbOK)))
	}
	res.PolicyChoice = choice
	opts := make([]Option, len(cands))
	for i, c := range cands {
		opts[i] = Option{Candidate: c, Valid: true}
	}
	i, reason := Choose(opts, fallback, choice, substitute)
	if i < 0 {
		res.Reason = reason
		return res
	}
	res.Propose, res.Candidate, res.Chosen = true, opts[i].Candidate, i
	return res
}

// samePlacement says whether two candidates take the same GPUs (node, group, count) in the same ring.
func samePlacement(a, b types.Candidate) bool {
	if len(a.Nodes) != len(b.Nodes) || !slices.Equal(a.RingOrder, b.RingOrder) {
		return false
	}
	keys := func(c types.Candidate) []string {
		out := make([]string, len(c.Nodes))
		for i, n := range c.Nodes {
			out[i] = fmt.Sprintf("%s/%d/%d", n.NodeId, n.GpuGroup, n.Gpus)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(keys(a), keys(b))
}

func argmax(xs []float64) int {
	best := 0
	for i, v := range xs {
		if v > xs[best] {
			best = i
		}
	}
	return best
}

// Option is a candidate placement with its chain score; Valid is false when the chain would refuse it.
type Option struct {
	Candidate types.Candidate
	Valid     bool
}

// Choose picks the option to propose, or -1 and why none. The chain places the lease on the lowest chain
// cost (Score.Total) among the kept proposals and its fallback, proposals winning ties (types.Better), so:
//
//   - with no valid fallback (fallback < 0), the policy's choice if valid, else the cheapest valid option;
//   - else the policy's choice when it is not the fallback itself and costs at most the fallback;
//   - else, with substitute, the cheapest other option that costs strictly less than the fallback (the
//     first on a tie);
//   - else nothing: the policy's pick could not win (the chain then places the fallback's placement, as the
//     policy would have it when it picked the fallback), or the winner would be the fallback's own
//     placement, which the chain makes anyway.
//
// Without substitute the chain ends up with the policy's pick or the fallback's placement: what the policy
// was trained and measured for (docs/benchmarks.md, "policy (chain decides)"). With it, a pick that cannot
// win gives way to the cheapest candidate by chain cost, which lowers the chain's cost but, in the
// simulator, lengthens jobs.
func Choose(opts []Option, fallback, choice int, substitute bool) (int, string) {
	valid := func(i int) bool { return i >= 0 && i < len(opts) && opts[i].Valid }
	cheapest := func(skip int) int {
		best := -1
		for i := range opts {
			if i == skip || !opts[i].Valid {
				continue
			}
			if best < 0 || opts[i].Candidate.Score.Total.LT(opts[best].Candidate.Score.Total) {
				best = i
			}
		}
		return best
	}
	if !valid(fallback) {
		if valid(choice) {
			return choice, ""
		}
		if i := cheapest(-1); i >= 0 {
			return i, ""
		}
		return -1, "no candidate is valid on the chain"
	}
	f := opts[fallback].Candidate.Score.Total
	if choice != fallback && valid(choice) && opts[choice].Candidate.Score.Total.LTE(f) {
		return choice, ""
	}
	if !substitute {
		if choice == fallback {
			return -1, "the policy chose the fallback's placement"
		}
		if !valid(choice) {
			return -1, "the policy's pick is not valid on the chain"
		}
		return -1, "the policy's pick costs more than the fallback on the chain"
	}
	if i := cheapest(fallback); i >= 0 && opts[i].Candidate.Score.Total.LT(f) {
		return i, ""
	}
	if choice == fallback {
		return -1, "the policy chose the fallback's placement and no candidate costs less"
	}
	return -1, "no candidate costs less than the fallback"
}
