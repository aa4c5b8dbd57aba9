package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/consensus-nro/nro/agent/report"
	"github.com/consensus-nro/nro/internal/atomicfile"
	"github.com/consensus-nro/nro/internal/chainclient"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

// StateFileName is the submitter's state file inside the agent's home.
const StateFileName = "telemetry-state.json"

// TelemetryChain is what the submitter needs from the chain. CosmosChain implements it over nrod's gRPC;
// tests use fakes.
type TelemetryChain interface {
	// Address is the account that signs the reports: the node's registered agent.
	Address() string
	// CurrentEpoch is x/audit's current telemetry epoch.
	CurrentEpoch(ctx context.Context) (uint64, error)
	// HasReport says whether the chain holds the node's report for epoch.
	HasReport(ctx context.Context, nodeID string, epoch uint64) (bool, error)
	// LeasePeers are the other nodes of the node's ACTIVE leases: the only peers the chain takes links to.
	LeasePeers(ctx context.Context, nodeID string) ([]string, error)
	// SubmitTelemetry signs, broadcasts and waits for msg. A refusal matches its registered error with
	// errors.Is (a *chainclient.ChainError does).
	SubmitTelemetry(ctx context.Context, msg *audittypes.MsgSubmitTelemetry) (TxResult, error)
}

// TxResult is where an accepted transaction landed.
type TxResult struct {
	Hash   string
	Height int64
}

// SubmitResult is how one epoch's submission ended.
type SubmitResult string

// Results of Submitter.Submit. Only ok and duplicate mark the chain epoch as done.
const (
	// SubmitOK: the report is on the chain, sent by this call.
	SubmitOK SubmitResult = "ok"
	// SubmitDuplicate: the chain already had the node's report for the epoch (sent before a restart, or by
	// an earlier attempt whose inclusion was not seen); nothing more to send.
	SubmitDuplicate SubmitResult = "duplicate"
	// SubmitRejected: the chain refused the report (not the node's agent, unknown node, node not reporting,
	// epoch closed, invalid entries, fees…). It is not retried within the epoch; the next report tries again.
	SubmitRejected SubmitResult = "rejected"
	// SubmitError: the chain could not be reached or did not include the transaction before the epoch's
	// time ran out. The next report tries again if the chain epoch is still open.
	SubmitError SubmitResult = "error"
	// SubmitSkipped: the chain epoch is already done (ok or duplicate) according to the state; nothing sent.
	SubmitSkipped SubmitResult = "skipped"
)

// Submission is the outcome of one Submit.
type Submission struct {
	Epoch    uint64 // the chain epoch submitted for (0 when the epoch could not be read)
	Result   SubmitResult
	TxHash   string // set for ok
	Height   int64  // set for ok
	Attempts int    // transactions and lookups tried, including the successful one
	Links    int    // links in the message (those to peers sharing an active lease)
	Err      error  // the last error, for rejected and error
}

// SubmitterConfig configures a Submitter.
type SubmitterConfig struct {
	NodeID string
	// ChainID scopes the state: a state written for another chain or node is ignored.
	ChainID string
	// StatePath is the file that keeps the last chain epoch done, written atomically after each ok or
	// duplicate; "" keeps it in memory only.
	StatePath string
	Logger    *slog.Logger
	// Registerer receives the submission metrics; nil registers them nowhere.
	Registerer prometheus.Registerer
	// MinBackoff and MaxBackoff bound the wait between attempts after a transient failure (doubling from
	// the minimum); MaxAttempts bounds the attempts per Submit. Zero values take 1s, 30s and 8.
	MinBackoff, MaxBackoff time.Duration
	MaxAttempts            int
}

// submitState is what survives a restart: the last chain epoch whose report is on the chain.
type submitState struct {
	NodeID  string    `json:"node_id"`
	ChainID string    `json:"chain_id"`
	Epoch   uint64    `json:"epoch"`
	Result  string    `json:"result"`
	TxHash  string    `json:"tx_hash,omitempty"`
	Height  int64     `json:"height,omitempty"`
	At      time.Time `json:"at"`
}

