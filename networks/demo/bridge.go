package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"cosmossdk.io/log/v2"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/params"
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

const (
	demoBridgeID = "0x6e726f2d64656d6f2d6272696467652d31000000000000000000000000000000"
	// devKey is go-ethereum's (and Hardhat's) well-known first dev account: it deploys the settlement
	// contract on the embedded Ethereum, whose first contract is always demoContract.
	devKey       = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
	demoContract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
)

// demoBridgeParams turn the bridge on in genesis: x/audit's bridge id, the embedded Ethereum's chain id
// (1337) and the contract it will deploy; x/lease pays nodes with an Ethereum address through batches made
// every 5 blocks.
var demoBridgeParams = map[string]any{
	"bridge_id":           demoBridgeID,
	"eth_chain_id":        "1337",
	"settlement_contract": demoContract,
}

var demoLeaseParams = map[string]any{"bridge_enabled": true, "batch_blocks": "5"}

// providerEthAddress is the Ethereum payout address of a demo provider's node.
func providerEthAddress(key string) string {
	return crypto.PubkeyToAddress(mustKey("nro-demo/" + key).PublicKey).Hex()
}

func mustKey(seed string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte(seed)))
	if err != nil {
		panic(err)
	}
	return k
}

// bridge is the Ethereum side of the demo: go-ethereum's simulated backend in this process, sealing a block
// every 200 ms, with the settlement contract, and the relayer's signer (the validator's) and relay loops.
type bridge struct {
	backend *simulated.Backend
	client  simulated.Client
	token   *bind.BoundContract
	abi     *bindings.WrappedNRO
	stop    context.CancelFunc
	done    chan struct{}
}

func startBridge(ctx context.Context, st *stepper, node *localnet.Node) (*bridge, error) {
	st.step("Ethereum bridge: the validator registers its Ethereum signer; the contract is deployed with the chain's valset")
	tmp, err := os.MkdirTemp("", "nro-demo-codec")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	codecApp := app.New(log.NewNopLogger(), dbm.NewMemDB(), true, simtestutil.NewAppOptionsWithFlagHome(tmp))
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", node.Ports.GRPC), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(codecApp.InterfaceRegistry()).GRPCCodec())))
	if err != nil {
		return nil, err
	}
	kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, node.Home, nil, codecApp.AppCodec())
	if err != nil {
		return nil, err
	}
	operatorChain, err := relayer.NewCosmos(conn, node.ChainID, codecApp.TxConfig(), kr, "validator")
	if err != nil {
		return nil, err
	}
	orch, err := relayer.NewCosmos(conn, node.ChainID, codecApp.TxConfig(), kr, "orchestrator")
	if err != nil {
		return nil, err
	}
	operatorChain.GasPrices, orch.GasPrices = "0unro", "0unro"
	_, bz, err := bech32.DecodeAndConvert(operatorChain.Address())
	if err != nil {
		return nil, err
	}
	valoper, err := bech32.ConvertAndEncode("nrovaloper", sdk.ValAddress(bz))
	if err != nil {
		return nil, err
	}
	signerKey := mustKey("nro-demo/validator-eth-signer")
	signerAddr := crypto.PubkeyToAddress(signerKey.PublicKey)
	digest, err := contracts.SignerRegistrationDigest(node.ChainID, valoper, orch.Address())
	if err != nil {
		return nil, err
	}
	v, r, s, err := contracts.Sign(signerKey, digest)
	if err != nil {
		return nil, err
	}
	res, err := operatorChain.Send(ctx, &audittypes.MsgRegisterEthSigner{
		Operator: operatorChain.Address(), EthAddress: signerAddr.Hex(), Orchestrator: orch.Address(), EthSignature: contracts.SignatureBytes(v, r, s),
	})
	if err != nil {
		return nil, fmt.Errorf("register the validator's Ethereum signer: %w", err)
	}
	fmt.Printf("  MsgRegisterEthSigner: validator %s signs with %s, its orchestrator %s sends (block %d)\n",
		valoper, signerAddr.Hex(), orch.Address(), res.Height)
	var vs audittypes.BridgeValset
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		got, ok, err := orch.LatestValset(wait)
		if err != nil {
			return nil, err
		}
		if ok {
			vs = got
			break
		}
		select {
		case <-wait.Done():
			return nil, errors.New("no bridge valset 30 s after the signer registered")
		case <-tick.C:
		}
	}
	fmt.Printf("  bridge valset %d: %d signer, power %d of 2^32 (all the bonded stake)\n", vs.Nonce, len(vs.Members), vs.TotalPower())

	dev, err := crypto.HexToECDSA(devKey)
	if err != nil {
		return nil, err
	}
	backend := simulated.NewBackend(ethtypes.GenesisAlloc{crypto.PubkeyToAddress(dev.PublicKey): {Balance: new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))}})
	client := backend.Client()
	chainID, err := client.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	opts := bind.NewKeyedTransactor(dev, chainID)
	bridgeID, err := audittypes.ParseBridgeID(demoBridgeID)
	if err != nil {
		return nil, err
	}
	settle := bindings.NewNROSettlement()
	addr, _, err := bind.DeployContract(opts, common.FromHex(bindings.NROSettlementMetaData.Bin), client,
		settle.PackConstructor(bridgeID, relayer.ContractValset(vs)))
	if err != nil {
		return nil, err
	}
	backend.Commit()
	if addr.Hex() != demoContract {
		return nil, fmt.Errorf("contract deployed at %s, genesis names %s", addr.Hex(), demoContract)
	}
	tok, err := bind.Call(settle.Instance(client, addr), nil, settle.PackToken(), settle.UnpackToken)
	if err != nil {
		return nil, err
	}
	fmt.Printf("  NROSettlement deployed on the embedded Ethereum (chain id %s) at %s; wNRO at %s\n", chainID, addr.Hex(), tok.Hex())

	loopCtx, stop := context.WithCancel(ctx)
	b := &bridge{backend: backend, client: client, abi: bindings.NewWrappedNRO(), stop: stop, done: make(chan struct{})}
	b.token = b.abi.Instance(client, tok)
	start, _ := client.BlockNumber(ctx)
	signer := &relayer.Signer{Chain: orch, Orchestrator: orch, Key: signerKey, Ethereum: client, Contract: addr,
		StartBlock: start, Confirmations: 2, MaxRange: 100}
	relay := &relayer.Relay{Chain: orch, Ethereum: client, Contract: addr, Opts: opts, TimeoutMargin: 60}
	go func() {
		defer close(b.done)
		seal := time.NewTicker(200 * time.Millisecond)
		defer seal.Stop()
		loops := make(chan error, 1)
		go func() { loops <- relayer.Loops(loopCtx, time.Second, signer, relay, nil, nil) }()
		for {
			select {
			case <-loopCtx.Done():
				<-loops
				return
			case <-seal.C:
				backend.Commit()
			}
		}
	}()
	fmt.Println("  nro-relayer's signer (the validator's) and relay loops run beside the chain")
	return b, nil
}

