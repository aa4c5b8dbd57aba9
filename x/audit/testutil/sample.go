package testutil

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// The sample decision: lease 42 wants 8 H100 GPUs (80 GiB) for one hour in aws:us-east-1 or
// gcp:us-central1-a, at most 3 NRO per GPU-hour, 5 Gbit/s and 50 ms. Three nodes:
//
//	n-a1 aws:us-east-1      8 free  2.5 NRO  25 Gbit/s  reputation 6000
//	n-a2 aws:us-east-1      4 free  2.4 NRO  25 Gbit/s  reputation 5000
//	n-g1 gcp:us-central1-a  8 free  2.6 NRO  10 Gbit/s  reputation 4000
//
// Candidates, in record order:
//
//	#0 proposal 3 by alice: 4 × n-a1 + 4 × n-a2, one region           total 19,952,000  (wins)
//	#1 proposal 5 by bob:   4 × n-a1 + 4 × n-g1, 13 ms, 4 Gbit/s link  total 23,040,000
//	#2 proposal 7 by carol: rejected at decision time
//	#3 fallback:            8 × n-g1                                   total 20,960,000
const (
	SampleLeaseID             = 42
	SampleBlocksPerHour       = 600
	SampleProposer1           = "nro1alice"
	SampleProposer2           = "nro1bob"
	SampleProposer3           = "nro1carol"
	SampleRegionAWS           = "aws:us-east-1"
	SampleRegionGCP           = "gcp:us-central1-a"
	SampleIntraRegionRTTUs    = 400
	SampleCrossRegionRTTUs    = 13_000
	SampleCrossRegionBandMbps = 4_000
)

// SampleSpec is the sample lease's spec.
func SampleSpec() leasetypes.LeaseSpec {
	return leasetypes.LeaseSpec{
		TotalGpus:          8,
		GpuModel:           "H100",
		MinGpuMemoryMib:    81920,
		Regions:            []string{SampleRegionAWS, SampleRegionGCP},
		MinBandwidthMbps:   5_000,
		MaxRttMs:           50,
		DurationBlocks:     600,
		MaxPricePerGpuHour: sdk.NewCoin("unro", sdkmath.NewInt(3_000_000)),
	}
}

// SampleWeights are the scoring weights of the sample decision (x/allocation's defaults when it was written).
func SampleWeights() allocationtypes.ScoringWeights {
	return allocationtypes.ScoringWeights{
		LatencyPerMs:        10_000,
		BandwidthPerMbps:    100,
		FragmentationPerGpu: 100_000,
		ReputationPerBps:    20,
	}
}

// SampleNode returns one of the sample nodes (n-a1, n-a2, n-g1) with gpus GPUs taken from it.
func SampleNode(t testing.TB, id string, gpus uint32) allocationtypes.ScoredNode {
	t.Helper()
	n := allocationtypes.ScoredNode{
		NodeId:       id,
		GpuModel:     "H100",
		GpuMemoryMib: 81920,
		Gpus:         gpus,
	}
	switch id {
	case "n-a1":
		n.Region, n.FreeBefore, n.BandwidthMbps, n.PricePerGpuHour, n.ReputationBps = SampleRegionAWS, 8, 25_000, sdkmath.NewInt(2_500_000), 6_000
	case "n-a2":
		n.Region, n.FreeBefore, n.BandwidthMbps, n.PricePerGpuHour, n.ReputationBps = SampleRegionAWS, 4, 25_000, sdkmath.NewInt(2_400_000), 5_000
	case "n-g1":
		n.Region, n.FreeBefore, n.BandwidthMbps, n.PricePerGpuHour, n.ReputationBps = SampleRegionGCP, 8, 10_000, sdkmath.NewInt(2_600_000), 4_000
	default:
		t.Fatalf("no sample node %q", id)
	}
	return n
}

