package swap_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

const mib = 1 << 20

var quiet = slog.New(slog.DiscardHandler)

func areas(t *testing.T) []swap.Area {
	t.Helper()
	b, err := (&swap.Kernel{}).ReadFile(swap.ProcSwaps)
	if err != nil {
		t.Fatal(err)
	}
	a, err := swap.ParseProcSwaps(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func activeSize(t *testing.T, path string) (int64, bool) {
	t.Helper()
	a, ok := swap.FindArea(areas(t), path)
	return a.Size, ok
}

// TestKernelCreateEnable runs the real fast path on each filesystem: a temp
// file made 0600, NOCOW on btrfs, fallocated, header, renamed, swapon through
// /proc/self/fd, and the kernel lists the real path.
func TestKernelCreateEnable(t *testing.T) {
	for _, fs := range []string{"ext4", "xfs", "btrfs"} {
		for _, zero := range []bool{false, true} {
			name := fs + "/fallocate"
			if zero {
				name = fs + "/zeros"
			}
			t.Run(name, func(t *testing.T) {
				dir := swaptest.Mount(t, fs, 1<<30, "")
				path := filepath.Join(dir, "swapfile")
				k := &swap.Kernel{Logger: quiet}
				if err := k.MakeSwapfile(context.Background(), path, 64*mib, int64(os.Getpagesize()), zero); err != nil {
					t.Fatal(err)
				}
				tmp := swap.TempPath(path)
				fi, err := os.Stat(tmp)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 || fi.Size() != 64*mib {
					t.Errorf("temp file mode %v size %d", fi.Mode(), fi.Size())
				}
				if zero && fi.Sys().(*syscall.Stat_t).Blocks*512 < 64*mib {
					t.Errorf("zero fill left holes: %d blocks", fi.Sys().(*syscall.Stat_t).Blocks)
				}
				if fs == "btrfs" {
					out, err := exec.Command("lsattr", tmp).CombinedOutput()
					if err != nil || !strings.Contains(strings.Fields(string(out))[0], "C") {
						t.Errorf("btrfs file is not NOCOW: %s %v", out, err)
					}
				}
				if err := k.Commit(path, false); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(tmp); !os.IsNotExist(err) {
					t.Errorf("temp file still there: %v", err)
				}
				if err := k.Swapon(path, 7); err != nil {
					t.Fatalf("swapon: %v", err)
				}
				size, ok := activeSize(t, path)
				if !ok || size != 64*mib-int64(os.Getpagesize()) {
					t.Fatalf("/proc/swaps: active=%v size=%d", ok, size)
				}
				// The kernel forbids renaming or deleting an active swapfile; the
				// executor relies on that order.
				if err := k.Remove(path); err == nil {
					t.Error("deleting an active swapfile succeeded")
				}
				if err := k.Swapoff(path); err != nil {
					t.Fatal(err)
				}
				if _, ok := activeSize(t, path); ok {
					t.Error("still active after swapoff")
				}
			})
		}
	}
}

func TestKernelZeroFillKeepsHeader(t *testing.T) {
	dir := swaptest.Mount(t, "xfs", 1<<30, "")
	path := filepath.Join(dir, "swapfile")
	k := &swap.Kernel{Logger: quiet}
	ps := int64(os.Getpagesize())
	if err := k.MakeSwapfile(context.Background(), path, 32*mib, ps, false); err != nil {
		t.Fatal(err)
	}
	if err := k.Commit(path, false); err != nil {
		t.Fatal(err)
	}
	before, _ := k.ReadHeader(path)
	if err := k.ZeroFill(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	after, _ := k.ReadHeader(path)
	if string(before[:ps]) != string(after[:ps]) {
		t.Error("zero fill changed the header page")
	}
	var st unix.Stat_t
	unix.Stat(path, &st)
	if st.Blocks*512 < 32*mib {
		t.Errorf("not fully written: %d bytes allocated", st.Blocks*512)
	}
	if err := k.Swapon(path, -1); err != nil {
		t.Fatal(err)
	}
	swaptest.SwapoffUnder(t, dir)
}

func TestKernelCommitNeverReplacesUnexpectedFile(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 256*mib, "")
	path := filepath.Join(dir, "swapfile")
	k := &swap.Kernel{Logger: quiet}
	if err := k.MakeSwapfile(context.Background(), path, 4*mib, int64(os.Getpagesize()), false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("precious"), 0o644)
	if err := k.Commit(path, false); err == nil || !strings.Contains(err.Error(), "refusing to replace") {
		t.Fatalf("commit over a file that appeared: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Error("the file that appeared was overwritten")
	}
}

func TestKernelRefusesSymlinks(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 256*mib, "")
	real := filepath.Join(dir, "real")
	os.Mkdir(real, 0o755)
	link := filepath.Join(dir, "link")
	os.Symlink(real, link)
	k := &swap.Kernel{Logger: quiet}
	err := k.MakeSwapfile(context.Background(), filepath.Join(link, "swapfile"), 4*mib, int64(os.Getpagesize()), false)
	if err == nil || !errors.Is(err, unix.ELOOP) {
		t.Errorf("parent symlink: %v", err)
	}
	if entries, _ := os.ReadDir(real); len(entries) != 0 {
		t.Errorf("something was created through the symlink: %v", entries)
	}
	// A symlink planted at the final name is not followed by swapon, even
	// when it points at a valid swap area that swapon would accept.
	target := filepath.Join(real, "victim")
	if err := k.MakeSwapfile(context.Background(), target, 4*mib, int64(os.Getpagesize()), false); err != nil {
		t.Fatal(err)
	}
	if err := k.Commit(target, false); err != nil {
		t.Fatal(err)
	}
	os.Symlink(target, filepath.Join(dir, "swapfile"))
	err = k.Swapon(filepath.Join(dir, "swapfile"), -1)
	if !errors.Is(err, unix.ELOOP) {
		t.Errorf("swapon through a symlink: %v, want ELOOP (the link is not followed)", err)
	}
	if _, ok := swap.FindArea(areas(t), target); ok {
		t.Error("swapon followed the symlink: its target is active")
	}
}

// TestObserveRefusals: the real swap.Kernel's answers, through swap.Observe, lead
// swap.Refuse to each refusal.
func TestObserveRefusals(t *testing.T) {
	swaptest.RequireRoot(t)
	ext4 := swaptest.Mount(t, "ext4", 256*mib, "")
	tmpfs := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", tmpfs).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", tmpfs).Run() })
	os.Mkdir(filepath.Join(ext4, "dir"), 0o755)
	os.Symlink(filepath.Join(ext4, "dir"), filepath.Join(ext4, "linkdir"))
	os.Symlink("/etc/passwd", filepath.Join(ext4, "link"))
	if err := unix.Mknod(filepath.Join(ext4, "dev"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	btrfs := swaptest.Mount(t, "btrfs", 512*mib, "")
	compressed := filepath.Join(btrfs, "c")
	os.Mkdir(compressed, 0o755)
	if out, err := exec.Command("chattr", "+c", compressed).CombinedOutput(); err != nil {
		t.Fatalf("chattr +c: %v %s", err, out)
	}
	cases := []struct{ name, path, want string }{
		{"tmpfs", filepath.Join(tmpfs, "swapfile"), "is on tmpfs, which cannot hold a swapfile"},
		{"symlink at the path", filepath.Join(ext4, "link"), "is a symlink"},
		{"symlink in the parent", filepath.Join(ext4, "linkdir", "swapfile"), "through a symlink"},
		{"directory", filepath.Join(ext4, "dir"), "is a directory"},
		{"device", filepath.Join(ext4, "dev"), "character device"},
		{"missing parent", filepath.Join(ext4, "nope", "swapfile"), "does not exist"},
		{"btrfs compressed directory", filepath.Join(compressed, "swapfile"), "btrfs compression"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := swap.Observe(&swap.Kernel{}, swap.Paths{File: c.path})
			if err != nil {
				t.Fatal(err)
			}
			err = swap.Refuse(c.path, o, swap.IntentKeep)
			var r *swap.RefusalError
			if !errors.As(err, &r) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
				t.Errorf("got %v, want a refusal naming %s and saying %q", err, c.path, c.want)
			}
		})
	}
}
