package policy

import (
	"context"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/agent/sim"
)

func TestForwardMatchesGorgonia(t *testing.T) {
	net := NewNetwork([]int{8, 4}, 3)
	const batch, k = 3, MaxCandidates
	gr, err := newGraph(net, batch, k)
	require.NoError(t, err)
	f := len(FeatureNames)
	r := rand.New(rand.NewSource(1))
	x := make([]float64, batch*k*f)
	for i := range x {
		x[i] = r.Float64()
	}
	mask := make([]float64, batch*k)
	pick := make([]float64, batch*k)
	for b := range batch {
		pick[b*k] = 1
	}
	require.NoError(t, gr.set(x, mask, pick, []float64{1, 1, 1}))
	require.NoError(t, gr.vm.RunAll())
	got := gr.scores.Value().Data().([]float64)
	rows := make([][]float64, batch*k)
	for i := range rows {
		rows[i] = x[i*f : (i+1)*f]
	}
	want := net.Score(rows)
	require.InDeltaSlice(t, want, got, 1e-12)
}

func TestSaveLoad(t *testing.T) {
	net := NewNetwork([]int{8}, 2)
	net.Trained.Iterations = 7
	path := filepath.Join(t.TempDir(), "p.json")
	require.NoError(t, net.Save(path))
	back, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, net, back)
	row := make([]float64, len(FeatureNames))
	row[0] = 0.5
	require.Equal(t, net.Score([][]float64{row}), back.Score([][]float64{row}))

	bad := NewNetwork([]int{8}, 2)
	bad.Features = bad.Features[1:]
	require.NoError(t, bad.Save(path))
	_, err = Load(path)
	require.ErrorContains(t, err, "retrain it")
}

func TestTrainingImprovesOnRandom(t *testing.T) {
	data, err := sim.LoadData("../../data")
	require.NoError(t, err)
	cfg := DefaultTrainConfig()
	cfg.Iterations, cfg.Episodes, cfg.Jobs, cfg.ValidateEvery = 6, 3, 300, 2
	// 1,000 jobs: enough queueing that placement matters (on 300 even random placement is as good).
	cfg.Validation.Jobs = 1_000
	cfg.ValidationStarts = cfg.ValidationStarts[:1]
	net, err := Train(context.Background(), cfg, data, nil, func(p Progress) { t.Logf("%+v", p) })
	require.NoError(t, err)
	vc := cfg.Validation
	vc.Start = cfg.ValidationStarts[0]
	m, err := sim.NewMarket(vc, data)
	require.NoError(t, err)
	random, err := m.Run(sim.Random{})
	require.NoError(t, err)
	trained, err := m.Run(&Placer{Net: net, Greedy: true})
	require.NoError(t, err)
	// The candidate list alone (the fallback and heuristics) beats random placement; what training adds is
	// measured against the same network before any step.
	untrained, err := m.Run(&Placer{Net: NewNetwork(cfg.Hidden, cfg.Seed), Greedy: true})
	require.NoError(t, err)
	t.Logf("random %.2f h, untrained %.2f h, trained %.2f h", random.MeanJCT/3600, untrained.MeanJCT/3600, trained.MeanJCT/3600)
	require.Less(t, trained.MeanJCT, random.MeanJCT)
	require.Less(t, trained.MeanJCT, untrained.MeanJCT)
}

