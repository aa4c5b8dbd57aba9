package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/consensus-nro/nro/agent"
)

func newInitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented config file into the agent's home",
		Long: `Write ` + agent.ConfigFileName + ` into --home with every key commented. Edit it, then run nro-agent start.
An existing config is kept unless --overwrite is given.`,
		Example: `  nro-agent init --home ~/.nro-agent --node-id gpu-node-1 --gpus 8xH100:81920
  nro-agent init --node-id gpu-node-1 --probe-listen 0.0.0.0:26680 --peers gpu-node-2@10.0.0.2:26680`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, _ := cmd.Flags().GetString(flagHome)
			overwrite, _ := cmd.Flags().GetBool("overwrite")
			cfg := agent.DefaultConfig()
			if err := applyFlags(cmd, &cfg); err != nil {
				return err
			}
			if err := cfg.Validate(false); err != nil {
				return fmt.Errorf("invalid config:\n%w", err)
			}
			path := agent.ConfigPath(home)
			if err := agent.WriteConfig(path, cfg, overwrite); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", path)
			if cfg.NodeID == "" {
				fmt.Fprintln(cmd.OutOrStdout(), "set node_id (or pass --node-id to start) before running nro-agent start")
			}
			if cfg.Chain.Submit {
				dir := cfg.KeyringDir(home)
				fmt.Fprintf(cmd.OutOrStdout(), "the agent signs its reports with key %q of the %s keyring in %s: add or import the node's registered agent key there (nrod keys add|import %s --keyring-backend %s --keyring-dir %s), or set chain.submit = false\n",
					cfg.Chain.KeyName, cfg.Chain.KeyringBackend, dir, cfg.Chain.KeyName, cfg.Chain.KeyringBackend, dir)
			}
			return nil
		},
	}
	cmd.Flags().Bool("overwrite", false, "replace an existing config")
	addConfigFlags(cmd)
	return cmd
}
