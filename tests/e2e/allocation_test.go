//go:build e2e

// Package e2e drives the real nrod binary (NROD_BINARY, built by `make test-e2e`) through its CLI against a
// running single-validator chain: the path a provider takes, and export then a new chain from the export.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/testutil/localnet"
)

// lifecycleUnbonding is x/allocation's unbonding_blocks in the lifecycle test: long enough for the CLI
// calls between deregistration and the second deregistration attempt (each nrod call takes about a second).
const lifecycleUnbonding = 20

type nodeJSON struct {
	ID            string                         `json:"id"`
	Operator      string                         `json:"operator"`
	Agent         string                         `json:"agent"`
	EthAddress    string                         `json:"eth_address"`
	Region        string                         `json:"region"`
	BandwidthMbps string                         `json:"bandwidth_mbps"`
	Price         struct{ Amount, Denom string } `json:"price_per_gpu_hour"`
	Stake         struct{ Amount, Denom string } `json:"stake"`
	Status        string                         `json:"status"`
	ReleaseHeight string                         `json:"release_height"`
	Gpus          []struct {
		Model     string `json:"model"`
		Count     uint32 `json:"count"`
		MemoryMib string `json:"memory_mib"`
	} `json:"gpus"`
}

func startNode(t *testing.T, ctx context.Context, home string, unbondingBlocks uint64) *localnet.Node {
	t.Helper()
	return startNodeWith(t, ctx, home, unbondingBlocks, nil)
}

// startNodeWith starts a localnet whose genesis overrides the given module params.
func startNodeWith(t *testing.T, ctx context.Context, home string, unbondingBlocks uint64, params map[string]map[string]any) *localnet.Node {
	t.Helper()
	binary := os.Getenv("NROD_BINARY")
	if binary == "" {
		binary = "../../build/nrod"
	}
	binary, err := filepath.Abs(binary)
	require.NoError(t, err)
	_, err = os.Stat(binary)
	require.NoError(t, err, "build nrod first (make build) or set NROD_BINARY")
	ports, err := localnet.FreePorts()
	require.NoError(t, err)
	cfg := localnet.DefaultConfig(binary, home)
	cfg.Ports = ports
	cfg.UnbondingBlocks = unbondingBlocks
	cfg.Params = params
	cfg.BlockTime = 500 * time.Millisecond
	logf, err := os.OpenFile(filepath.Join(t.TempDir(), "nrod.log"), os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { _ = logf.Close() })
	cfg.Log = logf
	node, err := localnet.Init(ctx, cfg)
	require.NoError(t, err)
	require.NoError(t, node.Start(ctx), "log: %s", logf.Name())
	return node
}

func queryNode(t *testing.T, ctx context.Context, n *localnet.Node, id string) nodeJSON {
	t.Helper()
	var res struct{ Node nodeJSON }
	require.NoError(t, n.Query(ctx, &res, "allocation", "node", id))
	return res.Node
}

func balance(t *testing.T, ctx context.Context, n *localnet.Node, addr string) int64 {
	t.Helper()
	var res struct {
		Balance struct{ Amount string } `json:"balance"`
	}
	require.NoError(t, n.Query(ctx, &res, "bank", "balance", addr, "unro"))
	v, err := strconv.ParseInt(res.Balance.Amount, 10, 64)
	require.NoError(t, err)
	return v
}

func mustTx(t *testing.T, ctx context.Context, n *localnet.Node, from string, args ...string) localnet.TxResult {
	t.Helper()
	res, err := n.Tx(ctx, from, args...)
	require.NoError(t, err)
	require.Zero(t, res.Code, "tx %v failed: %s", args, res.Log)
	return res
}

func TestProviderLifecycleThroughCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	home := t.TempDir()
	n := startNode(t, ctx, home, lifecycleUnbonding)
	defer func() { _ = n.Stop() }()

	provider, err := n.Address(ctx, "provider-1")
	require.NoError(t, err)
	agent, err := n.Address(ctx, "provider-2")
	require.NoError(t, err)
	before := balance(t, ctx, n, provider)

	// Register with the CLI form from the issue.
	res := mustTx(t, ctx, n, "provider-1", "allocation", "register-node", "gpu-node-1",
		"--region", "aws:us-east-1", "--gpus", "8xH100:81920", "--gpus", "2xA100:40960",
		"--bandwidth-mbps", "25000", "--price", "2500000unro", "--stake", "1000000000unro",
		"--agent", agent, "--eth-address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
	require.Contains(t, string(mustJSON(t, res.Events)), "nro.allocation.v1.EventNodeRegistered")

	got := queryNode(t, ctx, n, "gpu-node-1")
	require.Equal(t, provider, got.Operator)
	require.Equal(t, agent, got.Agent)
	require.Equal(t, "aws:us-east-1", got.Region)
	require.Equal(t, "NODE_STATUS_ACTIVE", got.Status)
	require.Equal(t, "1000000000", got.Stake.Amount)
	require.Len(t, got.Gpus, 2)
	require.Equal(t, before-1_000_000_000, balance(t, ctx, n, provider))

	// The same node over the REST gateway that dashboards use.
	restURL := fmt.Sprintf("http://127.0.0.1:%d/nro/allocation/v1/nodes/gpu-node-1", n.Ports.API)
	resp, err := http.Get(restURL)
	require.NoError(t, err)
	var rest struct{ Node nodeJSON }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rest))
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// The gateway writes zero values ("0") where the CLI's JSON omits them.
	require.Equal(t, "0", rest.Node.ReleaseHeight)
	rest.Node.ReleaseHeight = ""
	require.Equal(t, got, rest.Node)

	// Filters.
	var list struct{ Nodes []nodeJSON }
	require.NoError(t, n.Query(ctx, &list, "allocation", "nodes", "--region", "aws:us-east-1", "--operator", provider))
	require.Len(t, list.Nodes, 1)
	require.NoError(t, n.Query(ctx, &list, "allocation", "nodes", "--region", "gcp:us-central1-a"))
	require.Empty(t, list.Nodes)
	require.NoError(t, n.Query(ctx, &list, "allocation", "nodes", "--gpu-model", "A100"))
	require.Len(t, list.Nodes, 1)
	require.NoError(t, n.Query(ctx, &list, "allocation", "nodes-by-operator", provider))
	require.Len(t, list.Nodes, 1)

	// Bad inputs are refused with an error naming the problem, and change nothing.
	bad := []struct {
		name  string
		from  string
		args  []string
		wants string
	}{
		{"unknown region", "provider-1", []string{"allocation", "register-node", "n2", "--region", "aws:mars-1", "--gpus", "1xH100:81920",
			"--bandwidth-mbps", "100", "--price", "1unro", "--stake", "100000000unro"}, "aws:mars-1"},
		{"zero gpus", "provider-1", []string{"allocation", "register-node", "n2", "--region", "aws:us-east-1", "--gpus", "0xH100:81920",
			"--bandwidth-mbps", "100", "--price", "1unro", "--stake", "100000000unro"}, "count is 0"},
		{"insufficient stake", "provider-1", []string{"allocation", "register-node", "n2", "--region", "aws:us-east-1", "--gpus", "8xH100:81920",
			"--bandwidth-mbps", "100", "--price", "1unro", "--stake", "1unro"}, "below the minimum"},
		{"non-checksummed eth address", "provider-1", []string{"allocation", "register-node", "n2", "--region", "aws:us-east-1", "--gpus", "1xH100:81920",
			"--bandwidth-mbps", "100", "--price", "1unro", "--stake", "100000000unro", "--eth-address", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
			"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"},
		{"duplicate id", "provider-2", []string{"allocation", "register-node", "gpu-node-1", "--region", "aws:us-east-1", "--gpus", "1xH100:81920",
			"--bandwidth-mbps", "100", "--price", "1unro", "--stake", "100000000unro"}, "taken"},
		{"update by non-operator", "provider-2", []string{"allocation", "update-node", "gpu-node-1", "--bandwidth-mbps", "1"}, "not " + agent},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			res, err := n.Tx(ctx, tc.from, tc.args...)
			if err != nil {
				// Refused by the client before broadcast (e.g. flag parsing) also counts, if it says why.
				require.Contains(t, err.Error(), tc.wants)
				return
			}
			require.NotZero(t, res.Code, "must be refused")
			require.Contains(t, res.Log, tc.wants)
		})
	}
	require.Equal(t, before-1_000_000_000, balance(t, ctx, n, provider), "refused txs moved no coins")
	require.NoError(t, n.Query(ctx, &list, "allocation", "nodes"))
	require.Len(t, list.Nodes, 1)

	// Update, add stake.
	mustTx(t, ctx, n, "provider-1", "allocation", "update-node", "gpu-node-1", "--price-per-gpu-hour", "2400000unro", "--bandwidth-mbps", "40000")
	got = queryNode(t, ctx, n, "gpu-node-1")
	require.Equal(t, "2400000", got.Price.Amount)
	require.Equal(t, "40000", got.BandwidthMbps)
	mustTx(t, ctx, n, "provider-1", "allocation", "add-stake", "gpu-node-1", "500000000unro")
	require.Equal(t, "1500000000", queryNode(t, ctx, n, "gpu-node-1").Stake.Amount)

	// Deregister, wait for unbonding, get the whole stake back.
	res = mustTx(t, ctx, n, "provider-1", "allocation", "deregister-node", "gpu-node-1")
	got = queryNode(t, ctx, n, "gpu-node-1")
	require.Equal(t, "NODE_STATUS_UNBONDING", got.Status)
	require.NoError(t, n.Query(ctx, &list, "allocation", "nodes", "--status", "unbonding"))
	require.Len(t, list.Nodes, 1)
	require.NoError(t, n.Query(ctx, &list, "allocation", "nodes", "--status", "active"))
	require.Empty(t, list.Nodes)
	release, err := strconv.ParseInt(got.ReleaseHeight, 10, 64)
	require.NoError(t, err)
	require.Equal(t, res.Height+lifecycleUnbonding, release)

	again, err := n.Tx(ctx, "provider-1", "allocation", "deregister-node", "gpu-node-1")
	require.NoError(t, err)
	require.NotZero(t, again.Code)
	require.Contains(t, again.Log, "already UNBONDING")

	_, err = n.WaitForHeight(ctx, release+1, time.Minute)
	require.NoError(t, err)
	require.Equal(t, before, balance(t, ctx, n, provider), "stake returned in full (gas is free on the localnet)")
	var one struct{ Node nodeJSON }
	err = n.Query(ctx, &one, "allocation", "node", "gpu-node-1")
	require.Error(t, err)
	require.Contains(t, err.Error(), "NotFound")
}

