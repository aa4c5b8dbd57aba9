package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/agent/probe"
	"github.com/consensus-nro/nro/agent/report"
	"github.com/consensus-nro/nro/internal/chainclient"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

// fakeChain is a TelemetryChain made of function fields; nil fields answer as an empty chain would, and
// every call is counted.
type fakeChain struct {
	currentEpoch func(ctx context.Context) (uint64, error)
	hasReport    func(ctx context.Context, nodeID string, epoch uint64) (bool, error)
	leasePeers   func(ctx context.Context, nodeID string) ([]string, error)
	submit       func(ctx context.Context, msg *audittypes.MsgSubmitTelemetry) (TxResult, error)

	mu      sync.Mutex
	lookups int
	sent    []*audittypes.MsgSubmitTelemetry
}

// fakeAgent is the fake chain's signing account.
var fakeAgent = sdk.AccAddress([]byte("agent-key-20-bytes!!")).String()

func (f *fakeChain) Address() string { return fakeAgent }

func (f *fakeChain) CurrentEpoch(ctx context.Context) (uint64, error) {
	if f.currentEpoch == nil {
		return 1, nil
	}
	return f.currentEpoch(ctx)
}

func (f *fakeChain) HasReport(ctx context.Context, nodeID string, epoch uint64) (bool, error) {
	f.mu.Lock()
	f.lookups++
	f.mu.Unlock()
	if f.hasReport == nil {
		return false, nil
	}
	return f.hasReport(ctx, nodeID, epoch)
}

func (f *fakeChain) LeasePeers(ctx context.Context, nodeID string) ([]string, error) {
	if f.leasePeers == nil {
		return nil, nil
	}
	return f.leasePeers(ctx, nodeID)
}

func (f *fakeChain) SubmitTelemetry(ctx context.Context, msg *audittypes.MsgSubmitTelemetry) (TxResult, error) {
	f.mu.Lock()
	f.sent = append(f.sent, msg)
	f.mu.Unlock()
	if f.submit == nil {
		return TxResult{Hash: "ABCD", Height: 42}, nil
	}
	return f.submit(ctx, msg)
}

func (f *fakeChain) sends() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

func epochAt(n uint64) func(context.Context) (uint64, error) {
	return func(context.Context) (uint64, error) { return n, nil }
}

// sampleReport is one epoch's report with a fallback GPU set and links to two peers.
func sampleReport() report.Epoch {
	mem := uint64(81920)
	return report.Epoch{
		NodeID:    "gpu-node-1",
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		GPUs: report.GPUSet{Source: report.SourceFallback, FallbackReason: "NVML disabled", Devices: []report.Device{
			{Index: 0, Model: "H100", MemoryTotalMiB: &mem}, {Index: 1, Model: "H100", MemoryTotalMiB: &mem},
		}},
		Links: report.LinkSet{Source: report.SourceProbe, Links: []report.Link{
			{Peer: "gpu-node-2", Source: report.SourceProbe, RTTMicros: 900, RTTSamples: 5, ThroughputKbps: 9_000_000},
			{Peer: "gpu-node-3", Source: report.SourceProbe, RTTMicros: 1200, RTTSamples: 5, ThroughputKbps: 8_000_000},
		}},
	}
}

func writeState(t *testing.T, path string, st submitState) {
	t.Helper()
	bz, err := json.Marshal(st)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, bz, 0o600))
}

func readState(t *testing.T, path string) submitState {
	t.Helper()
	bz, err := os.ReadFile(path)
	require.NoError(t, err)
	var st submitState
	require.NoError(t, json.Unmarshal(bz, &st))
	return st
}

var (
	errUnavailable = status.Error(codes.Unavailable, "connection refused")
	errNotAgent    = &chainclient.ChainError{Codespace: audittypes.ModuleName, Code: audittypes.ErrNotNodeAgent.ABCICode(), Log: "signer is not the node's agent"}
	errDuplicate   = &chainclient.ChainError{Codespace: audittypes.ModuleName, Code: audittypes.ErrDuplicateReport.ABCICode(), Log: "node already reported for this epoch"}
	errSequence    = &chainclient.ChainError{Codespace: "sdk", Code: 32, Log: "account sequence mismatch"}
	errClosed      = &chainclient.ChainError{Codespace: audittypes.ModuleName, Code: audittypes.ErrInvalidEpoch.ABCICode(), Log: "epoch 5 is closed"}
)

func TestSubmitterOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		state *submitState // the state file before the (re)start
		chain func(f *fakeChain)
		want  SubmitResult
		// what the chain saw and what the state holds afterwards
		sends, attempts int
		stateEpoch      uint64
		rejection       string // codespace/code counted as a rejection
	}{
		{name: "ok", chain: func(f *fakeChain) { f.currentEpoch = epochAt(5) }, want: SubmitOK, sends: 1, attempts: 1, stateEpoch: 5},
		{name: "duplicate after a restart: the report landed before the crash",
			state: &submitState{NodeID: "gpu-node-1", ChainID: "nro-test-1", Epoch: 4, Result: "ok"},
			chain: func(f *fakeChain) {
				f.currentEpoch = epochAt(5)
				f.hasReport = func(_ context.Context, _ string, e uint64) (bool, error) { return e == 5, nil }
			}, want: SubmitDuplicate, sends: 0, attempts: 1, stateEpoch: 5},
		{name: "duplicate refused by the chain: an earlier transaction was still in the mempool",
			chain: func(f *fakeChain) {
				f.currentEpoch = epochAt(5)
				f.submit = func(context.Context, *audittypes.MsgSubmitTelemetry) (TxResult, error) {
					return TxResult{}, errDuplicate
				}
			}, want: SubmitDuplicate, sends: 1, attempts: 1, stateEpoch: 5},
		{name: "restart within a submitted epoch sends nothing",
			state: &submitState{NodeID: "gpu-node-1", ChainID: "nro-test-1", Epoch: 5, Result: "ok"},
			chain: func(f *fakeChain) { f.currentEpoch = epochAt(5) }, want: SubmitSkipped, sends: 0, attempts: 1, stateEpoch: 5},
		{name: "the state of another chain is ignored",
			state: &submitState{NodeID: "gpu-node-1", ChainID: "other-chain", Epoch: 5, Result: "ok"},
			chain: func(f *fakeChain) { f.currentEpoch = epochAt(5) }, want: SubmitOK, sends: 1, attempts: 1, stateEpoch: 5},
		{name: "a chain whose epoch is below the state is a new chain",
			state: &submitState{NodeID: "gpu-node-1", ChainID: "nro-test-1", Epoch: 90, Result: "ok"},
			chain: func(f *fakeChain) { f.currentEpoch = epochAt(2) }, want: SubmitOK, sends: 1, attempts: 1, stateEpoch: 2},
		{name: "transient broadcast failure, then success",
			chain: func(f *fakeChain) {
				f.currentEpoch = epochAt(5)
				calls := 0
				f.submit = func(context.Context, *audittypes.MsgSubmitTelemetry) (TxResult, error) {
					calls++
					if calls == 1 {
						return TxResult{}, errUnavailable
					}
					return TxResult{Hash: "ABCD", Height: 43}, nil
				}
			}, want: SubmitOK, sends: 2, attempts: 2, stateEpoch: 5},
		{name: "chain unreachable for the epoch query, then success",
			chain: func(f *fakeChain) {
				calls := 0
				f.currentEpoch = func(context.Context) (uint64, error) {
					calls++
					if calls < 3 {
						return 0, errUnavailable
					}
					return 5, nil
				}
			}, want: SubmitOK, sends: 1, attempts: 3, stateEpoch: 5},
		{name: "sequence mismatch is retried",
			chain: func(f *fakeChain) {
				f.currentEpoch = epochAt(5)
				calls := 0
				f.submit = func(context.Context, *audittypes.MsgSubmitTelemetry) (TxResult, error) {
					calls++
					if calls == 1 {
						return TxResult{}, errSequence
					}
					return TxResult{Hash: "ABCD", Height: 43}, nil
				}
			}, want: SubmitOK, sends: 2, attempts: 2, stateEpoch: 5},
		{name: "an unseen inclusion is found by the lookup before resending",
			chain: func(f *fakeChain) {
				f.currentEpoch = epochAt(5)
				landed := false
				f.hasReport = func(context.Context, string, uint64) (bool, error) { return landed, nil }
				f.submit = func(context.Context, *audittypes.MsgSubmitTelemetry) (TxResult, error) {
					landed = true // broadcast, but the inclusion wait timed out
					return TxResult{}, context.DeadlineExceeded
				}
			}, want: SubmitDuplicate, sends: 1, attempts: 2, stateEpoch: 5},
		{name: "a report is not carried into the next epoch by its retries",
			chain: func(f *fakeChain) {
				calls := uint64(0)
				f.currentEpoch = func(context.Context) (uint64, error) { calls++; return 4 + calls, nil }
				f.submit = func(context.Context, *audittypes.MsgSubmitTelemetry) (TxResult, error) {
					return TxResult{}, errUnavailable
				}
			}, want: SubmitError, sends: 1, attempts: 2, stateEpoch: 0},
		{name: "permanent rejection: the key is not the node's agent",
			chain: func(f *fakeChain) {
				f.currentEpoch = epochAt(5)
				f.submit = func(context.Context, *audittypes.MsgSubmitTelemetry) (TxResult, error) {
					return TxResult{}, errNotAgent
				}
			}, want: SubmitRejected, sends: 1, attempts: 1, stateEpoch: 0, rejection: "audit/12"},
		{name: "a report too late for its epoch is rejected, not retried",
			chain: func(f *fakeChain) {
				f.currentEpoch = epochAt(5)
				f.submit = func(context.Context, *audittypes.MsgSubmitTelemetry) (TxResult, error) { return TxResult{}, errClosed }
			}, want: SubmitRejected, sends: 1, attempts: 1, stateEpoch: 0, rejection: "audit/10"},
		{name: "unreachable for every attempt",
			chain: func(f *fakeChain) {
				f.currentEpoch = epochAt(5)
				f.submit = func(context.Context, *audittypes.MsgSubmitTelemetry) (TxResult, error) {
					return TxResult{}, errUnavailable
				}
			}, want: SubmitError, sends: 4, attempts: 4, stateEpoch: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), StateFileName)
			if tc.state != nil {
				writeState(t, path, *tc.state)
			}
			f := &fakeChain{}
			tc.chain(f)
			reg := prometheus.NewRegistry()
			s, err := NewSubmitter(f, SubmitterConfig{NodeID: "gpu-node-1", ChainID: "nro-test-1", StatePath: path, Registerer: reg,
				MinBackoff: time.Second, MaxBackoff: 4 * time.Second, MaxAttempts: 4})
			require.NoError(t, err)
			var slept []time.Duration
			s.sleep = func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return ctx.Err() }

			sub := s.Submit(context.Background(), sampleReport())
			require.Equal(t, tc.want, sub.Result, "err: %v", sub.Err)
			require.Equal(t, tc.sends, f.sends())
			require.Equal(t, tc.attempts, sub.Attempts)
			require.Len(t, slept, tc.attempts-1)
			for i := 1; i < len(slept); i++ {
				require.Equal(t, min(2*slept[i-1], 4*time.Second), slept[i], "bounded exponential backoff")
			}
			require.Equal(t, tc.stateEpoch, s.LastEpoch())
			if tc.stateEpoch > 0 && tc.want != SubmitSkipped {
				st := readState(t, path)
				require.Equal(t, tc.stateEpoch, st.Epoch)
				require.Equal(t, "gpu-node-1", st.NodeID)
				require.Equal(t, "nro-test-1", st.ChainID)
				require.Equal(t, string(tc.want), st.Result)
			}
			if tc.want == SubmitRejected || tc.want == SubmitError {
				require.Error(t, sub.Err)
				if tc.state == nil {
					_, err := os.Stat(path)
					require.ErrorIs(t, err, os.ErrNotExist, "an epoch not done is not recorded")
				}
			}
			if tc.want != SubmitSkipped {
				require.InDelta(t, 1, metricValue(t, s.m.submissions.WithLabelValues(string(tc.want))), 0)
			} else {
				require.InDelta(t, 1, metricValue(t, s.m.skipped), 0)
			}
			if tc.rejection != "" {
				ch := make(chan prometheus.Metric, 8)
				s.m.rejections.Collect(ch)
				require.Len(t, ch, 1, "one codespace/code series")
				cs, code, _ := strings.Cut(tc.rejection, "/")
				require.InDelta(t, 1, metricValue(t, s.m.rejections.WithLabelValues(cs, code)), 0)
			}
			require.InDelta(t, float64(tc.attempts-1), metricValue(t, s.m.retries), 0)

			// Whatever happened, a second report in the same chain epoch is sent only if the epoch is not done.
			before := f.sends() + f.lookups
			again := s.Submit(context.Background(), sampleReport())
			if tc.stateEpoch == sub.Epoch && sub.Epoch > 0 {
				require.Equal(t, SubmitSkipped, again.Result)
				require.Equal(t, before, f.sends()+f.lookups, "never submitted twice for one epoch, not even looked up")
			} else {
				require.Greater(t, f.sends()+f.lookups, before, "an epoch not done is tried again with the next report")
				require.NotEqual(t, SubmitSkipped, again.Result)
			}
		})
	}
}

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	require.NoError(t, m.Write(&d))
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

