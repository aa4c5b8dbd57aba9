// Command localnet starts a single-validator Consensus-NRO chain on 127.0.0.1 with funded test keys
// (keyring-backend test) and runs it until Ctrl-C, then stops nrod cleanly. `make localnet` runs it.
//
//	go run ./networks/localnet --home /tmp/nro-a --port-offset 0
//	go run ./networks/localnet --home /tmp/nro-b --port-offset 100   # a second chain beside the first
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/consensus-nro/nro/testutil/localnet"
)

func main() {
	nrod := flag.String("nrod", "build/nrod", "path to the nrod binary")
	home := flag.String("home", "", "chain home; reused if it holds a genesis (default: a new temporary directory, removed on exit)")
	chainID := flag.String("chain-id", "nro-local-1", "chain id")
	offset := flag.Int("port-offset", 0, "added to every default port (RPC 26657, P2P 26656, gRPC 9090, REST 1317)")
	unbonding := flag.Uint64("unbonding-blocks", 20, "x/allocation unbonding_blocks for a new home")
	blockTime := flag.Duration("block-time", time.Second, "CometBFT timeout_commit for a new home")
	flag.Parse()

	if err := run(*nrod, *home, *chainID, *offset, *unbonding, *blockTime); err != nil {
		fmt.Fprintf(os.Stderr, "localnet: %v\n", err)
		os.Exit(1)
	}
}

func run(nrod, home, chainID string, offset int, unbonding uint64, blockTime time.Duration) error {
	binary, err := filepath.Abs(nrod)
	if err != nil {
		return err
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("nrod binary: %w (run `make build` first)", err)
	}
	temporary := home == ""
	if temporary {
		if home, err = os.MkdirTemp("", "nro-localnet-"); err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(home) }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg := localnet.DefaultConfig(binary, home)
	cfg.ChainID = chainID
	cfg.Ports = localnet.DefaultPorts().Offset(offset)
	cfg.UnbondingBlocks = unbonding
	cfg.BlockTime = blockTime
	logPath := filepath.Join(home, "nrod.log")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }()
	cfg.Log = logFile

	node, err := localnet.Init(ctx, cfg)
	if err != nil {
		return err
	}
	if err := node.Start(ctx); err != nil {
		return fmt.Errorf("%w (see %s)", err, logPath)
	}
	fmt.Printf("Consensus-NRO localnet %s is running (nrod pid %d)\n", chainID, node.PID())
	fmt.Printf("  home      %s%s\n", home, map[bool]string{true: " (temporary)", false: ""}[temporary])
	fmt.Printf("  log       %s\n", logPath)
	fmt.Printf("  RPC       tcp://127.0.0.1:%d\n  gRPC      127.0.0.1:%d\n  REST      http://127.0.0.1:%d\n  P2P       127.0.0.1:%d\n",
		cfg.Ports.RPC, cfg.Ports.GRPC, cfg.Ports.API, cfg.Ports.P2P)
	fmt.Println("  keys      (keyring-backend test)")
	for _, a := range cfg.Accounts {
		addr, _ := node.Address(ctx, a.Name)
		fmt.Printf("            %-11s %s  %s\n", a.Name, addr, a.Balance)
	}
	fmt.Printf("Try:\n  %s q allocation params --home %s --node tcp://127.0.0.1:%d\n", nrod, home, cfg.Ports.RPC)
	fmt.Println("Press Ctrl-C to stop.")

	select {
	case <-ctx.Done():
		fmt.Println("\nstopping nrod…")
	case err := <-node.Exited():
		return fmt.Errorf("nrod exited: %w (see %s)", err, logPath)
	}
	if err := node.Stop(); err != nil {
		return err
	}
	fmt.Println("stopped cleanly")
	return nil
}
