package swap

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/soundhub/swap-bootstrap/internal/fault"
	"github.com/soundhub/swap-bootstrap/internal/sizing"
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

// PageSize implements System.
func (k *Kernel) PageSize() int64 { return int64(os.Getpagesize()) }

// KernelRelease implements System.
func (k *Kernel) KernelRelease() string {
	var uts unix.Utsname
	if unix.Uname(&uts) != nil {
		return ""
	}
	return unix.ByteSliceToString(uts.Release[:])
}

// ReadFile implements System.
func (k *Kernel) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// ReadDir implements System.
func (k *Kernel) ReadDir(dir string) ([]fs.DirEntry, error) { return os.ReadDir(dir) }

// Resolve implements System.
func (k *Kernel) Resolve(path string) (string, error) { return filepath.EvalSymlinks(path) }

var fsNames = map[int64]string{
	unix.EXT4_SUPER_MAGIC: "ext4", unix.XFS_SUPER_MAGIC: "xfs", unix.BTRFS_SUPER_MAGIC: "btrfs", unix.F2FS_SUPER_MAGIC: "f2fs",
	unix.TMPFS_MAGIC: "tmpfs", unix.RAMFS_MAGIC: "ramfs", unix.OVERLAYFS_SUPER_MAGIC: "overlay", unix.NFS_SUPER_MAGIC: "nfs",
	unix.CIFS_SUPER_MAGIC: "cifs", unix.SMB2_SUPER_MAGIC: "smb2", unix.MSDOS_SUPER_MAGIC: "vfat", unix.SQUASHFS_MAGIC: "squashfs",
	unix.FUSE_SUPER_MAGIC: "fuse", 0x2fc12fc1: "zfs", 0x6a656a63: "virtiofs", 0x01021997: "9p",
}

// Statfs implements System. On btrfs it also counts the devices and reads
// the directory's compression flag, the two things that keep btrfs from
// swapping on a file.
func (k *Kernel) Statfs(dir string) (Filesystem, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return Filesystem{}, err
	}
	name, known := fsNames[int64(st.Type)]
	if !known {
		name = fmt.Sprintf("filesystem type %#x", st.Type)
	}
	f := Filesystem{Type: name, Available: int64(st.Bavail) * st.Bsize, ReadOnly: st.Flags&unix.ST_RDONLY != 0}
	if name != "btrfs" {
		return f, nil
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return f, fmt.Errorf("open %q: %w", dir, err)
	}
	defer unix.Close(fd)
	if n, err := btrfsDevices(fd); err == nil {
		f.Devices = n
	}
	if flags, err := unix.IoctlGetInt(fd, unix.FS_IOC_GETFLAGS); err == nil {
		f.Compressed = flags&fsComprFL != 0
	}
	return f, nil
}

// btrfsDevices returns num_devices from BTRFS_IOC_FS_INFO
// (_IOR(0x94, 31, struct btrfs_ioctl_fs_info_args), 1024 bytes).
func btrfsDevices(fd int) (uint64, error) {
	var args [1024]byte
	const btrfsIocFsInfo = 0x8400941f
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), btrfsIocFsInfo, uintptr(unsafe.Pointer(&args[0]))); e != 0 {
		return 0, e
	}
	return binary.NativeEndian.Uint64(args[8:16]), nil
}

// Lstat implements System.
func (k *Kernel) Lstat(path string) (FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return FileInfo{}, err
	}
	st := fi.Sys().(*syscall.Stat_t)
	return FileInfo{Kind: fileKind(fi.Mode()), Mode: fi.Mode().Perm(), UID: st.Uid, GID: st.Gid, Size: fi.Size(),
		Allocated: st.Blocks * 512, Links: uint64(st.Nlink)}, nil
}

