package swap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/soundhub/swap-bootstrap/internal/fault"
)

// Observation is what the machine looks like now: everything the planner
// needs, read without changing anything (and without root).
type Observation struct {
	PageSize      int64
	KernelRelease string
	Areas         []Area
	Mem           Meminfo
	File          FileState
	TempExists    bool  // a temp file left by a killed run
	TempAllocated int64 // its disk space, which the run frees
	FS            Filesystem
	Fstab         []byte
	FstabMissing  bool
	Swappiness    int // -1 when unreadable
	Sysctl        []byte
}

// FileState describes the file at SWAP_FILE.
type FileState struct {
	Exists    bool
	Mode      os.FileMode // permission bits
	UID, GID  uint32
	Size      int64
	Allocated int64   // bytes of disk it holds (st_blocks)
	Header    *Header // nil when it is not a swap area
	Active    *Area   // its /proc/swaps line, nil when inactive
}

// Filesystem is where SWAP_FILE lives.
type Filesystem struct {
	Type      string
	Available int64
}

// RefusalError means the configuration points at something swap-bootstrap will
// not touch; nothing was changed. The command exits 2.
type RefusalError struct{ Msg string }

func (e *RefusalError) Error() string { return e.Msg }

func refuse(format string, a ...any) error { return &RefusalError{Msg: fmt.Sprintf(format, a...)} }

// Paths tells Observe which files to read.
type Paths struct {
	File, Fstab, Sysctl string
}

var fsNames = map[int64]string{
	unix.EXT4_SUPER_MAGIC: "ext4", unix.XFS_SUPER_MAGIC: "xfs", unix.BTRFS_SUPER_MAGIC: "btrfs", unix.F2FS_SUPER_MAGIC: "f2fs",
	unix.TMPFS_MAGIC: "tmpfs", unix.RAMFS_MAGIC: "ramfs", unix.OVERLAYFS_SUPER_MAGIC: "overlay", unix.NFS_SUPER_MAGIC: "nfs",
	unix.CIFS_SUPER_MAGIC: "cifs", unix.SMB2_SUPER_MAGIC: "smb2", unix.MSDOS_SUPER_MAGIC: "vfat", unix.SQUASHFS_MAGIC: "squashfs",
	unix.FUSE_SUPER_MAGIC: "fuse", 0x2fc12fc1: "zfs", 0x6a656a63: "virtiofs", 0x01021997: "9p",
}

// swapCapable are the filesystems whose swapfile support the kernel has
// (ext2/3/4 share a magic; XFS and btrfs with caveats handled elsewhere).
var swapCapable = map[string]bool{"ext4": true, "xfs": true, "btrfs": true, "f2fs": true}

// Observe reads the machine. It fails with a *RefusalError when SWAP_FILE
// cannot be used safely, before anything is touched.
func Observe(p Paths) (Observation, error) {
	o := Observation{PageSize: int64(os.Getpagesize()), Swappiness: -1}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		o.KernelRelease = unix.ByteSliceToString(uts.Release[:])
	}
	b, err := os.ReadFile(ProcSwaps)
	if errors.Is(err, fs.ErrNotExist) {
		return o, refuse("%s is missing: this kernel was built without swap support (CONFIG_SWAP)", ProcSwaps)
	}
	if err != nil {
		return o, fmt.Errorf("read %s: %w", ProcSwaps, err)
	}
	if o.Areas, err = ParseProcSwaps(b); err != nil {
		return o, err
	}
	if b, err = os.ReadFile(fault.Meminfo()); err != nil {
		return o, fmt.Errorf("read %s: %w", ProcMeminfo, err)
	}
	if o.Mem, err = ParseMeminfo(b); err != nil {
		return o, err
	}
	if b, err := os.ReadFile(ProcSwappiness); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			o.Swappiness = v
		}
	}
	if p.Sysctl != "" {
		o.Sysctl, _ = os.ReadFile(p.Sysctl)
	}
	if p.Fstab != "" {
		o.Fstab, err = os.ReadFile(p.Fstab)
		if errors.Is(err, fs.ErrNotExist) {
			o.FstabMissing = true
		} else if err != nil {
			return o, fmt.Errorf("read SWAP_FSTAB=%q: %w", p.Fstab, err)
		}
	}
	if err := observeFile(&o, p.File); err != nil {
		return o, err
	}
	return o, nil
}

