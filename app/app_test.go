package app

import (
	"encoding/json"
	"math/rand"
	"slices"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	msgv1 "cosmossdk.io/api/cosmos/msg/v1"
	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
)

func TestAppBuilds(t *testing.T) {
	app := NewTestApp(t)
	require.Equal(t, AppName, app.Name())
	require.NotNil(t, app.SimulationManager())
	require.Contains(t, app.ModuleManager.Modules, allocationtypes.ModuleName)
	require.NotNil(t, app.GetKey(allocationtypes.StoreKey))
	for _, typeURL := range []string{
		"/nro.allocation.v1.MsgRegisterNode", "/nro.allocation.v1.MsgUpdateNode", "/nro.allocation.v1.MsgAddStake",
		"/nro.allocation.v1.MsgDeregisterNode", "/nro.allocation.v1.MsgUpdateParams",
	} {
		require.NotNil(t, app.MsgServiceRouter().HandlerByTypeURL(typeURL), "no handler for %s", typeURL)
	}
}

func TestDefaultGenesisValidates(t *testing.T) {
	app := NewTestApp(t)
	genesis := app.DefaultGenesis()
	require.Contains(t, genesis, allocationtypes.ModuleName)
	require.NoError(t, app.BasicModuleManager.ValidateGenesis(app.AppCodec(), app.TxConfig(), genesis))

	var gs allocationtypes.GenesisState
	require.NoError(t, app.AppCodec().UnmarshalJSON(genesis[allocationtypes.ModuleName], &gs))
	require.Equal(t, allocationtypes.DefaultParams(), gs.Params)
	require.Empty(t, gs.Nodes)
}

func TestInitChainAndBlocks(t *testing.T) {
	app := Setup(t)
	require.EqualValues(t, 1, app.LastBlockHeight())
	hash := app.LastCommitID().Hash
	require.NotEmpty(t, hash)

	for range 3 {
		NextBlock(t, app)
	}
	require.EqualValues(t, 4, app.LastBlockHeight())
	require.NotEqual(t, hash, app.LastCommitID().Hash, "blocks must change the app hash (mint, distribution)")

	ctx := CommittedContext(app)
	params, err := app.AllocationKeeper.GetParams(ctx)
	require.NoError(t, err)
	require.Equal(t, allocationtypes.DefaultParams(), params)
	require.NoError(t, app.AllocationKeeper.CheckStakeInvariant(ctx))
	vals, err := app.StakingKeeper.GetBondedValidatorsByPower(ctx)
	require.NoError(t, err)
	require.Len(t, vals, 1)
}

// TestRegisterNodeTx delivers a signed MsgRegisterNode through FinalizeBlock: ante handler, signer resolution,
// routing and the stake escrow.
func TestRegisterNodeTx(t *testing.T) {
	app, acc := SetupWithGenesis(t, nil)
	msg := testRegisterNodeMsg(acc.Address.String(), "gpu-node-1")
	res := NextBlock(t, app, signTx(t, app, acc, msg))
	require.Len(t, res.TxResults, 1)
	require.Zerof(t, res.TxResults[0].Code, "tx failed: %s", res.TxResults[0].Log)

	ctx := CommittedContext(app)
	node, err := app.AllocationKeeper.GetNode(ctx, "gpu-node-1")
	require.NoError(t, err)
	require.Equal(t, allocationtypes.NODE_STATUS_ACTIVE, node.Status)
	require.Equal(t, msg.Stake.String(), node.Stake.String())
	require.Equal(t, msg.Stake.String(), app.BankKeeper.GetBalance(ctx, app.AllocationKeeper.ModuleAddress(), BondDenom).String())
	require.NoError(t, app.AllocationKeeper.CheckStakeInvariant(ctx))
}

