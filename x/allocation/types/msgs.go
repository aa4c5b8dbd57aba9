package types

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// ValidateBasic runs the stateless checks of a registration so that a malformed one is refused at CheckTx,
// before it costs a block; the checks that need params (region list, denoms, minimum stake) run in the
// keeper.
func (msg *MsgRegisterNode) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Operator); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "operator %q: %v", msg.Operator, err)
	}
	if _, err := sdk.AccAddressFromBech32(msg.Agent); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "agent %q: want the bech32 account of the node's agent: %v", msg.Agent, err)
	}
	if err := ValidateNodeID(msg.NodeId); err != nil {
		return err
	}
	if msg.EthAddress != "" {
		if err := ValidateEthAddress(msg.EthAddress); err != nil {
			return errorsmod.Wrap(ErrInvalidEthAddress, err.Error())
		}
	}
	if _, err := ValidateGPUs(msg.Gpus); err != nil {
		return err
	}
	return ValidateBandwidth(msg.BandwidthMbps)
}

// ValidateBasic checks the node id and signer of a deregistration.
func (msg *MsgDeregisterNode) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Operator); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "operator %q: %v", msg.Operator, err)
	}
	return ValidateNodeID(msg.NodeId)
}

// ValidateBasic checks the node id and signer of an unjail request.
func (msg *MsgUnjailNode) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Operator); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "operator %q: %v", msg.Operator, err)
	}
	return ValidateNodeID(msg.NodeId)
}

// ValidateBasic checks the shape of a proposal: signer, lease id, a non-empty placement without duplicate
// nodes, and a ring order that lists the placement's nodes once each (or is empty).
func (msg *MsgProposeAllocation) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Proposer); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "proposer %q: %v", msg.Proposer, err)
	}
	if msg.LeaseId == 0 {
		return errorsmod.Wrap(ErrInvalidProposal, "lease_id is 0; lease ids start at 1")
	}
	if len(msg.Placement) == 0 {
		return errorsmod.Wrap(ErrInvalidProposal, "placement is empty; list node_id and gpus for each node")
	}
	seen := make(map[string]bool, len(msg.Placement))
	for i, p := range msg.Placement {
		if err := ValidateNodeID(p.NodeId); err != nil {
			return errorsmod.Wrapf(err, "placement[%d]", i)
		}
		if p.Gpus == 0 {
			return errorsmod.Wrapf(ErrInvalidProposal, "placement[%d] (%s) has 0 GPUs; every entry needs at least 1", i, p.NodeId)
		}
		if seen[p.NodeId] {
			return errorsmod.Wrapf(ErrInvalidProposal, "placement lists node %s twice; give each node once with its total GPUs", p.NodeId)
		}
		seen[p.NodeId] = true
	}
	if len(msg.RingOrder) == 0 {
		return nil
	}
	if len(msg.RingOrder) != len(msg.Placement) {
		return errorsmod.Wrapf(ErrInvalidProposal, "ring_order has %d nodes; it must list each of the %d placement nodes once", len(msg.RingOrder), len(msg.Placement))
	}
	inRing := make(map[string]bool, len(msg.RingOrder))
	for _, id := range msg.RingOrder {
		if !seen[id] || inRing[id] {
			return errorsmod.Wrapf(ErrInvalidProposal, "ring_order %v must list each placement node exactly once", msg.RingOrder)
		}
		inRing[id] = true
	}
	return nil
}
