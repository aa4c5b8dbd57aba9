package types

import (
	"slices"

	errorsmod "cosmossdk.io/errors"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
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
		case allocationtypes.CANDIDATE_SOURCE_FALLBACK, allocationtypes.CANDIDATE_SOURCE_PARTIAL:
			if c.ProposalId != 0 {
				return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: candidates[%d] is %s with proposal_id %d; only proposals have one (0)", d.Id, i, CandidateLabel(c), c.ProposalId)
			}
			if c.Source == allocationtypes.CANDIDATE_SOURCE_PARTIAL && d.Reallocation == nil {
				return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: candidates[%d] is a partial re-placement, but the decision moved no lease (no reallocation)", d.Id, i)
			}
		default:
			return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: candidates[%d] has source %s; want CANDIDATE_SOURCE_PROPOSAL, CANDIDATE_SOURCE_PARTIAL or CANDIDATE_SOURCE_FALLBACK", d.Id, i, c.Source)
		}
	}
	if r := d.Reallocation; r != nil && int(d.Winner) < len(d.Candidates) {
		if r.Reason == leasetypes.REALLOCATION_REASON_UNSPECIFIED || len(r.TriggerNodeIds) == 0 || len(r.PreviousPlacement) == 0 || r.EndedHeight > d.Height {
			return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: a reallocation needs a reason, trigger nodes, the previous placement and an end height at or before the decision (%d)", d.Id, d.Height)
		}
		if kept, moved := KeptAndMoved(r.PreviousPlacement, d.Candidates[min(int(d.Winner), len(d.Candidates)-1)]); kept != r.KeptGpus || moved != r.MovedGpus {
			return errorsmod.Wrapf(ErrInvalidDecision, "decision %d: kept_gpus %d and moved_gpus %d; the winner keeps %d and moves %d", d.Id, r.KeptGpus, r.MovedGpus, kept, moved)
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

// KeptAndMoved counts a candidate's GPUs on nodes of a previous placement (at most what each node held
// there) and the rest.
func KeptAndMoved(previous []leasetypes.Placement, c allocationtypes.Candidate) (kept, moved uint32) {
	held := map[string]uint32{}
	for _, p := range previous {
		held[p.NodeId] += p.Gpus
	}
	for _, n := range c.Nodes {
		k := min(n.Gpus, held[n.NodeId])
		held[n.NodeId] -= k
		kept += k
		moved += n.Gpus - k
	}
	return kept, moved
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
