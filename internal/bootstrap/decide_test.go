package bootstrap

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/config/configtest"
	"github.com/soundhub/swap-bootstrap/internal/sizing"
	"github.com/soundhub/swap-bootstrap/internal/swap"
)

const (
	mib = sizing.MiB
	gib = sizing.GiB
)

// cfg is the configuration the environment kv gives, read the real way.
func cfg(t *testing.T, kv ...string) config.Config {
	t.Helper()
	configtest.Env(t, kv...)
	c, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// machine is an observation of a 1 GiB machine (MemTotal 0.95 GiB, as a
// t3.micro reports) with 100 GiB free on ext4 and no swapfile yet.
func machine() swap.Observation {
	return swap.Observation{PageSize: 4096, KernelRelease: "6.1.0", SwapSupported: true, Swappiness: 60,
		Mem:   swap.Meminfo{MemTotal: 972 * mib, MemAvailable: 600 * mib},
		Dir:   swap.Dir{Path: "/var", Exists: true, Real: "/var"},
		FS:    swap.Filesystem{Type: "ext4", Available: 100 * gib},
		Zswap: swap.Zswap{Supported: true, Enabled: true, Compressor: "lzo-rle", MaxPoolPercent: 20},
		File:  swap.FileState{}, Fstab: []byte("UUID=x / ext4 defaults 0 1\n")}
}

// withFile adds our swapfile of size bytes, active or not.
func withFile(o swap.Observation, size int64, active bool) swap.Observation {
	h, _ := swap.NewHeader(size, 4096)
	o.File = swap.FileState{FileInfo: swap.FileInfo{Kind: swap.KindRegular, Mode: 0o600, Size: size, Allocated: size, Links: 1}, Header: &h}
	if active {
		a := swap.Area{Filename: "/var/swapfile", Type: "file", Size: size - 4096, Priority: -2}
		o.File.Active, o.Areas = &a, []swap.Area{a}
	}
	o.FS.Available -= size
	o.Fstab = swap.SetFstabEntry(o.Fstab, "/var/swapfile", swap.FstabLine("/var/swapfile", -1))
	return o
}

// ram sets MemTotal (what the kernel of a bigger type reports).
func ram(o swap.Observation, memTotal int64) swap.Observation { o.Mem.MemTotal = memTotal; return o }

func typed(t string) Facts { return Facts{InstanceType: t, TypeSource: "metadata service"} }

func kinds(p swap.Plan) string {
	var k []string
	for _, a := range p.Actions {
		k = append(k, string(a.Kind))
	}
	return strings.Join(k, ",")
}

func TestDecide(t *testing.T) {
	imdsDown := Facts{MetadataNote: "no answer from http://127.0.0.1:1 within 3s", MetadataFailed: "no answer from http://127.0.0.1:1 within 3s"}
	cases := []struct {
		name    string
		env     []string
		facts   Facts
		obs     swap.Observation
		target  int64
		actions string
		memory  string // "<bytes> <source>"
		reason  string // part of the reasons
		warn    string // part of the warnings ("" = none)
		error   string // part of the error ("" = none)
	}{
		// Every policy on a t3.micro (1 GiB nominal) and a t3.xlarge (16 GiB).
		{name: "t3.micro, ratio 2 (default)", facts: typed("t3.micro"), obs: machine(), target: 2 * gib, actions: "create,fstab-set",
			memory: "1073741824 instance-type table", reason: "policy ratio: 2 × RAM 1 GiB"},
		{name: "t3.micro, ratio 1.5", env: []string{"SWAP_RATIO=1.5"}, facts: typed("t3.micro"), obs: machine(), target: 1536 * mib, actions: "create,fstab-set", reason: "policy ratio: 1.5 × RAM 1 GiB"},
		{name: "t3.micro, aws", env: []string{"SWAP_POLICY=aws"}, facts: typed("t3.micro"), obs: machine(), target: 2 * gib, actions: "create,fstab-set", reason: "RAM 1 GiB ≤ 2 GiB → 2 × RAM"},
		{name: "t3.xlarge, aws", env: []string{"SWAP_POLICY=aws"}, facts: typed("t3.xlarge"), obs: ram(machine(), 15*gib), target: 18 * gib, actions: "create,fstab-set", reason: "4 GiB + (RAM − 2 GiB)"},
		{name: "t3.xlarge, redhat", env: []string{"SWAP_POLICY=redhat"}, facts: typed("t3.xlarge"), obs: ram(machine(), 15*gib), target: 4 * gib, actions: "create,fstab-set", reason: "RAM 16 GiB > 8 GiB → 4 GiB"},
		{name: "t3.xlarge, ubuntu", env: []string{"SWAP_POLICY=ubuntu"}, facts: typed("t3.xlarge"), obs: ram(machine(), 15*gib), target: 4 * gib, actions: "create,fstab-set", reason: "round(√RAM)"},
		{name: "t3.micro, ubuntu floor 1 GiB", env: []string{"SWAP_POLICY=ubuntu"}, facts: typed("t3.micro"), obs: machine(), target: gib, actions: "create,fstab-set"},
		{name: "t3.xlarge, cloud-init", env: []string{"SWAP_POLICY=cloud-init"}, facts: typed("t3.xlarge"), obs: ram(machine(), 15*gib), target: 4 * gib, actions: "create,fstab-set", reason: "RAM 16 GiB ≥ 16 GiB → round(√RAM)"},
		{name: "fixed 3G", env: []string{"SWAP_SIZE=3G"}, facts: typed("t3.micro"), obs: machine(), target: 3 * gib, actions: "create,fstab-set", reason: "policy fixed: SWAP_SIZE 3 GiB"},
		{name: "off, nothing there", env: []string{"SWAP_POLICY=off"}, facts: typed("t3.micro"), obs: machine(), target: 0, actions: "", reason: "policy off: no swapfile"},
		{name: "off removes our active file", env: []string{"SWAP_POLICY=off"}, facts: typed("t3.micro"), obs: withFile(machine(), 2*gib, true), target: 0, actions: "disable,delete,fstab-remove"},
		{name: "SWAP_MAX caps", env: []string{"SWAP_MAX=1G"}, facts: typed("t3.xlarge"), obs: ram(machine(), 15*gib), target: gib, actions: "create,fstab-set", reason: "capped at SWAP_MAX 1 GiB"},
		{name: "SWAP_MIN raises", env: []string{"SWAP_MIN=4G"}, facts: typed("t3.micro"), obs: machine(), target: 4 * gib, actions: "create,fstab-set", reason: "raised to SWAP_MIN 4 GiB"},

		// Where the memory comes from.
		{name: "type unknown to the table: MemTotal", facts: typed("x9.future"), obs: machine(), target: 1944 * mib, actions: "create,fstab-set",
			memory: "1019215872 MemTotal", warn: `sizing from MemTotal: instance type "x9.future" is not in the embedded table`},
		{name: "mem= limit far below the type's memory: MemTotal wins", facts: typed("t3.large"), obs: machine(), target: 1944 * mib, actions: "create,fstab-set",
			memory: "1019215872 MemTotal", warn: "sizing from MemTotal: MemTotal 972 MiB is far below t3.large's nominal 8 GiB (a mem= limit?)"},
		{name: "metadata service down: MemTotal, with a warning", facts: imdsDown, obs: machine(), target: 1944 * mib, actions: "create,fstab-set",
			memory: "1019215872 MemTotal", warn: "metadata service unavailable; sizing from /proc/meminfo: no answer from http://127.0.0.1:1 within 3s"},
		{name: "SWAP_IMDS=required without a type: fails", env: []string{"SWAP_IMDS=required"}, facts: imdsDown, obs: machine(),
			error: "SWAP_IMDS=required but the instance type could not be read: no answer from"},
		{name: "SWAP_IMDS=off: MemTotal, no warning", env: []string{"SWAP_IMDS=off"}, facts: Facts{MetadataNote: "not asked: SWAP_IMDS=off"}, obs: machine(),
			target: 1944 * mib, actions: "create,fstab-set", memory: "1019215872 MemTotal"},

		// Adopt, keep, resize, enable.
		{name: "already at target: nothing to do", facts: typed("t3.micro"), obs: withFile(machine(), 2*gib, true), target: 2 * gib, actions: ""},
		{name: "within tolerance: kept", facts: typed("t3.micro"), obs: withFile(machine(), 2*gib-80*mib, true), target: 2 * gib, actions: ""},
		{name: "the snippet's 2 GiB file after a reboot: enabled", env: []string{"SWAP_SIZE=2048"}, obs: withFile(machine(), 2*gib, false), target: 2 * gib, actions: "enable"},
		{name: "type changed to t3.small: resized beside the old", facts: typed("t3.small"), obs: ram(withFile(machine(), 2*gib, true), 1900*mib), target: 4 * gib, actions: "resize"},

		// The disk budget.
		{name: "budget cuts the target", facts: typed("t3.micro"), obs: func() swap.Observation { o := machine(); o.FS.Available = 3 * gib; return o }(),
			target: 1536 * mib, actions: "create,fstab-set", warn: "disk budget cuts swap from 2 GiB to 1.5 GiB (50% of 3 GiB available, keeping 1 GiB free)"},
		{name: "the reserve binds before the percentage", env: []string{"SWAP_DISK_PERCENT=100", "SWAP_DISK_RESERVE=2G"}, facts: typed("t3.micro"),
			obs: func() swap.Observation { o := machine(); o.FS.Available = 3 * gib; return o }(), target: gib, actions: "create,fstab-set", warn: "disk budget cuts swap from 2 GiB to 1 GiB"},
		{name: "our file's space counts as available: no flapping", facts: typed("t3.micro"),
			obs: func() swap.Observation {
				o := withFile(machine(), 1536*mib, true)
				o.FS.Available = 1536 * mib
				return o
			}(),
			target: 1536 * mib, actions: "", warn: "disk budget cuts swap from 2 GiB to 1.5 GiB (50% of 3 GiB available"},
		{name: "a stale temp file's space counts too", facts: typed("t3.micro"),
			obs: func() swap.Observation {
				o := machine()
				o.FS.Available = 2 * gib
				o.Temp = swap.FileInfo{Kind: swap.KindRegular, Allocated: 2 * gib}
				return o
			}(), target: 2 * gib, actions: "remove-temp,create,fstab-set"},
		{name: "below SWAP_MIN after the budget: fails", env: []string{"SWAP_MIN=2G"}, facts: typed("t3.micro"),
			obs: func() swap.Observation { o := machine(); o.FS.Available = 2 * gib; return o }(), error: "not enough disk for swap: the smallest acceptable file is 2 GiB but the budget allows 1 GiB"},

		// Refusals come before sizing.
		{name: "a file that is not a swap area is refused before a shortfall", env: []string{"SWAP_MIN=30G"}, facts: typed("t3.micro"),
			obs: func() swap.Observation {
				o := machine()
				o.File = swap.FileState{FileInfo: swap.FileInfo{Kind: swap.KindRegular, Size: 10}}
				return o
			}(), error: `SWAP_FILE="/var/swapfile" exists and is not a swap area`},
		{name: "policy off leaves a file that is not a swap area alone", env: []string{"SWAP_POLICY=off"},
			obs: func() swap.Observation {
				o := machine()
				o.File = swap.FileState{FileInfo: swap.FileInfo{Kind: swap.KindRegular, Size: 10}}
				return o
			}(), target: 0, actions: ""},
		{name: "a kernel without zswap: said, swap made anyway", env: []string{"SWAP_ZSWAP=on"}, facts: typed("t3.micro"), obs: func() swap.Observation { o := machine(); o.Zswap = swap.Zswap{}; return o }(),
			target: 2 * gib, actions: "create,fstab-set", warn: "this kernel has no zswap"},
		{name: "SWAP_ZSWAP=on, zswap off on this boot: turned on", env: []string{"SWAP_ZSWAP=on"}, facts: typed("t3.micro"), obs: func() swap.Observation { o := machine(); o.Zswap.Enabled = false; return o }(),
			target: 2 * gib, actions: "zswap,create,fstab-set"},
		{name: "zswap off on this boot, SWAP_ZSWAP left at keep: left alone", facts: typed("t3.micro"), obs: func() swap.Observation { o := machine(); o.Zswap.Enabled = false; return o }(),
			target: 2 * gib, actions: "create,fstab-set"},
		{name: "SWAP_ZSWAP=off turns it off", env: []string{"SWAP_ZSWAP=off"}, facts: typed("t3.micro"), obs: machine(), target: 2 * gib, actions: "zswap,create,fstab-set"},
		{name: "tmpfs is refused", facts: typed("t3.micro"), obs: func() swap.Observation { o := machine(); o.FS.Type = "tmpfs"; return o }(),
			error: "is on tmpfs, which cannot hold a swapfile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, p, err := Decide(cfg(t, c.env...), c.facts, c.obs)
			if c.error != "" {
				if err == nil || !strings.Contains(err.Error(), c.error) {
					t.Fatalf("error %v, want %q", err, c.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Target != c.target || kinds(p) != c.actions {
				t.Errorf("target %d (%s) actions %q, want %d (%s) %q", p.Target, sizing.FormatSize(p.Target), kinds(p), c.target, sizing.FormatSize(c.target), c.actions)
			}
			if c.memory != "" {
				if got := strconv.FormatInt(d.Memory.Bytes, 10) + " " + d.Memory.Source; got != c.memory {
					t.Errorf("memory %q, want %q", got, c.memory)
				}
			}
			if c.reason != "" && !strings.Contains(strings.Join(d.Reasons, "\n"), c.reason) {
				t.Errorf("reasons %q, want %q", d.Reasons, c.reason)
			}
			got := strings.Join(d.Warnings, "\n")
			if (c.warn == "") != (got == "") || !strings.Contains(got, c.warn) {
				t.Errorf("warnings %q, want %q", got, c.warn)
			}
		})
	}
}

// TestDecideResizeOrder: whether the new file is built beside the old one
// is the disk budget's call.
func TestDecideResizeOrder(t *testing.T) {
	for _, c := range []struct {
		name      string
		available int64
		beside    bool
	}{{"room for both", 20 * gib, true}, {"tight disk: the old file goes first", 4*gib + 512*mib, false}} {
		t.Run(c.name, func(t *testing.T) {
			o := withFile(machine(), 2*gib, true)
			o.FS.Available = c.available
			_, p, err := Decide(cfg(t, "SWAP_SIZE=4G", "SWAP_DISK_PERCENT=100"), Facts{}, o)
			if err != nil || kinds(p) != "resize" || p.Actions[0].PrepareFirst != c.beside || !p.Actions[0].OldActive {
				t.Errorf("%v %+v", err, p.Actions)
			}
		})
	}
}

// TestDecideDeferred: a resize that would need a swapoff of more swap than
// MemAvailable is held back, and said once.
func TestDecideDeferred(t *testing.T) {
	o := withFile(machine(), 4*gib, true)
	o.File.Active.Used = gib
	d, p, err := Decide(cfg(t, "SWAP_SIZE=2G"), Facts{}, o)
	if err != nil || kinds(p) != "" || p.Deferred == "" {
		t.Fatalf("%v %q %q", err, kinds(p), p.Deferred)
	}
	if len(d.Warnings) != 1 || d.Warnings[0] != p.Deferred || !strings.Contains(p.Deferred, "resize of /var/swapfile deferred") {
		t.Errorf("warnings %q", d.Warnings)
	}
}

// TestTagsOverrideEnv: instance tags merged by Gather decide over the
// variables; an invalid tag is reported and ignored.
func TestTagsOverrideEnv(t *testing.T) {
	base := cfg(t, "SWAP_POLICY=aws", "SWAP_MAX=16G")
	c, bad := config.WithTags(base, map[string]string{config.TagSize: "3G", config.TagMax: "lots"})
	d, p, err := Decide(c, Facts{InstanceType: "t3.xlarge", TypeSource: "metadata service", InvalidTags: bad}, machine())
	if err != nil {
		t.Fatal(err)
	}
	if p.Target != 3*gib || d.Policy != sizing.PolicyFixed || d.Sources["size"] != "tag swap-bootstrap:size" || d.Sources["max"] != "SWAP_MAX" {
		t.Errorf("target %d policy %s sources %v", p.Target, d.Policy, d.Sources)
	}
	if len(d.InvalidTags) != 1 || !strings.Contains(d.InvalidTags[0], `instance tag swap-bootstrap:max="lots" ignored`) {
		t.Errorf("invalid tags %q", d.InvalidTags)
	}
}

func TestDecideRemove(t *testing.T) {
	_, p, err := DecideRemove(cfg(t), withFile(machine(), 2*gib, true))
	if err != nil || kinds(p) != "disable,delete,fstab-remove" {
		t.Errorf("%v %q", err, kinds(p))
	}
	o := machine()
	o.File = swap.FileState{FileInfo: swap.FileInfo{Kind: swap.KindRegular, Size: 10}}
	_, _, err = DecideRemove(cfg(t), o)
	var r *swap.RefusalError
	if !errors.As(err, &r) || !strings.Contains(err.Error(), "refusing to remove it") {
		t.Errorf("a file that is not a swap area: %v", err)
	}
}

// TestDecideTooSmall: a policy result below the smallest swap area is bad
// configuration (exit 2), and the plan is empty: never "no swap".
func TestDecideTooSmall(t *testing.T) {
	o := withFile(machine(), 2*gib, true)
	o.Mem.MemTotal = 1 * mib // a tiny MemTotal: ratio 0.01 gives 10 KiB
	_, p, err := Decide(cfg(t, "SWAP_RATIO=0.01", "SWAP_IMDS=off"), Facts{}, o)
	var cerr *config.Error
	if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "below the smallest swap area, 40 KiB") || len(p.Actions) != 0 {
		t.Errorf("error %v, plan %q", err, kinds(p))
	}
}

// TestDecideNamedType (issue 10, item 12): SWAP_INSTANCE_TYPE=c5.4xlarge
// on a smaller machine previews the c5.4xlarge's swapfile, with a warning.
func TestDecideNamedType(t *testing.T) {
	d, p, err := Decide(cfg(t, "SWAP_INSTANCE_TYPE=c5.4xlarge", "SWAP_RATIO=1"), Facts{InstanceType: "c5.4xlarge", TypeSource: "SWAP_INSTANCE_TYPE"}, machine())
	if err != nil || p.Target != 32*gib || d.Memory.Bytes != 32*gib {
		t.Fatalf("%v target %d memory %+v", err, p.Target, d.Memory)
	}
	if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "MemTotal 972 MiB is far below c5.4xlarge's nominal 32 GiB; sized for c5.4xlarge as SWAP_INSTANCE_TYPE says") {
		t.Errorf("warnings %q", d.Warnings)
	}
	d, _, _ = Decide(cfg(t), Facts{InstanceType: "c5.4xlarge", TypeSource: "metadata service"}, machine())
	if d.Memory.Source != sizing.SourceMemTotal {
		t.Errorf("learnt from the metadata service: %+v", d.Memory)
	}
}

// TestDecideInstanceStoreNote (issue 13): plan says when the type has
// instance storage that SWAP_INSTANCE_STORE=prefer would use.
func TestDecideInstanceStoreNote(t *testing.T) {
	_, p, err := Decide(cfg(t), typed("m5d.large"), ram(machine(), 7*gib))
	if err != nil || !strings.Contains(strings.Join(p.Notes, "\n"), "m5d.large has 75 GB of instance storage: SWAP_INSTANCE_STORE=prefer") {
		t.Errorf("%v notes %q", err, p.Notes)
	}
	_, p, _ = Decide(cfg(t), typed("t3.micro"), machine())
	if strings.Contains(strings.Join(p.Notes, "\n"), "instance storage") {
		t.Errorf("t3.micro: notes %q", p.Notes)
	}
}
