// Package app wires the Consensus-NRO appchain by hand: codecs, BaseApp, store keys, keepers, the module
// manager and its orders, services, and store mounting, in that order. Our own modules (x/allocation,
// x/lease, x/audit) plug in at the points marked "NRO:".
package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/gogoproto/proto"
	"github.com/spf13/cast"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
	reflectionv1 "cosmossdk.io/api/cosmos/reflection/v1"
	"cosmossdk.io/client/v2/autocli"
	"cosmossdk.io/core/appmodule"
	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	nodeservice "github.com/cosmos/cosmos-sdk/client/grpc/node"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	runtimeservices "github.com/cosmos/cosmos-sdk/runtime/services"
	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/server/api"
	"github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	"github.com/cosmos/cosmos-sdk/std"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
	"github.com/cosmos/cosmos-sdk/version"
	"github.com/cosmos/cosmos-sdk/x/auth"
	"github.com/cosmos/cosmos-sdk/x/auth/ante"
	authcodec "github.com/cosmos/cosmos-sdk/x/auth/codec"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	"github.com/cosmos/cosmos-sdk/x/auth/posthandler"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/bank"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/consensus"
	consensuskeeper "github.com/cosmos/cosmos-sdk/x/consensus/keeper"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distr "github.com/cosmos/cosmos-sdk/x/distribution"
	distrkeeper "github.com/cosmos/cosmos-sdk/x/distribution/keeper"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	"github.com/cosmos/cosmos-sdk/x/evidence"
	evidencekeeper "github.com/cosmos/cosmos-sdk/x/evidence/keeper"
	evidencetypes "github.com/cosmos/cosmos-sdk/x/evidence/types"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	"github.com/cosmos/cosmos-sdk/x/gov"
	govclient "github.com/cosmos/cosmos-sdk/x/gov/client"
	govkeeper "github.com/cosmos/cosmos-sdk/x/gov/keeper"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1beta1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1beta1"
	"github.com/cosmos/cosmos-sdk/x/mint"
	mintkeeper "github.com/cosmos/cosmos-sdk/x/mint/keeper"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	"github.com/cosmos/cosmos-sdk/x/slashing"
	slashingkeeper "github.com/cosmos/cosmos-sdk/x/slashing/keeper"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	"github.com/cosmos/cosmos-sdk/x/staking"
	stakingkeeper "github.com/cosmos/cosmos-sdk/x/staking/keeper"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	"github.com/cosmos/cosmos-sdk/x/upgrade"
	upgradekeeper "github.com/cosmos/cosmos-sdk/x/upgrade/keeper"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"

	"github.com/consensus-nro/nro/app/params"
	"github.com/consensus-nro/nro/x/allocation"
	allocationkeeper "github.com/consensus-nro/nro/x/allocation/keeper"
	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit"
	auditkeeper "github.com/consensus-nro/nro/x/audit/keeper"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	"github.com/consensus-nro/nro/x/lease"
	leasekeeper "github.com/consensus-nro/nro/x/lease/keeper"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// DefaultNodeHome is where nrod keeps its configuration and data unless --home says otherwise.
var DefaultNodeHome = func() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".nrod"
	}
	return filepath.Join(home, ".nrod")
}()

// maccPerms are the module accounts and what each may do with coins.
var maccPerms = map[string][]string{
	authtypes.FeeCollectorName:     nil,
	distrtypes.ModuleName:          nil,
	minttypes.ModuleName:           {authtypes.Minter},
	stakingtypes.BondedPoolName:    {authtypes.Burner, authtypes.Staking},
	stakingtypes.NotBondedPoolName: {authtypes.Burner, authtypes.Staking},
	govtypes.ModuleName:            {authtypes.Burner},
	// NRO: x/allocation escrows node stake; Burner so that slashed stake can be burned (x/audit).
	allocationtypes.ModuleName: {authtypes.Burner},
	// NRO: slashed stake passes through x/audit's account, which burns it or pays it out in the same block.
	audittypes.ModuleName: {authtypes.Burner},
	// NRO: x/lease holds lease deposits in escrow; payments leave it to providers and the fee collector.
	leasetypes.ModuleName: nil,
	// lease_bridge holds the providers' shares paid on Ethereum through settlement batches.
	leasetypes.BridgeEscrowName: nil,
}

var (
	_ runtime.AppI            = (*App)(nil)
	_ servertypes.Application = (*App)(nil)
)

