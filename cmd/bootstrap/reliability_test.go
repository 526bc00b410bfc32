package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/bootstrap"
	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/config/configtest"
	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// pause starts faultBin armed to wait at point; it returns once the run is
// parked there, with a function that lets it go and waits for its result.
func pause(t *testing.T, e []string, point string, args ...string) (pid int, resume func() result) {
	t.Helper()
	marker := filepath.Join(t.TempDir(), "paused")
	cmd := exec.Command(faultBin, args...)
	cmd.Env = override(e, "SWAP_BOOTSTRAP_FAULT="+point, "SWAP_BOOTSTRAP_FAULT_ACTION=wait", "SWAP_BOOTSTRAP_FAULT_FILE="+marker)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run ended before reaching %s: %v\n%s", point, err, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("run never reached %s", point)
		}
	}
	return cmd.Process.Pid, func() result {
		os.Remove(marker)
		err := <-done
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{out.String(), errb.String(), code}
	}
}

// TestConcurrentApply: the Elastic Beanstalk hook and the boot unit racing on
// first deploy. A second run waits for the first and then has nothing to do;
// one that cannot wait long enough exits 1 naming the holder.
func TestConcurrentApply(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 2*gib, "")
	e := env(t, filepath.Join(dir, "swapfile"), "SWAP_SIZE=256M")
	pid, resume := pause(t, e, "locked")

	r := runBin(t, override(e, "SWAP_LOCK_TIMEOUT=300ms"))
	if r.code != 1 || !strings.Contains(r.stderr, "another swap-bootstrap run holds") || !strings.Contains(r.stderr, fmt.Sprintf(": pid %d (", pid)) {
		t.Errorf("impatient second run: exit %d\n%s", r.code, r.stderr)
	}
	waiter := exec.Command(bin, "apply")
	waiter.Env = e
	var werr strings.Builder
	waiter.Stderr = &werr
	if err := waiter.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if first := resume(); first.code != 0 || !strings.Contains(first.stderr, "(active, created)") {
		t.Fatalf("first run: exit %d\n%s", first.code, first.stderr)
	}
	if err := waiter.Wait(); err != nil || !strings.Contains(werr.String(), "(active, unchanged)") {
		t.Errorf("waiting run: %v\n%s", err, werr.String())
	}
	assertOneActiveFile(t, e, 256*mib)
	assertOnlyEntries(t, dir, "swapfile")
}

// TestHostilePaths swaps symlinks in while a run is between its checks and its
// actions: nothing is ever created or enabled through them.
func TestHostilePaths(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 2*gib, "")

	t.Run("parent replaced by a symlink after planning", func(t *testing.T) {
		sub, elsewhere := filepath.Join(dir, "p1"), filepath.Join(dir, "p1-elsewhere")
		os.Mkdir(sub, 0o755)
		os.Mkdir(elsewhere, 0o755)
		e := env(t, filepath.Join(sub, "swapfile"), "SWAP_SIZE=64M")
		_, resume := pause(t, e, "planned")
		os.Rename(sub, sub+".real")
		os.Symlink(elsewhere, sub)
		r := resume()
		if r.code != 1 || !strings.Contains(r.stderr, "symlink") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		for _, d := range []string{elsewhere, sub + ".real"} {
			if entries, _ := os.ReadDir(d); len(entries) != 0 {
				t.Errorf("created through the symlink in %s: %v", d, entries)
			}
		}
	})

	t.Run("symlink planted at the temp name", func(t *testing.T) {
		victim := filepath.Join(dir, "victim")
		os.WriteFile(victim, []byte("keep me"), 0o644)
		file := filepath.Join(dir, "swapfile2")
		e := env(t, file, "SWAP_SIZE=64M")
		_, resume := pause(t, e, "planned")
		os.Symlink(victim, swap.TempPath(file))
		if r := resume(); r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		if b, _ := os.ReadFile(victim); string(b) != "keep me" {
			t.Error("the symlink's target was written")
		}
		assertOneActiveFile(t, e, 64*mib)
		swaptest.SwapoffUnder(t, dir)
	})

	t.Run("swapfile replaced by a symlink before swapon", func(t *testing.T) {
		other := filepath.Join(dir, "other-swap")
		if out, err := exec.Command("bash", "-c", "fallocate -l 16M "+other+" && chmod 600 "+other+" && mkswap "+other).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		file := filepath.Join(dir, "swapfile3")
		e := env(t, file, "SWAP_SIZE=64M")
		_, resume := pause(t, e, "committed")
		os.Rename(file, file+".moved")
		os.Symlink(other, file)
		r := resume()
		if r.code != 1 || !strings.Contains(r.stderr, "symlink") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		if _, ok := active(t, other); ok {
			t.Error("swapon followed the symlink")
		}
	})

	t.Run("world-readable swapfile is made 0600", func(t *testing.T) {
		file := filepath.Join(dir, "swapfile4")
		e := env(t, file, "SWAP_SIZE=64M")
		mustRun(t, e)
		os.Chmod(file, 0o644)
		ino, _ := inode(t, file)
		mustRun(t, e)
		assertOneActiveFile(t, e, 64*mib)
		if i, _ := inode(t, file); i != ino {
			t.Error("rebuilt instead of fixed")
		}
	})

	t.Run("swapfile owned by another user is replaced", func(t *testing.T) {
		file := filepath.Join(dir, "swapfile5")
		e := env(t, file, "SWAP_SIZE=64M")
		mustRun(t, e)
		os.Chown(file, 1000, 1000)
		ino, _ := inode(t, file)
		r := mustRun(t, e)
		if !strings.Contains(r.stderr, "(active, replaced)") {
			t.Errorf("state:\n%s", r.stderr)
		}
		assertOneActiveFile(t, e, 64*mib)
		if i, _ := inode(t, file); i == ino {
			t.Error("another user's file was adopted: they may hold it open")
		}
	})
}

