package swap

import (
	"context"
	"os"
	"path/filepath"
)

// System is everything that needs root: the one seam between deciding and
// doing. The planner never calls it; the executor calls only it, so the
// executor is tested with a fake and the real implementation (Kernel) with
// root-only integration tests.
type System interface {
	// MakeSwapfile writes a complete, inactive swap area at TempPath(path):
	// created 0600 with O_EXCL|O_NOFOLLOW, NOCOW on btrfs, allocated, header
	// written, fsynced. A stale temp file is replaced.
	MakeSwapfile(ctx context.Context, path string, size, pageSize int64, zero bool) error
	// Commit renames TempPath(path) to path; replace allows an existing
	// (inactive) file at path to be replaced.
	Commit(path string, replace bool) error
	// ZeroFill writes zeros over every page after the header of the inactive
	// swap area at path, for kernels that reject unwritten extents.
	ZeroFill(ctx context.Context, path string) error
	Swapon(path string, priority int) error
	Swapoff(path string) error
	Remove(path string) error
	// FixOwnerMode makes path owned by root with mode 0600.
	FixOwnerMode(path string) error
	WriteFile(path string, data []byte, perm os.FileMode) error
	SetSwappiness(v int) error
	Areas() ([]Area, error)
	Meminfo() (Meminfo, error)
}

// TempPath is where a new swapfile is built before it is renamed into place:
// hidden, beside the target (same filesystem, so the rename is atomic), and
// fixed, so a run killed midway leaves a name the next run recognises.
func TempPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swap-bootstrap-tmp")
}
