package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/soundhub/swap-bootstrap/internal/fault"
	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// reset puts the test filesystem back to "no swapfile" between cases.
func reset(t *testing.T, e []string) {
	t.Helper()
	file := get(e, "SWAP_FILE")
	exec.Command("swapoff", file).Run()
	exec.Command("swapoff", swap.TempPath(file)).Run()
	os.Remove(file)
	os.Remove(swap.TempPath(file))
	os.Remove(get(e, "SWAP_FSTAB"))
}

// assertNoHalfMadeFile checks the invariant a kill must never break: the final
// name holds nothing or a complete swap area of the old or the new size.
func assertNoHalfMadeFile(t *testing.T, file string, sizes ...int64) {
	t.Helper()
	fi, err := os.Lstat(file)
	if os.IsNotExist(err) {
		return
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 65536)
	n, _ := f.ReadAt(head, 0)
	h, ok := swap.ParseHeader(head[:n])
	if !ok {
		t.Fatalf("%s exists without a swap header after the kill", file)
	}
	for _, s := range sizes {
		if fi.Size() == s && h.Size() == s {
			return
		}
	}
	t.Fatalf("%s has size %d (header %d) after the kill, want one of %v", file, fi.Size(), h.Size(), sizes)
}

// assertOnlyEntries checks that dir holds exactly the named entries (ext4's
// lost+found aside): no stray temp files.
func assertOnlyEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	want := map[string]bool{"lost+found": true}
	for _, n := range names {
		want[n] = true
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("stray file in %s: %s", dir, e.Name())
		}
	}
}

// The points TestCrashSafety kills a run at: every fault point, in the phase
// where it happens (":n" is the nth arrival).
var (
	createPoints = []string{p(fault.Locked), p(fault.Planned), p(fault.Before(string(swap.ActionCreate))), p(fault.TempCreated),
		p(fault.ZeroChunk) + ":1", p(fault.ZeroChunk) + ":60", p(fault.Allocated), p(fault.HeaderWritten), p(fault.Synced),
		p(fault.Committed), p(fault.Enabled), p(fault.Before(string(swap.ActionFstabSet))), p(fault.FileTempWritten)}
	resizePoints = []string{p(fault.Before(string(swap.ActionResize))), p(fault.TempCreated), p(fault.ZeroChunk) + ":30",
		p(fault.Synced), p(fault.OldOff), p(fault.Committed), p(fault.Enabled)}
	tightPoints = []string{p(fault.OldOff), p(fault.OldRemoved), p(fault.TempCreated), p(fault.Synced), p(fault.Committed)}
)

func p(x fault.Point) string { return string(x) }

// TestCrashPointsCovered: the crash test kills a run at every fault point
// there is, so a new point cannot go untested.
func TestCrashPointsCovered(t *testing.T) {
	used := map[string]bool{}
	for _, list := range [][]string{createPoints, resizePoints, tightPoints} {
		for _, q := range list {
			name, _, _ := strings.Cut(q, ":")
			used[name] = true
		}
	}
	for _, q := range fault.Points {
		if !used[string(q)] {
			t.Errorf("fault point %s is never exercised by TestCrashSafety", q)
		}
	}
}

// TestCrashSafety SIGKILLs apply at every step of a zero-filled 1 GiB run and of
// a resize; each time a plain rerun converges to one active file of the right
// size, mode 0600, one fstab line, no stray temp files.
func TestCrashSafety(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 4*gib, "")
	file := filepath.Join(dir, "swapfile")
	e := env(t, file, "SWAP_SIZE=1G", "SWAP_ALLOCATE=zero")
	fstabDir := filepath.Dir(get(e, "SWAP_FSTAB"))

	check := func(t *testing.T, size int64) {
		t.Helper()
		assertOneActiveFile(t, e, size)
		assertOnlyEntries(t, dir, "swapfile")
		assertOnlyEntries(t, fstabDir, "fstab", "lock")
	}
	kill := func(t *testing.T, point string, env []string, sizes ...int64) {
		t.Helper()
		r := runPath(t, faultBin, override(env, "SWAP_BOOTSTRAP_FAULT="+point))
		if r.code != -1 {
			t.Fatalf("fault point %s was not reached: exit %d\n%s", point, r.code, r.stderr)
		}
		assertNoHalfMadeFile(t, file, sizes...)
	}

	t.Run("create", func(t *testing.T) {
		for _, point := range createPoints {
			t.Run(point, func(t *testing.T) {
				reset(t, e)
				kill(t, point, e, gib)
				mustRun(t, e)
				check(t, gib)
			})
		}
	})

	t.Run("resize", func(t *testing.T) {
		for _, point := range resizePoints {
			t.Run(point, func(t *testing.T) {
				reset(t, e)
				mustRun(t, override(e, "SWAP_SIZE=256M"))
				kill(t, point, e, 256*mib, gib)
				mustRun(t, e)
				check(t, gib)
			})
		}
	})

	// When the disk cannot hold old and new side by side, the old file goes
	// first: a kill between the two steps leaves no file or the old one.
	t.Run("resize on a tight disk", func(t *testing.T) {
		for _, point := range tightPoints {
			t.Run(point, func(t *testing.T) {
				reset(t, e)
				mustRun(t, override(e, "SWAP_SIZE=256M"))
				var st unix.Statfs_t
				unix.Statfs(dir, &st)
				avail := int64(st.Bavail) * st.Bsize
				tight := override(e, "SWAP_DISK_PERCENT=100", "SWAP_DISK_RESERVE="+strconv.FormatInt((avail-900*mib)/mib, 10))
				kill(t, point, tight, 256*mib, gib)
				mustRun(t, tight)
				check(t, gib)
			})
		}
	})

	// A kill at a moment nobody chose: from outside, while zeros are written.
	t.Run("SIGKILL from outside mid-write", func(t *testing.T) {
		for _, after := range []time.Duration{50 * time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond} {
			reset(t, e)
			cmd := exec.Command(bin, "apply")
			cmd.Env = e
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(after)
			cmd.Process.Kill()
			cmd.Wait()
			assertNoHalfMadeFile(t, file, gib)
			mustRun(t, e)
			check(t, gib)
		}
	})
	reset(t, e)
}
