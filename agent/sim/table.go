package sim

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// PlacerByName returns a baseline placer by its short name (random, first-fit, best-fit, cheapest-first,
// fallback).
func PlacerByName(name string) (Placer, error) {
	short := map[string]Placer{
		"random": Random{}, "first-fit": FirstFit{}, "best-fit": BestFit{}, "cheapest-first": CheapestFirst{}, "fallback": Fallback{},
	}
	if p, ok := short[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("unknown placer %q: use random, first-fit, best-fit, cheapest-first or fallback", name)
}

// WriteTable prints results as an aligned table: times in hours, cost in USD, shares in percent.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "placer\tjobs\tmean JCT h\tp95 JCT h\tmean queue h\tbandwidth util\tcost USD\tGPU util\tfragmentation\tmulti-node\tcross-region\tpreempted\tper decision\t")
	for _, r := range results {
		perDecision := "—"
		if r.PlaceCalls > 0 {
			perDecision = (r.PlaceTime / time.Duration(r.PlaceCalls)).Round(time.Microsecond / 10).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.1f %%\t%.0f\t%.1f %%\t%.1f %%\t%d\t%d\t%d\t%s\t\n",
			strings.TrimSpace(r.Placer), r.Jobs, r.MeanJCT/3600, r.P95JCT/3600, r.MeanQueue/3600, 100*r.BandwidthUtil,
			r.CostUSD, 100*r.GPUUtil, 100*r.Fragmentation, r.MultiNode, r.CrossRegion, r.Preemptions, perDecision)
	}
	return tw.Flush()
}
