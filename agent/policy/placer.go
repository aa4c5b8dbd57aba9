package policy

import (
	"math"
	"math/rand"

	"github.com/consensus-nro/nro/agent/sim"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// MaxCandidates bounds the placements scored per decision (sim.Candidates: the fallback, three global
// heuristics and one per region).
const MaxCandidates = 16

// Mode says what a Placer does with the policy's pick.
type Mode int

const (
	// Direct places the job where the policy picked: the policy alone, as if it decided.
	Direct Mode = iota
	// ChainDecides places the job where the chain would with this policy's agent as configured by default
	// (proposer.substitute off): the agent proposes the policy's pick when it is not the fallback's
	// placement and its chain cost is at most the fallback's, else nothing (agent/proposer.Choose), and
	// x/allocation places the lease on the cheapest valid candidate among the proposal and its own
	// fallback, a proposal winning a tie (types.ChooseWinner, types.Better): the pick or the fallback.
	ChainDecides
	// ChainSubstitutes is ChainDecides with proposer.substitute on: where the pick cannot win, the agent
	// proposes the cheapest other candidate that costs strictly less than the fallback instead.
	ChainSubstitutes
)

// Placer places jobs in the simulator with a network: it scores sim.Candidates and takes the best (Greedy),
// or samples from the softmax of the scores (training). Mode says whether the pick is placed as such or
// goes through the chain's decision. With Record set, it keeps every decision that had a choice (the
// policy's pick, whatever the chain then placed).
type Placer struct {
	Net    *Network
	Greedy bool
	Mode   Mode
	// Rand draws the samples of a non-greedy placer.
	Rand *rand.Rand
	// Steps are the recorded decisions (when Record is set).
	Record bool
	Steps  []Step
	// Label names the placer in results.
	Label string
	// Choices counts the decisions with more than one candidate; NotFallback those where the policy picked
	// another placement than the chain's fallback, CheaperOnChain those of them whose chain cost is lower
	// than the fallback's and TiedOnChain those whose cost equals it (a proposal of either would win the
	// allocation: ties go to proposals).
	Choices, NotFallback, CheaperOnChain, TiedOnChain int
	// Placed counts, over the decisions with a choice, where the job went: the policy's pick (Picked), the
	// fallback's placement although the policy picked another (Overruled), or — ChainSubstitutes only — another
	// candidate the agent's proposer put forward instead of the pick (Substituted). In Direct mode every
	// decision is Picked.
	Picked, Overruled, Substituted int
}

// Step is one recorded decision: when, the candidates' features, and which one the policy picked.
type Step struct {
	Time   float64
	X      [][]float64
	Chosen int
}

func (p *Placer) Name() string {
	if p.Label != "" {
		return p.Label
	}
	switch p.Mode {
	case ChainDecides:
		return "policy (chain decides)"
	case ChainSubstitutes:
		return "policy (chain decides, agent substitutes)"
	}
	return "policy"
}

func (p *Placer) Place(d *sim.Decision) (types.Candidate, bool) {
	cands, fbOK := sim.CandidateSet(d, MaxCandidates)
	if len(cands) == 0 {
		return types.Candidate{}, false
	}
	if len(cands) == 1 {
		return cands[0], true
	}
	x := Features(d, cands, fbOK)
	scores := p.Net.Score(x)
	i := argmax(scores)
	if !p.Greedy {
		i = sample(scores, p.Rand)
	}
	if p.Record {
		p.Steps = append(p.Steps, Step{Time: d.Now, X: x, Chosen: i})
	}
	p.Choices++
	if fbOK && i != 0 {
		p.NotFallback++
		switch cands[i].Score.Total.BigIntMut().Cmp(cands[0].Score.Total.BigIntMut()) {
		case -1:
			p.CheaperOnChain++
		case 0:
			p.TiedOnChain++
		}
	}
	placed := i
	switch p.Mode {
	case ChainDecides:
		placed = ChainOutcome(cands, fbOK, i, false)
	case ChainSubstitutes:
		placed = ChainOutcome(cands, fbOK, i, true)
	}
	switch {
	case placed == i:
		p.Picked++
	case fbOK && placed == 0:
		p.Overruled++
	default:
		p.Substituted++
	}
	return cands[placed], true
}

// ChainOutcome is the candidate the chain places a lease on when an agent runs the policy and the policy
// picks choice among cands (cands[0] is the chain's fallback when fallbackOK; every candidate is valid and
// scored by the chain's types.ScoreCandidate). It models the agent's proposer (agent/proposer.Choose, with
// proposer.substitute as substitute) and then x/allocation's decision (types.ChooseWinner over the proposal
// and the fallback):
//
//   - no valid fallback: the policy's pick is proposed and is the only candidate;
//   - the pick is not the fallback and costs at most the fallback: it is proposed and wins (ties go to
//     proposals);
//   - else, with substitute, the cheapest other candidate (the first on a tie), if it costs strictly less
//     than the fallback, is proposed and wins;
//   - else nothing is proposed (or nothing could win) and the chain places the fallback's placement.
func ChainOutcome(cands []types.Candidate, fallbackOK bool, choice int, substitute bool) int {
	if !fallbackOK {
		return choice
	}
	f := cands[0].Score.Total
	if choice != 0 && cands[choice].Score.Total.LTE(f) {
		return choice
	}
	if !substitute {
		return 0
	}
	best := -1
	for i := 1; i < len(cands); i++ {
		if best < 0 || cands[i].Score.Total.LT(cands[best].Score.Total) {
			best = i
		}
	}
	if best > 0 && cands[best].Score.Total.LT(f) {
		return best
	}
	return 0
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

// sample draws an index from softmax(scores).
func sample(scores []float64, r *rand.Rand) int {
	hi := scores[argmax(scores)]
	var sum float64
	w := make([]float64, len(scores))
	for i, s := range scores {
		w[i] = math.Exp(s - hi)
		sum += w[i]
	}
	u := r.Float64() * sum
	for i, v := range w {
		if u < v {
			return i
		}
		u -= v
	}
	return len(w) - 1
}
