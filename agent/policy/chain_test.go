package policy

import (
	"math/rand"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/agent/sim"
	"github.com/consensus-nro/nro/x/allocation/types"
)

func costs(totals ...int64) []types.Candidate {
	out := make([]types.Candidate, len(totals))
	for i, t := range totals {
		out[i] = types.Candidate{Score: types.ScoreBreakdown{Total: sdkmath.NewInt(t)}}
	}
	return out
}

func TestChainOutcome(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cands  []types.Candidate
		fbOK   bool
		choice int
		want   int
	}{
		{"no fallback: the pick is the only proposal", costs(9, 5, 1), false, 0, 0},
		{"no fallback, pick dearer than another: still the pick", costs(9, 5, 1), false, 1, 1},
		{"pick cheaper than the fallback wins", costs(10, 7, 3), true, 1, 1},
		{"pick tied with the fallback wins (proposals win ties)", costs(10, 10, 3), true, 1, 1},
		{"pick dearer: the proposer proposes the cheapest instead", costs(10, 12, 3, 8), true, 1, 2},
		{"cheapest tie: the first", costs(10, 12, 3, 3), true, 1, 2},
		{"pick dearer, nothing cheaper: fallback", costs(10, 12, 10, 11), true, 1, 0},
		{"pick the fallback, another cheaper: the proposer proposes it", costs(10, 12, 9), true, 0, 2},
		{"pick the fallback, nothing strictly cheaper: fallback", costs(10, 12, 10), true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ChainOutcome(tc.cands, tc.fbOK, tc.choice, true))
			// Without substitution the chain places the pick when it would win, else the fallback.
			want := tc.choice
			if tc.fbOK && tc.choice != 0 && tc.cands[tc.choice].Score.Total.GT(tc.cands[0].Score.Total) {
				want = 0
			}
			require.Equal(t, want, ChainOutcome(tc.cands, tc.fbOK, tc.choice, false))
		})
	}
}

// TestChainModesNeverCostMore places decisions of a busy fleet in every mode: what the chain decides never
// costs more (by the chain's own score) than the fallback, the counters add up, and Direct places the pick.
func TestChainModesNeverCostMore(t *testing.T) {
	data, err := sim.LoadData("../../data")
	require.NoError(t, err)
	cfg := sim.DefaultConfig()
	cfg.Start, cfg.Jobs = 60_000, 400
	m, err := sim.NewMarket(cfg, data)
	require.NoError(t, err)
	net := NewNetwork([]int{8}, 5) // untrained: picks all over the list
	for _, mode := range PolicyModes {
		p := &Placer{Net: net, Greedy: true, Mode: mode}
		decisions := sim.Snapshot(m, 0.5, 200, rand.New(rand.NewSource(2)))
		require.NotEmpty(t, decisions)
		for _, d := range decisions {
			cands, fbOK := sim.CandidateSet(d, MaxCandidates)
			c, ok := p.Place(d)
			require.True(t, ok)
			if mode != Direct && fbOK {
				require.True(t, c.Score.Total.LTE(cands[0].Score.Total), "%s placed a lease dearer than the fallback", p.Name())
			}
		}
		require.Positive(t, p.Choices)
		require.Equal(t, p.Choices, p.Picked+p.Overruled+p.Substituted, p.Name())
		require.GreaterOrEqual(t, p.NotFallback, p.CheaperOnChain+p.TiedOnChain)
		switch mode {
		case Direct:
			require.Equal(t, p.Choices, p.Picked)
		case ChainDecides:
			require.Zero(t, p.Substituted)
			require.Equal(t, p.NotFallback-p.CheaperOnChain-p.TiedOnChain, p.Overruled)
		}
	}
}

func TestDrawStartLargeJobs(t *testing.T) {
	data, err := sim.LoadData("../../data")
	require.NoError(t, err)
	cfg := DefaultTrainConfig()
	cfg.MinLargeJobs = 8
	r := rand.New(rand.NewSource(1))
	for range 5 {
		start, err := drawStart(cfg, data, r)
		require.NoError(t, err)
		require.GreaterOrEqual(t, start, cfg.TrainStarts[0])
		require.Less(t, start, cfg.TrainStarts[1])
		require.GreaterOrEqual(t, LargeJobs(data, start, cfg.Jobs, cfg.Market.MaxJobGPUs), 8)
	}
	cfg.MinLargeJobs = cfg.Jobs
	_, err = drawStart(cfg, data, r)
	require.ErrorContains(t, err, "no training slice")
}
