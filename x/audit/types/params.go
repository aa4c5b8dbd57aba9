package types

import (
	"fmt"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Default params, for 6-second blocks. See README.md (Params) for why each value.
const (
	// DefaultEpochBlocks: one report per node every 100 blocks (10 minutes).
	DefaultEpochBlocks uint64 = 100
	// DefaultGraceBlocks: a report for the previous epoch is accepted for 20 more blocks (2 minutes), so that an
	// agent whose transaction misses the epoch's last block is not faulted for it.
	DefaultGraceBlocks uint64 = 20
	// DefaultToleranceBps: link values within 25% of the other end's median agree.
	DefaultToleranceBps uint32 = 2_500
	// DefaultMaxFaults and DefaultFaultWindowEpochs: more than 3 faults within 144 epochs (one day).
	DefaultMaxFaults         uint32 = 3
	DefaultFaultWindowEpochs uint64 = 144
	// DefaultReputationCleanGainBps: 500 clean epochs (about 3.5 days) take a node from neutral to the top.
	DefaultReputationCleanGainBps uint32 = 10
	// DefaultReputationFaultPenaltyBps: one fault costs 50 clean epochs.
	DefaultReputationFaultPenaltyBps uint32 = 500
	// DefaultReputationDisputePenaltyBps: a disputed report costs half a fault: it may be the peer who lies.
	DefaultReputationDisputePenaltyBps uint32 = 250
	// DefaultLinkReportWindowEpochs: the median is over the last 3 epochs of both ends (up to 6 reports).
	DefaultLinkReportWindowEpochs uint64 = 3
	// DefaultMaxNodesCheckedPerBlock bounds the missed-epoch sweep per block.
	DefaultMaxNodesCheckedPerBlock uint32 = 500
	// DefaultMaxGPUsPerReport and DefaultMaxLinksPerReport bound one report.
	DefaultMaxGPUsPerReport  uint32 = 64
	DefaultMaxLinksPerReport uint32 = 64
	// DefaultGasPerReportEntry is charged per GPU and per link entry, on top of store gas.
	DefaultGasPerReportEntry uint64 = 1_000
	// DefaultReportRetentionEpochs keeps reports for 1008 epochs (7 days).
	DefaultReportRetentionEpochs uint64 = 1_008
	// DefaultMaxPrunedPerBlock bounds pruning per block.
	DefaultMaxPrunedPerBlock uint32 = 200

	// DefaultSlashBps: a slash takes 10% of the node's stake.
	DefaultSlashBps uint32 = 1_000
	// DefaultJailBlocks: a slashed node stays out for 1,200 blocks (2 hours) before it may be unjailed.
	DefaultJailBlocks uint64 = 1_200
	// DefaultSlashDestination: slashed stake compensates the submitters whose leases the node failed.
	DefaultSlashDestination = SLASH_DESTINATION_HARMED_SUBMITTERS
	// DefaultDisputeFaultMinLinks: a dispute over at least 2 comparable links is a fault (over one link, one
	// disagreement cannot tell which end lies).
	DefaultDisputeFaultMinLinks uint32 = 2
	// DefaultDegradedEpochs: a ring link that breaks its lease's limits for 3 epochs in a row (30 minutes at
	// the default epoch) moves the lease.
	DefaultDegradedEpochs uint64 = 3
	// DefaultChallengeWindowEpochs: a report may be challenged during its epoch and the two after.
	DefaultChallengeWindowEpochs uint64 = 2
	// DefaultCommitteeSize: five measurements; the median is safe with two liars among them.
	DefaultCommitteeSize uint32 = 5
	// DefaultCommitteeScanLimit: a committee is drawn from at most 64 nodes read.
	DefaultCommitteeScanLimit uint32 = 64
	// DefaultChallengeBlocks: the committee has 50 blocks (5 minutes) to probe and answer.
	DefaultChallengeBlocks uint64 = 50
	// DefaultChallengeSlashBps: a proven lie costs 5% of the node's stake, on top of the fault.
	DefaultChallengeSlashBps uint32 = 500
	// DefaultChallengeRewardBps: half of what the loser forfeits goes to the winner, the rest is burned.
	DefaultChallengeRewardBps uint32 = 5_000
	// DefaultMaxChallengesResolvedPerBlock bounds the timed-out challenges EndBlock decides per block.
	DefaultMaxChallengesResolvedPerBlock uint32 = 20
	// MaxCommitteeSize bounds committee_size and committee_scan_limit's relation to it.
	MaxCommitteeSize uint32 = 64
	// MaxCommitteeScanLimit bounds the nodes read to draw one committee.
	MaxCommitteeScanLimit uint32 = 1_024

	// BpsDenominator is 100% in basis points; reputation is bounded by it.
	BpsDenominator uint32 = 10_000
	// MaxToleranceBps is 1000%: a looser tolerance would never dispute anything.
	MaxToleranceBps uint32 = 100_000
	// MaxBlocksParam bounds block-count params so that heights computed from them cannot overflow int64.
	MaxBlocksParam uint64 = 1 << 40
	// MaxEpochsParam bounds epoch-count params.
	MaxEpochsParam uint64 = 1 << 32
	// MaxLinkReportWindowEpochs bounds the samples a link keeps (two ends × the window).
	MaxLinkReportWindowEpochs uint64 = 64
	// MaxReportEntries is the hard bound of max_gpus_per_report and max_links_per_report, which messages are
	// also checked against before any state is read.
	MaxReportEntries uint32 = 1_024
	// MaxGasPerReportEntry bounds gas_per_report_entry.
	MaxGasPerReportEntry uint64 = 10_000_000

	// DefaultValsetChangeBps: a new bridge valset when the normalised powers moved by more than 5% in total.
	DefaultValsetChangeBps uint32 = 500
	// DefaultSignerChangeDelayBlocks: a changed Ethereum signer takes effect 100 blocks later, so that the
	// batches and valsets in flight can still be signed by the old key.
	DefaultSignerChangeDelayBlocks uint64 = 100

	// DefaultBridgeRetentionBlocks: a bridged or cancelled batch's confirmations and attestations, and a
	// valset valsets_kept valsets old, are kept 100,800 blocks (7 days) more.
	DefaultBridgeRetentionBlocks uint64 = 100_800
	// DefaultValsetsKept: the 10 newest valsets are never pruned.
	DefaultValsetsKept uint32 = 10
	// DefaultMaxBridgePrunedPerBlock bounds the bridge records EndBlock removes per block.
	DefaultMaxBridgePrunedPerBlock uint32 = 200
	// DefaultSignedWindowBlocks: a valset or batch must be confirmed within 1,200 blocks (2 hours).
	DefaultSignedWindowBlocks uint64 = 1_200
	// DefaultJailUnsigned: a validator that does not sign is jailed, as Gravity Bridge does.
	DefaultJailUnsigned = true
	// DefaultMaxUnsignedChecksPerBlock bounds the signing windows EndBlock checks per block.
	DefaultMaxUnsignedChecksPerBlock uint32 = 10
	// MaxValsetsKept bounds valsets_kept.
	MaxValsetsKept uint32 = 10_000
)

// DefaultSlashFractionUnsigned: a missed valset or batch costs 0.1% of the validator's tokens (Gravity's
// slash_fraction_valset and slash_fraction_batch).
func DefaultSlashFractionUnsigned() math.LegacyDec { return math.LegacyNewDecWithPrec(1, 3) }

// DefaultParams returns the default parameters.
func DefaultParams() Params {
	return Params{
		EpochBlocks:                 DefaultEpochBlocks,
		GraceBlocks:                 DefaultGraceBlocks,
		ToleranceBps:                DefaultToleranceBps,
		MaxFaults:                   DefaultMaxFaults,
		FaultWindowEpochs:           DefaultFaultWindowEpochs,
		ReputationCleanGainBps:      DefaultReputationCleanGainBps,
		ReputationFaultPenaltyBps:   DefaultReputationFaultPenaltyBps,
		ReputationDisputePenaltyBps: DefaultReputationDisputePenaltyBps,
		LinkReportWindowEpochs:      DefaultLinkReportWindowEpochs,
		MaxNodesCheckedPerBlock:     DefaultMaxNodesCheckedPerBlock,
		MaxGpusPerReport:            DefaultMaxGPUsPerReport,
		MaxLinksPerReport:           DefaultMaxLinksPerReport,
		GasPerReportEntry:           DefaultGasPerReportEntry,
		ReportRetentionEpochs:       DefaultReportRetentionEpochs,
		MaxPrunedPerBlock:           DefaultMaxPrunedPerBlock,
		SlashBps:                    DefaultSlashBps,
		JailBlocks:                  DefaultJailBlocks,
		SlashDestination:            DefaultSlashDestination,
		DisputeFaultMinLinks:        DefaultDisputeFaultMinLinks,
		DegradedEpochs:              DefaultDegradedEpochs,
		ChallengeWindowEpochs:       DefaultChallengeWindowEpochs,
		MinChallengeBond:            DefaultMinChallengeBond(),
		CommitteeSize:               DefaultCommitteeSize,
		CommitteeScanLimit:          DefaultCommitteeScanLimit,
		ChallengeBlocks:             DefaultChallengeBlocks,
		ChallengeSlashBps:           DefaultChallengeSlashBps,
		ChallengeRewardBps:          DefaultChallengeRewardBps,

		MaxChallengesResolvedPerBlock: DefaultMaxChallengesResolvedPerBlock,
		// The bridge is off until governance sets bridge_id (and, once deployed, the contract).
		ValsetChangeBps:         DefaultValsetChangeBps,
		SignerChangeDelayBlocks: DefaultSignerChangeDelayBlocks,

		BridgeRetentionBlocks:     DefaultBridgeRetentionBlocks,
		ValsetsKept:               DefaultValsetsKept,
		MaxBridgePrunedPerBlock:   DefaultMaxBridgePrunedPerBlock,
		SignedWindowBlocks:        DefaultSignedWindowBlocks,
		SlashFractionUnsigned:     DefaultSlashFractionUnsigned(),
		JailUnsigned:              DefaultJailUnsigned,
		MaxUnsignedChecksPerBlock: DefaultMaxUnsignedChecksPerBlock,
	}
}

// Validate checks every parameter and says which one is wrong and what would be right.
func (p Params) Validate() error {
	if p.EpochBlocks == 0 || p.EpochBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "epoch_blocks %d: want 1..%d blocks, e.g. %d", p.EpochBlocks, MaxBlocksParam, DefaultEpochBlocks)
	}
	if p.GraceBlocks >= p.EpochBlocks {
		return errorsmod.Wrapf(ErrInvalidParams, "grace_blocks %d: want below epoch_blocks %d, so that an epoch's reports close before the next epoch ends",
			p.GraceBlocks, p.EpochBlocks)
	}
	if p.ToleranceBps == 0 || p.ToleranceBps > MaxToleranceBps {
		return errorsmod.Wrapf(ErrInvalidParams, "tolerance_bps %d: want 1..%d basis points, e.g. %d for 25%%", p.ToleranceBps, MaxToleranceBps, DefaultToleranceBps)
	}
	if p.MaxFaults == 0 {
		return errorsmod.Wrapf(ErrInvalidParams, "max_faults must be at least 1, e.g. %d", DefaultMaxFaults)
	}
	if p.FaultWindowEpochs == 0 || p.FaultWindowEpochs > MaxEpochsParam {
		return errorsmod.Wrapf(ErrInvalidParams, "fault_window_epochs %d: want 1..%d epochs", p.FaultWindowEpochs, MaxEpochsParam)
	}
	for _, r := range []struct {
		name string
		v    uint32
	}{
		{"reputation_clean_gain_bps", p.ReputationCleanGainBps},
		{"reputation_fault_penalty_bps", p.ReputationFaultPenaltyBps},
		{"reputation_dispute_penalty_bps", p.ReputationDisputePenaltyBps},
	} {
		if r.v > BpsDenominator {
			return errorsmod.Wrapf(ErrInvalidParams, "%s %d: want 0..%d basis points (reputation is bounded by %d)", r.name, r.v, BpsDenominator, BpsDenominator)
		}
	}
	if p.LinkReportWindowEpochs == 0 || p.LinkReportWindowEpochs > MaxLinkReportWindowEpochs {
		return errorsmod.Wrapf(ErrInvalidParams, "link_report_window_epochs %d: want 1..%d epochs", p.LinkReportWindowEpochs, MaxLinkReportWindowEpochs)
	}
	if p.MaxNodesCheckedPerBlock == 0 {
		return errorsmod.Wrapf(ErrInvalidParams, "max_nodes_checked_per_block must be at least 1, e.g. %d", DefaultMaxNodesCheckedPerBlock)
	}
	if p.MaxGpusPerReport == 0 || p.MaxGpusPerReport > MaxReportEntries {
		return errorsmod.Wrapf(ErrInvalidParams, "max_gpus_per_report %d: want 1..%d", p.MaxGpusPerReport, MaxReportEntries)
	}
	if p.MaxLinksPerReport == 0 || p.MaxLinksPerReport > MaxReportEntries {
		return errorsmod.Wrapf(ErrInvalidParams, "max_links_per_report %d: want 1..%d", p.MaxLinksPerReport, MaxReportEntries)
	}
	if p.GasPerReportEntry > MaxGasPerReportEntry {
		return errorsmod.Wrapf(ErrInvalidParams, "gas_per_report_entry %d: want 0..%d", p.GasPerReportEntry, MaxGasPerReportEntry)
	}
	if p.ReportRetentionEpochs != 0 && (p.ReportRetentionEpochs < p.LinkReportWindowEpochs+2 || p.ReportRetentionEpochs > MaxEpochsParam) {
		return errorsmod.Wrapf(ErrInvalidParams, "report_retention_epochs %d: want 0 (keep forever) or %d..%d epochs (more than the link window of %d epochs and the grace epoch)",
			p.ReportRetentionEpochs, p.LinkReportWindowEpochs+2, MaxEpochsParam, p.LinkReportWindowEpochs)
	}
	if p.MaxPrunedPerBlock == 0 {
		return errorsmod.Wrapf(ErrInvalidParams, "max_pruned_per_block must be at least 1, e.g. %d", DefaultMaxPrunedPerBlock)
	}
	if p.SlashBps > BpsDenominator {
		return errorsmod.Wrapf(ErrInvalidParams, "slash_bps %d: want 0..%d basis points of the stake, e.g. %d for 10%%", p.SlashBps, BpsDenominator, DefaultSlashBps)
	}
	if p.JailBlocks == 0 || p.JailBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "jail_blocks %d: want 1..%d blocks, e.g. %d", p.JailBlocks, MaxBlocksParam, DefaultJailBlocks)
	}
	if _, ok := SlashDestination_name[int32(p.SlashDestination)]; !ok || p.SlashDestination == SLASH_DESTINATION_UNSPECIFIED {
		return errorsmod.Wrapf(ErrInvalidParams, "slash_destination %d: want SLASH_DESTINATION_BURN, SLASH_DESTINATION_COMMUNITY_POOL or SLASH_DESTINATION_HARMED_SUBMITTERS", p.SlashDestination)
	}
	if p.DisputeFaultMinLinks > MaxReportEntries {
		return errorsmod.Wrapf(ErrInvalidParams, "dispute_fault_min_links %d: want 0 (disputes are never faults) or 1..%d comparable links, e.g. %d",
			p.DisputeFaultMinLinks, MaxReportEntries, DefaultDisputeFaultMinLinks)
	}
	if err := p.validateChallenges(); err != nil {
		return err
	}
	if err := p.validateBridge(); err != nil {
		return err
	}
	if p.DegradedEpochs > p.LinkReportWindowEpochs {
		return errorsmod.Wrapf(ErrInvalidParams, "degraded_epochs %d: want 0 (links never move leases) or 1..link_report_window_epochs (%d): the link matrix keeps no older samples",
			p.DegradedEpochs, p.LinkReportWindowEpochs)
	}
	return nil
}

