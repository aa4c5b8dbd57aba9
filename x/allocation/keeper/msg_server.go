package keeper

import (
	"context"

	"github.com/consensus-nro/nro/x/allocation/types"
)

type msgServer struct{ k Keeper }

// NewMsgServerImpl returns the Msg service; it only delegates to keeper methods.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k: k} }

var _ types.MsgServer = msgServer{}

func (s msgServer) RegisterNode(ctx context.Context, msg *types.MsgRegisterNode) (*types.MsgRegisterNodeResponse, error) {
	if err := s.k.RegisterNode(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgRegisterNodeResponse{}, nil
}

func (s msgServer) UpdateNode(ctx context.Context, msg *types.MsgUpdateNode) (*types.MsgUpdateNodeResponse, error) {
	if err := s.k.UpdateNode(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgUpdateNodeResponse{}, nil
}

func (s msgServer) AddStake(ctx context.Context, msg *types.MsgAddStake) (*types.MsgAddStakeResponse, error) {
	total, err := s.k.AddStake(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgAddStakeResponse{TotalStake: total}, nil
}

func (s msgServer) UnjailNode(ctx context.Context, msg *types.MsgUnjailNode) (*types.MsgUnjailNodeResponse, error) {
	if err := s.k.UnjailNode(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgUnjailNodeResponse{}, nil
}

func (s msgServer) DeregisterNode(ctx context.Context, msg *types.MsgDeregisterNode) (*types.MsgDeregisterNodeResponse, error) {
	release, err := s.k.DeregisterNode(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgDeregisterNodeResponse{ReleaseHeight: release}, nil
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if err := s.k.UpdateParams(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}

func (s msgServer) ProposeAllocation(ctx context.Context, msg *types.MsgProposeAllocation) (*types.MsgProposeAllocationResponse, error) {
	id, score, err := s.k.ProposeAllocation(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgProposeAllocationResponse{ProposalId: id, Score: score}, nil
}
