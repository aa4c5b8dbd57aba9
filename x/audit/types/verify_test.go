package types_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

func TestSampleScores(t *testing.T) {
	// The sample's documented totals, worked by hand from the formula in x/allocation/types/scoring.go, so
	// that a change of the scorer shows up here and not only as "verify still matches".
	d := audittestutil.SampleDecision(t, 1, 100)
	totals := []int64{19_952_000, 23_040_000, 0, 20_960_000}
	for i, want := range totals {
		require.Equal(t, sdkmath.NewInt(want).String(), d.Candidates[i].Score.Total.String(), "candidate %d", i)
	}
	s := d.Candidates[0].Score
	require.Equal(t, "19600000", s.Price.String())
	require.Equal(t, "32000", s.Latency.String())
	require.Equal(t, "400000", s.Fragmentation.String())
	require.Equal(t, "80000", s.Reputation.String())
	require.Equal(t, uint32(0), d.Winner)
	require.Equal(t, []string{"n-a1", "n-a2"}, d.NodeIds)
	require.NoError(t, d.Validate())
}

func TestVerifyDecisionMatch(t *testing.T) {
	d := audittestutil.SampleDecision(t, 7, 120)
	r := types.VerifyDecision(d, 0)
	require.True(t, r.Match, r.String())
	require.Empty(t, r.Problems)
	require.True(t, r.WinnerMatch)
	require.Equal(t, 0, r.RecomputedWinner)
	require.Len(t, r.Candidates, 4)
	for i, c := range r.Candidates {
		require.True(t, c.Match, "candidate %d", i)
		require.Equal(t, i, c.Index)
		require.Empty(t, c.Error)
	}
	require.Equal(t, "19952000", r.Candidates[0].RecomputedTotal)
	require.Equal(t, "proposal", r.Candidates[0].Source)
	require.Equal(t, uint64(3), r.Candidates[0].ProposalID)
	require.NotNil(t, r.Candidates[0].Recomputed)
	// The rejected candidate is listed, not re-scored.
	require.Equal(t, "node n-a1 is JAILED; only ACTIVE nodes take leases", r.Candidates[2].Rejected)
	require.Empty(t, r.Candidates[2].RecomputedTotal)
	require.Nil(t, r.Candidates[2].Recomputed)
	require.Equal(t, "fallback", r.Candidates[3].Source)

	// A placement limit that every candidate meets changes nothing.
	require.True(t, types.VerifyDecision(d, 2).Match)

	out := r.String()
	for _, s := range []string{
		"decision 7 for lease 42 at height 120: MATCH",
		"#0 proposal 3 by nro1alice: total 19952000, as recorded: ok",
		"#1 proposal 5 by nro1bob: total 23040000, as recorded: ok",
		"#2 proposal 7 by nro1carol: rejected at decision time (node n-a1 is JAILED; only ACTIVE nodes take leases); not re-scored",
		"#3 fallback: total 20960000, as recorded: ok",
		"winner: #0 (proposal 3 by nro1alice), as recorded: ok",
	} {
		require.Contains(t, out, s)
	}
	require.NotContains(t, out, "problems:")
}

func TestVerifyDecisionReportJSON(t *testing.T) {
	d := audittestutil.SampleDecision(t, 7, 120)
	bz, err := json.Marshal(types.VerifyDecision(d, 0))
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(bz, &got))
	require.Equal(t, float64(7), got["decision_id"])
	require.Equal(t, float64(42), got["lease_id"])
	require.Equal(t, float64(120), got["height"])
	require.Equal(t, true, got["match"])
	require.NotContains(t, got, "problems")
	cands := got["candidates"].([]any)
	require.Len(t, cands, 4)
	c0 := cands[0].(map[string]any)
	require.Equal(t, map[string]any{
		"index": float64(0), "source": "proposal", "proposal_id": float64(3), "proposer": "nro1alice",
		"recorded_total": "19952000", "recomputed_total": "19952000", "match": true,
	}, c0)
}

