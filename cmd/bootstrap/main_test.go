package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// bin is the swap-bootstrap binary under test, built once by TestMain exactly
// as release builds are (static, CGO_ENABLED=0); faultBin is the same with the
// test-only fault points armed (internal/fault).
var bin, faultBin string

func TestMain(m *testing.M) {
	if mib := os.Getenv("SWAP_BOOTSTRAP_TEST_HOG"); mib != "" {
		n, _ := strconv.Atoi(mib)
		runHog(n, os.Getenv("SWAP_BOOTSTRAP_TEST_HOG_HOLD") == "true")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "swap-bootstrap-bin-")
	if err != nil {
		panic(err)
	}
	os.Chmod(dir, 0o755) // the no-root test runs it as nobody
	bin = filepath.Join(dir, "swap-bootstrap")
	faultBin = filepath.Join(dir, "swap-bootstrap-faultpoints")
	for out, tags := range map[string]string{bin: "", faultBin: "faultpoints"} {
		build := exec.Command("go", "build", "-tags", tags, "-o", out, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// env is a test machine's configuration: host files are never touched, the
// metadata service is never asked unless a test says so.
func env(t *testing.T, file string, kv ...string) []string {
	tmp := t.TempDir()
	e := []string{"PATH=" + os.Getenv("PATH"),
		"SWAP_FILE=" + file,
		"SWAP_FSTAB=" + filepath.Join(tmp, "fstab"),
		"SWAP_SYSCTL_FILE=" + filepath.Join(tmp, "sysctl.conf"),
		"SWAP_LOCK_FILE=" + filepath.Join(tmp, "lock"),
		"SWAP_IMDS=off",
		"SWAP_ZSWAP=keep", // the host's zswap stays as it is; TestZswap sets and restores it
		"AWS_EC2_METADATA_DISABLED=true",
	}
	return override(e, kv...)
}

// override sets or replaces NAME=value pairs in e.
func override(e []string, kv ...string) []string {
	out := append([]string(nil), e...)
	for _, p := range kv {
		name, _, _ := strings.Cut(p, "=")
		replaced := false
		for i, q := range out {
			if strings.HasPrefix(q, name+"=") {
				out[i], replaced = p, true
			}
		}
		if !replaced {
			out = append(out, p)
		}
	}
	return out
}

func get(e []string, name string) string {
	for _, p := range e {
		if v, ok := strings.CutPrefix(p, name+"="); ok {
			return v
		}
	}
	return ""
}

func runBin(t *testing.T, e []string, args ...string) result {
	t.Helper()
	return runPath(t, bin, e, args...)
}

func runPath(t *testing.T, path string, e []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = e
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func mustRun(t *testing.T, e []string, args ...string) result {
	t.Helper()
	r := runBin(t, e, args...)
	if r.code != 0 {
		t.Fatalf("swap-bootstrap %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// active returns the /proc/swaps size of path, in bytes.
func active(t *testing.T, path string) (int64, bool) {
	t.Helper()
	a, ok := activeArea(t, path)
	return a.Size, ok
}

// activeArea is path's line in /proc/swaps.
func activeArea(t *testing.T, path string) (swap.Area, bool) {
	t.Helper()
	return swaptest.Active(t, path)
}

func inode(t *testing.T, path string) (uint64, int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino, fi.ModTime().UnixNano()
}

const (
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// assertOneActiveFile checks what an operator checks: the file is active at
// size, mode 0600, root-owned, one fstab entry, no temp file left over.
func assertOneActiveFile(t *testing.T, e []string, size int64) {
	t.Helper()
	file := get(e, "SWAP_FILE")
	got, ok := active(t, file)
	ps := int64(os.Getpagesize())
	if !ok || got != size-ps {
		t.Errorf("/proc/swaps: %s active=%v size=%d, want %d", file, ok, got, size-ps)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o600 || st.Uid != 0 || fi.Size() != size {
		t.Errorf("%s: mode %v uid %d size %d", file, fi.Mode(), st.Uid, fi.Size())
	}
	fstab, _ := os.ReadFile(get(e, "SWAP_FSTAB"))
	prio := -1
	if p := get(e, "SWAP_PRIORITY"); p != "" {
		prio, _ = strconv.Atoi(p)
	}
	if n := strings.Count(string(fstab), swap.FstabLine(file, prio)+"\n"); n != 1 || len(swap.FstabEntries(fstab, file)) != 1 {
		t.Errorf("fstab has %d entries for %s:\n%s", n, file, fstab)
	}
	if _, err := os.Lstat(swap.TempPath(file)); !os.IsNotExist(err) {
		t.Errorf("temp file left: %v", err)
	}
}

// TestDefaultRun is the acceptance test: with SWAP_INSTANCE_TYPE=t3.nano
// the default policy (2 × 512 MiB) leaves a 1 GiB active swapfile, mode 0600,
// one fstab line, on ext4, XFS and btrfs; a second run changes nothing.
func TestDefaultRun(t *testing.T) {
	for _, fs := range []string{"ext4", "xfs", "btrfs"} {
		t.Run(fs, func(t *testing.T) {
			dir := swaptest.Mount(t, fs, 3*gib, "")
			e := env(t, filepath.Join(dir, "swapfile"), "SWAP_INSTANCE_TYPE=t3.nano")
			r := mustRun(t, e)
			if !strings.Contains(r.stderr, "1 GiB swap (active, created); RAM 512 MiB from instance-type table (t3.nano from SWAP_INSTANCE_TYPE); policy ratio") {
				t.Errorf("summary line missing:\n%s", r.stderr)
			}
			assertOneActiveFile(t, e, gib)
			ino, mtime := inode(t, get(e, "SWAP_FILE"))
			fstab, _ := os.ReadFile(get(e, "SWAP_FSTAB"))

			r = mustRun(t, e, "apply")
			if !strings.Contains(r.stderr, "(active, unchanged)") || strings.Contains(r.stderr, "msg=step") {
				t.Errorf("second run was not a no-op:\n%s", r.stderr)
			}
			assertOneActiveFile(t, e, gib)
			if i, m := inode(t, get(e, "SWAP_FILE")); i != ino || m != mtime {
				t.Error("second run rewrote the swapfile")
			}
			if again, _ := os.ReadFile(get(e, "SWAP_FSTAB")); !bytes.Equal(again, fstab) {
				t.Error("second run rewrote fstab")
			}
		})
	}
}

// TestAdoptSnippetFile runs the .ebextensions snippet this tool replaces, then
// swap-bootstrap over it: the file is adopted, not rebuilt, and comes back
// after a "reboot" (swapoff).
func TestAdoptSnippetFile(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 3*gib, "")
	file := filepath.Join(dir, "swapfile")
	snippet := fmt.Sprintf(`SWAPFILE=%s; SWAP_MEGABYTES=512
if [ -f $SWAPFILE ]; then exit; fi
dd if=/dev/zero of=$SWAPFILE bs=1M count=$SWAP_MEGABYTES status=none; chmod 600 $SWAPFILE; mkswap $SWAPFILE >/dev/null; swapon $SWAPFILE`, file)
	if out, err := exec.Command("bash", "-c", snippet).CombinedOutput(); err != nil {
		t.Fatalf("snippet: %v\n%s", err, out)
	}
	ino, _ := inode(t, file)
	e := env(t, file, "SWAP_SIZE=512")
	mustRun(t, e)
	assertOneActiveFile(t, e, 512*mib)
	if i, _ := inode(t, file); i != ino {
		t.Error("the snippet's file was rebuilt instead of adopted")
	}
	if out, err := exec.Command("swapoff", file).CombinedOutput(); err != nil {
		t.Fatalf("swapoff: %v %s", err, out)
	}
	r := mustRun(t, e)
	if !strings.Contains(r.stderr, "(active, enabled)") {
		t.Errorf("not re-enabled:\n%s", r.stderr)
	}
	assertOneActiveFile(t, e, 512*mib)
}

// TestResizeAndRemove grows and shrinks the file the way an instance-type
// change does, then removes it.
func TestResizeAndRemove(t *testing.T) {
	for _, fs := range []string{"xfs", "btrfs"} {
		t.Run(fs, func(t *testing.T) {
			dir := swaptest.Mount(t, fs, 3*gib, "")
			e := env(t, filepath.Join(dir, "swapfile"))
			for _, step := range []struct {
				size  string
				bytes int64
				state string
			}{{"256M", 256 * mib, "created"}, {"512M", 512 * mib, "resized"}, {"128", 128 * mib, "resized"}, {"130", 128 * mib, "unchanged"}} {
				r := mustRun(t, override(e, "SWAP_SIZE="+step.size))
				if !strings.Contains(r.stderr, "(active, "+step.state+")") {
					t.Errorf("SWAP_SIZE=%s: want state %s:\n%s", step.size, step.state, r.stderr)
				}
				assertOneActiveFile(t, e, step.bytes)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("files left in %s: %v", dir, entries)
			}
			r := mustRun(t, e, "remove")
			if !strings.Contains(r.stderr, "removed") {
				t.Errorf("remove said:\n%s", r.stderr)
			}
			if _, ok := active(t, get(e, "SWAP_FILE")); ok {
				t.Error("still active after remove")
			}
			if _, err := os.Lstat(get(e, "SWAP_FILE")); !os.IsNotExist(err) {
				t.Errorf("file still there: %v", err)
			}
			if fstab, _ := os.ReadFile(get(e, "SWAP_FSTAB")); len(swap.FstabEntries(fstab, get(e, "SWAP_FILE"))) != 0 || strings.Contains(string(fstab), "swap-bootstrap") {
				t.Errorf("fstab still has our entry:\n%s", fstab)
			}
			mustRun(t, e, "remove") // nothing left to remove: still exit 0
		})
	}
}

func TestRefusalsChangeNothing(t *testing.T) {
	swaptest.RequireRoot(t)
	tmpfs := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", tmpfs).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", tmpfs).Run() })
	dir := swaptest.Mount(t, "ext4", 256*mib, "")
	os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "link"))
	os.WriteFile(filepath.Join(dir, "data"), []byte("important"), 0o644)
	cases := []struct{ name, file, want string }{
		{"tmpfs", filepath.Join(tmpfs, "swapfile"), "tmpfs, which cannot hold a swapfile"},
		{"symlink", filepath.Join(dir, "link"), "is a symlink"},
		{"not a swap area", filepath.Join(dir, "data"), "not a swap area"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := env(t, c.file, "SWAP_SIZE=16M")
			r := runBin(t, e, "apply")
			if r.code != 2 || !strings.Contains(r.stderr, "SWAP_FILE=\""+c.file+"\"") || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if _, err := os.Stat(get(e, "SWAP_FSTAB")); !os.IsNotExist(err) {
				t.Error("fstab was written")
			}
			if _, ok := active(t, c.file); ok {
				t.Error("swap enabled")
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "data")); string(b) != "important" {
		t.Error("a non-swap file was overwritten")
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere")); !os.IsNotExist(err) {
		t.Error("something was created through the symlink")
	}
}

// TestDiskBudget: on a small filesystem the target is cut to what fits, with
// the numbers; below SWAP_MIN nothing is created and the run fails.
func TestDiskBudget(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", gib, "")
	e := env(t, filepath.Join(dir, "swapfile"), "SWAP_INSTANCE_TYPE=t3.micro", "SWAP_DISK_RESERVE=100M")
	r := runBin(t, override(e, "SWAP_MIN=900M"), "apply")
	if r.code != 1 || !strings.Contains(r.stderr, "not enough disk for swap") {
		t.Errorf("SWAP_MIN beyond the budget: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Lstat(get(e, "SWAP_FILE")); !os.IsNotExist(err) {
		t.Error("a file was created")
	}
	r = mustRun(t, e)
	if !strings.Contains(r.stderr, "disk budget cuts swap from 2 GiB to") {
		t.Errorf("no budget warning:\n%s", r.stderr)
	}
	fi, err := os.Stat(get(e, "SWAP_FILE"))
	if err != nil || fi.Size() >= 500*mib || fi.Size() < 300*mib {
		t.Fatalf("budgeted file: %v %v", fi, err)
	}
	assertOneActiveFile(t, e, fi.Size())
	mustRun(t, e) // the file's own space counts as available: stable, no resize
	assertOneActiveFile(t, e, fi.Size())
}

// TestPlanWithoutRoot is the newcomer's first command: plan, as an
// unprivileged user, off EC2, on the host's real paths, changes nothing.
func TestPlanWithoutRoot(t *testing.T) {
	swaptest.RequireRoot(t) // to drop to nobody
	cmd := exec.Command(bin, "plan")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SWAP_INSTANCE_TYPE=t3.micro", "SWAP_FILE=/var/swap-bootstrap-test-never-created"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("plan as nobody: %v\n%s", err, out)
	}
	for _, want := range []string{"instance type:  t3.micro (from SWAP_INSTANCE_TYPE)", "memory:         1 GiB from instance-type table", "target:         2 GiB at /var/swap-bootstrap-test-never-created", "create /var/swap-bootstrap-test-never-created 2 GiB"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Lstat("/var/swap-bootstrap-test-never-created"); !os.IsNotExist(err) {
		t.Error("plan created the file")
	}
	cmd = exec.Command(bin, "apply")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SWAP_SIZE=1G", "SWAP_FILE=/var/swap-bootstrap-test-never-created", "SWAP_IMDS=off"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "must run as root") {
		t.Errorf("apply as nobody: %v\n%s", err, out)
	}
}

// TestPlanWithoutRootSeesActiveFile: plan as a normal user on a machine that
// already has swap cannot read the 0600 file, and still knows it is at target.
func TestPlanWithoutRootSeesActiveFile(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 3*gib, "")
	e := env(t, filepath.Join(dir, "swapfile"), "SWAP_SIZE=64M")
	mustRun(t, e)
	// Let nobody reach the test's directories (t.TempDir makes them 0700).
	for _, d := range []string{dir, filepath.Dir(get(e, "SWAP_FSTAB"))} {
		for ; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755)
		}
	}
	cmd := exec.Command(bin, "plan")
	cmd.Env = e
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "actions:        none; the machine already matches") {
		t.Errorf("plan as nobody: %v\n%s", err, out)
	}
}