// TestExportImportRoundTrip starts a chain whose genesis holds an ACTIVE and an UNBONDING node, registers a
// third node by tx, exports, imports the export into a fresh app through InitChain at the next height, and
// checks that x/allocation's genesis round-trips and that the imported unbonding queue still releases the
// stake at the release height.
func TestExportImportRoundTrip(t *testing.T) {
	const releaseHeight = 8
	app, acc := SetupWithGenesis(t, func(gs GenesisState, acc TestAccount) GenesisState {
		return withAllocationNodes(t, gs, acc.Address.String(), releaseHeight)
	})

	res := NextBlock(t, app, signTx(t, app, acc, testRegisterNodeMsg(acc.Address.String(), "gpu-node-3")))
	require.Zerof(t, res.TxResults[0].Code, "tx failed: %s", res.TxResults[0].Log)
	NextBlock(t, app)
	require.EqualValues(t, 3, app.LastBlockHeight())

	exported, err := app.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	require.EqualValues(t, 4, exported.Height)
	require.Len(t, exported.Validators, 1)
	var exportedState GenesisState
	require.NoError(t, json.Unmarshal(exported.AppState, &exportedState))
	require.NoError(t, app.BasicModuleManager.ValidateGenesis(app.AppCodec(), app.TxConfig(), exportedState))
	var exportedAlloc allocationtypes.GenesisState
	require.NoError(t, app.AppCodec().UnmarshalJSON(exportedState[allocationtypes.ModuleName], &exportedAlloc))
	require.Len(t, exportedAlloc.Nodes, 3)

	// Import into a fresh app that continues at the next height.
	newApp := NewTestApp(t)
	initRes, err := newApp.InitChain(&abci.RequestInitChain{
		ChainId:         TestChainID,
		Time:            TestBlockTime(exported.Height),
		InitialHeight:   exported.Height,
		ConsensusParams: &exported.ConsensusParams,
		AppStateBytes:   exported.AppState,
	})
	require.NoError(t, err)
	require.Len(t, initRes.Validators, len(exported.Validators))
	require.Equal(t, exported.Validators[0].Power, initRes.Validators[0].Power)
	FinalizeAndCommit(t, newApp, exported.Height)
	require.EqualValues(t, exported.Height, newApp.LastBlockHeight())

	ctxA, ctxB := CommittedContext(app), CommittedContext(newApp)
	genA, err := app.AllocationKeeper.ExportGenesis(ctxA)
	require.NoError(t, err)
	genB, err := newApp.AllocationKeeper.ExportGenesis(ctxB)
	require.NoError(t, err)
	cdc := app.AppCodec()
	require.JSONEq(t, string(cdc.MustMarshalJSON(genA)), string(cdc.MustMarshalJSON(genB)), "x/allocation genesis must round-trip")
	require.JSONEq(t, string(cdc.MustMarshalJSON(&exportedAlloc)), string(cdc.MustMarshalJSON(genB)))
	moduleAddr := app.AllocationKeeper.ModuleAddress()
	require.Equal(t, app.BankKeeper.GetBalance(ctxA, moduleAddr, BondDenom).String(), newApp.BankKeeper.GetBalance(ctxB, moduleAddr, BondDenom).String())
	require.NoError(t, newApp.AllocationKeeper.CheckStakeInvariant(ctxB))
	has, err := newApp.AllocationKeeper.UnbondingQueue.Has(ctxB, collections.Join(int64(releaseHeight), "gpu-node-2"))
	require.NoError(t, err)
	require.True(t, has, "the imported unbonding queue must hold gpu-node-2")

	// The imported chain releases the unbonding node's stake at its release height.
	before := newApp.BankKeeper.GetBalance(ctxB, acc.Address, BondDenom)
	unbonding, err := newApp.AllocationKeeper.GetNode(ctxB, "gpu-node-2")
	require.NoError(t, err)
	for newApp.LastBlockHeight() < releaseHeight {
		NextBlock(t, newApp)
	}
	ctxB = CommittedContext(newApp)
	_, err = newApp.AllocationKeeper.GetNode(ctxB, "gpu-node-2")
	require.ErrorIs(t, err, allocationtypes.ErrNodeNotFound)
	require.Equal(t, before.Add(unbonding.Stake).String(), newApp.BankKeeper.GetBalance(ctxB, acc.Address, BondDenom).String())
	require.NoError(t, newApp.AllocationKeeper.CheckStakeInvariant(ctxB))
}

