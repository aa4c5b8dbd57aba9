// Package cli holds the hand-written x/allocation commands: those whose input AutoCLI cannot express.
package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
)

const (
	FlagRegion        = "region"
	FlagGPUs          = "gpus"
	FlagBandwidthMbps = "bandwidth-mbps"
	FlagPrice         = "price"
	FlagStake         = "stake"
	FlagAgent         = "agent"
	FlagEthAddress    = "eth-address"
)

// NewTxCmd returns the allocation tx command; AutoCLI adds the generated subcommands to it.
func NewTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "x/allocation transactions: register and manage staked GPU nodes",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(NewRegisterNodeCmd(), NewProposeCmd())
	return cmd
}

// NewRegisterNodeCmd returns `register-node`.
func NewRegisterNodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "register-node NODE_ID",
		Short: "Register a GPU node and escrow its stake",
		Long: `Register a GPU node. The stake moves from the --from account (the operator) into the x/allocation
module account and must be at least min_stake_per_gpu times the node's GPUs.

--gpus takes COUNTxMODEL:MEMORY_MIB groups, repeated or comma-separated, e.g. 8xH100:81920 or
--gpus 4xA100:40960,4xA100:81920. --region is cloud:region from the chain's region list
(nrod q allocation params).`,
		Example: `nrod tx allocation register-node gpu-node-1 --region aws:us-east-1 --gpus 8xH100:81920 \
  --bandwidth-mbps 25000 --price 2500000unro --stake 800000000unro --agent nro1... \
  --eth-address 0x... --from provider`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			msg, err := registerNodeMsgFromFlags(cmd, clientCtx.GetFromAddress().String(), args[0])
			if err != nil {
				return err
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().String(FlagRegion, "", "cloud:region of the node, e.g. aws:us-east-1 (required)")
	cmd.Flags().StringArray(FlagGPUs, nil, "GPU groups COUNTxMODEL:MEMORY_MIB, repeated or comma-separated, e.g. 8xH100:81920 (required)")
	cmd.Flags().Uint64(FlagBandwidthMbps, 0, "network bandwidth in Mbit/s (required)")
	cmd.Flags().String(FlagPrice, "", "price per GPU-hour, e.g. 2500000unro (required)")
	cmd.Flags().String(FlagStake, "", "stake to escrow, e.g. 800000000unro (required)")
	cmd.Flags().String(FlagAgent, "", "bech32 account of the node's nro-agent (default: the operator)")
	cmd.Flags().String(FlagEthAddress, "", "EIP-55 checksummed Ethereum payout address (optional)")
	for _, f := range []string{FlagRegion, FlagGPUs, FlagBandwidthMbps, FlagPrice, FlagStake} {
		_ = cmd.MarkFlagRequired(f)
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

func registerNodeMsgFromFlags(cmd *cobra.Command, operator, nodeID string) (*types.MsgRegisterNode, error) {
	f := cmd.Flags()
	region, _ := f.GetString(FlagRegion)
	gpuArgs, _ := f.GetStringArray(FlagGPUs)
	bw, _ := f.GetUint64(FlagBandwidthMbps)
	priceStr, _ := f.GetString(FlagPrice)
	stakeStr, _ := f.GetString(FlagStake)
	agent, _ := f.GetString(FlagAgent)
	eth, _ := f.GetString(FlagEthAddress)

	gpus, err := ParseGPUGroups(gpuArgs)
	if err != nil {
		return nil, err
	}
	price, err := sdk.ParseCoinNormalized(priceStr)
	if err != nil {
		return nil, fmt.Errorf("--%s %q: want an amount with denom, e.g. 2500000unro: %w", FlagPrice, priceStr, err)
	}
	stake, err := sdk.ParseCoinNormalized(stakeStr)
	if err != nil {
		return nil, fmt.Errorf("--%s %q: want an amount with denom, e.g. 800000000unro: %w", FlagStake, stakeStr, err)
	}
	if agent == "" {
		agent = operator
	}
	return &types.MsgRegisterNode{
		Operator:        operator,
		NodeId:          nodeID,
		Agent:           agent,
		EthAddress:      eth,
		Region:          region,
		Gpus:            gpus,
		BandwidthMbps:   bw,
		PricePerGpuHour: price,
		Stake:           stake,
	}, nil
}

// ParseGPUGroups parses COUNTxMODEL:MEMORY_MIB groups; each argument may hold several, comma-separated.
func ParseGPUGroups(args []string) ([]types.GpuGroup, error) {
	var groups []types.GpuGroup
	for _, arg := range args {
		for _, part := range strings.Split(arg, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			g, err := parseGPUGroup(part)
			if err != nil {
				return nil, err
			}
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("--%s: give at least one group COUNTxMODEL:MEMORY_MIB, e.g. 8xH100:81920", FlagGPUs)
	}
	return groups, nil
}

func parseGPUGroup(s string) (types.GpuGroup, error) {
	bad := func(why string) error {
		return fmt.Errorf("--%s %q: %s; want COUNTxMODEL:MEMORY_MIB, e.g. 8xH100:81920", FlagGPUs, s, why)
	}
	countStr, rest, ok := strings.Cut(s, "x")
	if !ok {
		return types.GpuGroup{}, bad("missing 'x' between count and model")
	}
	model, memStr, ok := strings.Cut(rest, ":")
	if !ok {
		return types.GpuGroup{}, bad("missing ':' before the memory in MiB")
	}
	count, err := strconv.ParseUint(countStr, 10, 32)
	if err != nil {
		return types.GpuGroup{}, bad("count is not a whole number")
	}
	mem, err := strconv.ParseUint(memStr, 10, 64)
	if err != nil {
		return types.GpuGroup{}, bad("memory is not a whole number of MiB")
	}
	return types.GpuGroup{Model: model, Count: uint32(count), MemoryMib: mem}, nil
}
