// Package cmd builds the nro-agent command line: init, start, telemetry and probe.
package cmd

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/consensus-nro/nro/agent"
)

const (
	flagHome   = "home"
	flagOutput = "output"
	// envHome overrides the default home.
	envHome = "NRO_AGENT_HOME"
)

// DefaultHome is $NRO_AGENT_HOME, else ~/.nro-agent.
func DefaultHome() string {
	if h := os.Getenv(envHome); h != "" {
		return h
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".nro-agent")
	}
	return ".nro-agent"
}

// NewRootCmd returns the nro-agent root command.
func NewRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "nro-agent",
		Short: "Consensus-NRO agent: GPU telemetry from NVML, network probes between agents, Prometheus metrics",
		Long: `nro-agent runs beside a provider's GPU node. Every epoch it samples the node's GPUs through NVML (or, when
NVML is unavailable, reports the registered GPUs labelled "fallback"), measures RTT and throughput to its peers
with TCP probes, and exports both as Prometheus metrics. It also serves a probe endpoint for its peers.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().String(flagHome, DefaultHome(), "agent home: holds "+agent.ConfigFileName+" (default $"+envHome+" or ~/.nro-agent)")
	root.AddCommand(newInitCmd(), newStartCmd(), newTelemetryCmd(), newProbeCmd(), newSimCmd(), newTrainCmd(), newEvalCmd())
	return root
}

// loadConfig reads the config in --home. With optional set, a missing file yields the defaults.
func loadConfig(cmd *cobra.Command, optional bool) (agent.Config, error) {
	home, err := cmd.Flags().GetString(flagHome)
	if err != nil {
		return agent.Config{}, err
	}
	path := agent.ConfigPath(home)
	cfg, err := agent.LoadConfig(path)
	if err != nil && optional && errors.Is(err, os.ErrNotExist) {
		return agent.DefaultConfig(), nil
	}
	return cfg, err
}
