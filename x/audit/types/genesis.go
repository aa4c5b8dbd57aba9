package types

import (
	errorsmod "cosmossdk.io/errors"
)

// DefaultGenesis is the genesis state with no decisions; the first decision gets id 1.
func DefaultGenesis() *GenesisState {
	return &GenesisState{NextDecisionId: 1}
}

// Validate checks every decision (Decision.Validate), that ids are unique, and that next_decision_id is
// above every id so that new decisions cannot overwrite imported ones.
func (gs GenesisState) Validate() error {
	if gs.NextDecisionId == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_decision_id is 0; it must be at least 1 (decision ids start at 1)")
	}
	seen := make(map[uint64]bool, len(gs.Decisions))
	for i, d := range gs.Decisions {
		if seen[d.Id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "decisions[%d]: duplicate decision id %d", i, d.Id)
		}
		seen[d.Id] = true
		if d.Id >= gs.NextDecisionId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "decisions[%d]: id %d is not below next_decision_id %d; raise next_decision_id to at least %d",
				i, d.Id, gs.NextDecisionId, d.Id+1)
		}
		if err := d.Validate(); err != nil {
			return errorsmod.Wrapf(err, "genesis decisions[%d]", i)
		}
	}
	return nil
}