// TestFstabTorture: whatever the fstab looks like, every other byte stays and
// our entry appears exactly once.
func TestFstabTorture(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 2*gib, "")
	file := filepath.Join(dir, "swapfile")
	line := file + " none swap sw,nofail 0 0"
	marker := "# swap-bootstrap: managed swapfile; `swap-bootstrap remove` drops this entry"
	cases := []struct{ name, in, want string }{
		{"comments, tabs, UUID= and LABEL=, no final newline, an old entry with other options",
			"# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=0a1b\t/\text4\tdefaults,noatime\t0\t1\n" + file + "\tswap\tswap\tdefaults,pri=5\t0 0\nLABEL=data /data xfs defaults 0 2",
			"# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=0a1b\t/\text4\tdefaults,noatime\t0\t1\n" + marker + "\n" + line + "\nLABEL=data /data xfs defaults 0 2"},
		{"CRLF", "UUID=0a1b / ext4 defaults 0 1\r\n# comment\r\n", "UUID=0a1b / ext4 defaults 0 1\r\n# comment\r\n" + marker + "\r\n" + line + "\r\n"},
		{"duplicate entries", line + "\n" + line + "\n/dev/sdb1 /mnt ext4 defaults 0 0\n" + line + "\n", marker + "\n" + line + "\n/dev/sdb1 /mnt ext4 defaults 0 0\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := env(t, file, "SWAP_SIZE=64M")
			os.WriteFile(get(e, "SWAP_FSTAB"), []byte(c.in), 0o640)
			mustRun(t, e)
			got, _ := os.ReadFile(get(e, "SWAP_FSTAB"))
			if string(got) != c.want {
				t.Errorf("fstab\n%q\nwant\n%q", got, c.want)
			}
			if fi, _ := os.Stat(get(e, "SWAP_FSTAB")); fi.Mode().Perm() != 0o640 {
				t.Errorf("fstab mode changed to %v", fi.Mode())
			}
			mustRun(t, e, "remove")
		})
	}

	t.Run("read-only fstab", func(t *testing.T) {
		ro := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", ro).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", ro).Run() })
		os.WriteFile(filepath.Join(ro, "fstab"), []byte("UUID=x / ext4 defaults 0 1\n"), 0o644)
		exec.Command("mount", "-o", "remount,ro", ro).Run()
		e := override(env(t, file, "SWAP_SIZE=64M"), "SWAP_FSTAB="+filepath.Join(ro, "fstab"))
		r := runBin(t, e)
		if r.code != 1 || !strings.Contains(r.stderr, "read-only file system") || !strings.Contains(r.stderr, "SWAP_PERSIST=none") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		if b, _ := os.ReadFile(filepath.Join(ro, "fstab")); string(b) != "UUID=x / ext4 defaults 0 1\n" {
			t.Errorf("fstab changed: %q", b)
		}
		mustRun(t, override(e, "SWAP_PERSIST=none"))
		mustRun(t, override(e, "SWAP_PERSIST=none"), "remove")
	})
}

