package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/imds/imdstest"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// The tests of this file prove the "fleet-safe" guarantees (issue 10): no
// input deletes, clobbers or flaps.

// activeFile makes a 64 MiB swapfile with apply and returns its
// environment, inode and fstab bytes, to check nothing changed later.
func activeFile(t *testing.T, dir string) ([]string, uint64, []byte) {
	t.Helper()
	e := env(t, filepath.Join(dir, "swapfile"), "SWAP_SIZE=64M")
	mustRun(t, e)
	ino, _ := inode(t, get(e, "SWAP_FILE"))
	fstab, _ := os.ReadFile(get(e, "SWAP_FSTAB"))
	return e, ino, fstab
}

func assertUntouched(t *testing.T, e []string, ino uint64, fstab []byte) {
	t.Helper()
	assertOneActiveFile(t, e, 64*mib)
	if i, _ := inode(t, get(e, "SWAP_FILE")); i != ino {
		t.Error("the swapfile was replaced")
	}
	if b, _ := os.ReadFile(get(e, "SWAP_FSTAB")); !bytes.Equal(b, fstab) {
		t.Errorf("fstab changed:\n%s", b)
	}
}

// TestTinySizesNeverRemove (item 1): a size, cap or ratio below the smallest
// swap area exits 2 naming the variable and leaves the active swapfile and
// its fstab line alone; as an instance tag it is ignored with an error line.
func TestTinySizesNeverRemove(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 2*gib, "")
	e, ino, fstab := activeFile(t, dir)
	for _, kv := range []string{"SWAP_SIZE=1K", "SWAP_SIZE=0.001", "SWAP_SIZE=100B", "SWAP_SIZE=20K", "SWAP_MAX=1K", "SWAP_RATIO=0.0000000001"} {
		t.Run(kv, func(t *testing.T) {
			run := override(e, kv)
			if !strings.HasPrefix(kv, "SWAP_SIZE=") {
				run = without(run, "SWAP_SIZE") // the ratio policy, so SWAP_MAX/SWAP_RATIO apply
			}
			r := runBin(t, run, "apply")
			name, _, _ := strings.Cut(kv, "=")
			if r.code != 2 || !strings.Contains(r.stderr, name+"=") || !strings.Contains(r.stderr, "nothing was changed") {
				t.Errorf("exit %d\n%s", r.code, r.stderr)
			}
			assertUntouched(t, e, ino, fstab)
		})
	}
	for _, tag := range []string{"swap-bootstrap:size=1K", "swap-bootstrap:max=0.001"} {
		t.Run(tag, func(t *testing.T) {
			k, v, _ := strings.Cut(tag, "=")
			endpoint := imdstest.StartEmulator(t, imdstest.EmulatorConfig{InstanceType: "t3.micro", Tags: map[string]string{k: v}})
			run := override(e, "SWAP_IMDS=auto", "AWS_EC2_METADATA_DISABLED=false", "AWS_EC2_METADATA_SERVICE_ENDPOINT="+endpoint, "SWAP_TAGS=true")
			r := runBin(t, run, "apply")
			if r.code != 0 || !strings.Contains(r.stderr, "level=ERROR") || !strings.Contains(r.stderr, k+`=\"`+v+`\" ignored`) {
				t.Errorf("exit %d\n%s", r.code, r.stderr)
			}
			assertUntouched(t, e, ino, fstab)
		})
	}
}

// without drops NAME from e.
func without(e []string, name string) []string {
	var out []string
	for _, p := range e {
		if !strings.HasPrefix(p, name+"=") {
			out = append(out, p)
		}
	}
	return out
}

// TestRootScopesEverything (item 2): with --root, uninstall touches nothing
// of the running machine, and install --now is a usage error.
func TestRootScopesEverything(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 2*gib, "")
	e, ino, fstab := activeFile(t, dir)
	root := t.TempDir()
	r := runBin(t, e, "install", "--root", root)
	if r.code != 0 {
		t.Fatalf("install --root: exit %d\n%s", r.code, r.stderr)
	}
	r = runBin(t, e, "uninstall", "--root", root)
	if r.code != 0 || !strings.Contains(r.stderr, "not touched") {
		t.Errorf("uninstall --root: exit %d\n%s", r.code, r.stderr)
	}
	assertUntouched(t, e, ino, fstab)
	if entries, _ := os.ReadDir(filepath.Join(root, "usr/local/sbin")); len(entries) != 0 {
		t.Errorf("uninstall --root left %v", entries)
	}

	r = runBin(t, override(e, "SWAP_SIZE=128M"), "install", "--root", root, "--now")
	if r.code != 2 || !strings.Contains(r.stderr, "--now") || !strings.Contains(r.stderr, "--root") {
		t.Errorf("install --root --now: exit %d\n%s", r.code, r.stderr)
	}
	assertUntouched(t, e, ino, fstab)
	if _, err := os.Stat(filepath.Join(root, "usr/local/sbin/swap-bootstrap")); !os.IsNotExist(err) {
		t.Errorf("install --root --now installed anyway: %v", err)
	}
}

