package types

import (
	"fmt"
	"slices"
	"strings"

	sdkmath "cosmossdk.io/math"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
)

// CandidateCheck is the verification of one recorded candidate.
type CandidateCheck struct {
	Index      int    `json:"index"`
	Source     string `json:"source"` // proposal or fallback
	ProposalID uint64 `json:"proposal_id"`
	Proposer   string `json:"proposer,omitempty"`
	// Rejected is the recorded reason a candidate was not scored. Such a candidate is not re-scored: the
	// reason may depend on state the record does not hold (a node that was jailed, capacity taken by an
	// earlier lease of the same block).
	Rejected        string `json:"rejected,omitempty"`
	RecordedTotal   string `json:"recorded_total"`
	RecomputedTotal string `json:"recomputed_total,omitempty"`
	// Match is true when every recomputed field equals the recorded one (always true for a rejected candidate).
	Match bool `json:"match"`
	// Error says what differs, or why the candidate could not be re-scored.
	Error string `json:"error,omitempty"`
	// Recomputed is the recomputed score; nil for rejected candidates and scoring errors.
	Recomputed *allocationtypes.ScoreBreakdown `json:"-"`
}

// Label names the candidate for people, as CandidateLabel does.
func (c CandidateCheck) Label() string {
	switch c.Source {
	case "fallback", "partial re-placement":
		return c.Source
	case "proposal":
		if c.Proposer != "" {
			return fmt.Sprintf("proposal %d by %s", c.ProposalID, c.Proposer)
		}
		return fmt.Sprintf("proposal %d", c.ProposalID)
	default:
		return "candidate of source " + c.Source
	}
}

// Report is the outcome of VerifyDecision. It marshals to the JSON that `nrod audit verify-decision -o json`
// prints.
type Report struct {
	DecisionID uint64 `json:"decision_id"`
	LeaseID    uint64 `json:"lease_id"`
	Height     int64  `json:"height"`
	// Match is true when every candidate's score and the winner were reproduced.
	Match          bool   `json:"match"`
	RecordedWinner uint32 `json:"recorded_winner"`
	// RecomputedWinner is the index ChooseWinner picks from the recomputed scores; -1 when no candidate can win.
	RecomputedWinner int              `json:"recomputed_winner"`
	WinnerMatch      bool             `json:"winner_match"`
	Candidates       []CandidateCheck `json:"candidates"`
	// Problems lists every mismatch in words, candidates first; empty when Match.
	Problems []string `json:"problems,omitempty"`
}

// VerifyDecision re-executes the allocation scorer on a decision's recorded inputs and compares the result
// with what the chain recorded:
//
//   - every candidate that was not rejected is scored again with allocationtypes.ScoreCandidate (which also
//     re-checks the placement against the lease spec) and each field of its ScoreBreakdown is compared with
//     the recorded one;
//   - the winner is chosen again with allocationtypes.ChooseWinner over the recomputed scores (a candidate
//     whose inputs now fail the placement check cannot win) and compared with the recorded index;
//   - node_ids must be the winner's nodes, sorted.
//
// maxNodes is x/allocation's node-count limit to re-check; 0 skips that check, so that a decision made
// under older params still verifies. VerifyDecision is pure: it reads nothing but its arguments.
func VerifyDecision(d Decision, maxNodes uint32) Report {
	r := Report{
		DecisionID:       d.Id,
		LeaseID:          d.LeaseId,
		Height:           d.Height,
		RecordedWinner:   d.Winner,
		RecomputedWinner: -1,
		Candidates:       make([]CandidateCheck, 0, len(d.Candidates)),
	}
	rescored := make([]allocationtypes.Candidate, len(d.Candidates))
	for i, c := range d.Candidates {
		chk := CandidateCheck{
			Index:         i,
			Source:        sourceName(c.Source),
			ProposalID:    c.ProposalId,
			Proposer:      c.Proposer,
			Rejected:      c.Rejected,
			RecordedTotal: intString(c.Score.Total),
		}
		rescored[i] = c
		if c.Rejected != "" {
			chk.Match = true
			r.Candidates = append(r.Candidates, chk)
			continue
		}
		s, err := allocationtypes.ScoreCandidate(d.Spec, d.BlocksPerHour, d.Weights, c, maxNodes)
		if err != nil {
			chk.Error = "recorded as scored, but its inputs fail the scorer: " + err.Error()
			// It cannot win the recomputation.
			rescored[i].Rejected = err.Error()
		} else {
			chk.Recomputed = &s
			chk.RecomputedTotal = s.Total.String()
			rescored[i].Score = s
			if diffs := diffScores(c.Score, s); len(diffs) > 0 {
				chk.Error = "score differs: " + strings.Join(diffs, "; ")
			} else {
				chk.Match = true
			}
		}
		if !chk.Match {
			r.Problems = append(r.Problems, fmt.Sprintf("candidate #%d (%s): %s", i, chk.Label(), chk.Error))
		}
		r.Candidates = append(r.Candidates, chk)
	}

	if w, ok := allocationtypes.ChooseWinner(rescored); ok {
		r.RecomputedWinner = w
	}
	r.WinnerMatch = r.RecomputedWinner >= 0 && r.RecomputedWinner == int(d.Winner)
	if !r.WinnerMatch {
		r.Problems = append(r.Problems, fmt.Sprintf("winner: recorded %s, recomputed %s",
			r.describe(int(d.Winner)), r.describe(r.RecomputedWinner)))
	}
	if int(d.Winner) < len(d.Candidates) {
		if want := PlacementNodeIDs(d.Candidates[d.Winner]); !slices.Equal(d.NodeIds, want) {
			r.Problems = append(r.Problems, fmt.Sprintf("node_ids: recorded %v, but the recorded winner's nodes are %v", d.NodeIds, want))
		}
	}
	r.Match = len(r.Problems) == 0
	return r
}

