package swap

import (
	"errors"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

const gib = sizing.GiB

func settingsFor() Settings {
	return Settings{File: "/var/swapfile", Priority: -1, Swappiness: -1, Persist: true, Fstab: "/etc/fstab",
		Tolerance: sizing.Tolerance{Fraction: 0.05}}
}

func swapFile(size int64, active bool, used int64) FileState {
	h, _ := NewHeader(size, 4096)
	f := FileState{FileInfo: FileInfo{Kind: KindRegular, Mode: 0o600, Size: size, Allocated: size, Links: 1}, Header: &h}
	if active {
		f.Active = &Area{Filename: "/var/swapfile", Type: "file", Size: size - 4096, Used: used, Priority: -2}
	}
	return f
}

func obsWith(f FileState) Observation {
	o := Observation{PageSize: 4096, KernelRelease: "6.1.0", SwapSupported: true, Mem: Meminfo{MemTotal: gib, MemAvailable: 512 << 20},
		Dir: Dir{Path: "/var", Exists: true, Real: "/var"}, File: f, FS: Filesystem{Type: "ext4", Available: 20 * gib}, Swappiness: 60}
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
	withTemp := obsWith(swapFile(2*gib, true, 0))
	withTemp.Temp = FileInfo{Kind: KindRegular, Mode: 0o600, Size: gib, Allocated: gib}
	zram := obsWith(swapFile(2*gib, true, 0))
	zram.Areas = append(zram.Areas, Area{Filename: "/dev/zram0", Type: "partition", Size: gib})

	cases := []struct {
		name   string
		o      Observation
		size   int64
		beside bool   // the disk holds a new file beside the old one
		want   string // action kinds
		check  func(t *testing.T, p Plan)
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
		{name: "grow, old file active, disk holds both: prepared first", o: obsWith(swapFile(gib, true, 0)), size: 2 * gib, beside: true, want: "resize",
			check: func(t *testing.T, p Plan) {
				if a := p.Actions[0]; !a.PrepareFirst || !a.OldActive {
					t.Errorf("resize %+v", a)
				}
			}},
		{name: "grow on a tight disk: old goes first", o: obsWith(swapFile(1*gib, true, 0)), size: 2 * gib, want: "resize",
			check: func(t *testing.T, p Plan) {
				if p.Actions[0].PrepareFirst {
					t.Errorf("resize %+v", p.Actions[0])
				}
			}},
		{name: "shrink while swap in use exceeds MemAvailable: deferred", o: obsWith(swapFile(4*gib, true, gib)), size: 2 * gib, want: "",
			check: func(t *testing.T, p Plan) {
				if !strings.Contains(p.Deferred, "resize of /var/swapfile deferred") || !strings.Contains(p.Deferred, "exceeds MemAvailable") {
					t.Errorf("deferred %q", p.Deferred)
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
		{name: "policy off leaves a non-swap file alone", o: obsWith(FileState{FileInfo: FileInfo{Kind: KindRegular, Mode: 0o644, Size: 100}}), size: 0, want: "fstab-remove",
			check: func(t *testing.T, p Plan) {
				if !strings.Contains(strings.Join(p.Notes, "\n"), "is not a swap area; left alone") {
					t.Errorf("notes %q", p.Notes)
				}
			}},
		{name: "policy off while the swap in use exceeds MemAvailable: refused", o: obsWith(swapFile(4*gib, true, gib)), size: 0, want: "error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := PlanApply(settingsFor(), c.o, Target{Size: c.size, BuildBeside: c.beside})
			if c.want == "error" {
				var d *DeferredError
				if !errors.As(err, &d) || !strings.Contains(err.Error(), "policy off of /var/swapfile deferred") {
					t.Fatalf("want a DeferredError, got %v", err)
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
	p, err := PlanApply(s, o, Target{Size: 2 * gib})
	if err != nil {
		t.Fatal(err)
	}
	if kinds(p) != "priority,fstab-set,swappiness" {
		t.Fatalf("actions %q", kinds(p))
	}
	if p.Actions[0].Value != 5 || !strings.Contains(string(p.Actions[1].Content), "sw,nofail,pri=5") || p.Actions[2].Value != 10 {
		t.Errorf("plan %+v", p.Actions)
	}
	o.Swappiness, o.Sysctl = 10, p.Actions[2].Content
	o.Fstab = p.Actions[1].Content
	o.File.Active.Priority = 5
	if p, _ := PlanApply(s, o, Target{Size: 2 * gib}); p.Changes() {
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
	if !errors.As(err, &d) || !strings.Contains(err.Error(), "remove of /var/swapfile deferred") {
		t.Errorf("in use beyond MemAvailable: want DeferredError, got %v", err)
	}
	p, err = PlanRemove(settingsFor(), obsWith(FileState{}))
	if err != nil || kinds(p) != "fstab-remove" || !strings.Contains(strings.Join(p.Notes, ""), "no swapfile at /var/swapfile") {
		t.Errorf("nothing to remove but the fstab entry: %q %q %v", kinds(p), p.Notes, err)
	}
}

// TestRefuse: every reason SWAP_FILE must not be touched, each named in the
// message with the path, and nothing refused that may be used.
func TestRefuse(t *testing.T) {
	ok := obsWith(swapFile(2*gib, true, 0))
	with := func(f func(o *Observation)) Observation { o := obsWith(swapFile(2*gib, true, 0)); f(&o); return o }
	foreign := obsWith(FileState{FileInfo: FileInfo{Kind: KindRegular, Mode: 0o644, Size: 100}})
	cases := []struct {
		name   string
		o      Observation
		intent Intent
		want   string // "" = allowed
	}{
		{"a swap area on ext4", ok, IntentKeep, ""},
		{"nothing there yet", obsWith(FileState{}), IntentKeep, ""},
		{"kernel without swap", with(func(o *Observation) { o.SwapSupported = false }), IntentKeep, "built without swap support"},
		{"missing directory", with(func(o *Observation) { o.Dir.Exists = false }), IntentKeep, `directory "/var" does not exist`},
		{"directory through a symlink", with(func(o *Observation) { o.Dir.Real = "/mnt/var" }), IntentKeep, `reached through a symlink (it resolves to "/mnt/var")`},
		{"tmpfs", with(func(o *Observation) { o.FS.Type = "tmpfs" }), IntentKeep, "is on tmpfs, which cannot hold a swapfile"},
		{"unknown filesystem", with(func(o *Observation) { o.FS.Type = "filesystem type 0x1234" }), IntentRemove, "is on filesystem type 0x1234"},
		{"multi-device btrfs", with(func(o *Observation) { o.FS = Filesystem{Type: "btrfs", Devices: 2} }), IntentKeep, "btrfs filesystem with 2 devices"},
		{"single-device btrfs", with(func(o *Observation) { o.FS = Filesystem{Type: "btrfs", Devices: 1} }), IntentKeep, ""},
		{"compressed btrfs directory", with(func(o *Observation) { o.FS = Filesystem{Type: "btrfs", Devices: 1, Compressed: true} }), IntentKeep, "btrfs compression"},
		{"compression flag on ext4 means nothing", with(func(o *Observation) { o.FS.Compressed = true }), IntentKeep, ""},
		{"symlink at the path", obsWith(FileState{FileInfo: FileInfo{Kind: KindSymlink}}), IntentOff, "is a symlink"},
		{"directory at the path", obsWith(FileState{FileInfo: FileInfo{Kind: KindDir}}), IntentKeep, "is a directory"},
		{"device at the path", obsWith(FileState{FileInfo: FileInfo{Kind: KindCharDev}}), IntentRemove, "is a character device, not a regular file"},
		{"header unreadable without root", obsWith(FileState{FileInfo: FileInfo{Kind: KindRegular}, HeaderDenied: true}), IntentKeep, "cannot read its header without root"},
		{"not a swap area: never overwritten", foreign, IntentKeep, "exists and is not a swap area (no swap signature); refusing to overwrite it"},
		{"not a swap area: never removed", foreign, IntentRemove, "is not a swap area; refusing to remove it"},
		{"not a swap area, policy off: left alone", foreign, IntentOff, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Refuse("/var/swapfile", c.o, c.intent)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/var/swapfile") && !strings.Contains(err.Error(), "/proc/swaps") {
				t.Fatalf("got %v, want a message with %q naming the path", err, c.want)
			}
			var r *RefusalError
			if isRefusal := errors.As(err, &r); isRefusal == (c.name == "header unreadable without root") {
				t.Errorf("refusal (exit 2) = %v for %q", isRefusal, c.name)
			}
		})
	}
}

func TestCheckSwapoff(t *testing.T) {
	if err := checkSwapoff("resize", "/s", gib, gib); err != nil {
		t.Errorf("used = MemAvailable: %v", err)
	}
	err := checkSwapoff("resize", "/s", gib+1, gib)
	var d *DeferredError
	if !errors.As(err, &d) || d.Used != gib+1 || d.Available != gib || !strings.Contains(err.Error(), "resize of /s deferred: 1 GiB of swap in use on it exceeds MemAvailable 1 GiB") {
		t.Errorf("used > MemAvailable: %v", err)
	}
}

func TestReusable(t *testing.T) {
	o := obsWith(swapFile(2*gib, true, 0))
	o.Temp = FileInfo{Kind: KindRegular, Allocated: 100}
	if cur, stale := o.Reusable(); cur != 2*gib || stale != 100 {
		t.Errorf("our file and a stale temp: %d %d", cur, stale)
	}
	o = obsWith(FileState{FileInfo: FileInfo{Kind: KindRegular, Allocated: 5 * gib}})
	o.Temp = FileInfo{Kind: KindSymlink, Allocated: 7}
	if cur, stale := o.Reusable(); cur != 0 || stale != 0 {
		t.Errorf("a foreign file and a symlink at the temp name are not ours: %d %d", cur, stale)
	}
}

func TestKernelBefore(t *testing.T) {
	for rel, want := range map[string]bool{"4.14.355-275.amzn2.x86_64": true, "4.17.0": true, "4.18.0-553.el8": false, "5.10.0": false, "6.18.44-fc": false, "3.10.0-1160.el7": true, "garbage": false,
		"4.14": true, "4.18": false, "4": false, "4.20": false, "4.19": false, "4.10": true} {
		if got := kernelBefore(rel, 4, 18); got != want {
			t.Errorf("kernelBefore(%q) = %v", rel, got)
		}
	}
}

// TestRefuseMessages (issue 10, items 13 and 14): what would fail midway is
// refused up front, saying what is really wrong and what to do.
func TestRefuseMessages(t *testing.T) {
	ro := obsWith(swapFile(2*gib, true, 0))
	ro.FS.ReadOnly = true
	roEmpty := obsWith(FileState{})
	roEmpty.FS.ReadOnly = true
	dirTemp := obsWith(swapFile(2*gib, true, 0))
	dirTemp.Temp = FileInfo{Kind: KindDir}
	linked := obsWith(swapFile(2*gib, true, 0))
	linked.File.Links = 2
	cases := []struct {
		name   string
		o      Observation
		intent Intent
		want   string
	}{
		{"read-only filesystem", ro, IntentKeep, "is on a read-only filesystem"},
		{"read-only filesystem, remove", ro, IntentRemove, "is on a read-only filesystem"},
		{"read-only filesystem, policy off, nothing there: fine", roEmpty, IntentOff, ""},
		{"a directory at the temp name", dirTemp, IntentKeep, `"/var/.swapfile.swap-bootstrap-tmp" is a directory`},
		{"a hard-linked swapfile", linked, IntentKeep, "has 2 hard links"},
		{"a hard-linked swapfile may be removed", linked, IntentRemove, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Refuse("/var/swapfile", c.o, c.intent)
			if c.want == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			var r *RefusalError
			if !errors.As(err, &r) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want a refusal with %q", err, c.want)
			}
		})
	}
}

// TestUnmountedFilesystem: a SWAP_FILE whose filesystem is in fstab but not
// mounted (a nofail mount that failed, which local-fs.target does not wait
// for) would land on the filesystem below the mount point: refused.
func TestUnmountedFilesystem(t *testing.T) {
	fstab := []byte("UUID=r / ext4 defaults 0 1\nLABEL=data /data ext4 defaults,nofail 0 2\n/dev/x /data/deep\\040er xfs noauto 0 0\n/swap none swap sw 0 0\n")
	mounted := []byte("22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n")
	withData := append(append([]byte{}, mounted...), "30 22 259:2 / /data rw,relatime shared:2 - ext4 /dev/vdb rw\n"...)
	for _, c := range []struct {
		dir, mountinfo, want string
	}{
		{"/data", string(mounted), "/data"},
		{"/data/swap", string(mounted), "/data"},
		{"/data", string(withData), ""},
		{"/data/deep er/x", string(withData), "/data/deep er"},
		{"/var", string(mounted), ""},
		{"/database", string(mounted), ""},
		// A truncated mountinfo line is not a mount (and no crash).
		{"/data", string(mounted) + "31 22 259:3 /\n", "/data"},
	} {
		if got := unmountedCover(fstab, []byte(c.mountinfo), c.dir); got != c.want {
			t.Errorf("%s: %q, want %q", c.dir, got, c.want)
		}
	}
	// fstab's fourth to sixth fields may be left out.
	if got := unmountedCover([]byte("LABEL=scratch /scratch ext4\n"), mounted, "/scratch"); got != "/scratch" {
		t.Errorf("three-field fstab line: %q", got)
	}
	o := obsWith(FileState{})
	o.Dir.Unmounted = "/data"
	if err := Refuse("/data/swapfile", o, IntentKeep); err == nil || !strings.Contains(err.Error(), "/data is in fstab but not mounted") {
		t.Errorf("refusal: %v", err)
	}
}

// The kernel's minimum is 10 pages (mkswap and swapon refuse fewer): 10 make
// a header, one byte less does not, at every page size. The header counts
// the last page in 32 bits: 2^32 pages fit, one more does not.
func TestNewHeaderBounds(t *testing.T) {
	for _, ps := range PageSizes {
		if _, err := NewHeader(10*ps, ps); err != nil {
			t.Errorf("10 pages of %d: %v", ps, err)
		}
		if _, err := NewHeader(10*ps-1, ps); err == nil {
			t.Errorf("10 pages of %d less a byte: want an error", ps)
		}
		h, err := NewHeader((1<<32)*ps, ps)
		if err != nil || h.LastPage != 1<<32-1 {
			t.Errorf("2^32 pages of %d: last page %d, %v", ps, h.LastPage, err)
		}
		if _, err := NewHeader((1<<32+1)*ps, ps); err == nil {
			t.Errorf("2^32 + 1 pages of %d: want an error", ps)
		}
	}
}

// Instance-store swap goes ahead of the file: priority 10, or one above
// SWAP_PRIORITY when that is 10 or more, never past the kernel's 32767.
func TestDevicePriority(t *testing.T) {
	for file, want := range map[int]int{-1: 10, 0: 10, 9: 10, 10: 11, 100: 101, 32766: 32767, 32767: 32767} {
		if got := devicePriority(file); got != want {
			t.Errorf("devicePriority(%d) = %d, want %d", file, got, want)
		}
	}
}

// SWAP_SWAPPINESS=0 is a value to set (swap only to avoid OOM), not "unset".
func TestPlanSwappinessZero(t *testing.T) {
	s := settingsFor()
	s.Swappiness = 0
	s.SysctlFile = "/etc/sysctl.d/90-swap-bootstrap.conf"
	p, err := PlanApply(s, obsWith(swapFile(2*gib, true, 0)), Target{Size: 2 * gib})
	if err != nil || kinds(p) != "swappiness" || p.Actions[0].Value != 0 || !strings.HasSuffix(string(p.Actions[0].Content), "\nvm.swappiness = 0\n") {
		t.Errorf("%v %q %+v", err, kinds(p), p.Actions)
	}
}

// Usable is what the kernel gets: the header's size, or less when the file
// is shorter than its header says (whole pages of it).
func TestUsable(t *testing.T) {
	f := swapFile(16<<20, false, 0)
	if got := f.Usable(); got != 16<<20 {
		t.Errorf("whole file: %d", got)
	}
	f.Size = 10<<20 + 100
	if got := f.Usable(); got != 10<<20 {
		t.Errorf("truncated file: %d", got)
	}
	f.Header = nil
	if got := f.Usable(); got != 10<<20+100 {
		t.Errorf("no header: %d", got)
	}
}
