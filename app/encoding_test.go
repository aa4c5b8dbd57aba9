package app

import (
	"slices"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/std"

	"github.com/consensus-nro/nro/app/params"
)

// registrations lists every interface of a registry with its implementations, sorted.
func registrations(reg types.InterfaceRegistry) map[string][]string {
	out := map[string][]string{}
	for _, iface := range reg.ListAllInterfaces() {
		impls := reg.ListImplementations(iface)
		slices.Sort(impls)
		out[iface] = impls
	}
	return out
}

// TestEncodingConfigMatchesApp holds app/params — the codecs nro-agent and nro-relayer use without linking
// the app — to what the app's module manager registers: a module added to the app without its types in
// params.MakeEncodingConfig fails here, before a client fails to decode its messages.
func TestEncodingConfigMatchesApp(t *testing.T) {
	app := NewTestApp(t)
	fromModules, err := types.NewInterfaceRegistryWithOptions(types.InterfaceRegistryOptions{
		ProtoFiles:     proto.HybridResolver,
		SigningOptions: params.SigningOptions(),
	})
	require.NoError(t, err)
	std.RegisterInterfaces(fromModules)
	app.BasicModuleManager.RegisterInterfaces(fromModules)

	enc, err := params.MakeEncodingConfig()
	require.NoError(t, err)
	want := registrations(fromModules)
	require.NotEmpty(t, want["cosmos.base.v1beta1.Msg"], "the module manager registers messages")
	require.Contains(t, want["cosmos.base.v1beta1.Msg"], "/nro.allocation.v1.MsgProposeAllocation")
	require.Equal(t, want, registrations(enc.InterfaceRegistry), "params.MakeEncodingConfig and the module manager")
	require.Equal(t, want, registrations(app.InterfaceRegistry()), "the app's registry")
}
