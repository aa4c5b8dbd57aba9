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

	// A misspelt key is an error, not silently ignored.
	require.NoError(t, os.WriteFile(path, []byte("roles = ['relay']\n[ethereum]\ncontrcat = '0x0'\n"), 0o600))
	_, err = relayer.LoadConfig(path)
	require.ErrorContains(t, err, "unknown keys")
	require.ErrorContains(t, err, "contrcat")
	require.NoError(t, os.WriteFile(path, []byte("interval = 'soon'\n"), 0o600))
	_, err = relayer.LoadConfig(path)
	require.ErrorContains(t, err, "is not a duration")
}
