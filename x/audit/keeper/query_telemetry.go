package keeper

import (
	"context"
	"errors"
	"math"

	"cosmossdk.io/collections"
	collcodec "cosmossdk.io/collections/codec"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/consensus-nro/nro/x/audit/types"
)

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

// Epoch returns the current epoch with the heights an agent needs: when the next epoch starts, and until
// when a report for the previous one is accepted.
func (q queryServer) Epoch(ctx context.Context, _ *types.QueryEpochRequest) (*types.QueryEpochResponse, error) {
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	cur, err := q.k.Epoch.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	var pending uint32
	if err := q.k.Sweeps.Walk(ctx, nil, func(uint64, types.EpochSweep) (bool, error) {
		pending++
		return false, nil
	}); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryEpochResponse{
		Epoch:                 cur,
		NextStartHeight:       cur.StartHeight + int64(p.EpochBlocks),
		PreviousAcceptedUntil: cur.StartHeight + int64(p.GraceBlocks) - 1,
		PendingSweeps:         pending,
	}, nil
}

func (q queryServer) TelemetryReport(ctx context.Context, req *types.QueryTelemetryReportRequest) (*types.QueryTelemetryReportResponse, error) {
	if req == nil {
		req = &types.QueryTelemetryReportRequest{}
	}
	if err := types.ValidateNodeID("node_id", req.NodeId); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if req.Epoch == 0 {
		return nil, status.Error(codes.InvalidArgument, "epoch is required; epochs are numbered from 1")
	}
	r, err := q.k.Reports.Get(ctx, collections.Join(req.NodeId, req.Epoch))
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "node %s has no report for epoch %d", req.NodeId, req.Epoch)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryTelemetryReportResponse{Report: r}, nil
}

// checkEpochRange validates an inclusive epoch range whose 0 ends are open.
func checkEpochRange(minEpoch, maxEpoch uint64) error {
	if minEpoch > 0 && maxEpoch > 0 && minEpoch > maxEpoch {
		return status.Errorf(codes.InvalidArgument, "min_epoch %d is above max_epoch %d; the range is inclusive on both ends", minEpoch, maxEpoch)
	}
	return nil
}

// Telemetry lists one node's reports (node_id set: in epoch order, from the reports themselves) or every
// node's reports in an epoch range (by epoch, then node id, from the epoch index).
func (q queryServer) Telemetry(ctx context.Context, req *types.QueryTelemetryRequest) (*types.QueryTelemetryResponse, error) {
	if req == nil {
		req = &types.QueryTelemetryRequest{}
	}
	if err := checkEpochRange(req.MinEpoch, req.MaxEpoch); err != nil {
		return nil, err
	}
	var keep func(key ReportKey, r types.TelemetryReport) (bool, error)
	if req.DisputedOnly {
		keep = func(_ ReportKey, r types.TelemetryReport) (bool, error) { return r.Disputed, nil }
	}
	var (
		reports []types.TelemetryReport
		page    *query.PageResponse
	)
	if req.NodeId != "" {
		if err := types.ValidateNodeID("node_id", req.NodeId); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		maxEpoch := req.MaxEpoch
		if maxEpoch == 0 {
			maxEpoch = math.MaxUint64
		}
		rng, err := boundedRange[ReportKey, types.TelemetryReport](q.k.Reports,
			collections.Join(req.NodeId, req.MinEpoch), collections.Join(req.NodeId, maxEpoch))
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		reports, page, err = query.CollectionFilteredPaginate(ctx, rng, req.Pagination, keep,
			func(_ ReportKey, r types.TelemetryReport) (types.TelemetryReport, error) { return r, nil })
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return &types.QueryTelemetryResponse{Reports: reports, Pagination: page}, nil
	}

	var (
		byEpoch query.Collection[collections.Pair[uint64, string], collections.NoValue] = q.k.Reports.Indexes.Epoch
		err     error
	)
	if req.MinEpoch != 0 || req.MaxEpoch != 0 {
		var lo, hi *collections.Pair[uint64, string]
		if req.MinEpoch != 0 {
			p := collections.PairPrefix[uint64, string](req.MinEpoch)
			lo = &p
		}
		if req.MaxEpoch != 0 {
			p := collections.PairPrefix[uint64, string](req.MaxEpoch)
			hi = &p
		}
		if byEpoch, err = prefixRange(byEpoch, lo, hi); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
	}
	get := func(key collections.Pair[uint64, string]) (types.TelemetryReport, error) {
		return q.k.Reports.Get(ctx, collections.Join(key.K2(), key.K1()))
	}
	var pred func(collections.Pair[uint64, string], collections.NoValue) (bool, error)
	if keep != nil {
		pred = func(key collections.Pair[uint64, string], _ collections.NoValue) (bool, error) {
			r, err := get(key)
			if err != nil {
				return false, err
			}
			return keep(collections.Join(key.K2(), key.K1()), r)
		}
	}
	reports, page, err = query.CollectionFilteredPaginate(ctx, byEpoch, req.Pagination, pred,
		func(key collections.Pair[uint64, string], _ collections.NoValue) (types.TelemetryReport, error) {
			return get(key)
		})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryTelemetryResponse{Reports: reports, Pagination: page}, nil
}

