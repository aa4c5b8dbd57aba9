// Package localnet creates and runs a single-validator Consensus-NRO chain with the real nrod binary on
// 127.0.0.1: a home directory with funded test keys (keyring-backend test), a validator gentx, and a
// running `nrod start` process. `make localnet`, `make demo` and the end-to-end tests use it.
package localnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Ports are the listen ports of one node; all bind to 127.0.0.1. Two localnets need different ports.
type Ports struct {
	RPC  int // CometBFT RPC (default 26657)
	P2P  int // CometBFT P2P (default 26656)
	GRPC int // Cosmos gRPC (default 9090)
	API  int // REST gateway (default 1317)
}

// DefaultPorts are the standard Cosmos ports.
func DefaultPorts() Ports { return Ports{RPC: 26657, P2P: 26656, GRPC: 9090, API: 1317} }

// Offset returns the ports shifted by n, for running several localnets side by side.
func (p Ports) Offset(n int) Ports {
	return Ports{RPC: p.RPC + n, P2P: p.P2P + n, GRPC: p.GRPC + n, API: p.API + n}
}

// FreePorts picks four free loopback ports (for tests running in parallel).
func FreePorts() (Ports, error) {
	var ports [4]int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return Ports{}, err
		}
		listeners = append(listeners, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return Ports{RPC: ports[0], P2P: ports[1], GRPC: ports[2], API: ports[3]}, nil
}

// Account is a funded test key created in the keyring.
type Account struct {
	Name    string
	Balance string // e.g. 10000000000000unro
}

// Config describes a localnet.
type Config struct {
	Binary  string // path to nrod
	Home    string // node home; created if missing
	ChainID string
	Ports   Ports
	// Accounts are funded at genesis; the first one is the validator's key.
	Accounts []Account
	// SelfDelegation is the validator's bonded stake, e.g. 100000000000unro.
	SelfDelegation string
	// UnbondingBlocks overrides x/allocation's unbonding_blocks (0 keeps the default), so that stake
	// release can be watched on a localnet.
	UnbondingBlocks uint64
	// Params overrides module params in genesis: module name → param (JSON name) → value (as genesis
	// JSON holds it: numbers of 64 bits as strings).
	Params map[string]map[string]any
	// BlockTime is CometBFT's timeout_commit (0 keeps what `nrod init` writes, 5 s).
	BlockTime time.Duration
	// Log receives nrod's output; nil discards it.
	Log io.Writer
}

// DefaultConfig returns a localnet with a validator, three providers and a submitter.
func DefaultConfig(binary, home string) Config {
	return Config{
		Binary:  binary,
		Home:    home,
		ChainID: "nro-local-1",
		Ports:   DefaultPorts(),
		Accounts: []Account{
			{Name: "validator", Balance: "1000000000000unro"},
			{Name: "provider-1", Balance: "100000000000unro"},
			{Name: "provider-2", Balance: "100000000000unro"},
			{Name: "provider-3", Balance: "100000000000unro"},
			{Name: "submitter", Balance: "100000000000unro"},
		},
		SelfDelegation: "100000000000unro",
		BlockTime:      time.Second,
	}
}

// Node is a running (or initialised) localnet node.
type Node struct {
	Config
	cmd  *exec.Cmd
	done chan error
}

