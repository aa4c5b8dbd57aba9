package policy_test

import (
	"math/rand"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/agent/policy"
	"github.com/consensus-nro/nro/agent/proposer"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// TestChainOutcomeIsProposerThenChain checks policy.ChainOutcome against what the real pieces do: the
// agent's proposer (proposer.Choose) picks what to propose, and x/allocation's types.ChooseWinner decides
// between that proposal and the fallback.
func TestChainOutcomeIsProposerThenChain(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for k := range 10_000 {
		substitute := k%2 == 1
		n := 1 + r.Intn(6)
		fbOK := r.Intn(5) > 0
		cands := make([]types.Candidate, n)
		opts := make([]proposer.Option, n)
		for i := range cands {
			cands[i] = types.Candidate{Score: types.ScoreBreakdown{Total: sdkmath.NewInt(int64(r.Intn(6)))}}
			opts[i] = proposer.Option{Candidate: cands[i], Valid: true}
		}
		choice := r.Intn(n)
		fallback := -1
		if fbOK {
			fallback = 0
		}
		want := 0
		if i, _ := proposer.Choose(opts, fallback, choice, substitute); i >= 0 {
			prop := cands[i]
			prop.Source, prop.ProposalId = types.CANDIDATE_SOURCE_PROPOSAL, 1
			onChain := []types.Candidate{prop}
			if fbOK {
				fb := cands[0]
				fb.Source = types.CANDIDATE_SOURCE_FALLBACK
				onChain = append(onChain, fb)
			}
			w, ok := types.ChooseWinner(onChain)
			require.True(t, ok)
			if w == 0 {
				want = i
			}
		} else {
			require.True(t, fbOK, "with no fallback the proposer always proposes")
		}
		require.Equal(t, want, policy.ChainOutcome(cands, fbOK, choice, substitute), "costs %v, fallback %v, choice %d, substitute %v", totals(cands), fbOK, choice, substitute)
	}
}

func totals(cands []types.Candidate) []string {
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = c.Score.Total.String()
	}
	return out
}
