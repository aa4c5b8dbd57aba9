// Command nro-relayer runs the Ethereum settlement bridge's off-chain roles: "signer" (every validator: signs
// valsets and batches, attests executed batches) and "relay" (anyone: submits them to the settlement
// contract). See relayer/README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/consensus-nro/nro/internal/chainclient"
	"github.com/consensus-nro/nro/relayer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func defaultHome() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".nro-relayer")
	}
	return ".nro-relayer"
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "nro-relayer",
		Short:         "Consensus-NRO settlement bridge relayer: signer (validators) and relay (anyone) roles",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("home", defaultHome(), "directory of config.toml, the cursor file and relative key paths")
	root.AddCommand(newInitCmd(), newStartCmd())
	return root
}

func newInitCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Write a default config.toml into --home (refuses to overwrite one)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, _ := cmd.Flags().GetString("home")
			if err := os.MkdirAll(home, 0o700); err != nil {
				return err
			}
			path := filepath.Join(home, relayer.ConfigFileName)
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("%s exists; edit it or remove it first", path)
			}
			if err := relayer.DefaultConfig().Write(path); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s; set ethereum.contract and the keystores, then run nro-relayer start\n", path)
			return nil
		},
	}
}

func newStartCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run the configured roles until interrupted",
		Example: `  nro-relayer init --home ~/.nro-relayer
  nro-relayer start --home ~/.nro-relayer --roles signer --contract 0x5FbDB2315678afecb367f032d93F642f64180aa3`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, _ := cmd.Flags().GetString("home")
			cfg, err := relayer.LoadConfig(filepath.Join(home, relayer.ConfigFileName))
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("no config in %s: run nro-relayer init --home %s first", home, home)
			}
			if err != nil {
				return err
			}
			if err := applyFlags(cmd, &cfg); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("config:\n%w", err)
			}
			return run(cmd.Context(), home, cfg)
		},
	}
	f := cmd.Flags()
	f.String("roles", "", "comma-separated roles: signer, relay (config: roles)")
	f.String("contract", "", "settlement contract address (config: ethereum.contract)")
	f.String("eth-rpc", "", "Ethereum JSON-RPC URL (config: ethereum.rpc)")
	f.String("grpc", "", "nrod gRPC host:port (config: chain.grpc)")
	return cmd
}

func applyFlags(cmd *cobra.Command, cfg *relayer.Config) error {
	f := cmd.Flags()
	if v, _ := f.GetString("roles"); v != "" {
		cfg.Roles = strings.Split(v, ",")
	}
	if v, _ := f.GetString("contract"); v != "" {
		cfg.Ethereum.Contract = v
	}
	if v, _ := f.GetString("eth-rpc"); v != "" {
		cfg.Ethereum.RPC = v
	}
	if v, _ := f.GetString("grpc"); v != "" {
		cfg.Chain.GRPC = v
	}
	return nil
}

func inHome(home, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(home, p)
}

// loadKey decrypts a go-ethereum keystore file with the password in passwordFile.
func loadKey(home, file, passwordFile string) (*keystore.Key, error) {
	bz, err := os.ReadFile(inHome(home, file))
	if err != nil {
		return nil, err
	}
	pw, err := os.ReadFile(inHome(home, passwordFile))
	if err != nil {
		return nil, fmt.Errorf("password file of %s: %w", file, err)
	}
	return keystore.DecryptKey(bz, strings.TrimRight(string(pw), "\r\n"))
}

