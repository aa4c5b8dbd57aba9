package relayer

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"
	"github.com/pelletier/go-toml/v2"
)

// ConfigFileName is the configuration file's name inside the relayer's home.
const ConfigFileName = "config.toml"

// Duration is a time.Duration written as a Go duration string ("5s", "1m") in TOML.
type Duration time.Duration

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like \"5s\" or \"1m\"", string(b))
	}
	*d = Duration(v)
	return nil
}

// Wei is an amount of Ether per gas written with its unit: "2gwei", "1500000000wei" (whole numbers only).
type Wei string

// Value parses the amount; it must be a positive whole number of wei or gwei.
func (w Wei) Value() (*big.Int, error) {
	s := strings.TrimSpace(string(w))
	unit := big.NewInt(1)
	switch {
	case strings.HasSuffix(s, "gwei"):
		s, unit = strings.TrimSuffix(s, "gwei"), big.NewInt(params.GWei)
	case strings.HasSuffix(s, "wei"):
		s = strings.TrimSuffix(s, "wei")
	default:
		return nil, fmt.Errorf("%q has no unit: write it like \"30gwei\" or \"1500000000wei\"", string(w))
	}
	v, ok := new(big.Int).SetString(strings.TrimSpace(s), 10)
	if !ok || v.Sign() <= 0 {
		return nil, fmt.Errorf("%q: want a positive whole number of wei or gwei, like \"30gwei\"", string(w))
	}
	return v.Mul(v, unit), nil
}

// Config is nro-relayer's configuration: the config file, then flags on top.
type Config struct {
	// Roles are "signer" (a validator's) and/or "relay" (anyone's).
	Roles     []string       `toml:"roles"`
	Interval  Duration       `toml:"interval"`
	LogLevel  string         `toml:"log_level"`
	LogFormat string         `toml:"log_format"`
	Chain     ChainConfig    `toml:"chain"`
	Ethereum  EthereumConfig `toml:"ethereum"`
	Metrics   MetricsConfig  `toml:"metrics"`
	Retry     RetryConfig    `toml:"retry"`
}

// RetryConfig bounds the relay's retries of transient RPC errors inside a round: exponential backoff from
// initial, doubling up to max_interval, jittered, for at most max_elapsed.
type RetryConfig struct {
	Initial     Duration `toml:"initial"`
	MaxInterval Duration `toml:"max_interval"`
	MaxElapsed  Duration `toml:"max_elapsed"`
}

// Policy is the retry policy the config names.
func (c RetryConfig) Policy() RetryPolicy {
	return RetryPolicy{Initial: time.Duration(c.Initial), Max: time.Duration(c.MaxInterval), MaxElapsed: time.Duration(c.MaxElapsed)}
}

// ChainConfig says how to reach nrod and which key of the Cosmos keyring is the orchestrator.
type ChainConfig struct {
	GRPC           string `toml:"grpc"`
	ChainID        string `toml:"chain_id"`
	KeyName        string `toml:"key_name"`
	KeyringBackend string `toml:"keyring_backend"`
	KeyringDir     string `toml:"keyring_dir"`
	GasPrices      string `toml:"gas_prices"`
}

// EthereumConfig says how to reach Ethereum, where the contract is and which keys sign.
type EthereumConfig struct {
	RPC      string `toml:"rpc"`
	Contract string `toml:"contract"`
	// StartBlock is the contract's deployment block: the signer's scan starts there.
	StartBlock    uint64   `toml:"start_block"`
	Confirmations uint64   `toml:"confirmations"`
	MaxRange      uint64   `toml:"max_range"`
	TimeoutMargin Duration `toml:"timeout_margin"`
	// SignerKeystore is the validator's registered signer key (signer role); RelayKeystore pays the relay's
	// gas (relay role). Both are go-ethereum encrypted keystore files; their passwords are read from the
	// files named next to them.
	SignerKeystore string `toml:"signer_keystore"`
	SignerPassword string `toml:"signer_password_file"`
	RelayKeystore  string `toml:"relay_keystore"`
	RelayPassword  string `toml:"relay_password_file"`
	// CursorFile keeps the signer's scan position.
	CursorFile string `toml:"cursor_file"`
	// TxJournalFile keeps the relay's outstanding transaction (every version sent), so that a restarted
	// relay goes on replacing it while it is stuck in the pool.
	TxJournalFile string `toml:"tx_journal_file"`
	// MaxFeePerGas and MaxPriorityFeePerGas cap the relay's EIP-1559 transactions; while the base fee is
	// above MaxFeePerGas the relay sends nothing and says so.
	MaxFeePerGas         Wei `toml:"max_fee_per_gas"`
	MaxPriorityFeePerGas Wei `toml:"max_priority_fee_per_gas"`
	// TxConfirmations is how deep the relay's own transaction must be (its block counts as one) before
	// the relay moves on; TxTimeout bounds that wait.
	TxConfirmations uint64   `toml:"tx_confirmations"`
	TxTimeout       Duration `toml:"tx_timeout"`
	// BumpAfter is how long the relay's transaction may stay unmined before it is replaced (same nonce
	// and call) with its tip and fee cap raised by 1/8, within the caps above.
	BumpAfter Duration `toml:"bump_after"`
}

// MetricsConfig is the Prometheus endpoint; an empty address turns it off.
type MetricsConfig struct {
	Listen string `toml:"listen"`
}