func TestDefaultPolicy(t *testing.T) {
	net, err := Default()
	require.NoError(t, err)
	require.NoError(t, net.Validate())
	require.Positive(t, net.Trained.Iterations)
	// The committed policy is what `make train-policy` (the default configuration) produces.
	cfg := DefaultTrainConfig()
	tr := net.Trained
	require.Equal(t, cfg.Iterations, tr.Iterations, "iterations")
	require.Equal(t, cfg.Episodes, tr.Episodes, "episodes")
	require.Equal(t, cfg.Seed, tr.Seed, "seed")
	require.Equal(t, cfg.Jobs, tr.TrainJobs, "training jobs")
	require.Equal(t, cfg.TrainStarts, tr.TrainStart, "training start range")
	require.Equal(t, cfg.Market.Load, tr.Load, "load")
	require.Equal(t, cfg.MinLargeJobs, tr.MinLargeJobs, "min large jobs")
	require.Equal(t, cfg.Mode, tr.Mode, "mode")
	// Default returns a copy: changing it does not change the next one.
	net.Layers[0].W[0] += 1
	again, err := Default()
	require.NoError(t, err)
	require.NotEqual(t, net.Layers[0].W[0], again.Layers[0].W[0])
}

func TestEvaluate(t *testing.T) {
	data, err := sim.LoadData("../../data")
	require.NoError(t, err)
	net, err := Default()
	require.NoError(t, err)
	cfg := DefaultEvalConfig()
	cfg.Market.Jobs = 200
	cfg.Starts = []int{70_000, 71_000}
	ev, err := Evaluate(net, data, cfg)
	require.NoError(t, err)
	require.Len(t, ev.Slices, 2)
	nb := len(sim.Baselines())
	require.Len(t, ev.Summary, 1+nb+len(PolicyModes))
	require.Equal(t, "offline bound", ev.Summary[0].Placer)
	for k, mode := range PolicyModes {
		require.Equal(t, (&Placer{Mode: mode}).Name(), ev.Summary[1+nb+k].Placer)
		require.Equal(t, ev.Summary[1+nb+k].Placer, ev.Policies[k].Placer)
		require.Equal(t, ev.Summary[1+nb+k].Placer, ev.Decisions[k].Placer)
		c := ev.Decisions[k]
		require.Equal(t, c.Choices, c.Picked+c.Overruled+c.Substituted)
	}
	require.Equal(t, ev.Decisions[0].Choices, ev.Decisions[0].Picked, "the policy alone places what it picks")
	for i, s := range ev.Summary {
		require.InDelta(t, (ev.Slices[0].Results[i].MeanJCT+ev.Slices[1].Results[i].MeanJCT)/2, s.MeanJCT, 1e-6)
		require.GreaterOrEqual(t, s.MeanJCT, ev.Summary[0].MeanJCT, "nothing beats the offline bound: %s", s.Placer)
	}
	var best sim.Result
	for _, s := range ev.Summary[1 : 1+nb] {
		if s.Placer == ev.BestHeuristic {
			best = s
		}
	}
	for k := range PolicyModes {
		require.InDelta(t, 1-ev.Summary[1+nb+k].MeanJCT/best.MeanJCT, ev.Policies[k].JCTReduction, 1e-12)
	}
	require.Equal(t, ev.Policies[0].JCTReduction, ev.JCTReduction)
	var out strings.Builder
	require.NoError(t, ev.WriteReport(&out))
	require.Contains(t, out.String(), "policy vs the best heuristic ("+ev.BestHeuristic+")")
	require.Contains(t, out.String(), "policy (chain decides) vs the best heuristic")
	dir := t.TempDir()
	require.NoError(t, WritePlots(dir, ev))
	for _, f := range []string{"mean-jct.png", "bandwidth-utilisation.png", "cost.png"} {
		require.FileExists(t, filepath.Join(dir, f))
	}

	// Only the fallback to compare with: it is the best heuristic, and there is no static placement.
	cfg.Baselines = []sim.Placer{sim.Fallback{}}
	cfg.Starts = cfg.Starts[:1]
	ev, err = Evaluate(net, data, cfg)
	require.NoError(t, err)
	require.Len(t, ev.Summary, 2+len(PolicyModes))
	require.Equal(t, sim.Fallback{}.Name(), ev.BestHeuristic)
	out.Reset()
	require.NoError(t, ev.WriteReport(&out))
	require.Contains(t, out.String(), "no static region-blind placement")
}