// DefaultMinChallengeBond is 10 NRO: enough that spamming committees costs more than a committee's work.
func DefaultMinChallengeBond() sdk.Coin { return sdk.NewCoin("unro", math.NewInt(10_000_000)) }

func (p Params) validateChallenges() error {
	if p.ChallengeWindowEpochs > MaxEpochsParam {
		return errorsmod.Wrapf(ErrInvalidParams, "challenge_window_epochs %d: want at most %d", p.ChallengeWindowEpochs, MaxEpochsParam)
	}
	if err := p.MinChallengeBond.Validate(); err != nil || !p.MinChallengeBond.IsPositive() {
		return errorsmod.Wrapf(ErrInvalidParams, "min_challenge_bond %s: want a positive amount with denom, e.g. 10000000unro", p.MinChallengeBond)
	}
	if p.CommitteeSize == 0 || p.CommitteeSize > MaxCommitteeSize {
		return errorsmod.Wrapf(ErrInvalidParams, "committee_size %d: want 1..%d, e.g. %d", p.CommitteeSize, MaxCommitteeSize, DefaultCommitteeSize)
	}
	if p.CommitteeScanLimit < p.CommitteeSize || p.CommitteeScanLimit > MaxCommitteeScanLimit {
		return errorsmod.Wrapf(ErrInvalidParams, "committee_scan_limit %d: want committee_size (%d)..%d", p.CommitteeScanLimit, p.CommitteeSize, MaxCommitteeScanLimit)
	}
	if p.ChallengeBlocks == 0 || p.ChallengeBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "challenge_blocks %d: want 1..%d, e.g. %d", p.ChallengeBlocks, MaxBlocksParam, DefaultChallengeBlocks)
	}
	if p.ChallengeSlashBps > BpsDenominator || p.ChallengeRewardBps > BpsDenominator {
		return errorsmod.Wrapf(ErrInvalidParams, "challenge_slash_bps %d and challenge_reward_bps %d: want 0..%d each", p.ChallengeSlashBps, p.ChallengeRewardBps, BpsDenominator)
	}
	if p.MaxChallengesResolvedPerBlock == 0 {
		return errorsmod.Wrapf(ErrInvalidParams, "max_challenges_resolved_per_block 0: want at least 1, e.g. %d", DefaultMaxChallengesResolvedPerBlock)
	}
	return nil
}

