package relayer_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/relayer"
)

func TestConfigRoundTripAndValidation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, relayer.ConfigFileName)
	c := relayer.DefaultConfig()
	c.Ethereum.Contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
	c.Ethereum.SignerKeystore, c.Ethereum.RelayKeystore = "signer.json", "relay.json"
	c.Interval = relayer.Duration(3 * time.Second)
	require.NoError(t, c.Validate())
	require.NoError(t, c.Write(path))
	got, err := relayer.LoadConfig(path)
	require.NoError(t, err)
	require.Equal(t, c, got)

	// The defaults alone do not run: the contract and the keys must be named, and each error says how.
	err = relayer.DefaultConfig().Validate()
	require.ErrorContains(t, err, "ethereum.contract")
	require.ErrorContains(t, err, "signer_keystore")
	require.ErrorContains(t, err, "relay_keystore")

	bad := c
	bad.Roles = []string{"oracle"}
	require.ErrorContains(t, bad.Validate(), `"oracle" is not a role`)
	bad = c
	bad.Roles = []string{"relay"}
	bad.Ethereum.SignerKeystore = ""
	require.NoError(t, bad.Validate(), "a relay needs no signer key")

	// The relay's fee caps: a unit is required, the tip may not exceed the fee, both must be positive.
	v, err := relayer.Wei("30gwei").Value()
	require.NoError(t, err)
	require.Equal(t, "30000000000", v.String())
	v, err = relayer.Wei("1500000000wei").Value()
	require.NoError(t, err)
	require.Equal(t, "1500000000", v.String())
	for _, w := range []relayer.Wei{"30", "1.5gwei", "0gwei", "-1wei", "gwei"} {
		_, err := w.Value()
		require.Error(t, err, "%q", w)
	}
	bad = c
	bad.Ethereum.MaxFeePerGas = "30"
	require.ErrorContains(t, bad.Validate(), "ethereum.max_fee_per_gas")
	require.ErrorContains(t, bad.Validate(), "has no unit")
	bad = c
	bad.Ethereum.MaxFeePerGas, bad.Ethereum.MaxPriorityFeePerGas = "1gwei", "2gwei"
	require.ErrorContains(t, bad.Validate(), "max_priority_fee_per_gas 2gwei is above max_fee_per_gas 1gwei")
	bad = c
	bad.Ethereum.TxConfirmations = 0
	require.ErrorContains(t, bad.Validate(), "ethereum.tx_confirmations")
	bad = c
	bad.Ethereum.BumpAfter = bad.Ethereum.TxTimeout
	require.ErrorContains(t, bad.Validate(), "ethereum.bump_after 5m0s: want a positive duration below tx_timeout 5m0s")
	bad.Ethereum.BumpAfter = 0
	require.ErrorContains(t, bad.Validate(), "ethereum.bump_after 0s")
	bad = c
	bad.Retry.MaxInterval = relayer.Duration(time.Millisecond)
	require.ErrorContains(t, bad.Validate(), "retry:")
	bad = c
	bad.Roles = []string{"signer"}
	bad.Ethereum.MaxFeePerGas = ""
	require.NoError(t, bad.Validate(), "a signer sends no Ethereum transactions and needs no fee caps")

	// A misspelt key is an error, not silently ignored.
	require.NoError(t, os.WriteFile(path, []byte("roles = ['relay']\n[ethereum]\ncontrcat = '0x0'\n"), 0o600))
	_, err = relayer.LoadConfig(path)
	require.ErrorContains(t, err, "unknown keys")
	require.ErrorContains(t, err, "contrcat")
	require.NoError(t, os.WriteFile(path, []byte("interval = 'soon'\n"), 0o600))
	_, err = relayer.LoadConfig(path)
	require.ErrorContains(t, err, "is not a duration")
}
