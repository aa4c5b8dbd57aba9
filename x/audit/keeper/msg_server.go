package keeper

import (
	"context"

	"github.com/consensus-nro/nro/x/audit/types"
)

type msgServer struct{ k Keeper }

// NewMsgServerImpl returns the Msg service; it only delegates to keeper methods.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k: k} }

var _ types.MsgServer = msgServer{}

func (s msgServer) SubmitTelemetry(ctx context.Context, msg *types.MsgSubmitTelemetry) (*types.MsgSubmitTelemetryResponse, error) {
	return s.k.SubmitTelemetry(ctx, msg)
}

func (s msgServer) ChallengeTelemetry(ctx context.Context, msg *types.MsgChallengeTelemetry) (*types.MsgChallengeTelemetryResponse, error) {
	return s.k.ChallengeTelemetry(ctx, msg)
}

func (s msgServer) AnswerChallenge(ctx context.Context, msg *types.MsgAnswerChallenge) (*types.MsgAnswerChallengeResponse, error) {
	return s.k.AnswerChallenge(ctx, msg)
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if err := s.k.UpdateParams(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}
