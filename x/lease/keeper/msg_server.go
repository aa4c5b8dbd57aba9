package keeper

import (
	"context"

	"github.com/consensus-nro/nro/x/lease/types"
)

type msgServer struct{ k Keeper }

// NewMsgServerImpl returns the Msg service; it only delegates to keeper methods.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k: k} }

var _ types.MsgServer = msgServer{}

func (s msgServer) CreateLease(ctx context.Context, msg *types.MsgCreateLease) (*types.MsgCreateLeaseResponse, error) {
	id, err := s.k.CreateLease(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateLeaseResponse{LeaseId: id}, nil
}

func (s msgServer) CancelLease(ctx context.Context, msg *types.MsgCancelLease) (*types.MsgCancelLeaseResponse, error) {
	refunded, err := s.k.CancelLease(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCancelLeaseResponse{Refunded: refunded}, nil
}

func (s msgServer) TopUpLease(ctx context.Context, msg *types.MsgTopUpLease) (*types.MsgTopUpLeaseResponse, error) {
	lease, err := s.k.TopUpLease(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgTopUpLeaseResponse{Deposit: lease.Deposit, DeadlineHeight: lease.DeadlineHeight}, nil
}

func (s msgServer) CloseLease(ctx context.Context, msg *types.MsgCloseLease) (*types.MsgCloseLeaseResponse, error) {
	lease, err := s.k.CloseLease(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCloseLeaseResponse{Paid: lease.Paid, Refunded: lease.Refunded}, nil
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if err := s.k.UpdateParams(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}
