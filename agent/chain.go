package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/consensus-nro/nro/internal/chainclient"
	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// CosmosChain is the agent's connection to nrod: x/audit and x/lease queries over gRPC, and transactions
// signed by the node's agent key through chainclient (simulated gas, broadcast, inclusion wait, the key's
// sequence guard). It implements TelemetryChain. Everything the agent sends with this key (telemetry and
// proposals) must go through one CosmosChain, so that one sequence guard sees all of it.
type CosmosChain struct {
	*chainclient.Client
	audit audittypes.QueryClient
	lease leasetypes.QueryClient
	alloc allocationtypes.QueryClient
	cmt   cmtservice.ServiceClient
}

// NewCosmosChain builds the chain client over conn, sending with tx.
func NewCosmosChain(conn grpc.ClientConnInterface, tx *chainclient.Client) *CosmosChain {
	return &CosmosChain{Client: tx, audit: audittypes.NewQueryClient(conn), lease: leasetypes.NewQueryClient(conn),
		alloc: allocationtypes.NewQueryClient(conn), cmt: cmtservice.NewServiceClient(conn)}
}

// DialChain connects to cfg.Chain's gRPC endpoint with the key chain.key_name from the keyring
// (chain.keyring_dir, relative to home, default home; input answers passphrase prompts). Close the returned
// endpoint when done.
func DialChain(cfg Config, home string, input io.Reader) (*CosmosChain, *chainclient.Endpoint, error) {
	dir := cfg.KeyringDir(home)
	ep, err := chainclient.Dial(cfg.Chain.GRPC, cfg.Chain.KeyringBackend, dir, input)
	if err != nil {
		return nil, nil, err
	}
	tx, err := ep.Client(cfg.Chain.ChainID, cfg.Chain.KeyName)
	if err != nil {
		_ = ep.Close()
		return nil, nil, fmt.Errorf("chain.key_name: %w; create or import the node's registered agent key into keyring %s (backend %s), e.g. `nrod keys add %s --keyring-backend %s --keyring-dir %s`, or set chain.submit = false to measure without submitting",
			err, dir, cfg.Chain.KeyringBackend, cfg.Chain.KeyName, cfg.Chain.KeyringBackend, dir)
	}
	tx.GasPrices = cfg.Chain.GasPrices
	return NewCosmosChain(ep.Conn, tx), ep, nil
}

// KeyringDir is chain.keyring_dir resolved against home: home when empty, relative paths inside it.
func (c Config) KeyringDir(home string) string {
	switch dir := c.Chain.KeyringDir; {
	case dir == "":
		return home
	case !filepath.IsAbs(dir):
		return filepath.Join(home, dir)
	default:
		return dir
	}
}

// CurrentEpoch implements TelemetryChain.
func (c *CosmosChain) CurrentEpoch(ctx context.Context) (uint64, error) {
	res, err := c.audit.Epoch(ctx, &audittypes.QueryEpochRequest{})
	if err != nil {
		return 0, err
	}
	if res.Epoch.Number == 0 {
		return 0, errors.New("the chain reports epoch 0; epochs start at 1")
	}
	return res.Epoch.Number, nil
}

// HasReport implements TelemetryChain.
func (c *CosmosChain) HasReport(ctx context.Context, nodeID string, epoch uint64) (bool, error) {
	_, err := c.audit.TelemetryReport(ctx, &audittypes.QueryTelemetryReportRequest{NodeId: nodeID, Epoch: epoch})
	if status.Code(err) == codes.NotFound {
		return false, nil
	}
	return err == nil, err
}

// LeasePeers implements TelemetryChain: the other nodes of the node's ACTIVE leases, sorted.
func (c *CosmosChain) LeasePeers(ctx context.Context, nodeID string) ([]string, error) {
	var peers []string
	var key []byte
	for {
		res, err := c.lease.Leases(ctx, &leasetypes.QueryLeasesRequest{NodeId: nodeID, State: leasetypes.LEASE_STATE_ACTIVE,
			Pagination: &query.PageRequest{Key: key, Limit: 100}})
		if err != nil {
			return nil, err
		}
		for _, l := range res.Leases {
			// The query's node filter also matches leases the node was moved off (past placements).
			if !slices.ContainsFunc(l.Nodes, func(n leasetypes.LeaseNode) bool { return n.NodeId == nodeID }) {
				continue
			}
			for _, n := range l.Nodes {
				if n.NodeId != nodeID && !slices.Contains(peers, n.NodeId) {
					peers = append(peers, n.NodeId)
				}
			}
		}
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			break
		}
		key = res.Pagination.NextKey
	}
	slices.Sort(peers)
	return peers, nil
}

// SubmitTelemetry implements TelemetryChain.
func (c *CosmosChain) SubmitTelemetry(ctx context.Context, msg *audittypes.MsgSubmitTelemetry) (TxResult, error) {
	res, err := c.Send(ctx, msg)
	if err != nil {
		return TxResult{}, err
	}
	return TxResult{Hash: res.TxHash, Height: res.Height}, nil
}

var _ TelemetryChain = (*CosmosChain)(nil)
