package audit_test

import (
	"bytes"
	"context"
	"strings"
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

// TestAutoCLI builds the module's generated commands as nrod does and checks their shape: the queries with
// their positional arguments and filter flags, and the tx command with the hand-written submit-telemetry
// and no generated UpdateParams (governance only).
func TestAutoCLI(t *testing.T) {
	builder := &autocli.Builder{
		Builder: flag.Builder{
			TypeResolver:          protoregistry.GlobalTypes,
			FileResolver:          audittestutil.ResolvedProtoFiles(t, "nro/audit/v1/query.proto", "nro/audit/v1/tx.proto"),
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

	for _, q := range []struct {
		use   string
		flags []string
	}{
		{use: "params"},
		{use: "epoch"},
		{use: "telemetry-report NODE_ID EPOCH"},
		{use: "telemetry", flags: []string{"node-id", "min-epoch", "max-epoch", "disputed-only", "page-limit", "page-key"}},
		{use: "link NODE_A NODE_B"},
		{use: "links", flags: []string{"node-id", "page-limit"}},
		{use: "faults", flags: []string{"node-id", "min-epoch", "max-epoch", "kind", "page-limit"}},
		{use: "reputation NODE_ID"},
		{use: "slash SLASH_ID"},
		{use: "slashes", flags: []string{"node-id", "page-limit", "page-reverse"}},
	} {
		name := strings.Fields(q.use)[0]
		cmd := find("query", "audit", name)
		require.NotNil(t, cmd, "nrod q audit %s", name)
		require.Equal(t, q.use, cmd.Use)
		for _, f := range q.flags {
			require.NotNil(t, cmd.Flags().Lookup(f), "nrod q audit %s --%s", name, f)
		}
	}
	require.Error(t, find("query", "audit", "telemetry-report").Args(nil, []string{"gpu-node-1"}), "node and epoch are required")

	submit := find("tx", "audit", "submit-telemetry")
	require.NotNil(t, submit, "nrod tx audit submit-telemetry")
	require.Equal(t, "submit-telemetry REPORT.json", submit.Use)
	require.NotNil(t, submit.Flags().Lookup("from"))
	require.Nil(t, find("tx", "audit", "update-params"), "params change through governance only")

	var help bytes.Buffer
	decisions.SetOut(&help)
	require.NoError(t, decisions.Help())
	require.Contains(t, help.String(), "Filters combine (AND)")
}
