package swap_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// TestWriteFileKeepsSymlinks (issue 10, item 5): fstab or the sysctl file
// reached through a symlink (Debian's /etc/sysctl.d/99-sysctl.conf ->
// ../sysctl.conf) is edited at its target, atomically, and the link stays a
// link; a link whose target does not exist yet gets its target created.
func TestWriteFileKeepsSymlinks(t *testing.T) {
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	d := filepath.Join(etc, "sysctl.d")
	os.MkdirAll(d, 0o755)
	target := filepath.Join(etc, "sysctl.conf")
	os.WriteFile(target, []byte("net.ipv4.ip_forward=1\n"), 0o640)
	link := filepath.Join(d, "99-sysctl.conf")
	if err := os.Symlink("../sysctl.conf", link); err != nil {
		t.Fatal(err)
	}
	k := &swap.Kernel{}
	if err := k.WriteFile(link, []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if dest, err := os.Readlink(link); err != nil || dest != "../sysctl.conf" {
		t.Errorf("the link became %q (%v)", dest, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new\n" {
		t.Errorf("target holds %q", b)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Errorf("target mode %v, want 0640 kept", fi.Mode())
	}
	if entries, _ := os.ReadDir(etc); len(entries) != 2 {
		t.Errorf("left behind in %s: %v", etc, entries)
	}

	dangling := filepath.Join(d, "98-swap.conf")
	os.Symlink(filepath.Join(etc, "swap.conf"), dangling)
	if err := k.WriteFile(dangling, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("dangling link replaced: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(filepath.Join(etc, "swap.conf")); string(b) != "x\n" {
		t.Errorf("dangling link's target holds %q", b)
	}
}