// Submitter signs each epoch's report into MsgSubmitTelemetry for the chain's current epoch and submits it,
// at most once per chain epoch: it remembers (and persists) the last epoch done, asks the chain whether it
// already holds the report before each send, and treats the chain's "already reported" as done. Transient
// failures are retried with bounded exponential backoff within the context's deadline. Submit calls are
// serialised.
type Submitter struct {
	chain TelemetryChain
	cfg   SubmitterConfig
	log   *slog.Logger
	m     *submitMetrics
	// sleep waits d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	state submitState
}

// NewSubmitter loads the state at cfg.StatePath (a missing file is a fresh start; an unreadable one is an
// error, since guessing could resubmit or skip an epoch).
func NewSubmitter(chain TelemetryChain, cfg SubmitterConfig) (*Submitter, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("submitter: node id is empty")
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Submitter{chain: chain, cfg: cfg, log: log.With("component", "submitter"), m: newSubmitMetrics(cfg.Registerer), sleep: sleepCtx}
	if err := s.load(); err != nil {
		return nil, err
	}
	if s.state.Epoch > 0 {
		s.m.lastEpoch.Set(float64(s.state.Epoch))
		s.log.Info("resuming telemetry submission", "last_epoch", s.state.Epoch, "last_result", s.state.Result, "state_file", cfg.StatePath)
	}
	return s, nil
}

func (s *Submitter) load() error {
	if s.cfg.StatePath == "" {
		return nil
	}
	bz, err := os.ReadFile(s.cfg.StatePath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("telemetry state %s: %w", s.cfg.StatePath, err)
	}
	var st submitState
	if err := json.Unmarshal(bz, &st); err != nil {
		return fmt.Errorf("telemetry state %s: %w; delete it to start afresh (the agent then asks the chain whether the current epoch is reported)", s.cfg.StatePath, err)
	}
	if st.NodeID != s.cfg.NodeID || st.ChainID != s.cfg.ChainID {
		s.log.Warn("ignoring telemetry state of another node or chain", "state_file", s.cfg.StatePath,
			"state_node_id", st.NodeID, "state_chain_id", st.ChainID, "chain_id", s.cfg.ChainID)
		return nil
	}
	s.state = st
	return nil
}

// LastEpoch is the last chain epoch whose report is known to be on the chain (0: none).
func (s *Submitter) LastEpoch() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Epoch
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Submit sends e for the chain's current epoch unless that epoch is already done. It returns when the
// submission has an outcome; ctx bounds the retries (the agent gives it one epoch interval).
func (s *Submitter) Submit(ctx context.Context, e report.Epoch) Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	backoff := s.cfg.MinBackoff
	var sub Submission
	for {
		sub.Attempts++
		transient := s.attempt(ctx, e, &sub)
		if !transient {
			break
		}
		if ctx.Err() != nil || sub.Attempts >= s.cfg.MaxAttempts {
			sub.Result = SubmitError
			break
		}
		s.m.retries.Inc()
		s.log.Warn("telemetry submission failed; retrying", "epoch", sub.Epoch, "attempt", sub.Attempts, "retry_in", backoff.String(), "error", sub.Err)
		if err := s.sleep(ctx, backoff); err != nil {
			sub.Result = SubmitError
			break
		}
		backoff = min(2*backoff, s.cfg.MaxBackoff)
	}
	if errors.Is(ctx.Err(), context.Canceled) && sub.Result == SubmitError {
		// Shutdown, not a failure: a transaction already broadcast is found on the chain after the restart.
		s.log.Info("telemetry submission interrupted by shutdown", "epoch", sub.Epoch, "attempts", sub.Attempts)
		return sub
	}
	s.record(sub)
	return sub
}

