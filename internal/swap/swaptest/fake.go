package swaptest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// Fake is a swap.System for tests. Each method answers through its On…
// field; a method whose field is nil fails the test, naming the call, so a
// test says exactly which calls it expects. Calls records every call in a
// short form ("swapon /var/swapfile -1"), for tests that check the order.
//
// NewMachine gives a Fake that reads from an in-memory machine, which is what
// most observation tests want.
type Fake struct {
	T testing.TB

	OnPageSize      func() int64
	OnKernelRelease func() string
	OnReadFile      func(path string) ([]byte, error)
	OnReadDir       func(dir string) ([]fs.DirEntry, error)
	OnResolve       func(dir string) (string, error)
	OnStatfs        func(dir string) (swap.Filesystem, error)
	OnLstat         func(path string) (swap.FileInfo, error)
	OnReadHeader    func(path string) ([]byte, error)
	OnReadAt        func(path string, off int64, n int) ([]byte, error)
	OnPrivileged    func() error

	OnLock           func(path string, wait time.Duration) (func(), error)
	OnMakeSwapfile   func(path string, size, pageSize int64, zero bool) error
	OnMakeSwapDevice func(path string, size, pageSize int64) error
	OnCommit         func(path string, replace bool) error
	OnZeroFill       func(path string) error
	OnSwapon         func(path string, priority int) error
	OnSwapoff        func(path string) error
	OnRemove         func(path string) error
	OnFixOwnerMode   func(path string) error
	OnWriteFile      func(path string, data []byte, perm os.FileMode) error
	OnSetParam       func(path, value string) error

	mu    sync.Mutex
	calls []string
}

var _ swap.System = (*Fake)(nil)

func (f *Fake) record(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
}

// Calls returns the changing calls made so far (reads are not recorded).
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *Fake) unexpected(call string) {
	f.T.Helper()
	f.T.Fatalf("unexpected call %s: the test did not set it up", call)
}

// PageSize implements swap.System.
func (f *Fake) PageSize() int64 {
	if f.OnPageSize == nil {
		f.unexpected("PageSize()")
	}
	return f.OnPageSize()
}

// KernelRelease implements swap.System.
func (f *Fake) KernelRelease() string {
	if f.OnKernelRelease == nil {
		f.unexpected("KernelRelease()")
	}
	return f.OnKernelRelease()
}

// ReadFile implements swap.System.
func (f *Fake) ReadFile(path string) ([]byte, error) {
	if f.OnReadFile == nil {
		f.unexpected(fmt.Sprintf("ReadFile(%q)", path))
	}
	return f.OnReadFile(path)
}

// ReadDir implements swap.System.
func (f *Fake) ReadDir(dir string) ([]fs.DirEntry, error) {
	if f.OnReadDir == nil {
		f.unexpected(fmt.Sprintf("ReadDir(%q)", dir))
	}
	return f.OnReadDir(dir)
}

// Resolve implements swap.System.
func (f *Fake) Resolve(dir string) (string, error) {
	if f.OnResolve == nil {
		f.unexpected(fmt.Sprintf("Resolve(%q)", dir))
	}
	return f.OnResolve(dir)
}

// Statfs implements swap.System.
func (f *Fake) Statfs(dir string) (swap.Filesystem, error) {
	if f.OnStatfs == nil {
		f.unexpected(fmt.Sprintf("Statfs(%q)", dir))
	}
	return f.OnStatfs(dir)
}

// Lstat implements swap.System.
func (f *Fake) Lstat(path string) (swap.FileInfo, error) {
	if f.OnLstat == nil {
		f.unexpected(fmt.Sprintf("Lstat(%q)", path))
	}
	return f.OnLstat(path)
}

// ReadHeader implements swap.System.
func (f *Fake) ReadHeader(path string) ([]byte, error) {
	if f.OnReadHeader == nil {
		f.unexpected(fmt.Sprintf("ReadHeader(%q)", path))
	}
	return f.OnReadHeader(path)
}

