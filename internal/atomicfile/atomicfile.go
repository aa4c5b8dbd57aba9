// Package atomicfile writes small state files (a relayer's scan cursor, an agent's last submitted epoch) so
// that a crash at any point leaves either the old or the new content, never a mix or an empty file.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// WriteFile writes data to a temporary file next to path, syncs it, gives it perm, and renames it over
// path; then it syncs the directory so that the rename itself survives a power loss (best effort where the
// platform cannot sync directories).
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	cleanup := func(err error) error { return errors.Join(err, tmp.Close(), os.Remove(tmp.Name())) }
	if _, err := tmp.Write(data); err != nil {
		return cleanup(err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return cleanup(err)
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(err)
	}
	if err := tmp.Close(); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