// App is the Consensus-NRO application.
type App struct {
	*baseapp.BaseApp

	legacyAmino       *codec.LegacyAmino
	appCodec          codec.Codec
	txConfig          client.TxConfig
	interfaceRegistry types.InterfaceRegistry

	keys map[string]*storetypes.KVStoreKey

	// SDK keepers
	AccountKeeper         authkeeper.AccountKeeper
	BankKeeper            bankkeeper.BaseKeeper
	StakingKeeper         *stakingkeeper.Keeper
	SlashingKeeper        slashingkeeper.Keeper
	MintKeeper            mintkeeper.Keeper
	DistrKeeper           distrkeeper.Keeper
	GovKeeper             govkeeper.Keeper
	UpgradeKeeper         *upgradekeeper.Keeper
	EvidenceKeeper        evidencekeeper.Keeper
	ConsensusParamsKeeper consensuskeeper.Keeper

	// NRO keepers
	AllocationKeeper allocationkeeper.Keeper
	LeaseKeeper      leasekeeper.Keeper
	AuditKeeper      auditkeeper.Keeper

	ModuleManager      *module.Manager
	BasicModuleManager module.BasicManager
	sm                 *module.SimulationManager
	configurator       module.Configurator
}

// New returns a fully wired Consensus-NRO application.
func New(
	logger log.Logger,
	db dbm.DB,
	loadLatest bool,
	appOpts servertypes.AppOptions,
	baseAppOptions ...func(*baseapp.BaseApp),
) *App {
	SetConfig()

	// 1. Codecs: app/params registers what the module manager does (below, again, as a no-op), so that
	// clients get the same codecs without linking the app.
	encoding, err := params.MakeEncodingConfig()
	if err != nil {
		panic(err)
	}
	interfaceRegistry, appCodec, txConfig := encoding.InterfaceRegistry, encoding.Codec, encoding.TxConfig
	legacyAmino := codec.NewLegacyAmino()
	std.RegisterLegacyAminoCodec(legacyAmino)

	// 2. BaseApp.
	bApp := baseapp.NewBaseApp(AppName, logger, db, txConfig.TxDecoder(), baseAppOptions...)
	bApp.SetVersion(version.Version)
	bApp.SetInterfaceRegistry(interfaceRegistry)
	bApp.SetTxEncoder(txConfig.TxEncoder())

	// 3. Store keys.
	keys := storetypes.NewKVStoreKeys(
		authtypes.StoreKey, banktypes.StoreKey, stakingtypes.StoreKey, minttypes.StoreKey,
		distrtypes.StoreKey, slashingtypes.StoreKey, govtypes.StoreKey, consensustypes.StoreKey,
		upgradetypes.StoreKey, evidencetypes.StoreKey,
		// NRO: one store per module of ours.
		allocationtypes.StoreKey, leasetypes.StoreKey, audittypes.StoreKey,
	)

	app := &App{
		BaseApp:           bApp,
		legacyAmino:       legacyAmino,
		appCodec:          appCodec,
		txConfig:          txConfig,
		interfaceRegistry: interfaceRegistry,
		keys:              keys,
	}
	govAuthority := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	addrCodec := address.NewBech32Codec(Bech32Prefix)

	// 4. Keepers, in dependency order.
	app.ConsensusParamsKeeper = consensuskeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[consensustypes.StoreKey]), govAuthority, runtime.EventService{})
	bApp.SetParamStore(app.ConsensusParamsKeeper.ParamsStore)

	app.AccountKeeper = authkeeper.NewAccountKeeper(
		appCodec, runtime.NewKVStoreService(keys[authtypes.StoreKey]), authtypes.ProtoBaseAccount,
		maccPerms, addrCodec, Bech32Prefix, govAuthority,
	)
	app.BankKeeper = bankkeeper.NewBaseKeeper(
		appCodec, runtime.NewKVStoreService(keys[banktypes.StoreKey]), app.AccountKeeper,
		BlockedAddresses(), govAuthority, logger,
	)
	app.StakingKeeper = stakingkeeper.NewKeeper(
		appCodec, runtime.NewKVStoreService(keys[stakingtypes.StoreKey]), app.AccountKeeper, app.BankKeeper,
		govAuthority, address.NewBech32Codec(Bech32PrefixValAddr), address.NewBech32Codec(Bech32PrefixConsAddr),
	)
	app.MintKeeper = mintkeeper.NewKeeper(
		appCodec, runtime.NewKVStoreService(keys[minttypes.StoreKey]), app.StakingKeeper, app.AccountKeeper,
		app.BankKeeper, authtypes.FeeCollectorName, govAuthority,
	)
	app.DistrKeeper = distrkeeper.NewKeeper(
		appCodec, runtime.NewKVStoreService(keys[distrtypes.StoreKey]), app.AccountKeeper, app.BankKeeper,
		app.StakingKeeper, authtypes.FeeCollectorName, govAuthority,
	)
	app.SlashingKeeper = slashingkeeper.NewKeeper(
		appCodec, legacyAmino, runtime.NewKVStoreService(keys[slashingtypes.StoreKey]), app.StakingKeeper, govAuthority,
	)
	app.StakingKeeper.SetHooks(stakingtypes.NewMultiStakingHooks(app.DistrKeeper.Hooks(), app.SlashingKeeper.Hooks()))

	skipUpgradeHeights := map[int64]bool{}
	for _, h := range cast.ToIntSlice(appOpts.Get(server.FlagUnsafeSkipUpgrades)) {
		skipUpgradeHeights[int64(h)] = true
	}
	homePath := cast.ToString(appOpts.Get(flags.FlagHome))
	app.UpgradeKeeper = upgradekeeper.NewKeeper(
		skipUpgradeHeights, runtime.NewKVStoreService(keys[upgradetypes.StoreKey]), appCodec, homePath, app.BaseApp, govAuthority,
	)

	govConfig := govtypes.DefaultConfig()
	govKeeper := govkeeper.NewKeeper(
		appCodec, runtime.NewKVStoreService(keys[govtypes.StoreKey]), app.AccountKeeper, app.BankKeeper,
		app.DistrKeeper, app.MsgServiceRouter(), govConfig, govAuthority,
		govkeeper.NewDefaultCalculateVoteResultsAndVotingPower(app.StakingKeeper),
	)
	govRouter := govv1beta1.NewRouter()
	govRouter.AddRoute(govtypes.RouterKey, govv1beta1.ProposalHandler)
	govKeeper.SetLegacyRouter(govRouter)
	app.GovKeeper = *govKeeper.SetHooks(govtypes.NewMultiGovHooks())

	evidenceKeeper := evidencekeeper.NewKeeper(
		appCodec, runtime.NewKVStoreService(keys[evidencetypes.StoreKey]), app.StakingKeeper, app.SlashingKeeper,
		addrCodec, runtime.ProvideCometInfoService(),
	)
	app.EvidenceKeeper = *evidenceKeeper

	// NRO: x/allocation holds staked node registration; it needs accounts and bank for the stake escrow.
	app.AllocationKeeper = allocationkeeper.NewKeeper(
		appCodec, runtime.NewKVStoreService(keys[allocationtypes.StoreKey]), logger,
		app.AccountKeeper, app.BankKeeper, govAuthority,
	)
	// NRO: x/lease holds leases and their escrow. x/lease and x/allocation call each other (a new lease is
	// queued for allocation; the engine activates leases; a closing lease frees its GPUs), so each gets the
	// other after both exist and before any module is built.
	app.LeaseKeeper = leasekeeper.NewKeeper(
		appCodec, runtime.NewKVStoreService(keys[leasetypes.StoreKey]), logger,
		app.AccountKeeper, app.BankKeeper, govAuthority,
	)
	app.LeaseKeeper.SetAllocationKeeper(app.AllocationKeeper)
	app.AllocationKeeper.SetLeaseKeeper(app.LeaseKeeper)
	// NRO: x/audit stores allocation decision records and nodes' telemetry; it reads nodes (agents, GPUs) and
	// writes their reputation in x/allocation, and reads where active leases are placed in x/lease. For the
	// Ethereum bridge it reads the bonded validators and their power from x/staking, and holds a validator it
	// jails for not signing out for x/slashing's downtime_jail_duration.
	app.AuditKeeper = auditkeeper.NewKeeper(
		appCodec, runtime.NewKVStoreService(keys[audittypes.StoreKey]), logger, govAuthority,
		app.AllocationKeeper, app.LeaseKeeper, app.BankKeeper, app.DistrKeeper, app.StakingKeeper, app.SlashingKeeper,
	)
	app.AllocationKeeper.SetAuditKeeper(app.AuditKeeper)

	// 5. Module manager.
	app.ModuleManager = module.NewManager(
		genutil.NewAppModule(app.AccountKeeper, app.StakingKeeper, app, txConfig),
		auth.NewAppModule(appCodec, app.AccountKeeper, randomGenesisAccounts, nil),
		bank.NewAppModule(appCodec, app.BankKeeper, app.AccountKeeper, nil),
		gov.NewAppModule(appCodec, &app.GovKeeper, app.AccountKeeper, app.BankKeeper, nil),
		mint.NewAppModule(appCodec, app.MintKeeper, app.AccountKeeper, nil, nil),
		slashing.NewAppModule(appCodec, app.SlashingKeeper, app.AccountKeeper, app.BankKeeper, app.StakingKeeper, nil, interfaceRegistry),
		distr.NewAppModule(appCodec, app.DistrKeeper, app.AccountKeeper, app.BankKeeper, app.StakingKeeper, nil),
		staking.NewAppModule(appCodec, app.StakingKeeper, app.AccountKeeper, app.BankKeeper, nil),
		upgrade.NewAppModule(app.UpgradeKeeper, addrCodec),
		evidence.NewAppModule(app.EvidenceKeeper),
		consensus.NewAppModule(appCodec, app.ConsensusParamsKeeper),
		// NRO
		allocation.NewAppModule(appCodec, app.AllocationKeeper, app.AccountKeeper, app.BankKeeper),
		lease.NewAppModule(appCodec, app.LeaseKeeper, app.AccountKeeper, app.BankKeeper),
		audit.NewAppModule(appCodec, app.AuditKeeper),
	)
	app.BasicModuleManager = module.NewBasicManagerFromManager(app.ModuleManager, map[string]module.AppModuleBasic{
		genutiltypes.ModuleName: genutil.NewAppModuleBasic(genutiltypes.DefaultMessageValidator),
		govtypes.ModuleName:     gov.NewAppModuleBasic([]govclient.ProposalHandler{}),
	})
	app.BasicModuleManager.RegisterLegacyAminoCodec(legacyAmino)
	app.BasicModuleManager.RegisterInterfaces(interfaceRegistry)

	// 6. Block and genesis orders.
	app.ModuleManager.SetOrderPreBlockers(upgradetypes.ModuleName, authtypes.ModuleName)
	app.ModuleManager.SetOrderBeginBlockers(
		minttypes.ModuleName, distrtypes.ModuleName, slashingtypes.ModuleName, evidencetypes.ModuleName,
		stakingtypes.ModuleName, allocationtypes.ModuleName,
	)
	// bank must come first (v0.54, BlockSTM finalisation). NRO: lease closes due leases (freeing their GPUs)
	// before allocation releases unbonded stake and places pending leases; audit then ends telemetry epochs
	// and sweeps them for missed reports against the leases active after both.
	app.ModuleManager.SetOrderEndBlockers(
		banktypes.ModuleName, govtypes.ModuleName, stakingtypes.ModuleName, leasetypes.ModuleName,
		allocationtypes.ModuleName, audittypes.ModuleName,
	)
	genesisModuleOrder := []string{
		authtypes.ModuleName, banktypes.ModuleName, distrtypes.ModuleName, stakingtypes.ModuleName,
		slashingtypes.ModuleName, govtypes.ModuleName, minttypes.ModuleName, genutiltypes.ModuleName,
		evidencetypes.ModuleName, upgradetypes.ModuleName, consensustypes.ModuleName,
		// NRO: after bank, so that InitGenesis can check the module accounts hold every stake and deposit.
		allocationtypes.ModuleName, leasetypes.ModuleName, audittypes.ModuleName,
	}
	app.ModuleManager.SetOrderInitGenesis(genesisModuleOrder...)
	app.ModuleManager.SetOrderExportGenesis(genesisModuleOrder...)

	// 7. Services.
	app.configurator = module.NewConfigurator(app.appCodec, app.MsgServiceRouter(), app.GRPCQueryRouter())
	if err := app.ModuleManager.RegisterServices(app.configurator); err != nil {
		panic(err)
	}
	app.registerUpgradeHandlers()
	autocliv1.RegisterQueryServer(app.GRPCQueryRouter(), runtimeservices.NewAutoCLIQueryService(app.ModuleManager.Modules))
	reflectionSvc, err := runtimeservices.NewReflectionService()
	if err != nil {
		panic(err)
	}
	reflectionv1.RegisterReflectionServiceServer(app.GRPCQueryRouter(), reflectionSvc)
	// The merged registry is only needed for this check. It cannot be built in a binary that also links a
	// package registering protos against github.com/gogo/protobuf's paths (nro-agent links gorgonia's tensor
	// for the policy and builds this app for its chain client's codecs), so a failure is logged, not fatal.
	if protoFiles, err := proto.MergedRegistry(); err != nil {
		logger.Debug("proto registry merge for the annotation check", "err", err)
	} else if err := msgservice.ValidateProtoAnnotations(protoFiles); err != nil {
		// Only log: some SDK protos lack annotations; ours are checked in tests.
		logger.Debug("proto annotation check", "err", err)
	}

	app.sm = module.NewSimulationManagerFromAppModules(app.ModuleManager.Modules, map[string]module.AppModuleSimulation{
		authtypes.ModuleName: auth.NewAppModule(app.appCodec, app.AccountKeeper, randomGenesisAccounts, nil),
	})
	app.sm.RegisterStoreDecoders()

	// 8. Stores and ABCI handlers.
	app.MountKVStores(keys)
	app.SetInitChainer(app.InitChainer)
	app.SetPreBlocker(app.PreBlocker)
	app.SetBeginBlocker(app.BeginBlocker)
	app.SetEndBlocker(app.EndBlocker)
	app.setAnteHandler(txConfig)
	app.setPostHandler()

	// 9. Load.
	if loadLatest {
		if err := app.LoadLatestVersion(); err != nil {
			panic(fmt.Errorf("load latest version: %w", err))
		}
	}
	return app
}

