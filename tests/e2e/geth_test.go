//go:build e2e

package e2e

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"github.com/consensus-nro/nro/contracts"
	"github.com/consensus-nro/nro/contracts/bindings"
	"github.com/consensus-nro/nro/relayer"
	"github.com/consensus-nro/nro/testutil/localnet"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

// gethDevKey is the key geth --dev imports as its pre-funded developer account when the datadir has none
// (go-ethereum cmd/utils.DeveloperKey).
const gethDevKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"

const gethBridgeID = "0x6e726f2d676574682d6532652d62726964676500000000000000000000000000"

// gethBinary is the geth this test runs: GETH_BINARY, or the one scripts/install-geth.sh puts in
// .tools/bin. A GETH_BINARY that is not there fails the test (make test-geth sets it after installing
// geth, so a broken install cannot pass as a skip); without GETH_BINARY the test skips, and says why, when
// .tools/bin has no geth (a plain `go test -tags e2e` on a machine that never ran the install script).
func gethBinary(t *testing.T) string {
	t.Helper()
	p, explicit := os.LookupEnv("GETH_BINARY")
	if !explicit || p == "" {
		p, explicit = "../../.tools/bin/geth", false
	}
	p, err := filepath.Abs(p)
	require.NoError(t, err)
	if _, err := os.Stat(p); err != nil {
		require.False(t, explicit, "GETH_BINARY=%s: %v", p, err)
		t.Skipf("no geth at %s (%v): run scripts/install-geth.sh or make test-geth, or set GETH_BINARY", p, err)
	}
	return p
}

func relayerBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("NRO_RELAYER_BINARY")
	if p == "" {
		p = "../../build/nro-relayer"
	}
	p, err := filepath.Abs(p)
	require.NoError(t, err)
	_, err = os.Stat(p)
	require.NoError(t, err, "build nro-relayer first (make build) or set NRO_RELAYER_BINARY")
	return p
}

// startGeth runs geth --dev on 127.0.0.1 (random ports, a temporary datadir, a block every second) and
// returns a JSON-RPC client and the URL.
func startGeth(t *testing.T, ctx context.Context) (*ethclient.Client, string) {
	t.Helper()
	bin := gethBinary(t)
	ports, err := localnet.FreePorts()
	require.NoError(t, err)
	logf, err := os.Create(filepath.Join(t.TempDir(), "geth.log"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = logf.Close() })
	cmd := exec.Command(bin, "--dev", "--dev.period", "1", "--datadir", t.TempDir(),
		"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(ports.RPC), "--http.api", "eth,net,web3",
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", strconv.Itoa(ports.GRPC),
		"--port", "0", "--nodiscover", "--maxpeers", "0", "--ipcdisable", "--verbosity", "3")
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	t.Logf("geth --dev log: %s", logf.Name())
	url := fmt.Sprintf("http://127.0.0.1:%d", ports.RPC)
	var client *ethclient.Client
	require.Eventually(t, func() bool {
		c, err := ethclient.DialContext(ctx, url)
		if err != nil {
			return false
		}
		if n, err := c.BlockNumber(ctx); err != nil || n == 0 {
			c.Close()
			return false
		}
		client = c
		return true
	}, time.Minute, 200*time.Millisecond, "geth --dev answers on %s and seals blocks (log: %s)", url, logf.Name())
	t.Cleanup(client.Close)
	return client, url
}

// writeKeystore writes key as a go-ethereum keystore file (light scrypt) and its password file.
func writeKeystore(t *testing.T, dir, name string, key *ecdsa.PrivateKey) (file, passwordFile string) {
	t.Helper()
	const password = "e2e"
	bz, err := keystore.EncryptKey(&keystore.Key{Address: crypto.PubkeyToAddress(key.PublicKey), PrivateKey: key},
		password, keystore.LightScryptN, keystore.LightScryptP)
	require.NoError(t, err)
	file, passwordFile = filepath.Join(dir, name+".json"), filepath.Join(dir, name+".password")
	require.NoError(t, os.WriteFile(file, bz, 0o600))
	require.NoError(t, os.WriteFile(passwordFile, []byte(password+"\n"), 0o600))
	return file, passwordFile
}

// relayerProc is one nro-relayer process; its output goes to a log file that survives restarts.
type relayerProc struct {
	t    *testing.T
	bin  string
	home string
	log  *os.File
	cmd  *exec.Cmd
	done chan error
}

func (p *relayerProc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, "start", "--home", p.home)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	require.NoError(p.t, p.cmd.Start())
	p.done = make(chan error, 1)
	go func(c *exec.Cmd, done chan error) { done <- c.Wait() }(p.cmd, p.done)
}

