package swap_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

const gib = sizing.GiB

// kernelFake is a Fake with a /proc/swaps that swapon and swapoff keep up to
// date, a fixed MemAvailable, and no-op changing calls, so a test sets only
// what it wants to go wrong.
func kernelFake(t *testing.T, available int64, active ...swap.Area) *swaptest.Fake {
	areas := append([]swap.Area(nil), active...)
	f := &swaptest.Fake{T: t}
	f.OnReadFile = func(path string) ([]byte, error) {
		switch path {
		case swap.ProcSwaps:
			return swaptest.ProcSwaps(areas...), nil
		case swap.ProcMeminfo:
			return swaptest.Meminfo(4*gib, available), nil
		}
		t.Fatalf("unexpected ReadFile(%q)", path)
		return nil, nil
	}
	f.OnMakeSwapfile = func(string, int64, int64, bool) error { return nil }
	f.OnCommit = func(string, bool) error { return nil }
	f.OnZeroFill = func(string) error { return nil }
	f.OnRemove = func(string) error { return nil }
	f.OnFixOwnerMode = func(string) error { return nil }
	f.OnWriteFile = func(string, []byte, os.FileMode) error { return nil }
	f.OnSwapon = func(path string, _ int) error {
		areas = append(areas, swap.Area{Filename: path, Type: "file"})
		return nil
	}
	f.OnSwapoff = func(path string) error {
		var keep []swap.Area
		for _, a := range areas {
			if a.Filename != path {
				keep = append(keep, a)
			}
		}
		areas = keep
		return nil
	}
	return f
}

var settings = swap.Settings{File: "/var/swapfile", Priority: -1, Swappiness: -1, Fstab: "/etc/fstab",
	Tolerance: sizing.Tolerance{Fraction: 0.05}}

