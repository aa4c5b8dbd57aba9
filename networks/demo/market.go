package main

import (
	"fmt"
	"os"

	"github.com/consensus-nro/nro/agent/policy"
	"github.com/consensus-nro/nro/agent/sim"
)

// market runs the trace-driven market simulator on a held-out slice of the Philly trace: the chain's
// fallback allocator, best-fit and the committed learned policy — placing alone, and as the chain decides
// with the policy's agent proposing — place the same jobs on the same fleet.
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
	alone := &policy.Placer{Net: net, Greedy: true, Label: "policy, placing alone"}
	chain := &policy.Placer{Net: net, Greedy: true, Mode: policy.ChainDecides, Label: "policy, as the chain decides"}
	for _, p := range []sim.Placer{sim.FirstFit{}, sim.BestFit{}, sim.Fallback{}, alone, chain} {
		r, err := m.Run(p)
		if err != nil {
			return err
		}
		results = append(results, *r)
	}
	if err := sim.WriteTable(os.Stdout, results); err != nil {
		return err
	}
	fb := results[3]
	for _, r := range []struct {
		what string
		res  sim.Result
	}{
		{"the policy placing alone (no chain places that way)", results[4]},
		{"as the chain decides with the policy's agent proposing (what a chain gets)", results[5]},
	} {
		fmt.Printf("  %s vs the chain's fallback: mean JCT %+.1f %%, cost %+.1f %%, bandwidth utilisation %.1f %% vs %.1f %%\n",
			r.what, 100*(r.res.MeanJCT/fb.MeanJCT-1), 100*(r.res.CostUSD/fb.CostUSD-1), 100*r.res.BandwidthUtil, 100*fb.BandwidthUtil)
	}
	fmt.Printf("  (one slice; make bench-policy averages four held-out slices: docs/benchmarks.md, \"Placement policy\")\n")
	fmt.Printf("  as the chain decides, of %d decisions with a choice the policy picked the fallback's placement in %d,\n"+
		"  another that cost at most the fallback by the chain's score (its proposal won) in %d, and a dearer one in\n"+
		"  %d (nothing proposed: the chain placed the fallback's)\n",
		chain.Choices, chain.Choices-chain.NotFallback, chain.NotFallback-chain.Overruled, chain.Overruled)
	return nil
}
