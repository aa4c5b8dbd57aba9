package agent

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/consensus-nro/nro/agent/probe"
	"github.com/consensus-nro/nro/agent/report"
)

// The chain client's codecs (the app's, through internal/chainclient) import grpc-web, whose timer package
// starts a goroutine at init; it is not the agent's.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/desertbit/timer.timerRoutine"))
}

func TestConfigRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "home", ConfigFileName)
	cfg := DefaultConfig()
	cfg.NodeID = "gpu-node-1"
	cfg.Probe.Peers = []string{"gpu-node-2@10.0.0.2:26680", "10.0.0.3:26680"}
	cfg.Telemetry.RegisteredGPUs = []GPUGroupConfig{{Model: "H100", Count: 8, MemoryMiB: 81920}, {Model: "L4", Count: 2, MemoryMiB: 24576}}
	cfg.Chain.KeyringDir = `C:\keys "quoted"` // quoting survives
	require.NoError(t, WriteConfig(path, cfg, false))

	loaded, err := LoadConfig(path)
	require.NoError(t, err)
	require.Equal(t, cfg, loaded)
	require.NoError(t, loaded.Validate(true))

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(raw), "# node_id is the id of the node this agent serves")
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	require.ErrorContains(t, WriteConfig(path, cfg, false), "already exists: remove it or pass --overwrite")
	require.NoError(t, WriteConfig(path, DefaultConfig(), true))
	loaded, err = LoadConfig(path)
	require.NoError(t, err)
	require.Equal(t, DefaultConfig(), loaded)
}

func TestLoadConfigIsStrict(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadConfig(filepath.Join(dir, "missing.toml"))
	require.ErrorContains(t, err, "run `nro-agent init --home")

	path := filepath.Join(dir, ConfigFileName)
	require.NoError(t, os.WriteFile(path, []byte("node_id = \"a\"\n[probe]\nlisten_addr = \"0.0.0.0:1\"\n"), 0o600))
	_, err = LoadConfig(path)
	require.ErrorContains(t, err, "keys this agent does not know")
	require.ErrorContains(t, err, "listen_addr")

	require.NoError(t, os.WriteFile(path, []byte("epoch_interval = \"soon\"\n"), 0o600))
	_, err = LoadConfig(path)
	require.ErrorContains(t, err, `"soon" is not a duration`)

	// Omitted keys keep their defaults.
	require.NoError(t, os.WriteFile(path, []byte("node_id = \"gpu-node-9\"\n"), 0o600))
	cfg, err := LoadConfig(path)
	require.NoError(t, err)
	want := DefaultConfig()
	want.NodeID = "gpu-node-9"
	require.Equal(t, want, cfg)
}

func TestConfigValidateSaysWhatIsWrong(t *testing.T) {
	cfg := DefaultConfig()
	require.ErrorContains(t, cfg.Validate(true), "node_id is empty")
	require.NoError(t, cfg.Validate(false))

	cfg.NodeID = "Node_1"
	cfg.EpochInterval = Duration(10 * time.Millisecond)
	cfg.LogLevel = "verbose"
	cfg.Chain.KeyringBackend = "vault"
	cfg.Chain.RPC = "127.0.0.1:26657"
	cfg.Probe.Listen = "26680"
	cfg.Probe.Peers = []string{"10.0.0.2:26680", "bad", "10.0.0.2:26680", "Node@1.2.3.4:5"}
	cfg.Probe.Echoes = 100000
	cfg.Telemetry.RegisteredGPUs = []GPUGroupConfig{{Model: "H100"}}
	cfg.Metrics.Listen = "localhost"
	err := cfg.Validate(true)
	for _, want := range []string{
		`node_id "Node_1" is not a node id`,
		"epoch_interval 10ms is out of range: use 1s to 24h",
		`log_level "verbose" is not one of debug, info, warn, error`,
		`chain.keyring_backend "vault" is not one of os, file, test`,
		`chain.rpc "127.0.0.1:26657" must be a URL`,
		`probe.listen "26680": want host:port`,
		`probe.peers[1]: "bad": want host:port`,
		"probe.peers[2]: 10.0.0.2:26680 is listed twice",
		`probe.peers[3]: "Node@1.2.3.4:5": "Node" is not a node id`,
		"echoes 100000 must be between 1 and 1000",
		"telemetry.registered_gpus[0] needs model, count > 0 and memory_mib > 0",
		`metrics.listen "localhost": want host:port`,
	} {
		require.ErrorContains(t, err, want)
	}
}

