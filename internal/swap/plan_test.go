package swap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

const gib = sizing.GiB

func settingsFor() Settings {
	return Settings{File: "/var/swapfile", Priority: -1, Swappiness: -1, Persist: true, Fstab: "/etc/fstab",
		Tolerance: sizing.Tolerance{Fraction: 0.05}, Reserve: gib}
}

func swapFile(size int64, active bool, used int64) FileState {
	h, _ := NewHeader(size, 4096)
	f := FileState{Exists: true, Mode: 0o600, Size: size, Allocated: size, Header: &h}
	if active {
		f.Active = &Area{Filename: "/var/swapfile", Type: "file", Size: size - 4096, Used: used, Priority: -2}
	}
	return f
}

func obsWith(f FileState) Observation {
	o := Observation{PageSize: 4096, KernelRelease: "6.1.0", Mem: Meminfo{MemTotal: gib, MemAvailable: 512 << 20},
		File: f, FS: Filesystem{Type: "ext4", Available: 20 * gib}, Swappiness: 60}
	o.Fstab = SetFstabEntry(nil, "/var/swapfile", FstabLine("/var/swapfile", -1))
	if f.Active != nil {
		o.Areas = []Area{*f.Active}
	}
	return o
}

func kinds(p Plan) string {
	var k []string
	for _, a := range p.Actions {
		k = append(k, string(a.Kind))
	}
	return strings.Join(k, ",")
}