func TestModuleAccountPermissions(t *testing.T) {
	perms := GetMaccPerms()
	require.Contains(t, perms, allocationtypes.ModuleName)
	require.Contains(t, perms[allocationtypes.ModuleName], authtypes.Burner)
	require.NotContains(t, perms[allocationtypes.ModuleName], authtypes.Minter)

	allocAddr := authtypes.NewModuleAddress(allocationtypes.ModuleName)
	require.True(t, BlockedAddresses()[allocAddr.String()], "the allocation module account must be blocked")
	require.False(t, BlockedAddresses()[authtypes.NewModuleAddress(govtypes.ModuleName).String()], "gov must receive deposits")
	for name := range perms {
		if name != govtypes.ModuleName {
			require.True(t, BlockedAddresses()[authtypes.NewModuleAddress(name).String()], "module account %s must be blocked", name)
		}
	}

	app := NewTestApp(t)
	require.True(t, app.BankKeeper.BlockedAddr(allocAddr))
	require.Equal(t, allocAddr, app.AccountKeeper.GetModuleAddress(allocationtypes.ModuleName))
	perms[allocationtypes.ModuleName] = nil // GetMaccPerms returns a copy
	require.Contains(t, GetMaccPerms()[allocationtypes.ModuleName], authtypes.Burner)
}

// TestMsgSignerAnnotations checks our proto files: every Msg service is annotated cosmos.msg.v1.service and
// every Msg names its signer fields with cosmos.msg.v1.signer.
func TestMsgSignerAnnotations(t *testing.T) {
	merged, err := proto.MergedRegistry()
	require.NoError(t, err)
	ours := new(protoregistry.Files)
	merged.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if strings.HasPrefix(fd.Path(), "nro/") {
			require.NoError(t, ours.RegisterFile(fd))
		}
		return true
	})
	require.Positive(t, ours.NumFiles(), "no nro/ proto files in the registry")
	require.NoError(t, msgservice.ValidateProtoAnnotations(ours))

	var checked []string
	ours.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			if sd.Name() != "Msg" {
				continue
			}
			for j := range sd.Methods().Len() {
				input := sd.Methods().Get(j).Input()
				signers, _ := protov2.GetExtension(input.Options(), msgv1.E_Signer).([]string)
				require.NotEmpty(t, signers, "%s has no cosmos.msg.v1.signer annotation", input.FullName())
				for _, s := range signers {
					require.NotNil(t, input.Fields().ByName(protoreflect.Name(s)), "%s: signer field %q does not exist", input.FullName(), s)
				}
				checked = append(checked, string(input.FullName()))
			}
		}
		return true
	})
	slices.Sort(checked)
	require.Equal(t, []string{
		"nro.allocation.v1.MsgAddStake", "nro.allocation.v1.MsgDeregisterNode", "nro.allocation.v1.MsgProposeAllocation",
		"nro.allocation.v1.MsgRegisterNode", "nro.allocation.v1.MsgUnjailNode", "nro.allocation.v1.MsgUpdateNode",
		"nro.allocation.v1.MsgUpdateParams",
		"nro.audit.v1.MsgAnswerChallenge", "nro.audit.v1.MsgAttestBatchExecuted", "nro.audit.v1.MsgChallengeTelemetry", "nro.audit.v1.MsgConfirmBatch", "nro.audit.v1.MsgConfirmValset", "nro.audit.v1.MsgRegisterEthSigner", "nro.audit.v1.MsgSubmitTelemetry", "nro.audit.v1.MsgUpdateParams",
		"nro.lease.v1.MsgCancelLease", "nro.lease.v1.MsgCloseLease", "nro.lease.v1.MsgCreateLease",
		"nro.lease.v1.MsgTopUpLease", "nro.lease.v1.MsgUpdateParams",
	}, checked)

	// The app's signing context resolves the signers of every one of our Msgs.
	app := NewTestApp(t)
	require.NoError(t, app.InterfaceRegistry().SigningContext().Validate())
	operator := sdk.AccAddress(make([]byte, 20))
	signers, _, err := app.AppCodec().GetMsgV1Signers(testRegisterNodeMsg(operator.String(), "gpu-node-1"))
	require.NoError(t, err)
	require.Equal(t, [][]byte{operator}, signers)
}

