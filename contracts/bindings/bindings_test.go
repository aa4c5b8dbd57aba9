package bindings_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/abigen"
)

// bindingFiles maps each contract to its committed binding file; keep in sync
// with CONTRACT_BINDINGS in make/contracts.mk.
var bindingFiles = map[string]string{
	"NROSettlement": "nro_settlement.go",
	"WrappedNRO":    "wrapped_nro.go",
}

// TestBindingsUpToDate regenerates the abigen v2 bindings from the committed
// ABI/BIN artifacts (same call as `abigen -v2 --abi --bin --pkg bindings
// --type T`) and fails if they differ from the committed files.
func TestBindingsUpToDate(t *testing.T) {
	tmp := t.TempDir()
	for typ, file := range bindingFiles {
		abiJSON, err := os.ReadFile(filepath.Join("..", "build", typ+".abi"))
		if err != nil {
			t.Fatal(err)
		}
		bin, err := os.ReadFile(filepath.Join("..", "build", typ+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		code, err := abigen.BindV2([]string{typ}, []string{string(abiJSON)}, []string{string(bin)}, "bindings",
			map[string]string{}, map[string]string{})
		if err != nil {
			t.Fatalf("%s: abigen: %v", typ, err)
		}
		out := filepath.Join(tmp, file)
		if err := os.WriteFile(out, []byte(code), 0o600); err != nil {
			t.Fatal(err)
		}
		regenerated, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%s: %v (run `make contracts`)", typ, err)
		}
		if string(committed) != string(regenerated) {
			t.Errorf("contracts/bindings/%s is stale relative to contracts/build/%s.{abi,bin}; run `make contracts` and commit", file, typ)
		}
	}
}