// memCgroup is a memory cgroup (v1 or v2, whichever the machine has) that
// tests run processes in.
type memCgroup struct {
	dir string
	v2  bool
}

func newMemCgroup(t *testing.T, limit int64) *memCgroup {
	t.Helper()
	swaptest.RequireRoot(t)
	name := fmt.Sprintf("swap-bootstrap-test-%d", os.Getpid())
	c := &memCgroup{}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		c.v2, c.dir = true, filepath.Join("/sys/fs/cgroup", name)
		os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+memory"), 0o644)
	} else if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
		c.dir = filepath.Join("/sys/fs/cgroup/memory", name)
	} else {
		swaptest.SkipOrFail(t, "no memory cgroup controller")
	}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(c.dir, "cgroup.procs")); err == nil {
			for _, p := range strings.Fields(string(b)) {
				if pid, _ := strconv.Atoi(p); pid > 0 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		for i := 0; i < 100 && os.Remove(c.dir) != nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
	})
	if c.v2 {
		c.write(t, "memory.max", limit)
	} else {
		c.write(t, "memory.limit_in_bytes", limit)
	}
	return c
}

func (c *memCgroup) write(t *testing.T, file string, v int64) {
	t.Helper()
	s := strconv.FormatInt(v, 10)
	if v < 0 {
		s = map[bool]string{true: "max", false: "-1"}[c.v2]
	}
	if err := os.WriteFile(filepath.Join(c.dir, file), []byte(s), 0o644); err != nil {
		t.Fatalf("%s=%s: %v", file, s, err)
	}
}

// allowSwap lets the cgroup's pages go to swap or forbids it.
func (c *memCgroup) allowSwap(t *testing.T, allow bool, limit int64) {
	t.Helper()
	switch {
	case c.v2 && allow:
		c.write(t, "memory.swap.max", -1)
	case c.v2:
		c.write(t, "memory.swap.max", 0)
	case allow:
		c.write(t, "memory.memsw.limit_in_bytes", -1)
	default:
		c.write(t, "memory.memsw.limit_in_bytes", limit) // memory+swap = memory: no swap
	}
}

// hog starts a process in the cgroup that touches mib MiB, reports "touched",
// and then holds the memory until stdin closes (hold) or exits at once.
func (c *memCgroup) hog(t *testing.T, mib int, hold bool) (*exec.Cmd, *bufio.Reader, func() error) {
	t.Helper()
	self, _ := os.Executable()
	cmd := exec.Command("sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, c.dir, self)
	cmd.Env = append(os.Environ(), "SWAP_BOOTSTRAP_TEST_HOG="+strconv.Itoa(mib), "SWAP_BOOTSTRAP_TEST_HOG_HOLD="+strconv.FormatBool(hold))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, bufio.NewReader(stdout), stdin.Close
}

// runHog is the memory hog's body (TestMain runs it when asked).
func runHog(mib int, hold bool) {
	b := make([]byte, mib<<20)
	for pass := 0; pass < 2; pass++ { // the second pass reads back what was swapped out
		for i := 0; i < len(b); i += 4096 {
			b[i] = byte(i/4096) + 1
			if pass == 1 && b[i] != byte(i/4096)+1 {
				fmt.Println("corrupt")
				os.Exit(3)
			}
		}
	}
	fmt.Println("touched")
	if hold {
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
}

func waitHog(t *testing.T, cmd *exec.Cmd, out *bufio.Reader) (touched bool, killed bool) {
	t.Helper()
	line, _ := out.ReadString('\n')
	err := cmd.Wait()
	ee, _ := err.(*exec.ExitError)
	if ee != nil {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			killed = true
		}
	}
	return strings.TrimSpace(line) == "touched", killed
}

// TestOutOfMemoryScenario is the reason this project exists: in a memory
// cgroup capped at 128 MiB, a process that needs 300 MiB is OOM-killed without
// swap, and completes after swap-bootstrap apply.
func TestOutOfMemoryScenario(t *testing.T) {
	const limit = 128 << 20
	swaptest.TakeZswap(t).Set("enabled", "N") // pages go to the swapfile, not a compressed pool
	cg := newMemCgroup(t, limit)
	cg.allowSwap(t, false, limit)
	cmd, out, _ := cg.hog(t, 300, false)
	if touched, killed := waitHog(t, cmd, out); touched || !killed {
		t.Fatalf("without swap: touched=%v killed=%v; want an OOM kill", touched, killed)
	}

	dir := swaptest.Mount(t, "ext4", 3*gib, "")
	e := env(t, filepath.Join(dir, "swapfile"), "SWAP_SIZE=1G", "SWAP_PRIORITY=32767")
	mustRun(t, e)
	cg.allowSwap(t, true, limit)
	cmd, out, _ = cg.hog(t, 300, false)
	if touched, killed := waitHog(t, cmd, out); !touched || killed || cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("with swap: touched=%v killed=%v exit=%d; want it to complete", touched, killed, cmd.ProcessState.ExitCode())
	}
}

