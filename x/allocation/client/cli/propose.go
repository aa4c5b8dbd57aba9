package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"

	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// Flags of propose.
const (
	FlagPlacement = "placement"
	FlagRing      = "ring"
)

// NewProposeCmd builds `propose LEASE_ID --placement NODE:GPUS,... [--ring NODE,...]`; the placement is a
// list of messages, which AutoCLI can only take as JSON.
func NewProposeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "propose LEASE_ID",
		Short: "Propose a placement for a pending lease (a node agent, or an account holding min_proposer_bond)",
		Long: `Propose where a PENDING lease runs, during its proposal window (proposal_window_blocks after creation).
--placement lists NODE_ID:GPUS entries, repeated or comma-separated; each node at most once, and the GPUs must
add up to the lease's total. --ring gives the all-reduce ring order of the placement's nodes (default: the
placement order). The chain validates the proposal against current capacity and the lease's constraints,
and answers with its cost; the cheapest valid candidate wins when the window closes.`,
		Example: `nrod tx allocation propose 7 --placement gpu-node-1:8,gpu-node-2:8 --ring gpu-node-2,gpu-node-1 --from agent`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			msg, err := proposeMsgFromFlags(cmd, clientCtx.GetFromAddress().String(), args[0])
			if err != nil {
				return err
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().StringArray(FlagPlacement, nil, "NODE_ID:GPUS entries, repeated or comma-separated, e.g. gpu-node-1:8,gpu-node-2:8 (required)")
	cmd.Flags().String(FlagRing, "", "ring order of the placement's node ids, comma-separated (default: placement order)")
	_ = cmd.MarkFlagRequired(FlagPlacement)
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

func proposeMsgFromFlags(cmd *cobra.Command, proposer, leaseArg string) (*types.MsgProposeAllocation, error) {
	leaseID, err := strconv.ParseUint(leaseArg, 10, 64)
	if err != nil || leaseID == 0 {
		return nil, fmt.Errorf("LEASE_ID %q: want a lease id, a positive integer", leaseArg)
	}
	entries, _ := cmd.Flags().GetStringArray(FlagPlacement)
	placement, err := ParsePlacement(entries)
	if err != nil {
		return nil, err
	}
	ringStr, _ := cmd.Flags().GetString(FlagRing)
	var ring []string
	for _, id := range strings.Split(ringStr, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ring = append(ring, id)
		}
	}
	msg := &types.MsgProposeAllocation{Proposer: proposer, LeaseId: leaseID, Placement: placement, RingOrder: ring}
	return msg, msg.ValidateBasic()
}

// ParsePlacement parses NODE_ID:GPUS entries, repeated or comma-separated.
func ParsePlacement(args []string) ([]leasetypes.Placement, error) {
	var out []leasetypes.Placement
	for _, arg := range args {
		for _, part := range strings.Split(arg, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			node, gpusStr, ok := strings.Cut(part, ":")
			gpus, err := strconv.ParseUint(gpusStr, 10, 32)
			if !ok || node == "" || err != nil || gpus == 0 {
				return nil, fmt.Errorf("--%s %q: want NODE_ID:GPUS with GPUS a positive integer, e.g. gpu-node-1:8", FlagPlacement, part)
			}
			out = append(out, leasetypes.Placement{NodeId: node, Gpus: uint32(gpus)})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--%s: give at least one NODE_ID:GPUS entry, e.g. gpu-node-1:8", FlagPlacement)
	}
	return out, nil
}