// TestExportThenNewChain registers a node, exports the state with `nrod export`, and starts a new chain
// from the exported genesis with the same validator key; the registry must come through unchanged.
func TestExportThenNewChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	home := t.TempDir()
	// Long enough that the deregistered node is still unbonding when the chain stops for the export.
	n := startNode(t, ctx, home, 40)
	agent, err := n.Address(ctx, "provider-1")
	require.NoError(t, err)
	mustTx(t, ctx, n, "provider-1", "allocation", "register-node", "exported-node",
		"--region", "gcp:us-central1-a", "--gpus", "8xA100:40960", "--bandwidth-mbps", "8177",
		"--price", "3670000unro", "--stake", "800000000unro", "--agent", agent)
	mustTx(t, ctx, n, "provider-2", "allocation", "register-node", "leaving-node",
		"--region", "aws:us-west-2", "--gpus", "1xA10G:24576", "--bandwidth-mbps", "5171",
		"--price", "1010000unro", "--stake", "100000000unro")
	mustTx(t, ctx, n, "provider-2", "allocation", "deregister-node", "leaving-node")
	wantNode := queryNode(t, ctx, n, "exported-node")
	leaving := queryNode(t, ctx, n, "leaving-node")
	require.NoError(t, n.Stop())

	exported, err := n.Run(ctx, "export")
	require.NoError(t, err)
	var gen map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported, &gen), "export output is JSON")

	// New home: same keys and validator, exported genesis, empty data.
	newHome := t.TempDir()
	require.NoError(t, os.CopyFS(newHome, os.DirFS(home)))
	require.NoError(t, os.RemoveAll(filepath.Join(newHome, "data")))
	require.NoError(t, os.MkdirAll(filepath.Join(newHome, "data"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(newHome, "data", "priv_validator_state.json"),
		[]byte(`{"height":"0","round":0,"step":0}`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(newHome, "config", "genesis.json"), exported, 0o644))

	n2 := startNode(t, ctx, newHome, 0) // home exists: reused as is
	defer func() { _ = n2.Stop() }()
	got := queryNode(t, ctx, n2, "exported-node")
	require.Equal(t, wantNode, got)
	// The unbonding node keeps its release height and is paid back on the new chain.
	require.Equal(t, leaving, queryNode(t, ctx, n2, "leaving-node"))
	release, _ := strconv.ParseInt(leaving.ReleaseHeight, 10, 64)
	_, err = n2.WaitForHeight(ctx, release+1, time.Minute)
	require.NoError(t, err)
	var one struct{ Node nodeJSON }
	err = n2.Query(ctx, &one, "allocation", "node", "leaving-node")
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "NotFound"), err.Error())
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