func (q queryServer) Link(ctx context.Context, req *types.QueryLinkRequest) (*types.QueryLinkResponse, error) {
	if req == nil {
		req = &types.QueryLinkRequest{}
	}
	if err := types.ValidateNodeID("node_a", req.NodeA); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := types.ValidateNodeID("node_b", req.NodeB); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if req.NodeA == req.NodeB {
		return nil, status.Errorf(codes.InvalidArgument, "node_a and node_b are both %s; a link joins two different nodes", req.NodeA)
	}
	a, b := types.LinkKey(req.NodeA, req.NodeB)
	l, err := q.k.Links.Get(ctx, collections.Join(a, b))
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "no measured link between %s and %s", a, b)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryLinkResponse{Link: l}, nil
}

// Links lists the link matrix in (node a, node b) order, or the links of one node in peer order.
func (q queryServer) Links(ctx context.Context, req *types.QueryLinksRequest) (*types.QueryLinksResponse, error) {
	if req == nil {
		req = &types.QueryLinksRequest{}
	}
	var (
		links []types.LinkAggregate
		page  *query.PageResponse
		err   error
	)
	if req.NodeId == "" {
		links, page, err = query.CollectionPaginate(ctx, q.k.Links, req.Pagination,
			func(_ LinkKey, l types.LinkAggregate) (types.LinkAggregate, error) { return l, nil })
	} else {
		if err := types.ValidateNodeID("node_id", req.NodeId); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		links, page, err = query.CollectionPaginate(ctx, q.k.Links.Indexes.Node, req.Pagination,
			func(key collections.Pair[string, LinkKey], _ collections.NoValue) (types.LinkAggregate, error) {
				return q.k.Links.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[string, LinkKey](req.NodeId))
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryLinksResponse{Links: links, Pagination: page}, nil
}

// Faults lists one node's faults in epoch order (node_id set), or every fault in an epoch range in epoch
// order, or every fault in id order; kind filters any of them.
func (q queryServer) Faults(ctx context.Context, req *types.QueryFaultsRequest) (*types.QueryFaultsResponse, error) {
	if req == nil {
		req = &types.QueryFaultsRequest{}
	}
	if err := checkEpochRange(req.MinEpoch, req.MaxEpoch); err != nil {
		return nil, err
	}
	if _, ok := types.FaultKind_name[int32(req.Kind)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "kind %d: want FAULT_KIND_MISSED_EPOCH, FAULT_KIND_GPU_ABSENT or FAULT_KIND_DISPUTED, or none for every kind", req.Kind)
	}
	match := func(f types.Fault) bool { return req.Kind == types.FAULT_KIND_UNSPECIFIED || f.Kind == req.Kind }
	maxEpoch := req.MaxEpoch
	if maxEpoch == 0 {
		maxEpoch = math.MaxUint64
	}
	var (
		faults []types.Fault
		page   *query.PageResponse
		err    error
	)
	switch {
	case req.NodeId != "":
		if err := types.ValidateNodeID("node_id", req.NodeId); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		type key = collections.Pair[collections.Pair[string, uint64], uint64]
		lo := collections.PairPrefix[collections.Pair[string, uint64], uint64](collections.Join(req.NodeId, req.MinEpoch))
		hi := collections.PairPrefix[collections.Pair[string, uint64], uint64](collections.Join(req.NodeId, maxEpoch))
		var byNode query.Collection[key, collections.NoValue]
		if byNode, err = prefixRange[key, collections.NoValue](q.k.Faults.Indexes.NodeEpoch, &lo, &hi); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		faults, page, err = paginateFaults(ctx, q.k, byNode, req.Pagination, match, func(k key) uint64 { return k.K2() })
	case req.MinEpoch != 0 || req.MaxEpoch != 0:
		type key = collections.Pair[uint64, uint64]
		lo := collections.PairPrefix[uint64, uint64](req.MinEpoch)
		hi := collections.PairPrefix[uint64, uint64](maxEpoch)
		var byEpoch query.Collection[key, collections.NoValue]
		if byEpoch, err = prefixRange[key, collections.NoValue](q.k.Faults.Indexes.Epoch, &lo, &hi); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		faults, page, err = paginateFaults(ctx, q.k, byEpoch, req.Pagination, match, func(k key) uint64 { return k.K2() })
	default:
		faults, page, err = query.CollectionFilteredPaginate(ctx, q.k.Faults, req.Pagination,
			func(_ uint64, f types.Fault) (bool, error) { return match(f), nil },
			func(_ uint64, f types.Fault) (types.Fault, error) { return f, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryFaultsResponse{Faults: faults, Pagination: page}, nil
}

func paginateFaults[K any](
	ctx context.Context, k Keeper, idx query.Collection[K, collections.NoValue], page *query.PageRequest,
	match func(types.Fault) bool, idOf func(K) uint64,
) ([]types.Fault, *query.PageResponse, error) {
	return query.CollectionFilteredPaginate(ctx, idx, page,
		func(key K, _ collections.NoValue) (bool, error) {
			f, err := k.Faults.Get(ctx, idOf(key))
			if err != nil {
				return false, err
			}
			return match(f), nil
		},
		func(key K, _ collections.NoValue) (types.Fault, error) { return k.Faults.Get(ctx, idOf(key)) })
}

// Reputation returns a node's reputation as x/allocation stores it, x/audit's counts for it, and its faults
// within the fault window.
func (q queryServer) Reputation(ctx context.Context, req *types.QueryReputationRequest) (*types.QueryReputationResponse, error) {
	if req == nil {
		req = &types.QueryReputationRequest{}
	}
	if err := types.ValidateNodeID("node_id", req.NodeId); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	node, err := q.k.alloc.GetNode(ctx, req.NodeId)
	if isNodeNotFound(err) {
		return nil, status.Errorf(codes.NotFound, "no node %q is registered", req.NodeId)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	stats, err := q.k.NodeStats.Get(ctx, req.NodeId)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		stats = types.NodeAuditStats{NodeId: req.NodeId}
	case err != nil:
		return nil, status.Error(codes.Internal, err.Error())
	}
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	inWindow, err := q.k.FaultsInWindow(ctx, req.NodeId)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryReputationResponse{
		NodeId:            req.NodeId,
		ReputationBps:     node.ReputationBps,
		Stats:             stats,
		FaultsInWindow:    inWindow,
		FaultWindowEpochs: p.FaultWindowEpochs,
		MaxFaults:         p.MaxFaults,
	}, nil
}

// boundedRange restricts a collection to the keys from lo to hi, both full keys and inclusive.
func boundedRange[K, V any](c query.Collection[K, V], lo, hi K) (query.Collection[K, V], error) {
	return prefixRange(c, &lo, &hi)
}

// prefixRange restricts a collection to the keys from the first one with prefix lo to the last one with
// prefix hi (a full key is its own prefix); nil leaves an end open.
func prefixRange[K, V any](c query.Collection[K, V], lo, hi *K) (query.Collection[K, V], error) {
	r := keyRange[K, V]{Collection: c}
	var err error
	if lo != nil {
		if r.lo, err = encodeKey(c.KeyCodec(), *lo); err != nil {
			return nil, err
		}
	}
	if hi != nil {
		bz, err := encodeKey(c.KeyCodec(), *hi)
		if err != nil {
			return nil, err
		}
		r.hi = storetypes.PrefixEndBytes(bz)
	}
	return r, nil
}

func encodeKey[K any](kc collcodec.KeyCodec[K], key K) ([]byte, error) {
	buf := make([]byte, kc.Size(key))
	n, err := kc.Encode(buf, key)
	return buf[:n], err
}

// Slash returns one slash by id.
func (q queryServer) Slash(ctx context.Context, req *types.QuerySlashRequest) (*types.QuerySlashResponse, error) {
	if req == nil || req.SlashId == 0 {
		return nil, status.Error(codes.InvalidArgument, "slash_id must be set; slash ids start at 1")
	}
	s, err := q.k.Slashes.Get(ctx, req.SlashId)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "no slash with id %d", req.SlashId)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QuerySlashResponse{Slash: s}, nil
}

// Slashes lists slashes oldest first: one node's from slashes_by_node, or all of them by id.
func (q queryServer) Slashes(ctx context.Context, req *types.QuerySlashesRequest) (*types.QuerySlashesResponse, error) {
	if req == nil {
		req = &types.QuerySlashesRequest{}
	}
	var (
		slashes []types.Slash
		page    *query.PageResponse
		err     error
	)
	if req.NodeId != "" {
		if err := types.ValidateNodeID("node_id", req.NodeId); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		slashes, page, err = query.CollectionPaginate(ctx, q.k.Slashes.Indexes.Node, req.Pagination,
			func(key collections.Pair[string, uint64], _ collections.NoValue) (types.Slash, error) {
				return q.k.Slashes.Get(ctx, key.K2())
			}, query.WithCollectionPaginationPairPrefix[string, uint64](req.NodeId))
	} else {
		slashes, page, err = query.CollectionPaginate(ctx, q.k.Slashes, req.Pagination,
			func(_ uint64, s types.Slash) (types.Slash, error) { return s, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QuerySlashesResponse{Slashes: slashes, Pagination: page}, nil
}

func (q queryServer) Challenge(ctx context.Context, req *types.QueryChallengeRequest) (*types.QueryChallengeResponse, error) {
	if req == nil || req.ChallengeId == 0 {
		return nil, status.Error(codes.InvalidArgument, "challenge_id must be set; ids start at 1")
	}
	c, err := q.k.GetChallenge(ctx, req.ChallengeId)
	if err != nil {
		if errors.Is(err, types.ErrChallengeNotFound) {
			return nil, status.Error(codes.NotFound, err.Error())
		}
		return nil, err
	}
	return &types.QueryChallengeResponse{Challenge: c}, nil
}

func (q queryServer) Challenges(ctx context.Context, req *types.QueryChallengesRequest) (*types.QueryChallengesResponse, error) {
	if req == nil {
		req = &types.QueryChallengesRequest{}
	}
	if _, ok := types.ChallengeStatus_name[int32(req.Status)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "status %d: want CHALLENGE_STATUS_OPEN, _UPHELD, _REJECTED, _VOID or unset", req.Status)
	}
	keep := func(c types.Challenge) bool {
		return req.Status == types.CHALLENGE_STATUS_UNSPECIFIED || c.Status == req.Status
	}
	var (
		out  []types.Challenge
		page *query.PageResponse
		err  error
	)
	if req.NodeId != "" {
		if err := types.ValidateNodeID("node_id", req.NodeId); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		out, page, err = query.CollectionFilteredPaginate(ctx, q.k.Challenges.Indexes.Node, req.Pagination,
			func(key collections.Pair[string, uint64], _ collections.NoValue) (bool, error) {
				c, err := q.k.Challenges.Get(ctx, key.K2())
				return err == nil && keep(c), err
			},
			func(key collections.Pair[string, uint64], _ collections.NoValue) (types.Challenge, error) {
				return q.k.Challenges.Get(ctx, key.K2())
			}, query.WithCollectionPaginationPairPrefix[string, uint64](req.NodeId))
	} else {
		out, page, err = query.CollectionFilteredPaginate(ctx, q.k.Challenges, req.Pagination,
			func(_ uint64, c types.Challenge) (bool, error) { return keep(c), nil },
			func(_ uint64, c types.Challenge) (types.Challenge, error) { return c, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryChallengesResponse{Challenges: out, Pagination: page}, nil
}
