package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/consensus-nro/nro/x/allocation/types"
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

func (q queryServer) Node(ctx context.Context, req *types.QueryNodeRequest) (*types.QueryNodeResponse, error) {
	if req == nil || req.NodeId == "" {
		return nil, status.Error(codes.InvalidArgument, "node_id is required")
	}
	n, err := q.k.Nodes.Get(ctx, req.NodeId)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "no node with id %q", req.NodeId)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryNodeResponse{Node: n}, nil
}

// Nodes narrows with the most selective index the request allows (operator, then region, then status) and
// filters the remaining conditions, so a filtered listing reads only the matching part of the registry.
func (q queryServer) Nodes(ctx context.Context, req *types.QueryNodesRequest) (*types.QueryNodesResponse, error) {
	if req == nil {
		req = &types.QueryNodesRequest{}
	}
	var (
		operator    sdk.AccAddress
		operatorStr string // canonical form, as stored in nodes
	)
	if req.Operator != "" {
		addr, err := q.k.addrCodec.StringToBytes(req.Operator)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "operator %q: %v", req.Operator, err)
		}
		operator = addr
		if operatorStr, err = q.k.addrCodec.BytesToString(addr); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
	}
	if _, ok := types.NodeStatus_name[int32(req.Status)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "status %d: want ACTIVE, UNBONDING or JAILED", req.Status)
	}
	match := func(n types.Node) bool {
		return (operatorStr == "" || n.Operator == operatorStr) &&
			(req.Region == "" || n.Region == req.Region) &&
			(req.Status == types.NODE_STATUS_UNSPECIFIED || n.Status == req.Status) &&
			(req.GpuModel == "" || n.HasGPUModel(req.GpuModel))
	}

	var (
		nodes []types.Node
		page  *query.PageResponse
		err   error
	)
	switch {
	case operator != nil:
		nodes, page, err = paginateIndex(ctx, q.k, q.k.Nodes.Indexes.Operator, operator, req.Pagination, match)
	case req.Region != "":
		nodes, page, err = paginateIndex(ctx, q.k, q.k.Nodes.Indexes.Region, req.Region, req.Pagination, match)
	case req.Status != types.NODE_STATUS_UNSPECIFIED:
		nodes, page, err = paginateIndex(ctx, q.k, q.k.Nodes.Indexes.Status, int32(req.Status), req.Pagination, match)
	default:
		nodes, page, err = query.CollectionFilteredPaginate(ctx, q.k.Nodes, req.Pagination,
			func(_ string, n types.Node) (bool, error) { return match(n), nil },
			func(_ string, n types.Node) (types.Node, error) { return n, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryNodesResponse{Nodes: nodes, Pagination: page}, nil
}

func (q queryServer) NodesByOperator(ctx context.Context, req *types.QueryNodesByOperatorRequest) (*types.QueryNodesByOperatorResponse, error) {
	if req == nil || req.Operator == "" {
		return nil, status.Error(codes.InvalidArgument, "operator is required")
	}
	addr, err := q.k.addrCodec.StringToBytes(req.Operator)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "operator %q: %v", req.Operator, err)
	}
	nodes, page, err := paginateIndex(ctx, q.k, q.k.Nodes.Indexes.Operator, sdk.AccAddress(addr), req.Pagination,
		func(types.Node) bool { return true })
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryNodesByOperatorResponse{Nodes: nodes, Pagination: page}, nil
}

// nodeIndex is the part of an indexes.Multi keyed by (reference, node id) that pagination needs.
type nodeIndex[R any] interface {
	query.Collection[collections.Pair[R, string], collections.NoValue]
}

func paginateIndex[R any](
	ctx context.Context, k Keeper, idx nodeIndex[R], ref R, page *query.PageRequest, match func(types.Node) bool,
) ([]types.Node, *query.PageResponse, error) {
	return query.CollectionFilteredPaginate(ctx, idx, page,
		func(key collections.Pair[R, string], _ collections.NoValue) (bool, error) {
			n, err := k.Nodes.Get(ctx, key.K2())
			if err != nil {
				return false, err
			}
			return match(n), nil
		},
		func(key collections.Pair[R, string], _ collections.NoValue) (types.Node, error) {
			return k.Nodes.Get(ctx, key.K2())
		},
		query.WithCollectionPaginationPairPrefix[R, string](ref),
	)
}

func (q queryServer) Proposals(ctx context.Context, req *types.QueryProposalsRequest) (*types.QueryProposalsResponse, error) {
	if req == nil || req.LeaseId == 0 {
		return nil, status.Error(codes.InvalidArgument, "lease_id is required; lease ids start at 1")
	}
	ps, err := q.k.ProposalsByRank(ctx, req.LeaseId)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryProposalsResponse{Proposals: ps}, nil
}

func (q queryServer) RegionLink(ctx context.Context, req *types.QueryRegionLinkRequest) (*types.QueryRegionLinkResponse, error) {
	if req == nil || req.RegionA == "" || req.RegionB == "" {
		return nil, status.Error(codes.InvalidArgument, "region_a and region_b are required, e.g. aws:us-east-1 aws:us-west-2")
	}
	a, b := types.LinkKey(req.RegionA, req.RegionB)
	l, err := q.k.RegionLinks.Get(ctx, collections.Join(a, b))
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "no link between %s and %s in the region link table", a, b)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryRegionLinkResponse{Link: l}, nil
}

func (q queryServer) RegionLinks(ctx context.Context, req *types.QueryRegionLinksRequest) (*types.QueryRegionLinksResponse, error) {
	if req == nil {
		req = &types.QueryRegionLinksRequest{}
	}
	links, page, err := query.CollectionPaginate(ctx, q.k.RegionLinks, req.Pagination,
		func(_ collections.Pair[string, string], l types.RegionLink) (types.RegionLink, error) { return l, nil })
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryRegionLinksResponse{Links: links, Pagination: page}, nil
}

func (q queryServer) PendingAllocations(ctx context.Context, req *types.QueryPendingAllocationsRequest) (*types.QueryPendingAllocationsResponse, error) {
	if req == nil {
		req = &types.QueryPendingAllocationsRequest{}
	}
	pending, page, err := query.CollectionPaginate(ctx, q.k.AllocationQueue, req.Pagination,
		func(key collections.Pair[int64, uint64], _ collections.NoValue) (types.PendingAllocation, error) {
			return types.PendingAllocation{LeaseId: key.K2(), DueHeight: key.K1()}, nil
		})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryPendingAllocationsResponse{Pending: pending, Pagination: page}, nil
}