func TestConfigZeroProbeValuesAreErrorsNotDefaults(t *testing.T) {
	cfg := testConfig()
	cfg.Probe.Echoes = 0
	require.ErrorContains(t, cfg.Validate(true), "probe.echoes 0: the RTT needs at least 1 echo")
	cfg = testConfig()
	cfg.Probe.MaxConnections = 0
	err := cfg.Validate(true)
	require.ErrorContains(t, err, "probe.max_connections 0 must be at least 1")
	require.NotContains(t, err.Error(), "probe server:", "one message per mistake")
	cfg = testConfig()
	cfg.Probe.MaxTransferDuration = Duration(2 * time.Minute)
	require.ErrorContains(t, cfg.Validate(true), "max transfer duration 2m0s must be between 1ms and 1m")
}

func TestParsePeer(t *testing.T) {
	p, err := ParsePeer("gpu-node-2@10.0.0.2:26680")
	require.NoError(t, err)
	require.Equal(t, Peer{NodeID: "gpu-node-2", Address: "10.0.0.2:26680"}, p)
	require.Equal(t, "gpu-node-2", p.Label())
	p, err = ParsePeer("[::1]:26680")
	require.NoError(t, err)
	require.Equal(t, "[::1]:26680", p.Label())
	_, err = ParsePeer("10.0.0.2:99999")
	require.ErrorContains(t, err, `port "99999" is not a number from 0 to 65535`)
}