// TestSharedAndLinkedFiles (items 4 and 5): SWAP_SYSCTL_FILE pointed at a
// file with other settings keeps them, and fstab and the sysctl file reached
// through symlinks are edited at their targets, the links kept.
func TestSharedAndLinkedFiles(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 2*gib, "")
	etc := t.TempDir()
	os.MkdirAll(filepath.Join(etc, "sysctl.d"), 0o755)
	conf := filepath.Join(etc, "sysctl.conf")
	const others = "# /etc/sysctl.conf\nnet.ipv4.ip_forward = 1\nkernel.panic=10\n"
	os.WriteFile(conf, []byte(others), 0o644)
	os.Symlink("../sysctl.conf", filepath.Join(etc, "sysctl.d", "99-sysctl.conf"))
	realFstab := filepath.Join(etc, "fstab.real")
	os.WriteFile(realFstab, []byte("UUID=x / ext4 defaults 0 1\n"), 0o644)
	os.Symlink(realFstab, filepath.Join(etc, "fstab"))

	was, _ := os.ReadFile("/proc/sys/vm/swappiness")
	t.Cleanup(func() { os.WriteFile("/proc/sys/vm/swappiness", was, 0o644) })
	e := override(env(t, filepath.Join(dir, "swapfile"), "SWAP_SIZE=64M", "SWAP_SWAPPINESS=7"),
		"SWAP_SYSCTL_FILE="+filepath.Join(etc, "sysctl.d", "99-sysctl.conf"), "SWAP_FSTAB="+filepath.Join(etc, "fstab"))
	mustRun(t, e)
	mustRun(t, e) // and a second run changes nothing more
	b, _ := os.ReadFile(conf)
	if !strings.HasPrefix(string(b), others) || !strings.HasSuffix(string(b), "vm.swappiness = 7\n") || strings.Count(string(b), "\nvm.swappiness = ") != 1 {
		t.Errorf("sysctl.conf:\n%s", b)
	}
	for _, link := range []string{filepath.Join(etc, "sysctl.d", "99-sysctl.conf"), filepath.Join(etc, "fstab")} {
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink: %v", link, err)
		}
	}
	if b, _ := os.ReadFile(realFstab); !strings.HasPrefix(string(b), "UUID=x / ext4 defaults 0 1\n") || !strings.Contains(string(b), filepath.Join(dir, "swapfile")+" none swap sw,nofail 0 0\n") {
		t.Errorf("fstab target:\n%s", b)
	}
	if v, _ := os.ReadFile("/proc/sys/vm/swappiness"); strings.TrimSpace(string(v)) != "7" {
		t.Errorf("vm.swappiness is %s", v)
	}
}

// TestPriorityReachesAnActiveFile (item 7): SWAP_PRIORITY set on a machine
// whose swapfile is already on shows in /proc/swaps; a rerun is a no-op.
func TestPriorityReachesAnActiveFile(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 2*gib, "")
	e, ino, _ := activeFile(t, dir)
	e = override(e, "SWAP_PRIORITY=10", "SWAP_PERSIST=none")
	if r := runBin(t, e, "plan"); !strings.Contains(r.stdout, "priority") || strings.Contains(r.stdout, "actions:        none") {
		t.Errorf("plan says nothing to do:\n%s", r.stdout)
	}
	mustRun(t, e)
	if a, ok := activeArea(t, get(e, "SWAP_FILE")); !ok || a.Priority != 10 {
		t.Errorf("/proc/swaps: %+v active=%v, want priority 10", a, ok)
	}
	if i, _ := inode(t, get(e, "SWAP_FILE")); i != ino {
		t.Error("the swapfile was rebuilt for a priority change")
	}
	if r := mustRun(t, e); strings.Contains(r.stderr, "msg=step") {
		t.Errorf("second run was not a no-op:\n%s", r.stderr)
	}
}

// TestMessagesSayWhatIsWrong (items 13 and 14): a read-only filesystem, a
// directory at the temp name and a hard-linked swapfile are refused up
// front (exit 2), saying what is wrong, leaving nothing behind.
func TestMessagesSayWhatIsWrong(t *testing.T) {
	t.Run("read-only filesystem", func(t *testing.T) {
		dir := swaptest.Mount(t, "ext4", 256*mib, "ro")
		e := env(t, filepath.Join(dir, "swapfile"), "SWAP_SIZE=64M")
		r := runBin(t, e, "apply")
		if r.code != 2 || !strings.Contains(r.stderr, "is on a read-only filesystem") || strings.Contains(r.stderr, "stale") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("a directory at the temp name", func(t *testing.T) {
		dir := swaptest.Mount(t, "ext4", 256*mib, "")
		file := filepath.Join(dir, "swapfile")
		os.Mkdir(filepath.Join(dir, ".swapfile.swap-bootstrap-tmp"), 0o755)
		r := runBin(t, env(t, file, "SWAP_SIZE=64M"), "apply")
		if r.code != 2 || !strings.Contains(r.stderr, ".swapfile.swap-bootstrap-tmp\" is a directory") || strings.Contains(r.stderr, "interrupted run") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("a filesystem in fstab that is not mounted", func(t *testing.T) {
		dir := swaptest.Mount(t, "ext4", 256*mib, "")
		data := filepath.Join(dir, "data") // a nofail mount point whose mount failed
		os.Mkdir(data, 0o755)
		e := env(t, filepath.Join(data, "swapfile"), "SWAP_SIZE=16M")
		os.WriteFile(get(e, "SWAP_FSTAB"), []byte("LABEL=e2e-data "+data+" ext4 defaults,nofail 0 2\n"), 0o644)
		r := runBin(t, e, "apply")
		if r.code != 2 || !strings.Contains(r.stderr, data+" is in fstab but not mounted") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		assertOnlyEntries(t, data)
	})
	t.Run("a hard-linked swapfile", func(t *testing.T) {
		dir := swaptest.Mount(t, "ext4", 2*gib, "")
		e, ino, fstab := activeFile(t, dir)
		if err := os.Link(get(e, "SWAP_FILE"), filepath.Join(dir, "other-name")); err != nil {
			t.Fatal(err)
		}
		r := runBin(t, override(e, "SWAP_SIZE=128M"), "apply")
		if r.code != 2 || !strings.Contains(r.stderr, "has 2 hard links") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		assertUntouched(t, e, ino, fstab)
		assertOnlyEntries(t, dir, "swapfile", "other-name")
	})
}
