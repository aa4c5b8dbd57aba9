package params_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDaemonsDoNotLinkTheApp keeps nro-agent and nro-relayer off the app: linking it (for its codecs) put
// every keeper, the stores and CometBFT's node into the agent and nearly doubled its resident memory
// (docs/benchmarks.md). app/params has what they need.
func TestDaemonsDoNotLinkTheApp(t *testing.T) {
	// `go test` puts its own GOROOT/bin first on the test's PATH, so the go tool is always there.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is not on PATH (run this test with go test): %v", err)
	}
	for _, daemon := range []string{"nro-agent", "nro-relayer"} {
		out, err := exec.Command(goTool, "list", "-deps", "github.com/consensus-nro/nro/cmd/"+daemon).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", daemon, err, out)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if pkg == "github.com/consensus-nro/nro/app" || strings.HasSuffix(pkg, "/keeper") ||
				strings.HasPrefix(pkg, "github.com/cometbft/cometbft/node") {
				t.Errorf("%s links %s: use app/params for the chain's codecs, not the app", daemon, pkg)
			}
		}
	}
}
