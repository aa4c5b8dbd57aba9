package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/pelletier/go-toml/v2"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/agent/probe"
	"github.com/consensus-nro/nro/agent/report"
	"github.com/consensus-nro/nro/agent/telemetry"
)

// ConfigFileName is the configuration file's name inside the agent's home.
const ConfigFileName = "config.toml"

// Duration is a time.Duration written as a Go duration string ("30s", "1m30s") in TOML.
type Duration time.Duration

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like \"30s\", \"2m\" or \"1m30s\"", string(b))
	}
	*d = Duration(v)
	return nil
}

// String is the duration as Go writes it.
func (d Duration) String() string { return time.Duration(d).String() }

// Config is the agent's configuration: the config file, then flags on top.
type Config struct {
	NodeID        string          `toml:"node_id"`
	EpochInterval Duration        `toml:"epoch_interval"`
	LogLevel      string          `toml:"log_level"`
	LogFormat     string          `toml:"log_format"`
	Chain         ChainConfig     `toml:"chain"`
	Telemetry     TelemetryConfig `toml:"telemetry"`
	Probe         ProbeConfig     `toml:"probe"`
	Metrics       MetricsConfig   `toml:"metrics"`
	Proposer      ProposerConfig  `toml:"proposer"`
}

// ProposerConfig turns on the allocation proposer (agent/proposer): it proposes placements for PENDING
// leases with the node's agent key (chain.key_name), through the same transaction client as telemetry.
type ProposerConfig struct {
	Enabled bool `toml:"enabled"`
	// PolicyFile is a policy written by `nro-agent train`; "" takes the committed default policy.
	PolicyFile string `toml:"policy_file"`
	// Events subscribes to the chain's events (new blocks, leases created or made PENDING again) on
	// chain.rpc's websocket; false only polls.
	Events bool `toml:"events"`
	// PollInterval is how often every PENDING lease is read: the safety net behind the events, or with
	// events = false the only watch.
	PollInterval Duration `toml:"poll_interval"`
	// StaggerBlocks spreads the proposers of a lease over the first 0..stagger_blocks blocks of its window
	// (by a hash of the agent's address and the lease), so that a later one sees the proposals already
	// kept and sends nothing when one costs no more than its own (the chain refuses an exact copy of a kept
	// proposal anyway, which counts as skipped); 0 proposes at once.
	StaggerBlocks uint32 `toml:"stagger_blocks"`
	// Substitute proposes, when the policy's pick cannot beat the chain's fallback, the cheapest candidate
	// by the chain's cost that does instead; off (the default), the agent proposes the policy's pick or
	// nothing, which is what the policy was measured for (docs/benchmarks.md).
	Substitute bool `toml:"substitute"`
}

// ChainConfig says how the agent reaches the chain and which key signs for the node.
type ChainConfig struct {
	// Submit makes the agent sign and submit each epoch's report (MsgSubmitTelemetry); false only measures.
	Submit         bool   `toml:"submit"`
	GRPC           string `toml:"grpc"`
	RPC            string `toml:"rpc"`
	ChainID        string `toml:"chain_id"`
	KeyName        string `toml:"key_name"`
	KeyringBackend string `toml:"keyring_backend"`
	KeyringDir     string `toml:"keyring_dir"`
	// GasPrices are paid per unit of simulated gas, e.g. "0.025unro" ("0unro" where validators take no fees).
	GasPrices string `toml:"gas_prices"`
}

// TelemetryConfig selects the GPU source.
type TelemetryConfig struct {
	DisableNVML    bool             `toml:"disable_nvml"`
	NVMLLibrary    string           `toml:"nvml_library"`
	RegisteredGPUs []GPUGroupConfig `toml:"registered_gpus"`
}

// GPUGroupConfig is one registered GPU group (x/allocation GpuGroup).
type GPUGroupConfig struct {
	Model     string `toml:"model"`
	Count     uint32 `toml:"count"`
	MemoryMiB uint64 `toml:"memory_mib"`
}