func TestPlanApply(t *testing.T) {
	noFstab := obsWith(FileState{})
	noFstab.Fstab, noFstab.FstabMissing = nil, true
	worldReadable := swapFile(2*gib, true, 0)
	worldReadable.Mode = 0o644
	otherOwner := swapFile(2*gib, true, 0)
	otherOwner.UID = 1000
	arm64 := swapFile(2*gib, false, 0)
	arm64.Header.PageSize = 65536
	xfsOld := obsWith(FileState{})
	xfsOld.FS.Type, xfsOld.KernelRelease = "xfs", "4.14.355-275.582.amzn2.x86_64"
	tightDisk := obsWith(swapFile(1*gib, true, 0))
	tightDisk.FS.Available = 1*gib + 512<<20
	withTemp := obsWith(swapFile(2*gib, true, 0))
	withTemp.TempExists = true
	zram := obsWith(swapFile(2*gib, true, 0))
	zram.Areas = append(zram.Areas, Area{Filename: "/dev/zram0", Type: "partition", Size: gib})

	cases := []struct {
		name    string
		o       Observation
		size    int64
		want    string // action kinds
		check   func(t *testing.T, p Plan)
		refused bool
	}{
		{name: "fresh machine: create and persist", o: obsWith(FileState{}), size: 2 * gib, want: "create",
			check: func(t *testing.T, p Plan) {
				if p.Actions[0].Size != 2*gib || p.Actions[0].Zero {
					t.Errorf("create %+v", p.Actions[0])
				}
			}},
		{name: "no fstab at all: create it", o: noFstab, size: 2 * gib, want: "create,fstab-set"},
		{name: "already at target: nothing to do", o: obsWith(swapFile(2*gib, true, 0)), size: 2 * gib, want: "",
			check: func(t *testing.T, p Plan) {
				if !strings.Contains(strings.Join(p.Notes, "\n"), "already active") {
					t.Errorf("notes %q", p.Notes)
				}
			}},
		{name: "within tolerance (4% off): kept", o: obsWith(swapFile(2*gib-80<<20, true, 0)), size: 2 * gib, want: ""},
		{name: "snippet's file after reboot: enabled, not rebuilt", o: obsWith(swapFile(2*gib, false, 0)), size: 2 * gib, want: "enable"},
		{name: "world-readable: mode fixed", o: obsWith(worldReadable), size: 2 * gib, want: "fix-mode"},
		{name: "owned by another user: replaced", o: obsWith(otherOwner), size: 2 * gib, want: "replace"},
		{name: "header for 64K pages on a 4K kernel: replaced", o: obsWith(arm64), size: 2 * gib, want: "replace"},
		{name: "grow, old file active, disk holds both: prepared first", o: obsWith(swapFile(gib, true, 0)), size: 2 * gib, want: "resize",
			check: func(t *testing.T, p Plan) {
				if a := p.Actions[0]; !a.PrepareFirst || !a.OldActive {
					t.Errorf("resize %+v", a)
				}
			}},
		{name: "grow on a tight disk: old goes first", o: tightDisk, size: 2 * gib, want: "resize",
			check: func(t *testing.T, p Plan) {
				if p.Actions[0].PrepareFirst {
					t.Errorf("resize %+v", p.Actions[0])
				}
			}},
		{name: "shrink while swap in use exceeds MemAvailable: deferred", o: obsWith(swapFile(4*gib, true, gib)), size: 2 * gib, want: "",
			check: func(t *testing.T, p Plan) {
				if !strings.Contains(p.Deferred, "exceeds MemAvailable") || len(p.Warnings) == 0 {
					t.Errorf("deferred %q warnings %q", p.Deferred, p.Warnings)
				}
			}},
		{name: "XFS on Linux 4.14: straight to zeros", o: xfsOld, size: 2 * gib, want: "create",
			check: func(t *testing.T, p Plan) {
				if !p.Actions[0].Zero {
					t.Error("want zero fill")
				}
			}},
		{name: "stale temp from a killed run: removed first", o: withTemp, size: 2 * gib, want: "remove-temp"},
		{name: "other swap reported, left alone", o: zram, size: 2 * gib, want: "",
			check: func(t *testing.T, p Plan) {
				if !strings.Contains(strings.Join(p.Notes, "\n"), "other swap active: /dev/zram0") {
					t.Errorf("notes %q", p.Notes)
				}
			}},
		{name: "policy off removes our file", o: obsWith(swapFile(2*gib, true, 0)), size: 0, want: "disable,delete,fstab-remove"},
		{name: "policy off, nothing there", o: func() Observation { o := obsWith(FileState{}); o.Fstab = nil; return o }(), size: 0, want: ""},
		{name: "a non-swap file is never overwritten", o: obsWith(FileState{Exists: true, Mode: 0o644, Size: 100}), size: 2 * gib, refused: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := PlanApply(settingsFor(), c.o, c.size)
			if c.refused {
				var r *RefusalError
				if !errors.As(err, &r) || !strings.Contains(err.Error(), "refusing to overwrite") {
					t.Fatalf("want a refusal, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(p); got != c.want {
				t.Fatalf("actions %q, want %q (plan %+v)", got, c.want, p)
			}
			if c.check != nil {
				c.check(t, p)
			}
		})
	}
}

func TestPlanSwappinessAndPriority(t *testing.T) {
	s := settingsFor()
	s.Swappiness, s.SysctlFile, s.Priority = 10, "/tmp/x.conf", 5
	o := obsWith(swapFile(2*gib, true, 0))
	p, err := PlanApply(s, o, 2*gib)
	if err != nil {
		t.Fatal(err)
	}
	if kinds(p) != "fstab-set,swappiness" {
		t.Fatalf("actions %q", kinds(p))
	}
	if !strings.Contains(string(p.Actions[0].Content), "sw,nofail,pri=5") || p.Actions[1].Value != 10 {
		t.Errorf("plan %+v", p.Actions)
	}
	o.Swappiness, o.Sysctl = 10, SysctlContent(10)
	o.Fstab = p.Actions[0].Content
	if p, _ := PlanApply(s, o, 2*gib); p.Changes() {
		t.Errorf("second run changes %q", kinds(p))
	}
}

func TestPlanRemove(t *testing.T) {
	p, err := PlanRemove(settingsFor(), obsWith(swapFile(2*gib, true, 0)))
	if err != nil || kinds(p) != "disable,delete,fstab-remove" {
		t.Fatalf("%q %v", kinds(p), err)
	}
	_, err = PlanRemove(settingsFor(), obsWith(swapFile(4*gib, true, gib)))
	var d *DeferredError
	if !errors.As(err, &d) {
		t.Errorf("in use beyond MemAvailable: want DeferredError, got %v", err)
	}
	if _, err := PlanRemove(settingsFor(), obsWith(FileState{Exists: true, Size: 10})); err == nil {
		t.Error("non-swap file: want a refusal")
	}
}

func TestKernelBefore(t *testing.T) {
	for rel, want := range map[string]bool{"4.14.355-275.amzn2.x86_64": true, "4.17.0": true, "4.18.0-553.el8": false, "5.10.0": false, "6.18.44-fc": false, "3.10.0-1160.el7": true, "garbage": false} {
		if got := kernelBefore(rel, 4, 18); got != want {
			t.Errorf("kernelBefore(%q) = %v", rel, got)
		}
	}
}

// fakeSystem records calls; each field, when set, answers for its method.
type fakeSystem struct {
	calls   []string
	swapon  func(path string) error
	areas   []Area
	mem     Meminfo
	written map[string][]byte
}

func (f *fakeSystem) rec(format string, a ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
}
func (f *fakeSystem) MakeSwapfile(_ context.Context, path string, size, ps int64, zero bool) error {
	f.rec("make %s %d zero=%v", path, size, zero)
	return nil
}
func (f *fakeSystem) Commit(path string, replace bool) error {
	f.rec("commit %s replace=%v", path, replace)
	return nil
}
func (f *fakeSystem) ZeroFill(_ context.Context, path string) error {
	f.rec("zerofill %s", path)
	return nil
}
func (f *fakeSystem) Swapon(path string, prio int) error {
	f.rec("swapon %s %d", path, prio)
	if f.swapon != nil {
		if err := f.swapon(path); err != nil {
			return err
		}
	}
	f.areas = append(f.areas, Area{Filename: path})
	return nil
}
func (f *fakeSystem) Swapoff(path string) error {
	f.rec("swapoff %s", path)
	var keep []Area
	for _, a := range f.areas {
		if a.Filename != path {
			keep = append(keep, a)
		}
	}
	f.areas = keep
	return nil
}
func (f *fakeSystem) Remove(path string) error       { f.rec("remove %s", path); return nil }
func (f *fakeSystem) FixOwnerMode(path string) error { f.rec("fixmode %s", path); return nil }
func (f *fakeSystem) WriteFile(path string, data []byte, _ os.FileMode) error {
	f.rec("write %s", path)
	if f.written == nil {
		f.written = map[string][]byte{}
	}
	f.written[path] = data
	return nil
}
func (f *fakeSystem) SetSwappiness(v int) error { f.rec("swappiness %d", v); return nil }
func (f *fakeSystem) Areas() ([]Area, error)    { return f.areas, nil }
func (f *fakeSystem) Meminfo() (Meminfo, error) { return f.mem, nil }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestExecuteOrder(t *testing.T) {
	cases := []struct {
		name  string
		o     Observation
		size  int64
		fake  *fakeSystem
		want  []string
		error string
	}{
		{name: "create: make, rename into place, then swapon", o: obsWith(FileState{}), size: 2 * gib, fake: &fakeSystem{},
			want: []string{"make /var/swapfile 2147483648 zero=false", "commit /var/swapfile replace=false", "swapon /var/swapfile -1"}},
		{name: "resize, prepared first: the new file is complete before the old goes off",
			o: obsWith(swapFile(gib, true, 0)), size: 2 * gib,
			fake: &fakeSystem{areas: []Area{{Filename: "/var/swapfile"}}, mem: Meminfo{MemAvailable: gib}},
			want: []string{"make /var/swapfile 2147483648 zero=false", "swapoff /var/swapfile", "commit /var/swapfile replace=true", "swapon /var/swapfile -1"}},
		{name: "swapon EINVAL (unwritten extents): zeros, then swapon again", o: obsWith(FileState{}), size: 2 * gib,
			fake: &fakeSystem{swapon: func() func(string) error {
				n := 0
				return func(string) error {
					if n++; n == 1 {
						return unix.EINVAL
					}
					return nil
				}
			}()},
			want: []string{"make /var/swapfile 2147483648 zero=false", "commit /var/swapfile replace=false", "swapon /var/swapfile -1", "zerofill /var/swapfile", "swapon /var/swapfile -1"}},
		{name: "memory pressure grew after planning: swapoff refused, new file dropped",
			o: obsWith(swapFile(gib, true, 0)), size: 2 * gib,
			fake: &fakeSystem{areas: []Area{{Filename: "/var/swapfile", Used: gib}}, mem: Meminfo{MemAvailable: 100 << 20}},
			want: []string{"make /var/swapfile 2147483648 zero=false", "remove /var/.swapfile.swap-bootstrap-tmp"}, error: "exceeds MemAvailable"},
		{name: "valid inactive file: swapon only", o: obsWith(swapFile(2*gib, false, 0)), size: 2 * gib,
			fake: &fakeSystem{swapon: func(string) error { return nil }},
			want: []string{"swapon /var/swapfile -1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := PlanApply(settingsFor(), c.o, c.size)
			if err != nil {
				t.Fatal(err)
			}
			err = Execute(context.Background(), p, settingsFor(), c.fake, quiet)
			if c.error != "" {
				if err == nil || !strings.Contains(err.Error(), c.error) {
					t.Errorf("error %v, want %q", err, c.error)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Join(c.fake.calls, "\n"), strings.Join(c.want, "\n"); got != want {
				t.Errorf("calls\n%s\nwant\n%s", got, want)
			}
		})
	}
}