// Init creates the home: init, keys, genesis accounts, gentx, collect-gentxs, and genesis overrides.
// An existing home with a genesis is reused as is.
func Init(ctx context.Context, cfg Config) (*Node, error) {
	n := &Node{Config: cfg}
	if _, err := os.Stat(filepath.Join(cfg.Home, "config", "genesis.json")); err == nil {
		return n, nil
	}
	if len(cfg.Accounts) == 0 {
		return nil, errors.New("localnet: at least one account (the validator) is required")
	}
	if err := os.MkdirAll(cfg.Home, 0o755); err != nil {
		return nil, err
	}
	steps := [][]string{{"init", "localnet", "--chain-id", cfg.ChainID, "--default-denom", "unro"}}
	for _, a := range cfg.Accounts {
		steps = append(steps, []string{"keys", "add", a.Name, "--keyring-backend", "test"})
	}
	for _, a := range cfg.Accounts {
		steps = append(steps, []string{"genesis", "add-genesis-account", a.Name, a.Balance, "--keyring-backend", "test"})
	}
	steps = append(steps,
		[]string{"genesis", "gentx", cfg.Accounts[0].Name, cfg.SelfDelegation, "--chain-id", cfg.ChainID, "--keyring-backend", "test"},
		[]string{"genesis", "collect-gentxs"},
	)
	for _, s := range steps {
		if _, err := n.run(ctx, s...); err != nil {
			return nil, err
		}
	}
	if err := n.patchGenesis(); err != nil {
		return nil, err
	}
	if err := n.patchConfig(); err != nil {
		return nil, err
	}
	if _, err := n.run(ctx, "genesis", "validate"); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Node) patchGenesis() error {
	path := filepath.Join(n.Home, "config", "genesis.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var gen map[string]any
	if err := json.Unmarshal(raw, &gen); err != nil {
		return err
	}
	appState := gen["app_state"].(map[string]any)
	if n.UnbondingBlocks > 0 {
		params := appState["allocation"].(map[string]any)["params"].(map[string]any)
		params["unbonding_blocks"] = strconv.FormatUint(n.UnbondingBlocks, 10)
	}
	// Lease prices are per GPU-hour; x/lease converts them with blocks_per_hour, which must match the
	// localnet's block time (the default, 600, is for 6 s blocks).
	if n.BlockTime > 0 {
		if lease, ok := appState["lease"].(map[string]any); ok {
			params := lease["params"].(map[string]any)
			params["blocks_per_hour"] = strconv.FormatInt(int64(time.Hour/n.BlockTime), 10)
		}
	}
	for module, overrides := range n.Params {
		m, ok := appState[module].(map[string]any)
		if !ok {
			return fmt.Errorf("localnet: genesis has no %s module to set params of", module)
		}
		params, ok := m["params"].(map[string]any)
		if !ok {
			return fmt.Errorf("localnet: genesis of %s has no params", module)
		}
		for k, v := range overrides {
			if _, ok := params[k]; !ok {
				return fmt.Errorf("localnet: %s has no param %q", module, k)
			}
			params[k] = v
		}
	}
	// Short governance periods so that parameter proposals can be tried on a localnet.
	if gov, ok := appState["gov"].(map[string]any); ok {
		if p, ok := gov["params"].(map[string]any); ok {
			p["voting_period"] = "60s"
			p["expedited_voting_period"] = "30s"
		}
	}
	out, err := json.MarshalIndent(gen, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// patchConfig sets the block time; ports are passed as flags at start so the files stay portable.
func (n *Node) patchConfig() error {
	if n.BlockTime == 0 {
		return nil
	}
	path := filepath.Join(n.Home, "config", "config.toml")
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(string(raw), "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(l, "timeout_commit = ") {
			lines[i] = fmt.Sprintf("timeout_commit = %q", n.BlockTime.String())
			found = true
		}
	}
	if !found {
		return fmt.Errorf("localnet: no timeout_commit in %s", path)
	}
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644)
}

// Start runs `nrod start` and waits until the first block is committed.
func (n *Node) Start(ctx context.Context) error {
	p := n.Ports
	args := []string{
		"start", "--home", n.Home,
		"--rpc.laddr", fmt.Sprintf("tcp://127.0.0.1:%d", p.RPC),
		"--p2p.laddr", fmt.Sprintf("tcp://127.0.0.1:%d", p.P2P),
		"--grpc.address", fmt.Sprintf("127.0.0.1:%d", p.GRPC),
		"--api.enable", "--api.address", fmt.Sprintf("tcp://127.0.0.1:%d", p.API),
		"--rpc.pprof_laddr", "",
		"--minimum-gas-prices", "0unro",
	}
	n.cmd = exec.Command(n.Binary, args...)
	out := n.Log
	if out == nil {
		out = io.Discard
	}
	n.cmd.Stdout, n.cmd.Stderr = out, out
	// Own process group: Ctrl-C on the parent reaches nrod only through Stop, so shutdown is orderly.
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		return fmt.Errorf("start nrod: %w", err)
	}
	n.done = make(chan error, 1)
	go func() { n.done <- n.cmd.Wait() }()
	if _, err := n.WaitForHeight(ctx, 1, 60*time.Second); err != nil {
		_ = n.Stop()
		return err
	}
	return nil
}

// Stop sends SIGINT (as Ctrl-C would) and waits up to 20 s before killing nrod.
func (n *Node) Stop() error {
	if n.cmd == nil || n.cmd.Process == nil {
		return nil
	}
	_ = n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
		return errors.New("nrod did not stop within 20s after SIGINT; killed")
	}
	n.cmd = nil
	return nil
}

// Exited returns a channel that yields nrod's exit status if it stops on its own.
func (n *Node) Exited() <-chan error { return n.done }

