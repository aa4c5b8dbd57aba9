package main

import (
	"fmt"
	"os"

	"github.com/consensus-nro/nro/agent/policy"
	"github.com/consensus-nro/nro/agent/sim"
)

// market runs the trace-driven market simulator on a held-out slice of the Philly trace: the chain's
// fallback allocator, best-fit and the committed learned policy place the same jobs on the same fleet.
func market(st *stepper, dataDir string) error {
	cfg := policy.DefaultEvalConfig().Market
	cfg.Jobs = 1_000
	st.step("Simulating the GPU market on %d held-out Philly jobs (from #%d): %d T4 nodes in %d regions, load %.1f, node failures and link degradations",
		cfg.Jobs, cfg.Start, cfg.Fleet.Nodes, len(cfg.Fleet.Regions), cfg.Load)
	data, err := sim.LoadData(dataDir)
	if err != nil {
		return err
	}
	net, err := policy.Default()
	if err != nil {
		return err
	}
	m, err := sim.NewMarket(cfg, data)
	if err != nil {
		return err
	}
	results := []sim.Result{m.Bound()}
	pol := &policy.Placer{Net: net, Greedy: true}
	for _, p := range []sim.Placer{sim.FirstFit{}, sim.BestFit{}, sim.Fallback{}, pol} {
		r, err := m.Run(p)
		if err != nil {
			return err
		}
		results = append(results, *r)
	}
	if err := sim.WriteTable(os.Stdout, results); err != nil {
		return err
	}
	fb, pr := results[3], results[4]
	fmt.Printf("  policy vs the chain's fallback: mean JCT %+.1f %%, cost %+.1f %%, bandwidth utilisation %.1f %% vs %.1f %%\n",
		100*(pr.MeanJCT/fb.MeanJCT-1), 100*(pr.CostUSD/fb.CostUSD-1), 100*pr.BandwidthUtil, 100*fb.BandwidthUtil)
	fmt.Printf("  (one slice; make bench-policy averages four held-out slices: docs/benchmarks.md, \"Placement policy\")\n")
	fmt.Printf("  of %d decisions with a choice, the policy took another placement than the fallback in %d; %d of those\n"+
		"  also cost less by the chain's own score (as proposals they would win the allocation)\n",
		pol.Choices, pol.NotFallback, pol.CheaperOnChain)
	return nil
}