// TestExecuteOrder: the steps run in the order that keeps every moment safe.
func TestExecuteOrder(t *testing.T) {
	create := swap.Plan{File: "/var/swapfile", Target: 2 * gib, PageSize: 4096,
		Actions: []swap.Action{{Kind: swap.ActionCreate, Path: "/var/swapfile", Size: 2 * gib}}}
	resize := swap.Plan{File: "/var/swapfile", Target: 2 * gib, PageSize: 4096,
		Actions: []swap.Action{{Kind: swap.ActionResize, Path: "/var/swapfile", Size: 2 * gib, PrepareFirst: true, OldActive: true}}}
	tight := swap.Plan{File: "/var/swapfile", Target: 2 * gib, PageSize: 4096,
		Actions: []swap.Action{{Kind: swap.ActionResize, Path: "/var/swapfile", Size: 2 * gib, OldActive: true}}}
	enable := swap.Plan{File: "/var/swapfile", Target: 2 * gib, PageSize: 4096,
		Actions: []swap.Action{{Kind: swap.ActionFixMode, Path: "/var/swapfile"}, {Kind: swap.ActionEnable, Path: "/var/swapfile"}}}
	remove := swap.Plan{File: "/var/swapfile", PageSize: 4096,
		Actions: []swap.Action{{Kind: swap.ActionDisable, Path: "/var/swapfile", Reason: "remove"}, {Kind: swap.ActionDelete, Path: "/var/swapfile"},
			{Kind: swap.ActionRemoveTemp, Path: "/var/.swapfile.swap-bootstrap-tmp"}, {Kind: swap.ActionFstabRemove, Path: "/etc/fstab", Content: []byte("x\n")}}}
	sysctl := swap.Plan{File: "/var/swapfile", PageSize: 4096,
		Actions: []swap.Action{{Kind: swap.ActionSwappiness, Path: "/etc/sysctl.d/s.conf", Value: 10, Content: []byte("vm.swappiness = 10\n")}}}
	ours := swap.Area{Filename: "/var/swapfile", Type: "file", Size: gib}
	inUse := swap.Area{Filename: "/var/swapfile", Type: "file", Size: gib, Used: gib}

	cases := []struct {
		name      string
		plan      swap.Plan
		available int64
		active    []swap.Area
		setup     func(f *swaptest.Fake)
		want      []string
		error     string
	}{
		{name: "create: make, rename into place, then swapon", plan: create, available: gib,
			want: []string{"make /var/swapfile 2147483648 zero=false", "commit /var/swapfile replace=false", "swapon /var/swapfile -1"}},
		{name: "resize, prepared first: the new file is complete before the old goes off", plan: resize, available: gib, active: []swap.Area{ours},
			want: []string{"make /var/swapfile 2147483648 zero=false", "swapoff /var/swapfile", "commit /var/swapfile replace=true", "swapon /var/swapfile -1"}},
		{name: "resize on a tight disk: the old file goes first", plan: tight, available: gib, active: []swap.Area{ours},
			want: []string{"swapoff /var/swapfile", "remove /var/swapfile", "make /var/swapfile 2147483648 zero=false", "commit /var/swapfile replace=false", "swapon /var/swapfile -1"}},
		{name: "swapon EINVAL (unwritten extents): zeros, then swapon again", plan: create, available: gib,
			setup: func(f *swaptest.Fake) {
				next := f.OnSwapon
				n := 0
				f.OnSwapon = func(p string, prio int) error {
					if n++; n == 1 {
						return syscall.EINVAL
					}
					return next(p, prio)
				}
			},
			want: []string{"make /var/swapfile 2147483648 zero=false", "commit /var/swapfile replace=false", "swapon /var/swapfile -1", "zerofill /var/swapfile", "swapon /var/swapfile -1"}},
		{name: "memory pressure grew after planning: swapoff refused, new file dropped", plan: resize, available: 100 << 20, active: []swap.Area{inUse},
			want: []string{"make /var/swapfile 2147483648 zero=false", "remove /var/.swapfile.swap-bootstrap-tmp"}, error: "resize of /var/swapfile deferred"},
		{name: "remove under pressure that grew after planning: nothing deleted", plan: remove, available: 100 << 20, active: []swap.Area{inUse},
			want: nil, error: "remove of /var/swapfile deferred"},
		{name: "remove: off, deleted, temp deleted, fstab rewritten", plan: remove, available: gib, active: []swap.Area{ours},
			want: []string{"swapoff /var/swapfile", "remove /var/swapfile", "remove /var/.swapfile.swap-bootstrap-tmp", "write /etc/fstab"}},
		{name: "valid inactive file: mode fixed, swapon only", plan: enable, available: gib,
			want: []string{"fixmode /var/swapfile", "swapon /var/swapfile -1"}},
		{name: "swapon succeeds but the kernel does not list it", plan: enable, available: gib,
			setup: func(f *swaptest.Fake) { f.OnSwapon = func(string, int) error { return nil } },
			want:  []string{"fixmode /var/swapfile", "swapon /var/swapfile -1"}, error: "succeeded but it is not listed in /proc/swaps"},
		{name: "a failed make stops the run before anything else", plan: create, available: gib,
			setup: func(f *swaptest.Fake) {
				f.OnMakeSwapfile = func(string, int64, int64, bool) error { return errors.New("disk full") }
			},
			want: []string{"make /var/swapfile 2147483648 zero=false"}, error: "disk full"},
		{name: "swappiness: set now, then persisted", plan: sysctl, available: gib,
			setup: func(f *swaptest.Fake) { f.OnSetParam = func(string, string) error { return nil } },
			want:  []string{"param /proc/sys/vm/swappiness 10", "write /etc/sysctl.d/s.conf"}},
		{name: "fstab write fails: the message says how to do without fstab", plan: remove, available: gib, active: []swap.Area{ours},
			setup: func(f *swaptest.Fake) {
				f.OnWriteFile = func(string, []byte, os.FileMode) error { return errors.New("read-only file system") }
			},
			want: []string{"swapoff /var/swapfile", "remove /var/swapfile", "remove /var/.swapfile.swap-bootstrap-tmp", "write /etc/fstab"}, error: "set SWAP_PERSIST=none"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := kernelFake(t, c.available, c.active...)
			if c.setup != nil {
				c.setup(f)
			}
			err := swap.Execute(context.Background(), c.plan, settings, f, slog.New(slog.DiscardHandler))
			if c.error != "" {
				if err == nil || !strings.Contains(err.Error(), c.error) {
					t.Errorf("error %v, want %q", err, c.error)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Join(f.Calls(), "\n"), strings.Join(c.want, "\n"); got != want {
				t.Errorf("calls\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestFakeFailsOnUnexpectedCalls: a fake not told about a call fails the
// test that made it.
func TestFakeFailsOnUnexpectedCalls(t *testing.T) {
	rec := &recorder{TB: t}
	f := &swaptest.Fake{T: rec}
	func() {
		defer func() { recover() }()
		f.Swapoff("/var/swapfile")
	}()
	if !strings.Contains(rec.fatal, `unexpected call Swapoff("/var/swapfile")`) {
		t.Errorf("fatal message %q", rec.fatal)
	}
}

type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, a ...any) {
	r.fatal = fmt.Sprintf(format, a...)
	panic("fatal")
}

// TestExecutePriority: a priority change is swapoff, then swapon with it,
// with the MemAvailable rule checked right before the swapoff.
func TestExecutePriority(t *testing.T) {
	plan := swap.Plan{File: "/var/swapfile", Target: 2 * gib, PageSize: 4096,
		Actions: []swap.Action{{Kind: swap.ActionPriority, Path: "/var/swapfile", Value: 10}}}
	s := settings
	s.Priority = 10
	f := kernelFake(t, gib, swap.Area{Filename: "/var/swapfile", Type: "file", Size: gib})
	if err := swap.Execute(context.Background(), plan, s, f, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Calls(), ","); got != "swapoff /var/swapfile,swapon /var/swapfile 10" {
		t.Errorf("calls %s", got)
	}
	f = kernelFake(t, 100<<20, swap.Area{Filename: "/var/swapfile", Type: "file", Size: gib, Used: gib})
	err := swap.Execute(context.Background(), plan, s, f, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "deferred") || len(f.Calls()) != 0 {
		t.Errorf("under pressure: %v %q", err, f.Calls())
	}
}

// TestExecuteLeavesNoTempFile (issue 10, item 14): when the commit fails,
// the full-size temp file is deleted.
func TestExecuteLeavesNoTempFile(t *testing.T) {
	for _, plan := range []swap.Plan{
		{File: "/var/swapfile", Target: 2 * gib, PageSize: 4096, Actions: []swap.Action{{Kind: swap.ActionCreate, Path: "/var/swapfile", Size: 2 * gib}}},
		{File: "/var/swapfile", Target: 2 * gib, PageSize: 4096, Actions: []swap.Action{{Kind: swap.ActionResize, Path: "/var/swapfile", Size: 2 * gib, PrepareFirst: true, OldActive: true}}},
		{File: "/var/swapfile", Target: 2 * gib, PageSize: 4096, Actions: []swap.Action{{Kind: swap.ActionResize, Path: "/var/swapfile", Size: 2 * gib, OldActive: true}}},
	} {
		f := kernelFake(t, gib, swap.Area{Filename: "/var/swapfile", Type: "file", Size: gib})
		f.OnCommit = func(string, bool) error { return errors.New("rename: device or resource busy") }
		err := swap.Execute(context.Background(), plan, settings, f, slog.New(slog.DiscardHandler))
		calls := f.Calls()
		if err == nil || calls[len(calls)-1] != "remove /var/.swapfile.swap-bootstrap-tmp" {
			t.Errorf("%s: %v, calls %q", plan.Actions[0].Kind, err, calls)
		}
		// The temp file went: the error is the rename's alone.
		if err != nil && (!strings.Contains(err.Error(), "device or resource busy") || strings.Contains(err.Error(), "could not be deleted")) {
			t.Errorf("%s: error %q", plan.Actions[0].Kind, err)
		}
	}
	// When the temp file cannot be deleted either, the error says so.
	f := kernelFake(t, gib)
	f.OnCommit = func(string, bool) error { return errors.New("rename: device or resource busy") }
	f.OnRemove = func(string) error { return errors.New("unlink: read-only file system") }
	err := swap.Execute(context.Background(), swap.Plan{File: "/var/swapfile", Target: 2 * gib, PageSize: 4096,
		Actions: []swap.Action{{Kind: swap.ActionCreate, Path: "/var/swapfile", Size: 2 * gib}}}, settings, f, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "the temp file could not be deleted: unlink: read-only file system") {
		t.Errorf("commit and remove failing: %v", err)
	}
}

// TestExecuteZswapNeverFails: a zswap parameter the kernel refuses (a
// compressor it lacks) is a warning; the rest of the plan runs.
func TestExecuteZswapNeverFails(t *testing.T) {
	plan := swap.Plan{File: "/var/swapfile", Target: 2 * gib, PageSize: 4096, Actions: []swap.Action{
		{Kind: swap.ActionZswap, Params: []swap.Param{{Path: swap.ZswapDir + "/compressor", Value: "zstd"}, {Path: swap.ZswapDir + "/enabled", Value: "Y"}}},
		{Kind: swap.ActionCreate, Path: "/var/swapfile", Size: 2 * gib}}}
	f := kernelFake(t, gib)
	f.OnSetParam = func(path, _ string) error {
		if strings.HasSuffix(path, "/compressor") {
			return errors.New("invalid argument")
		}
		return nil
	}
	var logs strings.Builder
	if err := swap.Execute(context.Background(), plan, settings, f, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Calls(), ","); !strings.Contains(got, "param /sys/module/zswap/parameters/enabled Y,make /var/swapfile") {
		t.Errorf("calls %s", got)
	}
	if !strings.Contains(logs.String(), "zswap parameter not set") {
		t.Errorf("no warning:\n%s", logs.String())
	}
}
