package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteFileReplacesAndLeavesNoTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	require.NoError(t, WriteFile(path, []byte(`{"a":1}`), 0o600))
	require.NoError(t, WriteFile(path, []byte(`{"a":2}`), 0o600))
	bz, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, `{"a":2}`, string(bz))
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")

	require.Error(t, WriteFile(filepath.Join(dir, "missing", "x.json"), nil, 0o600), "the directory must exist")
}
