package types

import (
	"fmt"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"
)

const (
	// DefaultTakeBps is the protocol fee: 2% of every payment.
	DefaultTakeBps uint32 = 200
	// DefaultBlocksPerHour assumes 6 s blocks.
	DefaultBlocksPerHour uint64 = 600
	// DefaultMinDepositBlocks: a new lease's deposit covers at least 100 blocks (10 min) at its maximum price.
	DefaultMinDepositBlocks uint64 = 100
	// DefaultMaxPendingBlocks: a lease not placed within 600 blocks (1 h) expires with a full refund.
	DefaultMaxPendingBlocks uint64 = 600
	// DefaultMaxDurationBlocks is one year of 6 s blocks.
	DefaultMaxDurationBlocks uint64 = 5_256_000
	// DefaultMaxTotalGPUs bounds the GPUs of one lease.
	DefaultMaxTotalGPUs uint32 = 1024
	// DefaultMaxClosesPerBlock bounds EndBlock work.
	DefaultMaxClosesPerBlock uint32 = 100
	// DefaultBatchBlocks makes a settlement batch of the waiting bridged records every 100 blocks.
	DefaultBatchBlocks uint64 = 100
	// DefaultMaxBatchRecords keeps a batch to 100 records (at most 100 mints on Ethereum).
	DefaultMaxBatchRecords uint32 = 100
	// DefaultBatchTimeoutSeconds keeps a batch executable for six hours after its creation.
	DefaultBatchTimeoutSeconds uint64 = 6 * 3600
	// DefaultRetentionBlocks keeps ended leases and finished batches for 100,800 blocks (7 days of 6 s
	// blocks), as x/audit keeps the bridge's confirmations.
	DefaultRetentionBlocks uint64 = 100_800
	// DefaultMaxPrunedPerBlock bounds the leases and batches EndBlock prunes per block.
	DefaultMaxPrunedPerBlock uint32 = 200
	// MaxBatchRecords bounds max_batch_records: the Ethereum gas of a batch grows with its payouts.
	MaxBatchRecords uint32 = 1000
	// MinBatchTimeoutSeconds and MaxBatchTimeoutSeconds bound batch_timeout_seconds (a minute to 30 days).
	MinBatchTimeoutSeconds uint64 = 60
	MaxBatchTimeoutSeconds uint64 = 30 * 24 * 3600

	// BpsDenominator is 100% in basis points.
	BpsDenominator = 10_000
	// MaxBlocksPerHour is one block per millisecond.
	MaxBlocksPerHour uint64 = 3_600_000
	// MaxBlocksParam bounds the block-count params so that heights computed from them cannot overflow int64.
	MaxBlocksParam uint64 = 1 << 40
)

// DefaultParams returns the default parameters.
func DefaultParams() Params {
	return Params{
		TakeBps:           DefaultTakeBps,
		BlocksPerHour:     DefaultBlocksPerHour,
		MinDepositBlocks:  DefaultMinDepositBlocks,
		MaxPendingBlocks:  DefaultMaxPendingBlocks,
		MaxDurationBlocks: DefaultMaxDurationBlocks,
		MaxTotalGpus:      DefaultMaxTotalGPUs,
		MaxClosesPerBlock: DefaultMaxClosesPerBlock,
		// The bridge is off until governance turns it on (once the settlement contract is deployed).
		BridgeEnabled:       false,
		BatchBlocks:         DefaultBatchBlocks,
		MaxBatchRecords:     DefaultMaxBatchRecords,
		BatchTimeoutSeconds: DefaultBatchTimeoutSeconds,
		RetentionBlocks:     DefaultRetentionBlocks,
		MaxPrunedPerBlock:   DefaultMaxPrunedPerBlock,
	}
}

