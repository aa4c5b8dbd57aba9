//go:build e2e

package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"testing"
	"time"

	"cosmossdk.io/log/v2"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"github.com/consensus-nro/nro/app"
	"github.com/consensus-nro/nro/contracts"
	"github.com/consensus-nro/nro/contracts/bindings"
	"github.com/consensus-nro/nro/relayer"
	"github.com/consensus-nro/nro/testutil/localnet"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
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

	// The relayer's signer, through its gRPC chain client with the orchestrator's key: it signs valset 1
	// (the contract address in genesis is the first contract of go-ethereum's well-known dev key, deployed
	// on the simulated backend with that valset), and a second confirmation comes back as ErrAlreadyDone.
	cosmos := dialCosmos(t, node, "submitter")
	require.Equal(t, orchestrator, cosmos.Address())
	latest, ok, err := cosmos.LatestValset(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	ethc, contract := deployWithValset(t, latest)
	require.Equal(t, "0x5FbDB2315678afecb367f032d93F642f64180aa3", contract.Hex())
	signer := &relayer.Signer{Chain: cosmos, Orchestrator: cosmos, Key: key, Ethereum: ethc, Contract: contract, Confirmations: 1, MaxRange: 100}
	n, err := signer.SignPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	confirms, err := cosmos.ValsetConfirms(ctx, 1)
	require.NoError(t, err)
	require.Len(t, confirms, 1)
	require.Equal(t, crypto.PubkeyToAddress(key.PublicKey).Hex(), confirms[0].EthAddress)
	n, err = signer.SignPending(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to sign")
	err = cosmos.ConfirmValset(ctx, 1, confirms[0].Signature)
	require.ErrorIs(t, err, relayer.ErrAlreadyDone)
	var ce *relayer.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "audit", ce.Codespace)
	// The relay: the contract already holds valset 1, so there is nothing to move.
	moved, err := (&relayer.Relay{Chain: cosmos, Ethereum: ethc, Contract: contract, Opts: devOpts(t, ethc)}).RelayValset(ctx)
	require.NoError(t, err)
	require.False(t, moved)
}

// devKey is go-ethereum's (and Hardhat's) well-known first dev account; its first contract is
// 0x5FbDB2315678afecb367f032d93F642f64180aa3.
const devKey = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

func devOpts(t *testing.T, eth simulated.Client) *bind.TransactOpts {
	key, err := crypto.HexToECDSA(devKey)
	require.NoError(t, err)
	chainID, err := eth.ChainID(context.Background())
	require.NoError(t, err)
	return bind.NewKeyedTransactor(key, chainID)
}

// deployWithValset deploys the settlement contract with vs on a simulated Ethereum.
func deployWithValset(t *testing.T, vs audittypes.BridgeValset) (simulated.Client, common.Address) {
	t.Helper()
	key, err := crypto.HexToECDSA(devKey)
	require.NoError(t, err)
	backend := simulated.NewBackend(ethtypes.GenesisAlloc{crypto.PubkeyToAddress(key.PublicKey): {Balance: new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether))}})
	t.Cleanup(func() { _ = backend.Close() })
	client := backend.Client()
	bridgeID, err := audittypes.ParseBridgeID("0x6e726f2d6532652d627269646765000000000000000000000000000000000000")
	require.NoError(t, err)
	addr, _, err := bind.DeployContract(devOpts(t, client), common.FromHex(bindings.NROSettlementMetaData.Bin), client,
		bindings.NewNROSettlement().PackConstructor(bridgeID, relayer.ContractValset(vs)))
	require.NoError(t, err)
	backend.Commit()
	return client, addr
}

// dialCosmos connects the relayer's chain client to the node's gRPC with a key of its test keyring.
func dialCosmos(t *testing.T, node *localnet.Node, key string) *relayer.Cosmos {
	t.Helper()
	tempApp := app.New(log.NewNopLogger(), dbm.NewMemDB(), true, simtestutil.NewAppOptionsWithFlagHome(t.TempDir()))
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", node.Ports.GRPC),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(tempApp.InterfaceRegistry()).GRPCCodec())))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, node.Home, nil, tempApp.AppCodec())
	require.NoError(t, err)
	c, err := relayer.NewCosmos(conn, node.ChainID, tempApp.TxConfig(), kr, key)
	require.NoError(t, err)
	c.GasPrices = "0unro"
	return c
}