func (p *relayerProc) kill() {
	p.t.Helper()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

func (p *relayerProc) tail() string {
	bz, _ := os.ReadFile(p.log.Name())
	if len(bz) > 4000 {
		bz = bz[len(bz)-4000:]
	}
	return string(bz)
}

// bridgedRecordJSON and bridgeBatchJSON are what `nrod q lease settlement-records|batches -o json` print.
type (
	bridgedRecordJSON struct {
		ID         string        `json:"id"`
		EthAddress string        `json:"eth_address"`
		Amount     leaseCoinJSON `json:"amount"`
		Bridged    bool          `json:"bridged"`
		BatchNonce string        `json:"batch_nonce"`
	}
	bridgeBatchJSON struct {
		Nonce     string        `json:"nonce"`
		State     string        `json:"state"`
		Total     leaseCoinJSON `json:"total"`
		RecordIDs []string      `json:"record_ids"`
	}
)

// TestRelayAgainstGeth runs the bridge end to end against real processes: geth --dev over JSON-RPC, the
// real nrod, and the real nro-relayer binary as two processes (the validator's signer, and a relay).
// Leases close on the chain, batches form, the signer confirms them, the relay submits them, and the
// providers' wNRO on Ethereum equals what the chain owes them, to the unit, with every batch BRIDGED. Then,
// batch after batch, the relay is killed with SIGKILL at random points (seeded; the seed is printed, and
// E2E_KILL_SEED replays it) and restarted: no batch is minted twice and no payout is lost.
func TestRelayAgainstGeth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	eth, ethURL := startGeth(t, ctx)
	relayerBin := relayerBinary(t)
	chainID, err := eth.ChainID(ctx)
	require.NoError(t, err)

	// The settlement contract's address goes into genesis before the chain's valset exists: it is the
	// dev account's next contract.
	dev, err := crypto.HexToECDSA(gethDevKey)
	require.NoError(t, err)
	devAddr := crypto.PubkeyToAddress(dev.PublicKey)
	devNonce, err := eth.PendingNonceAt(ctx, devAddr)
	require.NoError(t, err)
	contractAddr := crypto.CreateAddress(devAddr, devNonce)

	node := startNodeWith(t, ctx, t.TempDir(), 0, map[string]map[string]any{
		// epoch_blocks: no node misses an epoch while the test runs (it runs no agents).
		"audit": {"bridge_id": gethBridgeID, "eth_chain_id": chainID.String(), "settlement_contract": contractAddr.Hex(), "epoch_blocks": "2000"},
		"lease": {"bridge_enabled": true, "batch_blocks": "2"},
	})
	t.Cleanup(func() { _ = node.Stop() })
	_, err = node.WaitForHeight(ctx, 2, time.Minute)
	require.NoError(t, err)

	// The validator registers its Ethereum signer; provider-3's account is its orchestrator (this test
	// sends nothing else from it). The next EndBlock makes valset 1.
	operator, err := node.Address(ctx, "validator")
	require.NoError(t, err)
	orchestrator, err := node.Address(ctx, "provider-3")
	require.NoError(t, err)
	_, bz, err := bech32.DecodeAndConvert(operator)
	require.NoError(t, err)
	valoper, err := bech32.ConvertAndEncode("nrovaloper", sdk.ValAddress(bz))
	require.NoError(t, err)
	signerKey, err := crypto.ToECDSA(crypto.Keccak256([]byte("e2e-geth/validator-eth-signer")))
	require.NoError(t, err)
	digest, err := contracts.SignerRegistrationDigest(node.ChainID, valoper, orchestrator)
	require.NoError(t, err)
	v, r, s, err := contracts.Sign(signerKey, digest)
	require.NoError(t, err)
	mustTx(t, ctx, node, "validator", "audit", "register-eth-signer", crypto.PubkeyToAddress(signerKey.PublicKey).Hex(), orchestrator,
		hex.EncodeToString(contracts.SignatureBytes(v, r, s)))
	cosmos := dialCosmos(t, node, "provider-3")
	var vs audittypes.BridgeValset
	require.Eventually(t, func() bool {
		got, ok, err := cosmos.LatestValset(ctx)
		vs = got
		return err == nil && ok
	}, 30*time.Second, 300*time.Millisecond, "bridge valset 1 after the signer's registration")

	// Deploy the contract from the dev account with valset 1, through the committed bindings.
	devOpts := bind.NewKeyedTransactor(dev, chainID)
	bridgeID, err := audittypes.ParseBridgeID(gethBridgeID)
	require.NoError(t, err)
	settle := bindings.NewNROSettlement()
	deployed, deployTx, err := bind.DeployContract(devOpts, common.FromHex(bindings.NROSettlementMetaData.Bin), eth,
		settle.PackConstructor(bridgeID, relayer.ContractValset(vs)))
	require.NoError(t, err)
	require.Equal(t, contractAddr, deployed)
	deployRec, err := bind.WaitMined(ctx, eth, deployTx.Hash())
	require.NoError(t, err)
	require.Equal(t, ethtypes.ReceiptStatusSuccessful, deployRec.Status)
	inst := settle.Instance(eth, contractAddr)
	tokenAddr, err := bind.Call(inst, nil, settle.PackToken(), settle.UnpackToken)
	require.NoError(t, err)
	tokenABI := bindings.NewWrappedNRO()
	token := tokenABI.Instance(eth, tokenAddr)

	// The relay's gas account, funded by the dev account.
	relayKey, err := crypto.ToECDSA(crypto.Keccak256([]byte("e2e-geth/relay-gas")))
	require.NoError(t, err)
	relayAddr := crypto.PubkeyToAddress(relayKey.PublicKey)
	tip, err := eth.SuggestGasTipCap(ctx)
	require.NoError(t, err)
	head, err := eth.HeaderByNumber(ctx, nil)
	require.NoError(t, err)
	fund, err := ethtypes.SignNewTx(dev, ethtypes.LatestSignerForChainID(chainID), &ethtypes.DynamicFeeTx{
		ChainID: chainID, Nonce: devNonce + 1, GasTipCap: tip, GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip),
		Gas: 21000, To: &relayAddr, Value: new(big.Int).Mul(big.NewInt(10), big.NewInt(params.Ether)),
	})
	require.NoError(t, err)
	require.NoError(t, eth.SendTransaction(ctx, fund))
	fundRec, err := bind.WaitMined(ctx, eth, fund.Hash())
	require.NoError(t, err)
	require.Equal(t, ethtypes.ReceiptStatusSuccessful, fundRec.Status)

	// Two relayer homes: the validator's signer and a relay, both over the node's test keyring.
	newHome := func(role string) *relayerProc {
		home := t.TempDir()
		cfg := relayer.DefaultConfig()
		cfg.Roles = []string{role}
		cfg.Interval = relayer.Duration(500 * time.Millisecond)
		cfg.Chain = relayer.ChainConfig{GRPC: fmt.Sprintf("127.0.0.1:%d", node.Ports.GRPC), ChainID: node.ChainID, KeyName: "provider-3",
			KeyringBackend: "test", KeyringDir: node.Home, GasPrices: "0unro"}
		cfg.Ethereum.RPC, cfg.Ethereum.Contract, cfg.Ethereum.StartBlock = ethURL, contractAddr.Hex(), deployRec.BlockNumber.Uint64()
		cfg.Ethereum.Confirmations, cfg.Ethereum.TimeoutMargin = 2, relayer.Duration(time.Minute)
		cfg.Ethereum.MaxFeePerGas, cfg.Ethereum.MaxPriorityFeePerGas = "50gwei", "1gwei"
		cfg.Ethereum.TxConfirmations, cfg.Ethereum.TxTimeout = 3, relayer.Duration(2*time.Minute)
		cfg.Retry = relayer.RetryConfig{Initial: relayer.Duration(200 * time.Millisecond), MaxInterval: relayer.Duration(2 * time.Second),
			MaxElapsed: relayer.Duration(30 * time.Second)}
		cfg.Metrics.Listen = ""
		if role == "signer" {
			cfg.Ethereum.SignerKeystore, cfg.Ethereum.SignerPassword = writeKeystore(t, home, "signer", signerKey)
		} else {
			cfg.Ethereum.RelayKeystore, cfg.Ethereum.RelayPassword = writeKeystore(t, home, "relay", relayKey)
		}
		require.NoError(t, cfg.Validate())
		require.NoError(t, cfg.Write(filepath.Join(home, relayer.ConfigFileName)))
		logf, err := os.Create(filepath.Join(t.TempDir(), "nro-relayer-"+role+".log"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = logf.Close() })
		t.Logf("nro-relayer %s log: %s", role, logf.Name())
		p := &relayerProc{t: t, bin: relayerBin, home: home, log: logf}
		t.Cleanup(p.kill)
		return p
	}
	signer, relay := newHome("signer"), newHome("relay")

	// Two providers' nodes with Ethereum payout addresses, one per region.
	var ap struct {
		Params struct {
			MinStakePerGpu leaseCoinJSON `json:"min_stake_per_gpu"`
		}
	}
	require.NoError(t, node.Query(ctx, &ap, "allocation", "params"))
	stake := 8 * toInt(t, ap.Params.MinStakePerGpu.Amount)
	type provider struct{ key, node, region, eth string }
	providers := []provider{{key: "provider-1", node: "geth-a", region: "aws:us-east-1"}, {key: "provider-2", node: "geth-b", region: "aws:us-east-2"}}
	for i := range providers {
		k, err := crypto.ToECDSA(crypto.Keccak256([]byte("e2e-geth/payout/" + providers[i].key)))
		require.NoError(t, err)
		providers[i].eth = crypto.PubkeyToAddress(k.PublicKey).Hex()
		mustTx(t, ctx, node, providers[i].key, "allocation", "register-node", providers[i].node,
			"--region", providers[i].region, "--gpus", "8xH100:81920", "--bandwidth-mbps", "25000",
			"--price", "2500000unro", "--stake", fmt.Sprintf("%dunro", stake), "--eth-address", providers[i].eth)
	}

	// Eight leases of 2 GPUs, four on each node, all ACTIVE before the first closes.
	var leases []string
	for i := range 8 {
		mustTx(t, ctx, node, "submitter", "lease", "create", "--gpus", "2", "--gpu-model", "H100",
			"--regions", providers[i%2].region, "--max-rtt-ms", "40", "--duration-blocks", "100000",
			"--max-price", "3000000unro", "--deposit", "1000000000unro")
		leases = append(leases, strconv.Itoa(i+1))
	}
	for _, id := range leases {
		require.Eventually(t, func() bool { return queryLease(t, ctx, node, id).Lease.State == "LEASE_STATE_ACTIVE" },
			time.Minute, 300*time.Millisecond, "lease %s ACTIVE", id)
	}
	signer.start()
	relay.start()

	// check asserts the bridge's books. At any moment: no provider holds more wNRO than its bridged
	// records add up to, and the contract executed each batch at most once, each of them one the chain
	// has (and, once attested, BRIDGED). Once every bridged record is in a BRIDGED batch — check then
	// reports true — each provider's wNRO equals what those records owe it to the unit, the wNRO supply
	// equals the BRIDGED batches' totals (nothing minted twice), and the contract's lastBatchNonce is the
	// highest BRIDGED batch. final requires that state.
	check := func(final bool) bool {
		var rr struct{ Records []bridgedRecordJSON }
		require.NoError(t, node.Query(ctx, &rr, "lease", "settlement-records", "--page-limit", "1000"))
		var br struct{ Batches []bridgeBatchJSON }
		require.NoError(t, node.Query(ctx, &br, "lease", "batches", "--page-limit", "1000"))
		state := map[string]string{}
		bridgedTotal, highest := new(big.Int), uint64(0)
		for _, b := range br.Batches {
			state[b.Nonce] = b.State
			if b.State == "BATCH_STATE_BRIDGED" {
				bridgedTotal.Add(bridgedTotal, big.NewInt(toInt(t, b.Total.Amount)))
				highest = max(highest, uint64(toInt(t, b.Nonce)))
			}
		}
		owed, all := map[string]*big.Int{}, true
		for _, r := range rr.Records {
			if !r.Bridged {
				continue
			}
			if owed[r.EthAddress] == nil {
				owed[r.EthAddress] = new(big.Int)
			}
			owed[r.EthAddress].Add(owed[r.EthAddress], big.NewInt(toInt(t, r.Amount.Amount)))
			all = all && state[r.BatchNonce] == "BATCH_STATE_BRIDGED"
		}
		require.False(t, final && !all, "some bridged record is not in a BRIDGED batch")
		supplyWant := new(big.Int)
		for _, p := range providers {
			bal, err := bind.Call(token, nil, tokenABI.PackBalanceOf(common.HexToAddress(p.eth)), tokenABI.UnpackBalanceOf)
			require.NoError(t, err)
			want := owed[p.eth]
			if want == nil {
				want = new(big.Int)
			}
			supplyWant.Add(supplyWant, want)
			require.LessOrEqual(t, bal.Cmp(want), 0, "%s holds %s wNRO, more than the %s its records owe", p.key, bal, want)
			if all {
				require.Equal(t, want.String(), bal.String(), "%s's wNRO equals what the chain owes it", p.key)
			}
		}
		supply, err := bind.Call(token, nil, tokenABI.PackTotalSupply(), tokenABI.UnpackTotalSupply)
		require.NoError(t, err)
		require.LessOrEqual(t, supply.Cmp(supplyWant), 0, "wNRO supply %s above the %s the chain owes", supply, supplyWant)
		last, err := bind.Call(inst, nil, settle.PackLastBatchNonce(), settle.UnpackLastBatchNonce)
		require.NoError(t, err)
		require.GreaterOrEqual(t, last.Uint64(), highest, "the contract is behind a BRIDGED batch")
		if all {
			require.Equal(t, bridgedTotal.String(), supply.String(), "wNRO supply equals the BRIDGED batches: nothing minted twice")
			require.Equal(t, highest, last.Uint64(), "the contract's lastBatchNonce is the chain's highest BRIDGED batch")
		}
		executed, err := eth.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: deployRec.BlockNumber, Addresses: []common.Address{contractAddr},
			Topics: [][]common.Hash{{settle.GetABI().Events[bindings.NROSettlementBatchExecutedEventName].ID}}})
		require.NoError(t, err)
		seen := map[uint64]int{}
		for i := range executed {
			ev, err := settle.UnpackBatchExecutedEvent(&executed[i])
			require.NoError(t, err)
			n := ev.BatchNonce.Uint64()
			seen[n]++
			require.Equal(t, 1, seen[n], "batch %d executed once", n)
			require.NotEmpty(t, state[ev.BatchNonce.String()], "executed batch %d is one of the chain's", n)
			if all {
				require.Equal(t, "BATCH_STATE_BRIDGED", state[ev.BatchNonce.String()], "executed batch %d is BRIDGED on the chain", n)
			}
		}
		return all && len(owed) > 0
	}
	waitBridged := func(what string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for !check(false) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: bridged records not all BRIDGED after 90 s\nrelay log:\n%s\nsigner log:\n%s", what, relay.tail(), signer.tail())
			}
			time.Sleep(time.Second) // poll interval
		}
		check(true)
	}

	// ---- 1. No faults: two leases close, their batch goes through.
	mustTx(t, ctx, node, "submitter", "lease", "close", leases[0])
	mustTx(t, ctx, node, "submitter", "lease", "close", leases[1])
	waitBridged("leases 1 and 2")
	t.Log("leases 1 and 2: bridged, balances and supply match the chain")

	// ---- 2. SIGKILL at random points, batch after batch.
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("E2E_KILL_SEED"); s != "" {
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("SIGKILL seed %d (E2E_KILL_SEED=%d replays the kill points)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	kills := 0
	for _, id := range leases[2:] {
		relay.kill()
		mustTx(t, ctx, node, "submitter", "lease", "close", id)
		// Three runs of the relay, each killed after a random time: before it reads anything, while it
		// sends, or while it waits for its transaction's confirmations (3 blocks of 1 s).
		for range 3 {
			relay.start()
			d := time.Duration(rng.Int64N(int64(4 * time.Second)))
			time.Sleep(d)
			relay.kill()
			kills++
			t.Logf("lease %s closed: relay killed after %s", id, d.Round(time.Millisecond))
			check(false) // never more on Ethereum than the chain owes, at any point
		}
		relay.start()
		waitBridged("lease " + id)
	}
	t.Logf("%d SIGKILLs over %d batches: no double mint, no lost payout", kills, len(leases)-2)
	check(true)
	relay.kill()
	// What the kills cost: the relay's transactions against the batches executed (a relay killed while its
	// transaction was in flight waits for it after the restart instead of sending the batch again).
	sentTxs, err := eth.NonceAt(ctx, relayAddr, nil)
	require.NoError(t, err)
	var br struct{ Batches []bridgeBatchJSON }
	require.NoError(t, node.Query(ctx, &br, "lease", "batches", "--page-limit", "1000"))
	logText, err := os.ReadFile(relay.log.Name())
	require.NoError(t, err)
	t.Logf("relay: %d Ethereum transactions for %d batches on the chain; %d starts, %d \"batch relayed\", %d waits for its own pending transaction, "+
		"%d journaled transactions resumed, %d dropped as not in the pool, %d stale reverts",
		sentTxs, len(br.Batches), strings.Count(string(logText), "nro-relayer started"), strings.Count(string(logText), "batch relayed"),
		strings.Count(string(logText), "waiting for the relay account's pending transactions"),
		strings.Count(string(logText), "waiting for the journaled transaction"), strings.Count(string(logText), "the journaled transaction is not in the node's pool"),
		strings.Count(string(logText), "already on the contract"))
	require.NotContains(t, string(logText), "panic", "the relay never panicked")
}
