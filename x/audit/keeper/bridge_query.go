package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/consensus-nro/nro/x/audit/types"
)

// EthSigners lists the registered Ethereum signers in validator address order.
func (q queryServer) EthSigners(ctx context.Context, req *types.QueryEthSignersRequest) (*types.QueryEthSignersResponse, error) {
	if req == nil {
		req = &types.QueryEthSignersRequest{}
	}
	signers, page, err := query.CollectionPaginate(ctx, q.k.EthSigners, req.Pagination,
		func(_ string, s types.EthSigner) (types.EthSigner, error) { return s, nil })
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryEthSignersResponse{Signers: signers, Pagination: page}, nil
}

// Valset returns a valset by nonce, or the latest for nonce 0.
func (q queryServer) Valset(ctx context.Context, req *types.QueryValsetRequest) (*types.QueryValsetResponse, error) {
	if req == nil {
		req = &types.QueryValsetRequest{}
	}
	if req.Nonce == 0 {
		vs, ok, err := q.k.LatestValset(ctx)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		if !ok {
			return nil, status.Error(codes.NotFound, "no bridge valset yet: the bridge is off, or registered signers hold no more than 2/3 of the bonded power")
		}
		return &types.QueryValsetResponse{Valset: vs}, nil
	}
	vs, err := q.k.Valsets.Get(ctx, req.Nonce)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "no bridge valset %d", req.Nonce)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryValsetResponse{Valset: vs}, nil
}

// Valsets lists valsets in nonce order.
func (q queryServer) Valsets(ctx context.Context, req *types.QueryValsetsRequest) (*types.QueryValsetsResponse, error) {
	if req == nil {
		req = &types.QueryValsetsRequest{}
	}
	out, page, err := query.CollectionPaginate(ctx, q.k.Valsets, req.Pagination,
		func(_ uint64, v types.BridgeValset) (types.BridgeValset, error) { return v, nil })
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryValsetsResponse{Valsets: out, Pagination: page}, nil
}

func confirmsOf(ctx context.Context, m collections.Map[collections.Pair[uint64, string], types.BridgeConfirm], nonce uint64) ([]types.BridgeConfirm, error) {
	if nonce == 0 {
		return nil, status.Error(codes.InvalidArgument, "nonce: want 1 or more")
	}
	it, err := m.Iterate(ctx, collections.NewPrefixedPairRange[uint64, string](nonce))
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	out, err := it.Values()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return out, nil
}

// ValsetConfirms lists the signatures of a valset update, in validator order (at most one per validator).
func (q queryServer) ValsetConfirms(ctx context.Context, req *types.QueryValsetConfirmsRequest) (*types.QueryValsetConfirmsResponse, error) {
	if req == nil {
		req = &types.QueryValsetConfirmsRequest{}
	}
	out, err := confirmsOf(ctx, q.k.ValsetConfirms, req.Nonce)
	if err != nil {
		return nil, err
	}
	return &types.QueryValsetConfirmsResponse{Confirms: out}, nil
}

// BatchConfirms lists the signatures of a batch, in validator order (at most one per validator).
func (q queryServer) BatchConfirms(ctx context.Context, req *types.QueryBatchConfirmsRequest) (*types.QueryBatchConfirmsResponse, error) {
	if req == nil {
		req = &types.QueryBatchConfirmsRequest{}
	}
	out, err := confirmsOf(ctx, q.k.BatchConfirms, req.Nonce)
	if err != nil {
		return nil, err
	}
	return &types.QueryBatchConfirmsResponse{Confirms: out}, nil
}

// BatchAttestations lists the execution claims attested for a batch (at most one per validator).
func (q queryServer) BatchAttestations(ctx context.Context, req *types.QueryBatchAttestationsRequest) (*types.QueryBatchAttestationsResponse, error) {
	if req == nil || req.Nonce == 0 {
		return nil, status.Error(codes.InvalidArgument, "nonce: want 1 or more")
	}
	it, err := q.k.BatchAttestations.Iterate(ctx, collections.NewPrefixedPairRange[uint64, []byte](req.Nonce))
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	out, err := it.Values()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryBatchAttestationsResponse{Attestations: out}, nil
}