// PID returns the nrod process id (0 when not running).
func (n *Node) PID() int {
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// NodeURL is the CometBFT RPC address for clients.
func (n *Node) NodeURL() string { return fmt.Sprintf("tcp://127.0.0.1:%d", n.Ports.RPC) }

// Height returns the latest committed height.
func (n *Node) Height(ctx context.Context) (int64, error) {
	out, err := n.run(ctx, "status", "--node", n.NodeURL())
	if err != nil {
		return 0, err
	}
	var st struct {
		SyncInfo struct {
			LatestBlockHeight string `json:"latest_block_height"`
		} `json:"sync_info"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, fmt.Errorf("decode nrod status: %w", err)
	}
	return strconv.ParseInt(st.SyncInfo.LatestBlockHeight, 10, 64)
}

// WaitForHeight polls until the chain reaches height h or the timeout passes.
func (n *Node) WaitForHeight(ctx context.Context, h int64, timeout time.Duration) (int64, error) {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case err := <-n.done:
			n.done <- err
			return 0, fmt.Errorf("nrod exited before height %d: %w", h, err)
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
		}
		got, err := n.Height(ctx)
		if err == nil && got >= h {
			return got, nil
		}
		lastErr = err
		if err == nil {
			lastErr = fmt.Errorf("still at height %d", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return 0, fmt.Errorf("chain did not reach height %d within %s (last error: %w)", h, timeout, lastErr)
}

// Address returns the bech32 address of a test key.
func (n *Node) Address(ctx context.Context, key string) (string, error) {
	out, err := n.run(ctx, "keys", "show", key, "-a", "--keyring-backend", "test")
	return strings.TrimSpace(string(out)), err
}

// Query runs `nrod q ARGS -o json` against the node and decodes the JSON into v.
func (n *Node) Query(ctx context.Context, v any, args ...string) error {
	args = append(append([]string{"q"}, args...), "--node", n.NodeURL(), "-o", "json")
	out, err := n.run(ctx, args...)
	if err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("decode output of nrod %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// TxResult is the outcome of a transaction once included in a block.
type TxResult struct {
	Hash    string
	Height  int64
	Code    uint32
	Log     string
	GasUsed int64
	Events  []json.RawMessage
}

// Tx signs and broadcasts `nrod tx ARGS --from FROM`, then waits for its inclusion and returns the
// delivered result. A transaction refused at CheckTx (e.g. by ValidateBasic) returns a result with its
// code and log and Height 0. Only transport failures return an error.
func (n *Node) Tx(ctx context.Context, from string, args ...string) (TxResult, error) {
	full := append([]string{"tx"}, args...)
	full = append(full, "--from", from, "--keyring-backend", "test", "--chain-id", n.ChainID,
		"--node", n.NodeURL(), "--gas", "auto", "--gas-adjustment", "1.5", "--yes", "-o", "json")
	out, err := n.run(ctx, full...)
	if err != nil {
		// Gas estimation simulates the tx; a refused message fails there with the module's error.
		var ee *ExecError
		if errors.As(err, &ee) && strings.Contains(ee.Stderr, "code =") {
			return TxResult{Code: 1, Log: strings.TrimSpace(ee.Stderr)}, nil
		}
		return TxResult{}, err
	}
	var bres struct {
		TxHash string `json:"txhash"`
		Code   uint32 `json:"code"`
		RawLog string `json:"raw_log"`
	}
	if err := json.Unmarshal(lastJSON(out), &bres); err != nil {
		return TxResult{}, fmt.Errorf("decode broadcast result: %w\n%s", err, out)
	}
	if bres.Code != 0 {
		return TxResult{Hash: bres.TxHash, Code: bres.Code, Log: bres.RawLog}, nil
	}
	return n.WaitForTx(ctx, bres.TxHash, 30*time.Second)
}

// WaitForTx polls `nrod q tx HASH` until the transaction is in a block.
func (n *Node) WaitForTx(ctx context.Context, hash string, timeout time.Duration) (TxResult, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var res struct {
			Height  string            `json:"height"`
			Code    uint32            `json:"code"`
			RawLog  string            `json:"raw_log"`
			GasUsed string            `json:"gas_used"`
			Events  []json.RawMessage `json:"events"`
		}
		if err := n.Query(ctx, &res, "tx", hash); err == nil {
			h, _ := strconv.ParseInt(res.Height, 10, 64)
			g, _ := strconv.ParseInt(res.GasUsed, 10, 64)
			return TxResult{Hash: hash, Height: h, Code: res.Code, Log: res.RawLog, GasUsed: g, Events: res.Events}, nil
		}
		select {
		case <-ctx.Done():
			return TxResult{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return TxResult{}, fmt.Errorf("tx %s not included within %s", hash, timeout)
}

// ExecError is a failed nrod invocation with its output.
type ExecError struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *ExecError) Error() string {
	return fmt.Sprintf("nrod %s: %v: %s", strings.Join(e.Args, " "), e.Err, strings.TrimSpace(e.Stderr))
}

// Run executes nrod with the node's home and returns stdout.
func (n *Node) Run(ctx context.Context, args ...string) ([]byte, error) { return n.run(ctx, args...) }

func (n *Node) run(ctx context.Context, args ...string) ([]byte, error) {
	args = append(args, "--home", n.Home)
	cmd := exec.CommandContext(ctx, n.Binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &ExecError{Args: args, Stderr: stderr.String() + stdout.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// lastJSON returns the last line that looks like a JSON object (gas estimates are printed before it).
func lastJSON(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if bytes.HasPrefix(bytes.TrimSpace(lines[i]), []byte("{")) {
			return lines[i]
		}
	}
	return out
}
