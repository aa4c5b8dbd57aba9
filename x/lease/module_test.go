package lease_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/gogoproto/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/consensus-nro/nro/x/lease"
	"github.com/consensus-nro/nro/x/lease/simulation"
	"github.com/consensus-nro/nro/x/lease/testutil"
	"github.com/consensus-nro/nro/x/lease/types"
)

// TestAutoCLIOptionsNameRealMethods: every RPC the AutoCLI options name exists in its service, and every
// RPC of the services has an entry, so that no command silently disappears.
func TestAutoCLIOptionsNameRealMethods(t *testing.T) {
	opts := lease.AppModule{}.AutoCLIOptions()
	for _, svc := range []*autocliv1.ServiceCommandDescriptor{opts.Query, opts.Tx} {
		d, err := proto.HybridResolver.FindDescriptorByName(protoreflect.FullName(svc.Service))
		require.NoError(t, err, svc.Service)
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		var want, named []string
		for i := 0; i < methods.Len(); i++ {
			want = append(want, string(methods.Get(i).Name()))
		}
		for _, o := range svc.RpcCommandOptions {
			named = append(named, o.RpcMethod)
		}
		require.ElementsMatch(t, want, named, svc.Service)
	}
}

// TestModuleGenesisAndEndBlock drives the module through its AppModule entry points.
func TestModuleGenesisAndEndBlock(t *testing.T) {
	f := testutil.NewFixtureWithoutGenesis(t)
	am := lease.NewAppModule(f.Codec, f.Keeper, f.AccountKeeper, f.BankKeeper)
	def := am.DefaultGenesis(f.Codec)
	require.NoError(t, am.ValidateGenesis(f.Codec, nil, def))
	require.Error(t, am.ValidateGenesis(f.Codec, nil, []byte(`{"params":{}}`)))
	am.InitGenesis(f.Ctx, f.Codec, def)
	require.JSONEq(t, string(def), string(am.ExportGenesis(f.Ctx, f.Codec)))

	_, sub := f.Addr("submitter")
	l := f.CreateLease(f.ValidCreateMsg(sub))
	f.SetHeight(l.DeadlineHeight)
	require.NoError(t, am.EndBlock(f.Ctx))
	require.Equal(t, types.LEASE_STATE_EXPIRED, f.Lease(l.Id).State)
}

func TestRandomParamsAreValid(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for range 1_000 {
		require.NoError(t, simulation.RandomParams(r.Intn).Validate())
	}
}

// TestMessageFactories runs the simulation's message factories against a fixture for a few hundred
// operations, placing some pending leases on fake nodes and running EndBlock, and requires that every
// message a factory produces passes ValidateBasic and is accepted, with the escrow invariant holding
// throughout.
func TestMessageFactories(t *testing.T) {
	f := testutil.NewFixture(t)
	r := rand.New(rand.NewSource(42))
	f.SetParams(simulation.RandomParams(r.Intn))
	accounts := simtypes.RandomAccounts(r, 6)
	for _, a := range accounts {
		f.Fund(a.Address, f.Coin(1_000_000_000_000))
	}
	_, opStr := f.Addr("operator")

	type factory struct {
		name string
		run  func(ctx context.Context, data *simsx.ChainDataSource, rep simsx.SimulationReporter) (sdk.Msg, bool)
	}
	wrap := func(name string, fn func(ctx context.Context, data *simsx.ChainDataSource, rep simsx.SimulationReporter) sdk.Msg) factory {
		return factory{name, func(ctx context.Context, data *simsx.ChainDataSource, rep simsx.SimulationReporter) (sdk.Msg, bool) {
			msg := fn(ctx, data, rep)
			return msg, !rep.IsSkipped()
		}}
	}
	factories := []factory{
		wrap("create", func(ctx context.Context, d *simsx.ChainDataSource, rep simsx.SimulationReporter) sdk.Msg {
			_, m := simulation.MsgCreateLeaseFactory(f.Keeper)(ctx, d, rep)
			return m
		}),
		wrap("cancel", func(ctx context.Context, d *simsx.ChainDataSource, rep simsx.SimulationReporter) sdk.Msg {
			_, m := simulation.MsgCancelLeaseFactory(f.Keeper)(ctx, d, rep)
			return m
		}),
		wrap("top-up", func(ctx context.Context, d *simsx.ChainDataSource, rep simsx.SimulationReporter) sdk.Msg {
			_, m := simulation.MsgTopUpLeaseFactory(f.Keeper)(ctx, d, rep)
			return m
		}),
		wrap("close", func(ctx context.Context, d *simsx.ChainDataSource, rep simsx.SimulationReporter) sdk.Msg {
			_, m := simulation.MsgCloseLeaseFactory(f.Keeper)(ctx, d, rep)
			return m
		}),
	}
	delivered := map[string]int{}
	for op := range 400 {
		data := simsx.NewChainDataSource(f.Ctx, r, f.AccountKeeper, f.BankKeeper, f.AddressCodec, accounts...)
		fac := factories[r.Intn(len(factories))]
		rep := simsx.NewBasicSimulationReporter()
		msg, ok := fac.run(f.Ctx, data, rep)
		if ok {
			require.NoError(t, msg.(sdk.HasValidateBasic).ValidateBasic(), "%s: %v", fac.name, msg)
			handler := map[string]func() error{
				"create": func() error { _, err := f.MsgServer.CreateLease(f.Ctx, msg.(*types.MsgCreateLease)); return err },
				"cancel": func() error { _, err := f.MsgServer.CancelLease(f.Ctx, msg.(*types.MsgCancelLease)); return err },
				"top-up": func() error { _, err := f.MsgServer.TopUpLease(f.Ctx, msg.(*types.MsgTopUpLease)); return err },
				"close":  func() error { _, err := f.MsgServer.CloseLease(f.Ctx, msg.(*types.MsgCloseLease)); return err },
			}[fac.name]
			require.NoError(t, handler(), "%s: %v", fac.name, msg)
			delivered[fac.name]++
		}
		// Place the oldest pending lease every few operations, as x/allocation would.
		if op%3 == 0 {
			iter, err := f.Keeper.Leases.Indexes.State.MatchExact(f.Ctx, int32(types.LEASE_STATE_PENDING))
			require.NoError(t, err)
			ids, err := iter.PrimaryKeys()
			require.NoError(t, err)
			if len(ids) > 0 {
				l := f.Lease(ids[0])
				node := f.LeaseNode(fmt.Sprintf("node-%d", op), opStr, l.Spec.TotalGpus, l.Spec.MaxPricePerGpuHour.Amount.Int64())
				node.PricePerGpuHour.Amount = math.NewInt(1 + r.Int63n(l.Spec.MaxPricePerGpuHour.Amount.Int64()))
				if l.Spec.GpuModel != "" {
					node.GpuModel = l.Spec.GpuModel
				}
				if len(l.Spec.Regions) > 0 {
					node.Region = l.Spec.Regions[0]
				}
				if l.Spec.MaxGpusPerNode == 0 {
					f.Activate(l.Id, node)
				}
			}
		}
		f.NextBlock(1 + r.Int63n(3))
		require.NoError(t, f.EndBlock())
		f.RequireInvariant()
	}
	for _, name := range []string{"create", "cancel", "top-up", "close"} {
		require.Positive(t, delivered[name], "%s never delivered: %v", name, delivered)
	}
}