func (app *App) setAnteHandler(txConfig client.TxConfig) {
	anteHandler, err := ante.NewAnteHandler(ante.HandlerOptions{
		AccountKeeper:   app.AccountKeeper,
		BankKeeper:      app.BankKeeper,
		SignModeHandler: txConfig.SignModeHandler(),
		SigGasConsumer:  ante.DefaultSigVerificationGasConsumer,
	})
	if err != nil {
		panic(err)
	}
	app.SetAnteHandler(anteHandler)
}

func (app *App) setPostHandler() {
	postHandler, err := posthandler.NewPostHandler(posthandler.HandlerOptions{})
	if err != nil {
		panic(err)
	}
	app.SetPostHandler(postHandler)
}

// Name returns the application name.
func (app *App) Name() string { return app.BaseApp.Name() }

// PreBlocker runs the pre-block logic (upgrades).
func (app *App) PreBlocker(ctx sdk.Context, _ *abci.RequestFinalizeBlock) (*sdk.ResponsePreBlock, error) {
	return app.ModuleManager.PreBlock(ctx)
}

// BeginBlocker runs every module's BeginBlock in the configured order.
func (app *App) BeginBlocker(ctx sdk.Context) (sdk.BeginBlock, error) {
	return app.ModuleManager.BeginBlock(ctx)
}

