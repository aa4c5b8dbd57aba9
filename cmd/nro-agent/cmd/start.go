package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/consensus-nro/nro/agent"
)

func newStartCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run the agent until SIGINT or SIGTERM",
		Long: `Load the config from --home, apply the flags given on top, and run: serve probes, and every epoch sample
the GPUs and probe the peers, exporting the results as Prometheus metrics (GET /metrics) and the last epoch's
report as JSON (GET /report) on metrics.listen. With chain.submit (the default) each report is signed with the
node's agent key (chain.key_name) and submitted as MsgSubmitTelemetry for the chain's current epoch, once per
chain epoch; the last epoch submitted is kept in telemetry-state.json in the home. SIGINT or SIGTERM stops it
gracefully; a second signal stops it at once.`,
		Example: `  nro-agent start --home ~/.nro-agent
  nro-agent start --node-id gpu-node-1 --peers gpu-node-2@10.0.0.2:26680 --log-format json
  nro-agent start --submit=false    # measure only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, false)
			if err != nil {
				return err
			}
			if err := applyFlags(cmd, &cfg); err != nil {
				return err
			}
			if err := cfg.Validate(true); err != nil {
				return fmt.Errorf("invalid agent config:\n%w", err)
			}
			home, err := cmd.Flags().GetString(flagHome)
			if err != nil {
				return err
			}
			a, err := agent.New(cfg, agent.Options{Logger: cfg.NewLogger(cmd.ErrOrStderr()), Home: home, KeyringInput: cmd.InOrStdin()})
			if err != nil {
				return err
			}
			return a.Run(cmd.Context())
		},
	}
	addConfigFlags(cmd)
	return cmd
}
