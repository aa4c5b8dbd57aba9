package proposer

import (
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
	// Candidates is the number of placements scored; PolicyChoice the policy's pick and Chosen the one
	// proposed (indexes into them; -1 when none).
	Candidates, PolicyChoice, Chosen int
}

// Plan places a lease on the fleet read from the chain: sim.Candidates (the first of them the chain's
// fallback, computed by the same types.Fallback code), the policy's pick among them, each candidate
// re-scored as the chain scores a proposal (each node's GPUs from its first group with the lease's model,
// memory and enough free GPUs), and Choose.
func Plan(fleet *sim.Fleet, params types.Params, lease leasetypes.Lease, net *policy.Network, queued int) PlanResult {
	d := &sim.Decision{Job: &sim.Job{Lease: lease}, Fleet: fleet, Params: params, Queued: max(queued, 1)}
	fb, fbOK := sim.Fallback{}.Place(d)
	cands := sim.Candidates(d, policy.MaxCandidates)
	res := PlanResult{Candidates: len(cands), PolicyChoice: -1, Chosen: -1}
	if len(cands) == 0 {
		res.Reason = "no valid placement on the registered nodes"
		return res
	}
	fallback := -1
	if fbOK {
		fallback = 0 // sim.Candidates lists the fallback first when it is valid
		res.Fallback = &fb
	}
	choice := 0
	if len(cands) > 1 {
		choice = argmax(net.Score(policy.Features(d, cands, fbOK)))
	}
	res.PolicyChoice = choice
	opts := make([]Option, len(cands))
	for i, c := range cands {
		if i == fallback {
			opts[i] = Option{Candidate: c, Valid: true}
			continue
		}
		rc, err := chainCandidate(fleet, params, lease, c)
		opts[i] = Option{Candidate: rc, Valid: err == nil}
	}
	i, reason := Choose(opts, fallback, choice)
	if i < 0 {
		res.Reason = reason
		return res
	}
	res.Propose, res.Candidate, res.Chosen = true, opts[i].Candidate, i
	return res
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

// chainCandidate re-scores a placement as the chain scores the proposal of it: MsgProposeAllocation names
// only (node, GPUs), and the chain takes each node's GPUs from the first group, in the node's order, with the
// lease's model and memory and enough free GPUs (which may not be the group the simulator's heuristics
// took, and so strand other GPUs). The ring is kept.
func chainCandidate(fleet *sim.Fleet, params types.Params, lease leasetypes.Lease, c types.Candidate) (types.Candidate, error) {
	spec := lease.Spec
	takes := make([]sim.Take, 0, len(c.Nodes))
	for _, sn := range c.Nodes {
		n, err := fleet.Node(sn.NodeId)
		if err != nil {
			return c, err
		}
		group := sn.GpuGroup
		for gi, g := range n.Gpus {
			if (spec.GpuModel == "" || g.Model == spec.GpuModel) && g.MemoryMib >= spec.MinGpuMemoryMib && g.Free() >= sn.Gpus {
				group = uint32(gi)
				break
			}
		}
		takes = append(takes, sim.Take{Node: sn.NodeId, Group: group, GPUs: sn.Gpus})
	}
	return fleet.Candidate(lease, params, takes, c.RingOrder)
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
//   - else the cheapest other option that costs strictly less than the fallback (the first on a tie);
//   - else nothing: no proposal could win, or the winner would be the fallback's own placement, which the
//     chain makes anyway.
func Choose(opts []Option, fallback, choice int) (int, string) {
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
	if i := cheapest(fallback); i >= 0 && opts[i].Candidate.Score.Total.LT(f) {
		return i, ""
	}
	if choice == fallback {
		return -1, "the policy chose the fallback's placement and no candidate costs less"
	}
	return -1, "no candidate costs less than the fallback"
}
