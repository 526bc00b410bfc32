// Package atomicfile replaces a file so that a reader sees the old content
// or the new, never half of either: for the developer tools that write
// files in the repository or a release (the instance-type table, the
// rendered install files).
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data and exactly mode (not masked by the umask):
// a temporary file beside it, synced, renamed over it.
func Write(path string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
