//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/testutil/localnet"
)

// The JSON that `nrod q … -o json` prints for x/lease, x/allocation and x/audit. Proto JSON writes 64-bit
// integers and math.Int as strings and 32-bit integers as numbers, and leaves out zero values.
type (
	leaseCoinJSON struct{ Denom, Amount string }

	leaseNodeJSON struct {
		NodeID          string        `json:"node_id"`
		Operator        string        `json:"operator"`
		Region          string        `json:"region"`
		Gpus            uint32        `json:"gpus"`
		GpuModel        string        `json:"gpu_model"`
		PricePerGpuHour leaseCoinJSON `json:"price_per_gpu_hour"`
		Paid            string        `json:"paid"`
	}

	leaseJSON struct {
		ID        string `json:"id"`
		Submitter string `json:"submitter"`
		Spec      struct {
			TotalGpus      uint32   `json:"total_gpus"`
			GpuModel       string   `json:"gpu_model"`
			Regions        []string `json:"regions"`
			MaxRttMs       uint32   `json:"max_rtt_ms"`
			DurationBlocks string   `json:"duration_blocks"`
		} `json:"spec"`
		Deposit         leaseCoinJSON   `json:"deposit"`
		State           string          `json:"state"`
		CloseReason     string          `json:"close_reason"`
		Nodes           []leaseNodeJSON `json:"nodes"`
		RingOrder       []string        `json:"ring_order"`
		DecisionID      string          `json:"decision_id"`
		TakeBps         uint32          `json:"take_bps"`
		BlocksPerHour   string          `json:"blocks_per_hour"`
		CreatedHeight   string          `json:"created_height"`
		ActivatedHeight string          `json:"activated_height"`
		EndHeight       string          `json:"end_height"`
		DeadlineHeight  string          `json:"deadline_height"`
		SettledHeight   string          `json:"settled_height"`
		ClosedHeight    string          `json:"closed_height"`
		Paid            leaseCoinJSON   `json:"paid"`
		Fees            leaseCoinJSON   `json:"fees"`
		Refunded        leaseCoinJSON   `json:"refunded"`
	}

	leaseResJSON struct {
		Lease         leaseJSON     `json:"lease"`
		EscrowBalance leaseCoinJSON `json:"escrow_balance"`
		Accrued       leaseCoinJSON `json:"accrued"`
	}

	allocNodeJSON struct {
		ID       string `json:"id"`
		Operator string `json:"operator"`
		Agent    string `json:"agent"`
		Status   string `json:"status"`
		Gpus     []struct {
			Model    string `json:"model"`
			Count    uint32 `json:"count"`
			Reserved uint32 `json:"reserved"`
		} `json:"gpus"`
		ReservedGpus uint32 `json:"reserved_gpus"`
	}

	proposalJSON struct {
		ID        string `json:"id"`
		LeaseID   string `json:"lease_id"`
		Proposer  string `json:"proposer"`
		Placement []struct {
			NodeID string `json:"node_id"`
			Gpus   uint32 `json:"gpus"`
		} `json:"placement"`
		RingOrder []string `json:"ring_order"`
		Height    string   `json:"height"`
		Total     string   `json:"total"`
	}

	decisionJSON struct {
		ID         string `json:"id"`
		LeaseID    string `json:"lease_id"`
		Height     string `json:"height"`
		Candidates []struct {
			Source     string   `json:"source"`
			ProposalID string   `json:"proposal_id"`
			Proposer   string   `json:"proposer"`
			RingOrder  []string `json:"ring_order"`
			Rejected   string   `json:"rejected"`
			Score      struct {
				Total string `json:"total"`
			} `json:"score"`
		} `json:"candidates"`
		Winner  uint32   `json:"winner"`
		NodeIDs []string `json:"node_ids"`
	}

	settlementRecordJSON struct {
		ID       string        `json:"id"`
		LeaseID  string        `json:"lease_id"`
		NodeID   string        `json:"node_id"`
		Operator string        `json:"operator"`
		Amount   leaseCoinJSON `json:"amount"`
		Fee      leaseCoinJSON `json:"fee"`
		Height   string        `json:"height"`
	}
)