// EndBlocker runs every module's EndBlock in the configured order.
func (app *App) EndBlocker(ctx sdk.Context) (sdk.EndBlock, error) {
	return app.ModuleManager.EndBlock(ctx)
}

// Configurator returns the module configurator (used by upgrade handlers).
func (app *App) Configurator() module.Configurator { return app.configurator }

// InitChainer initialises the chain from the genesis app state.
func (app *App) InitChainer(ctx sdk.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	var genesisState GenesisState
	if err := json.Unmarshal(req.AppStateBytes, &genesisState); err != nil {
		return nil, fmt.Errorf("decode genesis app state: %w", err)
	}
	if err := app.UpgradeKeeper.SetModuleVersionMap(ctx, app.ModuleManager.GetVersionMap()); err != nil {
		return nil, err
	}
	return app.ModuleManager.InitGenesis(ctx, app.appCodec, genesisState)
}

// LoadHeight loads the application state at a height.
func (app *App) LoadHeight(height int64) error { return app.LoadVersion(height) }

// LegacyAmino returns the amino codec (legacy JSON signing and CLI only).
func (app *App) LegacyAmino() *codec.LegacyAmino { return app.legacyAmino }

// AppCodec returns the binary and JSON codec.
func (app *App) AppCodec() codec.Codec { return app.appCodec }

