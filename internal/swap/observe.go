package swap

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/soundhub/swap-bootstrap/internal/kubelet"
)

// Observation is what the machine looks like now: everything the planner and
// the decision need, read without changing anything (and without root).
type Observation struct {
	PageSize      int64
	KernelRelease string
	// SwapSupported is false when /proc/swaps is missing: a kernel built
	// without CONFIG_SWAP.
	SwapSupported bool
	Areas         []Area
	Mem           Meminfo
	Swappiness    int // -1 when unreadable
	Sysctl        []byte
	SysctlMissing bool
	Fstab         []byte
	FstabMissing  bool
	Dir           Dir
	FS            Filesystem
	File          FileState
	Temp          FileInfo // a temp file left by a killed run
	// Zswap is zswap's state.
	Zswap Zswap
	// Disks are the NVMe instance-store disks (read with Paths.InstanceStore).
	Disks []Disk
	// Kubelet is what the machine says about kubelet and swap.
	Kubelet kubelet.Node
	// Hibernation lists signs that hibinit-agent set up hibernation here:
	// its marker file, resume_offset= on the kernel command line.
	Hibernation []string
}

// hibernationSigns are files that show hibernation is set up on this
// machine (amazon-ec2-hibinit-agent: the marker it writes once the metadata
// service said hibernation/configured=true; the resume_offset= it adds to the
// kernel command line).
const (
	hibinitMarker = "/var/lib/hibinit-agent/hibernation-enabled"
	procCmdline   = "/proc/cmdline"
)

// Dir is the directory that holds SWAP_FILE.
type Dir struct {
	Path   string
	Exists bool
	Real   string // Path with symlinks resolved; differs from Path when one leads there
	// Unmounted is the fstab mount point that holds Path but is not mounted
	// (a nofail mount that failed): the file would land on the filesystem
	// below it.
	Unmounted string
}

// FileState describes the file at SWAP_FILE.
type FileState struct {
	FileInfo
	Header *Header // nil when it is not a swap area
	// HeaderDenied: the header could not be read without root, and the file
	// is not an active swap area, so whether it is one is unknown.
	HeaderDenied bool
	Active       *Area // its /proc/swaps line, nil when inactive
}

// Paths tells Observe which files to read.
type Paths struct {
	File, Fstab, Sysctl string
	// InstanceStore also reads the NVMe instance-store disks.
	InstanceStore bool
}

// Reusable is the disk space this run may take back for the new swapfile:
// the file at SWAP_FILE when it is a swap area (ours to replace), and a temp
// file a killed run left behind (deleted first).
func (o Observation) Reusable() (current, stale int64) {
	if o.File.Header != nil {
		current = o.File.Allocated
	}
	if o.Temp.Kind == KindRegular {
		stale = o.Temp.Allocated
	}
	return current, stale
}

// Observe reads the machine through sys. It records what it finds and fails
// only when something it must read cannot be read; whether SWAP_FILE may be
// used is Refuse's question.
func Observe(sys System, p Paths) (Observation, error) {
	o := Observation{PageSize: sys.PageSize(), KernelRelease: sys.KernelRelease(), Swappiness: -1}
	b, err := sys.ReadFile(ProcSwaps)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return o, fmt.Errorf("read %s: %w", ProcSwaps, err)
	default:
		o.SwapSupported = true
		if o.Areas, err = ParseProcSwaps(b); err != nil {
			return o, err
		}
	}
	if b, err = sys.ReadFile(ProcMeminfo); err != nil {
		return o, fmt.Errorf("read %s: %w", ProcMeminfo, err)
	}
	if o.Mem, err = ParseMeminfo(b); err != nil {
		return o, err
	}
	if b, err := sys.ReadFile(ProcSwappiness); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			o.Swappiness = v
		}
	}
	if o.Sysctl, o.SysctlMissing, err = readOptional(sys, p.Sysctl, "SWAP_SYSCTL_FILE"); err != nil {
		return o, err
	}
	if o.Fstab, o.FstabMissing, err = readOptional(sys, p.Fstab, "SWAP_FSTAB"); err != nil {
		return o, err
	}
	if o.Zswap, err = observeZswap(sys); err != nil {
		return o, err
	}
	if p.InstanceStore {
		if o.Disks, err = observeInstanceStore(sys, o.Areas); err != nil {
			return o, err
		}
	}
	o.Kubelet = kubelet.Observe(sys)
	if _, err := sys.ReadFile(hibinitMarker); err == nil {
		o.Hibernation = append(o.Hibernation, hibinitMarker+" exists")
	}
	if b, err := sys.ReadFile(procCmdline); err == nil && strings.Contains(" "+string(b), " resume_offset=") {
		o.Hibernation = append(o.Hibernation, "the kernel command line has resume_offset=")
	}
	return o, observeFile(sys, &o, p.File)
}

