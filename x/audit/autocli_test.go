package audit_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoregistry"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
	"cosmossdk.io/client/v2/autocli"
	"cosmossdk.io/client/v2/autocli/flag"
	"cosmossdk.io/core/appmodule"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"

	"github.com/consensus-nro/nro/x/audit"
	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
)

// TestAutoCLI builds the module's generated commands as nrod does and checks their shape: the two queries
// with their positional argument and filter flags, and no tx command (there is no Msg service).
func TestAutoCLI(t *testing.T) {
	builder := &autocli.Builder{
		Builder: flag.Builder{
			TypeResolver:          protoregistry.GlobalTypes,
			FileResolver:          audittestutil.ResolvedProtoFiles(t, "nro/audit/v1/query.proto"),
			AddressCodec:          addresscodec.NewBech32Codec("nro"),
			ValidatorAddressCodec: addresscodec.NewBech32Codec("nrovaloper"),
			ConsensusAddressCodec: addresscodec.NewBech32Codec("nrovalcons"),
		},
		GetClientConn: func(*cobra.Command) (grpc.ClientConnInterface, error) { return nil, nil },
	}
	opts := autocli.AppOptions{
		Modules:       map[string]appmodule.AppModule{"audit": audit.AppModule{}},
		ModuleOptions: map[string]*autocliv1.ModuleOptions{"audit": audit.AppModule{}.AutoCLIOptions()},
	}
	root := &cobra.Command{Use: "nrod"}
	root.SetContext(context.Background())
	require.NoError(t, opts.EnhanceRootCommandWithBuilder(root, builder))

	find := func(path ...string) *cobra.Command {
		cmd, rest, err := root.Find(path)
		if err != nil || len(rest) > 0 || cmd.Name() != path[len(path)-1] {
			return nil
		}
		return cmd
	}
	decision := find("query", "audit", "decision")
	require.NotNil(t, decision)
	require.Equal(t, "decision DECISION_ID", decision.Use)
	require.Error(t, decision.Args(decision, nil), "the id is required")

	decisions := find("query", "audit", "decisions")
	require.NotNil(t, decisions)
	for _, f := range []string{"lease-id", "node-id", "min-height", "max-height", "page-limit", "page-key", "page-offset", "page-count-total", "page-reverse"} {
		require.NotNil(t, decisions.Flags().Lookup(f), "flag --%s", f)
	}
	require.Nil(t, find("tx", "audit"), "x/audit has no messages yet")

	var help bytes.Buffer
	decisions.SetOut(&help)
	require.NoError(t, decisions.Help())
	require.Contains(t, help.String(), "Filters combine (AND)")
}
