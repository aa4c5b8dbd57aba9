package keeper_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"testing"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/contracts"
	"github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

const (
	testBridgeID = "0x6e726f2d6272696467652d746573742d31000000000000000000000000000000"
	testContract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
	testChainID  = 1337
)

// bridgeVal is a validator with its Ethereum key and orchestrator.
type bridgeVal struct {
	name         string
	operator     string // account address, signs MsgRegisterEthSigner
	valoper      string
	orchestrator string
	key          *ecdsa.PrivateKey
	eth          string
}

func ethKey(t testing.TB, name string) *ecdsa.PrivateKey {
	sum := sha256.Sum256([]byte("nro-test-eth/" + name))
	k, err := crypto.ToECDSA(sum[:])
	require.NoError(t, err)
	return k
}

// bridgeFixture turns the bridge on (bridge id, chain id, contract) and makes n validators of power 10.
func bridgeFixture(t testing.TB, n int) (*testutil.Fixture, []bridgeVal) {
	t.Helper()
	f := testutil.NewFixture(t)
	p := f.Params()
	p.BridgeId, p.EthChainId, p.SettlementContract = testBridgeID, testChainID, testContract
	f.SetParams(p)
	vals := make([]bridgeVal, n)
	for i := range vals {
		name := fmt.Sprintf("val-%d", i)
		op := f.Addr(name)
		bz, err := f.AddressCodec.StringToBytes(op)
		require.NoError(t, err)
		key := ethKey(t, name)
		vals[i] = bridgeVal{
			name: name, operator: op, valoper: f.Staking.SetPower(bz, 10), orchestrator: f.Addr("orch/" + name),
			key: key, eth: crypto.PubkeyToAddress(key.PublicKey).Hex(),
		}
	}
	return f, vals
}

func sign(t testing.TB, key *ecdsa.PrivateKey, digest common.Hash) []byte {
	t.Helper()
	v, r, s, err := contracts.Sign(key, digest)
	require.NoError(t, err)
	return contracts.SignatureBytes(v, r, s)
}

func registerMsg(t testing.TB, f *testutil.Fixture, v bridgeVal) *types.MsgRegisterEthSigner {
	t.Helper()
	d, err := contracts.SignerRegistrationDigest(f.Ctx.ChainID(), v.valoper, v.orchestrator)
	require.NoError(t, err)
	return &types.MsgRegisterEthSigner{Operator: v.operator, EthAddress: v.eth, Orchestrator: v.orchestrator, EthSignature: sign(t, v.key, d)}
}

func register(t testing.TB, f *testutil.Fixture, vals ...bridgeVal) {
	t.Helper()
	for _, v := range vals {
		_, err := f.MsgServer.RegisterEthSigner(f.Ctx, registerMsg(t, f, v))
		require.NoError(t, err)
	}
}

// highS turns a valid signature into its malleated twin (s → n − s, v flipped), which also recovers to the
// signer but the contract (OpenZeppelin ECDSA) refuses.
func highS(sig []byte) []byte {
	out := append([]byte(nil), sig...)
	s := new(big.Int).SetBytes(out[32:64])
	s.Sub(crypto.S256().Params().N, s)
	s.FillBytes(out[32:64])
	out[64] = 27 + 28 - out[64] // 27 <-> 28
	return out
}

func exported(t *testing.T, f *testutil.Fixture) *types.GenesisState {
	t.Helper()
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	return gs
}