func fileKind(m os.FileMode) FileKind {
	switch {
	case m.IsRegular():
		return KindRegular
	case m.IsDir():
		return KindDir
	case m&fs.ModeSymlink != 0:
		return KindSymlink
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0:
		return KindCharDev
	case m&fs.ModeDevice != 0:
		return KindBlockDev
	case m&fs.ModeNamedPipe != 0:
		return KindPipe
	case m&fs.ModeSocket != 0:
		return KindSocket
	}
	return KindIrregular
}

// ReadHeader implements System.
func (k *Kernel) ReadHeader(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, PageSizes[len(PageSizes)-1])
	n, err := f.ReadAt(b, 0)
	if n > 0 {
		err = nil
	}
	return b[:n], err
}

// ReadAt implements System.
func (k *Kernel) ReadAt(path string, off int64, n int) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	m, err := f.ReadAt(b, off)
	if m > 0 {
		err = nil
	}
	return b[:m], err
}

// MakeSwapDevice implements System. O_EXCL on a block device fails with
// EBUSY while it is mounted, swapped on, or held by device-mapper or md: the
// kernel's own check that nothing uses it.
func (k *Kernel) MakeSwapDevice(path string, size, pageSize int64) error {
	hdr, err := NewHeader(size, pageSize)
	if err != nil {
		return err
	}
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s exclusively: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return fmt.Errorf("%s is not a block device", path)
	}
	if _, err := f.WriteAt(hdr.Marshal(), 0); err != nil {
		return fmt.Errorf("write swap header to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// ErrNotRoot means a command that changes the machine ran without the
// privilege swapon needs.
var ErrNotRoot = errors.New("must run as root with CAP_SYS_ADMIN (swapon(2) needs it); run it with sudo or from a root boot unit")

// Privileged implements System: root, with CAP_SYS_ADMIN (bit 21 of CapEff).
func (k *Kernel) Privileged() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			var caps uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%x", &caps); err == nil && caps&(1<<21) == 0 {
				return ErrNotRoot
			}
		}
	}
	return nil
}

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
	// Only a temp file that is there is stale: on a read-only filesystem
	// unlink fails with EROFS even for a name that does not exist.
	var old unix.Stat_t
	if unix.Fstatat(dirfd, name, &old, unix.AT_SYMLINK_NOFOLLOW) == nil {
		if err := unix.Unlinkat(dirfd, name, 0); err != nil {
			return fmt.Errorf("remove the temp file %q an interrupted run left: %w", tmp, err)
		}
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
	fault.At(fault.TempCreated)
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
	fault.At(fault.Allocated)
	if _, err := f.WriteAt(hdr.Marshal(), 0); err != nil {
		return fmt.Errorf("write swap header to %q: %w", tmp, err)
	}
	fault.At(fault.HeaderWritten)
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %q: %w", tmp, err)
	}
	fault.At(fault.Synced)
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

// zeroChunk is the write size of the zero-fill path.
const zeroChunk = 8 << 20

// zero writes zeros to [from, to) of f without filling the page cache. It
// writes with O_DIRECT from one page-aligned buffer, which bypasses the page
// cache altogether and was ~3.5x faster on btrfs than buffered writes in the
// benchmark (bench/run.sh); where the filesystem refuses O_DIRECT (EINVAL)
// it falls back to buffered writes, each chunk pushed to disk and dropped
// from the cache once written (sync_file_range + fadvise DONTNEED), so a
// 32 GiB fill never holds more than two chunks of dirty cache.
func (k *Kernel) zero(ctx context.Context, f *os.File, from, to int64) error {
	if write, done, err := directWriter(f); err == nil {
		err = k.zeroLoop(ctx, f.Name(), from, to, write)
		done()
		if !errors.Is(err, unix.EINVAL) {
			return err
		}
		k.log().Info("filesystem refused direct writes; writing zeros through the page cache", "path", f.Name())
	}
	return k.zeroLoop(ctx, f.Name(), from, to, bufferedWriter(f))
}

