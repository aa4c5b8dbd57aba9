package agent

import (
	"context"
	"errors"

	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/consensus-nro/nro/agent/proposer"
	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// pageLimit is the page size of the proposer's paginated queries.
const pageLimit = 200

// paginate calls page with each page request until the response has no next key.
func paginate(page func(*query.PageRequest) (*query.PageResponse, error)) error {
	var key []byte
	for {
		res, err := page(&query.PageRequest{Key: key, Limit: pageLimit})
		if err != nil {
			return err
		}
		if res == nil || len(res.NextKey) == 0 {
			return nil
		}
		key = res.NextKey
	}
}

// LatestHeight implements proposer.Chain.
func (c *CosmosChain) LatestHeight(ctx context.Context) (int64, error) {
	res, err := c.cmt.GetLatestBlock(ctx, &cmtservice.GetLatestBlockRequest{})
	if err != nil {
		return 0, err
	}
	if res.SdkBlock == nil {
		return 0, errors.New("the latest block has no header")
	}
	return res.SdkBlock.Header.Height, nil
}

// PendingLeases implements proposer.Chain.
func (c *CosmosChain) PendingLeases(ctx context.Context) ([]leasetypes.Lease, error) {
	var out []leasetypes.Lease
	err := paginate(func(p *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.lease.Leases(ctx, &leasetypes.QueryLeasesRequest{State: leasetypes.LEASE_STATE_PENDING, Pagination: p})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Leases...)
		return res.Pagination, nil
	})
	return out, err
}

// Lease implements proposer.Chain.
func (c *CosmosChain) Lease(ctx context.Context, id uint64) (leasetypes.Lease, error) {
	res, err := c.lease.Lease(ctx, &leasetypes.QueryLeaseRequest{LeaseId: id})
	if err != nil {
		return leasetypes.Lease{}, err
	}
	return res.Lease, nil
}

// LinkMatrix implements proposer.Chain.
func (c *CosmosChain) LinkMatrix(ctx context.Context) ([]audittypes.LinkAggregate, error) {
	var out []audittypes.LinkAggregate
	err := paginate(func(p *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.audit.Links(ctx, &audittypes.QueryLinksRequest{Pagination: p})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Links...)
		return res.Pagination, nil
	})
	return out, err
}

// AuditParams implements proposer.Chain.
func (c *CosmosChain) AuditParams(ctx context.Context) (audittypes.Params, error) {
	res, err := c.audit.Params(ctx, &audittypes.QueryParamsRequest{})
	if err != nil {
		return audittypes.Params{}, err
	}
	return res.Params, nil
}

// AllocationParams implements proposer.Chain.
func (c *CosmosChain) AllocationParams(ctx context.Context) (allocationtypes.Params, error) {
	res, err := c.alloc.Params(ctx, &allocationtypes.QueryParamsRequest{})
	if err != nil {
		return allocationtypes.Params{}, err
	}
	return res.Params, nil
}

// ActiveNodes implements proposer.Chain.
func (c *CosmosChain) ActiveNodes(ctx context.Context) ([]allocationtypes.Node, error) {
	var out []allocationtypes.Node
	err := paginate(func(p *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.alloc.Nodes(ctx, &allocationtypes.QueryNodesRequest{Status: allocationtypes.NODE_STATUS_ACTIVE, Pagination: p})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Nodes...)
		return res.Pagination, nil
	})
	return out, err
}

// RegionLinks implements proposer.Chain.
func (c *CosmosChain) RegionLinks(ctx context.Context) ([]allocationtypes.RegionLink, error) {
	var out []allocationtypes.RegionLink
	err := paginate(func(p *query.PageRequest) (*query.PageResponse, error) {
		p.Limit = 1000 // 2,415 links in the default table
		res, err := c.alloc.RegionLinks(ctx, &allocationtypes.QueryRegionLinksRequest{Pagination: p})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Links...)
		return res.Pagination, nil
	})
	return out, err
}

// Proposals implements proposer.Chain.
func (c *CosmosChain) Proposals(ctx context.Context, leaseID uint64) ([]allocationtypes.Proposal, error) {
	res, err := c.alloc.Proposals(ctx, &allocationtypes.QueryProposalsRequest{LeaseId: leaseID})
	if err != nil {
		return nil, err
	}
	return res.Proposals, nil
}

// LeaseDecisions implements proposer.Chain.
func (c *CosmosChain) LeaseDecisions(ctx context.Context, leaseID uint64) ([]audittypes.Decision, error) {
	var out []audittypes.Decision
	err := paginate(func(p *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.audit.Decisions(ctx, &audittypes.QueryDecisionsRequest{LeaseId: leaseID, Pagination: p})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Decisions...)
		return res.Pagination, nil
	})
	return out, err
}

// ProposeAllocation implements proposer.Chain: through the same chainclient as the telemetry, so that one
// sequence guard orders every transaction of the agent key.
func (c *CosmosChain) ProposeAllocation(ctx context.Context, msg *allocationtypes.MsgProposeAllocation) (proposer.TxResult, error) {
	res, err := c.Send(ctx, msg)
	if err != nil {
		return proposer.TxResult{}, err
	}
	return proposer.TxResult{Hash: res.TxHash, Height: res.Height}, nil
}

var _ proposer.Chain = (*CosmosChain)(nil)
