package cmd

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/consensus-nro/nro/agent/sim"
)

func newSimCmd() *cobra.Command {
	def := sim.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Simulate the multi-cloud GPU market on the Philly trace and compare placers",
		Long: `Run the trace-driven market simulator (agent/sim): a slice of the Microsoft Philly job trace arrives at a
fleet of T4 nodes in AWS, Azure and GCP regions (prices from the FSDL price table); each job trains one of the
Pollux models, whose measured step and gradient-sync times per placement set its speed, slowed across regions by
the Skyplane RTT and throughput between them. Every placer places the same jobs, under the same node failures and
link degradations, through the chain's own placement checks; the chain's fallback allocator runs unchanged.

The table gives mean and p95 job completion time, queueing delay, effective bandwidth utilisation (bytes moved per
second of gradient sync over what the in-region network moves), cost, GPU utilisation, fragmentation (share of
free GPUs on partly used nodes), and the offline bound (no queueing, fastest placement, cheapest GPUs).`,
		Example: `  nro-agent sim
  nro-agent sim --jobs 5000 --load 1.5 --placers fallback,best-fit
  nro-agent sim --node-mtbf-hours 0 --link-mtbf-hours 0 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			output, _ := f.GetString(flagOutput)
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: use text or json", output)
			}
			cfg := sim.DefaultConfig()
			cfg.Jobs, _ = f.GetInt("jobs")
			cfg.Start, _ = f.GetInt("start")
			cfg.Load, _ = f.GetFloat64("load")
			cfg.Seed, _ = f.GetInt64("seed")
			cfg.Fleet.Nodes, _ = f.GetInt("nodes")
			cfg.Fleet.Regions, _ = f.GetStringSlice("regions")
			maxRTT, _ := f.GetUint32("max-rtt-ms")
			cfg.MaxRttMs = maxRTT
			cfg.NodeMTBFHours, _ = f.GetFloat64("node-mtbf-hours")
			cfg.LinkDegradeMTBFHours, _ = f.GetFloat64("link-mtbf-hours")
			names, _ := f.GetStringSlice("placers")
			var placers []sim.Placer
			if len(names) == 1 && names[0] == "all" {
				placers = sim.Baselines()
			} else {
				for _, n := range names {
					p, err := sim.PlacerByName(strings.TrimSpace(n))
					if err != nil {
						return err
					}
					placers = append(placers, p)
				}
			}
			if len(placers) == 0 {
				return fmt.Errorf("--placers is empty: give all, or a list of random, first-fit, best-fit, cheapest-first, fallback")
			}
			data, err := loadSimData(cmd)
			if err != nil {
				return err
			}
			market, err := sim.NewMarket(cfg, data)
			if err != nil {
				return err
			}
			results := []sim.Result{market.Bound()}
			for _, p := range placers {
				res, err := market.Run(p)
				if err != nil {
					return err
				}
				res.JobsDone = nil
				results = append(results, *res)
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(results)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d Philly jobs from #%d (%d dropped as larger than %d GPUs), %d T4 nodes with %d GPUs in %d regions, load %.2f, seed %d\n\n",
				cfg.Jobs, cfg.Start, results[0].Dropped, cfg.MaxJobGPUs, cfg.Fleet.Nodes, market.FleetGPUs(), len(cfg.Fleet.Regions), cfg.Load, cfg.Seed)
			return sim.WriteTable(cmd.OutOrStdout(), results)
		},
	}
	f := cmd.Flags()
	addDataFlag(f)
	f.Int("jobs", def.Jobs, "trace jobs in the slice")
	f.Int("start", def.Start, "index (in arrival order) of the slice's first trace job")
	f.Float64("load", def.Load, "offered GPU time over the fleet's GPU time across the slice's arrivals (0: the trace's own arrival times)")
	f.Int64("seed", def.Seed, "seed for instance types, job models and faults")
	f.Int("nodes", def.Fleet.Nodes, "provider nodes")
	f.StringSlice("regions", def.Fleet.Regions, "regions of the nodes, round-robin")
	f.Uint32("max-rtt-ms", def.MaxRttMs, "every lease's max_rtt_ms (0: none)")
	f.Float64("node-mtbf-hours", def.NodeMTBFHours, "mean time between failures of each node (0: none)")
	f.Float64("link-mtbf-hours", def.LinkDegradeMTBFHours, "mean time between degradations of each region's links (0: none)")
	f.StringSlice("placers", []string{"all"}, "placers to run: all, or a list of random, first-fit, best-fit, cheapest-first, fallback")
	f.StringP(flagOutput, "o", "text", "text or json")
	return cmd
}

// addDataFlag adds --data, the datasets the simulator reads (sim, train, eval).
func addDataFlag(f *pflag.FlagSet) {
	f.String("data", "", "the project's data/ folder (default: data/ in the working directory or a parent)")
}

// loadSimData finds the data folder (--data, else data/ in the working directory or a parent) and loads it.
func loadSimData(cmd *cobra.Command) (*sim.Data, error) {
	dir, _ := cmd.Flags().GetString("data")
	dir, err := sim.FindDataDir(dir)
	if err != nil {
		return nil, err
	}
	return sim.LoadData(dir)
}