func TestSubmitterSendsOnlyLeasedLinksWithTheAgentAndEpoch(t *testing.T) {
	f := &fakeChain{currentEpoch: epochAt(7), leasePeers: func(_ context.Context, node string) ([]string, error) {
		require.Equal(t, "gpu-node-1", node)
		return []string{"gpu-node-3", "gpu-node-9"}, nil
	}}
	s, err := NewSubmitter(f, SubmitterConfig{NodeID: "gpu-node-1", ChainID: "nro-test-1"})
	require.NoError(t, err)
	sub := s.Submit(context.Background(), sampleReport())
	require.Equal(t, SubmitOK, sub.Result)
	require.Equal(t, "ABCD", sub.TxHash)
	require.Equal(t, int64(42), sub.Height)
	require.Equal(t, 1, sub.Links)
	require.Len(t, f.sent, 1)
	msg := f.sent[0]
	require.Equal(t, fakeAgent, msg.Agent)
	require.Equal(t, "gpu-node-1", msg.NodeId)
	require.Equal(t, uint64(7), msg.Epoch)
	require.Len(t, msg.Gpus, 2)
	require.Equal(t, audittypes.SOURCE_FALLBACK, msg.Gpus[0].Source)
	require.Len(t, msg.Links, 1, "gpu-node-2 shares no active lease: the chain would refuse the whole report")
	require.Equal(t, "gpu-node-3", msg.Links[0].PeerNodeId)
	require.NoError(t, msg.ValidateBasic())
}

