package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/consensus-nro/nro/agent"
	"github.com/consensus-nro/nro/agent/probe"
	"github.com/consensus-nro/nro/agent/report"
)

func newProbeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "probe ADDRESS",
		Short: "Measure RTT and throughput to one agent's probe endpoint and print them",
		Long: `Connect to an agent's probe endpoint (host:port, or node-id@host:port), time --echoes echoes (the RTT is
their median) and one transfer from the peer of at most --transfer-bytes or --transfer-duration, and print the
result. The config in --home supplies the defaults when it exists; the flags override it.`,
		Example: `  nro-agent probe 10.0.0.2:26680
  nro-agent probe gpu-node-2@10.0.0.2:26680 --echoes 50 --transfer-bytes 67108864 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			output, _ := cmd.Flags().GetString(flagOutput)
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: use text or json", output)
			}
			peer, err := agent.ParsePeer(args[0])
			if err != nil {
				return err
			}
			cfg, err := loadConfig(cmd, true)
			if err != nil {
				return err
			}
			cc := cfg.ClientConfig()
			f := cmd.Flags()
			if f.Changed("echoes") {
				cc.Echoes, _ = f.GetInt("echoes")
				if cc.Echoes < 1 {
					return fmt.Errorf("--echoes %d: the RTT needs at least 1 echo", cc.Echoes)
				}
			}
			if f.Changed("transfer-bytes") {
				cc.TransferBytes, _ = f.GetUint64("transfer-bytes")
				cc.NoTransfer = cc.TransferBytes == 0
			}
			if f.Changed("transfer-duration") {
				cc.TransferDuration, _ = f.GetDuration("transfer-duration")
			}
			if f.Changed("transfer-duration") && cc.TransferDuration <= 0 {
				return fmt.Errorf("--transfer-duration %s must be positive", cc.TransferDuration)
			}
			if f.Changed("timeout") {
				cc.IOTimeout, _ = f.GetDuration("timeout")
				cc.DialTimeout = cc.IOTimeout
				if cc.IOTimeout <= 0 {
					return fmt.Errorf("--timeout %s must be positive", cc.IOTimeout)
				}
			}
			client, err := probe.NewClient(cc)
			if err != nil {
				return err
			}
			m, err := client.Measure(cmd.Context(), peer.Address)
			if err != nil {
				return err
			}
			return writeLink(cmd.OutOrStdout(), m.Link(peer.Label(), time.Now().UTC()), m.Limits, output)
		},
	}
	d := probe.DefaultClientConfig()
	cmd.Flags().Int("echoes", d.Echoes, "timed echoes; the RTT is their median")
	cmd.Flags().Uint64("transfer-bytes", d.TransferBytes, "throughput transfer cap in bytes; 0 measures RTT only")
	cmd.Flags().Duration("transfer-duration", d.TransferDuration, "throughput transfer time cap")
	cmd.Flags().Duration("timeout", d.IOTimeout, "connect and per read/write timeout")
	cmd.Flags().StringP(flagOutput, "o", "text", "text or json")
	return cmd
}

func writeLink(w io.Writer, l report.Link, limits probe.Limits, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	}
	name := l.Address
	if l.Peer != l.Address {
		name = l.Peer + " (" + l.Address + ")"
	}
	fmt.Fprintf(w, "peer        %s, protocol v%d\n", name, probe.ProtocolVersion)
	fmt.Fprintf(w, "rtt         median %d us  min %d us  max %d us  (%d echoes)\n", l.RTTMicros, l.RTTMinMicros, l.RTTMaxMicros, l.RTTSamples)
	if l.ThroughputKbps == 0 {
		fmt.Fprintln(w, "throughput  not measured")
	} else {
		fmt.Fprintf(w, "throughput  %s  (%d bytes in %d us)\n", kbps(l.ThroughputKbps), l.TransferBytes, l.TransferMicros)
	}
	fmt.Fprintf(w, "server caps %d bytes / %s per transfer, %d echoes per session\n", limits.MaxTransferBytes, limits.MaxTransferDuration, limits.MaxEchoes)
	return nil
}

func kbps(v uint64) string {
	switch {
	case v >= 1_000_000:
		return fmt.Sprintf("%.2f Gbit/s", float64(v)/1e6)
	case v >= 1_000:
		return fmt.Sprintf("%.2f Mbit/s", float64(v)/1e3)
	}
	return fmt.Sprintf("%d kbit/s", v)
}
