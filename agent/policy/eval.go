package policy

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/consensus-nro/nro/agent/sim"
)

// EvalConfig is the held-out slices the policy is evaluated on: Market with each of Starts as its first job.
type EvalConfig struct {
	Market sim.Config
	Starts []int
	// Baselines are the heuristics compared with (nil: sim.Baselines()).
	Baselines []sim.Placer `json:"-"`
}

// DefaultEvalConfig is four slices of 2,000 jobs from trace job 70,000 on (November–December 2017), after the
// training range and the validation slices, at the simulator's default load and faults.
func DefaultEvalConfig() EvalConfig {
	m := sim.DefaultConfig()
	m.Start, m.Jobs = 70_000, 2_000
	return EvalConfig{Market: m, Starts: []int{70_000, 72_500, 75_000, 77_500}}
}

// PolicyModes are the policy's rows of an evaluation, in order: the policy placing alone (Direct), the
// chain's decision with the policy's agent as configured by default (ChainDecides), and with
// proposer.substitute on (ChainSubstitutes).
var PolicyModes = []Mode{Direct, ChainDecides, ChainSubstitutes}

// SliceResults are every placer's results on one slice: the offline bound first, then the baselines, then
// the policy's rows (PolicyModes).
type SliceResults struct {
	Start   int          `json:"start"`
	Results []sim.Result `json:"results"`
}

// Decisions are a policy row's decision counters (Placer's), summed over the slices.
type Decisions struct {
	Placer                                            string `json:"placer"`
	Choices, NotFallback, CheaperOnChain, TiedOnChain int
	Picked, Overruled, Substituted                    int
}

// PolicyVsBest is one policy row against the best heuristic.
type PolicyVsBest struct {
	Placer string `json:"placer"`
	// JCTReduction is 1 − the row's mean JCT / the best heuristic's (target ≥ 0.20).
	JCTReduction float64 `json:"jct_reduction"`
	// CostIncrease is the row's cost / the best heuristic's − 1 (target ≤ 0.05).
	CostIncrease float64 `json:"cost_increase"`
	// BandwidthGain is the row's bandwidth utilisation / the static placement's − 1 (target ≥ 0.30).
	BandwidthGain float64 `json:"bandwidth_gain"`
	// Wins counts the slices where the row's mean JCT is below the best heuristic's.
	Wins int `json:"wins"`
}

// Evaluation is the policy's evaluation over the held-out slices.
type Evaluation struct {
	Config EvalConfig     `json:"config"`
	Slices []SliceResults `json:"slices"`
	// Summary is each placer's metrics averaged over the slices (same order as a slice's results).
	Summary []sim.Result `json:"summary"`
	// BestHeuristic is the baseline with the lowest average mean JCT; the targets compare with it and with
	// the static, region-blind placement (first-fit).
	BestHeuristic string `json:"best_heuristic"`
	// JCTReduction, BandwidthGain, CostIncrease and Wins are the policy's (Direct) comparisons, as in
	// Policies[0].
	JCTReduction  float64 `json:"jct_reduction"`
	BandwidthGain float64 `json:"bandwidth_gain"`
	CostIncrease  float64 `json:"cost_increase"`
	Wins          int     `json:"wins"`
	// Policies compares every policy row (PolicyModes) with the best heuristic; Decisions are their counters.
	Policies  []PolicyVsBest `json:"policies"`
	Decisions []Decisions    `json:"decisions"`
}

