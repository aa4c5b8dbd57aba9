package keeper_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"cosmossdk.io/math"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/contracts/bindings"
	"github.com/consensus-nro/nro/relayer"
	"github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// bridgeBench is a chain fixture with V validators and the settlement contract deployed with their valset
// on go-ethereum's simulated backend.
type bridgeBench struct {
	tb       testing.TB
	f        *testutil.Fixture
	vals     []bridgeVal
	vs       types.BridgeValset
	backend  *simulated.Backend
	client   simulated.Client
	opts     *bind.TransactOpts
	treasury common.Address
	settle   *bindings.NROSettlement
	token    *bindings.WrappedNRO
	inst     *bind.BoundContract
	tokInst  *bind.BoundContract
	record   uint64
}

func newBridgeBench(tb testing.TB, validators int) *bridgeBench {
	f, vals := bridgeFixture(tb, validators)
	// The chain's block time is the wall clock, as on a live chain, so that batch timeouts are in the
	// simulated Ethereum's future.
	f.Ctx = f.Ctx.WithBlockTime(time.Now())
	register(tb, f, vals...)
	require.NoError(tb, f.EndBlock())
	vs, ok, err := f.Keeper.LatestValset(f.Ctx)
	require.NoError(tb, err)
	require.True(tb, ok)
	lp, err := f.LeaseKeeper.Params.Get(f.Ctx)
	require.NoError(tb, err)
	lp.BatchBlocks, lp.MaxBatchRecords = 1, 1000
	require.NoError(tb, f.LeaseKeeper.Params.Set(f.Ctx, lp))

	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("nro-bench-deployer")))
	require.NoError(tb, err)
	from := crypto.PubkeyToAddress(key.PublicKey)
	// Current mainnet rules (Osaka): the simulated backend's dev config also enables the unreleased Bogota
	// fork, whose storage pricing would make the numbers unrepresentative (as in contracts/settlement_test.go).
	backend := simulated.NewBackend(ethtypes.GenesisAlloc{from: {Balance: new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))}},
		simulated.WithBlockGasLimit(60_000_000), func(_ *node.Config, ethConf *ethconfig.Config) {
			cfg := *ethConf.Genesis.Config
			cfg.BogotaTime = nil
			ethConf.Genesis.Config = &cfg
		})
	tb.Cleanup(func() { _ = backend.Close() })
	client := backend.Client()
	chainID, err := client.ChainID(context.Background())
	require.NoError(tb, err)
	opts := bind.NewKeyedTransactor(key, chainID)
	opts.GasLimit = 16_000_000 // below Osaka's per-transaction cap of 2^24
	b := &bridgeBench{tb: tb, f: f, vals: vals, vs: vs, backend: backend, client: client, opts: opts, treasury: from,
		settle: bindings.NewNROSettlement(), token: bindings.NewWrappedNRO()}
	bridgeID, err := types.ParseBridgeID(testBridgeID)
	require.NoError(tb, err)
	addr, _, err := bind.DeployContract(opts, common.FromHex(bindings.NROSettlementMetaData.Bin), client,
		b.settle.PackConstructor(bridgeID, relayer.ContractValset(vs)))
	require.NoError(tb, err)
	backend.Commit()
	b.inst = b.settle.Instance(client, addr)
	tok, err := bind.Call(b.inst, nil, b.settle.PackToken(), b.settle.UnpackToken)
	require.NoError(tb, err)
	b.tokInst = b.token.Instance(client, tok)
	p := f.Params()
	p.EthChainId, p.SettlementContract = chainID.Uint64(), addr.Hex()
	f.SetParams(p)
	return b
}

func (b *bridgeBench) send(inst *bind.BoundContract, data []byte) *ethtypes.Receipt {
	tx, err := bind.Transact(inst, b.opts, data)
	require.NoError(b.tb, err)
	b.backend.Commit()
	r, err := b.client.TransactionReceipt(context.Background(), tx.Hash())
	require.NoError(b.tb, err)
	require.Equal(b.tb, ethtypes.ReceiptStatusSuccessful, r.Status)
	return r
}

