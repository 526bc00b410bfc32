package swap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/soundhub/swap-bootstrap/internal/fault"
	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

// Paths of the kernel interfaces read and written.
const (
	ProcSwaps      = "/proc/swaps"
	ProcMeminfo    = "/proc/meminfo"
	ProcSwappiness = "/proc/sys/vm/swappiness"
)

// Inode flags (include/uapi/linux/fs.h).
const (
	fsComprFL = 0x00000004
	fsNocowFL = 0x00800000
)

// Kernel is the real System: syscalls on the running kernel.
type Kernel struct {
	Logger *slog.Logger
	// ProgressEvery is how often the zero-fill path logs progress (default 5s).
	ProgressEvery time.Duration
}

var _ System = (*Kernel)(nil)

// openDir opens dir refusing symlinks in any component (openat2
// RESOLVE_NO_SYMLINKS, Linux 5.6+; older kernels fall back to O_NOFOLLOW on the
// last component). Every later step works relative to this descriptor, so a
// parent swapped for a symlink between checks cannot redirect it.
func openDir(dir string) (int, error) {
	fd, err := unix.Openat2(unix.AT_FDCWD, dir, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS,
	})
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if errors.Is(err, unix.ELOOP) {
		return -1, fmt.Errorf("directory %q has a symlink in its path; refusing to follow it: %w", dir, err)
	}
	if err != nil {
		return -1, fmt.Errorf("open directory %q: %w", dir, err)
	}
	return fd, nil
}

// openIn opens name inside the directory of path without following a symlink.
func openIn(path string, flags int, perm uint32) (dirfd, fd int, err error) {
	dirfd, err = openDir(filepath.Dir(path))
	if err != nil {
		return -1, -1, err
	}
	fd, err = unix.Openat(dirfd, filepath.Base(path), flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err != nil {
		unix.Close(dirfd)
		if errors.Is(err, unix.ELOOP) {
			return -1, -1, fmt.Errorf("%q is a symlink; refusing to follow it: %w", path, err)
		}
		return -1, -1, fmt.Errorf("open %q: %w", path, err)
	}
	return dirfd, fd, nil
}

// MakeSwapfile implements System.
func (k *Kernel) MakeSwapfile(ctx context.Context, path string, size, pageSize int64, zero bool) (err error) {
	hdr, err := NewHeader(size, pageSize)
	if err != nil {
		return err
	}
	tmp := TempPath(path)
	dirfd, err := openDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	name := filepath.Base(tmp)
	if err := unix.Unlinkat(dirfd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove stale %q: %w", tmp, err)
	}
	// 0600 from birth: the file never exists world-readable, even for a moment.
	fd, err := unix.Openat(dirfd, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create %q: %w", tmp, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	defer func() {
		f.Close()
		if err != nil {
			unix.Unlinkat(dirfd, name, 0)
		}
	}()
	fault.Point("temp-created")
	// A umask such as 0277 would leave 0400; swapon needs a writable file.
	if err := unix.Fchmod(fd, 0o600); err != nil {
		return fmt.Errorf("chmod %q: %w", tmp, err)
	}
	if err := unix.Fchown(fd, 0, 0); err != nil {
		return fmt.Errorf("chown %q: %w", tmp, err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return fmt.Errorf("statfs %q: %w", tmp, err)
	}
	if st.Type == unix.BTRFS_SUPER_MAGIC {
		if err := setNoCOW(fd, tmp); err != nil {
			return err
		}
	}
	if zero {
		err = k.zero(ctx, f, 0, size)
	} else if err = unix.Fallocate(fd, 0, 0, size); errors.Is(err, unix.EOPNOTSUPP) {
		k.log().Info("filesystem cannot fallocate; writing zeros", "path", tmp)
		err = k.zero(ctx, f, 0, size)
	}
	if err != nil {
		if errors.Is(err, unix.ENOSPC) {
			return fmt.Errorf("allocate %s for %q: filesystem full; nothing was left behind: %w", sizing.FormatSize(size), tmp, err)
		}
		return fmt.Errorf("allocate %s for %q: %w", sizing.FormatSize(size), tmp, err)
	}
	fault.Point("allocated")
	if _, err := f.WriteAt(hdr.Marshal(), 0); err != nil {
		return fmt.Errorf("write swap header to %q: %w", tmp, err)
	}
	fault.Point("header-written")
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %q: %w", tmp, err)
	}
	fault.Point("synced")
	return nil
}

// setNoCOW marks an empty btrfs file NOCOW: btrfs refuses swap on
// copy-on-write or compressed files (Linux 5.0+), and the flag only takes on
// an empty file.
func setNoCOW(fd int, path string) error {
	flags, err := unix.IoctlGetInt(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return fmt.Errorf("read inode flags of %q: %w", path, err)
	}
	want := flags&^fsComprFL | fsNocowFL
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, want); err != nil {
		return fmt.Errorf("set NOCOW on %q (btrfs needs it for swap): %w", path, err)
	}
	got, err := unix.IoctlGetInt(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return fmt.Errorf("read inode flags of %q: %w", path, err)
	}
	if got&fsNocowFL == 0 || got&fsComprFL != 0 {
		return fmt.Errorf("btrfs kept %q copy-on-write or compressed (flags %#x); btrfs cannot swap on it: clear compression on %q (chattr -c, btrfs property set … compression \"\") or set SWAP_FILE elsewhere", path, got, filepath.Dir(path))
	}
	return nil
}

