//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/agent"
	"github.com/consensus-nro/nro/agent/probe"
	"github.com/consensus-nro/nro/testutil/localnet"
)

// agentEpochBlocks is x/audit's epoch_blocks in the agent test: 30 blocks of 0.5 s, long enough that the
// agent's restarts fall inside one chain epoch.
const agentEpochBlocks = 30

type telemetryReportJSON struct {
	Report struct {
		NodeID string `json:"node_id"`
		Epoch  string `json:"epoch"`
		Agent  string `json:"agent"`
		Height string `json:"height"`
		Gpus   []struct {
			DeviceIndex    uint32 `json:"device_index"`
			Model          string `json:"model"`
			Source         string `json:"source"`
			Present        bool   `json:"present"`
			MemoryTotalMib string `json:"memory_total_mib"`
		} `json:"gpus"`
		Links []struct {
			PeerNodeID string `json:"peer_node_id"`
		} `json:"links"`
	} `json:"report"`
}

// TestAgentDaemonSubmitsTelemetry registers a node whose agent is provider-2's key, runs the nro-agent
// daemon (the agent package, as `nro-agent start` runs it) with that key from the node's keyring, and reads
// its report back from the chain. Then it restarts the daemon within the same chain epoch, once with its
// state (it sends nothing) and once without (the chain already has the report: a duplicate, done).
func TestAgentDaemonSubmitsTelemetry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	node := startNodeWith(t, ctx, t.TempDir(), 0, map[string]map[string]any{
		"audit": {"epoch_blocks": strconv.Itoa(agentEpochBlocks), "grace_blocks": "3"},
	})
	t.Cleanup(func() { _ = node.Stop() })

	agentAddr, err := node.Address(ctx, "provider-2")
	require.NoError(t, err)
	mustTx(t, ctx, node, "provider-1", "allocation", "register-node", "gpu-node-1",
		"--region", "aws:us-east-1", "--gpus", "2xH100:81920", "--bandwidth-mbps", "25000",
		"--price", "2500000unro", "--stake", "1000000000unro", "--agent", agentAddr)
	require.Equal(t, agentAddr, queryNode(t, ctx, node, "gpu-node-1").Agent)

	// A peer agent that shares no lease with the node: it is probed, but the chain takes no link to it, so
	// the submitted report leaves it out rather than be refused.
	peer, err := probe.Listen("127.0.0.1:0", probe.ServerConfig{}, nil)
	require.NoError(t, err)
	peerCtx, stopPeer := context.WithCancel(ctx)
	peerDone := make(chan error, 1)
	go func() { peerDone <- peer.Serve(peerCtx) }()
	defer func() { stopPeer(); <-peerDone }()

	home := t.TempDir()
	cfg := agent.DefaultConfig()
	cfg.NodeID = "gpu-node-1"
	cfg.EpochInterval = agent.Duration(2 * time.Second)
	cfg.LogFormat = "json"
	cfg.Chain.GRPC = fmt.Sprintf("127.0.0.1:%d", node.Ports.GRPC)
	cfg.Chain.ChainID = node.ChainID
	cfg.Chain.KeyName = "provider-2"
	cfg.Chain.KeyringDir = node.Home
	cfg.Telemetry.DisableNVML = true
	cfg.Telemetry.RegisteredGPUs = []agent.GPUGroupConfig{{Model: "H100", Count: 2, MemoryMiB: 81920}}
	cfg.Probe.Listen = "127.0.0.1:0"
	cfg.Probe.Peers = []string{"gpu-node-2@" + peer.Addr().String()}
	cfg.Probe.TransferBytes = 256 << 10
	cfg.Metrics.Listen = "127.0.0.1:0"
	require.NoError(t, cfg.Validate(true))
	logf, err := os.Create(filepath.Join(t.TempDir(), "agent.log"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = logf.Close() })

	// runAgent runs the daemon until done says its submissions are enough, and returns them.
	runAgent := func(done func([]agent.Submission) bool) []agent.Submission {
		subs := make(chan agent.Submission, 64)
		a, err := agent.New(cfg, agent.Options{Logger: cfg.NewLogger(logf), Home: home, OnSubmit: func(s agent.Submission) { subs <- s }})
		require.NoError(t, err)
		actx, stop := context.WithCancel(ctx)
		exited := make(chan error, 1)
		go func() { exited <- a.Run(actx) }()
		defer func() { stop(); require.NoError(t, <-exited) }()
		var got []agent.Submission
		for !done(got) {
			select {
			case s := <-subs:
				got = append(got, s)
			case err := <-exited:
				t.Fatalf("agent stopped: %v (log %s)", err, logf.Name())
			case <-time.After(90 * time.Second):
				t.Fatalf("%d submissions within 90 s, not enough (log %s)", len(got), logf.Name())
			}
		}
		body := metricsBody(t, "http://"+a.MetricsAddr().String()+"/metrics")
		require.Contains(t, body, "nro_agent_telemetry_last_submitted_epoch ")
		require.Contains(t, body, `nro_agent_telemetry_submissions_total{result="ok"}`)
		return got
	}
	one := func(got []agent.Submission) bool { return len(got) == 1 }

	// Start at the beginning of an epoch, so that the restarts below fall inside it.
	waitNextEpoch(t, ctx, node)
	first := runAgent(one)[0]
	require.Equal(t, agent.SubmitOK, first.Result, "err: %v (log %s)", first.Err, logf.Name())
	require.NotEmpty(t, first.TxHash)
	require.Zero(t, first.Links, "gpu-node-2 shares no lease with the node")
	epoch := first.Epoch

	var rep telemetryReportJSON
	require.NoError(t, node.Query(ctx, &rep, "audit", "telemetry-report", "gpu-node-1", strconv.FormatUint(epoch, 10)))
	require.Equal(t, "gpu-node-1", rep.Report.NodeID)
	require.Equal(t, agentAddr, rep.Report.Agent, "signed with the node's registered agent key")
	require.Equal(t, strconv.FormatInt(first.Height, 10), rep.Report.Height)
	require.Len(t, rep.Report.Gpus, 2)
	for i, g := range rep.Report.Gpus {
		require.Equal(t, uint32(i), g.DeviceIndex)
		require.Equal(t, "H100", g.Model)
		require.Equal(t, "SOURCE_FALLBACK", g.Source, "no NVML here: labelled fallback, never a measurement")
		require.Equal(t, "81920", g.MemoryTotalMib)
	}
	require.Empty(t, rep.Report.Links)

	// Restarts within the chain epoch. (Should a slow machine cross into the next epoch meanwhile, that epoch
	// has no report yet, so the restarted daemon must submit it: ok.)
	restart := func(want agent.SubmitResult) {
		t.Helper()
		sub := runAgent(one)[0]
		if sub.Epoch != epoch {
			t.Logf("the chain moved from epoch %d to %d during the restart", epoch, sub.Epoch)
			want, epoch = agent.SubmitOK, sub.Epoch
		}
		require.Equal(t, want, sub.Result, "err: %v (log %s)", sub.Err, logf.Name())
	}
	// With its state: nothing is sent, nothing is looked up.
	restart(agent.SubmitSkipped)
	// Without it (a lost home, or a crash between the block and the state write): the chain has the report.
	require.NoError(t, os.Remove(filepath.Join(home, agent.StateFileName)))
	restart(agent.SubmitDuplicate)

	// The daemon keeps running into the next chain epoch: the reports in between are skipped, the first one
	// in the new epoch is submitted.
	subs := runAgent(func(got []agent.Submission) bool {
		return len(got) > 0 && got[len(got)-1].Epoch > epoch
	})
	last := subs[len(subs)-1]
	require.Equal(t, agent.SubmitOK, last.Result, "err: %v (log %s)", last.Err, logf.Name())
	require.Equal(t, epoch+1, last.Epoch)
	for _, s := range subs[:len(subs)-1] {
		require.Equal(t, agent.SubmitSkipped, s.Result, "epoch %d is done", epoch)
	}

	var reports struct {
		Reports []struct {
			Epoch string `json:"epoch"`
			Agent string `json:"agent"`
		} `json:"reports"`
	}
	require.NoError(t, node.Query(ctx, &reports, "audit", "telemetry", "--node-id", "gpu-node-1"))
	seen := map[string]bool{}
	for _, r := range reports.Reports {
		require.False(t, seen[r.Epoch], "one report per epoch")
		seen[r.Epoch] = true
		require.Equal(t, agentAddr, r.Agent)
	}
	require.True(t, seen[strconv.FormatUint(epoch, 10)], "reports: %+v", reports.Reports)
	require.True(t, seen[strconv.FormatUint(epoch+1, 10)], "reports: %+v", reports.Reports)
}