func (p Params) validateBridge() error {
	if p.BridgeId != "" {
		if _, err := ParseBridgeID(p.BridgeId); err != nil {
			return errorsmod.Wrapf(ErrInvalidParams, "bridge_id %q: %v", p.BridgeId, err)
		}
	}
	if p.SettlementContract != "" {
		if p.BridgeId == "" || p.EthChainId == 0 {
			return errorsmod.Wrap(ErrInvalidParams, "settlement_contract needs bridge_id and eth_chain_id")
		}
		if !common.IsHexAddress(p.SettlementContract) {
			return errorsmod.Wrapf(ErrInvalidParams, "settlement_contract %q: want a 0x-prefixed 20-byte hex address", p.SettlementContract)
		}
	}
	if p.ValsetChangeBps > BpsDenominator {
		return errorsmod.Wrapf(ErrInvalidParams, "valset_change_bps %d: want 0..%d, e.g. %d", p.ValsetChangeBps, BpsDenominator, DefaultValsetChangeBps)
	}
	if p.SignerChangeDelayBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "signer_change_delay_blocks %d: want at most %d", p.SignerChangeDelayBlocks, MaxBlocksParam)
	}
	return p.validateBridgeUpkeep()
}

// validateBridgeUpkeep checks the pruning and signing-window params.
func (p Params) validateBridgeUpkeep() error {
	if p.SignedWindowBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "signed_window_blocks %d: want 0 (never slash for not signing) or 1..%d, e.g. %d",
			p.SignedWindowBlocks, MaxBlocksParam, DefaultSignedWindowBlocks)
	}
	if p.BridgeRetentionBlocks != 0 && (p.BridgeRetentionBlocks <= p.SignedWindowBlocks || p.BridgeRetentionBlocks > MaxBlocksParam) {
		return errorsmod.Wrapf(ErrInvalidParams, "bridge_retention_blocks %d: want 0 (keep everything) or more than signed_window_blocks (%d) and at most %d, e.g. %d: a valset or batch is checked for signatures before it is pruned",
			p.BridgeRetentionBlocks, p.SignedWindowBlocks, MaxBlocksParam, DefaultBridgeRetentionBlocks)
	}
	if p.ValsetsKept == 0 || p.ValsetsKept > MaxValsetsKept {
		return errorsmod.Wrapf(ErrInvalidParams, "valsets_kept %d: want 1..%d, e.g. %d: the contract may still be on the newest valset the relayer has not yet replaced",
			p.ValsetsKept, MaxValsetsKept, DefaultValsetsKept)
	}
	if p.MaxBridgePrunedPerBlock == 0 {
		return errorsmod.Wrapf(ErrInvalidParams, "max_bridge_pruned_per_block 0: want at least 1, e.g. %d", DefaultMaxBridgePrunedPerBlock)
	}
	if p.SlashFractionUnsigned.IsNil() || p.SlashFractionUnsigned.IsNegative() || p.SlashFractionUnsigned.GT(math.LegacyOneDec()) {
		return errorsmod.Wrapf(ErrInvalidParams, "slash_fraction_unsigned %s: want a decimal in 0..1, e.g. %s", p.SlashFractionUnsigned, DefaultSlashFractionUnsigned())
	}
	if p.MaxUnsignedChecksPerBlock == 0 {
		return errorsmod.Wrapf(ErrInvalidParams, "max_unsigned_checks_per_block 0: want at least 1, e.g. %d", DefaultMaxUnsignedChecksPerBlock)
	}
	return nil
}

