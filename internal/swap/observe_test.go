package swap_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

func header(t *testing.T, size, pageSize int64) []byte {
	t.Helper()
	h, err := swap.NewHeader(size, pageSize)
	if err != nil {
		t.Fatal(err)
	}
	return h.Marshal()
}

// machine is a small machine with our 2 GiB swapfile active on ext4.
func machine(t *testing.T) swaptest.Machine {
	return swaptest.Machine{
		Files: map[string][]byte{
			swap.ProcSwaps:      swaptest.ProcSwaps(swap.Area{Filename: "/var/swapfile", Type: "file", Size: 2*gib - 4096, Used: 1 << 20, Priority: -2}),
			swap.ProcMeminfo:    swaptest.Meminfo(gib, 512<<20),
			swap.ProcSwappiness: []byte("60\n"),
			"/etc/fstab":        []byte("UUID=x / ext4 defaults 0 1\n"),
			"/var/swapfile":     header(t, 2*gib, 4096),
		},
		Infos: map[string]swap.FileInfo{
			"/var/swapfile": {Kind: swap.KindRegular, Mode: 0o600, Size: 2 * gib, Allocated: 2 * gib, Links: 1},
		},
		FS: swap.Filesystem{Type: "ext4", Available: 10 * gib},
	}
}

var paths = swap.Paths{File: "/var/swapfile", Fstab: "/etc/fstab", Sysctl: "/etc/sysctl.d/90-swap-bootstrap.conf"}

func TestObserve(t *testing.T) {
	o, err := swap.Observe(swaptest.NewMachine(t, machine(t)), paths)
	if err != nil {
		t.Fatal(err)
	}
	if !o.SwapSupported || o.PageSize != 4096 || o.KernelRelease != "6.1.0" || o.Swappiness != 60 || o.Mem.MemAvailable != 512<<20 {
		t.Errorf("kernel facts: %+v", o)
	}
	if string(o.Fstab) != "UUID=x / ext4 defaults 0 1\n" || o.FstabMissing || !o.SysctlMissing || o.Sysctl != nil {
		t.Errorf("fstab %q missing=%v, sysctl %q missing=%v", o.Fstab, o.FstabMissing, o.Sysctl, o.SysctlMissing)
	}
	if !o.Dir.Exists || o.Dir.Real != "/var" || o.FS.Type != "ext4" || o.FS.Available != 10*gib {
		t.Errorf("dir %+v fs %+v", o.Dir, o.FS)
	}
	f := o.File
	if f.Kind != swap.KindRegular || f.Header == nil || f.Header.Size() != 2*gib || f.Active == nil || f.Active.Used != 1<<20 || f.HeaderDenied {
		t.Errorf("file %+v", f)
	}
	if o.Temp.Exists() {
		t.Errorf("temp %+v", o.Temp)
	}
	if err := swap.Refuse("/var/swapfile", o, swap.IntentKeep); err != nil {
		t.Errorf("refused: %v", err)
	}
	if len(o.Hibernation) != 0 {
		t.Errorf("hibernation evidence on a plain machine: %q", o.Hibernation)
	}
}

// hibinit-agent's marker and a resume_offset= on the kernel command line are
// each evidence of hibernation; a resume= alone is not.
func TestObserveHibernation(t *testing.T) {
	m := machine(t)
	m.Files["/var/lib/hibinit-agent/hibernation-enabled"] = nil
	m.Files["/proc/cmdline"] = []byte("BOOT_IMAGE=/vmlinuz root=UUID=x resume=UUID=y resume_offset=34816\n")
	o, err := swap.Observe(swaptest.NewMachine(t, m), paths)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Hibernation, ";") != "/var/lib/hibinit-agent/hibernation-enabled exists;the kernel command line has resume_offset=" {
		t.Errorf("evidence %q", o.Hibernation)
	}
	m = machine(t)
	m.Files["/proc/cmdline"] = []byte("root=UUID=x resume=UUID=y\n")
	if o, err = swap.Observe(swaptest.NewMachine(t, m), paths); err != nil || len(o.Hibernation) != 0 {
		t.Errorf("resume= alone: %q %v", o.Hibernation, err)
	}
}

