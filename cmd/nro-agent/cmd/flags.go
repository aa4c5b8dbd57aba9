package cmd

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/consensus-nro/nro/agent"
)

const (
	flagNodeID         = "node-id"
	flagEpochInterval  = "epoch-interval"
	flagLogLevel       = "log-level"
	flagLogFormat      = "log-format"
	flagSubmit         = "submit"
	flagGasPrices      = "gas-prices"
	flagGRPC           = "grpc"
	flagRPC            = "rpc"
	flagChainID        = "chain-id"
	flagKeyName        = "key-name"
	flagKeyringBackend = "keyring-backend"
	flagKeyringDir     = "keyring-dir"
	flagDisableNVML    = "disable-nvml"
	flagNVMLLibrary    = "nvml-library"
	flagGPUs           = "gpus"
	flagProbeListen    = "probe-listen"
	flagPeers          = "peers"
	flagMetricsListen  = "metrics-listen"
)

// addConfigFlags adds a flag for every config key an operator commonly sets; the defaults shown are the config
// defaults, and only flags given on the command line override the config file.
func addConfigFlags(cmd *cobra.Command) {
	d := agent.DefaultConfig()
	f := cmd.Flags()
	f.String(flagNodeID, "", "node id as registered on chain (config: node_id)")
	f.Duration(flagEpochInterval, time.Duration(d.EpochInterval), "how often to sample and probe (config: epoch_interval)")
	f.String(flagLogLevel, d.LogLevel, "debug, info, warn or error (config: log_level)")
	f.String(flagLogFormat, d.LogFormat, "text or json (config: log_format)")
	f.Bool(flagSubmit, d.Chain.Submit, "sign and submit each epoch's report as MsgSubmitTelemetry; --submit=false only measures (config: chain.submit)")
	f.String(flagGasPrices, d.Chain.GasPrices, "gas prices of the submissions, e.g. 0.025unro (config: chain.gas_prices)")
	f.String(flagGRPC, d.Chain.GRPC, "chain gRPC endpoint host:port (config: chain.grpc)")
	f.String(flagRPC, d.Chain.RPC, "chain CometBFT RPC URL (config: chain.rpc)")
	f.String(flagChainID, d.Chain.ChainID, "chain id (config: chain.chain_id)")
	f.String(flagKeyName, d.Chain.KeyName, "keyring key of the node's agent account (config: chain.key_name)")
	f.String(flagKeyringBackend, d.Chain.KeyringBackend, "os, file, test, kwallet, pass or memory (config: chain.keyring_backend)")
	f.String(flagKeyringDir, "", "keyring directory, default the agent home (config: chain.keyring_dir)")
	addTelemetryFlags(cmd)
	f.String(flagProbeListen, d.Probe.Listen, "probe server address; 0.0.0.0:PORT accepts peers on other hosts (config: probe.listen)")
	f.StringSlice(flagPeers, nil, "peers to probe, host:port or node-id@host:port, comma-separated; replaces the config's list (config: probe.peers); with chain submission on, only those sharing a lease with the node are probed")
	f.String(flagMetricsListen, d.Metrics.Listen, `Prometheus endpoint address, "" for none (config: metrics.listen)`)
}

func addTelemetryFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Bool(flagDisableNVML, false, "do not use NVML; report the registered GPUs labelled fallback (config: telemetry.disable_nvml)")
	f.String(flagNVMLLibrary, agent.DefaultConfig().Telemetry.NVMLLibrary, "NVML library file name or path (config: telemetry.nvml_library)")
	f.String(flagGPUs, "", "registered GPU groups COUNTxMODEL:MEMORY_MIB, comma-separated, e.g. 8xH100:81920; replaces the config's (config: telemetry.registered_gpus)")
}

// applyFlags overrides cfg with the flags given on the command line.
func applyFlags(cmd *cobra.Command, cfg *agent.Config) error {
	f := cmd.Flags()
	str := func(name string, dst *string) {
		if f.Lookup(name) != nil && f.Changed(name) {
			*dst, _ = f.GetString(name)
		}
	}
	str(flagNodeID, &cfg.NodeID)
	str(flagLogLevel, &cfg.LogLevel)
	str(flagLogFormat, &cfg.LogFormat)
	str(flagGRPC, &cfg.Chain.GRPC)
	str(flagRPC, &cfg.Chain.RPC)
	str(flagChainID, &cfg.Chain.ChainID)
	str(flagKeyName, &cfg.Chain.KeyName)
	str(flagKeyringBackend, &cfg.Chain.KeyringBackend)
	str(flagKeyringDir, &cfg.Chain.KeyringDir)
	str(flagGasPrices, &cfg.Chain.GasPrices)
	str(flagNVMLLibrary, &cfg.Telemetry.NVMLLibrary)
	str(flagProbeListen, &cfg.Probe.Listen)
	str(flagMetricsListen, &cfg.Metrics.Listen)
	if f.Lookup(flagEpochInterval) != nil && f.Changed(flagEpochInterval) {
		d, _ := f.GetDuration(flagEpochInterval)
		cfg.EpochInterval = agent.Duration(d)
	}
	if f.Lookup(flagSubmit) != nil && f.Changed(flagSubmit) {
		cfg.Chain.Submit, _ = f.GetBool(flagSubmit)
	}
	if f.Lookup(flagDisableNVML) != nil && f.Changed(flagDisableNVML) {
		cfg.Telemetry.DisableNVML, _ = f.GetBool(flagDisableNVML)
	}
	if f.Lookup(flagGPUs) != nil && f.Changed(flagGPUs) {
		s, _ := f.GetString(flagGPUs)
		groups, err := agent.ParseGPUGroups(s)
		if err != nil {
			return err
		}
		cfg.Telemetry.RegisteredGPUs = groups
	}
	if f.Lookup(flagPeers) != nil && f.Changed(flagPeers) {
		peers, _ := f.GetStringSlice(flagPeers)
		cfg.Probe.Peers = append([]string{}, peers...)
	}
	return nil
}