func currentEpoch(ctx context.Context, node *localnet.Node) (uint64, error) {
	var ep struct {
		Epoch struct {
			Number string `json:"number"`
		} `json:"epoch"`
	}
	if err := node.Query(ctx, &ep, "audit", "epoch"); err != nil {
		return 0, err
	}
	return strconv.ParseUint(ep.Epoch.Number, 10, 64)
}

// waitNextEpoch waits until x/audit's epoch changes.
func waitNextEpoch(t *testing.T, ctx context.Context, node *localnet.Node) {
	t.Helper()
	from, err := currentEpoch(ctx, node)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		n, err := currentEpoch(ctx, node)
		return err == nil && n > from
	}, 2*time.Minute, 250*time.Millisecond)
}

func metricsBody(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

// TestAgentBinarySubmitsTelemetry runs the built nro-agent (NRO_AGENT_BINARY, or nro-agent next to
// NROD_BINARY: `make test-e2e` builds both) with flags only, as an operator would, and waits for its report
// on the chain. It checks the binary as shipped: its CLI, its keyring and codecs, next to everything else it
// links.
func TestAgentBinarySubmitsTelemetry(t *testing.T) {
	bin := os.Getenv("NRO_AGENT_BINARY")
	if bin == "" {
		nrod := os.Getenv("NROD_BINARY")
		if nrod == "" {
			nrod = "../../build/nrod"
		}
		bin = filepath.Join(filepath.Dir(nrod), "nro-agent")
	}
	bin, err := filepath.Abs(bin)
	require.NoError(t, err)
	_, err = os.Stat(bin)
	require.NoError(t, err, "build nro-agent first (make build) or set NRO_AGENT_BINARY")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	node := startNodeWith(t, ctx, t.TempDir(), 0, map[string]map[string]any{
		"audit": {"epoch_blocks": strconv.Itoa(agentEpochBlocks), "grace_blocks": "3"},
	})
	t.Cleanup(func() { _ = node.Stop() })
	agentAddr, err := node.Address(ctx, "provider-3")
	require.NoError(t, err)
	mustTx(t, ctx, node, "provider-1", "allocation", "register-node", "gpu-node-7",
		"--region", "aws:us-east-1", "--gpus", "1xL4:24576", "--bandwidth-mbps", "10000",
		"--price", "800000unro", "--stake", "100000000unro", "--agent", agentAddr)

	home := t.TempDir()
	logPath := filepath.Join(t.TempDir(), "nro-agent.log")
	logf, err := os.Create(logPath)
	require.NoError(t, err)
	defer func() { _ = logf.Close() }()
	cmd := exec.CommandContext(ctx, bin, "start", "--home", home, "--node-id", "gpu-node-7",
		"--grpc", fmt.Sprintf("127.0.0.1:%d", node.Ports.GRPC), "--chain-id", node.ChainID,
		"--key-name", "provider-3", "--keyring-backend", "test", "--keyring-dir", node.Home, "--gas-prices", "0unro",
		"--disable-nvml", "--gpus", "1xL4:24576", "--probe-listen", "127.0.0.1:0", "--metrics-listen", "",
		"--epoch-interval", "2s", "--log-format", "json")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Without an agent config file: the flags are the whole config.
	require.NoError(t, os.WriteFile(agent.ConfigPath(home), nil, 0o600))
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()

	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-exited:
			bz, _ := os.ReadFile(logPath)
			t.Fatalf("nro-agent exited: %v\n%s", err, bz)
		default:
		}
		var reports struct {
			Reports []struct {
				Epoch string `json:"epoch"`
				Agent string `json:"agent"`
				Gpus  []struct {
					Model  string `json:"model"`
					Source string `json:"source"`
				} `json:"gpus"`
			} `json:"reports"`
		}
		if err := node.Query(ctx, &reports, "audit", "telemetry", "--node-id", "gpu-node-7"); err == nil && len(reports.Reports) > 0 {
			r := reports.Reports[0]
			require.Equal(t, agentAddr, r.Agent)
			require.Len(t, r.Gpus, 1)
			require.Equal(t, "L4", r.Gpus[0].Model)
			require.Equal(t, "SOURCE_FALLBACK", r.Gpus[0].Source)
			break
		}
		if time.Now().After(deadline) {
			bz, _ := os.ReadFile(logPath)
			t.Fatalf("no report from the nro-agent binary within 90 s; its log:\n%s", bz)
		}
		time.Sleep(time.Second)
	}
	require.Eventually(t, func() bool {
		bz, err := os.ReadFile(filepath.Join(home, agent.StateFileName))
		return err == nil && strings.Contains(string(bz), `"result": "ok"`)
	}, 10*time.Second, 200*time.Millisecond, "the state file records the epoch")
	bz, err := os.ReadFile(logPath)
	require.NoError(t, err)
	require.Contains(t, string(bz), `"msg":"telemetry submitted"`)
}
