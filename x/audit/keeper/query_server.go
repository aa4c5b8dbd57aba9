package keeper

import (
	"bytes"
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/consensus-nro/nro/x/audit/types"
)

type queryServer struct{ k Keeper }

// NewQueryServerImpl returns the Query service.
func NewQueryServerImpl(k Keeper) types.QueryServer { return queryServer{k: k} }

var _ types.QueryServer = queryServer{}

func (q queryServer) Decision(ctx context.Context, req *types.QueryDecisionRequest) (*types.QueryDecisionResponse, error) {
	if req == nil || req.DecisionId == 0 {
		return nil, status.Error(codes.InvalidArgument, "decision_id is required; decision ids start at 1")
	}
	d, err := q.k.Decisions.Get(ctx, req.DecisionId)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "no decision with id %d", req.DecisionId)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryDecisionResponse{Decision: d}, nil
}

// Decisions narrows with the most selective index the request allows (lease, then node, then height range)
// and filters the remaining conditions, so a filtered listing reads only the matching part of the log.
// Results are oldest first (ascending decision id) unless the page asks for reverse order.
func (q queryServer) Decisions(ctx context.Context, req *types.QueryDecisionsRequest) (*types.QueryDecisionsResponse, error) {
	if req == nil {
		req = &types.QueryDecisionsRequest{}
	}
	switch {
	case req.MinHeight < 0 || req.MaxHeight < 0:
		return nil, status.Errorf(codes.InvalidArgument, "min_height %d and max_height %d must not be negative; 0 leaves a bound unset",
			req.MinHeight, req.MaxHeight)
	case req.MinHeight > 0 && req.MaxHeight > 0 && req.MinHeight > req.MaxHeight:
		return nil, status.Errorf(codes.InvalidArgument, "min_height %d is above max_height %d; the range is inclusive on both ends",
			req.MinHeight, req.MaxHeight)
	}
	match := func(d types.Decision) bool {
		return (req.LeaseId == 0 || d.LeaseId == req.LeaseId) &&
			(req.NodeId == "" || d.HasNode(req.NodeId)) &&
			(req.MinHeight == 0 || d.Height >= req.MinHeight) &&
			(req.MaxHeight == 0 || d.Height <= req.MaxHeight)
	}

	var (
		decisions []types.Decision
		page      *query.PageResponse
		err       error
	)
	idx := q.k.Decisions.Indexes
	switch {
	case req.LeaseId != 0:
		decisions, page, err = paginateIndex(ctx, q.k, idx.Lease, req.Pagination, match,
			query.WithCollectionPaginationPairPrefix[uint64, uint64](req.LeaseId))
	case req.NodeId != "":
		decisions, page, err = paginateIndex(ctx, q.k, idx.Node, req.Pagination, match,
			query.WithCollectionPaginationPairPrefix[string, uint64](req.NodeId))
	case req.MinHeight != 0 || req.MaxHeight != 0:
		var byHeight query.Collection[collections.Pair[int64, uint64], collections.NoValue]
		byHeight, err = heightRange(idx.Height, req.MinHeight, req.MaxHeight)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		decisions, page, err = paginateIndex(ctx, q.k, byHeight, req.Pagination, match)
	default:
		decisions, page, err = query.CollectionPaginate(ctx, q.k.Decisions, req.Pagination,
			func(_ uint64, d types.Decision) (types.Decision, error) { return d, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryDecisionsResponse{Decisions: decisions, Pagination: page}, nil
}

// paginateIndex pages through the entries of an index keyed by (reference, decision id), keeping the
// decisions that match.
func paginateIndex[R any](
	ctx context.Context,
	k Keeper,
	idx query.Collection[collections.Pair[R, uint64], collections.NoValue],
	page *query.PageRequest,
	match func(types.Decision) bool,
	opts ...func(*query.CollectionsPaginateOptions[collections.Pair[R, uint64]]),
) ([]types.Decision, *query.PageResponse, error) {
	return query.CollectionFilteredPaginate(ctx, idx, page,
		func(key collections.Pair[R, uint64], _ collections.NoValue) (bool, error) {
			d, err := k.Decisions.Get(ctx, key.K2())
			if err != nil {
				return false, err
			}
			return match(d), nil
		},
		func(key collections.Pair[R, uint64], _ collections.NoValue) (types.Decision, error) {
			return k.Decisions.Get(ctx, key.K2())
		},
		opts...,
	)
}

// heightRange restricts the (height, decision id) index to heights in [minHeight, maxHeight], 0 leaving a
// bound open.
func heightRange[C query.Collection[collections.Pair[int64, uint64], collections.NoValue]](
	idx C, minHeight, maxHeight int64,
) (query.Collection[collections.Pair[int64, uint64], collections.NoValue], error) {
	encode := func(h int64) ([]byte, error) {
		key := collections.PairPrefix[int64, uint64](h)
		buf := make([]byte, idx.KeyCodec().Size(key))
		_, err := idx.KeyCodec().Encode(buf, key)
		return buf, err
	}
	r := keyRange[collections.Pair[int64, uint64], collections.NoValue]{Collection: idx}
	var err error
	if minHeight > 0 {
		if r.lo, err = encode(minHeight); err != nil {
			return nil, err
		}
	}
	if maxHeight > 0 {
		hi, err := encode(maxHeight)
		if err != nil {
			return nil, err
		}
		// nil (no bound) when maxHeight is the largest height.
		r.hi = storetypes.PrefixEndBytes(hi)
	}
	return r, nil
}

// keyRange is a query.Collection restricted to the raw keys in [lo, hi) (nil: no bound), so that
// query.CollectionPaginate walks a key range, where its options only allow a prefix. Pagination keys and
// reverse order work unchanged: every iteration it asks for is clipped to the range.
type keyRange[K, V any] struct {
	query.Collection[K, V]
	lo, hi []byte
}

// IterateRaw iterates the intersection of [start, end) and the range.
func (r keyRange[K, V]) IterateRaw(ctx context.Context, start, end []byte, order collections.Order) (collections.Iterator[K, V], error) {
	if r.lo != nil && (start == nil || bytes.Compare(start, r.lo) < 0) {
		start = r.lo
	}
	if r.hi != nil && (end == nil || bytes.Compare(end, r.hi) > 0) {
		end = r.hi
	}
	return r.Collection.IterateRaw(ctx, start, end, order)
}