func TestVerifyDecisionMismatch(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(d *types.Decision)
		// bad lists the candidates that must fail, by index.
		bad              []int
		winnerMatch      bool
		recomputedWinner int
		contains         []string
	}{
		{
			name:             "recorded term",
			tamper:           func(d *types.Decision) { s := &d.Candidates[1].Score; s.Latency = s.Latency.AddRaw(1) },
			bad:              []int{1},
			winnerMatch:      true,
			recomputedWinner: 0,
			contains: []string{
				"decision 7 for lease 42 at height 120: MISMATCH",
				"#1 proposal 5 by nro1bob: recorded total 23040000, recomputed 23040000: MISMATCH: score differs: latency recorded 1040001, recomputed 1040000",
				"candidate #1 (proposal 5 by nro1bob): score differs: latency recorded 1040001, recomputed 1040000",
			},
		},
		{
			name: "recorded total and bottleneck",
			tamper: func(d *types.Decision) {
				s := &d.Candidates[3].Score
				s.Total = s.Total.SubRaw(5)
				s.BottleneckBandwidthMbps++
			},
			bad:              []int{3},
			winnerMatch:      true,
			recomputedWinner: 0,
			contains: []string{
				"#3 fallback: recorded total 20959995, recomputed 20960000: MISMATCH",
				"total recorded 20959995, recomputed 20960000; bottleneck_bandwidth_mbps recorded 10001, recomputed 10000",
			},
		},
		{
			// n-a2's price raised by 0.5 NRO: proposal 3 costs 2 NRO more and loses to the fallback.
			name: "input: node price",
			tamper: func(d *types.Decision) {
				d.Candidates[0].Nodes[1].PricePerGpuHour = sdkmath.NewInt(2_900_000)
			},
			bad:              []int{0},
			recomputedWinner: 3,
			contains: []string{
				"#0 proposal 3 by nro1alice: recorded total 19952000, recomputed 21952000: MISMATCH: score differs: price recorded 19600000, recomputed 21600000; total recorded 19952000, recomputed 21952000",
				"winner: recorded #0 (proposal 3 by nro1alice), recomputed #3 (fallback): MISMATCH",
			},
		},
		{
			name:             "input: link RTT",
			tamper:           func(d *types.Decision) { d.Candidates[1].Links[1].RttUs = 14_000 },
			bad:              []int{1},
			winnerMatch:      true,
			recomputedWinner: 0,
			contains: []string{
				"latency recorded 1040000, recomputed 1120000",
				"bottleneck_rtt_us recorded 13000, recomputed 14000",
			},
		},
		{
			// Inputs that break a hard constraint: the candidate could not have been scored at all.
			name:             "input: link RTT above the lease's max",
			tamper:           func(d *types.Decision) { d.Candidates[0].Links[0].RttUs = 60_000 },
			bad:              []int{0},
			recomputedWinner: 3,
			contains: []string{
				"#0 proposal 3 by nro1alice: recorded total 19952000, not recomputable: MISMATCH: recorded as scored, but its inputs fail the scorer: ring link n-a1 → n-a2 has RTT 60.000 ms, above the lease's max_rtt_ms 50",
			},
		},
		{
			name:             "input: spec",
			tamper:           func(d *types.Decision) { d.Spec.DurationBlocks = 1200 },
			bad:              []int{0, 1, 3},
			winnerMatch:      true,
			recomputedWinner: 0,
			contains:         []string{"candidate #0", "candidate #1", "candidate #3", "price recorded 19600000, recomputed 39200000"},
		},
		{
			name:             "input: weights",
			tamper:           func(d *types.Decision) { d.Weights.BandwidthPerMbps = 1 },
			bad:              []int{1},
			winnerMatch:      true,
			recomputedWinner: 0,
			contains:         []string{"bandwidth recorded 800000, recomputed 8000"},
		},
		{
			name: "winner index: a costlier candidate",
			tamper: func(d *types.Decision) {
				d.Winner = 3
				d.NodeIds = types.PlacementNodeIDs(d.Candidates[3])
			},
			recomputedWinner: 0,
			contains:         []string{"winner: recorded #3 (fallback), recomputed #0 (proposal 3 by nro1alice): MISMATCH"},
		},
		{
			name:             "winner index: the rejected candidate",
			tamper:           func(d *types.Decision) { d.Winner = 2; d.NodeIds = []string{"n-a1"} },
			recomputedWinner: 0,
			contains:         []string{"winner: recorded #2 (proposal 7 by nro1carol), recomputed #0 (proposal 3 by nro1alice)"},
		},
		{
			name:             "winner index out of range",
			tamper:           func(d *types.Decision) { d.Winner = 9 },
			recomputedWinner: 0,
			contains:         []string{"winner: recorded #9 (out of range: 4 candidates), recomputed #0"},
		},
		{
			name:             "node_ids",
			tamper:           func(d *types.Decision) { d.NodeIds = []string{"n-a1"} },
			winnerMatch:      true,
			recomputedWinner: 0,
			contains:         []string{"node_ids: recorded [n-a1], but the recorded winner's nodes are [n-a1 n-a2]"},
		},
		{
			name:             "unset recorded term",
			tamper:           func(d *types.Decision) { d.Candidates[1].Score.Reputation = sdkmath.Int{} },
			bad:              []int{1},
			winnerMatch:      true,
			recomputedWinner: 0,
			contains:         []string{"reputation recorded <unset>, recomputed 0"},
		},
		{
			name:             "blocks_per_hour 0",
			tamper:           func(d *types.Decision) { d.BlocksPerHour = 0 },
			bad:              []int{0, 1, 3},
			recomputedWinner: -1,
			contains:         []string{"blocks_per_hour is 0", "recomputed none (no candidate can win)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := audittestutil.SampleDecision(t, 7, 120)
			tc.tamper(&d)
			r := types.VerifyDecision(d, 0)
			require.False(t, r.Match, r.String())
			require.NotEmpty(t, r.Problems)
			require.Equal(t, tc.winnerMatch, r.WinnerMatch, r.String())
			require.Equal(t, tc.recomputedWinner, r.RecomputedWinner, r.String())
			for i, c := range r.Candidates {
				require.Equal(t, !contains(tc.bad, i), c.Match, "candidate %d: %s", i, r.String())
				require.Equal(t, c.Match, c.Error == "", "candidate %d", i)
			}
			out := r.String()
			require.Contains(t, out, "MISMATCH")
			require.Contains(t, out, "problems:")
			for _, s := range tc.contains {
				require.Contains(t, out, s)
			}
		})
	}
}