// describe names candidate i of the report, or says why there is none.
func (r Report) describe(i int) string {
	switch {
	case i < 0:
		return "none (no candidate can win)"
	case i >= len(r.Candidates):
		return fmt.Sprintf("#%d (out of range: %d candidates)", i, len(r.Candidates))
	default:
		return fmt.Sprintf("#%d (%s)", i, r.Candidates[i].Label())
	}
}

// String renders the report for people: one line per candidate, the winner, then every problem.
func (r Report) String() string {
	var b strings.Builder
	verdict := "MATCH: the recorded scores and winner were reproduced"
	if !r.Match {
		verdict = "MISMATCH"
	}
	fmt.Fprintf(&b, "decision %d for lease %d at height %d: %s\n", r.DecisionID, r.LeaseID, r.Height, verdict)
	b.WriteString("candidates:\n")
	for _, c := range r.Candidates {
		fmt.Fprintf(&b, "  #%d %s: ", c.Index, c.Label())
		switch {
		case c.Rejected != "":
			fmt.Fprintf(&b, "rejected at decision time (%s); not re-scored\n", c.Rejected)
		case c.Match:
			fmt.Fprintf(&b, "total %s, as recorded: ok\n", c.RecomputedTotal)
		case c.RecomputedTotal == "":
			fmt.Fprintf(&b, "recorded total %s, not recomputable: MISMATCH: %s\n", c.RecordedTotal, c.Error)
		default:
			fmt.Fprintf(&b, "recorded total %s, recomputed %s: MISMATCH: %s\n", c.RecordedTotal, c.RecomputedTotal, c.Error)
		}
	}
	if r.WinnerMatch {
		fmt.Fprintf(&b, "winner: %s, as recorded: ok\n", r.describe(r.RecomputedWinner))
	} else {
		fmt.Fprintf(&b, "winner: recorded %s, recomputed %s: MISMATCH\n", r.describe(int(r.RecordedWinner)), r.describe(r.RecomputedWinner))
	}
	if len(r.Problems) > 0 {
		b.WriteString("problems:\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  - %s\n", p)
		}
	}
	return b.String()
}

// diffScores lists every field of recorded that differs from recomputed.
func diffScores(recorded, recomputed allocationtypes.ScoreBreakdown) []string {
	var diffs []string
	ints := []struct {
		name string
		a, b sdkmath.Int
	}{
		{"price", recorded.Price, recomputed.Price},
		{"latency", recorded.Latency, recomputed.Latency},
		{"bandwidth", recorded.Bandwidth, recomputed.Bandwidth},
		{"fragmentation", recorded.Fragmentation, recomputed.Fragmentation},
		{"reputation", recorded.Reputation, recomputed.Reputation},
		{"total", recorded.Total, recomputed.Total},
	}
	for _, f := range ints {
		if !equalInt(f.a, f.b) {
			diffs = append(diffs, fmt.Sprintf("%s recorded %s, recomputed %s", f.name, intString(f.a), intString(f.b)))
		}
	}
	uints := []struct {
		name string
		a, b uint64
	}{
		{"bottleneck_rtt_us", recorded.BottleneckRttUs, recomputed.BottleneckRttUs},
		{"bottleneck_bandwidth_mbps", recorded.BottleneckBandwidthMbps, recomputed.BottleneckBandwidthMbps},
		{"stranded_gpus", uint64(recorded.StrandedGpus), uint64(recomputed.StrandedGpus)},
	}
	for _, f := range uints {
		if f.a != f.b {
			diffs = append(diffs, fmt.Sprintf("%s recorded %d, recomputed %d", f.name, f.a, f.b))
		}
	}
	return diffs
}

func equalInt(a, b sdkmath.Int) bool {
	if a.IsNil() || b.IsNil() {
		return a.IsNil() == b.IsNil()
	}
	return a.Equal(b)
}

func intString(i sdkmath.Int) string {
	if i.IsNil() {
		return "<unset>"
	}
	return i.String()
}

func sourceName(s allocationtypes.CandidateSource) string {
	switch s {
	case allocationtypes.CANDIDATE_SOURCE_PROPOSAL:
		return "proposal"
	case allocationtypes.CANDIDATE_SOURCE_FALLBACK:
		return "fallback"
	case allocationtypes.CANDIDATE_SOURCE_PARTIAL:
		return "partial re-placement"
	default:
		return strings.ToLower(strings.TrimPrefix(s.String(), "CANDIDATE_SOURCE_"))
	}
}
