package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"slices"

	"github.com/schollz/progressbar/v3"
	G "gorgonia.org/gorgonia"

	"github.com/consensus-nro/nro/agent/sim"
)

// TrainConfig is a training run. Each iteration draws a slice of the trace from the training range, runs
// Episodes sampled episodes of the policy on it, and takes gradient steps on every recorded decision with
// the REINFORCE estimator: the return of a decision is the job completion time still to come when it was
// made (Σ over jobs of finish − max(arrival, t)), its baseline the mean of the other episodes' at the same
// time (Decima's time-based baseline), so a decision is credited with how much it shortened everyone's
// wait, not only its own job's.
type TrainConfig struct {
	Hidden     []int
	Iterations int
	Episodes   int
	// Jobs per training slice; slice starts are drawn from [TrainStarts[0], TrainStarts[1]).
	Jobs        int
	TrainStarts [2]int
	// MinLargeJobs, when above 0, keeps only training slices with at least that many jobs of LargeJobGPUs
	// GPUs or more (within the market's MaxJobGPUs): starts are drawn again until one has them — training on
	// the heavy months.
	MinLargeJobs int
	// Mode is how the training and validation placers place the policy's pick (Direct: as picked;
	// ChainDecides: as the chain would decide with the policy's agent proposing; ChainSubstitutes: the same
	// with proposer.substitute on).
	Mode Mode
	// Validation is the market the greedy policy is measured on every ValidateEvery iterations, once per
	// start in ValidationStarts (the mean JCT over them decides); the best network so far is the one kept.
	// The slices must not overlap the training range or the evaluation slices.
	Validation       sim.Config
	ValidationStarts []int
	ValidateEvery    int
	Market           sim.Config // fleet, load and fault rates of the training slices
	LearnRate        float64
	Batch            int
	Seed             int64
	// Checkpoint, when set, is where the best network is saved after every validation; with Resume a
	// run continues from it (the iteration count, the weights; Adam's moments start again from zero).
	Checkpoint string
	Resume     bool
}

// DefaultTrainConfig trains on slices of the first 60,000 trace jobs, validates on two slices of 2,000
// jobs from 60,000 and 64,000, and leaves the rest (from 70,000) to evaluation. It is the configuration the
// committed default policy was trained with (`make train-policy`); TestDefaultPolicy holds the two together.
func DefaultTrainConfig() TrainConfig {
	market := sim.DefaultConfig()
	val := market
	val.Jobs = 2_000
	return TrainConfig{
		Hidden: []int{32, 16}, Iterations: 300, Episodes: 4, Jobs: 1_000, TrainStarts: [2]int{0, 59_000},
		Validation: val, ValidationStarts: []int{60_000, 64_000}, ValidateEvery: 5, Market: market,
		LearnRate: 0.003, Batch: 256, Seed: 1,
	}
}

// Validate checks a training configuration.
func (c TrainConfig) Validate() error {
	var errs []error
	if c.Iterations < 1 || c.Episodes < 2 || c.Jobs < 10 || c.Batch < 1 || c.ValidateEvery < 1 {
		errs = append(errs, fmt.Errorf("iterations %d, episodes %d, jobs %d, batch %d, validate-every %d: give at least 1, 2 (the baseline compares episodes), 10, 1 and 1",
			c.Iterations, c.Episodes, c.Jobs, c.Batch, c.ValidateEvery))
	}
	if c.TrainStarts[0] < 0 || c.TrainStarts[1] <= c.TrainStarts[0] {
		errs = append(errs, fmt.Errorf("training slice starts [%d, %d): give 0 <= from < to", c.TrainStarts[0], c.TrainStarts[1]))
	}
	if c.MinLargeJobs < 0 || c.MinLargeJobs > c.Jobs {
		errs = append(errs, fmt.Errorf("min large jobs %d: give 0 to the slice's %d jobs", c.MinLargeJobs, c.Jobs))
	}
	if c.Mode != Direct && c.Mode != ChainDecides && c.Mode != ChainSubstitutes {
		errs = append(errs, fmt.Errorf("mode %d: unknown", c.Mode))
	}
	if len(c.ValidationStarts) == 0 {
		errs = append(errs, errors.New("no validation slice: give at least one start"))
	}
	held := DefaultEvalConfig()
	for _, v := range c.ValidationStarts {
		if v < c.TrainStarts[1]+c.Jobs && v+c.Validation.Jobs > c.TrainStarts[0] {
			errs = append(errs, fmt.Errorf("validation slice [%d, %d) overlaps the training range [%d, %d)",
				v, v+c.Validation.Jobs, c.TrainStarts[0], c.TrainStarts[1]+c.Jobs))
		}
		for _, h := range held.Starts {
			if v < h+held.Market.Jobs && v+c.Validation.Jobs > h {
				errs = append(errs, fmt.Errorf("validation slice [%d, %d) overlaps the held-out slice [%d, %d)",
					v, v+c.Validation.Jobs, h, h+held.Market.Jobs))
			}
		}
	}
	if !(c.LearnRate > 0 && c.LearnRate < 1) {
		errs = append(errs, fmt.Errorf("learn rate %v: give a number in (0, 1)", c.LearnRate))
	}
	for _, h := range c.Hidden {
		if h < 1 || h > 1024 {
			errs = append(errs, fmt.Errorf("hidden layer size %d: give 1 to 1024", h))
		}
	}
	return errors.Join(errs...)
}

