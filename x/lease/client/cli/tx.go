// Package cli holds the hand-written x/lease commands: those whose input AutoCLI cannot express.
package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/types"
)

const (
	FlagGPUs             = "gpus"
	FlagGPUModel         = "gpu-model"
	FlagMinGPUMemoryMiB  = "min-gpu-memory-mib"
	FlagMaxGPUsPerNode   = "max-gpus-per-node"
	FlagRegions          = "regions"
	FlagMinBandwidthMbps = "min-bandwidth-mbps"
	FlagMaxRTTMs         = "max-rtt-ms"
	FlagDurationBlocks   = "duration-blocks"
	FlagMaxPrice         = "max-price"
	FlagDeposit          = "deposit"
)

// NewTxCmd returns the lease tx command; AutoCLI adds the generated subcommands (cancel, top-up, close).
func NewTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "x/lease transactions: lease GPUs for a job and pay for them from escrow",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(NewCreateLeaseCmd())
	return cmd
}

// NewCreateLeaseCmd returns `create`.
func NewCreateLeaseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a lease: escrow a deposit and wait for an allocation of GPUs",
		Long: `Create a lease for a job. The deposit moves from the --from account (the submitter) into the lease
escrow; the lease is PENDING until the allocation engine places it, and expires with a full refund if it is
not placed within max_pending_blocks.

The deposit must cover at least min_deposit_blocks at the maximum price:
  ceil(gpus × max-price × min_deposit_blocks / blocks_per_hour)   (nrod q lease params)
Once placed, the lease pays each node's own price (at most --max-price) per GPU-hour and closes on its own
after --duration-blocks, or earlier when the deposit runs out.

--regions takes cloud:region names, repeated or comma-separated; they are sorted and deduplicated. Leave it
out to accept every region. --gpu-model empty accepts any model.`,
		Example: `nrod tx lease create --gpus 16 --gpu-model H100 --regions aws:us-east-1,aws:us-west-2 --max-rtt-ms 40 \
  --duration-blocks 600 --max-price 3000000unro --deposit 50000000000unro --from submitter`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			msg, err := createLeaseMsgFromFlags(cmd, clientCtx.GetFromAddress().String())
			if err != nil {
				return err
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().Uint32(FlagGPUs, 0, "number of GPUs the job needs, across all nodes (required)")
	cmd.Flags().String(FlagGPUModel, "", "required GPU model in upper case, e.g. H100 (default: any model)")
	cmd.Flags().Uint64(FlagMinGPUMemoryMiB, 0, "minimum memory of each GPU in MiB, e.g. 81920 (default: any)")
	cmd.Flags().Uint32(FlagMaxGPUsPerNode, 0, "most GPUs taken from one node (default: no cap)")
	cmd.Flags().StringSlice(FlagRegions, nil, "allowed cloud:region names, repeated or comma-separated (default: every region)")
	cmd.Flags().Uint64(FlagMinBandwidthMbps, 0, "minimum bandwidth of every node in Mbit/s (default: any)")
	cmd.Flags().Uint32(FlagMaxRTTMs, 0, "maximum round-trip time of every ring link between the nodes in ms (default: no bound)")
	cmd.Flags().Uint64(FlagDurationBlocks, 0, "how many blocks the lease runs once placed, e.g. 600 for one hour of 6 s blocks (required)")
	cmd.Flags().String(FlagMaxPrice, "", "most paid per GPU-hour on any node, e.g. 3000000unro (required)")
	cmd.Flags().String(FlagDeposit, "", "deposit to escrow, e.g. 50000000000unro (required)")
	for _, f := range []string{FlagGPUs, FlagDurationBlocks, FlagMaxPrice, FlagDeposit} {
		_ = cmd.MarkFlagRequired(f)
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

func createLeaseMsgFromFlags(cmd *cobra.Command, submitter string) (*types.MsgCreateLease, error) {
	f := cmd.Flags()
	gpus, _ := f.GetUint32(FlagGPUs)
	model, _ := f.GetString(FlagGPUModel)
	minMem, _ := f.GetUint64(FlagMinGPUMemoryMiB)
	perNode, _ := f.GetUint32(FlagMaxGPUsPerNode)
	regions, _ := f.GetStringSlice(FlagRegions)
	bw, _ := f.GetUint64(FlagMinBandwidthMbps)
	rtt, _ := f.GetUint32(FlagMaxRTTMs)
	duration, _ := f.GetUint64(FlagDurationBlocks)
	priceStr, _ := f.GetString(FlagMaxPrice)
	depositStr, _ := f.GetString(FlagDeposit)

	price, err := sdk.ParseCoinNormalized(priceStr)
	if err != nil {
		return nil, fmt.Errorf("--%s %q: want an amount with denom, e.g. 3000000unro: %w", FlagMaxPrice, priceStr, err)
	}
	deposit, err := sdk.ParseCoinNormalized(depositStr)
	if err != nil {
		return nil, fmt.Errorf("--%s %q: want an amount with denom, e.g. 50000000000unro: %w", FlagDeposit, depositStr, err)
	}
	return &types.MsgCreateLease{
		Submitter: submitter,
		Spec: types.LeaseSpec{
			TotalGpus:          gpus,
			GpuModel:           model,
			MinGpuMemoryMib:    minMem,
			MaxGpusPerNode:     perNode,
			Regions:            NormalizeRegions(regions),
			MinBandwidthMbps:   bw,
			MaxRttMs:           rtt,
			DurationBlocks:     duration,
			MaxPricePerGpuHour: price,
		},
		Deposit: deposit,
	}, nil
}

// NormalizeRegions trims, sorts and deduplicates region names, dropping empty ones, as the chain requires
// the regions of a spec sorted and unique. It returns nil for no regions (every region allowed).
func NormalizeRegions(regions []string) []string {
	var out []string
	for _, r := range regions {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