func TestRegisterEthSigner(t *testing.T) {
	f, vals := bridgeFixture(t, 3)
	v := vals[0]
	good := registerMsg(t, f, v)

	bad := func(mutate func(m *types.MsgRegisterEthSigner), want error, contains string) {
		t.Helper()
		m := *good
		mutate(&m)
		before := exported(t, f)
		_, err := f.MsgServer.RegisterEthSigner(f.Ctx, &m)
		require.ErrorIs(t, err, want)
		require.ErrorContains(t, err, contains)
		require.Equal(t, before, exported(t, f), "a rejected registration changes no state")
	}
	bad(func(m *types.MsgRegisterEthSigner) { m.Operator = f.Addr("not-a-validator") }, types.ErrNotValidator, "runs no validator")
	bad(func(m *types.MsgRegisterEthSigner) { m.EthAddress = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed" }, types.ErrInvalidEthSigner, "eth_address")
	bad(func(m *types.MsgRegisterEthSigner) { m.EthAddress = vals[1].eth }, types.ErrInvalidBridgeSig, "not eth_address")
	bad(func(m *types.MsgRegisterEthSigner) { m.Orchestrator = f.Addr("someone-else") }, types.ErrInvalidBridgeSig, "recovers to")
	bad(func(m *types.MsgRegisterEthSigner) { m.EthSignature = highS(good.EthSignature) }, types.ErrInvalidBridgeSig, "malleable")
	bad(func(m *types.MsgRegisterEthSigner) { m.EthSignature = good.EthSignature[:64] }, types.ErrInvalidBridgeSig, "want 65")

	res, err := f.MsgServer.RegisterEthSigner(f.Ctx, good)
	require.NoError(t, err)
	require.Equal(t, f.Height(), res.EffectiveHeight, "a first registration takes effect at once")
	s, err := f.Keeper.EthSigners.Get(f.Ctx, v.valoper)
	require.NoError(t, err)
	require.Equal(t, v.eth, s.EthAddress)
	require.Equal(t, v.orchestrator, s.Orchestrator)

	// Another validator cannot take the same key or orchestrator.
	other := vals[1]
	other.key, other.eth = v.key, v.eth
	bad2 := registerMsg(t, f, other)
	_, err = f.MsgServer.RegisterEthSigner(f.Ctx, bad2)
	require.ErrorIs(t, err, types.ErrSignerTaken)
	other = vals[1]
	other.orchestrator = v.orchestrator
	_, err = f.MsgServer.RegisterEthSigner(f.Ctx, registerMsg(t, f, other))
	require.ErrorIs(t, err, types.ErrSignerTaken)

	// A change waits signer_change_delay_blocks; the old key signs until then.
	moved := v
	moved.key = ethKey(t, "val-0-new")
	moved.eth = crypto.PubkeyToAddress(moved.key.PublicKey).Hex()
	res, err = f.MsgServer.RegisterEthSigner(f.Ctx, registerMsg(t, f, moved))
	require.NoError(t, err)
	due := f.Height() + int64(types.DefaultSignerChangeDelayBlocks)
	require.Equal(t, due, res.EffectiveHeight)
	s, _ = f.Keeper.EthSigners.Get(f.Ctx, v.valoper)
	require.Equal(t, v.eth, s.EthAddress)
	require.Equal(t, moved.eth, s.PendingEthAddress)

	f.SetHeight(due - 1)
	require.NoError(t, f.Keeper.ApplySignerChanges(f.Ctx))
	s, _ = f.Keeper.EthSigners.Get(f.Ctx, v.valoper)
	require.Equal(t, v.eth, s.EthAddress)
	f.SetHeight(due)
	require.NoError(t, f.Keeper.ApplySignerChanges(f.Ctx))
	s, _ = f.Keeper.EthSigners.Get(f.Ctx, v.valoper)
	require.Equal(t, moved.eth, s.EthAddress)
	require.Zero(t, s.PendingHeight)
	// The old key is free again.
	other = vals[1]
	other.key, other.eth = v.key, v.eth
	_, err = f.MsgServer.RegisterEthSigner(f.Ctx, registerMsg(t, f, other))
	require.NoError(t, err)

	// Bridge off: refused.
	p := f.Params()
	p.BridgeId, p.SettlementContract = "", ""
	f.SetParams(p)
	_, err = f.MsgServer.RegisterEthSigner(f.Ctx, registerMsg(t, f, vals[2]))
	require.ErrorIs(t, err, types.ErrBridgeOff)
}

func TestValsetSnapshots(t *testing.T) {
	f, vals := bridgeFixture(t, 4)
	// Half the power registered: a valset could never sign anything on the contract, so none is made.
	register(t, f, vals[0], vals[1])
	require.NoError(t, f.EndBlock())
	_, ok, err := f.Keeper.LatestValset(f.Ctx)
	require.NoError(t, err)
	require.False(t, ok)

	// Three quarters: valset 1, powers normalised over all bonded power (a quarter each), address order.
	register(t, f, vals[2])
	f.ResetEvents()
	require.NoError(t, f.EndBlock())
	vs, ok, err := f.Keeper.LatestValset(f.Ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(1), vs.Nonce)
	require.Len(t, vs.Members, 3)
	for i, m := range vs.Members {
		require.Equal(t, contracts.TotalPower/4, m.Power)
		if i > 0 {
			require.Negative(t, common.HexToAddress(vs.Members[i-1].EthAddress).Cmp(common.HexToAddress(m.EthAddress)), "ascending signer order")
		}
	}
	require.Equal(t, 3*contracts.TotalPower/4, vs.TotalPower())

	// Unchanged: no new valset.
	f.SetHeight(f.Height() + 1)
	require.NoError(t, f.EndBlock())
	vs, _, _ = f.Keeper.LatestValset(f.Ctx)
	require.Equal(t, uint64(1), vs.Nonce)

	// A power move of under valset_change_bps (5%) in total: none either. 10,10,10,10 → 11,10,10,10 moves
	// the three members' normalised powers by 1/44 + 2 × (1/4 − 10/41) ≈ 3.6%.
	bz, _ := f.AddressCodec.StringToBytes(vals[0].operator)
	f.Staking.SetPower(bz, 11)
	f.SetHeight(f.Height() + 1)
	require.NoError(t, f.EndBlock())
	vs, _, _ = f.Keeper.LatestValset(f.Ctx)
	require.Equal(t, uint64(1), vs.Nonce)
	// 10 → 14 for one member: well over 5%.
	f.Staking.SetPower(bz, 14)
	f.SetHeight(f.Height() + 1)
	require.NoError(t, f.EndBlock())
	vs, _, _ = f.Keeper.LatestValset(f.Ctx)
	require.Equal(t, uint64(2), vs.Nonce)

	// A new member: a new valset at once.
	register(t, f, vals[3])
	f.SetHeight(f.Height() + 1)
	require.NoError(t, f.EndBlock())
	vs, _, _ = f.Keeper.LatestValset(f.Ctx)
	require.Equal(t, uint64(3), vs.Nonce)
	require.Len(t, vs.Members, 4)
	total := uint64(0)
	for _, m := range vs.Members {
		total += m.Power
	}
	require.LessOrEqual(t, total, contracts.TotalPower)
	require.Greater(t, total, contracts.TotalPower-4, "floor rounding loses less than one unit per member")

	res, err := f.QueryServer.Valset(f.Ctx, &types.QueryValsetRequest{})
	require.NoError(t, err)
	require.Equal(t, vs, res.Valset)
	list, err := f.QueryServer.Valsets(f.Ctx, &types.QueryValsetsRequest{})
	require.NoError(t, err)
	require.Len(t, list.Valsets, 3)
}

func TestConfirmValset(t *testing.T) {
	f, vals := bridgeFixture(t, 3)
	register(t, f, vals...)
	require.NoError(t, f.EndBlock())
	vs, _, _ := f.Keeper.LatestValset(f.Ctx)
	digest, err := types.ValsetDigest(f.Params(), vs)
	require.NoError(t, err)

	msg := &types.MsgConfirmValset{Orchestrator: vals[0].orchestrator, Nonce: vs.Nonce, Signature: sign(t, vals[0].key, digest)}
	_, err = f.MsgServer.ConfirmValset(f.Ctx, msg)
	require.NoError(t, err)
	_, err = f.MsgServer.ConfirmValset(f.Ctx, msg)
	require.ErrorIs(t, err, types.ErrAlreadyConfirmed)

	_, err = f.MsgServer.ConfirmValset(f.Ctx, &types.MsgConfirmValset{Orchestrator: vals[1].orchestrator, Nonce: vs.Nonce, Signature: sign(t, vals[2].key, digest)})
	require.ErrorIs(t, err, types.ErrInvalidBridgeSig, "another validator's key")
	_, err = f.MsgServer.ConfirmValset(f.Ctx, &types.MsgConfirmValset{Orchestrator: vals[1].orchestrator, Nonce: vs.Nonce, Signature: highS(sign(t, vals[1].key, digest))})
	require.ErrorIs(t, err, types.ErrInvalidBridgeSig, "a malleated signature")
	_, err = f.MsgServer.ConfirmValset(f.Ctx, &types.MsgConfirmValset{Orchestrator: vals[1].operator, Nonce: vs.Nonce, Signature: sign(t, vals[1].key, digest)})
	require.ErrorIs(t, err, types.ErrNotOrchestrator, "the operator account is not the orchestrator")
	_, err = f.MsgServer.ConfirmValset(f.Ctx, &types.MsgConfirmValset{Orchestrator: vals[1].orchestrator, Nonce: 9, Signature: sign(t, vals[1].key, digest)})
	require.ErrorIs(t, err, types.ErrValsetNotFound)

	res, err := f.QueryServer.ValsetConfirms(f.Ctx, &types.QueryValsetConfirmsRequest{Nonce: vs.Nonce})
	require.NoError(t, err)
	require.Len(t, res.Confirms, 1)
	require.Equal(t, vals[0].eth, res.Confirms[0].EthAddress)

	// Without the contract's address nothing can be checked.
	p := f.Params()
	p.SettlementContract = ""
	f.SetParams(p)
	_, err = f.MsgServer.ConfirmValset(f.Ctx, &types.MsgConfirmValset{Orchestrator: vals[1].orchestrator, Nonce: vs.Nonce, Signature: sign(t, vals[1].key, digest)})
	require.ErrorIs(t, err, types.ErrBridgeOff)
}

// putBatch stores a pending settlement batch directly (x/lease's own tests cover how batches are made).
func putBatch(t testing.TB, f *testutil.Fixture, nonce uint64) leasetypes.SettlementBatch {
	t.Helper()
	b := leasetypes.SettlementBatch{
		Nonce:   nonce,
		Payouts: []leasetypes.BatchPayout{{EthAddress: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", Amount: math.NewInt(int64(1_000_000 * nonce))}},
		Total:   sdk.NewCoin("unro", math.NewInt(int64(1_000_000*nonce))), Timeout: 2_000_000_000, State: leasetypes.BATCH_STATE_PENDING,
	}
	require.NoError(t, f.LeaseKeeper.Batches.Set(f.Ctx, nonce, b))
	return b
}

func attest(f *testutil.Fixture, v bridgeVal, nonce, prev uint64, tx string) (*types.MsgAttestBatchExecutedResponse, error) {
	return f.MsgServer.AttestBatchExecuted(f.Ctx, &types.MsgAttestBatchExecuted{
		Orchestrator: v.orchestrator,
		Claim:        types.BatchExecutedClaim{BatchNonce: nonce, PrevBatchNonce: prev, EthBlock: 100 + nonce, TxHash: tx},
	})
}

func txHash(n byte) string { return common.BytesToHash([]byte{n}).Hex() }

func TestConfirmBatch(t *testing.T) {
	f, vals := bridgeFixture(t, 2)
	register(t, f, vals...)
	b := putBatch(t, f, 1)
	digest, err := types.BatchDigest(f.Params(), b)
	require.NoError(t, err)
	// The digest is the contract's: contracts.BatchDigest of the batch as the contract takes it.
	want, err := contracts.BatchDigest([32]byte(common.FromHex(testBridgeID)), big.NewInt(testChainID), common.HexToAddress(testContract), types.ContractBatch(b))
	require.NoError(t, err)
	require.Equal(t, want, digest)

	_, err = f.MsgServer.ConfirmBatch(f.Ctx, &types.MsgConfirmBatch{Orchestrator: vals[0].orchestrator, Nonce: 1, Signature: sign(t, vals[0].key, digest)})
	require.NoError(t, err)
	_, err = f.MsgServer.ConfirmBatch(f.Ctx, &types.MsgConfirmBatch{Orchestrator: vals[0].orchestrator, Nonce: 1, Signature: sign(t, vals[0].key, digest)})
	require.ErrorIs(t, err, types.ErrAlreadyConfirmed)
	// A signature of another batch does not count for this one.
	other, _ := types.BatchDigest(f.Params(), putBatch(t, f, 2))
	_, err = f.MsgServer.ConfirmBatch(f.Ctx, &types.MsgConfirmBatch{Orchestrator: vals[1].orchestrator, Nonce: 1, Signature: sign(t, vals[1].key, other)})
	require.ErrorIs(t, err, types.ErrInvalidBridgeSig)
	_, err = f.MsgServer.ConfirmBatch(f.Ctx, &types.MsgConfirmBatch{Orchestrator: vals[1].orchestrator, Nonce: 7, Signature: sign(t, vals[1].key, digest)})
	require.ErrorIs(t, err, leasetypes.ErrBatchNotFound)

	res, err := f.QueryServer.BatchConfirms(f.Ctx, &types.QueryBatchConfirmsRequest{Nonce: 1})
	require.NoError(t, err)
	require.Len(t, res.Confirms, 1)
}

func TestAttestBatchExecutedNeedsTwoThirds(t *testing.T) {
	f, vals := bridgeFixture(t, 4)
	register(t, f, vals...)
	putBatch(t, f, 1)

	_, err := attest(f, vals[0], 1, 1, txHash(1))
	require.ErrorIs(t, err, types.ErrInvalidClaim, "prev must be below the batch")
	_, err = attest(f, vals[0], 1, 0, "0x1234")
	require.ErrorIs(t, err, types.ErrInvalidClaim, "a tx hash is 32 bytes")
	putBatch(t, f, 3)
	_, err = attest(f, vals[0], 3, 2, txHash(3))
	require.ErrorIs(t, err, types.ErrInvalidClaim, "batch 2 does not exist")

	for i, v := range vals[:2] {
		res, err := attest(f, v, 1, 0, txHash(1))
		require.NoError(t, err)
		require.False(t, res.Applied, "%d of 4 is not more than 2/3", i+1)
	}
	_, err = attest(f, vals[0], 1, 0, txHash(1))
	require.ErrorIs(t, err, types.ErrAlreadyAttested)
	// A different claim for the same batch does not add to the first one's power.
	res, err := attest(f, vals[2], 1, 0, txHash(9))
	require.NoError(t, err)
	require.False(t, res.Applied)
	b, _ := f.LeaseKeeper.GetBatch(f.Ctx, 1)
	require.Equal(t, leasetypes.BATCH_STATE_PENDING, b.State)

	res, err = attest(f, vals[3], 1, 0, txHash(1))
	require.NoError(t, err)
	require.True(t, res.Applied, "3 of 4 (75%) is more than 2/3")
	b, _ = f.LeaseKeeper.GetBatch(f.Ctx, 1)
	require.Equal(t, leasetypes.BATCH_STATE_BRIDGED, b.State)
	require.Equal(t, txHash(1), b.EthTxHash)
	require.Equal(t, uint64(101), b.EthBlock)

	// Late attestations are refused: the batch is done.
	_, err = attest(f, vals[2], 1, 0, txHash(1))
	require.ErrorIs(t, err, leasetypes.ErrBatchNotPending)
	atts, err := f.QueryServer.BatchAttestations(f.Ctx, &types.QueryBatchAttestationsRequest{Nonce: 1})
	require.NoError(t, err)
	require.Len(t, atts.Attestations, 2)

	// Genesis round trip keeps the signers, attestations and their votes.
	gs := exported(t, f)
	require.NoError(t, gs.Validate())
	g := testutil.NewFixtureWithoutGenesis(t)
	require.NoError(t, g.Keeper.InitGenesis(g.Ctx, *gs))
	require.Equal(t, gs, exported(t, g))
	voted, err := g.Keeper.AttestVotes.Has(g.Ctx, collectionsJoin(1, vals[0].valoper))
	require.NoError(t, err)
	require.True(t, voted)
}

func TestAttestationsApplyInNonceOrder(t *testing.T) {
	f, vals := bridgeFixture(t, 3)
	register(t, f, vals...)
	putBatch(t, f, 1)
	putBatch(t, f, 2)
	putBatch(t, f, 3)

	// Batch 2 executed right after batch 1; it cannot take effect before batch 1 has.
	for _, v := range vals {
		res, err := attest(f, v, 2, 1, txHash(2))
		require.NoError(t, err)
		require.False(t, res.Applied)
	}
	// Batch 1 executed first: once it is BRIDGED, batch 2's waiting claim is applied too.
	for i, v := range vals {
		res, err := attest(f, v, 1, 0, txHash(1))
		require.NoError(t, err)
		require.Equal(t, i == 2, res.Applied)
	}
	for nonce := uint64(1); nonce <= 2; nonce++ {
		b, _ := f.LeaseKeeper.GetBatch(f.Ctx, nonce)
		require.Equal(t, leasetypes.BATCH_STATE_BRIDGED, b.State, "batch %d", nonce)
	}
	b3, _ := f.LeaseKeeper.GetBatch(f.Ctx, 3)
	require.Equal(t, leasetypes.BATCH_STATE_PENDING, b3.State)
}

// TestAttestPrunedBatch: once x/lease has pruned a bridged batch, a signer that rescans the contract from
// its start and attests the old execution again is told the batch is not pending (the relayer takes that
// as done and goes on), not that it does not exist; a batch never made is still not found.
func TestAttestPrunedBatch(t *testing.T) {
	f, vals := bridgeFixture(t, 3)
	register(t, f, vals...)
	putBatch(t, f, 1)
	putBatch(t, f, 2)
	for _, v := range vals {
		_, err := attest(f, v, 1, 0, txHash(1))
		require.NoError(t, err)
	}
	for _, v := range vals {
		_, err := attest(f, v, 2, 1, txHash(2))
		require.NoError(t, err)
	}
	require.NoError(t, f.Keeper.LastObservedBatch.Set(f.Ctx, 2))
	require.NoError(t, f.LeaseKeeper.Batches.Remove(f.Ctx, 1)) // as x/lease's pruning does

	_, err := attest(f, vals[0], 1, 0, txHash(1))
	require.ErrorIs(t, err, leasetypes.ErrBatchNotPending)
	require.ErrorContains(t, err, "batch 1 was pruned")
	_, err = f.MsgServer.ConfirmBatch(f.Ctx, &types.MsgConfirmBatch{Orchestrator: vals[0].orchestrator, Nonce: 1, Signature: make([]byte, 65)})
	require.ErrorIs(t, err, leasetypes.ErrBatchNotPending)
	_, err = attest(f, vals[0], 3, 2, txHash(3))
	require.ErrorIs(t, err, leasetypes.ErrBatchNotFound, "batch 3 was never made")
}

func collectionsJoin(nonce uint64, val string) collections.Pair[uint64, string] {
	return collections.Join(nonce, val)
}