// ReadAt implements swap.System.
func (f *Fake) ReadAt(path string, off int64, n int) ([]byte, error) {
	if f.OnReadAt == nil {
		f.unexpected(fmt.Sprintf("ReadAt(%q, %d, %d)", path, off, n))
	}
	return f.OnReadAt(path, off, n)
}

// Privileged implements swap.System.
func (f *Fake) Privileged() error {
	if f.OnPrivileged == nil {
		f.unexpected("Privileged()")
	}
	return f.OnPrivileged()
}

// Lock implements swap.System.
func (f *Fake) Lock(path string, wait time.Duration) (func(), error) {
	if f.OnLock == nil {
		f.unexpected(fmt.Sprintf("Lock(%q, %s)", path, wait))
	}
	f.record("lock %s", path)
	return f.OnLock(path, wait)
}

// MakeSwapfile implements swap.System.
func (f *Fake) MakeSwapfile(_ context.Context, path string, size, pageSize int64, zero bool) error {
	if f.OnMakeSwapfile == nil {
		f.unexpected(fmt.Sprintf("MakeSwapfile(%q, %d)", path, size))
	}
	f.record("make %s %d zero=%v", path, size, zero)
	return f.OnMakeSwapfile(path, size, pageSize, zero)
}

// MakeSwapDevice implements swap.System.
func (f *Fake) MakeSwapDevice(path string, size, pageSize int64) error {
	if f.OnMakeSwapDevice == nil {
		f.unexpected(fmt.Sprintf("MakeSwapDevice(%q, %d)", path, size))
	}
	f.record("mkswap %s %d", path, size)
	return f.OnMakeSwapDevice(path, size, pageSize)
}

// Commit implements swap.System.
func (f *Fake) Commit(path string, replace bool) error {
	if f.OnCommit == nil {
		f.unexpected(fmt.Sprintf("Commit(%q, %v)", path, replace))
	}
	f.record("commit %s replace=%v", path, replace)
	return f.OnCommit(path, replace)
}

// ZeroFill implements swap.System.
func (f *Fake) ZeroFill(_ context.Context, path string) error {
	if f.OnZeroFill == nil {
		f.unexpected(fmt.Sprintf("ZeroFill(%q)", path))
	}
	f.record("zerofill %s", path)
	return f.OnZeroFill(path)
}

// Swapon implements swap.System.
func (f *Fake) Swapon(path string, priority int) error {
	if f.OnSwapon == nil {
		f.unexpected(fmt.Sprintf("Swapon(%q, %d)", path, priority))
	}
	f.record("swapon %s %d", path, priority)
	return f.OnSwapon(path, priority)
}

// Swapoff implements swap.System.
func (f *Fake) Swapoff(path string) error {
	if f.OnSwapoff == nil {
		f.unexpected(fmt.Sprintf("Swapoff(%q)", path))
	}
	f.record("swapoff %s", path)
	return f.OnSwapoff(path)
}

// Remove implements swap.System.
func (f *Fake) Remove(path string) error {
	if f.OnRemove == nil {
		f.unexpected(fmt.Sprintf("Remove(%q)", path))
	}
	f.record("remove %s", path)
	return f.OnRemove(path)
}

// FixOwnerMode implements swap.System.
func (f *Fake) FixOwnerMode(path string) error {
	if f.OnFixOwnerMode == nil {
		f.unexpected(fmt.Sprintf("FixOwnerMode(%q)", path))
	}
	f.record("fixmode %s", path)
	return f.OnFixOwnerMode(path)
}

// WriteFile implements swap.System.
func (f *Fake) WriteFile(path string, data []byte, perm os.FileMode) error {
	if f.OnWriteFile == nil {
		f.unexpected(fmt.Sprintf("WriteFile(%q)", path))
	}
	f.record("write %s", path)
	return f.OnWriteFile(path, data, perm)
}

// SetParam implements swap.System.
func (f *Fake) SetParam(path, value string) error {
	if f.OnSetParam == nil {
		f.unexpected(fmt.Sprintf("SetParam(%q, %q)", path, value))
	}
	f.record("param %s %s", path, value)
	return f.OnSetParam(path, value)
}

