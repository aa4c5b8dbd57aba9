package types

import (
	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"
)

// DefaultGenesis is the genesis state with default params and no nodes.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
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
	return nil
}