// Link is the measured link between two regions.
func Link(a, b string, rttUs, bandwidthMbps uint64) allocationtypes.RegionLink {
	a, b = allocationtypes.LinkKey(a, b)
	return allocationtypes.RegionLink{RegionA: a, RegionB: b, RttUs: rttUs, BandwidthMbps: bandwidthMbps}
}

// Scored returns c with the score ScoreCandidate gives it under the sample inputs.
func Scored(t testing.TB, c allocationtypes.Candidate) allocationtypes.Candidate {
	t.Helper()
	s, err := allocationtypes.ScoreCandidate(SampleSpec(), SampleBlocksPerHour, SampleWeights(), c, 0)
	require.NoError(t, err, "score %s", types.CandidateLabel(c))
	c.Score = s
	return c
}

// ZeroScore is the score of a candidate that was not scored.
func ZeroScore() allocationtypes.ScoreBreakdown {
	z := sdkmath.ZeroInt()
	return allocationtypes.ScoreBreakdown{Price: z, Latency: z, Bandwidth: z, Fragmentation: z, Reputation: z, Total: z}
}

// SampleCandidates returns the four sample candidates, scored.
func SampleCandidates(t testing.TB) []allocationtypes.Candidate {
	t.Helper()
	intra := Link(SampleRegionAWS, SampleRegionAWS, SampleIntraRegionRTTUs, 20_000)
	cross := Link(SampleRegionAWS, SampleRegionGCP, SampleCrossRegionRTTUs, SampleCrossRegionBandMbps)
	return []allocationtypes.Candidate{
		Scored(t, allocationtypes.Candidate{
			Source:     allocationtypes.CANDIDATE_SOURCE_PROPOSAL,
			ProposalId: 3,
			Proposer:   SampleProposer1,
			Nodes:      []allocationtypes.ScoredNode{SampleNode(t, "n-a1", 4), SampleNode(t, "n-a2", 4)},
			RingOrder:  []string{"n-a1", "n-a2"},
			Links:      []allocationtypes.RegionLink{intra, intra},
		}),
		Scored(t, allocationtypes.Candidate{
			Source:     allocationtypes.CANDIDATE_SOURCE_PROPOSAL,
			ProposalId: 5,
			Proposer:   SampleProposer2,
			Nodes:      []allocationtypes.ScoredNode{SampleNode(t, "n-g1", 4), SampleNode(t, "n-a1", 4)},
			RingOrder:  []string{"n-a1", "n-g1"},
			Links:      []allocationtypes.RegionLink{cross, cross},
		}),
		{
			Source:     allocationtypes.CANDIDATE_SOURCE_PROPOSAL,
			ProposalId: 7,
			Proposer:   SampleProposer3,
			Nodes:      []allocationtypes.ScoredNode{SampleNode(t, "n-a1", 8)},
			RingOrder:  []string{"n-a1"},
			Score:      ZeroScore(),
			Rejected:   "node n-a1 is JAILED; only ACTIVE nodes take leases",
		},
		Scored(t, allocationtypes.Candidate{
			Source:    allocationtypes.CANDIDATE_SOURCE_FALLBACK,
			Nodes:     []allocationtypes.ScoredNode{SampleNode(t, "n-g1", 8)},
			RingOrder: []string{"n-g1"},
		}),
	}
}

// SampleDecision returns the sample decision record with the given id and height, the winner being the one
// ChooseWinner picks (proposal 3, index 0).
func SampleDecision(t testing.TB, id uint64, height int64) types.Decision {
	t.Helper()
	cands := SampleCandidates(t)
	w, ok := allocationtypes.ChooseWinner(cands)
	require.True(t, ok)
	return types.Decision{
		Id:            id,
		LeaseId:       SampleLeaseID,
		Height:        height,
		Spec:          SampleSpec(),
		BlocksPerHour: SampleBlocksPerHour,
		Weights:       SampleWeights(),
		Candidates:    cands,
		Winner:        uint32(w),
		NodeIds:       types.PlacementNodeIDs(cands[w]),
	}
}