// testRegisterNodeMsg is a valid registration of an 8xH100 node at the default minimum stake.
func testRegisterNodeMsg(operator, nodeID string) *allocationtypes.MsgRegisterNode {
	params := allocationtypes.DefaultParams()
	gpus := []allocationtypes.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920}}
	return &allocationtypes.MsgRegisterNode{
		Operator:        operator,
		NodeId:          nodeID,
		Agent:           operator,
		Region:          params.Regions[0],
		Gpus:            gpus,
		BandwidthMbps:   25_000,
		PricePerGpuHour: sdk.NewCoin(params.Denom(), sdkmath.NewInt(2_500_000)),
		Stake:           params.MinStake(8),
	}
}

// signTx signs a one-message tx of the account with its current account number and sequence.
func signTx(t *testing.T, app *App, acc TestAccount, msg sdk.Msg) []byte {
	t.Helper()
	account := app.AccountKeeper.GetAccount(CommittedContext(app), acc.Address)
	require.NotNil(t, account)
	tx, err := simtestutil.GenSignedMockTx(rand.New(rand.NewSource(1)), app.TxConfig(), []sdk.Msg{msg}, sdk.Coins{},
		simtestutil.DefaultGenTxGas, TestChainID, []uint64{account.GetAccountNumber()}, []uint64{account.GetSequence()}, acc.PrivKey)
	require.NoError(t, err)
	bz, err := app.TxConfig().TxEncoder()(tx)
	require.NoError(t, err)
	return bz
}

// withAllocationNodes adds an ACTIVE node and an UNBONDING node (released at releaseHeight) of operator to
// the genesis, and funds the allocation module account with their stakes from the operator's balance.
func withAllocationNodes(t *testing.T, gs GenesisState, operator string, releaseHeight int64) GenesisState {
	t.Helper()
	cdc := NewTestApp(t).AppCodec()
	alloc := allocationtypes.DefaultGenesis()
	active := testRegisterNodeMsg(operator, "gpu-node-1")
	unbonding := testRegisterNodeMsg(operator, "gpu-node-2")
	for _, m := range []*allocationtypes.MsgRegisterNode{active, unbonding} {
		alloc.Nodes = append(alloc.Nodes, allocationtypes.Node{
			Id: m.NodeId, Operator: m.Operator, Agent: m.Agent, Region: m.Region, Gpus: m.Gpus,
			BandwidthMbps: m.BandwidthMbps, PricePerGpuHour: m.PricePerGpuHour, Stake: m.Stake,
			Status: allocationtypes.NODE_STATUS_ACTIVE, ReputationBps: allocationtypes.NeutralReputationBps,
		})
	}
	alloc.Nodes[1].Status = allocationtypes.NODE_STATUS_UNBONDING
	alloc.Nodes[1].ReleaseHeight = releaseHeight
	gs[allocationtypes.ModuleName] = cdc.MustMarshalJSON(alloc)

	staked := active.Stake.Add(unbonding.Stake)
	var bank banktypes.GenesisState
	cdc.MustUnmarshalJSON(gs[banktypes.ModuleName], &bank)
	for i := range bank.Balances {
		if bank.Balances[i].Address == operator {
			bank.Balances[i].Coins = bank.Balances[i].Coins.Sub(staked)
		}
	}
	bank.Balances = append(bank.Balances, banktypes.Balance{
		Address: authtypes.NewModuleAddress(allocationtypes.ModuleName).String(),
		Coins:   sdk.NewCoins(staked),
	})
	bank.Balances = banktypes.SanitizeGenesisBalances(bank.Balances)
	gs[banktypes.ModuleName] = cdc.MustMarshalJSON(&bank)
	return gs
}