// ProbeConfig configures the probe server and how peers are measured.
type ProbeConfig struct {
	Listen              string   `toml:"listen"`
	Peers               []string `toml:"peers"`
	Echoes              int      `toml:"echoes"`
	TransferBytes       uint64   `toml:"transfer_bytes"`
	TransferDuration    Duration `toml:"transfer_duration"`
	Timeout             Duration `toml:"timeout"`
	MaxConnections      int      `toml:"max_connections"`
	MaxPeerConnections  int      `toml:"max_peer_connections"`
	SessionsPerMinute   float64  `toml:"sessions_per_minute"`
	SessionBurst        int      `toml:"session_burst"`
	MaxTransferBytes    uint64   `toml:"max_transfer_bytes"`
	MaxTransferDuration Duration `toml:"max_transfer_duration"`
}

// MetricsConfig configures the Prometheus endpoint.
type MetricsConfig struct {
	Listen string `toml:"listen"`
}

// DefaultConfig is what `nro-agent init` writes: a single node on 127.0.0.1 talking to a local chain.
func DefaultConfig() Config {
	sc, cc := probe.DefaultServerConfig(), probe.DefaultClientConfig()
	return Config{
		EpochInterval: Duration(60 * time.Second),
		LogLevel:      "info",
		LogFormat:     "text",
		Chain: ChainConfig{
			Submit:         true,
			GRPC:           "127.0.0.1:9090",
			RPC:            "http://127.0.0.1:26657",
			ChainID:        "nro-local-1",
			KeyName:        "agent",
			KeyringBackend: "test",
			GasPrices:      "0unro",
		},
		Telemetry: TelemetryConfig{NVMLLibrary: telemetry.DefaultNVMLLibrary, RegisteredGPUs: []GPUGroupConfig{}},
		Probe: ProbeConfig{
			Listen:              "127.0.0.1:26680",
			Peers:               []string{},
			Echoes:              cc.Echoes,
			TransferBytes:       cc.TransferBytes,
			TransferDuration:    Duration(cc.TransferDuration),
			Timeout:             Duration(cc.IOTimeout),
			MaxConnections:      sc.MaxConnections,
			MaxPeerConnections:  sc.MaxConnectionsPerPeer,
			SessionsPerMinute:   sc.SessionsPerMinute,
			SessionBurst:        sc.SessionBurst,
			MaxTransferBytes:    sc.MaxTransferBytes,
			MaxTransferDuration: Duration(sc.MaxTransferDuration),
		},
		Metrics:  MetricsConfig{Listen: "127.0.0.1:26681"},
		Proposer: ProposerConfig{Events: true, PollInterval: Duration(30 * time.Second), StaggerBlocks: 4},
	}
}

// ConfigPath is where the config lives in home.
func ConfigPath(home string) string { return filepath.Join(home, ConfigFileName) }

// LoadConfig reads path strictly: an unknown key is an error, so that a typo does not silently leave a default
// in force. Keys the file omits keep their defaults.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return cfg, fmt.Errorf("no agent config at %s: run `nro-agent init --home %s` first, or pass --home: %w", path, filepath.Dir(path), err)
		}
		return cfg, fmt.Errorf("read agent config: %w", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(raw)).DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			return cfg, fmt.Errorf("agent config %s has keys this agent does not know (check the spelling against `nro-agent init`):\n%s", path, strict.String())
		}
		var derr *toml.DecodeError
		if errors.As(err, &derr) {
			row, col := derr.Position()
			return cfg, fmt.Errorf("agent config %s:%d:%d: %w", path, row, col, err)
		}
		return cfg, fmt.Errorf("agent config %s: %w", path, err)
	}
	return cfg, nil
}

var (
	nodeIDPattern   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
	keyringBackends = []string{"os", "file", "test", "kwallet", "pass", "memory"}
	logLevels       = []string{"debug", "info", "warn", "error"}
	logFormats      = []string{"text", "json"}
)