// DefaultConfig is a relayer for a local chain and a geth --dev node on 127.0.0.1.
func DefaultConfig() Config {
	return Config{
		Roles:     []string{"signer", "relay"},
		Interval:  Duration(5 * time.Second),
		LogLevel:  "info",
		LogFormat: "text",
		Chain: ChainConfig{
			GRPC: "127.0.0.1:9090", ChainID: "nro-local-1", KeyName: "orchestrator", KeyringBackend: "test",
			GasPrices: "0unro",
		},
		Ethereum: EthereumConfig{
			RPC: "http://127.0.0.1:8545", Confirmations: 12, MaxRange: 1000, TimeoutMargin: Duration(2 * time.Minute),
			CursorFile: "cursor.json", TxJournalFile: "txjournal.json", MaxFeePerGas: "200gwei", MaxPriorityFeePerGas: "2gwei", TxConfirmations: 2,
			TxTimeout: Duration(5 * time.Minute), BumpAfter: Duration(90 * time.Second),
		},
		Metrics: MetricsConfig{Listen: "127.0.0.1:26690"},
		Retry:   RetryConfig{Initial: Duration(500 * time.Millisecond), MaxInterval: Duration(10 * time.Second), MaxElapsed: Duration(time.Minute)},
	}
}

// Validate checks the config and says what is wrong and what would be right.
func (c Config) Validate() error {
	var errs []error
	if len(c.Roles) == 0 {
		errs = append(errs, errors.New("roles: want \"signer\", \"relay\" or both"))
	}
	for _, r := range c.Roles {
		if r != "signer" && r != "relay" {
			errs = append(errs, fmt.Errorf("roles: %q is not a role; want \"signer\" or \"relay\"", r))
		}
	}
	if c.Interval <= 0 {
		errs = append(errs, errors.New("interval: want a positive duration such as \"5s\""))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log_format %q: want text or json", c.LogFormat))
	}
	if c.Chain.GRPC == "" || c.Chain.ChainID == "" {
		errs = append(errs, errors.New("chain: grpc (host:port of nrod's gRPC) and chain_id are required"))
	}
	if !common.IsHexAddress(c.Ethereum.Contract) {
		errs = append(errs, fmt.Errorf("ethereum.contract %q: want the settlement contract's 0x address (nrod q audit params: settlement_contract)", c.Ethereum.Contract))
	}
	if c.Ethereum.RPC == "" {
		errs = append(errs, errors.New("ethereum.rpc: want the JSON-RPC URL of an Ethereum node, e.g. http://127.0.0.1:8545"))
	}
	if c.Ethereum.MaxRange == 0 {
		errs = append(errs, errors.New("ethereum.max_range: want at least 1 block per log query"))
	}
	if slices.Contains(c.Roles, "signer") {
		if c.Chain.KeyName == "" {
			errs = append(errs, errors.New("chain.key_name: the signer role sends as the validator's orchestrator; name its key"))
		}
		if c.Ethereum.SignerKeystore == "" {
			errs = append(errs, errors.New("ethereum.signer_keystore: the signer role needs the validator's registered Ethereum key"))
		}
	}
	if slices.Contains(c.Roles, "relay") {
		if c.Ethereum.RelayKeystore == "" {
			errs = append(errs, errors.New("ethereum.relay_keystore: the relay role needs a funded Ethereum key for gas"))
		}
		maxFee, err := c.Ethereum.MaxFeePerGas.Value()
		if err != nil {
			errs = append(errs, fmt.Errorf("ethereum.max_fee_per_gas: %w", err))
		}
		maxTip, err2 := c.Ethereum.MaxPriorityFeePerGas.Value()
		if err2 != nil {
			errs = append(errs, fmt.Errorf("ethereum.max_priority_fee_per_gas: %w", err2))
		}
		if err == nil && err2 == nil && maxTip.Cmp(maxFee) > 0 {
			errs = append(errs, fmt.Errorf("ethereum.max_priority_fee_per_gas %s is above max_fee_per_gas %s: the tip is part of the fee", c.Ethereum.MaxPriorityFeePerGas, c.Ethereum.MaxFeePerGas))
		}
		if c.Ethereum.TxJournalFile == "" {
			errs = append(errs, errors.New("ethereum.tx_journal_file: the relay role keeps its outstanding transaction there; name a file, e.g. \"txjournal.json\" (in the home)"))
		}
		if c.Ethereum.TxConfirmations == 0 {
			errs = append(errs, errors.New("ethereum.tx_confirmations: want at least 1 (the transaction's own block)"))
		}
		if c.Ethereum.TxTimeout <= 0 {
			errs = append(errs, errors.New("ethereum.tx_timeout: want a positive duration such as \"5m\""))
		}
		if c.Ethereum.BumpAfter <= 0 || (c.Ethereum.TxTimeout > 0 && c.Ethereum.BumpAfter >= c.Ethereum.TxTimeout) {
			errs = append(errs, fmt.Errorf("ethereum.bump_after %s: want a positive duration below tx_timeout %s (a stuck transaction is replaced before the wait gives up), e.g. \"90s\"",
				time.Duration(c.Ethereum.BumpAfter), time.Duration(c.Ethereum.TxTimeout)))
		}
		if c.Retry.Initial <= 0 || c.Retry.MaxInterval < c.Retry.Initial || c.Retry.MaxElapsed <= 0 {
			errs = append(errs, errors.New("retry: want 0 < initial <= max_interval and max_elapsed > 0, e.g. \"500ms\", \"10s\", \"1m\""))
		}
	}
	return errors.Join(errs...)
}

// LoadConfig reads a TOML config file; unknown keys are errors (a misspelt key must not pass silently).
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	bz, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	dec := toml.NewDecoder(bytes.NewReader(bz))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var se *toml.StrictMissingError
		if errors.As(err, &se) {
			return c, fmt.Errorf("%s: unknown keys:\n%s", path, strings.TrimSpace(se.String()))
		}
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Write writes the config as TOML.
func (c Config) Write(path string) error {
	bz, err := toml.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(path, bz, 0o600)
}
