//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/agent"
	"github.com/consensus-nro/nro/agent/proposer"
	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

// TestProposerWinsAllocation runs the nro-agent daemon with proposer.enabled against the real nrod, on a
// fleet where the chain's fallback cannot find the cheapest placement: two 8-GPU nodes at 2.5 NRO/GPU-h fill
// the fallback's pool (four times the lease's GPUs, at least 16, and the rest of that price level), so it
// places a 4-GPU lease on one of them and strands 4 GPUs; a 4-GPU node at 2.55 NRO/GPU-h, outside the pool,
// strands none and costs less on the chain's own score. The proposer (gpu-b's agent, provider-2) must see
// the lease through its event (the safety-net poll is 10 minutes away) and propose it well inside the
// window, the chain must pick it over the fallback with the very cost the proposer computed, and the
// proposer must count it won.
func TestProposerWinsAllocation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	node := startNodeWith(t, ctx, t.TempDir(), 0, map[string]map[string]any{
		"allocation": {"proposal_window_blocks": "10"},
	})
	t.Cleanup(func() { _ = node.Stop() })

	agentAddr, err := node.Address(ctx, "provider-2")
	require.NoError(t, err)
	for _, n := range []struct{ key, id, gpus, price string }{
		{"provider-1", "gpu-a1", "8xH100:81920", "2500000unro"},
		{"provider-1", "gpu-a2", "8xH100:81920", "2500000unro"},
		{"provider-2", "gpu-b", "4xH100:81920", "2550000unro"},
	} {
		mustTx(t, ctx, node, n.key, "allocation", "register-node", n.id, "--region", "aws:us-east-1", "--gpus", n.gpus,
			"--bandwidth-mbps", "25000", "--price", n.price, "--stake", "1000000000unro")
	}
	require.Equal(t, agentAddr, queryNode(t, ctx, node, "gpu-b").Agent)

	home := t.TempDir()
	cfg := agent.DefaultConfig()
	cfg.NodeID = "gpu-b"
	cfg.EpochInterval = agent.Duration(2 * time.Second)
	cfg.LogFormat = "json"
	cfg.Chain.GRPC = fmt.Sprintf("127.0.0.1:%d", node.Ports.GRPC)
	cfg.Chain.ChainID = node.ChainID
	cfg.Chain.KeyName = "provider-2"
	cfg.Chain.KeyringDir = node.Home
	cfg.Telemetry.DisableNVML = true
	cfg.Telemetry.RegisteredGPUs = []agent.GPUGroupConfig{{Model: "H100", Count: 4, MemoryMiB: 81920}}
	cfg.Probe.Listen = "127.0.0.1:0"
	cfg.Metrics.Listen = "127.0.0.1:0"
	cfg.Proposer.Enabled = true
	cfg.Chain.RPC = fmt.Sprintf("http://127.0.0.1:%d", node.Ports.RPC)
	cfg.Proposer.Events = true
	cfg.Proposer.StaggerBlocks = 0 // the only proposer: at once
	cfg.Proposer.PollInterval = agent.Duration(10 * time.Minute)
	require.NoError(t, cfg.Validate(true))
	logf, err := os.Create(filepath.Join(t.TempDir(), "agent.log"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = logf.Close() })
	t.Logf("agent log: %s", logf.Name())

	a, err := agent.New(cfg, agent.Options{Logger: cfg.NewLogger(logf), Home: home})
	require.NoError(t, err)
	require.NotNil(t, a.Proposer())
	actx, stop := context.WithCancel(ctx)
	exited := make(chan error, 1)
	go func() { exited <- a.Run(actx) }()
	defer func() { stop(); require.NoError(t, <-exited) }()
	// The lease is created once the proposer listens, so that its event (not the start's catch-up) finds it.
	metricsURL := "http://" + a.MetricsAddr().String() + "/metrics"
	require.Eventually(t, func() bool {
		return strings.Contains(metricsBody(t, metricsURL), "nro_agent_proposer_events_connected 1")
	}, 60*time.Second, 200*time.Millisecond, "the proposer did not subscribe (agent log %s)", logf.Name())

	mustTx(t, ctx, node, "submitter", "lease", "create", "--gpus", "4", "--gpu-model", "H100",
		"--min-gpu-memory-mib", "81920", "--duration-blocks", "600", "--max-price", "3000000unro",
		"--deposit", "50000000000unro")

	// Read the decision through the same typed client the agent uses.
	chain, ep, err := agent.DialChain(cfg, home, nil)
	require.NoError(t, err)
	defer func() { _ = ep.Close() }()
	var decision audittypes.Decision
	require.Eventually(t, func() bool {
		ds, err := chain.LeaseDecisions(ctx, 1)
		if err != nil || len(ds) == 0 {
			return false
		}
		decision = ds[0]
		return true
	}, 90*time.Second, 500*time.Millisecond, "lease 1 was not decided (agent log %s)", logf.Name())

	winner := decision.Candidates[decision.Winner]
	require.Equal(t, allocationtypes.CANDIDATE_SOURCE_PROPOSAL, winner.Source, "decision: %+v (agent log %s)", decision, logf.Name())
	require.Equal(t, agentAddr, winner.Proposer)
	require.Len(t, winner.Nodes, 1)
	require.Equal(t, "gpu-b", winner.Nodes[0].NodeId)
	var fallback *allocationtypes.Candidate
	for i := range decision.Candidates {
		if decision.Candidates[i].Source == allocationtypes.CANDIDATE_SOURCE_FALLBACK {
			fallback = &decision.Candidates[i]
		}
	}
	require.NotNil(t, fallback, "the decision holds the fallback's candidate")
	require.True(t, winner.Score.Total.LT(fallback.Score.Total), "proposal %s, fallback %s", winner.Score.Total, fallback.Score.Total)
	t.Logf("proposal total %s < fallback total %s (fallback on %s)", winner.Score.Total, fallback.Score.Total, fallback.Nodes[0].NodeId)

	require.Eventually(t, func() bool { return a.Proposer().Counts().Won == 1 }, 30*time.Second, 200*time.Millisecond,
		"counts %+v (agent log %s)", a.Proposer().Counts(), logf.Name())
	counts := a.Proposer().Counts()
	require.Equal(t, 1, counts.Sent)
	require.Zero(t, counts.Lost)
	require.Zero(t, counts.Skipped)
	body := metricsBody(t, metricsURL)
	require.Contains(t, body, `nro_agent_proposals_total{outcome="won"} 1`)
	require.Contains(t, body, `nro_agent_proposals_total{outcome="sent"} 1`)

	// The proposal came from the lease's event, a few blocks into the 10-block window, and the proposer's
	// estimate of the chain's cost is the chain's own, for its proposal and for the fallback.
	recs := a.Proposer().Records()
	require.Len(t, recs, 1)
	r := recs[0]
	require.Equal(t, uint64(1), r.LeaseID)
	require.Equal(t, proposer.TriggerEvent, r.Trigger)
	require.Equal(t, proposer.OutcomeWon, r.Outcome)
	require.Equal(t, r.PendingSince+10, r.WindowCloses)
	require.LessOrEqual(t, r.TxHeight-r.PendingSince, int64(3), "proposal in block %d for a lease pending since %d", r.TxHeight, r.PendingSince)
	require.True(t, r.Total.Equal(winner.Score.Total), "proposer's cost %s, decision record's %s", r.Total, winner.Score.Total)
	require.NotNil(t, r.FallbackTotal)
	require.True(t, r.FallbackTotal.Equal(fallback.Score.Total), "proposer's fallback cost %s, decision record's %s", r.FallbackTotal, fallback.Score.Total)
	t.Logf("proposal sent in block %d, %d blocks after the lease was created (window closes at %d)", r.TxHeight, r.TxHeight-r.PendingSince, r.WindowCloses)
}
