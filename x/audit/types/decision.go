package types

import (
	"slices"

	errorsmod "cosmossdk.io/errors"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
)

// PlacementNodeIDs returns the ids of a candidate's nodes, sorted, as a decision's node_ids holds them for
// its winner.
func PlacementNodeIDs(c allocationtypes.Candidate) []string {
	ids := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		ids[i] = n.NodeId
	}
	slices.Sort(ids)
	return ids
}

// ValidateWinner checks that winner is the index of a candidate that was scored (not rejected) and places
// work on at least one node.
func ValidateWinner(candidates []allocationtypes.Candidate, winner uint32) error {
	if len(candidates) == 0 {
		return errorsmod.Wrap(ErrInvalidWinner, "no candidates: a decision needs at least the winning placement")
	}
	if int64(winner) >= int64(len(candidates)) {
		return errorsmod.Wrapf(ErrInvalidWinner, "winner index %d is out of range: there are %d candidates (0..%d)",
			winner, len(candidates), len(candidates)-1)
	}
	w := candidates[winner]
	if w.Rejected != "" {
		return errorsmod.Wrapf(ErrInvalidWinner, "winner %d (%s) was rejected (%q); only a scored candidate can win",
			winner, CandidateLabel(w), w.Rejected)
	}
	if len(w.Nodes) == 0 {
		return errorsmod.Wrapf(ErrInvalidWinner, "winner %d (%s) places no nodes", winner, CandidateLabel(w))
	}
	return nil
}

// Validate checks a decision record's structure: the checks that need no recomputation. Whether the
// recorded scores and winner are right is VerifyDecision's job.
func (d Decision) Validate() error {
	switch {
	case d.Id == 0:
		return errorsmod.Wrap(ErrInvalidDecision, "id is 0; decision ids start at 1")
	case d.LeaseId == 0:
		return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: lease_id is 0; lease ids start at 1", d.Id)
	case d.Height <= 0:
		return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: height %d; decisions are made in blocks of height 1 or more", d.Id, d.Height)
	case d.BlocksPerHour == 0:
		return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: blocks_per_hour is 0; the scorer divides by it", d.Id)
	}
	for i, c := range d.Candidates {
		switch c.Source {
		case allocationtypes.CANDIDATE_SOURCE_PROPOSAL:
			if c.ProposalId == 0 {
				return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: candidates[%d] is a proposal with proposal_id 0; proposal ids start at 1", d.Id, i)
			}
		case allocationtypes.CANDIDATE_SOURCE_FALLBACK:
			if c.ProposalId != 0 {
				return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: candidates[%d] is the fallback with proposal_id %d; the fallback has none (0)", d.Id, i, c.ProposalId)
			}
		default:
			return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: candidates[%d] has source %s; want CANDIDATE_SOURCE_PROPOSAL or CANDIDATE_SOURCE_FALLBACK", d.Id, i, c.Source)
		}
	}
	if err := ValidateWinner(d.Candidates, d.Winner); err != nil {
		return errorsmod.Wrapf(err, "decision %d", d.Id)
	}
	for i := 1; i < len(d.NodeIds); i++ {
		if d.NodeIds[i-1] >= d.NodeIds[i] {
			return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: node_ids %v must be sorted and unique", d.Id, d.NodeIds)
		}
	}
	if want := PlacementNodeIDs(d.Candidates[d.Winner]); !slices.Equal(d.NodeIds, want) {
		return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: node_ids %v differ from the winner's nodes %v", d.Id, d.NodeIds, want)
	}
	return nil
}

// HasNode reports whether the decision's winning placement uses node id.
func (d Decision) HasNode(id string) bool {
	_, ok := slices.BinarySearch(d.NodeIds, id)
	return ok
}

// CandidateLabel names a candidate for people: "proposal 7 by nro1…" or "fallback".
func CandidateLabel(c allocationtypes.Candidate) string {
	return CandidateCheck{Source: sourceName(c.Source), ProposalID: c.ProposalId, Proposer: c.Proposer}.Label()
}
