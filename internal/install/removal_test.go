package install_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/config/configtest"
	"github.com/soundhub/swap-bootstrap/internal/install"
)

// TestUninstallUsesInstalledSettings (issue 10, item 8): uninstall removes
// the swapfile the installed /etc/default/swap-bootstrap names, not the one
// the caller's shell names, and says when the two differ.
func TestUninstallUsesInstalledSettings(t *testing.T) {
	root := t.TempDir()
	self, _ := os.Executable()
	installed := []string{"SWAP_FILE=/data/swapfile", "SWAP_FSTAB=/etc/fstab.swap", "SWAP_MAX=8G"}
	if _, err := install.Install(install.Options{Root: root, Binary: self, Env: installed, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	configtest.Env(t, "SWAP_FILE=/var/other-swapfile", "SWAP_MAX=8G", "SWAP_SIZE=1G")
	shell, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	c, notes, err := install.RemovalConfig(shell, root, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	if c.File != "/data/swapfile" || c.Fstab != "/etc/fstab.swap" || c.Size != 0 {
		t.Errorf("uninstall would act on %+v", c)
	}
	all := strings.Join(notes, "\n")
	for _, want := range []string{`SWAP_FILE="/var/other-swapfile" in this environment differs from the installed SWAP_FILE="/data/swapfile"`,
		`SWAP_SIZE="1G" in this environment differs from the installed SWAP_SIZE (unset)`} {
		if !strings.Contains(all, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	if strings.Contains(all, "SWAP_MAX") {
		t.Errorf("an equal value is reported: %q", notes)
	}

	// Without an installed file, the environment decides, as before.
	c, notes, err = install.RemovalConfig(shell, filepath.Join(t.TempDir()), os.Environ())
	if err != nil || c.File != "/var/other-swapfile" || len(notes) != 0 {
		t.Errorf("no installed settings: %+v %q %v", c.File, notes, err)
	}
}