// readOptional reads a file that may not exist yet.
func readOptional(sys System, path, name string) (b []byte, missing bool, err error) {
	if path == "" {
		return nil, true, nil
	}
	b, err = sys.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s=%q: %w", name, path, err)
	}
	return b, false, nil
}

func observeFile(sys System, o *Observation, path string) error {
	dir := filepath.Dir(path)
	o.Dir = Dir{Path: dir}
	real, err := sys.Resolve(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("SWAP_FILE=%q: %w", path, err)
	}
	o.Dir.Exists, o.Dir.Real = true, real
	if real != dir {
		return nil // refused: nothing below a symlink is read
	}
	if mountinfo, err := sys.ReadFile(procMountinfo); err == nil {
		o.Dir.Unmounted = unmountedCover(o.Fstab, mountinfo, dir)
	}
	if o.FS, err = sys.Statfs(dir); err != nil {
		return fmt.Errorf("statfs %q: %w", dir, err)
	}
	if o.Temp, err = lstat(sys, TempPath(path)); err != nil {
		return err
	}
	if o.File.FileInfo, err = lstat(sys, path); err != nil {
		return err
	}
	if o.File.Kind != KindRegular {
		return nil
	}
	if a, ok := FindArea(o.Areas, path); ok {
		o.File.Active = &a
	}
	head, err := sys.ReadHeader(path)
	switch {
	case errors.Is(err, fs.ErrPermission) && o.File.Active != nil:
		// plan and status without root: the kernel accepted it, so it is a
		// swap area for this kernel's page size.
		o.File.Header = &Header{PageSize: o.PageSize, LastPage: uint32(o.File.Size/o.PageSize - 1)}
	case errors.Is(err, fs.ErrPermission):
		o.File.HeaderDenied = true
	case err != nil:
		return fmt.Errorf("SWAP_FILE=%q: read header: %w", path, err)
	default:
		if h, ok := ParseHeader(head); ok {
			o.File.Header = &h
		}
	}
	return nil
}

// unmountedCover returns the longest fstab mount point that holds dir (or is
// dir) and is not in mountinfo (/proc/self/mountinfo), or "".
func unmountedCover(fstab, mountinfo []byte, dir string) string {
	best := ""
	for _, l := range splitLines(fstab) {
		f := strings.FieldsFunc(strings.TrimRight(l, "\r\n"), func(r rune) bool { return r == ' ' || r == '\t' })
		if len(f) < 3 || strings.HasPrefix(f[0], "#") || f[2] == "swap" {
			continue
		}
		mp := unescapeOctal(f[1])
		if mp == "/" || !(dir == mp || strings.HasPrefix(dir, mp+"/")) || len(mp) <= len(best) {
			continue
		}
		best = mp
	}
	if best == "" {
		return ""
	}
	for _, l := range strings.Split(string(mountinfo), "\n") {
		if f := strings.Fields(l); len(f) > 4 && unescapeOctal(f[4]) == best {
			return ""
		}
	}
	return best
}

func lstat(sys System, path string) (FileInfo, error) {
	fi, err := sys.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return FileInfo{}, nil
	}
	if err != nil {
		return FileInfo{}, fmt.Errorf("lstat %q: %w", path, err)
	}
	return fi, nil
}