// directWriter writes zeros to f through a second descriptor opened with
// O_DIRECT (reopened through /proc/self/fd, so it is the same file), from an
// anonymous mapping, which is page-aligned and zero-filled by the kernel.
func directWriter(f *os.File) (write func(off, n int64) error, done func(), err error) {
	dfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.O_WRONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	buf, err := unix.Mmap(-1, 0, zeroChunk, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		unix.Close(dfd)
		return nil, nil, err
	}
	write = func(off, n int64) error {
		for n > 0 {
			w, err := unix.Pwrite(dfd, buf[:n], off)
			if err != nil {
				return err
			}
			off, n = off+int64(w), n-int64(w)
		}
		return nil
	}
	return write, func() { unix.Munmap(buf); unix.Close(dfd) }, nil
}

// bufferedWriter writes zeros to f through the page cache, keeping at most
// two chunks of it dirty.
func bufferedWriter(f *os.File) func(off, n int64) error {
	fd := int(f.Fd())
	buf := make([]byte, zeroChunk)
	prev, prevN := int64(-1), int64(0)
	settle := func() {
		if prev >= 0 {
			unix.SyncFileRange(fd, prev, prevN, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
			unix.Fadvise(fd, prev, prevN, unix.FADV_DONTNEED)
		}
	}
	return func(off, n int64) error {
		if n == 0 { // the end: settle the last chunk
			settle()
			return nil
		}
		if _, err := f.WriteAt(buf[:n], off); err != nil {
			return err
		}
		unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
		settle()
		prev, prevN = off, n
		return nil
	}
}

// zeroLoop writes [from, to) in chunks with write, logging progress; a
// final write of 0 bytes lets the writer finish.
func (k *Kernel) zeroLoop(ctx context.Context, name string, from, to int64, write func(off, n int64) error) error {
	every := k.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	start := time.Now()
	next := start.Add(every)
	for off := from; off < to; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(zeroChunk), to-off)
		if err := write(off, n); err != nil {
			return err
		}
		off += n
		fault.At(fault.ZeroChunk)
		if now := time.Now(); now.After(next) {
			done := off - from
			rate := float64(done) / (1 << 20) / now.Sub(start).Seconds()
			k.log().Info("writing zeros", "path", name, "percent", done*100/(to-from), "mib_per_s", int(rate))
			next = now.Add(every)
		}
	}
	return write(to, 0)
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
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFBLK {
		return fmt.Errorf("%q is neither a regular file nor a block device", path)
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
// the directory. An existing file's mode is kept. When path is a symlink
// (Debian's /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf, an fstab kept
// elsewhere), its target is replaced and the link stays.
func (k *Kernel) WriteFile(path string, data []byte, perm os.FileMode) error {
	path, err := linkTarget(path)
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
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
	fault.At(fault.FileTempWritten)
	if err == nil {
		err = unix.Renameat(dirfd, tmp, dirfd, base)
	}
	if err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		return fmt.Errorf("write %q: %w", path, err)
	}
	return unix.Fsync(dirfd)
}

// linkTarget follows symlinks at path (and in its directory) to the file
// they lead to, which need not exist yet. A path that is no symlink is
// returned as it is.
func linkTarget(path string) (string, error) {
	for range 40 { // the kernel's own limit on nested links
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || err == nil && fi.Mode()&fs.ModeSymlink == 0 {
			dir, err := filepath.EvalSymlinks(filepath.Dir(path))
			if err != nil {
				return path, err
			}
			return filepath.Join(dir, filepath.Base(path)), nil
		}
		if err != nil {
			return path, err
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return path, err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return path, unix.ELOOP
}

// SetParam implements System. The file must exist: a kernel parameter is
// never created.
func (k *Kernel) SetParam(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(value + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("set %s to %s: %w", path, value, err)
	}
	return nil
}

func (k *Kernel) log() *slog.Logger {
	if k.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return k.Logger
}
