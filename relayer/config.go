package relayer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
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
			CursorFile: "cursor.json",
		},
		Metrics: MetricsConfig{Listen: "127.0.0.1:26690"},
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
	if slices.Contains(c.Roles, "relay") && c.Ethereum.RelayKeystore == "" {
		errs = append(errs, errors.New("ethereum.relay_keystore: the relay role needs a funded Ethereum key for gas"))
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
