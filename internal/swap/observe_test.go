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
				if o.File.Header == nil || o.File.Header.PageSize != 4096 || o.File.HeaderDenied {
					t.Errorf("%+v", o.File)
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