// testConfig is a valid config on 127.0.0.1 with ephemeral ports and no NVML.
func testConfig(peers ...string) Config {
	cfg := DefaultConfig()
	cfg.NodeID = "gpu-node-1"
	cfg.EpochInterval = Duration(time.Second)
	cfg.Probe.Listen = "127.0.0.1:0"
	cfg.Metrics.Listen = "127.0.0.1:0"
	cfg.Probe.Peers = peers
	cfg.Probe.Echoes = 5
	cfg.Probe.TransferBytes = 512 << 10
	cfg.Probe.Timeout = Duration(2 * time.Second)
	cfg.Telemetry.DisableNVML = true
	cfg.Telemetry.RegisteredGPUs = []GPUGroupConfig{{Model: "H100", Count: 2, MemoryMiB: 81920}}
	cfg.Chain.Submit = false // submission tests inject a fake chain
	return cfg
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestAgentRunsEpochsServesMetricsAndStopsCleanly(t *testing.T) {
	// A peer agent's probe server, and an address nobody listens on.
	peerSrv, err := probe.Listen("127.0.0.1:0", probe.ServerConfig{}, nil)
	require.NoError(t, err)
	peerCtx, stopPeer := context.WithCancel(context.Background())
	peerDone := make(chan error, 1)
	go func() { peerDone <- peerSrv.Serve(peerCtx) }()
	defer func() { stopPeer(); require.NoError(t, <-peerDone) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := ln.Addr().String()
	require.NoError(t, ln.Close())

	epochs := make(chan report.Epoch, 16)
	a, err := New(testConfig("gpu-node-2@"+peerSrv.Addr().String(), deadAddr), Options{OnEpoch: func(e report.Epoch) { epochs <- e }})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	var e report.Epoch
	select {
	case e = <-epochs:
	case <-time.After(20 * time.Second):
		t.Fatal("no epoch within 20s")
	}
	require.NoError(t, e.Validate())
	require.Equal(t, "gpu-node-1", e.NodeID)
	require.Equal(t, report.SourceFallback, e.GPUs.Source)
	require.Len(t, e.GPUs.Devices, 2)
	require.Len(t, e.Links.Links, 2)
	byPeer := map[string]report.Link{}
	for _, l := range e.Links.Links {
		byPeer[l.Peer] = l
	}
	good := byPeer["gpu-node-2"]
	require.Empty(t, good.Error)
	require.Equal(t, report.SourceProbe, good.Source)
	require.Equal(t, uint32(5), good.RTTSamples)
	require.Positive(t, good.RTTMicros+good.RTTMaxMicros)
	require.Positive(t, good.ThroughputKbps)
	bad := byPeer[deadAddr]
	require.Contains(t, bad.Error, "connect")
	require.Zero(t, bad.RTTMicros)

	// Other agents can measure this one.
	c, err := probe.NewClient(probe.ClientConfig{Echoes: 2, NoTransfer: true})
	require.NoError(t, err)
	_, err = c.Measure(context.Background(), a.ProbeAddr().String())
	require.NoError(t, err)

	base := "http://" + a.MetricsAddr().String()
	code, body := httpGet(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`nro_agent_gpu_devices{source="fallback"} 2`,
		`nro_agent_gpu_memory_total_bytes{device="1",model="H100",source="fallback",uuid=""} 8.589934592e+10`,
		`nro_agent_probe_up{address="` + peerSrv.Addr().String() + `",peer="gpu-node-2"} 1`,
		`nro_agent_probe_rtt_seconds{address="` + peerSrv.Addr().String() + `",peer="gpu-node-2"}`,
		`nro_agent_probe_throughput_bits_per_second{address="` + peerSrv.Addr().String() + `",peer="gpu-node-2"}`,
		`nro_agent_probe_up{address="` + deadAddr + `",peer="` + deadAddr + `"} 0`,
		`nro_agent_probe_errors_total{kind="refused",peer="` + deadAddr + `"}`,
		`nro_agent_epochs_total`,
		`nro_agent_telemetry_errors_total{kind="nvml"} 0`,
		`nro_agent_probe_server_sessions_total{result="accepted"}`,
		`go_goroutines`,
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, "nro_agent_gpu_utilization_percent", "a fallback reports no utilisation")
	require.NotContains(t, body, "nro_agent_gpu_up", "a fallback device was not read")

	code, body = httpGet(t, base+"/report")
	require.Equal(t, http.StatusOK, code)
	var got report.Epoch
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Equal(t, report.SourceFallback, got.GPUs.Source)
	require.True(t, strings.Contains(body, `"fallback_reason"`))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of cancellation")
	}
	_, err = net.DialTimeout("tcp", a.ProbeAddr().String(), time.Second)
	require.Error(t, err, "the probe listener is closed")
	require.NoError(t, a.Close(), "Close after Run is harmless")
}

func TestNewFailsOnBusyPortAndReleasesWhatItBound(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = busy.Close() }()
	cfg := testConfig()
	cfg.Metrics.Listen = busy.Addr().String()
	_, err = New(cfg, Options{})
	require.ErrorContains(t, err, "metrics: listen on "+busy.Addr().String())

	cfg = testConfig()
	cfg.NodeID = ""
	_, err = New(cfg, Options{})
	require.ErrorContains(t, err, "invalid agent config")
}

func TestParseGPUGroups(t *testing.T) {
	g, err := ParseGPUGroups("8xH100:81920, 2xl4:24576")
	require.NoError(t, err)
	require.Equal(t, []GPUGroupConfig{{Model: "H100", Count: 8, MemoryMiB: 81920}, {Model: "L4", Count: 2, MemoryMiB: 24576}}, g)
	_, err = ParseGPUGroups("8xH100")
	require.ErrorContains(t, err, `GPU group "8xH100": want COUNTxMODEL:MEMORY_MIB`)
	_, err = ParseGPUGroups("0xH100:1")
	require.Error(t, err)
}
