// Package lease is the x/lease module: leases of GPUs for jobs, paid from escrowed deposits, lazily settled
// with the providers, and closed at their end, when their deposit runs out, or on request. See README.md for
// the spec.
package lease

import (
	"context"
	"encoding/json"
	"fmt"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/runtime"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"cosmossdk.io/core/appmodule"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"

	"github.com/consensus-nro/nro/x/lease/client/cli"
	"github.com/consensus-nro/nro/x/lease/keeper"
	"github.com/consensus-nro/nro/x/lease/simulation"
	"github.com/consensus-nro/nro/x/lease/types"
)

// ConsensusVersion is the state-machine version of the module; bump it with a migration.
const ConsensusVersion = 2

var (
	_ module.AppModuleBasic      = AppModule{}
	_ module.HasGenesis          = AppModule{}
	_ module.AppModuleSimulation = AppModule{}
	_ appmodule.AppModule        = AppModule{}
	_ appmodule.HasEndBlocker    = AppModule{}
	_ appmodule.HasServices      = AppModule{}
)

// AppModule is the x/lease module.
type AppModule struct {
	cdc    codec.Codec
	keeper keeper.Keeper
	ak     types.AccountKeeper
	bk     types.BankKeeper
}

// NewAppModule returns the module. The keeper's AllocationKeeper must be set (Keeper.SetAllocationKeeper)
// before the chain runs.
func NewAppModule(cdc codec.Codec, k keeper.Keeper, ak types.AccountKeeper, bk types.BankKeeper) AppModule {
	return AppModule{cdc: cdc, keeper: k, ak: ak, bk: bk}
}

func (AppModule) IsAppModule()        {}
func (AppModule) IsOnePerModuleType() {}

// Name returns the module name.
func (AppModule) Name() string { return types.ModuleName }

// ConsensusVersion returns the module's state-machine version.
func (AppModule) ConsensusVersion() uint64 { return ConsensusVersion }

// RegisterLegacyAminoCodec registers amino names of the messages.
func (AppModule) RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	types.RegisterLegacyAminoCodec(cdc)
}

// RegisterInterfaces registers the messages.
func (AppModule) RegisterInterfaces(r codectypes.InterfaceRegistry) { types.RegisterInterfaces(r) }

// RegisterGRPCGatewayRoutes registers the REST routes of the query service.
func (AppModule) RegisterGRPCGatewayRoutes(clientCtx client.Context, mux *gwruntime.ServeMux) {
	if err := types.RegisterQueryHandlerClient(context.Background(), mux, types.NewQueryClient(clientCtx)); err != nil {
		panic(err)
	}
}

// GetTxCmd returns the hand-written tx commands (create); AutoCLI adds the rest.
func (AppModule) GetTxCmd() *cobra.Command { return cli.NewTxCmd() }

// RegisterServices registers the Msg and Query services and, when registrar is the module manager's
// configurator, the store migrations.
func (am AppModule) RegisterServices(registrar grpc.ServiceRegistrar) error {
	types.RegisterMsgServer(registrar, keeper.NewMsgServerImpl(am.keeper))
	types.RegisterQueryServer(registrar, keeper.NewQueryServerImpl(am.keeper))
	if cfg, ok := registrar.(module.Configurator); ok {
		m := keeper.NewMigrator(am.keeper)
		if err := cfg.RegisterMigration(types.ModuleName, 1, m.Migrate1to2); err != nil {
			return fmt.Errorf("register the %s migration from version 1 to 2: %w", types.ModuleName, err)
		}
	}
	return nil
}

// DefaultGenesis returns the default genesis state.
func (AppModule) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	return cdc.MustMarshalJSON(types.DefaultGenesis())
}

// ValidateGenesis checks a genesis state.
func (am AppModule) ValidateGenesis(cdc codec.JSONCodec, _ client.TxEncodingConfig, bz json.RawMessage) error {
	var gs types.GenesisState
	if err := cdc.UnmarshalJSON(bz, &gs); err != nil {
		return fmt.Errorf("decode %s genesis: %w", types.ModuleName, err)
	}
	return gs.Validate(am.keeper.AddressCodec())
}

// InitGenesis loads the genesis state.
func (am AppModule) InitGenesis(ctx sdk.Context, cdc codec.JSONCodec, bz json.RawMessage) {
	var gs types.GenesisState
	cdc.MustUnmarshalJSON(bz, &gs)
	if err := am.keeper.InitGenesis(ctx, gs); err != nil {
		panic(err)
	}
}

// ExportGenesis exports the state.
func (am AppModule) ExportGenesis(ctx sdk.Context, cdc codec.JSONCodec) json.RawMessage {
	gs, err := am.keeper.ExportGenesis(ctx)
	if err != nil {
		panic(err)
	}
	return cdc.MustMarshalJSON(gs)
}

// EndBlock expires and closes the leases whose deadline has come (at most max_closes_per_block), makes at
// most one settlement batch, and prunes what retention_blocks no longer keeps (at most max_pruned_per_block).
func (am AppModule) EndBlock(ctx context.Context) error {
	if err := am.keeper.ProcessDeadlines(ctx); err != nil {
		return err
	}
	if err := am.keeper.MakeBatch(ctx); err != nil {
		return err
	}
	return am.keeper.Prune(ctx)
}

// GenerateGenesisState creates a randomized genesis for simulations.
func (AppModule) GenerateGenesisState(simState *module.SimulationState) {
	simulation.RandomizedGenState(simState)
}

// RegisterStoreDecoder decodes the module's store entries for simulation store comparisons.
func (am AppModule) RegisterStoreDecoder(sdr simtypes.StoreDecoderRegistry) {
	sdr[types.StoreKey] = simtypes.NewStoreDecoderFuncFromCollectionsSchema(am.keeper.Schema)
}

// WeightedOperations is empty: the module's operations are registered through simsx (WeightedOperationsX).
func (AppModule) WeightedOperations(module.SimulationState) []simtypes.WeightedOperation { return nil }

// WeightedOperationsX registers the module's simulation messages.
func (am AppModule) WeightedOperationsX(weights simsx.WeightSource, reg simsx.Registry) {
	reg.Add(weights.Get("msg_create_lease", 100), simulation.MsgCreateLeaseFactory(am.keeper))
	reg.Add(weights.Get("msg_cancel_lease", 20), simulation.MsgCancelLeaseFactory(am.keeper))
	reg.Add(weights.Get("msg_top_up_lease", 30), simulation.MsgTopUpLeaseFactory(am.keeper))
	reg.Add(weights.Get("msg_close_lease", 30), simulation.MsgCloseLeaseFactory(am.keeper))
}

// ProposalMsgsX registers the governance proposals of the module.
func (AppModule) ProposalMsgsX(weights simsx.WeightSource, reg simsx.Registry) {
	reg.Add(weights.Get("msg_update_params", 100), simulation.MsgUpdateParamsFactory())
}