func TestSubmitterStopsRetryingAtTheDeadline(t *testing.T) {
	f := &fakeChain{currentEpoch: func(context.Context) (uint64, error) { return 0, errUnavailable }}
	s, err := NewSubmitter(f, SubmitterConfig{NodeID: "gpu-node-1", ChainID: "nro-test-1", MinBackoff: 10 * time.Millisecond, MaxAttempts: 1000})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	sub := s.Submit(ctx, sampleReport())
	require.Equal(t, SubmitError, sub.Result)
	require.ErrorIs(t, sub.Err, errUnavailable)
	require.Less(t, time.Since(start), 2*time.Second)
	require.Less(t, sub.Attempts, 1000)
	require.InDelta(t, 1, metricValue(t, s.m.submissions.WithLabelValues("error")), 0)
}

func TestSubmitterRefusesAStateItCannotRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), StateFileName)
	require.NoError(t, os.WriteFile(path, []byte("{half"), 0o600))
	_, err := NewSubmitter(&fakeChain{}, SubmitterConfig{NodeID: "gpu-node-1", ChainID: "nro-test-1", StatePath: path})
	require.ErrorContains(t, err, "delete it to start afresh")
}

func TestTransientRefusals(t *testing.T) {
	require.True(t, isTransientRefusal(errSequence))
	require.True(t, isTransientRefusal(fmt.Errorf("send: %w", &chainclient.ChainError{Codespace: "audit", Code: audittypes.ErrLinkNotLeased.ABCICode()})))
	require.False(t, isTransientRefusal(errNotAgent))
	require.False(t, isTransientRefusal(errClosed))
	require.False(t, isTransientRefusal(errUnavailable), "not a refusal: retried as unreachable")
}