// InterfaceRegistry returns the interface registry.
func (app *App) InterfaceRegistry() types.InterfaceRegistry { return app.interfaceRegistry }

// TxConfig returns the transaction configuration.
func (app *App) TxConfig() client.TxConfig { return app.txConfig }

// DefaultGenesis returns the default genesis state of every module.
func (app *App) DefaultGenesis() map[string]json.RawMessage {
	return app.BasicModuleManager.DefaultGenesis(app.appCodec)
}

// GetKey returns the KV store key of a module (tests only).
func (app *App) GetKey(storeKey string) *storetypes.KVStoreKey { return app.keys[storeKey] }

// SimulationManager returns the simulation manager.
func (app *App) SimulationManager() *module.SimulationManager { return app.sm }

// AutoCliOpts returns the AutoCLI options of every module, for the nrod root command.
func (app *App) AutoCliOpts() autocli.AppOptions {
	modules := make(map[string]appmodule.AppModule)
	for _, m := range app.ModuleManager.Modules {
		if moduleWithName, ok := m.(module.HasName); ok {
			if appModule, ok := moduleWithName.(appmodule.AppModule); ok {
				modules[moduleWithName.Name()] = appModule
			}
		}
	}
	return autocli.AppOptions{
		Modules:               modules,
		ModuleOptions:         runtimeservices.ExtractAutoCLIOptions(app.ModuleManager.Modules),
		AddressCodec:          authcodec.NewBech32Codec(Bech32Prefix),
		ValidatorAddressCodec: authcodec.NewBech32Codec(Bech32PrefixValAddr),
		ConsensusAddressCodec: authcodec.NewBech32Codec(Bech32PrefixConsAddr),
	}
}

