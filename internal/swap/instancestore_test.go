package swap_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// storeTree is a machine with one NVMe instance-store disk, as a fixture tree:
// the udev by-id link, the disk (a 16 MiB file standing in for
// /dev/nvme1n1), its sysfs directory and mountinfo. edit changes it.
func storeTree(t *testing.T, edit func(root string)) *swaptest.Fake {
	t.Helper()
	root := t.TempDir()
	mk := func(p, text string) {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "dev/disk/by-id"), 0o755)
	f, _ := os.Create(filepath.Join(root, "dev/nvme1n1"))
	f.Truncate(16 << 20)
	f.Close()
	os.Symlink("../../nvme1n1", filepath.Join(root, "dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_AWS1A2B3C4D"))
	os.Symlink("../../nvme0n1", filepath.Join(root, "dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123"))
	mk("sys/class/block/nvme1n1/size", "32768\n")
	mk("sys/class/block/nvme1n1/dev", "259:1\n")
	os.MkdirAll(filepath.Join(root, "sys/class/block/nvme1n1/holders"), 0o755)
	mk("proc/self/mountinfo", "22 1 259:0 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw\n")
	if edit != nil {
		edit(root)
	}
	fake := swaptest.NewMachine(t, machine(t))
	inTree := func(p string) bool {
		return strings.HasPrefix(p, "/dev/") || strings.HasPrefix(p, "/sys/class/block/") || p == "/proc/self/mountinfo"
	}
	readFile, readDir, resolve := fake.OnReadFile, fake.OnReadDir, fake.OnResolve
	fake.OnReadFile = func(p string) ([]byte, error) {
		if inTree(p) {
			return os.ReadFile(filepath.Join(root, p))
		}
		return readFile(p)
	}
	fake.OnReadDir = func(d string) ([]os.DirEntry, error) {
		if inTree(d) {
			return os.ReadDir(filepath.Join(root, d))
		}
		return readDir(d)
	}
	fake.OnResolve = func(p string) (string, error) {
		if !inTree(p) {
			return resolve(p)
		}
		r, err := filepath.EvalSymlinks(filepath.Join(root, p))
		return strings.TrimPrefix(r, root), err
	}
	fake.OnReadAt = func(p string, off int64, n int) ([]byte, error) {
		f, err := os.Open(filepath.Join(root, p))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b := make([]byte, n)
		m, _ := f.ReadAt(b, off)
		return b[:m], nil
	}
	return fake
}

func writeAt(t *testing.T, path string, off int64, b []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteAt(b, off)
}

// TestInstanceStore (issue 13): only a free NVMe instance-store disk gets
// swap, ahead of the swapfile; one with anything on it is never touched.
func TestInstanceStore(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(root string)
		actions string // swap-device actions
		note    string
	}{
		{"a free disk: formatted and enabled at priority 10", nil, "swap-device format /dev/nvme1n1 16 MiB prio 10", ""},
		{"ours after a reboot: enabled, not formatted", func(root string) {
			h, _ := swap.NewHeader(16<<20, 4096)
			writeAt(t, filepath.Join(root, "dev/nvme1n1"), 0, h.Marshal())
		}, "swap-device /dev/nvme1n1 16 MiB prio 10", ""},
		{"an ext4 signature", func(root string) { writeAt(t, filepath.Join(root, "dev/nvme1n1"), 1080, []byte{0x53, 0xef}) },
			"", "left alone: it has data at its start"},
		{"another tool's swap", func(root string) {
			h, _ := swap.NewHeader(16<<20, 4096)
			h.Label = "other"
			writeAt(t, filepath.Join(root, "dev/nvme1n1"), 0, h.Marshal())
		}, "", "left alone: it has data at its start"},
		{"an md superblock at the end", func(root string) {
			writeAt(t, filepath.Join(root, "dev/nvme1n1"), 16<<20-8192, []byte{0xfc, 0x4e, 0x2b, 0xa9})
		}, "", "it has data at its end"},
		{"partitioned", func(root string) { os.MkdirAll(filepath.Join(root, "sys/class/block/nvme1n1/nvme1n1p1"), 0o755) }, "", "it has partitions (nvme1n1p1)"},
		{"held by md", func(root string) {
			os.WriteFile(filepath.Join(root, "sys/class/block/nvme1n1/holders/md0"), nil, 0o644)
		}, "", "held by md0"},
		{"mounted", func(root string) {
			os.WriteFile(filepath.Join(root, "proc/self/mountinfo"), []byte("30 1 259:1 / /mnt/scratch rw - xfs /dev/nvme1n1 rw\n"), 0o644)
		}, "", "mounted at /mnt/scratch"},
		{"no instance store", func(root string) { os.RemoveAll(filepath.Join(root, "dev/disk/by-id")) }, "", "no NVMe instance-store disk"},
		{"a truncated mountinfo line is not a mount", func(root string) {
			os.WriteFile(filepath.Join(root, "proc/self/mountinfo"), []byte("30 1 259:1 /\n"), 0o644)
		}, "swap-device format /dev/nvme1n1 16 MiB prio 10", ""},
		{"a size of 0 sectors (no medium)", func(root string) {
			os.WriteFile(filepath.Join(root, "sys/class/block/nvme1n1/size"), []byte("0\n"), 0o644)
		}, "", "its size is unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := storeTree(t, c.edit)
			o, err := swap.Observe(fake, swap.Paths{File: "/var/swapfile", Fstab: "/etc/fstab", InstanceStore: true})
			if err != nil {
				t.Fatal(err)
			}
			if !o.File.Exists() {
				t.Errorf("the swapfile was not observed: %+v", o.File)
			}
			s := swap.Settings{File: "/var/swapfile", Priority: -1, Swappiness: -1, InstanceStore: true}
			p, err := swap.PlanApply(s, o, swap.Target{Size: 2 << 30})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range p.Actions {
				if a.Kind == swap.ActionDevice {
					f := ""
					if a.Format {
						f = "format "
					}
					got = append(got, string(a.Kind)+" "+f+a.Path+" "+sizing.FormatSize(a.Size)+" prio "+strconv.Itoa(a.Value))
				}
			}
			if strings.Join(got, ";") != c.actions {
				t.Errorf("actions %q, want %q", got, c.actions)
			}
			if c.note != "" && !strings.Contains(strings.Join(p.Notes, "\n"), c.note) {
				t.Errorf("notes %q, want %q", p.Notes, c.note)
			}
		})
	}
}
