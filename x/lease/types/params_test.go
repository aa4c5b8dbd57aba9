package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/x/lease/types"
)

func TestDefaultParams(t *testing.T) {
	p := types.DefaultParams()
	require.NoError(t, p.Validate())
	require.Equal(t, types.Params{
		TakeBps:           200,
		BlocksPerHour:     600,
		MinDepositBlocks:  100,
		MaxPendingBlocks:  600,
		MaxDurationBlocks: 5_256_000,
		MaxTotalGpus:      1024,
		MaxClosesPerBlock: 100,
		// Bridge off; batches every 100 blocks of at most 100 records, executable for six hours.
		BridgeEnabled:       false,
		BatchBlocks:         100,
		MaxBatchRecords:     100,
		BatchTimeoutSeconds: 21_600,
		// Ended leases and finished batches are pruned after 7 days of 6 s blocks, at most 200 per block.
		RetentionBlocks:   100_800,
		MaxPrunedPerBlock: 200,
	}, p)
	require.Equal(t, uint64(365*24*600), p.MaxDurationBlocks, "one year of 6 s blocks")
}

func TestParamsValidate(t *testing.T) {
	cases := []struct {
		name     string
		mutate   func(p *types.Params)
		contains string // empty: valid
	}{
		{"defaults", func(*types.Params) {}, ""},
		{"no fee", func(p *types.Params) { p.TakeBps = 0 }, ""},
		{"fee 100%", func(p *types.Params) { p.TakeBps = 10_000 }, ""},
		{"fee above 100%", func(p *types.Params) { p.TakeBps = 10_001 }, "take_bps 10001: want 0..10000"},
		{"zero blocks per hour", func(p *types.Params) { p.BlocksPerHour = 0 }, "blocks_per_hour 0: want 1..3600000"},
		{"one block per hour", func(p *types.Params) { p.BlocksPerHour = 1; p.MinDepositBlocks = 1 }, ""},
		{"a block per millisecond", func(p *types.Params) { p.BlocksPerHour = 3_600_000 }, ""},
		{"faster than a block per millisecond", func(p *types.Params) { p.BlocksPerHour = 3_600_001 }, "blocks_per_hour 3600001"},
		{"zero min deposit blocks", func(p *types.Params) { p.MinDepositBlocks = 0 }, "min_deposit_blocks 0"},
		{"bridge on", func(p *types.Params) { p.BridgeEnabled = true }, ""},
		{"zero batch blocks", func(p *types.Params) { p.BatchBlocks = 0 }, "batch_blocks 0: want 1.."},
		{"zero batch records", func(p *types.Params) { p.MaxBatchRecords = 0 }, "max_batch_records 0: want 1..1000"},
		{"too many batch records", func(p *types.Params) { p.MaxBatchRecords = 1001 }, "max_batch_records 1001"},
		{"one record per batch", func(p *types.Params) { p.MaxBatchRecords = 1 }, ""},
		{"batch timeout too short", func(p *types.Params) { p.BatchTimeoutSeconds = 59 }, "batch_timeout_seconds 59: want 60..2592000"},
		{"batch timeout too long", func(p *types.Params) { p.BatchTimeoutSeconds = 30*24*3600 + 1 }, "batch_timeout_seconds 2592001"},
		{"zero pending blocks", func(p *types.Params) { p.MaxPendingBlocks = 0 }, "max_pending_blocks 0"},
		{"huge pending blocks", func(p *types.Params) { p.MaxPendingBlocks = 1<<40 + 1 }, "max_pending_blocks 1099511627777: want 1..1099511627776"},
		{"zero max duration", func(p *types.Params) { p.MaxDurationBlocks = 0 }, "max_duration_blocks 0"},
		{"min deposit above max duration", func(p *types.Params) { p.MaxDurationBlocks = 99 }, "min_deposit_blocks 100 exceeds max_duration_blocks 99"},
		{"min deposit equal to max duration", func(p *types.Params) { p.MaxDurationBlocks = 100 }, ""},
		{"zero max GPUs", func(p *types.Params) { p.MaxTotalGpus = 0 }, "max_total_gpus must be at least 1"},
		{"zero closes per block", func(p *types.Params) { p.MaxClosesPerBlock = 0 }, "max_closes_per_block must be at least 1"},
		{"keep everything", func(p *types.Params) { p.RetentionBlocks = 0 }, ""},
		{"prune the next block", func(p *types.Params) { p.RetentionBlocks = 1 }, ""},
		{"retention too long", func(p *types.Params) { p.RetentionBlocks = 1<<40 + 1 }, "retention_blocks 1099511627777: want 0 (keep everything) or 1..1099511627776"},
		{"zero pruned per block", func(p *types.Params) { p.MaxPrunedPerBlock = 0 }, "max_pruned_per_block 0: want at least 1"},
	}
	for _, tc := range cases {
		p := types.DefaultParams()
		tc.mutate(&p)
		err := p.Validate()
		if tc.contains == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		require.ErrorIs(t, err, types.ErrInvalidParams, tc.name)
		require.ErrorContains(t, err, tc.contains, tc.name)
	}
}

func TestMinDeposit(t *testing.T) {
	p := types.DefaultParams()
	spec := types.LeaseSpec{TotalGpus: 16, MaxPricePerGpuHour: coin(3_000_000)}
	// 16 × 3000000 × 100 / 600 = 8000000 exactly.
	require.Equal(t, "8000000", p.MinDeposit(spec).String())
	spec.MaxPricePerGpuHour = coin(1)
	// 16 × 1 × 100 / 600 = 2.67: rounded up.
	require.Equal(t, "3", p.MinDeposit(spec).String())
}