func observeFile(o *Observation, path string) error {
	dir := filepath.Dir(path)
	real, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return refuse("SWAP_FILE=%q: directory %q does not exist; create it or choose another path", path, dir)
	}
	if err != nil {
		return fmt.Errorf("SWAP_FILE=%q: %w", path, err)
	}
	if real != dir {
		return refuse("SWAP_FILE=%q: %q is reached through a symlink (it resolves to %q); refusing to follow it: set SWAP_FILE to the real path", path, dir, real)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("statfs %q: %w", dir, err)
	}
	name, known := fsNames[int64(st.Type)]
	if !known {
		name = fmt.Sprintf("filesystem type %#x", st.Type)
	}
	o.FS = Filesystem{Type: name, Available: int64(st.Bavail) * st.Bsize}
	if !swapCapable[name] {
		return refuse("SWAP_FILE=%q is on %s, which cannot hold a swapfile; set SWAP_FILE to a path on the root disk (ext4, XFS or btrfs)", path, name)
	}
	if name == "btrfs" {
		if err := checkBtrfs(dir, path); err != nil {
			return err
		}
	}

	if fi, err := os.Lstat(TempPath(path)); err == nil {
		o.TempExists = true
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() {
			o.TempAllocated = st.Blocks * 512
		}
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("SWAP_FILE=%q: %w", path, err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return refuse("SWAP_FILE=%q is a symlink; refusing to follow it: set SWAP_FILE to the real path", path)
	case fi.IsDir():
		return refuse("SWAP_FILE=%q is a directory; set SWAP_FILE to a file path such as %s/swapfile", path, path)
	case !fi.Mode().IsRegular():
		return refuse("SWAP_FILE=%q is a %s, not a regular file; swap-bootstrap manages swapfiles only", path, fileKind(fi.Mode()))
	}
	sys := fi.Sys().(*syscall.Stat_t)
	o.File = FileState{Exists: true, Mode: fi.Mode().Perm(), UID: sys.Uid, GID: sys.Gid, Size: fi.Size(), Allocated: sys.Blocks * 512}
	if a, ok := FindArea(o.Areas, path); ok {
		o.File.Active = &a
	}
	head, err := readHead(path)
	switch {
	case errors.Is(err, fs.ErrPermission) && o.File.Active != nil:
		// plan and status without root: the kernel accepted it, so it is a
		// swap area for this kernel's page size.
		o.File.Header = &Header{PageSize: o.PageSize, LastPage: uint32(o.File.Size/o.PageSize - 1)}
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("SWAP_FILE=%q: cannot read its header without root to tell whether it is a swap area; run as root (sudo): %w", path, err)
	case err != nil:
		return fmt.Errorf("SWAP_FILE=%q: read header: %w", path, err)
	default:
		if h, ok := ParseHeader(head); ok {
			o.File.Header = &h
		}
	}
	return nil
}

func readHead(path string) ([]byte, error) {
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

// checkBtrfs refuses what btrfs cannot swap on: more than one device (swapon
// needs a single data profile on one device) and a compressed directory (new
// files inherit the flag).
func checkBtrfs(dir, path string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %q: %w", dir, err)
	}
	defer unix.Close(fd)
	if n, err := btrfsDevices(fd); err == nil && n > 1 {
		return refuse("SWAP_FILE=%q is on a btrfs filesystem with %d devices; btrfs swapfiles need a single device: set SWAP_FILE to a single-device filesystem", path, n)
	}
	if flags, err := unix.IoctlGetInt(fd, unix.FS_IOC_GETFLAGS); err == nil && flags&fsComprFL != 0 {
		return refuse("SWAP_FILE=%q: directory %q has btrfs compression set, and btrfs cannot swap on compressed files; run `chattr -c %s` or set SWAP_FILE elsewhere", path, dir, dir)
	}
	return nil
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

func fileKind(m os.FileMode) string {
	switch {
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}