// attempt is one try; it reports whether a failure is transient (worth retrying within the epoch).
func (s *Submitter) attempt(ctx context.Context, e report.Epoch, sub *Submission) (transient bool) {
	cur, err := s.chain.CurrentEpoch(ctx)
	if err != nil {
		sub.Err = fmt.Errorf("read the chain's epoch: %w", err)
		return true
	}
	s.m.chainEpoch.Set(float64(cur))
	if sub.Epoch != 0 && cur != sub.Epoch {
		// A report is only ever sent for the epoch it was first meant for; the next report takes the new one.
		sub.Result = SubmitError
		sub.Err = fmt.Errorf("the chain moved to epoch %d while the report for epoch %d was retried (last failure: %w)", cur, sub.Epoch, sub.Err)
		return false
	}
	sub.Epoch = cur
	switch {
	case s.state.Epoch == cur:
		sub.Result, sub.Err = SubmitSkipped, nil
		return false
	case s.state.Epoch > cur:
		// Epochs never go back on one chain (an exported genesis carries them on): this is a new chain under
		// the same chain id. Forget the old chain's state rather than stay silent until it catches up.
		s.log.Warn("the chain's epoch is below the last epoch submitted: a new chain? starting afresh", "epoch", cur, "last_epoch", s.state.Epoch)
		s.state = submitState{}
	}
	// Re-read before sending, so that a restart or a retry after an unseen inclusion sends nothing twice.
	has, err := s.chain.HasReport(ctx, e.NodeID, cur)
	if err != nil {
		sub.Err = fmt.Errorf("look up the report for epoch %d: %w", cur, err)
		return true
	}
	if has {
		sub.Result, sub.Err = SubmitDuplicate, nil
		return false
	}
	peers, err := s.chain.LeasePeers(ctx, e.NodeID)
	if err != nil {
		sub.Err = fmt.Errorf("read the node's active leases: %w", err)
		return true
	}
	msg := e.Msg(s.chain.Address(), cur)
	msg.Links = leasedLinks(msg.Links, peers)
	sub.Links = len(msg.Links)
	res, err := s.chain.SubmitTelemetry(ctx, msg)
	switch {
	case err == nil:
		sub.Result, sub.TxHash, sub.Height, sub.Err = SubmitOK, res.Hash, res.Height, nil
		return false
	case errors.Is(err, audittypes.ErrDuplicateReport):
		sub.Result, sub.Err = SubmitDuplicate, nil
		return false
	}
	sub.Err = err
	var ce *chainclient.ChainError
	if !errors.As(err, &ce) {
		return true // unreachable, timed out, not included in time: the next attempt looks the report up first
	}
	if isTransientRefusal(err) {
		return true
	}
	sub.Result = SubmitRejected
	s.m.rejections.WithLabelValues(ce.Codespace, strconv.FormatUint(uint64(ce.Code), 10)).Inc()
	return false
}

// isTransientRefusal says whether a refusal may pass on a second try: a sequence the client reloads, a full
// mempool, a lease that ended between reading the peers and the block (the next attempt re-reads them).
func isTransientRefusal(err error) bool {
	return errors.Is(err, sdkerrors.ErrWrongSequence) || errors.Is(err, sdkerrors.ErrMempoolIsFull) ||
		errors.Is(err, sdkerrors.ErrTxInMempoolCache) || errors.Is(err, audittypes.ErrLinkNotLeased)
}

// leasedLinks keeps the links to peers that share an active lease with the node: the chain refuses a report
// with any other link, and a link to a peer without a lease attests nothing the chain uses.
func leasedLinks(links []audittypes.LinkMeasurement, peers []string) []audittypes.LinkMeasurement {
	ok := make(map[string]bool, len(peers))
	for _, p := range peers {
		ok[p] = true
	}
	var out []audittypes.LinkMeasurement
	for _, l := range links {
		if ok[l.PeerNodeId] {
			out = append(out, l)
		}
	}
	return out
}