// Validate checks every parameter and says which one is wrong.
func (p Params) Validate() error {
	if p.TakeBps > BpsDenominator {
		return errorsmod.Wrapf(ErrInvalidParams, "take_bps %d: want 0..%d basis points, e.g. 200 for 2%%", p.TakeBps, BpsDenominator)
	}
	if p.BlocksPerHour == 0 || p.BlocksPerHour > MaxBlocksPerHour {
		return errorsmod.Wrapf(ErrInvalidParams, "blocks_per_hour %d: want 1..%d, e.g. 600 for 6 s blocks", p.BlocksPerHour, MaxBlocksPerHour)
	}
	for _, b := range []struct {
		name string
		v    uint64
	}{
		{"min_deposit_blocks", p.MinDepositBlocks},
		{"max_pending_blocks", p.MaxPendingBlocks},
		{"max_duration_blocks", p.MaxDurationBlocks},
	} {
		if b.v == 0 || b.v > MaxBlocksParam {
			return errorsmod.Wrapf(ErrInvalidParams, "%s %d: want 1..%d blocks", b.name, b.v, MaxBlocksParam)
		}
	}
	if p.MinDepositBlocks > p.MaxDurationBlocks {
		return errorsmod.Wrapf(ErrInvalidParams, "min_deposit_blocks %d exceeds max_duration_blocks %d: no lease could be funded",
			p.MinDepositBlocks, p.MaxDurationBlocks)
	}
	if p.MaxTotalGpus == 0 {
		return errorsmod.Wrap(ErrInvalidParams, "max_total_gpus must be at least 1")
	}
	if p.MaxClosesPerBlock == 0 {
		return errorsmod.Wrap(ErrInvalidParams, "max_closes_per_block must be at least 1")
	}
	if p.BatchBlocks == 0 || p.BatchBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "batch_blocks %d: want 1..%d blocks, e.g. %d", p.BatchBlocks, MaxBlocksParam, DefaultBatchBlocks)
	}
	if p.MaxBatchRecords == 0 || p.MaxBatchRecords > MaxBatchRecords {
		return errorsmod.Wrapf(ErrInvalidParams, "max_batch_records %d: want 1..%d, e.g. %d", p.MaxBatchRecords, MaxBatchRecords, DefaultMaxBatchRecords)
	}
	if p.BatchTimeoutSeconds < MinBatchTimeoutSeconds || p.BatchTimeoutSeconds > MaxBatchTimeoutSeconds {
		return errorsmod.Wrapf(ErrInvalidParams, "batch_timeout_seconds %d: want %d..%d, e.g. %d (six hours)",
			p.BatchTimeoutSeconds, MinBatchTimeoutSeconds, MaxBatchTimeoutSeconds, DefaultBatchTimeoutSeconds)
	}
	if p.RetentionBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "retention_blocks %d: want 0 (keep everything) or 1..%d blocks, e.g. %d (7 days of 6 s blocks)",
			p.RetentionBlocks, MaxBlocksParam, DefaultRetentionBlocks)
	}
	if p.MaxPrunedPerBlock == 0 {
		return errorsmod.Wrapf(ErrInvalidParams, "max_pruned_per_block 0: want at least 1, e.g. %d", DefaultMaxPrunedPerBlock)
	}
	return nil
}

// MinDeposit is the smallest deposit a lease with this spec may be created with: its worst-case price for
// min_deposit_blocks, ceil(total_gpus × max_price_per_gpu_hour × min_deposit_blocks / blocks_per_hour).
func (p Params) MinDeposit(spec LeaseSpec) math.Int {
	num := spec.MaxPricePerGpuHour.Amount.
		Mul(math.NewIntFromUint64(uint64(spec.TotalGpus))).
		Mul(math.NewIntFromUint64(p.MinDepositBlocks))
	return CeilDiv(num, math.NewIntFromUint64(p.BlocksPerHour))
}

// LogString renders the params for logs.
func (p Params) LogString() string {
	return fmt.Sprintf("take_bps=%d blocks_per_hour=%d min_deposit_blocks=%d max_pending_blocks=%d max_duration_blocks=%d max_total_gpus=%d max_closes_per_block=%d retention_blocks=%d max_pruned_per_block=%d",
		p.TakeBps, p.BlocksPerHour, p.MinDepositBlocks, p.MaxPendingBlocks, p.MaxDurationBlocks, p.MaxTotalGpus, p.MaxClosesPerBlock, p.RetentionBlocks, p.MaxPrunedPerBlock)
}