// pressured is the real kernel, except that /proc/meminfo reports only
// available bytes of MemAvailable: a 24 GiB test machine cannot safely be
// driven below the swap in use, so the test feeds the figure through the
// System seam, the one place the run reads it.
type pressured struct {
	*swap.Kernel
	available int64
}

func (p pressured) ReadFile(path string) ([]byte, error) {
	b, err := p.Kernel.ReadFile(path)
	if err != nil || path != swap.ProcMeminfo {
		return b, err
	}
	var out strings.Builder
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if strings.HasPrefix(l, "MemAvailable:") {
			l = fmt.Sprintf("MemAvailable:   %d kB\n", p.available/1024)
		}
		out.WriteString(l)
	}
	return []byte(out.String()), nil
}

// TestSwapoffSafety: a resize or remove while the swap in use on our file
// exceeds MemAvailable keeps the old file and says why. The pressure is real
// (a hog in a 64 MiB memory cgroup pushed into our swapfile); MemAvailable
// comes through the System seam (pressured).
func TestSwapoffSafety(t *testing.T) {
	const limit = 64 << 20
	swaptest.TakeZswap(t).Set("enabled", "N") // pages go to the swapfile, not a compressed pool
	dir := swaptest.Mount(t, "ext4", 3*gib, "")
	file := filepath.Join(dir, "swapfile")
	e := env(t, file, "SWAP_SIZE=512M", "SWAP_PRIORITY=32767")
	mustRun(t, e)
	cg := newMemCgroup(t, limit)
	cg.allowSwap(t, true, limit)
	cmd, out, release := cg.hog(t, 200, true)
	if line, _ := out.ReadString('\n'); strings.TrimSpace(line) != "touched" {
		t.Fatalf("hog: %q", line)
	}
	defer func() { release(); cmd.Wait() }()
	a, _ := activeArea(t, file)
	used := a.Used
	if used < 48*mib { // of ~136 MiB pushed out; other swap of the same priority on the machine takes a share
		t.Fatalf("only %d bytes of our swapfile in use; the hog did not create pressure", used)
	}
	ino, _ := inode(t, file)

	var logs strings.Builder
	deps := bootstrap.Deps{System: pressured{Kernel: &swap.Kernel{}, available: used / 2}, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	configtest.Env(t, override(e, "SWAP_SIZE=256M")...)
	c, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	r, err := bootstrap.Apply(context.Background(), c, deps)
	if err != nil || r.State != "active, resize deferred" || !strings.Contains(logs.String(), "resize of "+file+" deferred") ||
		!strings.Contains(logs.String(), "exceeds MemAvailable") {
		t.Errorf("shrink under pressure: %v, state %q\n%s", err, r.State, logs.String())
	}
	_, err = bootstrap.Remove(context.Background(), c, deps)
	var deferred *swap.DeferredError
	if !errors.As(err, &deferred) || !strings.Contains(err.Error(), "remove of "+file+" deferred") {
		t.Errorf("remove under pressure: %v", err)
	}
	assertOneActiveFile(t, e, 512*mib)
	if i, _ := inode(t, file); i != ino {
		t.Error("the old file was replaced under pressure")
	}
}
