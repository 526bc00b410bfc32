// Package swaptest helps the tests of swap-bootstrap: real filesystems on
// loop devices for root-only tests (Mount), the one rule for tests that
// cannot run here (SkipOrFail: skip, or fail when CI=true), and Fake, a
// swap.System that fails the test on every call nobody set up.
package swaptest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// RequireRoot skips a test that needs root, or fails it when CI=true: CI must
// run every privileged test.
func RequireRoot(t testing.TB) {
	t.Helper()
	if pureOnly {
		t.Skip("-tags pure: root-free tests only")
	}
	if os.Geteuid() != 0 {
		SkipOrFail(t, "needs root (real swapon, loop devices)")
	}
}

// SkipOrFail skips a test that cannot run on this machine, or fails it when
// CI=true: CI must run every test.
func SkipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true, so this test must run", why)
	}
	t.Skip(why)
}

// NeedTool returns the path of a command a test needs, or skips (fails
// under CI=true) naming the package that has it.
func NeedTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		SkipOrFail(t, name+" is not installed (apt-get install "+pkg+")")
	}
	return p
}

var mkfs = map[string][]string{
	"ext4":  {"mkfs.ext4", "-q", "-F"},
	"xfs":   {"mkfs.xfs", "-q", "-f"},
	"btrfs": {"mkfs.btrfs", "-q", "-f"},
}

// Mount gives a root-only test a real filesystem: a sparse image of size
// bytes, formatted as fstype (ext4, xfs, btrfs), attached to a loop device
// and mounted in a temp dir, whose path it returns. Options go to mount -o
// (may be empty). Cleanup turns off any swap on it, unmounts, detaches and
// deletes, even when the test fails.
func Mount(t testing.TB, fstype string, size int64, options string) string {
	t.Helper()
	RequireRoot(t)
	args, ok := mkfs[fstype]
	if !ok {
		t.Fatalf("loopfs: unknown filesystem %q", fstype)
	}
	NeedTool(t, args[0], map[string]string{"ext4": "e2fsprogs", "xfs": "xfsprogs", "btrfs": "btrfs-progs"}[fstype])
	base := t.TempDir()
	img := filepath.Join(base, fstype+".img")
	dir := filepath.Join(base, "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(size)
	f.Close()
	run(t, append(args, img)...)
	out := run(t, "losetup", "--find", "--show", img)
	dev := strings.TrimSpace(out)
	t.Cleanup(func() {
		SwapoffUnder(t, dir)
		exec.Command("umount", dir).Run()
		exec.Command("losetup", "-d", dev).Run()
		os.Remove(img)
	})
	mount := []string{"mount", "-t", fstype}
	if options != "" {
		mount = append(mount, "-o", options)
	}
	run(t, append(mount, dev, dir)...)
	return dir
}

// SwapoffUnder turns off every active swap area below dir.
func SwapoffUnder(t testing.TB, dir string) {
	f, err := os.Open("/proc/swaps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && strings.HasPrefix(fields[0], dir+"/") {
			if out, err := exec.Command("swapoff", fields[0]).CombinedOutput(); err != nil {
				t.Logf("cleanup: swapoff %s: %v %s", fields[0], err, out)
			}
		}
	}
}

func run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Active returns path's line in the real /proc/swaps.
func Active(t testing.TB, path string) (swap.Area, bool) {
	t.Helper()
	b, err := os.ReadFile(swap.ProcSwaps)
	if err != nil {
		t.Fatal(err)
	}
	areas, err := swap.ParseProcSwaps(b)
	if err != nil {
		t.Fatal(err)
	}
	return swap.FindArea(areas, path)
}
