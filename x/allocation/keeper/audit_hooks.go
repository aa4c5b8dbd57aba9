package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// Methods x/audit calls: it scores nodes' telemetry and owns how reputation moves; x/allocation stores the
// reputation on the node, where the allocation scorer reads it.

// SetNodeReputation sets a node's reputation_bps (0..MaxReputationBps). It writes the node only when the
// value changes. x/audit emits the event that says why it changed.
func (k Keeper) SetNodeReputation(ctx context.Context, nodeID string, bps uint32) error {
	if bps > types.MaxReputationBps {
		return errorsmod.Wrapf(types.ErrInvalidParams, "reputation %d bps for node %s: want 0..%d", bps, nodeID, types.MaxReputationBps)
	}
	n, err := k.GetNode(ctx, nodeID)
	if err != nil {
		return err
	}
	if n.ReputationBps == bps {
		return nil
	}
	n.ReputationBps = bps
	return k.Nodes.Set(ctx, nodeID, n)
}