// Validate checks every value and says what would be right. requireNodeID is false for commands that do not
// act for a node (telemetry --once).
func (c Config) Validate(requireNodeID bool) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch {
	case c.NodeID == "" && requireNodeID:
		add("node_id is empty: set it to the node's id as registered on chain (`nrod q allocation node ID`), or pass --node-id")
	case c.NodeID != "" && !nodeIDPattern.MatchString(c.NodeID):
		add("node_id %q is not a node id: lower-case letters, digits and '-', 1 to 64 characters, as registered on chain", c.NodeID)
	}
	if d := time.Duration(c.EpochInterval); d < time.Second || d > 24*time.Hour {
		add("epoch_interval %s is out of range: use 1s to 24h", d)
	}
	if !contains(logLevels, c.LogLevel) {
		add("log_level %q is not one of %s", c.LogLevel, strings.Join(logLevels, ", "))
	}
	if !contains(logFormats, c.LogFormat) {
		add("log_format %q is not one of %s", c.LogFormat, strings.Join(logFormats, ", "))
	}
	switch {
	case c.Chain.GRPC != "":
		if err := checkHostPort(c.Chain.GRPC); err != nil {
			add("chain.grpc %q: %v", c.Chain.GRPC, err)
		}
	case c.Chain.Submit || c.Proposer.Enabled:
		add("chain.grpc is empty: the agent submits telemetry and proposals through nrod's gRPC (host:port, e.g. 127.0.0.1:9090); or set chain.submit = false and proposer.enabled = false")
	}
	if c.Proposer.Enabled {
		if d := time.Duration(c.Proposer.PollInterval); d < 100*time.Millisecond || d > 10*time.Minute {
			add("proposer.poll_interval %s is out of range: use 100ms to 10m (with proposer.events = false, below the block time × proposal_window_blocks)", d)
		}
		if c.Proposer.Events && c.Chain.RPC == "" {
			add("chain.rpc is empty: the proposer subscribes to the chain's events on its CometBFT RPC (e.g. http://127.0.0.1:26657); or set proposer.events = false to poll")
		}
		if c.Chain.ChainID == "" {
			add("chain.chain_id is empty: name the chain the proposals are signed for (e.g. nro-local-1)")
		}
	}
	if c.Chain.Submit && c.Chain.ChainID == "" {
		add("chain.chain_id is empty: name the chain the reports are signed for (e.g. nro-local-1)")
	}
	if c.Chain.GasPrices != "" {
		if _, err := sdk.ParseDecCoins(c.Chain.GasPrices); err != nil {
			add("chain.gas_prices %q: %v; write it like \"0.025unro\" (or \"0unro\")", c.Chain.GasPrices, err)
		}
	}
	if c.Chain.RPC != "" && !strings.HasPrefix(c.Chain.RPC, "http://") && !strings.HasPrefix(c.Chain.RPC, "https://") &&
		!strings.HasPrefix(c.Chain.RPC, "tcp://") {
		add("chain.rpc %q must be a URL such as http://127.0.0.1:26657", c.Chain.RPC)
	}
	if c.Chain.KeyName == "" {
		add("chain.key_name is empty: name the keyring key of the node's registered agent account")
	}
	if !contains(keyringBackends, c.Chain.KeyringBackend) {
		add("chain.keyring_backend %q is not one of %s", c.Chain.KeyringBackend, strings.Join(keyringBackends, ", "))
	}
	for i, g := range c.Telemetry.RegisteredGPUs {
		if g.Model == "" || g.Count == 0 || g.MemoryMiB == 0 {
			add("telemetry.registered_gpus[%d] needs model, count > 0 and memory_mib > 0, as registered on chain (e.g. model = \"H100\", count = 8, memory_mib = 81920)", i)
		}
	}
	if err := checkHostPort(c.Probe.Listen); err != nil {
		add("probe.listen %q: %v", c.Probe.Listen, err)
	}
	seen := map[string]bool{}
	for i, p := range c.Probe.Peers {
		peer, err := ParsePeer(p)
		if err != nil {
			add("probe.peers[%d]: %v", i, err)
			continue
		}
		if seen[peer.Address] {
			add("probe.peers[%d]: %s is listed twice", i, peer.Address)
		}
		seen[peer.Address] = true
	}
	// Zero means "default" to the probe package; in a config file it is a mistake.
	pc := c.Probe
	before := len(errs)
	switch {
	case pc.Echoes < 1:
		add("probe.echoes %d: the RTT needs at least 1 echo", pc.Echoes)
	case pc.TransferBytes > 0 && pc.TransferDuration <= 0:
		add("probe.transfer_duration %s must be positive (or set transfer_bytes = 0 to measure RTT only)", pc.TransferDuration)
	case pc.Timeout <= 0:
		add("probe.timeout %s must be positive", pc.Timeout)
	case pc.MaxConnections < 1:
		add("probe.max_connections %d must be at least 1", pc.MaxConnections)
	case pc.MaxPeerConnections < 1:
		add("probe.max_peer_connections %d must be at least 1 (e.g. 4)", pc.MaxPeerConnections)
	case pc.SessionsPerMinute <= 0 || pc.SessionBurst < 1:
		add("probe.sessions_per_minute (%g) must be positive and probe.session_burst (%d) at least 1", pc.SessionsPerMinute, pc.SessionBurst)
	case pc.MaxTransferBytes < 1 || pc.MaxTransferDuration <= 0:
		add("probe.max_transfer_bytes (%d) and probe.max_transfer_duration (%s) must be positive", pc.MaxTransferBytes, pc.MaxTransferDuration)
	}
	if len(errs) == before { // the probe package's own range checks, on values known to be set
		if _, err := probe.NewClient(c.clientConfig()); err != nil {
			add("probe: %v", err)
		}
		if err := c.serverConfig().Validate(); err != nil {
			add("probe: %v", err)
		}
	}
	if c.Metrics.Listen != "" {
		if err := checkHostPort(c.Metrics.Listen); err != nil {
			add("metrics.listen %q: %v (or \"\" to serve no metrics)", c.Metrics.Listen, err)
		}
	}
	return errors.Join(errs...)
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port, such as 127.0.0.1:26680")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// Peer is a node the agent probes.
type Peer struct {
	// NodeID is the peer's node id when the config names it (node-id@host:port); reports use it as the peer.
	NodeID  string
	Address string
}

