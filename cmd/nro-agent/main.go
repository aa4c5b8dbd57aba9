// Command nro-agent is the Consensus-NRO agent: it runs beside a provider's GPU node, samples its GPUs, measures
// the network to its peers, and serves probes and Prometheus metrics. See agent/README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/consensus-nro/nro/cmd/nro-agent/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal starts a graceful shutdown, a second one ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := cmd.NewRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