// settle writes one bridged settlement record per lease (lease i pays recipients[i % len]), lets x/lease
// batch them, has just over 2/3 of the validators confirm the batch on the chain, submits it with those
// signatures, and returns the gas the contract call used.
func (b *bridgeBench) settleLeases(leases int, recipients []common.Address) uint64 {
	f := b.f
	for i := range leases {
		b.record++
		rec := leasetypes.SettlementRecord{
			Id: b.record, LeaseId: b.record, NodeId: fmt.Sprintf("node-%d", i%len(recipients)),
			Operator: f.Addr("operator"), EthAddress: recipients[i%len(recipients)].Hex(),
			Amount: sdk.NewCoin("unro", math.NewInt(int64(1_000_000+i))), Fee: sdk.NewCoin("unro", math.ZeroInt()),
			Height: f.Height(), Bridged: true,
		}
		require.NoError(b.tb, f.LeaseKeeper.SettlementRecords.Set(f.Ctx, rec.Id, rec))
		require.NoError(b.tb, f.LeaseKeeper.Unbatched.Set(f.Ctx, rec.Id))
	}
	f.SetHeight(f.Height() + 1)
	require.NoError(b.tb, f.LeaseKeeper.MakeBatch(f.Ctx))
	pending, err := f.LeaseKeeper.PendingBatches(f.Ctx)
	require.NoError(b.tb, err)
	batch := pending[len(pending)-1]
	require.Len(b.tb, batch.RecordIds, leases)
	digest, err := types.BatchDigest(f.Params(), batch)
	require.NoError(b.tb, err)
	signers := 2*len(b.vals)/3 + 1 // equal powers: the fewest signatures above 2/3
	for _, v := range b.vals[:signers] {
		_, err := f.MsgServer.ConfirmBatch(f.Ctx, &types.MsgConfirmBatch{Orchestrator: v.orchestrator, Nonce: batch.Nonce, Signature: sign(b.tb, v.key, digest)})
		require.NoError(b.tb, err)
	}
	confirms, err := f.QueryServer.BatchConfirms(f.Ctx, &types.QueryBatchConfirmsRequest{Nonce: batch.Nonce})
	require.NoError(b.tb, err)
	cb := types.ContractBatch(batch)
	eb := bindings.NROSettlementBatch{Nonce: cb.Nonce, Timeout: cb.Timeout}
	for _, p := range cb.Payouts {
		eb.Payouts = append(eb.Payouts, bindings.NROSettlementPayout{Recipient: p.Recipient, Amount: p.Amount})
	}
	r := b.send(b.inst, b.settle.PackSubmitBatch(relayer.ContractValset(b.vs), sigsFor(b.tb, b.vs, confirms.Confirms), eb))
	// Mark it bridged, as the validators' attestations would, so that later batches follow it.
	require.NoError(b.tb, f.LeaseKeeper.MarkBatchBridged(f.Ctx, batch.Nonce, batch.Nonce-1, r.BlockNumber.Uint64(), r.TxHash.Hex()))
	return r.GasUsed
}

func addrs(prefix string, n int) []common.Address {
	out := make([]common.Address, n)
	for i := range out {
		out[i] = common.BytesToAddress(crypto.Keccak256([]byte(fmt.Sprintf("%s-%d", prefix, i))))
	}
	return out
}

// BenchmarkBridgeGas measures the Ethereum gas of settling leases through the bridge: N leases across 10
// providers, batched by x/lease (one mint per provider), signed by just over 2/3 of V validators through
// MsgConfirmBatch, submitted to the settlement contract on go-ethereum's simulated backend (Osaka rules);
// next to paying each lease with its own ERC20 transfer. Providers already hold wNRO (steady state); the
// cold row pays 10 new providers. Gas is deterministic: one iteration suffices.
//
//	make bench-bridge
func BenchmarkBridgeGas(b *testing.B) {
	for _, validators := range []int{4, 20, 100} {
		for _, leases := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("validators=%d/leases=%d", validators, leases), func(b *testing.B) {
				var gas, erc20 uint64
				for range b.N {
					bb := newBridgeBench(b, validators)
					providers := addrs("provider", 10)
					// The treasury and the providers hold wNRO already: a steady-state batch.
					bb.settleLeases(10, append(providers[:9:9], bb.treasury))
					bb.settleLeases(1, providers[9:])
					gas = bb.settleLeases(leases, providers)
					// The same leases paid one ERC20 transfer each, from a treasury to the providers.
					erc20 = 0
					for i := range leases {
						r := bb.send(bb.tokInst, bb.token.PackTransfer(providers[i%len(providers)], big.NewInt(1)))
						erc20 += r.GasUsed
					}
				}
				b.ReportMetric(float64(gas), "gas/batch")
				b.ReportMetric(float64(gas)/float64(leases), "gas/lease")
				b.ReportMetric(float64(erc20)/float64(leases), "erc20-gas/lease")
			})
		}
	}
	b.Run("validators=20/leases=100/cold", func(b *testing.B) {
		var gas uint64
		for range b.N {
			bb := newBridgeBench(b, 20)
			gas = bb.settleLeases(100, addrs("new-provider", 10))
		}
		b.ReportMetric(float64(gas), "gas/batch")
		b.ReportMetric(float64(gas)/100, "gas/lease")
	})
}
