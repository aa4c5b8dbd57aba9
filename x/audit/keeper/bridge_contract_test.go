package keeper_test

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/contracts"
	"github.com/consensus-nro/nro/contracts/bindings"
	"github.com/consensus-nro/nro/relayer"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// sigsFor lines the chain's confirmations up with the valset's members, as a relayer does: the signature
// of each member whose signer confirmed, v = 0 ("did not sign") for the others.
func sigsFor(t testing.TB, vs types.BridgeValset, confirms []types.BridgeConfirm) []bindings.NROSettlementSig {
	t.Helper()
	by := map[string][]byte{}
	for _, c := range confirms {
		by[c.EthAddress] = c.Signature
	}
	out := make([]bindings.NROSettlementSig, len(vs.Members))
	for i, m := range vs.Members {
		if sig, ok := by[m.EthAddress]; ok {
			v, r, s, err := contracts.SplitSignature(sig)
			require.NoError(t, err)
			out[i] = bindings.NROSettlementSig{V: v, R: r, S: s}
		}
	}
	return out
}

// TestBridgeSignaturesExecuteOnTheContract runs the chain side against the real contract on go-ethereum's
// simulated backend: the contract is deployed with the chain's valset; validators' batch confirmations,
// checked on the chain, are what the contract accepts; the wNRO minted is the batch; the attestation marks
// it BRIDGED; and a valset update signed through MsgConfirmValset rotates the contract's valset.
func TestBridgeSignaturesExecuteOnTheContract(t *testing.T) {
	f, vals := bridgeFixture(t, 4)
	register(t, f, vals...)
	require.NoError(t, f.EndBlock())
	vs1, ok, err := f.Keeper.LatestValset(f.Ctx)
	require.NoError(t, err)
	require.True(t, ok)

	deployer, err := crypto.ToECDSA(crypto.Keccak256([]byte("nro-test-deployer")))
	require.NoError(t, err)
	from := crypto.PubkeyToAddress(deployer.PublicKey)
	backend := simulated.NewBackend(ethtypes.GenesisAlloc{from: {Balance: new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether))}})
	t.Cleanup(func() { _ = backend.Close() })
	client := backend.Client()
	chainID, err := client.ChainID(context.Background())
	require.NoError(t, err)
	opts := bind.NewKeyedTransactor(deployer, chainID)
	opts.GasLimit = 5_000_000
	settle, token := bindings.NewNROSettlement(), bindings.NewWrappedNRO()
	bridgeID, err := types.ParseBridgeID(testBridgeID)
	require.NoError(t, err)
	addr, _, err := bind.DeployContract(opts, common.FromHex(bindings.NROSettlementMetaData.Bin), client,
		settle.PackConstructor(bridgeID, relayer.ContractValset(vs1)))
	require.NoError(t, err)
	backend.Commit()
	inst := settle.Instance(client, addr)
	send := func(data []byte) *ethtypes.Receipt {
		t.Helper()
		tx, err := bind.Transact(inst, opts, data)
		require.NoError(t, err)
		backend.Commit()
		r, err := client.TransactionReceipt(context.Background(), tx.Hash())
		require.NoError(t, err)
		return r
	}

	p := f.Params()
	p.EthChainId, p.SettlementContract = chainID.Uint64(), addr.Hex()
	f.SetParams(p)

	// Three of four validators confirm batch 1: 3/4 of 2^32 is more than 2/3.
	b := putBatch(t, f, 1)
	digest, err := types.BatchDigest(p, b)
	require.NoError(t, err)
	for _, v := range vals[:3] {
		_, err := f.MsgServer.ConfirmBatch(f.Ctx, &types.MsgConfirmBatch{Orchestrator: v.orchestrator, Nonce: 1, Signature: sign(t, v.key, digest)})
		require.NoError(t, err)
	}
	confirms, err := f.QueryServer.BatchConfirms(f.Ctx, &types.QueryBatchConfirmsRequest{Nonce: 1})
	require.NoError(t, err)
	cb := types.ContractBatch(b)
	batch := bindings.NROSettlementBatch{Nonce: cb.Nonce, Timeout: cb.Timeout}
	for _, po := range cb.Payouts {
		batch.Payouts = append(batch.Payouts, bindings.NROSettlementPayout{Recipient: po.Recipient, Amount: po.Amount})
	}
	r := send(settle.PackSubmitBatch(relayer.ContractValset(vs1), sigsFor(t, vs1, confirms.Confirms), batch))
	require.Equal(t, ethtypes.ReceiptStatusSuccessful, r.Status, "the contract executes the batch the chain's validators signed")

	tokAddr, err := bind.Call(inst, nil, settle.PackToken(), settle.UnpackToken)
	require.NoError(t, err)
	bal, err := bind.Call(token.Instance(client, tokAddr), nil, token.PackBalanceOf(common.HexToAddress(b.Payouts[0].EthAddress)), token.UnpackBalanceOf)
	require.NoError(t, err)
	require.Equal(t, b.Payouts[0].Amount.BigInt(), bal, "wNRO minted equals what the chain's batch pays, to the unit")

	// The validators attest the execution; the batch is BRIDGED.
	for i, v := range vals[:3] {
		res, err := attest(f, v, 1, 0, r.TxHash.Hex())
		require.NoError(t, err)
		require.Equal(t, i == 2, res.Applied)
	}
	got, err := f.LeaseKeeper.GetBatch(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, leasetypes.BATCH_STATE_BRIDGED, got.State)

	// Power moves: valset 2. The members of valset 1 sign its update on the chain; the contract takes it.
	bz, err := f.AddressCodec.StringToBytes(vals[3].operator)
	require.NoError(t, err)
	f.Staking.SetPower(bz, 40)
	f.SetHeight(f.Height() + 1)
	require.NoError(t, f.EndBlock())
	vs2, _, err := f.Keeper.LatestValset(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), vs2.Nonce)
	vdigest, err := types.ValsetDigest(p, vs2)
	require.NoError(t, err)
	for _, v := range vals[:3] {
		_, err := f.MsgServer.ConfirmValset(f.Ctx, &types.MsgConfirmValset{Orchestrator: v.orchestrator, Nonce: 2, Signature: sign(t, v.key, vdigest)})
		require.NoError(t, err)
	}
	vconf, err := f.QueryServer.ValsetConfirms(f.Ctx, &types.QueryValsetConfirmsRequest{Nonce: 2})
	require.NoError(t, err)
	r = send(settle.PackUpdateValset(relayer.ContractValset(vs2), relayer.ContractValset(vs1), sigsFor(t, vs1, vconf.Confirms)))
	require.Equal(t, ethtypes.ReceiptStatusSuccessful, r.Status)
	last, err := bind.Call(inst, nil, settle.PackLastValsetNonce(), settle.UnpackLastValsetNonce)
	require.NoError(t, err)
	require.Equal(t, uint64(2), last.Uint64())
}
