package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/consensus-nro/nro/agent"
	"github.com/consensus-nro/nro/agent/probe"
	"github.com/consensus-nro/nro/agent/report"
)

// The chain client's codecs (the app's, through internal/chainclient) import grpc-web, whose timer package
// starts a goroutine at init; it is not the agent's.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/desertbit/timer.timerRoutine"))
}

// syncBuffer is a bytes.Buffer safe to read while a command writes its log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run executes nro-agent with args and returns stdout, stderr and the error.
func run(ctx context.Context, args ...string) (string, string, error) {
	var out, errOut syncBuffer
	root := NewRootCmd()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func TestInitWritesAConfigStartAccepts(t *testing.T) {
	home := t.TempDir()
	out, _, err := run(context.Background(), "init", "--home", home, "--node-id", "gpu-node-1", "--gpus", "8xH100:81920",
		"--peers", "gpu-node-2@10.0.0.2:26680,10.0.0.3:26680", "--probe-listen", "0.0.0.0:26680")
	require.NoError(t, err)
	require.Contains(t, out, "wrote "+filepath.Join(home, agent.ConfigFileName))

	cfg, err := agent.LoadConfig(agent.ConfigPath(home))
	require.NoError(t, err)
	require.Equal(t, "gpu-node-1", cfg.NodeID)
	require.Equal(t, []agent.GPUGroupConfig{{Model: "H100", Count: 8, MemoryMiB: 81920}}, cfg.Telemetry.RegisteredGPUs)
	require.Equal(t, []string{"gpu-node-2@10.0.0.2:26680", "10.0.0.3:26680"}, cfg.Probe.Peers)
	require.Equal(t, "0.0.0.0:26680", cfg.Probe.Listen)
	require.NoError(t, cfg.Validate(true))

	_, _, err = run(context.Background(), "init", "--home", home)
	require.ErrorContains(t, err, "already exists: remove it or pass --overwrite")
	_, _, err = run(context.Background(), "init", "--home", home, "--overwrite", "--peers", "nope")
	require.ErrorContains(t, err, `probe.peers[0]: "nope": want host:port`)
	out, _, err = run(context.Background(), "init", "--home", home, "--overwrite")
	require.NoError(t, err)
	require.Contains(t, out, "set node_id")
}

func TestStartRunsUntilCancelledWithFlagsOverConfig(t *testing.T) {
	home := t.TempDir()
	_, _, err := run(context.Background(), "init", "--home", home, "--node-id", "from-config")
	require.NoError(t, err)

	// A peer to probe.
	peer, err := probe.Listen("127.0.0.1:0", probe.ServerConfig{}, nil)
	require.NoError(t, err)
	peerCtx, stopPeer := context.WithCancel(context.Background())
	peerDone := make(chan error, 1)
	go func() { peerDone <- peer.Serve(peerCtx) }()
	defer func() { stopPeer(); require.NoError(t, <-peerDone) }()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	root := NewRootCmd()
	root.SetOut(&syncBuffer{})
	root.SetErr(&stderr)
	root.SetArgs([]string{"start", "--home", home, "--node-id", "from-flag", "--probe-listen", "127.0.0.1:0",
		"--metrics-listen", "", "--peers", "gpu-node-2@" + peer.Addr().String(), "--disable-nvml", "--gpus", "2xL4:24576",
		"--log-format", "json", "--submit=false"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), `"msg":"epoch complete"`) },
		20*time.Second, 20*time.Millisecond, stderr.String())
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("start did not return within 10s of cancellation")
	}
	logs := stderr.String()
	require.Contains(t, logs, `"node_id":"from-flag"`)
	require.NotContains(t, logs, "from-config")
	require.Contains(t, logs, `"gpu_source":"fallback"`)
	require.Contains(t, logs, `"gpus":2`)
	require.Contains(t, logs, `"peers_failed":0`)
	require.Contains(t, logs, `"msg":"nro-agent stopped"`)
}

func TestStartWithoutConfigSaysToInit(t *testing.T) {
	home := t.TempDir()
	_, _, err := run(context.Background(), "start", "--home", home)
	require.ErrorContains(t, err, "run `nro-agent init --home "+home)

	_, _, err = run(context.Background(), "init", "--home", home)
	require.NoError(t, err)
	_, _, err = run(context.Background(), "start", "--home", home)
	require.ErrorContains(t, err, "node_id is empty")
}