// Evaluate runs the bound, the baselines and the greedy policy (once per PolicyModes) on every evaluation
// slice.
func Evaluate(net *Network, data *sim.Data, cfg EvalConfig) (*Evaluation, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	starts := cfg.Starts
	if len(starts) == 0 {
		starts = []int{cfg.Market.Start}
	}
	baselines := cfg.Baselines
	if baselines == nil {
		baselines = sim.Baselines()
	}
	if len(baselines) == 0 {
		return nil, fmt.Errorf("no baseline to compare with")
	}
	ev := &Evaluation{Config: cfg, Decisions: make([]Decisions, len(PolicyModes))}
	for _, start := range starts {
		mc := cfg.Market
		mc.Start = start
		m, err := sim.NewMarket(mc, data)
		if err != nil {
			return nil, err
		}
		sl := SliceResults{Start: start, Results: []sim.Result{m.Bound()}}
		placers := slices.Clone(baselines)
		pols := make([]*Placer, len(PolicyModes))
		for i, mode := range PolicyModes {
			pols[i] = &Placer{Net: net, Greedy: true, Mode: mode}
			placers = append(placers, pols[i])
		}
		for _, p := range placers {
			r, err := m.Run(p)
			if err != nil {
				return nil, fmt.Errorf("slice %d, %s: %w", start, p.Name(), err)
			}
			r.JobsDone = nil
			sl.Results = append(sl.Results, *r)
		}
		for i, p := range pols {
			c := &ev.Decisions[i]
			c.Placer = p.Name()
			c.Choices += p.Choices
			c.NotFallback += p.NotFallback
			c.CheaperOnChain += p.CheaperOnChain
			c.TiedOnChain += p.TiedOnChain
			c.Picked += p.Picked
			c.Overruled += p.Overruled
			c.Substituted += p.Substituted
		}
		ev.Slices = append(ev.Slices, sl)
	}
	n := float64(len(ev.Slices))
	ev.Summary = make([]sim.Result, len(ev.Slices[0].Results))
	for i := range ev.Summary {
		s := &ev.Summary[i]
		for _, sl := range ev.Slices {
			r := sl.Results[i]
			s.Placer = r.Placer
			s.Jobs += r.Jobs
			s.Dropped += r.Dropped
			s.MeanJCT += r.MeanJCT / n
			s.P95JCT += r.P95JCT / n
			s.MeanQueue += r.MeanQueue / n
			s.BandwidthUtil += r.BandwidthUtil / n
			s.CostUSD += r.CostUSD / n
			s.GPUUtil += r.GPUUtil / n
			s.Fragmentation += r.Fragmentation / n
			s.Makespan += r.Makespan / n
			s.MultiNode += r.MultiNode
			s.CrossRegion += r.CrossRegion
			s.Preemptions += r.Preemptions
			s.PlaceCalls += r.PlaceCalls
			s.PlaceTime += r.PlaceTime
		}
	}
	nb := len(baselines)
	best, static := -1, -1
	for i, r := range ev.Summary[1 : 1+nb] {
		if best < 0 || r.MeanJCT < ev.Summary[1+best].MeanJCT {
			best = i
		}
		if r.Placer == (sim.FirstFit{}).Name() {
			static = i
		}
	}
	b := ev.Summary[1+best]
	ev.BestHeuristic = b.Placer
	for k := range PolicyModes {
		row := 1 + nb + k
		pol := ev.Summary[row]
		c := PolicyVsBest{Placer: pol.Placer, JCTReduction: 1 - pol.MeanJCT/b.MeanJCT, CostIncrease: pol.CostUSD/b.CostUSD - 1}
		if static >= 0 {
			if st := ev.Summary[1+static]; st.BandwidthUtil > 0 {
				c.BandwidthGain = pol.BandwidthUtil/st.BandwidthUtil - 1
			}
		}
		for _, sl := range ev.Slices {
			if sl.Results[row].MeanJCT < sl.Results[1+best].MeanJCT {
				c.Wins++
			}
		}
		ev.Policies = append(ev.Policies, c)
	}
	p := ev.Policies[0]
	ev.JCTReduction, ev.CostIncrease, ev.BandwidthGain, ev.Wins = p.JCTReduction, p.CostIncrease, p.BandwidthGain, p.Wins
	return ev, nil
}