func TestObserveCases(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(m *swaptest.Machine)
		check func(t *testing.T, o swap.Observation)
	}{
		{"kernel without swap: /proc/swaps missing", func(m *swaptest.Machine) { delete(m.Files, swap.ProcSwaps) },
			func(t *testing.T, o swap.Observation) {
				if o.SwapSupported || o.File.Active != nil {
					t.Errorf("%+v", o)
				}
			}},
		{"no swapfile, no fstab, a stale temp file", func(m *swaptest.Machine) {
			delete(m.Files, "/var/swapfile")
			delete(m.Files, "/etc/fstab")
			delete(m.Infos, "/var/swapfile")
			m.Infos["/var/.swapfile.swap-bootstrap-tmp"] = swap.FileInfo{Kind: swap.KindRegular, Allocated: 300 << 20}
		}, func(t *testing.T, o swap.Observation) {
			if o.File.Exists() || !o.FstabMissing || o.Temp.Allocated != 300<<20 {
				t.Errorf("%+v", o)
			}
			if cur, stale := o.Reusable(); cur != 0 || stale != 300<<20 {
				t.Errorf("reusable %d %d", cur, stale)
			}
		}},
		{"missing directory: nothing below it is read", func(m *swaptest.Machine) { m.MissingDirs = []string{"/var"} },
			func(t *testing.T, o swap.Observation) {
				if o.Dir.Exists || o.File.Exists() || o.FS.Type != "" {
					t.Errorf("%+v", o)
				}
			}},
		{"directory through a symlink: nothing below it is read", func(m *swaptest.Machine) { m.Symlinks = map[string]string{"/var": "/data/var"} },
			func(t *testing.T, o swap.Observation) {
				if o.Dir.Real != "/data/var" || o.File.Exists() {
					t.Errorf("%+v", o)
				}
			}},
		{"not root, active file: the kernel vouches for it", func(m *swaptest.Machine) { m.Denied = []string{"/var/swapfile"} },
			func(t *testing.T, o swap.Observation) {
				if o.File.Header == nil || o.File.Header.PageSize != 4096 || o.File.Header.Size() != 2*gib || o.File.HeaderDenied {
					t.Errorf("%+v", o.File)
				}
			}},
		{"zswap on (written 1), no pool statistics", func(m *swaptest.Machine) {
			m.Files[swap.ZswapDir+"/enabled"] = []byte("1\n")
			m.Files[swap.ZswapDir+"/compressor"] = []byte("lzo\n")
		}, func(t *testing.T, o swap.Observation) {
			z := o.Zswap
			if !z.Supported || !z.Enabled || z.Compressor != "lzo" || z.PoolBytes != -1 || z.StoredPages != -1 {
				t.Errorf("zswap %+v", z)
			}
		}},
		{"no zswap: its statistics are unknown, not 0", func(m *swaptest.Machine) {}, func(t *testing.T, o swap.Observation) {
			if z := o.Zswap; z.Supported || z.PoolBytes != -1 || z.StoredPages != -1 {
				t.Errorf("zswap %+v", z)
			}
		}},
		{"its filesystem is in fstab and not mounted", func(m *swaptest.Machine) {
			m.Files["/etc/fstab"] = []byte("UUID=x / ext4 defaults 0 1\nLABEL=data /var ext4 defaults,nofail 0 2\n")
			m.Files["/proc/self/mountinfo"] = []byte("22 1 259:1 / / rw - ext4 /dev/root rw\n")
		}, func(t *testing.T, o swap.Observation) {
			if o.Dir.Unmounted != "/var" {
				t.Errorf("unmounted %q", o.Dir.Unmounted)
			}
		}},
		{"its filesystem is in fstab and mounted", func(m *swaptest.Machine) {
			m.Files["/etc/fstab"] = []byte("UUID=x / ext4 defaults 0 1\nLABEL=data /var ext4 defaults,nofail 0 2\n")
			m.Files["/proc/self/mountinfo"] = []byte("22 1 259:1 / / rw - ext4 /dev/root rw\n30 22 259:2 / /var rw - ext4 /dev/vdb rw\n")
		}, func(t *testing.T, o swap.Observation) {
			if o.Dir.Unmounted != "" {
				t.Errorf("unmounted %q", o.Dir.Unmounted)
			}
		}},
		{"not root, inactive file: unknown", func(m *swaptest.Machine) {
			m.Denied = []string{"/var/swapfile"}
			m.Files[swap.ProcSwaps] = swaptest.ProcSwaps()
		}, func(t *testing.T, o swap.Observation) {
			if o.File.Header != nil || !o.File.HeaderDenied {
				t.Errorf("%+v", o.File)
			}
		}},
		{"a file that is not a swap area", func(m *swaptest.Machine) { m.Files["/var/swapfile"] = []byte("hello") },
			func(t *testing.T, o swap.Observation) {
				if o.File.Header != nil || !o.File.Exists() {
					t.Errorf("%+v", o.File)
				}
			}},
		{"a symlink at the path: not read through", func(m *swaptest.Machine) {
			m.Infos["/var/swapfile"] = swap.FileInfo{Kind: swap.KindSymlink}
		}, func(t *testing.T, o swap.Observation) {
			if o.File.Kind != swap.KindSymlink || o.File.Header != nil || o.File.Active != nil {
				t.Errorf("%+v", o.File)
			}
		}},
		{"zswap, with debugfs stats", func(m *swaptest.Machine) {
			m.Files["/sys/module/zswap/parameters/enabled"] = []byte("Y\n")
			m.Files["/sys/module/zswap/parameters/compressor"] = []byte("lzo-rle\n")
			m.Files["/sys/module/zswap/parameters/max_pool_percent"] = []byte("20\n")
			m.Files["/sys/kernel/debug/zswap/pool_total_size"] = []byte("12288\n")
		}, func(t *testing.T, o swap.Observation) {
			z := o.Zswap
			if !z.Supported || !z.Enabled || z.Compressor != "lzo-rle" || z.MaxPoolPercent != 20 || z.PoolBytes != 12288 || z.StoredPages != -1 {
				t.Errorf("%+v", z)
			}
		}},
		{"a kernel without zswap", func(m *swaptest.Machine) {}, func(t *testing.T, o swap.Observation) {
			if o.Zswap.Supported {
				t.Errorf("%+v", o.Zswap)
			}
		}},
		{"vm.swappiness unreadable", func(m *swaptest.Machine) { delete(m.Files, swap.ProcSwappiness) },
			func(t *testing.T, o swap.Observation) {
				if o.Swappiness != -1 {
					t.Errorf("swappiness %d", o.Swappiness)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := machine(t)
			c.edit(&m)
			o, err := swap.Observe(swaptest.NewMachine(t, m), paths)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, o)
		})
	}
}