// record updates the state, the metrics and the log with the outcome.
func (s *Submitter) record(sub Submission) {
	log := s.log.With("epoch", sub.Epoch, "result", string(sub.Result), "attempts", sub.Attempts)
	switch sub.Result {
	case SubmitSkipped:
		s.m.skipped.Inc()
		log.Debug("the chain epoch's report is already submitted")
		return
	case SubmitOK, SubmitDuplicate:
		s.m.submissions.WithLabelValues(string(sub.Result)).Inc()
		s.m.lastEpoch.Set(float64(sub.Epoch))
		s.m.lastTime.SetToCurrentTime()
		s.state = submitState{NodeID: s.cfg.NodeID, ChainID: s.cfg.ChainID, Epoch: sub.Epoch, Result: string(sub.Result),
			TxHash: sub.TxHash, Height: sub.Height, At: time.Now().UTC()}
		if err := s.save(); err != nil {
			// The epoch stays done in memory; after a restart the chain lookup finds the report.
			log.Error("could not write the telemetry state", "state_file", s.cfg.StatePath, "error", err)
		}
		if sub.Result == SubmitOK {
			log.Info("telemetry submitted", "tx_hash", sub.TxHash, "height", sub.Height, "links", sub.Links)
		} else {
			log.Info("telemetry for this epoch is already on the chain")
		}
	case SubmitRejected:
		s.m.submissions.WithLabelValues(string(sub.Result)).Inc()
		log.Error("the chain refused the telemetry report; the next report tries again", "error", sub.Err)
	default:
		s.m.submissions.WithLabelValues(string(SubmitError)).Inc()
		log.Error("telemetry not submitted: the chain did not answer in time; the next report tries again", "error", sub.Err)
	}
}

func (s *Submitter) save() error {
	if s.cfg.StatePath == "" {
		return nil
	}
	bz, err := json.MarshalIndent(s.state, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.cfg.StatePath, append(bz, '\n'), 0o600)
}

// submitMetrics are the submitter's Prometheus metrics.
type submitMetrics struct {
	submissions *prometheus.CounterVec
	rejections  *prometheus.CounterVec
	skipped     prometheus.Counter
	retries     prometheus.Counter
	lastEpoch   prometheus.Gauge
	lastTime    prometheus.Gauge
	chainEpoch  prometheus.Gauge
}

func newSubmitMetrics(reg prometheus.Registerer) *submitMetrics {
	m := &submitMetrics{
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "telemetry_submissions_total",
			Help: "Telemetry submissions by outcome: ok (on chain), duplicate (the chain already had it), rejected (refused), error (chain unreachable or too slow within the epoch)."},
			[]string{"result"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "telemetry_rejections_total",
			Help: "Telemetry reports the chain refused, by ABCI codespace and code (x/audit/types/errors.go; e.g. audit 12: the key is not the node's agent)."},
			[]string{"codespace", "code"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "telemetry_submissions_skipped_total",
			Help: "Epoch reports not sent because the chain's current epoch already has this node's report."}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "telemetry_submit_retries_total",
			Help: "Submission attempts repeated after a transient failure."}),
		lastEpoch: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "telemetry_last_submitted_epoch",
			Help: "The last chain epoch whose report is on the chain (ok or duplicate)."}),
		lastTime: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "telemetry_last_submitted_timestamp_seconds",
			Help: "When the last report was found on the chain (Unix time)."}),
		chainEpoch: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "chain_epoch",
			Help: "x/audit's current telemetry epoch, as last read."}),
	}
	for _, r := range []SubmitResult{SubmitOK, SubmitDuplicate, SubmitRejected, SubmitError} {
		m.submissions.WithLabelValues(string(r))
	}
	if reg != nil {
		reg.MustRegister(m.submissions, m.rejections, m.skipped, m.retries, m.lastEpoch, m.lastTime, m.chainEpoch)
	}
	return m
}