// RegisterAPIRoutes registers the gRPC-gateway REST routes of every module.
func (app *App) RegisterAPIRoutes(apiSvr *api.Server, apiConfig config.APIConfig) {
	clientCtx := apiSvr.ClientCtx
	authtx.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	cmtservice.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	nodeservice.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	app.BasicModuleManager.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	if err := server.RegisterSwaggerAPI(apiSvr.ClientCtx, apiSvr.Router, apiConfig.Swagger); err != nil {
		panic(err)
	}
}

// RegisterTxService registers the tx gRPC service.
func (app *App) RegisterTxService(clientCtx client.Context) {
	authtx.RegisterTxService(app.GRPCQueryRouter(), clientCtx, app.Simulate, app.interfaceRegistry)
}

// RegisterTendermintService registers the CometBFT gRPC service.
func (app *App) RegisterTendermintService(clientCtx client.Context) {
	cmtservice.RegisterTendermintService(clientCtx, app.GRPCQueryRouter(), app.interfaceRegistry, app.Query)
}

// RegisterNodeService registers the node gRPC service.
func (app *App) RegisterNodeService(clientCtx client.Context, cfg config.Config) {
	nodeservice.RegisterNodeService(clientCtx, app.GRPCQueryRouter(), cfg, func() int64 {
		return app.CommitMultiStore().EarliestVersion()
	})
}

// ModuleAccountAddrs returns every module account address.
func ModuleAccountAddrs() map[string]bool {
	addrs := make(map[string]bool)
	for acc := range maccPerms {
		addrs[authtypes.NewModuleAddress(acc).String()] = true
	}
	return addrs
}

// BlockedAddresses returns the accounts that may not receive coins by plain transfer. Module accounts are
// blocked so that escrow balances can only change through their module's logic.
func BlockedAddresses() map[string]bool {
	blocked := make(map[string]bool)
	for acc := range maps.Keys(maccPerms) {
		blocked[authtypes.NewModuleAddress(acc).String()] = true
	}
	// Allow the gov module account to receive funds (deposits flow through it).
	delete(blocked, authtypes.NewModuleAddress(govtypes.ModuleName).String())
	return blocked
}

// GetMaccPerms returns a copy of the module account permissions.
func GetMaccPerms() map[string][]string { return maps.Clone(maccPerms) }

// GenesisState is the app state at genesis: module name to its JSON genesis.
type GenesisState map[string]json.RawMessage

// randomGenesisAccounts generates the simulation's genesis accounts as plain base accounts. The SDK's
// authsims.RandomGenesisAccounts also makes vesting accounts, whose types this app does not register (it has no
// x/auth/vesting), so a simulated genesis using it cannot even be encoded.
func randomGenesisAccounts(simState *module.SimulationState) authtypes.GenesisAccounts {
	accs := make(authtypes.GenesisAccounts, len(simState.Accounts))
	for i, acc := range simState.Accounts {
		accs[i] = authtypes.NewBaseAccountWithAddress(acc.Address)
	}
	return accs
}
