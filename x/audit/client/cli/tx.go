package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"

	"github.com/consensus-nro/nro/x/audit/types"
)

// NewTxCmd returns the audit tx command; AutoCLI adds the generated subcommands to it.
func NewTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "x/audit transactions: nodes' telemetry attestations",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(NewSubmitTelemetryCmd())
	return cmd
}

// NewSubmitTelemetryCmd returns `submit-telemetry REPORT.json`. A report has a list of GPUs and a list of
// links, each a nested message; AutoCLI would take them as one JSON flag per entry, so the command reads
// the whole report from one file instead.
func NewSubmitTelemetryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "submit-telemetry REPORT.json",
		Short: "Submit a node's telemetry report for an epoch (signed by the node's agent)",
		Long: `Submit a telemetry report read from a JSON file ('-' reads standard input): MsgSubmitTelemetry in
protobuf JSON, {"node_id", "epoch", "gpus": [...], "links": [...]}. "agent" may be left out: it is the --from
account, which must be the node's registered agent. The epoch is the current one (nrod q audit epoch), or the
previous one within grace_blocks of its end.

Each GPU: device_index, uuid, model, source (SOURCE_NVML or SOURCE_FALLBACK), present, utilization_pct,
memory_used_mib, memory_total_mib, power_mw, temperature_c, ecc_corrected, ecc_uncorrected, throttle_reasons.
Each link, to a node sharing an active lease: peer_node_id, source (SOURCE_PROBE or SOURCE_FALLBACK), rtt_us,
throughput_kbps, samples (at least 1 for a probe, 0 for a fallback).`,
		Example: `nrod tx audit submit-telemetry report.json --from agent-1
{"node_id": "gpu-node-1", "epoch": "12",
 "gpus": [{"device_index": 0, "uuid": "GPU-5f0c", "model": "NVIDIA H100 80GB HBM3", "source": "SOURCE_NVML",
           "present": true, "utilization_pct": 97, "memory_used_mib": "70000", "memory_total_mib": "81559",
           "power_mw": "650000", "temperature_c": 61}],
 "links": [{"peer_node_id": "gpu-node-2", "source": "SOURCE_PROBE", "rtt_us": "420", "throughput_kbps": "9400000", "samples": 10}]}`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			msg, err := ReadTelemetry(clientCtx, args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			from := clientCtx.GetFromAddress().String()
			if msg.Agent == "" {
				msg.Agent = from
			} else if msg.Agent != from {
				return fmt.Errorf("the report's agent %s is not the --from account %s; leave agent out or sign with it", msg.Agent, from)
			}
			if err := msg.ValidateBasic(); err != nil {
				return err
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// ReadTelemetry decodes a MsgSubmitTelemetry in protobuf JSON from path, or from stdin when path is "-".
func ReadTelemetry(clientCtx client.Context, path string, stdin io.Reader) (*types.MsgSubmitTelemetry, error) {
	var (
		bz  []byte
		err error
	)
	if path == "-" {
		bz, err = io.ReadAll(stdin)
	} else {
		bz, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	var msg types.MsgSubmitTelemetry
	if err := clientCtx.Codec.UnmarshalJSON(bz, &msg); err != nil {
		return nil, fmt.Errorf("decode report %s as MsgSubmitTelemetry JSON: %w", path, err)
	}
	return &msg, nil
}
