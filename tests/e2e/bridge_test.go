//go:build e2e

package e2e

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"github.com/consensus-nro/nro/contracts"
)

// TestEthSignerAndValsetThroughCLI runs the chain side of the bridge on the real nrod with x/staking: the
// validator's operator registers an Ethereum signer and orchestrator with a proof of the key; a bad proof is
// refused; the bridge valset is made from the bonded validator (all the power: 2^32).
func TestEthSignerAndValsetThroughCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	node := startNodeWith(t, ctx, t.TempDir(), 0, map[string]map[string]any{
		"audit": {
			"bridge_id":           "0x6e726f2d6532652d627269646765000000000000000000000000000000000000",
			"eth_chain_id":        "1337",
			"settlement_contract": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
		},
	})
	t.Cleanup(func() { _ = node.Stop() })
	_, err := node.WaitForHeight(ctx, 2, time.Minute)
	require.NoError(t, err)

	operator, err := node.Address(ctx, "validator")
	require.NoError(t, err)
	orchestrator, err := node.Address(ctx, "submitter")
	require.NoError(t, err)
	_, bz, err := bech32.DecodeAndConvert(operator)
	require.NoError(t, err)
	valoper, err := bech32.ConvertAndEncode("nrovaloper", sdk.ValAddress(bz))
	require.NoError(t, err)
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("e2e-eth-signer")))
	require.NoError(t, err)
	eth := crypto.PubkeyToAddress(key.PublicKey).Hex()
	digest, err := contracts.SignerRegistrationDigest(node.ChainID, valoper, orchestrator)
	require.NoError(t, err)
	v, r, s, err := contracts.Sign(key, digest)
	require.NoError(t, err)
	sig := hex.EncodeToString(contracts.SignatureBytes(v, r, s))

	// A proof for another orchestrator does not recover to the address: refused.
	res, err := node.Tx(ctx, "validator", "audit", "register-eth-signer", eth, operator, sig)
	require.NoError(t, err)
	require.NotZero(t, res.Code)
	require.Contains(t, res.Log, "recovers to")

	res, err = node.Tx(ctx, "validator", "audit", "register-eth-signer", eth, orchestrator, sig)
	require.NoError(t, err)
	require.Zero(t, res.Code, res.Log)

	var signers struct {
		Signers []struct {
			Validator    string `json:"validator"`
			EthAddress   string `json:"eth_address"`
			Orchestrator string `json:"orchestrator"`
		} `json:"signers"`
	}
	require.NoError(t, node.Query(ctx, &signers, "audit", "eth-signers"))
	require.Len(t, signers.Signers, 1)
	require.Equal(t, valoper, signers.Signers[0].Validator)
	require.Equal(t, eth, signers.Signers[0].EthAddress)
	require.Equal(t, orchestrator, signers.Signers[0].Orchestrator)

	// The next EndBlock makes valset 1 with the only bonded validator holding all the power.
	var vs struct {
		Valset struct {
			Nonce   string `json:"nonce"`
			Members []struct {
				EthAddress string `json:"eth_address"`
				Power      string `json:"power"`
				Validator  string `json:"validator"`
			} `json:"members"`
		} `json:"valset"`
	}
	require.Eventually(t, func() bool { return node.Query(ctx, &vs, "audit", "valset", "0") == nil }, 30*time.Second, 500*time.Millisecond)
	require.Equal(t, "1", vs.Valset.Nonce)
	require.Len(t, vs.Valset.Members, 1)
	require.Equal(t, eth, vs.Valset.Members[0].EthAddress)
	require.Equal(t, "4294967296", vs.Valset.Members[0].Power)
	require.Equal(t, valoper, vs.Valset.Members[0].Validator)
}