// ParseBridgeID parses a bridge id: 0x and 64 hex digits (32 bytes).
func ParseBridgeID(s string) ([32]byte, error) {
	var id [32]byte
	bz, err := hexutil.Decode(s)
	if err != nil || len(bz) != 32 {
		return id, fmt.Errorf("want 0x and 64 hex digits (32 bytes)")
	}
	copy(id[:], bz)
	return id, nil
}

// BridgeReady reports whether confirmations can be checked: bridge id, Ethereum chain id and contract set.
func (p Params) BridgeReady() bool {
	return p.BridgeId != "" && p.EthChainId != 0 && p.SettlementContract != ""
}

// LogString renders the params for logs.
func (p Params) LogString() string {
	return fmt.Sprintf("epoch_blocks=%d grace_blocks=%d tolerance_bps=%d max_faults=%d fault_window_epochs=%d "+
		"reputation(+%d clean, -%d fault, -%d dispute) link_window=%d max_nodes_checked_per_block=%d "+
		"max_gpus=%d max_links=%d gas_per_entry=%d retention=%d max_pruned_per_block=%d "+
		"slash_bps=%d jail_blocks=%d slash_destination=%s dispute_fault_min_links=%d degraded_epochs=%d "+
		"challenges(window=%d bond=%s committee=%d scan=%d blocks=%d slash_bps=%d reward_bps=%d max_resolved=%d)",
		p.EpochBlocks, p.GraceBlocks, p.ToleranceBps, p.MaxFaults, p.FaultWindowEpochs,
		p.ReputationCleanGainBps, p.ReputationFaultPenaltyBps, p.ReputationDisputePenaltyBps, p.LinkReportWindowEpochs,
		p.MaxNodesCheckedPerBlock, p.MaxGpusPerReport, p.MaxLinksPerReport, p.GasPerReportEntry,
		p.ReportRetentionEpochs, p.MaxPrunedPerBlock, p.SlashBps, p.JailBlocks, p.SlashDestination, p.DisputeFaultMinLinks, p.DegradedEpochs,
		p.ChallengeWindowEpochs, p.MinChallengeBond, p.CommitteeSize, p.CommitteeScanLimit, p.ChallengeBlocks, p.ChallengeSlashBps,
		p.ChallengeRewardBps, p.MaxChallengesResolvedPerBlock)
}
