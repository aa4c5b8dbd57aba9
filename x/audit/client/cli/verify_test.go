package cli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gogoproto "github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/x/tx/signing/aminojson"

	"github.com/consensus-nro/nro/x/audit/client/cli"
	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

// writeDecision writes d as the codec's JSON of a QueryDecisionResponse (what the REST endpoint serves).
func writeDecision(t *testing.T, d types.Decision) string {
	t.Helper()
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	bz, err := cdc.MarshalJSON(&types.QueryDecisionResponse{Decision: d})
	require.NoError(t, err)
	return writeFile(t, bz)
}

func writeFile(t *testing.T, bz []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "decision.json")
	require.NoError(t, os.WriteFile(path, bz, 0o600))
	return path
}

// run executes verify-decision with args and returns its output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := cli.NewVerifyDecisionCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestVerifyDecisionFile(t *testing.T) {
	path := writeDecision(t, audittestutil.SampleDecision(t, 7, 120))

	out, err := run(t, "--file", path)
	require.NoError(t, err)
	require.Contains(t, out, "decision 7 for lease 42 at height 120: MATCH")
	require.Contains(t, out, "#3 fallback: total 20960000, as recorded: ok")
	require.Contains(t, out, "winner: #0 (proposal 3 by nro1alice), as recorded: ok")

	// The id may be given too, and must be the file's.
	_, err = run(t, "7", "--file", path, "--max-nodes", "64")
	require.NoError(t, err)
	_, err = run(t, "8", "--file", path)
	require.ErrorContains(t, err, "holds decision 7, not 8")

	out, err = run(t, "--file", path, "-o", "json")
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Equal(t, float64(7), got["decision_id"])
	require.Equal(t, float64(42), got["lease_id"])
	require.Equal(t, float64(120), got["height"])
	require.Equal(t, true, got["match"])
	require.Len(t, got["candidates"], 4)
}

func TestVerifyDecisionFileMismatch(t *testing.T) {
	d := audittestutil.SampleDecision(t, 7, 120)
	d.Candidates[1].Nodes[0].PricePerGpuHour = sdkmath.NewInt(2_700_000) // n-g1
	path := writeDecision(t, d)

	out, err := run(t, "--file", path)
	require.ErrorIs(t, err, cli.ErrMismatch)
	require.ErrorContains(t, err, "decision 7: the recomputed allocation differs from the chain's record (1 problem(s), listed above)")
	require.Contains(t, out, "decision 7 for lease 42 at height 120: MISMATCH")
	require.Contains(t, out, "#1 proposal 5 by nro1bob: recorded total 23040000, recomputed 23440000: MISMATCH")
	require.Contains(t, out, "winner: #0 (proposal 3 by nro1alice), as recorded: ok")

	out, err = run(t, "--file", path, "-o", "json")
	require.ErrorIs(t, err, cli.ErrMismatch)
	var got types.Report
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.False(t, got.Match)
	require.False(t, got.Candidates[1].Match)
	require.Equal(t, "23040000", got.Candidates[1].RecordedTotal)
	require.Equal(t, "23440000", got.Candidates[1].RecomputedTotal)
	require.Contains(t, got.Candidates[1].Error, "price recorded 20400000, recomputed 20800000")

	// A node-count limit below the placements' is reported, not ignored.
	_, err = run(t, "--file", writeDecision(t, audittestutil.SampleDecision(t, 7, 120)), "--max-nodes", "1")
	require.ErrorIs(t, err, cli.ErrMismatch)
}

func TestVerifyDecisionBareDecisionJSON(t *testing.T) {
	d := audittestutil.SampleDecision(t, 7, 120)
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	bz, err := cdc.MarshalJSON(&d)
	require.NoError(t, err)
	out, err := run(t, "--file", writeFile(t, bz))
	require.NoError(t, err)
	require.Contains(t, out, "MATCH")
}

// TestVerifyDecisionAutoCLIJSON feeds the command what `nrod q audit decision 7 -o json` prints: AutoCLI
// resolves the response type in the merged proto registry, decodes it as a dynamic message, and encodes it
// with the amino JSON encoder (enums as names, 64-bit integers as strings, empty fields left out).
func TestVerifyDecisionAutoCLIJSON(t *testing.T) {
	res := types.QueryDecisionResponse{Decision: audittestutil.SampleDecision(t, 7, 120)}
	files := audittestutil.ResolvedProtoFiles(t, "nro/audit/v1/query.proto")
	desc, err := files.FindDescriptorByName(protoreflect.FullName(gogoproto.MessageName(&res)))
	require.NoError(t, err)
	msg := dynamicpb.NewMessage(desc.(protoreflect.MessageDescriptor))
	bz, err := gogoproto.Marshal(&res)
	require.NoError(t, err)
	require.NoError(t, protov2.Unmarshal(bz, msg))
	js, err := aminojson.NewEncoder(aminojson.EncoderOptions{
		Indent:             "  ",
		EnumAsString:       true,
		DoNotSortFields:    true,
		AminoNameAsTypeURL: true,
		MarshalMappings:    true,
		FileResolver:       files,
	}).Marshal(msg)
	require.NoError(t, err)
	require.Contains(t, string(js), `"source": "CANDIDATE_SOURCE_PROPOSAL"`)

	d, err := cli.ParseDecisionJSON(js)
	require.NoError(t, err)
	requireSameDecision(t, res.Decision, d)

	out, err := run(t, "--file", writeFile(t, js))
	require.NoError(t, err, out)
	require.Contains(t, out, "MATCH")
}

func requireSameDecision(t *testing.T, want, got types.Decision) {
	t.Helper()
	wantBz, err := gogoproto.Marshal(&want)
	require.NoError(t, err)
	gotBz, err := gogoproto.Marshal(&got)
	require.NoError(t, err)
	require.Equal(t, wantBz, gotBz)
}

func TestVerifyDecisionBadInput(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		contains string
	}{
		{"nothing to verify", nil, "give a DECISION_ID to query a node, or --file PATH"},
		{"id not a number", []string{"seven"}, `decision id "seven": want a whole number of 1 or more`},
		{"id 0", []string{"0"}, `decision id "0"`},
		{"two ids", []string{"1", "2"}, "accepts between 0 and 1 arg(s)"},
		{"missing file", []string{"--file", filepath.Join(t.TempDir(), "none.json")}, "read decision file"},
		{"not JSON", []string{"--file", writeFile(t, []byte("decision 7"))}, "not a decision record"},
		{"JSON without a decision", []string{"--file", writeFile(t, []byte(`{"decision": {}}`))}, "no decision id"},
		{"unknown output", []string{"--file", writeDecision(t, audittestutil.SampleDecision(t, 7, 120)), "-o", "yaml"}, `output format "yaml": want text or json`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, tc.args...)
			require.ErrorContains(t, err, tc.contains)
			require.NotErrorIs(t, err, cli.ErrMismatch)
		})
	}
}

func TestWriteReport(t *testing.T) {
	r := types.VerifyDecision(audittestutil.SampleDecision(t, 7, 120), 0)
	var text, js bytes.Buffer
	require.NoError(t, cli.WriteReport(&text, r, "text"))
	require.Equal(t, r.String(), text.String())
	require.NoError(t, cli.WriteReport(&js, r, "json"))
	require.True(t, strings.HasPrefix(js.String(), "{\n  \"decision_id\": 7,"), js.String())
}