// Progress is reported after every iteration.
type Progress struct {
	Iteration int
	// SampledJCTHours is the mean JCT of this iteration's sampled episodes (the running reward is its
	// negative).
	SampledJCTHours float64
	// ValidationJCTHours is the greedy policy's mean JCT on the validation slice (0 when not measured this
	// iteration); BestJCTHours the best so far.
	ValidationJCTHours, BestJCTHours float64
}

// Train trains a network. progress (may be nil) gets a progress bar with the running reward; report (may
// be nil) is called after every iteration.
func Train(ctx context.Context, cfg TrainConfig, data *sim.Data, progress io.Writer, report func(Progress)) (*Network, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	net := NewNetwork(cfg.Hidden, cfg.Seed)
	if cfg.Resume && cfg.Checkpoint != "" {
		loaded, err := Load(cfg.Checkpoint)
		switch {
		case err == nil:
			net = loaded
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, fmt.Errorf("resuming from %s: %w", cfg.Checkpoint, err)
		}
	}
	var vals []*sim.Market
	for _, start := range cfg.ValidationStarts {
		vc := cfg.Validation
		vc.Start = start
		m, err := sim.NewMarket(vc, data)
		if err != nil {
			return nil, fmt.Errorf("validation slice from %d: %w", start, err)
		}
		vals = append(vals, m)
	}
	// best is a copy: the graph writes its weights into net after every step, and best must keep the
	// weights its validation measured (on a resumed run, the loaded checkpoint's).
	best := clone(net)
	bestJCT := math.Inf(1)
	if net.Trained.MeanJCTHours > 0 {
		bestJCT = net.Trained.MeanJCTHours
	}
	gr, err := newGraph(net, cfg.Batch, MaxCandidates)
	if err != nil {
		return nil, err
	}
	defer func() { _ = gr.vm.Close() }()
	solver := G.NewAdamSolver(G.WithLearnRate(cfg.LearnRate), G.WithClip(5))
	first := net.Trained.Iterations
	var bar *progressbar.ProgressBar
	if progress != nil {
		bar = progressbar.NewOptions(cfg.Iterations-first, progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription("training"), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionOnCompletion(func() { _, _ = fmt.Fprintln(progress) }))
	}
	for it := first; it < cfg.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return best, err
		}
		r := rand.New(rand.NewSource(cfg.Seed*1_000_003 + int64(it)))
		mc := cfg.Market
		mc.Jobs = cfg.Jobs
		mc.Start, err = drawStart(cfg, data, r)
		if err != nil {
			return best, err
		}
		mc.Seed = r.Int63()
		market, err := sim.NewMarket(mc, data)
		if err != nil {
			return best, err
		}
		episodes := make([]episode, cfg.Episodes)
		var sampled float64
		for e := range episodes {
			p := &Placer{Net: net, Mode: cfg.Mode, Rand: rand.New(rand.NewSource(r.Int63())), Record: true}
			res, err := market.Run(p)
			if err != nil {
				return best, fmt.Errorf("iteration %d episode %d: %w", it, e, err)
			}
			episodes[e] = episode{steps: p.Steps, jobs: res.JobsDone}
			sampled += res.MeanJCT / 3600 / float64(cfg.Episodes)
		}
		if err := step(gr, solver, episodes, cfg.Batch); err != nil {
			return best, fmt.Errorf("iteration %d: %w", it, err)
		}
		gr.copyTo(net)
		net.Trained = TrainingRecord{Iterations: it + 1, Episodes: cfg.Episodes, Seed: cfg.Seed, TrainJobs: cfg.Jobs,
			TrainStart: cfg.TrainStarts, Load: cfg.Market.Load, MinLargeJobs: cfg.MinLargeJobs, Mode: cfg.Mode}
		pr := Progress{Iteration: it + 1, SampledJCTHours: sampled}
		if (it+1)%cfg.ValidateEvery == 0 || it+1 == cfg.Iterations {
			for _, val := range vals {
				res, err := val.Run(&Placer{Net: net, Greedy: true, Mode: cfg.Mode})
				if err != nil {
					return best, err
				}
				pr.ValidationJCTHours += res.MeanJCT / 3600 / float64(len(vals))
			}
			if pr.ValidationJCTHours < bestJCT {
				bestJCT = pr.ValidationJCTHours
				best = clone(net)
				best.Trained.MeanJCTHours = bestJCT
			}
			best.Trained.Iterations = it + 1
			if cfg.Checkpoint != "" {
				if err := best.Save(cfg.Checkpoint); err != nil {
					return best, err
				}
			}
		}
		pr.BestJCTHours = bestJCT
		if bar != nil {
			bar.Describe(fmt.Sprintf("reward %.3f (mean JCT %.2f h), best validation %.2f h", -sampled, sampled, bestJCT))
			_ = bar.Add(1)
		}
		if report != nil {
			report(pr)
		}
	}
	return best, nil
}