// WriteReport prints a table per slice, the averages, and the targets.
func (ev *Evaluation) WriteReport(w io.Writer) error {
	c := ev.Config.Market
	starts := make([]int, len(ev.Slices))
	for i, sl := range ev.Slices {
		starts[i] = sl.Start
	}
	fmt.Fprintf(w, "slices of %d Philly jobs from jobs %v, %d T4 nodes in %d regions, load %.2f, seed %d\n",
		c.Jobs, starts, c.Fleet.Nodes, len(c.Fleet.Regions), c.Load, c.Seed)
	for _, sl := range ev.Slices {
		fmt.Fprintf(w, "\nslice from job #%d\n", sl.Start)
		if err := sim.WriteTable(w, sl.Results); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\naverage over the %d slices (jobs, multi-node, cross-region and preempted: totals)\n", len(ev.Slices))
	if err := sim.WriteTable(w, ev.Summary); err != nil {
		return err
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "not met"
	}
	static := "no static region-blind placement (first-fit) in the comparison"
	for _, r := range ev.Summary {
		if r.Placer == (sim.FirstFit{}).Name() {
			static = ""
		}
	}
	fmt.Fprintln(w)
	for _, p := range ev.Policies {
		fmt.Fprintf(w, "%s vs the best heuristic (%s): mean JCT %+.1f %% (target ≤ −20 %%: %s; lower on %d of %d slices), cost %+.1f %% (target ≤ +5 %%: %s)",
			p.Placer, ev.BestHeuristic, -100*p.JCTReduction, verdict(p.JCTReduction >= 0.20), p.Wins, len(ev.Slices), 100*p.CostIncrease, verdict(p.CostIncrease <= 0.05))
		if static == "" {
			fmt.Fprintf(w, "; vs static region-blind placement (first-fit): bandwidth utilisation %+.1f %% (target ≥ +30 %%: %s)",
				100*p.BandwidthGain, verdict(p.BandwidthGain >= 0.30))
		}
		fmt.Fprintln(w)
	}
	if static != "" {
		fmt.Fprintln(w, static)
	}
	fmt.Fprintln(w, "\ndecisions with a choice of placement, summed over the slices:")
	for _, c := range ev.Decisions {
		fmt.Fprintf(w, "  %s: %d; the policy picked another than the fallback in %d (%d cheaper by the chain's cost, %d tied: as proposals they would win); placed on the pick %d, the fallback instead %d, another proposal instead %d\n",
			c.Placer, c.Choices, c.NotFallback, c.CheaperOnChain, c.TiedOnChain, c.Picked, c.Overruled, c.Substituted)
	}
	return nil
}

// WritePlots writes mean-jct.png, bandwidth-utilisation.png and cost.png to dir.
func WritePlots(dir string, ev *Evaluation) error {
	charts := []struct {
		file, title, unit string
		value             func(sim.Result) float64
	}{
		{"mean-jct.png", "Mean job completion time (held-out slices, average)", "hours", func(r sim.Result) float64 { return r.MeanJCT / 3600 }},
		{"bandwidth-utilisation.png", "Effective bandwidth utilisation of multi-node jobs", "percent", func(r sim.Result) float64 { return 100 * r.BandwidthUtil }},
		{"cost.png", "Cost of the slice's jobs", "USD", func(r sim.Result) float64 { return r.CostUSD }},
	}
	for _, ch := range charts {
		p := plot.New()
		p.Title.Text = ch.title
		p.Y.Label.Text = ch.unit
		vals := make(plotter.Values, len(ev.Summary))
		names := make([]string, len(ev.Summary))
		for i, r := range ev.Summary {
			vals[i] = ch.value(r)
			names[i] = shortName(r.Placer)
		}
		bars, err := plotter.NewBarChart(vals, vg.Points(28))
		if err != nil {
			return err
		}
		bars.Color = color.RGBA{R: 0x3b, G: 0x6e, B: 0xa8, A: 0xff}
		bars.LineStyle.Width = 0
		p.Add(bars)
		p.NominalX(names...)
		p.X.Tick.Label.Rotation = 0.5
		p.X.Tick.Label.XAlign = -0.9
		if err := p.Save(8*vg.Inch, 4*vg.Inch, filepath.Join(dir, ch.file)); err != nil {
			return err
		}
	}
	return nil
}

func shortName(placer string) string {
	switch placer {
	case "first-fit (static, region-blind)":
		return "first-fit (static)"
	case "fallback (chain)":
		return "chain fallback"
	case "policy (chain decides)":
		return "policy, chain decides"
	case "policy (chain decides, agent substitutes)":
		return "policy, substitutes"
	}
	return placer
}