func (b *bridge) close() {
	b.stop()
	<-b.done
	_ = b.backend.Close()
}

type recordJSON struct {
	EthAddress string                  `json:"eth_address"`
	Amount     struct{ Amount string } `json:"amount"`
	Bridged    bool                    `json:"bridged"`
	BatchNonce string                  `json:"batch_nonce"`
}

type batchJSON struct {
	Nonce   string `json:"nonce"`
	Payouts []struct {
		EthAddress string `json:"eth_address"`
		Amount     string `json:"amount"`
	} `json:"payouts"`
	RecordIDs []string `json:"record_ids"`
	State     string   `json:"state"`
	EthBlock  string   `json:"eth_block"`
	EthTxHash string   `json:"eth_tx_hash"`
}

// report waits until every bridged settlement record is in a BRIDGED batch and prints the batches and each
// provider's wNRO balance next to what the chain says it earned there.
func (b *bridge) report(ctx context.Context, st *stepper, node *localnet.Node) error {
	st.step("The providers' earnings bridged to Ethereum: batches signed by the validator, relayed, minted as wNRO")
	wait, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var records []recordJSON
	var batches []batchJSON
	for {
		var rr struct{ Records []recordJSON }
		if err := node.Query(wait, &rr, "lease", "settlement-records"); err != nil {
			return err
		}
		var br struct{ Batches []batchJSON }
		if err := node.Query(wait, &br, "lease", "batches"); err != nil {
			return err
		}
		records, batches = rr.Records, br.Batches
		if bridgedDone(records, batches) {
			break
		}
		select {
		case <-wait.Done():
			return fmt.Errorf("bridged records not all BRIDGED after 120 s (%d batches)", len(batches))
		case <-tick.C:
		}
	}
	owed := map[string]int64{}
	for _, r := range records {
		if r.Bridged {
			a, _ := strconv.ParseInt(r.Amount.Amount, 10, 64)
			owed[r.EthAddress] += a
		}
	}
	for _, bt := range batches {
		var payouts []string
		for _, p := range bt.Payouts {
			payouts = append(payouts, fmt.Sprintf("%s… %s unro", p.EthAddress[:10], p.Amount))
		}
		fmt.Printf("  batch %s: %s, %d record(s), payouts [%s], Ethereum block %s, tx %s\n", bt.Nonce,
			strings.TrimPrefix(bt.State, "BATCH_STATE_"), len(bt.RecordIDs), strings.Join(payouts, ", "), bt.EthBlock, shorten(bt.EthTxHash, 14))
	}
	addrs := make([]string, 0, len(owed))
	for a := range owed {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		bal, err := bind.Call(b.token, nil, b.abi.PackBalanceOf(common.HexToAddress(a)), b.abi.UnpackBalanceOf)
		if err != nil {
			return err
		}
		fmt.Printf("  %s: %s wNRO units on Ethereum; the chain's bridged settlement records owe it %d unro\n", a, bal, owed[a])
		if bal.Cmp(big.NewInt(owed[a])) != 0 {
			return fmt.Errorf("%s holds %s wNRO but the chain owes it %d unro", a, bal, owed[a])
		}
	}
	if len(addrs) == 0 {
		return errors.New("no bridged settlement records: the demo's bridged provider earned nothing")
	}
	fmt.Println("  every bridged unro is on Ethereum exactly once; the unro stay locked in lease_bridge as the backing")
	return nil
}

func bridgedDone(records []recordJSON, batches []batchJSON) bool {
	state := map[string]string{}
	for _, b := range batches {
		state[b.Nonce] = b.State
	}
	any := false
	for _, r := range records {
		if !r.Bridged {
			continue
		}
		any = true
		if state[r.BatchNonce] != "BATCH_STATE_BRIDGED" {
			return false
		}
	}
	return any
}