func TestStartWithoutTheAgentKeySaysHowToFixIt(t *testing.T) {
	home := t.TempDir()
	_, _, err := run(context.Background(), "init", "--home", home, "--node-id", "gpu-node-1", "--probe-listen", "127.0.0.1:0")
	require.NoError(t, err)
	raw, err := os.ReadFile(agent.ConfigPath(home))
	require.NoError(t, err)
	require.Contains(t, string(raw), "submit = true", "submitting is the default")
	_, _, err = run(context.Background(), "start", "--home", home, "--metrics-listen", "", "--disable-nvml")
	require.ErrorContains(t, err, `key "agent"`)
	require.ErrorContains(t, err, "nrod keys add agent --keyring-backend test --keyring-dir "+home)
	require.ErrorContains(t, err, "chain.submit = false")

	_, _, err = run(context.Background(), "start", "--home", home, "--gas-prices", "cheap")
	require.ErrorContains(t, err, `chain.gas_prices "cheap"`)
}

func TestTelemetryOnce(t *testing.T) {
	home := t.TempDir() // no config: defaults

	out, stderr, err := run(context.Background(), "telemetry", "--once", "-o", "json", "--home", home,
		"--disable-nvml", "--gpus", "2xH100:81920")
	require.NoError(t, err)
	var set report.GPUSet
	require.NoError(t, json.Unmarshal([]byte(out), &set))
	require.Equal(t, report.SourceFallback, set.Source)
	require.NoError(t, set.Validate())
	require.Len(t, set.Devices, 2)
	require.Contains(t, stderr, "telemetry.disable_nvml")

	// The real NVML path on a machine without the library (or with it: then the source is nvml).
	missing := filepath.Join(t.TempDir(), "libnvidia-ml.so.1")
	out, _, err = run(context.Background(), "telemetry", "--once", "--home", home, "--nvml-library", missing, "--gpus", "1xA100:40960")
	require.NoError(t, err)
	require.Contains(t, out, "source: fallback")
	require.Contains(t, out, "NOT MEASURED")
	require.True(t, strings.Contains(out, missing) || strings.Contains(out, "built without cgo"), out)
	require.Contains(t, out, "GPU 0  A100")
	require.Contains(t, out, "40960 MiB")

	_, _, err = run(context.Background(), "telemetry", "--once", "-o", "yaml", "--home", home)
	require.ErrorContains(t, err, `--output "yaml": use text or json`)
}

func TestTelemetryRepeatsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	root := NewRootCmd()
	root.SetOut(&out)
	root.SetErr(&syncBuffer{})
	root.SetArgs([]string{"telemetry", "--home", t.TempDir(), "--disable-nvml", "--interval", "100ms"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	require.Eventually(t, func() bool { return strings.Count(out.String(), "source: fallback") >= 2 }, 10*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func TestProbeCommand(t *testing.T) {
	srv, err := probe.Listen("127.0.0.1:0", probe.ServerConfig{}, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	home := t.TempDir()

	out, _, err := run(context.Background(), "probe", srv.Addr().String(), "--home", home, "--echoes", "3", "--transfer-bytes", "1048576")
	require.NoError(t, err)
	require.Contains(t, out, "peer        "+srv.Addr().String()+", protocol v1")
	require.Contains(t, out, "(3 echoes)")
	require.Contains(t, out, "bit/s")

	out, _, err = run(context.Background(), "probe", "gpu-node-2@"+srv.Addr().String(), "--home", home, "-o", "json", "--transfer-bytes", "0")
	require.NoError(t, err)
	var l report.Link
	require.NoError(t, json.Unmarshal([]byte(out), &l))
	require.Equal(t, "gpu-node-2", l.Peer)
	require.Equal(t, report.SourceProbe, l.Source)
	require.Equal(t, uint32(10), l.RTTSamples)
	require.Zero(t, l.ThroughputKbps)

	_, _, err = run(context.Background(), "probe", "no-port", "--home", home)
	require.ErrorContains(t, err, "want host:port")
	_, _, err = run(context.Background(), "probe", srv.Addr().String(), "--home", home, "--echoes", "0")
	require.ErrorContains(t, err, "--echoes 0: the RTT needs at least 1 echo")
}

func TestDefaultHome(t *testing.T) {
	t.Setenv(envHome, "/srv/agent")
	require.Equal(t, "/srv/agent", DefaultHome())
	t.Setenv(envHome, "")
	home, err := os.UserHomeDir()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(home, ".nro-agent"), DefaultHome())
}