// LargeJobGPUs is the size from which a job counts as large for TrainConfig.MinLargeJobs.
const LargeJobGPUs = 16

// drawStart draws a training slice's first job: uniformly from the training range, again (up to 10,000
// times) while the slice has fewer than MinLargeJobs large jobs.
func drawStart(cfg TrainConfig, data *sim.Data, r *rand.Rand) (int, error) {
	for range 10_000 {
		start := cfg.TrainStarts[0] + r.Intn(cfg.TrainStarts[1]-cfg.TrainStarts[0])
		if cfg.MinLargeJobs <= 0 || LargeJobs(data, start, cfg.Jobs, cfg.Market.MaxJobGPUs) >= cfg.MinLargeJobs {
			return start, nil
		}
	}
	return 0, fmt.Errorf("no training slice of %d jobs from [%d, %d) has %d jobs of %d GPUs or more",
		cfg.Jobs, cfg.TrainStarts[0], cfg.TrainStarts[1], cfg.MinLargeJobs, LargeJobGPUs)
}

// LargeJobs counts the jobs of LargeJobGPUs GPUs or more (and at most maxGPUs, when not 0) among the trace's
// jobs [start, start+jobs) in arrival order.
func LargeJobs(data *sim.Data, start, jobs int, maxGPUs uint32) int {
	var n int
	for _, j := range data.Jobs[max(start, 0):min(start+jobs, len(data.Jobs))] {
		if j.GPUs >= LargeJobGPUs && (maxGPUs == 0 || j.GPUs <= maxGPUs) {
			n++
		}
	}
	return n
}

type episode struct {
	steps []Step
	jobs  []*sim.Job
}

// toGo is an episode's job completion time still to come at time t, in hours: Σ (finish − max(arrival, t)).
func (e episode) toGo(t float64) float64 {
	var s float64
	for _, j := range e.jobs {
		if j.Finish > t {
			s += j.Finish - max(j.Arrival, t)
		}
	}
	return s / 3600
}

// step takes the gradient steps of one iteration.
func step(gr *graph, solver G.Solver, eps []episode, batch int) error {
	type sample struct {
		st  Step
		adv float64
	}
	var all []sample
	for i, e := range eps {
		for _, st := range e.steps {
			var b float64
			for j, o := range eps {
				if j != i {
					b += o.toGo(st.Time)
				}
			}
			b /= float64(len(eps) - 1)
			all = append(all, sample{st, -(e.toGo(st.Time) - b)}) // lower JCT to go than the others: positive
		}
	}
	if len(all) == 0 {
		return nil
	}
	var sq float64
	for _, s := range all {
		sq += s.adv * s.adv
	}
	std := math.Sqrt(sq / float64(len(all)))
	if std == 0 {
		return nil
	}
	f := gr.x.Shape()[1]
	k := gr.k
	for off := 0; off < len(all); off += batch {
		x := make([]float64, batch*k*f)
		mask := make([]float64, batch*k)
		pick := make([]float64, batch*k)
		adv := make([]float64, batch)
		for i := range mask {
			mask[i] = -1e9
		}
		for bi, s := range all[off:min(off+batch, len(all))] {
			for ci, row := range s.st.X[:min(len(s.st.X), k)] {
				copy(x[(bi*k+ci)*f:], row)
				mask[bi*k+ci] = 0
			}
			pick[bi*k+s.st.Chosen] = 1
			adv[bi] = s.adv / std
		}
		// Empty decision slots keep one unmasked candidate so that their softmax stays finite.
		for bi := min(batch, len(all)-off); bi < batch; bi++ {
			mask[bi*k] = 0
		}
		if err := gr.set(x, mask, pick, adv); err != nil {
			return err
		}
		if err := gr.vm.RunAll(); err != nil {
			return err
		}
		if err := solver.Step(G.NodesToValueGrads(gr.weights)); err != nil {
			return err
		}
		gr.vm.Reset()
	}
	return nil
}

func clone(n *Network) *Network {
	c := *n
	c.Features = slices.Clone(n.Features)
	c.Layers = make([]Layer, len(n.Layers))
	for i, l := range n.Layers {
		c.Layers[i] = Layer{In: l.In, Out: l.Out, W: slices.Clone(l.W), B: slices.Clone(l.B)}
	}
	return &c
}