// startLeaseNode starts a localnet with 1 s blocks (the localnet default): the 5-block proposal window then
// leaves several seconds for a proposal sent right after the lease's creation, and x/lease's blocks_per_hour
// is 3600.
func startLeaseNode(t *testing.T, ctx context.Context) *localnet.Node {
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
	cfg := localnet.DefaultConfig(binary, t.TempDir())
	cfg.Ports = ports
	cfg.BlockTime = time.Second
	logf, err := os.OpenFile(filepath.Join(t.TempDir(), "nrod.log"), os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { _ = logf.Close() })
	cfg.Log = logf
	n, err := localnet.Init(ctx, cfg)
	require.NoError(t, err)
	require.NoError(t, n.Start(ctx), "log: %s", logf.Name())
	t.Logf("nrod log: %s", logf.Name())
	return n
}

// toInt parses a decimal amount; proto JSON leaves zero values out, so "" is 0.
func toInt(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err, "not an integer: %q", s)
	return v
}

func queryLease(t *testing.T, ctx context.Context, n *localnet.Node, id string) leaseResJSON {
	t.Helper()
	var res leaseResJSON
	require.NoError(t, n.Query(ctx, &res, "lease", "lease", id))
	return res
}

func queryAllocNode(t *testing.T, ctx context.Context, n *localnet.Node, id string) allocNodeJSON {
	t.Helper()
	var res struct{ Node allocNodeJSON }
	require.NoError(t, n.Query(ctx, &res, "allocation", "node", id))
	return res.Node
}

func queryProposals(t *testing.T, ctx context.Context, n *localnet.Node, leaseID string, extra ...string) []proposalJSON {
	t.Helper()
	var res struct{ Proposals []proposalJSON }
	require.NoError(t, n.Query(ctx, &res, append([]string{"allocation", "proposals", leaseID}, extra...)...))
	return res.Proposals
}

// bankUnro is the unro balance from `nrod q bank balances ADDR -o json` (extra: e.g. --height H).
func bankUnro(t *testing.T, ctx context.Context, n *localnet.Node, addr string, extra ...string) int64 {
	t.Helper()
	var res struct{ Balances []leaseCoinJSON }
	require.NoError(t, n.Query(ctx, &res, append([]string{"bank", "balances", addr}, extra...)...))
	for _, c := range res.Balances {
		if c.Denom == "unro" {
			return toInt(t, c.Amount)
		}
	}
	return 0
}

func moduleAddress(t *testing.T, ctx context.Context, n *localnet.Node, name string) string {
	t.Helper()
	var res struct {
		Account struct {
			Value struct {
				Address string `json:"address"`
				Name    string `json:"name"`
			} `json:"value"`
		} `json:"account"`
	}
	require.NoError(t, n.Query(ctx, &res, "auth", "module-account", name))
	require.Equal(t, name, res.Account.Value.Name)
	require.True(t, strings.HasPrefix(res.Account.Value.Address, "nro1"), res.Account.Value.Address)
	return res.Account.Value.Address
}

// txFee is the unro fee a delivered tx paid (0 on the localnet, whose validator takes 0unro gas prices; read
// from the tx rather than assumed).
func txFee(t *testing.T, ctx context.Context, n *localnet.Node, hash string) int64 {
	t.Helper()
	var res struct {
		Tx struct {
			AuthInfo struct {
				Fee struct {
					Amount []leaseCoinJSON `json:"amount"`
				} `json:"fee"`
			} `json:"auth_info"`
		} `json:"tx"`
	}
	require.NoError(t, n.Query(ctx, &res, "tx", hash))
	var fee int64
	for _, c := range res.Tx.AuthInfo.Fee.Amount {
		require.Equal(t, "unro", c.Denom, "fee in an unexpected denom")
		fee += toInt(t, c.Amount)
	}
	return fee
}

// eventTypes counts the events of a delivered tx by type.
func eventTypes(t *testing.T, res localnet.TxResult) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, raw := range res.Events {
		var ev struct{ Type string }
		require.NoError(t, json.Unmarshal(raw, &ev))
		out[ev.Type]++
	}
	return out
}

