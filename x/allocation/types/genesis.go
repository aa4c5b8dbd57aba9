package types

import (
	"slices"

	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"
)

// DefaultGenesis is the genesis state with default params, the measured region link table and no nodes.
func DefaultGenesis() *GenesisState {
	return &GenesisState{
		Params:         DefaultParams(),
		RegionLinks:    slices.Clone(MeasuredRegionLinks),
		NextProposalId: 1,
	}
}

// Validate checks the params, each node, and that node ids are unique.
func (gs GenesisState) Validate(addrCodec address.Codec) error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	seen := make(map[string]bool, len(gs.Nodes))
	for i, n := range gs.Nodes {
		if seen[n.Id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "nodes[%d]: duplicate node id %q", i, n.Id)
		}
		seen[n.Id] = true
		if err := n.Validate(gs.Params, addrCodec); err != nil {
			return errorsmod.Wrapf(err, "nodes[%d]", i)
		}
	}
	for i, l := range gs.RegionLinks {
		if l.RegionA > l.RegionB {
			return errorsmod.Wrapf(ErrInvalidGenesis, "region_links[%d]: %s > %s; store each pair with region_a <= region_b", i, l.RegionA, l.RegionB)
		}
		if i > 0 {
			p := gs.RegionLinks[i-1]
			if p.RegionA > l.RegionA || (p.RegionA == l.RegionA && p.RegionB >= l.RegionB) {
				return errorsmod.Wrapf(ErrInvalidGenesis, "region_links[%d] (%s, %s): links must be sorted by (region_a, region_b) and unique", i, l.RegionA, l.RegionB)
			}
		}
		if !gs.Params.HasRegion(l.RegionA) || !gs.Params.HasRegion(l.RegionB) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "region_links[%d] (%s, %s): both regions must be in params.regions", i, l.RegionA, l.RegionB)
		}
		if l.RttUs == 0 {
			return errorsmod.Wrapf(ErrInvalidGenesis, "region_links[%d] (%s, %s): rtt_us must be positive", i, l.RegionA, l.RegionB)
		}
		if l.NodeA != "" || l.NodeB != "" || l.MeasuredEpoch != 0 {
			return errorsmod.Wrapf(ErrInvalidGenesis, "region_links[%d] (%s, %s): node_a, node_b and measured_epoch label measured links in decisions; the region table leaves them empty", i, l.RegionA, l.RegionB)
		}
	}
	pending := make(map[uint64]bool, len(gs.Pending))
	for i, p := range gs.Pending {
		if p.LeaseId == 0 || pending[p.LeaseId] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "pending[%d]: lease id %d is 0 or listed twice", i, p.LeaseId)
		}
		pending[p.LeaseId] = true
	}
	next := max(gs.NextProposalId, 1) // 0 (unset) means no proposal was ever made
	ids := make(map[uint64]bool, len(gs.Proposals))
	perLease := map[uint64]uint32{}
	for i, p := range gs.Proposals {
		if p.Id == 0 || p.Id >= next || ids[p.Id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "proposals[%d]: id %d must be unique, non-zero and below next_proposal_id %d", i, p.Id, next)
		}
		ids[p.Id] = true
		if !pending[p.LeaseId] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "proposals[%d]: lease %d is not pending", i, p.LeaseId)
		}
		if _, err := addrCodec.StringToBytes(p.Proposer); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "proposals[%d]: proposer %q: %v", i, p.Proposer, err)
		}
		perLease[p.LeaseId]++
		if perLease[p.LeaseId] > gs.Params.MaxProposalsPerLease {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d has more than max_proposals_per_lease %d proposals", p.LeaseId, gs.Params.MaxProposalsPerLease)
		}
	}
	return nil
}
