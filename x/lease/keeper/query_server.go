package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/consensus-nro/nro/x/lease/types"
)

type queryServer struct{ k Keeper }

// NewQueryServerImpl returns the Query service.
func NewQueryServerImpl(k Keeper) types.QueryServer { return queryServer{k: k} }

var _ types.QueryServer = queryServer{}

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

// Lease returns the lease with its unspent escrow and what settling it now would pay.
func (q queryServer) Lease(ctx context.Context, req *types.QueryLeaseRequest) (*types.QueryLeaseResponse, error) {
	if req == nil || req.LeaseId == 0 {
		return nil, status.Error(codes.InvalidArgument, "lease_id is required; ids start at 1")
	}
	l, err := q.k.Leases.Get(ctx, req.LeaseId)
	if errors.Is(err, collections.ErrNotFound) {
		if next, err := q.k.LeaseSeq.Peek(ctx); err == nil && req.LeaseId < next {
			return nil, status.Errorf(codes.NotFound, "lease %d was pruned: it ended more than retention_blocks ago; "+
				"the events of the blocks that created, settled and closed it hold its history (ask an archive node or an indexer)", req.LeaseId)
		}
		return nil, status.Errorf(codes.NotFound, "no lease with id %d", req.LeaseId)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	accrued, err := q.k.Accrued(l, sdk.UnwrapSDKContext(ctx).BlockHeight())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryLeaseResponse{
		Lease:         l,
		EscrowBalance: sdk.NewCoin(l.Deposit.Denom, l.EscrowBalance()),
		Accrued:       accrued,
	}, nil
}

// Leases narrows with the most selective index the request allows (node, then submitter, then state) and
// filters the remaining conditions, so a filtered listing reads only the matching part of the leases.
func (q queryServer) Leases(ctx context.Context, req *types.QueryLeasesRequest) (*types.QueryLeasesResponse, error) {
	if req == nil {
		req = &types.QueryLeasesRequest{}
	}
	var (
		submitter    sdk.AccAddress
		submitterStr string // canonical form, as stored
		err          error
	)
	if req.Submitter != "" {
		if submitter, submitterStr, err = q.k.canonicalAddress(req.Submitter); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "submitter %q: %v", req.Submitter, err)
		}
	}
	if _, ok := types.LeaseState_name[int32(req.State)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "state %d: want PENDING, ACTIVE, CLOSED, CANCELLED or EXPIRED", req.State)
	}
	match := func(l types.Lease) bool {
		return (submitterStr == "" || l.Submitter == submitterStr) &&
			(req.State == types.LEASE_STATE_UNSPECIFIED || l.State == req.State)
		// node_id is always matched by the index when set.
	}

	var (
		leases []types.Lease
		page   *query.PageResponse
	)
	switch {
	case req.NodeId != "":
		leases, page, err = paginateIndex(ctx, q.k.Leases, q.k.Leases.Indexes.Node, req.NodeId, req.Pagination, match)
	case submitter != nil:
		leases, page, err = paginateIndex(ctx, q.k.Leases, q.k.Leases.Indexes.Submitter, submitter, req.Pagination, match)
	case req.State != types.LEASE_STATE_UNSPECIFIED:
		leases, page, err = paginateIndex(ctx, q.k.Leases, q.k.Leases.Indexes.State, int32(req.State), req.Pagination, match)
	default:
		leases, page, err = query.CollectionPaginate(ctx, q.k.Leases, req.Pagination,
			func(_ uint64, l types.Lease) (types.Lease, error) { return l, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryLeasesResponse{Leases: leases, Pagination: page}, nil
}

// SettlementRecords lists records in id order, of one lease, one node, or both.
func (q queryServer) SettlementRecords(ctx context.Context, req *types.QuerySettlementRecordsRequest) (*types.QuerySettlementRecordsResponse, error) {
	if req == nil {
		req = &types.QuerySettlementRecordsRequest{}
	}
	match := func(r types.SettlementRecord) bool { return req.NodeId == "" || r.NodeId == req.NodeId }
	var (
		records []types.SettlementRecord
		page    *query.PageResponse
		err     error
	)
	switch {
	case req.LeaseId != 0:
		records, page, err = paginateIndex(ctx, q.k.SettlementRecords, q.k.SettlementRecords.Indexes.Lease, req.LeaseId, req.Pagination, match)
	case req.NodeId != "":
		records, page, err = paginateIndex(ctx, q.k.SettlementRecords, q.k.SettlementRecords.Indexes.Node, req.NodeId, req.Pagination, match)
	default:
		records, page, err = query.CollectionPaginate(ctx, q.k.SettlementRecords, req.Pagination,
			func(_ uint64, r types.SettlementRecord) (types.SettlementRecord, error) { return r, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QuerySettlementRecordsResponse{Records: records, Pagination: page}, nil
}

// index is the part of a secondary index keyed by (reference, id) that pagination needs.
type index[R any] interface {
	query.Collection[collections.Pair[R, uint64], collections.NoValue]
}

// paginateIndex pages the ids indexed under ref, loading each value from m and keeping those match accepts.
func paginateIndex[R, V any](
	ctx context.Context,
	m interface {
		Get(ctx context.Context, id uint64) (V, error)
	},
	idx index[R], ref R, page *query.PageRequest, match func(V) bool,
) ([]V, *query.PageResponse, error) {
	return query.CollectionFilteredPaginate(ctx, idx, page,
		func(key collections.Pair[R, uint64], _ collections.NoValue) (bool, error) {
			v, err := m.Get(ctx, key.K2())
			if err != nil {
				return false, err
			}
			return match(v), nil
		},
		func(key collections.Pair[R, uint64], _ collections.NoValue) (V, error) {
			return m.Get(ctx, key.K2())
		},
		query.WithCollectionPaginationPairPrefix[R, uint64](ref),
	)
}