func run(ctx context.Context, home string, cfg relayer.Config) error {
	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("log_level %q: want debug, info, warn or error", cfg.LogLevel)
	}
	var handler slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	if cfg.LogFormat == "json" {
		handler = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	}
	logger := slog.New(handler)

	eth, err := ethclient.DialContext(ctx, cfg.Ethereum.RPC)
	if err != nil {
		return fmt.Errorf("ethereum %s: %w", cfg.Ethereum.RPC, err)
	}
	defer eth.Close()
	chainID, err := eth.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("ethereum %s: %w", cfg.Ethereum.RPC, err)
	}

	krDir := inHome(home, cfg.Chain.KeyringDir)
	if krDir == "" {
		krDir = home
	}
	chain, err := chainclient.Dial(cfg.Chain.GRPC, cfg.Chain.KeyringBackend, krDir, os.Stdin)
	if err != nil {
		return err
	}
	defer func() { _ = chain.Close() }()
	contract := common.HexToAddress(cfg.Ethereum.Contract)

	var signer *relayer.Signer
	var relay *relayer.Relay
	if slices.Contains(cfg.Roles, "signer") {
		cosmos, err := relayer.NewCosmos(chain.Conn, cfg.Chain.ChainID, chain.TxConfig, chain.Keyring, cfg.Chain.KeyName)
		if err != nil {
			return err
		}
		cosmos.GasPrices = cfg.Chain.GasPrices
		key, err := loadKey(home, cfg.Ethereum.SignerKeystore, cfg.Ethereum.SignerPassword)
		if err != nil {
			return fmt.Errorf("signer key: %w", err)
		}
		signer = &relayer.Signer{
			Chain: cosmos, Orchestrator: cosmos, Key: key.PrivateKey, Ethereum: eth, Contract: contract,
			StartBlock: cfg.Ethereum.StartBlock, Confirmations: cfg.Ethereum.Confirmations, MaxRange: cfg.Ethereum.MaxRange,
			CursorFile: inHome(home, cfg.Ethereum.CursorFile), Retry: cfg.Retry.Policy(), Log: logger.With("role", "signer"),
		}
		logger.Info("signer role", "orchestrator", cosmos.Address(), "eth_signer", key.Address.Hex())
	}
	if slices.Contains(cfg.Roles, "relay") {
		key, err := loadKey(home, cfg.Ethereum.RelayKeystore, cfg.Ethereum.RelayPassword)
		if err != nil {
			return fmt.Errorf("relay key: %w", err)
		}
		reader, err := relayer.NewCosmos(chain.Conn, cfg.Chain.ChainID, chain.TxConfig, chain.Keyring, cfg.Chain.KeyName)
		if err != nil {
			return err
		}
		maxFee, err := cfg.Ethereum.MaxFeePerGas.Value()
		if err != nil {
			return fmt.Errorf("ethereum.max_fee_per_gas: %w", err)
		}
		maxTip, err := cfg.Ethereum.MaxPriorityFeePerGas.Value()
		if err != nil {
			return fmt.Errorf("ethereum.max_priority_fee_per_gas: %w", err)
		}
		relay = &relayer.Relay{
			Chain: reader, Ethereum: eth, Contract: contract, Opts: bind.NewKeyedTransactor(key.PrivateKey, chainID),
			MaxFeePerGas: maxFee, MaxPriorityFeePerGas: maxTip, Confirmations: cfg.Ethereum.TxConfirmations,
			TxTimeout: time.Duration(cfg.Ethereum.TxTimeout), BumpAfter: time.Duration(cfg.Ethereum.BumpAfter), Retry: cfg.Retry.Policy(),
			TimeoutMargin: uint64(time.Duration(cfg.Ethereum.TimeoutMargin) / time.Second),
			Journal:       relayer.NewTxJournal(inHome(home, cfg.Ethereum.TxJournalFile)), Log: logger.With("role", "relay"),
		}
		logger.Info("relay role", "eth_account", key.Address.Hex(), "max_fee_per_gas_wei", maxFee, "max_priority_fee_per_gas_wei", maxTip,
			"tx_confirmations", cfg.Ethereum.TxConfirmations)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := relayer.NewMetrics(reg)
	if cfg.Metrics.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			return fmt.Errorf("metrics listen %s: %w", cfg.Metrics.Listen, err)
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer func() {
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shut)
		}()
		logger.Info("metrics", "listen", ln.Addr().String())
	}
	logger.Info("nro-relayer started", "roles", cfg.Roles, "contract", contract.Hex(), "eth_chain_id", chainID, "chain", cfg.Chain.ChainID)
	return relayer.Loops(ctx, time.Duration(cfg.Interval), signer, relay, metrics, logger)
}