// zeroChunk is the write size of the zero-fill path. Each chunk is pushed to
// disk and dropped from the page cache once written, so a 32 GiB fill never
// holds more than two chunks of dirty cache (the pattern Linus recommends for
// streaming writes: sync_file_range + fadvise DONTNEED).
const zeroChunk = 8 << 20

// zero writes zeros to [from, to) of f with bounded page cache.
func (k *Kernel) zero(ctx context.Context, f *os.File, from, to int64) error {
	fd := int(f.Fd())
	buf := make([]byte, zeroChunk)
	every := k.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	start := time.Now()
	next := start.Add(every)
	prev, prevN := int64(-1), int64(0)
	for off := from; off < to; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(len(buf)), to-off)
		w, err := f.WriteAt(buf[:n], off)
		if err != nil {
			return err
		}
		unix.SyncFileRange(fd, off, int64(w), unix.SYNC_FILE_RANGE_WRITE)
		if prev >= 0 {
			unix.SyncFileRange(fd, prev, prevN, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
			unix.Fadvise(fd, prev, prevN, unix.FADV_DONTNEED)
		}
		prev, prevN = off, int64(w)
		off += int64(w)
		fault.Point("zero-chunk")
		if now := time.Now(); now.After(next) {
			done := off - from
			rate := float64(done) / (1 << 20) / now.Sub(start).Seconds()
			k.log().Info("writing zeros", "path", f.Name(), "percent", done*100/(to-from), "mib_per_s", int(rate))
			next = now.Add(every)
		}
	}
	if prev >= 0 {
		unix.SyncFileRange(fd, prev, prevN, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
		unix.Fadvise(fd, prev, prevN, unix.FADV_DONTNEED)
	}
	return nil
}

// Commit implements System.
func (k *Kernel) Commit(path string, replace bool) error {
	dirfd, err := openDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	var flags uint
	if !replace {
		flags = unix.RENAME_NOREPLACE
	}
	if err := unix.Renameat2(dirfd, filepath.Base(TempPath(path)), dirfd, filepath.Base(path), flags); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("%q appeared while the new swapfile was being made; refusing to replace it: %w", path, err)
		}
		return fmt.Errorf("rename %q to %q: %w", TempPath(path), path, err)
	}
	return unix.Fsync(dirfd)
}

