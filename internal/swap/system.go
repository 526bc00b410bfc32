package swap

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Paths of the kernel interfaces read and written.
const (
	ProcSwaps      = "/proc/swaps"
	ProcMeminfo    = "/proc/meminfo"
	ProcSwappiness = "/proc/sys/vm/swappiness"
)

// System is the machine: the one seam between deciding and doing. Observe
// reads only through it, the planner never touches it, and Execute changes
// the machine only through it. Tests use a fake (internal/swap/swaptest);
// Kernel is the real implementation, proven by root-only tests.
type System interface {
	// PageSize is the running kernel's page size.
	PageSize() int64
	// KernelRelease is uname -r, "" when unknown.
	KernelRelease() string
	// ReadFile reads a small file such as /proc/swaps or fstab.
	ReadFile(path string) ([]byte, error)
	// ReadDir lists a directory, sorted by name.
	ReadDir(dir string) ([]fs.DirEntry, error)
	// Resolve returns path with every symlink in it resolved.
	Resolve(path string) (string, error)
	// Statfs describes the filesystem that holds dir.
	Statfs(dir string) (Filesystem, error)
	// Lstat describes path without following a symlink at it; an error
	// satisfying errors.Is(err, fs.ErrNotExist) when nothing is there.
	Lstat(path string) (FileInfo, error)
	// ReadHeader returns the first bytes of the file at path (at least the
	// largest page size when the file is that long), never through a symlink.
	ReadHeader(path string) ([]byte, error)
	// ReadAt reads n bytes at off of a file or block device (fewer at its end).
	ReadAt(path string, off int64, n int) ([]byte, error)
	// Privileged fails unless the process may call swapon(2).
	Privileged() error

	// Lock takes the lock that keeps runs from overlapping, waiting up to wait.
	Lock(path string, wait time.Duration) (release func(), err error)
	// MakeSwapfile writes a complete, inactive swap area at TempPath(path):
	// created 0600 with O_EXCL|O_NOFOLLOW, NOCOW on btrfs, allocated, header
	// written, fsynced. A stale temp file is replaced.
	MakeSwapfile(ctx context.Context, path string, size, pageSize int64, zero bool) error
	// MakeSwapDevice writes a swap header for size bytes at the start of the
	// block device at path, opened exclusively (so never while it is mounted
	// or held), and syncs it.
	MakeSwapDevice(path string, size, pageSize int64) error
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
	// WriteFile replaces path with data atomically (temp file, fsync, rename).
	WriteFile(path string, data []byte, perm os.FileMode) error
	// SetParam writes a kernel parameter: a file under /proc/sys or
	// /sys/module (vm.swappiness, zswap's parameters).
	SetParam(path, value string) error
}

// FileKind says what is at a path.
type FileKind string

// The kinds of things a path can hold.
const (
	KindNone      FileKind = ""
	KindRegular   FileKind = "regular file"
	KindDir       FileKind = "directory"
	KindSymlink   FileKind = "symlink"
	KindCharDev   FileKind = "character device"
	KindBlockDev  FileKind = "block device"
	KindPipe      FileKind = "named pipe"
	KindSocket    FileKind = "socket"
	KindIrregular FileKind = "special file"
)

// FileInfo is what Lstat found at a path.
type FileInfo struct {
	Kind      FileKind
	Mode      os.FileMode // permission bits
	UID, GID  uint32
	Size      int64
	Allocated int64  // bytes of disk it holds (st_blocks × 512)
	Links     uint64 // hard links
}

// Exists reports whether anything is at the path.
func (f FileInfo) Exists() bool { return f.Kind != KindNone }

// Filesystem is what statfs says about the filesystem under SWAP_FILE.
type Filesystem struct {
	Type      string // "ext4", "xfs", "btrfs", "tmpfs", ... or "filesystem type 0x…"
	Available int64  // f_bavail × f_bsize: leaves the root-reserved blocks alone
	// Devices is the number of devices of a btrfs filesystem (0 elsewhere).
	Devices uint64
	// Compressed is set when the directory has btrfs compression on, which
	// new files inherit.
	Compressed bool
	// ReadOnly: mounted read-only (statfs ST_RDONLY).
	ReadOnly bool
}

// TempPath is where a new swapfile is built before it is renamed into place:
// hidden, beside the target (same filesystem, so the rename is atomic), and
// fixed, so a run killed midway leaves a name the next run recognises.
func TempPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swap-bootstrap-tmp")
}
