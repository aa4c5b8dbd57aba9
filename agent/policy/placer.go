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

// Placer places jobs in the simulator with a network: it scores sim.Candidates and takes the best (Greedy),
// or samples from the softmax of the scores (training). With Record set, it keeps every decision that had
// a choice.
type Placer struct {
	Net    *Network
	Greedy bool
	// Rand draws the samples of a non-greedy placer.
	Rand *rand.Rand
	// Steps are the recorded decisions (when Record is set).
	Record bool
	Steps  []Step
	// Label names the placer in results.
	Label string
	// Choices counts the decisions with more than one candidate; NotFallback those where the policy took
	// another placement than the chain's fallback, and CheaperOnChain those of them whose chain cost is
	// lower than the fallback's (a proposal of it would win the allocation).
	Choices, NotFallback, CheaperOnChain int
}

// Step is one recorded decision: when, the candidates' features, and which one was taken.
type Step struct {
	Time   float64
	X      [][]float64
	Chosen int
}

func (p *Placer) Name() string {
	if p.Label != "" {
		return p.Label
	}
	return "policy"
}

func (p *Placer) Place(d *sim.Decision) (types.Candidate, bool) {
	cands := sim.Candidates(d, MaxCandidates)
	if len(cands) == 0 {
		return types.Candidate{}, false
	}
	if len(cands) == 1 {
		return cands[0], true
	}
	x := Features(d, cands, true)
	scores := p.Net.Score(x)
	i := argmax(scores)
	if !p.Greedy {
		i = sample(scores, p.Rand)
	}
	if p.Record {
		p.Steps = append(p.Steps, Step{Time: d.Now, X: x, Chosen: i})
	}
	p.Choices++
	if i != 0 {
		p.NotFallback++
		if cands[i].Score.Total.LT(cands[0].Score.Total) {
			p.CheaperOnChain++
		}
	}
	return cands[i], true
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