func TestVerifyDecisionMaxNodes(t *testing.T) {
	d := audittestutil.SampleDecision(t, 7, 120)
	r := types.VerifyDecision(d, 1)
	require.False(t, r.Match)
	// The two-node proposals fail the limit; the single-node fallback is then the cheapest.
	require.False(t, r.Candidates[0].Match)
	require.False(t, r.Candidates[1].Match)
	require.True(t, r.Candidates[3].Match)
	require.Equal(t, 3, r.RecomputedWinner)
	require.Contains(t, r.Candidates[0].Error, "placement has 2 nodes; at most 1 are allowed")
}

// tieDecision records the same placement (one node, so identical scores) under several candidates.
func tieDecision(t *testing.T, winner uint32, cands ...allocationtypes.Candidate) types.Decision {
	t.Helper()
	base := audittestutil.SampleCandidates(t)[3] // 8 × n-g1
	for i := range cands {
		c := base
		c.Source, c.ProposalId, c.Proposer = cands[i].Source, cands[i].ProposalId, cands[i].Proposer
		c.Rejected = cands[i].Rejected
		cands[i] = c
	}
	d := audittestutil.SampleDecision(t, 9, 50)
	d.Candidates = cands
	d.Winner = winner
	d.NodeIds = types.PlacementNodeIDs(cands[winner])
	return d
}

func TestVerifyDecisionTieBreak(t *testing.T) {
	proposal := func(id uint64) allocationtypes.Candidate {
		return allocationtypes.Candidate{Source: allocationtypes.CANDIDATE_SOURCE_PROPOSAL, ProposalId: id, Proposer: "nro1p"}
	}
	fallback := allocationtypes.Candidate{Source: allocationtypes.CANDIDATE_SOURCE_FALLBACK}
	rejected := proposal(1)
	rejected.Rejected = "proposal came after the proposal window"

	tests := []struct {
		name   string
		cands  []allocationtypes.Candidate
		winner uint32
		want   int
	}{
		{"lower proposal id wins a tie", []allocationtypes.Candidate{proposal(4), proposal(2)}, 1, 1},
		{"higher proposal id recorded as winner", []allocationtypes.Candidate{proposal(4), proposal(2)}, 0, 1},
		{"a proposal beats the fallback on a tie", []allocationtypes.Candidate{fallback, proposal(9)}, 1, 1},
		{"the fallback recorded as winner of a tie", []allocationtypes.Candidate{fallback, proposal(9)}, 0, 1},
		{"a rejected candidate does not take part", []allocationtypes.Candidate{rejected, proposal(3), fallback}, 1, 1},
		{"the fallback alone", []allocationtypes.Candidate{rejected, fallback}, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tieDecision(t, tc.winner, tc.cands...)
			r := types.VerifyDecision(d, 0)
			require.Equal(t, tc.want, r.RecomputedWinner, r.String())
			require.Equal(t, int(tc.winner) == tc.want, r.Match, r.String())
			require.Equal(t, r.Match, r.WinnerMatch)
			for _, c := range r.Candidates {
				require.True(t, c.Match, "every score is right; only the winner may differ")
			}
		})
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