// TestAgentSubmitsEveryChainEpochOnce runs the daemon with a fake chain whose epoch advances after each
// report that lands (up to epoch 4): each chain epoch gets one submission, later reports are skipped, and a
// restarted agent resumes with the epoch the first run did not reach.
func TestAgentSubmitsEveryChainEpochOnce(t *testing.T) {
	home := t.TempDir()
	var mu sync.Mutex
	epoch, lastEpoch := uint64(3), uint64(4)
	reported := map[uint64]int{}
	f := &fakeChain{
		currentEpoch: func(context.Context) (uint64, error) { mu.Lock(); defer mu.Unlock(); return epoch, nil },
		hasReport: func(_ context.Context, _ string, e uint64) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return reported[e] > 0, nil
		},
		submit: func(_ context.Context, msg *audittypes.MsgSubmitTelemetry) (TxResult, error) {
			mu.Lock()
			defer mu.Unlock()
			reported[msg.Epoch]++
			return TxResult{Hash: "H", Height: int64(msg.Epoch) * 10}, nil
		},
	}
	run := func(n int) []Submission {
		cfg := testConfig()
		cfg.EpochInterval = Duration(time.Second)
		cfg.Chain.Submit = true
		subs := make(chan Submission, 16)
		a, err := New(cfg, Options{Home: home, Chain: f, OnSubmit: func(s Submission) {
			subs <- s
			mu.Lock()
			if s.Result == SubmitOK && epoch < lastEpoch {
				epoch++ // the chain moves on after each report that landed
			}
			mu.Unlock()
		}})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		var got []Submission
		for len(got) < n {
			select {
			case s := <-subs:
				got = append(got, s)
			case <-time.After(20 * time.Second):
				t.Fatalf("only %d submissions within 20s", len(got))
			}
		}
		code, body := httpGet(t, "http://"+a.MetricsAddr().String()+"/metrics")
		require.Equal(t, 200, code)
		require.Contains(t, body, `nro_agent_telemetry_submissions_total{result="ok"}`)
		require.Contains(t, body, `nro_agent_telemetry_last_submitted_epoch`)
		cancel()
		require.NoError(t, <-done)
		return got
	}
	first := run(2)
	require.Equal(t, SubmitOK, first[0].Result)
	require.Equal(t, uint64(3), first[0].Epoch)
	require.Equal(t, SubmitOK, first[1].Result)
	require.Equal(t, uint64(4), first[1].Epoch)
	require.Equal(t, uint64(4), readState(t, filepath.Join(home, StateFileName)).Epoch)

	// A restart while the chain is still in epoch 5 (which the first run did not reach): it is submitted.
	mu.Lock()
	epoch, lastEpoch = 5, 5
	mu.Unlock()
	second := run(1)
	require.Equal(t, SubmitOK, second[0].Result)
	require.Equal(t, uint64(5), second[0].Epoch)
	mu.Lock()
	defer mu.Unlock()
	for e, n := range reported {
		require.Equal(t, 1, n, "epoch %d submitted %d times", e, n)
	}
}

// TestAgentProbesOnlyLeasePeers: with the chain, an epoch measures the configured peers that share an ACTIVE
// lease with the node (read from the chain each epoch), not the others; when the chain cannot be read, all.
func TestAgentProbesOnlyLeasePeers(t *testing.T) {
	serve := func() string {
		srv, err := probe.Listen("127.0.0.1:0", probe.ServerConfig{}, nil)
		require.NoError(t, err)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx) }()
		t.Cleanup(func() { stop(); require.NoError(t, <-done) })
		return srv.Addr().String()
	}
	addrB, addrC, addrD := serve(), serve(), serve()
	var mu sync.Mutex
	var mates []string
	var leaseErr error
	f := &fakeChain{leasePeers: func(context.Context, string) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		return mates, leaseErr
	}}
	cfg := testConfig("gpu-node-b@"+addrB, "gpu-node-c@"+addrC, addrD) // the last without a node id
	cfg.Chain.Submit = true
	epochs := make(chan report.Epoch, 16)
	a, err := New(cfg, Options{Home: t.TempDir(), Chain: f, OnEpoch: func(e report.Epoch) { epochs <- e }})
	require.NoError(t, err)
	defer func() { require.NoError(t, a.Close()) }()
	peersOf := func(e report.Epoch) []string {
		var out []string
		for _, l := range e.Links.Links {
			require.Empty(t, l.Error, l.Peer)
			out = append(out, l.Peer)
		}
		return out
	}
	ctx := context.Background()

	mu.Lock()
	mates = []string{"gpu-node-b", "gpu-node-z"} // z shares a lease but has no configured address
	mu.Unlock()
	a.runEpoch(ctx, 20*time.Second)
	require.Equal(t, []string{"gpu-node-b"}, peersOf(<-epochs))

	mu.Lock()
	mates = nil
	mu.Unlock()
	a.runEpoch(ctx, 20*time.Second)
	require.Empty(t, peersOf(<-epochs), "no leases: nothing the chain would take")

	mu.Lock()
	leaseErr = errors.New("rpc error: code = Unavailable")
	mu.Unlock()
	a.runEpoch(ctx, 20*time.Second)
	require.Equal(t, []string{addrD, "gpu-node-b", "gpu-node-c"}, peersOf(<-epochs), "the chain unreadable: every configured peer")
}