// Machine is an in-memory machine for NewMachine: what the read methods of
// the Fake answer.
type Machine struct {
	PageSize      int64             // default 4096
	KernelRelease string            // default "6.1.0"
	Files         map[string][]byte // ReadFile and ReadHeader answers; /proc files included
	Infos         map[string]swap.FileInfo
	Symlinks      map[string]string   // Resolve: a directory that resolves elsewhere
	MissingDirs   []string            // Resolve: fs.ErrNotExist
	FS            swap.Filesystem     // Statfs answer for every directory
	Denied        []string            // ReadHeader: fs.ErrPermission
	Dirs          map[string][]string // ReadDir: the names in a directory (files)
}

// fakeInfo is a regular file's fs.FileInfo, for ReadDir.
type fakeInfo string

func (n fakeInfo) Name() string       { return string(n) }
func (n fakeInfo) Size() int64        { return 0 }
func (n fakeInfo) Mode() fs.FileMode  { return 0o644 }
func (n fakeInfo) ModTime() time.Time { return time.Time{} }
func (n fakeInfo) IsDir() bool        { return false }
func (n fakeInfo) Sys() any           { return nil }

// NewMachine returns a Fake whose read methods answer from m; its changing
// methods are unset (set the ones the test expects).
func NewMachine(t testing.TB, m Machine) *Fake {
	if m.PageSize == 0 {
		m.PageSize = 4096
	}
	if m.KernelRelease == "" {
		m.KernelRelease = "6.1.0"
	}
	has := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	return &Fake{
		T:               t,
		OnPageSize:      func() int64 { return m.PageSize },
		OnKernelRelease: func() string { return m.KernelRelease },
		OnReadFile: func(path string) ([]byte, error) {
			if b, ok := m.Files[path]; ok {
				return b, nil
			}
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		},
		OnReadDir: func(dir string) ([]fs.DirEntry, error) {
			var out []fs.DirEntry
			for _, name := range m.Dirs[dir] {
				out = append(out, fs.FileInfoToDirEntry(fakeInfo(name)))
			}
			if out == nil {
				return nil, &fs.PathError{Op: "open", Path: dir, Err: fs.ErrNotExist}
			}
			return out, nil
		},
		OnResolve: func(dir string) (string, error) {
			if has(m.MissingDirs, dir) {
				return "", &fs.PathError{Op: "lstat", Path: dir, Err: fs.ErrNotExist}
			}
			if r, ok := m.Symlinks[dir]; ok {
				return r, nil
			}
			return dir, nil
		},
		OnStatfs: func(string) (swap.Filesystem, error) { return m.FS, nil },
		OnLstat: func(path string) (swap.FileInfo, error) {
			if fi, ok := m.Infos[path]; ok {
				return fi, nil
			}
			return swap.FileInfo{}, &fs.PathError{Op: "lstat", Path: path, Err: fs.ErrNotExist}
		},
		OnReadHeader: func(path string) ([]byte, error) {
			if has(m.Denied, path) {
				return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}
			}
			b, ok := m.Files[path]
			if !ok {
				return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
			}
			return b[:min(len(b), 65536)], nil
		},
	}
}

// Meminfo is /proc/meminfo text with the given figures in bytes.
func Meminfo(total, available int64) []byte {
	return []byte(fmt.Sprintf("MemTotal: %d kB\nMemFree: %d kB\nMemAvailable: %d kB\nCached: 0 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
		total/1024, available/1024, available/1024))
}

// ProcSwaps is /proc/swaps text listing areas.
func ProcSwaps(areas ...swap.Area) []byte {
	var b strings.Builder
	b.WriteString("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
	for _, a := range areas {
		fmt.Fprintf(&b, "%s\t%s\t%d\t%d\t%d\n", strings.ReplaceAll(a.Filename, " ", `\040`), a.Type, a.Size/1024, a.Used/1024, a.Priority)
	}
	return []byte(b.String())
}
