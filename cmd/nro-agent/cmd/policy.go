package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/consensus-nro/nro/agent/policy"
	"github.com/consensus-nro/nro/agent/sim"
)

func newTrainCmd() *cobra.Command {
	def := policy.DefaultTrainConfig()
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train the placement policy in the market simulator (REINFORCE with a time-based baseline)",
		Long: `Train the placement policy (agent/policy) in the trace-driven market simulator. Each iteration runs sampled
episodes of the policy on a slice of the Philly trace drawn from the training range and takes gradient steps
(gorgonia, Adam); every --validate-every iterations the greedy policy runs on the validation slice, and the
best network so far is saved to --out. With --resume, training continues from --out (its iteration count and
weights; the optimiser's moments start again). The evaluation slice (nro-agent eval) is later in the trace
than both, so it is never trained on.`,
		Example: `  nro-agent train --out policy.json
  nro-agent train --out policy.json --iterations 80 --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			cfg := policy.DefaultTrainConfig()
			cfg.Iterations, _ = f.GetInt("iterations")
			cfg.Episodes, _ = f.GetInt("episodes")
			cfg.Jobs, _ = f.GetInt("jobs")
			cfg.Seed, _ = f.GetInt64("seed")
			cfg.LearnRate, _ = f.GetFloat64("learn-rate")
			cfg.ValidateEvery, _ = f.GetInt("validate-every")
			cfg.Hidden, _ = f.GetIntSlice("hidden")
			cfg.Checkpoint, _ = f.GetString("out")
			cfg.Resume, _ = f.GetBool("resume")
			cfg.MinLargeJobs, _ = f.GetInt("min-large-jobs")
			switch mode, _ := f.GetString("mode"); mode {
			case "direct":
				cfg.Mode = policy.Direct
			case "chain":
				cfg.Mode = policy.ChainDecides
			case "chain-substitute":
				cfg.Mode = policy.ChainSubstitutes
			default:
				return fmt.Errorf("--mode %q: use direct (the pick is placed), chain (the chain decides with the policy's agent proposing) or chain-substitute (the same with proposer.substitute on)", mode)
			}
			if f.Changed("validation-starts") {
				cfg.ValidationStarts, _ = f.GetIntSlice("validation-starts")
			}
			if cfg.Checkpoint == "" {
				return fmt.Errorf("--out is required: the file the best network is saved to")
			}
			data, err := loadSimData(cmd)
			if err != nil {
				return err
			}
			start := time.Now()
			net, err := policy.Train(cmd.Context(), cfg, data, cmd.ErrOrStderr(), nil)
			if err != nil {
				return err
			}
			if err := net.Save(cfg.Checkpoint); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trained %d iterations in %s; best validation mean JCT %.3f h; saved %s\n",
				net.Trained.Iterations, time.Since(start).Round(time.Second), net.Trained.MeanJCTHours, cfg.Checkpoint)
			return nil
		},
	}
	f := cmd.Flags()
	addDataFlag(f)
	f.String("out", "", "where the best network is saved (and resumed from)")
	f.Bool("resume", false, "continue from --out if it exists")
	f.Int("iterations", def.Iterations, "training iterations (total, counting those of a resumed run)")
	f.Int("episodes", def.Episodes, "sampled episodes per iteration (at least 2)")
	f.Int("jobs", def.Jobs, "trace jobs per training slice")
	f.Int("validate-every", def.ValidateEvery, "iterations between validations (and checkpoints)")
	f.Int64("seed", def.Seed, "seed for initial weights, slices and samples")
	f.Float64("learn-rate", def.LearnRate, "Adam learning rate")
	f.IntSlice("hidden", def.Hidden, "hidden layer sizes")
	f.Int("min-large-jobs", def.MinLargeJobs, fmt.Sprintf("train only on slices with at least this many jobs of %d GPUs or more", policy.LargeJobGPUs))
	defMode := map[policy.Mode]string{policy.Direct: "direct", policy.ChainDecides: "chain", policy.ChainSubstitutes: "chain-substitute"}[def.Mode]
	f.String("mode", defMode, "how training and validation place the policy's pick: direct, chain (as the chain decides with the policy's agent proposing: the pick when it would win, else the fallback) or chain-substitute (the same with proposer.substitute on: a pick that cannot win gives way to the cheapest candidate that beats the fallback)")
	f.IntSlice("validation-starts", def.ValidationStarts, "first jobs of the validation slices (between the training range and the held-out slices from 70000)")
	return cmd
}

func newEvalCmd() *cobra.Command {
	def := policy.DefaultEvalConfig()
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate the placement policy on a held-out slice of the trace against the baselines",
		Long: `Run the policy (the committed default, or --policy FILE) — placing alone, as the chain decides with the
policy's agent proposing (and with proposer.substitute on) — and every baseline — random, first-fit (static,
region-blind), best-fit, cheapest-first, the chain's fallback allocator — on a held-out slice of the Philly trace,
print the table with the offline bound, and with --plots DIR write PNG charts of mean JCT, bandwidth
utilisation and cost per placer.`,
		Example: `  nro-agent eval
  nro-agent eval --policy policy.json --plots docs/policy --load 1.5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			output, _ := f.GetString(flagOutput)
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: use text or json", output)
			}
			cfg := policy.DefaultEvalConfig()
			cfg.Market.Start, _ = f.GetInt("start")
			switch {
			case f.Changed("starts"):
				cfg.Starts, _ = f.GetIntSlice("starts")
			case f.Changed("start"):
				cfg.Starts = []int{cfg.Market.Start}
			}
			if names, _ := f.GetStringSlice("baselines"); f.Changed("baselines") {
				cfg.Baselines = nil
				for _, name := range names {
					p, err := sim.PlacerByName(strings.TrimSpace(name))
					if err != nil {
						return err
					}
					cfg.Baselines = append(cfg.Baselines, p)
				}
			}
			cfg.Market.Jobs, _ = f.GetInt("jobs")
			cfg.Market.Load, _ = f.GetFloat64("load")
			cfg.Market.Seed, _ = f.GetInt64("seed")
			cfg.Market.Fleet.Nodes, _ = f.GetInt("nodes")
			net, err := policy.Default()
			if path, _ := f.GetString("policy"); path != "" {
				net, err = policy.Load(path)
			}
			if err != nil {
				return err
			}
			data, err := loadSimData(cmd)
			if err != nil {
				return err
			}
			ev, err := policy.Evaluate(net, data, cfg)
			if err != nil {
				return err
			}
			if plots, _ := f.GetString("plots"); plots != "" {
				if err := os.MkdirAll(plots, 0o755); err != nil {
					return err
				}
				if err := policy.WritePlots(plots, ev); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "plots written to %s\n", filepath.Clean(plots))
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(ev)
			}
			return ev.WriteReport(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	addDataFlag(f)
	f.String("policy", "", "policy file (default: the committed default policy)")
	f.String("plots", "", "folder to write PNG charts to")
	f.Int("start", def.Market.Start, "index (in arrival order) of one slice's first job (instead of the held-out slices)")
	f.IntSlice("starts", def.Starts, "first jobs of the slices (the default: the four held-out slices; 60000,64000 are the validation slices)")
	f.StringSlice("baselines", []string{"random", "first-fit", "best-fit", "cheapest-first", "fallback"}, "heuristics to compare with")
	f.Int("jobs", def.Market.Jobs, "jobs in the held-out slice")
	f.Float64("load", def.Market.Load, "offered load (see nro-agent sim)")
	f.Int64("seed", def.Market.Seed, "seed for instance types, job models and faults")
	f.Int("nodes", def.Market.Fleet.Nodes, "provider nodes")
	f.StringP(flagOutput, "o", "text", "text or json")
	return cmd
}