// mustRefuse runs a tx that must be refused (at simulation, CheckTx or delivery) with an error containing
// every one of wants, and returns the error text.
func mustRefuse(t *testing.T, ctx context.Context, n *localnet.Node, from string, wants []string, args ...string) string {
	t.Helper()
	res, err := n.Tx(ctx, from, args...)
	msg := res.Log
	if err != nil {
		msg = err.Error()
	} else {
		require.NotZero(t, res.Code, "tx %v from %s must be refused", args, from)
	}
	for _, w := range wants {
		require.Contains(t, msg, w)
	}
	return msg
}

// TestLeaseLifecycleThroughCLI drives a lease through the CLI as a submitter and two providers would: two
// nodes registered, a lease created, a proposal by a node's agent, activation in EndBlock with an audit
// decision that verifies off-chain, refused requests, and the submitter's close, with every unro of the
// escrow accounted for.
func TestLeaseLifecycleThroughCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	n := startLeaseNode(t, ctx)
	defer func() { _ = n.Stop() }()

	addr := func(key string) string {
		a, err := n.Address(ctx, key)
		require.NoError(t, err)
		return a
	}
	p1, p2, stranger, submitter := addr("provider-1"), addr("provider-2"), addr("provider-3"), addr("submitter")
	feeCollector := moduleAddress(t, ctx, n, "fee_collector")
	escrow := moduleAddress(t, ctx, n, "lease")
	require.Zero(t, bankUnro(t, ctx, n, escrow), "escrow empty before any lease")

	// ---- 1. Two nodes of different providers, staked at the minimum.
	var ap struct {
		Params struct {
			MinStakePerGpu       leaseCoinJSON `json:"min_stake_per_gpu"`
			ProposalWindowBlocks string        `json:"proposal_window_blocks"`
		}
	}
	require.NoError(t, n.Query(ctx, &ap, "allocation", "params"))
	require.Equal(t, "unro", ap.Params.MinStakePerGpu.Denom)
	stake := 8 * toInt(t, ap.Params.MinStakePerGpu.Amount)
	window := toInt(t, ap.Params.ProposalWindowBlocks)
	require.Positive(t, window)

	type offer struct{ key, addr, id, region, price string }
	offers := []offer{
		{"provider-1", p1, "gpu-a", "aws:us-east-1", "2500000"},
		{"provider-2", p2, "gpu-b", "aws:us-east-2", "2900000"},
	}
	prices := map[string]int64{}
	for _, o := range offers {
		before := bankUnro(t, ctx, n, o.addr)
		res := mustTx(t, ctx, n, o.key, "allocation", "register-node", o.id,
			"--region", o.region, "--gpus", "8xH100:81920", "--bandwidth-mbps", "25000",
			"--price", o.price+"unro", "--stake", fmt.Sprintf("%dunro", stake))
		require.Equal(t, 1, eventTypes(t, res)["nro.allocation.v1.EventNodeRegistered"])
		got := queryAllocNode(t, ctx, n, o.id)
		require.Equal(t, o.addr, got.Operator)
		require.Equal(t, o.addr, got.Agent, "the agent defaults to the operator")
		require.Equal(t, "NODE_STATUS_ACTIVE", got.Status)
		require.Zero(t, got.ReservedGpus)
		require.Equal(t, before-stake-txFee(t, ctx, n, res.Hash), bankUnro(t, ctx, n, o.addr), "stake escrowed")
		prices[o.id] = toInt(t, o.price)
	}

	// ---- 2. The submitter creates a lease of 16 H100 over the two regions.
	var lp struct {
		Params struct {
			TakeBps          uint32 `json:"take_bps"`
			BlocksPerHour    string `json:"blocks_per_hour"`
			MaxPendingBlocks string `json:"max_pending_blocks"`
		}
	}
	require.NoError(t, n.Query(ctx, &lp, "lease", "params"))
	require.Equal(t, int64(time.Hour/time.Second), toInt(t, lp.Params.BlocksPerHour), "localnet sets blocks_per_hour from its 1 s blocks")

	const deposit = int64(50_000_000_000)
	subBefore := bankUnro(t, ctx, n, submitter)
	create := mustTx(t, ctx, n, "submitter", "lease", "create", "--gpus", "16", "--gpu-model", "H100",
		"--regions", "aws:us-east-2,aws:us-east-1", "--max-rtt-ms", "40", "--duration-blocks", "600",
		"--max-price", "3000000unro", "--deposit", fmt.Sprintf("%dunro", deposit))
	// `q lease lease 1` right away (the window is only a few blocks long): PENDING, the spec as given
	// (regions sorted client-side), the whole deposit in escrow.
	pending := queryLease(t, ctx, n, "1")
	// Propose at once, then check the rest.
	propose, err := n.Tx(ctx, "provider-1", "allocation", "propose", "1", "--placement", "gpu-a:8,gpu-b:8", "--ring", "gpu-b,gpu-a")
	require.NoError(t, err)

	require.Equal(t, 1, eventTypes(t, create)["nro.lease.v1.EventLeaseCreated"])
	require.Equal(t, subBefore-deposit-txFee(t, ctx, n, create.Hash), bankUnro(t, ctx, n, submitter), "deposit left the submitter")
	var mine struct{ Leases []leaseJSON }
	require.NoError(t, n.Query(ctx, &mine, "lease", "leases", "--submitter", submitter))
	require.Len(t, mine.Leases, 1)
	require.Equal(t, "1", mine.Leases[0].ID)

	l := pending.Lease
	require.Equal(t, "LEASE_STATE_PENDING", l.State)
	require.Equal(t, "1", l.ID)
	require.Equal(t, submitter, l.Submitter)
	require.Equal(t, create.Height, toInt(t, l.CreatedHeight))
	require.Empty(t, l.Nodes)
	require.Equal(t, create.Height+toInt(t, lp.Params.MaxPendingBlocks), toInt(t, l.DeadlineHeight), "expires after max_pending_blocks")
	require.Equal(t, uint32(16), l.Spec.TotalGpus)
	require.Equal(t, "H100", l.Spec.GpuModel)
	require.Equal(t, []string{"aws:us-east-1", "aws:us-east-2"}, l.Spec.Regions, "regions sorted client-side")
	require.Equal(t, uint32(40), l.Spec.MaxRttMs)
	require.Equal(t, "600", l.Spec.DurationBlocks)
	require.Equal(t, leaseCoinJSON{"unro", strconv.FormatInt(deposit, 10)}, l.Deposit)
	require.Equal(t, strconv.FormatInt(deposit, 10), pending.EscrowBalance.Amount)
	require.Equal(t, deposit, bankUnro(t, ctx, n, escrow), "the deposit is in the lease module account")
	require.Equal(t, lp.Params.TakeBps, l.TakeBps, "take_bps locked at creation")
	require.Equal(t, lp.Params.BlocksPerHour, l.BlocksPerHour, "blocks_per_hour locked at creation")

	// The two regions are close enough for the lease's 40 ms bound.
	var link struct {
		Link struct {
			RegionA string `json:"region_a"`
			RegionB string `json:"region_b"`
			RttUs   string `json:"rtt_us"`
		}
	}
	require.NoError(t, n.Query(ctx, &link, "allocation", "region-link", "aws:us-east-1", "aws:us-east-2"))
	rttUs := toInt(t, link.Link.RttUs)
	require.Positive(t, rttUs)
	require.Less(t, rttUs, int64(40_000), "us-east-1 ↔ us-east-2 RTT in µs")
	t.Logf("aws:us-east-1 ↔ aws:us-east-2 RTT %d µs", rttUs)

	// ---- 3. provider-1, the agent of gpu-a, proposed gpu-a:8, gpu-b:8 with the ring gpu-b → gpu-a.
	require.Zero(t, propose.Code, "propose failed: %s", propose.Log)
	require.Equal(t, 1, eventTypes(t, propose)["nro.allocation.v1.EventAllocationProposed"])
	t.Logf("lease created at height %d, proposal included at %d (window closes at %d)", create.Height, propose.Height, create.Height+window)
	require.LessOrEqual(t, propose.Height, create.Height+window, "proposal inside the window")
	// Proposals are dropped once the lease is decided (at the window's last block): read them as of the
	// proposal's block, which must therefore come before the last one.
	require.Less(t, propose.Height, create.Height+window,
		"the proposal landed in the window's last block, so its listing cannot be checked (slow machine?)")
	props := queryProposals(t, ctx, n, "1", "--height", strconv.FormatInt(propose.Height, 10))
	require.Len(t, props, 1)
	prop := props[0]
	require.Equal(t, "1", prop.LeaseID)
	require.Equal(t, p1, prop.Proposer)
	require.Len(t, prop.Placement, 2)
	require.Equal(t, "gpu-a", prop.Placement[0].NodeID)
	require.Equal(t, uint32(8), prop.Placement[0].Gpus)
	require.Equal(t, "gpu-b", prop.Placement[1].NodeID)
	require.Equal(t, uint32(8), prop.Placement[1].Gpus)
	require.Equal(t, []string{"gpu-b", "gpu-a"}, prop.RingOrder)
	require.Equal(t, propose.Height, toInt(t, prop.Height))
	require.Positive(t, toInt(t, prop.Total))

	// ---- 4. The window closes; EndBlock places the lease.
	var active leaseResJSON
	deadline := time.Now().Add(60 * time.Second)
	for {
		active = queryLease(t, ctx, n, "1")
		if active.Lease.State != "LEASE_STATE_PENDING" {
			break
		}
		require.True(t, time.Now().Before(deadline), "lease 1 still PENDING after 60 s (created at %d, window %d)", create.Height, window)
		time.Sleep(300 * time.Millisecond)
	}
	l = active.Lease
	require.Equal(t, "LEASE_STATE_ACTIVE", l.State)
	activated := toInt(t, l.ActivatedHeight)
	require.Equal(t, create.Height+window, activated, "decided in the EndBlock where the window closes")
	require.Equal(t, activated+600, toInt(t, l.EndHeight))
	require.Equal(t, activated+600, toInt(t, l.DeadlineHeight), "the deposit covers the whole duration")
	require.Len(t, l.Nodes, 2)
	for i, want := range []struct{ id, operator, region string }{
		{"gpu-a", p1, "aws:us-east-1"}, {"gpu-b", p2, "aws:us-east-2"},
	} {
		got := l.Nodes[i]
		require.Equal(t, want.id, got.NodeID)
		require.Equal(t, want.operator, got.Operator)
		require.Equal(t, want.region, got.Region)
		require.Equal(t, uint32(8), got.Gpus)
		require.Equal(t, "H100", got.GpuModel)
		require.Equal(t, leaseCoinJSON{"unro", strconv.FormatInt(prices[want.id], 10)}, got.PricePerGpuHour, "price locked at activation")
		require.Zero(t, toInt(t, got.Paid))
	}
	require.Equal(t, []string{"gpu-b", "gpu-a"}, l.RingOrder, "the proposal's ring")
	require.NotEmpty(t, l.DecisionID)
	require.Empty(t, queryProposals(t, ctx, n, "1"), "proposals dropped once decided")
	for _, id := range []string{"gpu-a", "gpu-b"} {
		nd := queryAllocNode(t, ctx, n, id)
		require.Equal(t, uint32(8), nd.ReservedGpus, "%s reserved", id)
		require.Len(t, nd.Gpus, 1)
		require.Equal(t, uint32(8), nd.Gpus[0].Reserved)
	}

	// The audit record: the proposal won over the fallback.
	var dec struct{ Decision decisionJSON }
	require.NoError(t, n.Query(ctx, &dec, "audit", "decision", l.DecisionID))
	d := dec.Decision
	require.Equal(t, l.DecisionID, d.ID)
	require.Equal(t, "1", d.LeaseID)
	require.Equal(t, activated, toInt(t, d.Height))
	require.GreaterOrEqual(t, len(d.Candidates), 2, "the proposal and the fallback")
	sources := map[string]int{}
	for _, c := range d.Candidates {
		sources[c.Source]++
	}
	require.Equal(t, 1, sources["CANDIDATE_SOURCE_PROPOSAL"])
	require.Equal(t, 1, sources["CANDIDATE_SOURCE_FALLBACK"])
	require.Less(t, int(d.Winner), len(d.Candidates))
	win := d.Candidates[d.Winner]
	require.Equal(t, "CANDIDATE_SOURCE_PROPOSAL", win.Source)
	require.Equal(t, prop.ID, win.ProposalID)
	require.Equal(t, p1, win.Proposer)
	require.Empty(t, win.Rejected)
	require.Equal(t, []string{"gpu-b", "gpu-a"}, win.RingOrder)
	require.Equal(t, prop.Total, win.Score.Total, "the proposal scored the same at submission and at decision")
	require.Equal(t, []string{"gpu-a", "gpu-b"}, d.NodeIDs)
	for _, c := range d.Candidates {
		if c.Source == "CANDIDATE_SOURCE_FALLBACK" && c.Rejected == "" {
			require.GreaterOrEqual(t, toInt(t, c.Score.Total), toInt(t, win.Score.Total), "the winner costs no more than the fallback")
		}
	}
	var decs struct{ Decisions []decisionJSON }
	require.NoError(t, n.Query(ctx, &decs, "audit", "decisions", "--lease-id", "1"))
	require.Len(t, decs.Decisions, 1)
	require.Equal(t, l.DecisionID, decs.Decisions[0].ID)

	// Off-chain verification, text and JSON.
	out, err := n.Run(ctx, "audit", "verify-decision", l.DecisionID, "--node", n.NodeURL())
	require.NoError(t, err, "verify-decision exits 0")
	require.Contains(t, string(out), "MATCH: the recorded scores and winner were reproduced")
	require.NotContains(t, string(out), "MISMATCH")
	out, err = n.Run(ctx, "audit", "verify-decision", l.DecisionID, "--node", n.NodeURL(), "-o", "json")
	require.NoError(t, err)
	var report struct {
		DecisionID  uint64 `json:"decision_id"`
		LeaseID     uint64 `json:"lease_id"`
		Match       bool   `json:"match"`
		WinnerMatch bool   `json:"winner_match"`
		Candidates  []struct {
			Match bool `json:"match"`
		} `json:"candidates"`
		Problems []string `json:"problems"`
	}
	require.NoError(t, json.Unmarshal(out, &report), "%s", out)
	require.True(t, report.Match, "%s", out)
	require.True(t, report.WinnerMatch)
	require.Equal(t, uint64(1), report.LeaseID)
	require.Equal(t, strconv.FormatUint(report.DecisionID, 10), l.DecisionID)
	require.Len(t, report.Candidates, len(d.Candidates))
	for _, c := range report.Candidates {
		require.True(t, c.Match)
	}
	require.Empty(t, report.Problems)

	// ---- 5. Bad requests are refused and change nothing.
	strangerBefore := bankUnro(t, ctx, n, stranger)
	p1Before := bankUnro(t, ctx, n, p1)
	leaseBefore := queryLease(t, ctx, n, "1")
	msg := mustRefuse(t, ctx, n, "provider-3", []string{submitter, "only its submitter may close it", stranger},
		"lease", "close", "1")
	t.Logf("stranger's close refused: %s", msg)
	msg = mustRefuse(t, ctx, n, "provider-1", []string{"lease 1", "PENDING"},
		"allocation", "propose", "1", "--placement", "gpu-a:8,gpu-b:8")
	t.Logf("proposal for the active lease refused: %s", msg)

	// A lease that cannot be placed (every H100 is taken) stays PENDING past its window: a proposal for it
	// is refused because the window closed; its creator then cancels it with a full refund.
	other := mustTx(t, ctx, n, "provider-3", "lease", "create", "--gpus", "8", "--gpu-model", "H100",
		"--regions", "aws:us-east-1", "--duration-blocks", "600", "--max-price", "3000000unro",
		"--deposit", "5000000000unro")
	var strangers struct{ Leases []leaseJSON }
	require.NoError(t, n.Query(ctx, &strangers, "lease", "leases", "--submitter", stranger))
	require.Len(t, strangers.Leases, 1)
	otherID := strangers.Leases[0].ID
	_, err = n.WaitForHeight(ctx, other.Height+window+1, time.Minute)
	require.NoError(t, err)
	require.Equal(t, "LEASE_STATE_PENDING", queryLease(t, ctx, n, otherID).Lease.State, "no capacity: not placed")
	msg = mustRefuse(t, ctx, n, "provider-1", []string{"proposal window", "closed at height " + strconv.FormatInt(other.Height+window, 10)},
		"allocation", "propose", otherID, "--placement", "gpu-a:8")
	t.Logf("late proposal refused: %s", msg)
	require.Empty(t, queryProposals(t, ctx, n, otherID))
	cancelTx := mustTx(t, ctx, n, "provider-3", "lease", "cancel", otherID)
	cancelled := queryLease(t, ctx, n, otherID).Lease
	require.Equal(t, "LEASE_STATE_CANCELLED", cancelled.State)
	require.Equal(t, "CLOSE_REASON_CANCELLED", cancelled.CloseReason)
	require.Equal(t, "5000000000", cancelled.Refunded.Amount)
	require.Equal(t, strangerBefore-txFee(t, ctx, n, other.Hash)-txFee(t, ctx, n, cancelTx.Hash), bankUnro(t, ctx, n, stranger),
		"the stranger lost nothing but tx fees: refused txs cost nothing, the cancel refunded everything")

	leaseAfter := queryLease(t, ctx, n, "1")
	require.Equal(t, leaseBefore.Lease, leaseAfter.Lease, "refused requests left lease 1 unchanged")
	require.Equal(t, leaseBefore.EscrowBalance, leaseAfter.EscrowBalance)
	require.Equal(t, p1Before, bankUnro(t, ctx, n, p1), "refused proposals cost provider-1 nothing")
	require.Equal(t, uint32(8), queryAllocNode(t, ctx, n, "gpu-a").ReservedGpus)

	// ---- 6. Run a few blocks, then the submitter closes; every unro is accounted for.
	escrowBefore := bankUnro(t, ctx, n, escrow)
	require.Equal(t, deposit, escrowBefore, "escrow holds lease 1's whole deposit (payment is lazy: nothing settled yet)")
	require.Equal(t, strconv.FormatInt(deposit, 10), leaseAfter.EscrowBalance.Amount)
	subBefore = bankUnro(t, ctx, n, submitter)
	p1Before = bankUnro(t, ctx, n, p1)
	p2Before := bankUnro(t, ctx, n, p2)
	fcBefore := bankUnro(t, ctx, n, feeCollector)
	h, err := n.Height(ctx)
	require.NoError(t, err)
	_, err = n.WaitForHeight(ctx, h+8, time.Minute)
	require.NoError(t, err)
	// Nothing moved while the lease ran: providers are paid when the lease is touched.
	require.Equal(t, p1Before, bankUnro(t, ctx, n, p1))
	require.Equal(t, escrowBefore, bankUnro(t, ctx, n, escrow))
	require.Positive(t, toInt(t, queryLease(t, ctx, n, "1").Accrued.Amount), "accrued grows while the lease runs")

	closeTx := mustTx(t, ctx, n, "submitter", "lease", "close", "1")
	evs := eventTypes(t, closeTx)
	require.Equal(t, 1, evs["nro.lease.v1.EventLeaseClosed"])
	require.Equal(t, 1, evs["nro.lease.v1.EventLeaseSettled"])
	require.Equal(t, 2, evs["nro.lease.v1.EventSettlementRecorded"])
	require.Equal(t, 1, evs["nro.allocation.v1.EventCapacityReleased"])
	closeFee := txFee(t, ctx, n, closeTx.Hash)

	closed := queryLease(t, ctx, n, "1")
	l = closed.Lease
	require.Equal(t, "LEASE_STATE_CLOSED", l.State)
	require.Equal(t, "CLOSE_REASON_SUBMITTER_CLOSED", l.CloseReason)
	closedH := toInt(t, l.ClosedHeight)
	require.Equal(t, closeTx.Height, closedH)
	require.Equal(t, closedH, toInt(t, l.SettledHeight))
	elapsed := closedH - activated
	require.GreaterOrEqual(t, elapsed, int64(8))
	bph := toInt(t, l.BlocksPerHour)
	take := int64(l.TakeBps)
	var wantPaid, wantFees int64
	wantNet := map[string]int64{}
	wantFee := map[string]int64{}
	require.Len(t, l.Nodes, 2)
	for _, nd := range l.Nodes {
		owed := int64(nd.Gpus) * prices[nd.NodeID] * elapsed / bph // floor: all positive
		fee := owed * take / 10000
		require.Equal(t, owed, toInt(t, nd.Paid), "%s paid for %d blocks", nd.NodeID, elapsed)
		wantPaid += owed
		wantFees += fee
		wantNet[nd.NodeID] = owed - fee
		wantFee[nd.NodeID] = fee
	}
	require.Equal(t, strconv.FormatInt(wantPaid, 10), l.Paid.Amount)
	require.Equal(t, strconv.FormatInt(wantFees, 10), l.Fees.Amount)
	refund := deposit - wantPaid
	require.Equal(t, strconv.FormatInt(refund, 10), l.Refunded.Amount)
	require.Zero(t, toInt(t, closed.EscrowBalance.Amount))
	require.Zero(t, toInt(t, closed.Accrued.Amount))
	t.Logf("closed after %d blocks at %d blocks/h: paid %d, fees %d, refunded %d", elapsed, bph, wantPaid, wantFees, refund)

	subAfter, p1After, p2After, escrowAfter := bankUnro(t, ctx, n, submitter), bankUnro(t, ctx, n, p1), bankUnro(t, ctx, n, p2), bankUnro(t, ctx, n, escrow)
	require.Zero(t, escrowAfter, "escrow empty")
	require.Equal(t, wantNet["gpu-a"], p1After-p1Before, "provider-1 got gpu-a's pay less the fee")
	require.Equal(t, wantNet["gpu-b"], p2After-p2Before, "provider-2 got gpu-b's pay less the fee")
	require.Equal(t, refund-closeFee, subAfter-subBefore, "the submitter got the rest back")
	require.Zero(t, (subAfter-subBefore+closeFee)+(p1After-p1Before)+(p2After-p2Before)+wantFees+(escrowAfter-escrowBefore),
		"every unro that left the escrow reached the submitter, a provider or the fee collector")
	// The fee collector is drained by x/distribution at every BeginBlock, so read it as of the close's
	// block: it then held this block's fees (the lease's take and the close tx's fee) and nothing else.
	fcAtClose := bankUnro(t, ctx, n, feeCollector, "--height", strconv.FormatInt(closedH, 10))
	require.Equal(t, wantFees+closeFee, fcAtClose, "fee collector at the close height")
	t.Logf("fee collector: %d before, %d at the close height, %d now", fcBefore, fcAtClose, bankUnro(t, ctx, n, feeCollector))

	var recs struct{ Records []settlementRecordJSON }
	require.NoError(t, n.Query(ctx, &recs, "lease", "settlement-records", "--lease-id", "1"))
	require.Len(t, recs.Records, 2)
	gotRecs := map[string]settlementRecordJSON{}
	for _, r := range recs.Records {
		gotRecs[r.NodeID] = r
		require.Equal(t, "1", r.LeaseID)
		require.Equal(t, closedH, toInt(t, r.Height))
	}
	require.Len(t, gotRecs, 2, "one record per node")
	for id, op := range map[string]string{"gpu-a": p1, "gpu-b": p2} {
		r, ok := gotRecs[id]
		require.True(t, ok, "no settlement record for %s", id)
		require.Equal(t, op, r.Operator)
		require.Equal(t, leaseCoinJSON{"unro", strconv.FormatInt(wantNet[id], 10)}, r.Amount, "%s record amount", id)
		require.Equal(t, leaseCoinJSON{"unro", strconv.FormatInt(wantFee[id], 10)}, r.Fee, "%s record fee", id)
	}
	for _, id := range []string{"gpu-a", "gpu-b"} {
		nd := queryAllocNode(t, ctx, n, id)
		require.Zero(t, nd.ReservedGpus, "%s released", id)
		require.Zero(t, nd.Gpus[0].Reserved)
		require.Equal(t, "NODE_STATUS_ACTIVE", nd.Status)
	}
	// Closed leases keep their placement in the node index.
	var byNode struct{ Leases []leaseJSON }
	require.NoError(t, n.Query(ctx, &byNode, "lease", "leases", "--node-id", "gpu-b", "--state", "closed"))
	require.Len(t, byNode.Leases, 1)
	require.Equal(t, "1", byNode.Leases[0].ID)

	// Closing twice is refused.
	mustRefuse(t, ctx, n, "submitter", []string{"lease 1 is already LEASE_STATE_CLOSED"}, "lease", "close", "1")
	require.Equal(t, subAfter, bankUnro(t, ctx, n, submitter))
	t.Logf("lease lifecycle done in %s", time.Since(start).Round(time.Second))
}