func TestTrainConfigValidate(t *testing.T) {
	cfg := DefaultTrainConfig()
	require.NoError(t, cfg.Validate())
	cfg.ValidationStarts = []int{1000}
	require.ErrorContains(t, cfg.Validate(), "overlaps the training range")
	cfg.ValidationStarts = []int{69_000}
	require.ErrorContains(t, cfg.Validate(), "overlaps the held-out slice")
	cfg.ValidationStarts = []int{60_000, 64_000, 68_000}
	require.NoError(t, cfg.Validate())
	cfg = DefaultTrainConfig()
	cfg.Episodes = 1
	require.ErrorContains(t, cfg.Validate(), "episodes 1")
	cfg = DefaultTrainConfig()
	cfg.LearnRate = 0
	require.ErrorContains(t, cfg.Validate(), "learn rate")
	cfg = DefaultTrainConfig()
	cfg.MinLargeJobs = cfg.Jobs + 1
	require.ErrorContains(t, cfg.Validate(), "min large jobs")
	cfg = DefaultTrainConfig()
	cfg.Mode = Mode(7)
	require.ErrorContains(t, cfg.Validate(), "mode 7")
}

// validationJCT is what a network's greedy placements give on cfg's validation slices, in hours (as Train
// measures it).
func validationJCT(t *testing.T, cfg TrainConfig, data *sim.Data, net *Network) float64 {
	t.Helper()
	var sum float64
	for _, start := range cfg.ValidationStarts {
		vc := cfg.Validation
		vc.Start = start
		m, err := sim.NewMarket(vc, data)
		require.NoError(t, err)
		res, err := m.Run(&Placer{Net: net, Greedy: true, Mode: cfg.Mode})
		require.NoError(t, err)
		sum += res.MeanJCT / 3600 / float64(len(cfg.ValidationStarts))
	}
	return sum
}

// TestResumeKeepsTheBestCheckpoint: the checkpoint always holds the best network validated so far with its
// own validation result — also after a resumed run whose validations do not improve on it (a learning
// rate too small to move the weights).
func TestResumeKeepsTheBestCheckpoint(t *testing.T) {
	data, err := sim.LoadData("../../data")
	require.NoError(t, err)
	cfg := DefaultTrainConfig()
	cfg.Iterations, cfg.Episodes, cfg.Jobs, cfg.ValidateEvery = 2, 2, 200, 1
	cfg.Validation.Jobs = 200
	cfg.ValidationStarts = cfg.ValidationStarts[:1]
	cfg.Checkpoint = filepath.Join(t.TempDir(), "ck.json")
	_, err = Train(context.Background(), cfg, data, nil, nil)
	require.NoError(t, err)
	first, err := Load(cfg.Checkpoint)
	require.NoError(t, err)
	require.Equal(t, 2, first.Trained.Iterations)
	require.Positive(t, first.Trained.MeanJCTHours)
	require.InDelta(t, validationJCT(t, cfg, data, first), first.Trained.MeanJCTHours, 1e-9)

	cfg.Iterations, cfg.Resume, cfg.LearnRate = 4, true, 1e-15
	var validated []float64
	got, err := Train(context.Background(), cfg, data, nil, func(p Progress) { validated = append(validated, p.ValidationJCTHours) })
	require.NoError(t, err)
	require.Len(t, validated, 2, "the resumed run does iterations 3 and 4 only")
	for _, v := range validated {
		require.GreaterOrEqual(t, v, first.Trained.MeanJCTHours, "weights this close to the checkpoint's cannot do better")
	}
	saved, err := Load(cfg.Checkpoint)
	require.NoError(t, err)
	require.Equal(t, 4, saved.Trained.Iterations)
	require.Equal(t, first.Trained.MeanJCTHours, saved.Trained.MeanJCTHours, "the checkpoint keeps the best result")
	require.Equal(t, first.Layers, saved.Layers, "and the best weights")
	require.Equal(t, saved.Layers, got.Layers, "Train returns the best network")
}
