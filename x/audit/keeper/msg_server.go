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

func (s msgServer) RegisterEthSigner(ctx context.Context, msg *types.MsgRegisterEthSigner) (*types.MsgRegisterEthSignerResponse, error) {
	return s.k.RegisterEthSigner(ctx, msg)
}

func (s msgServer) ConfirmValset(ctx context.Context, msg *types.MsgConfirmValset) (*types.MsgConfirmValsetResponse, error) {
	return s.k.ConfirmValset(ctx, msg)
}

func (s msgServer) ConfirmBatch(ctx context.Context, msg *types.MsgConfirmBatch) (*types.MsgConfirmBatchResponse, error) {
	return s.k.ConfirmBatch(ctx, msg)
}

func (s msgServer) AttestBatchExecuted(ctx context.Context, msg *types.MsgAttestBatchExecuted) (*types.MsgAttestBatchExecutedResponse, error) {
	return s.k.AttestBatchExecuted(ctx, msg)
}