// ZeroFill implements System.
func (k *Kernel) ZeroFill(ctx context.Context, path string) error {
	dirfd, fd, err := openIn(path, unix.O_RDWR, 0)
	if err != nil {
		return err
	}
	unix.Close(dirfd)
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	head := make([]byte, 65536)
	n, _ := f.ReadAt(head, 0)
	h, ok := ParseHeader(head[:n])
	if !ok {
		return fmt.Errorf("%q lost its swap header; refusing to zero it", path)
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	// The header page stays: the file is a valid swap area at every moment.
	if err := k.zero(ctx, f, h.PageSize, fi.Size()); err != nil {
		return fmt.Errorf("write zeros to %q: %w", path, err)
	}
	return f.Sync()
}

// swapFlagPrefer and swapFlagPrioMask are from include/linux/swap.h.
const (
	swapFlagPrefer   = 0x8000
	swapFlagPrioMask = 0x7fff
)

// Swapon implements System. The file is opened without following symlinks and
// handed to swapon(2) as /proc/self/fd/N, so what gets enabled is exactly the
// file checked, whatever happens to the path meanwhile.
func (k *Kernel) Swapon(path string, priority int) error {
	return k.viaFD(path, func(p string) error {
		flags := 0
		if priority >= 0 {
			flags = swapFlagPrefer | priority&swapFlagPrioMask
		}
		return sysPath(unix.SYS_SWAPON, p, uintptr(flags))
	})
}

// Swapoff implements System.
func (k *Kernel) Swapoff(path string) error {
	return k.viaFD(path, func(p string) error { return sysPath(unix.SYS_SWAPOFF, p, 0) })
}

func (k *Kernel) viaFD(path string, call func(string) error) error {
	dirfd, fd, err := openIn(path, unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%q is not a regular file", path)
	}
	return call("/proc/self/fd/" + strconv.Itoa(fd))
}

func sysPath(nr uintptr, path string, arg uintptr) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, e := unix.Syscall(nr, uintptr(unsafe.Pointer(p)), arg, 0); e != 0 {
		return e
	}
	return nil
}

// Remove implements System.
func (k *Kernel) Remove(path string) error {
	dirfd, err := openDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	if err := unix.Unlinkat(dirfd, filepath.Base(path), 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %q: %w", path, err)
	}
	return unix.Fsync(dirfd)
}

// FixOwnerMode implements System.
func (k *Kernel) FixOwnerMode(path string) error {
	dirfd, fd, err := openIn(path, unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	defer unix.Close(fd)
	if err := unix.Fchown(fd, 0, 0); err != nil {
		return fmt.Errorf("chown %q to root: %w", path, err)
	}
	if err := unix.Fchmod(fd, 0o600); err != nil {
		return fmt.Errorf("chmod 0600 %q: %w", path, err)
	}
	return nil
}

// WriteFile implements System: a temp file beside path, fsync, rename, fsync
// the directory. An existing file's mode is kept.
func (k *Kernel) WriteFile(path string, data []byte, perm os.FileMode) error {
	dirfd, err := openDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	base := filepath.Base(path)
	var st unix.Stat_t
	if unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
		perm = os.FileMode(st.Mode & 0o7777)
	}
	tmp := "." + base + ".swap-bootstrap-tmp"
	unix.Unlinkat(dirfd, tmp, 0)
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm))
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(data)
	if err == nil {
		err = unix.Fchmod(fd, uint32(perm))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	fault.Point("file-temp-written")
	if err == nil {
		err = unix.Renameat(dirfd, tmp, dirfd, base)
	}
	if err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		return fmt.Errorf("write %q: %w", path, err)
	}
	return unix.Fsync(dirfd)
}

// SetSwappiness implements System.
func (k *Kernel) SetSwappiness(v int) error {
	if err := os.WriteFile(ProcSwappiness, []byte(strconv.Itoa(v)+"\n"), 0o644); err != nil {
		return fmt.Errorf("set vm.swappiness=%d: %w", v, err)
	}
	return nil
}

// Areas implements System.
func (k *Kernel) Areas() ([]Area, error) {
	b, err := os.ReadFile(ProcSwaps)
	if err != nil {
		return nil, err
	}
	return ParseProcSwaps(b)
}

// Meminfo implements System.
func (k *Kernel) Meminfo() (Meminfo, error) {
	b, err := os.ReadFile(fault.Meminfo())
	if err != nil {
		return Meminfo{}, err
	}
	return ParseMeminfo(b)
}

func (k *Kernel) log() *slog.Logger {
	if k.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return k.Logger
}