func TestObserveErrors(t *testing.T) {
	boom := errors.New("EIO")
	cases := []struct {
		name string
		edit func(f *swaptest.Fake)
		want string
	}{
		{"meminfo unreadable", func(f *swaptest.Fake) {
			read := f.OnReadFile
			f.OnReadFile = func(p string) ([]byte, error) {
				if p == swap.ProcMeminfo {
					return nil, boom
				}
				return read(p)
			}
		}, "read /proc/meminfo: EIO"},
		{"fstab unreadable", func(f *swaptest.Fake) {
			read := f.OnReadFile
			f.OnReadFile = func(p string) ([]byte, error) {
				if p == "/etc/fstab" {
					return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
				}
				return read(p)
			}
		}, `read SWAP_FSTAB="/etc/fstab"`},
		{"header read fails", func(f *swaptest.Fake) { f.OnReadHeader = func(string) ([]byte, error) { return nil, boom } },
			`SWAP_FILE="/var/swapfile": read header: EIO`},
		{"statfs fails", func(f *swaptest.Fake) {
			f.OnStatfs = func(string) (swap.Filesystem, error) { return swap.Filesystem{}, boom }
		},
			`statfs "/var": EIO`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := swaptest.NewMachine(t, machine(t))
			c.edit(f)
			if _, err := swap.Observe(f, paths); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}