// Label is how reports and metrics name the peer: its node id, else its address.
func (p Peer) Label() string {
	if p.NodeID != "" {
		return p.NodeID
	}
	return p.Address
}

// ParsePeer reads "host:port" or "node-id@host:port".
func ParsePeer(s string) (Peer, error) {
	var p Peer
	addr := s
	if id, rest, ok := strings.Cut(s, "@"); ok {
		if !nodeIDPattern.MatchString(id) {
			return p, fmt.Errorf("%q: %q is not a node id; write node-id@host:port or host:port", s, id)
		}
		p.NodeID, addr = id, rest
	}
	if err := checkHostPort(addr); err != nil {
		return p, fmt.Errorf("%q: %w; write node-id@host:port or host:port", s, err)
	}
	p.Address = addr
	return p, nil
}

func (c Config) peers() []Peer {
	out := make([]Peer, 0, len(c.Probe.Peers))
	for _, s := range c.Probe.Peers {
		if p, err := ParsePeer(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func (c Config) clientConfig() probe.ClientConfig {
	return probe.ClientConfig{
		Echoes:           c.Probe.Echoes,
		TransferBytes:    c.Probe.TransferBytes,
		TransferDuration: time.Duration(c.Probe.TransferDuration),
		NoTransfer:       c.Probe.TransferBytes == 0,
		IOTimeout:        time.Duration(c.Probe.Timeout),
		DialTimeout:      time.Duration(c.Probe.Timeout),
	}
}

func (c Config) serverConfig() probe.ServerConfig {
	sc := probe.ServerConfig{
		MaxConnections:        c.Probe.MaxConnections,
		MaxConnectionsPerPeer: c.Probe.MaxPeerConnections,
		SessionsPerMinute:     c.Probe.SessionsPerMinute,
		SessionBurst:          c.Probe.SessionBurst,
		MaxTransferBytes:      c.Probe.MaxTransferBytes,
		MaxTransferDuration:   time.Duration(c.Probe.MaxTransferDuration),
	}
	d := probe.DefaultServerConfig()
	sc.MaxFrame, sc.IOTimeout, sc.SessionTimeout, sc.MaxEchoes, sc.MaxTransfers, sc.MaxTrackedPeers =
		d.MaxFrame, d.IOTimeout, d.SessionTimeout, d.MaxEchoes, d.MaxTransfers, d.MaxTrackedPeers
	return sc
}

// TelemetryConfig is the telemetry package's view of the config.
func (c Config) TelemetryConfig() telemetry.Config {
	groups := make([]report.GPUGroup, 0, len(c.Telemetry.RegisteredGPUs))
	for _, g := range c.Telemetry.RegisteredGPUs {
		groups = append(groups, report.GPUGroup{Model: g.Model, Count: g.Count, MemoryMiB: g.MemoryMiB})
	}
	return telemetry.Config{DisableNVML: c.Telemetry.DisableNVML, NVMLLibrary: c.Telemetry.NVMLLibrary, Registered: groups}
}

// ClientConfig is the probe client's view of the config.
func (c Config) ClientConfig() probe.ClientConfig { return c.clientConfig() }

// NewLogger builds the slog logger the config asks for.
func (c Config) NewLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel)) // validated; info on error
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// WriteConfig writes cfg to path with a comment on every key. It refuses to replace an existing file unless
// overwrite is set.
func WriteConfig(path string, cfg Config, overwrite bool) error {
	var buf bytes.Buffer
	if err := configTemplate.Execute(&buf, cfg); err != nil {
		return fmt.Errorf("render agent config: %w", err)
	}
	// The rendered file must load back to cfg; a template bug must not produce a config the agent rejects.
	check := DefaultConfig()
	if err := toml.NewDecoder(bytes.NewReader(buf.Bytes())).DisallowUnknownFields().Decode(&check); err != nil {
		return fmt.Errorf("render agent config: the result does not parse: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create agent home: %w", err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists: remove it or pass --overwrite to replace it", path)
		}
		return fmt.Errorf("write agent config: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		_ = f.Close()
		return fmt.Errorf("write agent config: %w", err)
	}
	return f.Close()
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	b, _ := toml.Marshal(map[string]string{"v": s})
	_, v, _ := strings.Cut(strings.TrimSpace(string(b)), " = ")
	return v
}

var configTemplate = template.Must(template.New("config").Funcs(template.FuncMap{
	"q": tomlString,
	"list": func(items []string) string {
		q := make([]string, len(items))
		for i, s := range items {
			q[i] = tomlString(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	},
}).Parse(`# nro-agent configuration. Flags given to ` + "`nro-agent start`" + ` override these values.
# Durations are Go duration strings ("30s", "2m"); sizes are bytes.

# node_id is the id of the node this agent serves, as registered on chain (x/allocation).
node_id = {{q .NodeID}}

# epoch_interval is how often the agent samples its GPUs and probes its peers. Each report goes to the chain's
# current epoch if that epoch has none yet, so keep it well below the chain's epoch (epoch_blocks x block time).
epoch_interval = {{q .EpochInterval.String}}

# log_level is one of debug, info, warn, error; log_format is text or json. Logs go to stderr.
log_level = {{q .LogLevel}}
log_format = {{q .LogFormat}}

[chain]
# submit = true signs each epoch's report with key_name and submits it as MsgSubmitTelemetry, once per chain
# epoch (x/audit); the last epoch submitted is kept in telemetry-state.json in the agent's home, so that a
# restart sends nothing twice. false only measures (metrics and GET /report).
submit = {{.Chain.Submit}}
# grpc is the node's gRPC endpoint (host:port, plaintext); rpc is its CometBFT RPC URL (not used yet).
grpc = {{q .Chain.GRPC}}
rpc = {{q .Chain.RPC}}
chain_id = {{q .Chain.ChainID}}
# key_name is the keyring key of the node's registered agent account; keyring_backend is os, file, test,
# kwallet, pass or memory; keyring_dir defaults to the agent's home.
key_name = {{q .Chain.KeyName}}
keyring_backend = {{q .Chain.KeyringBackend}}
keyring_dir = {{q .Chain.KeyringDir}}
# gas_prices is paid per unit of the simulated gas, e.g. "0.025unro"; "0unro" where validators take no fees.
gas_prices = {{q .Chain.GasPrices}}

[telemetry]
# disable_nvml = true never touches the GPUs: every report then comes from the fallback source.
disable_nvml = {{.Telemetry.DisableNVML}}
# nvml_library is the NVML shared library (a file name the dynamic loader finds, or a path).
nvml_library = {{q .Telemetry.NVMLLibrary}}
# registered_gpus repeats what the node registered on chain. When NVML is unavailable the agent reports these,
# labelled source = "fallback": model and memory only, never utilisation or any other measurement.
# Add one table per GPU group, for example:
#   [[telemetry.registered_gpus]]
#   model = "H100"
#   count = 8
#   memory_mib = 81920
{{- range .Telemetry.RegisteredGPUs}}
[[telemetry.registered_gpus]]
model = {{q .Model}}
count = {{.Count}}
memory_mib = {{.MemoryMiB}}
{{- end}}

[probe]
# listen is where this agent answers its peers' probes. 127.0.0.1 only accepts local peers: use 0.0.0.0:26680
# (and open the port to the other providers' nodes) when peers run on other hosts.
listen = {{q .Probe.Listen}}
# peers are the agents to measure, as host:port or node-id@host:port. With chain.submit on, each epoch measures
# only the node-id@ entries whose node shares an ACTIVE lease with this one (the only links the chain takes).
peers = {{list .Probe.Peers}}
# Each epoch, per peer: echoes timed echoes (the RTT is their median), then one transfer of at most
# transfer_bytes or transfer_duration, whichever ends first (0 bytes: RTT only). timeout bounds connecting and
# every read and write.
echoes = {{.Probe.Echoes}}
transfer_bytes = {{.Probe.TransferBytes}}
transfer_duration = {{q .Probe.TransferDuration.String}}
timeout = {{q .Probe.Timeout.String}}
# What this agent's probe server allows: open connections (in all, and from one peer address), new sessions
# per minute per peer address (with a burst), and the largest transfer it sends to one session.
max_connections = {{.Probe.MaxConnections}}
max_peer_connections = {{.Probe.MaxPeerConnections}}
sessions_per_minute = {{.Probe.SessionsPerMinute}}
session_burst = {{.Probe.SessionBurst}}
max_transfer_bytes = {{.Probe.MaxTransferBytes}}
max_transfer_duration = {{q .Probe.MaxTransferDuration.String}}

[metrics]
# listen is the Prometheus endpoint (http://listen/metrics); "" serves no metrics.
listen = {{q .Metrics.Listen}}

[proposer]
# enabled = true proposes placements for the chain's PENDING leases (MsgProposeAllocation, signed with
# chain.key_name through the same client as telemetry), when the policy's placement would win the allocation.
enabled = {{.Proposer.Enabled}}
# policy_file is a policy written by "nro-agent train"; "" takes the committed default policy.
policy_file = {{q .Proposer.PolicyFile}}
# events = true watches the chain's events on chain.rpc's websocket (new blocks, leases created or made
# PENDING again), catching up on every PENDING lease after each (re)connect; false only polls.
events = {{.Proposer.Events}}
# poll_interval is how often every PENDING lease is read: a safety net behind the events; with
# events = false the only watch, so keep it below block time x proposal_window_blocks then.
poll_interval = {{q .Proposer.PollInterval.String}}
# stagger_blocks spreads the proposers of a lease over the first 0..stagger_blocks blocks of its window (by a
# hash of the agent's address and the lease; at most half the window), so that a later one sees the
# proposals already kept and sends nothing when one costs no more than its own; 0 proposes at once.
stagger_blocks = {{.Proposer.StaggerBlocks}}
`))

// ParseGPUGroups reads GPU groups written as for `nrod tx allocation register-node --gpus`: COUNTxMODEL:MEMORY_MIB,
// comma-separated, e.g. "8xH100:81920,2xL4:24576".
func ParseGPUGroups(s string) ([]GPUGroupConfig, error) {
	var out []GPUGroupConfig
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		count, rest, ok1 := strings.Cut(item, "x")
		model, mem, ok2 := strings.Cut(rest, ":")
		n, err1 := strconv.ParseUint(count, 10, 32)
		m, err2 := strconv.ParseUint(mem, 10, 64)
		if !ok1 || !ok2 || err1 != nil || err2 != nil || n == 0 || m == 0 || model == "" {
			return nil, fmt.Errorf("GPU group %q: want COUNTxMODEL:MEMORY_MIB, e.g. 8xH100:81920", item)
		}
		out = append(out, GPUGroupConfig{Model: strings.ToUpper(model), Count: uint32(n), MemoryMiB: m})
	}
	return out, nil
}
