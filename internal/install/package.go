package install

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
)

// packaged reports whether the swap-bootstrap .deb or .rpm is installed in
// the tree: its unit and the binary that unit runs are both there.
func (t *tree) packaged() bool {
	for _, p := range []string{PackageUnitPath, PackageBinaryPath} {
		if fi, err := t.root.Stat(rel(p)); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// installForPackage is Install on a host where the package is installed: the
// package manager owns the binary and the unit, so only the settings are
// written and the packaged unit is enabled. A copy an earlier Install made
// would override the packaged unit (same name, in /etc), so it is removed.
func (t *tree) installForPackage(env string, log *slog.Logger) (changed bool, err error) {
	log.Info("the swap-bootstrap package is installed: writing only the settings and enabling the packaged unit; "+
		"the package manager installs and upgrades the binary",
		"root", t.dir, "binary", PackageBinaryPath, "unit", PackageUnitPath)
	steps := []func() (bool, error){
		func() (bool, error) { return t.writeFile(EnvFilePath, []byte(env), envFileMode, log) },
		func() (bool, error) { return t.removeInstallCopy(log) },
		func() (bool, error) { return t.symlink(WantsLink, PackageUnitPath, log) },
	}
	if changed, err = runSteps(steps); err != nil {
		return changed, err
	}
	if changed {
		log.Info("settings saved; systemd runs the packaged swap-bootstrap at every boot before Docker", "root", t.dir, "unit", PackageUnitPath)
	} else {
		log.Info("settings and packaged unit already in place; nothing changed", "root", t.dir, "unit", PackageUnitPath)
	}
	return changed, nil
}

// uninstallForPackage is Uninstall on a host where the package is installed:
// it removes only what an earlier Install put there and leaves the package's
// files, its settings (EnvFilePath is the package's config file) and whether
// its unit is enabled. Taking swap-bootstrap off is the package manager's job.
func (t *tree) uninstallForPackage(log *slog.Logger) (changed bool, err error) {
	changed, err = t.removeInstallCopy(log)
	if err != nil {
		return changed, withHint(err)
	}
	// The enabling link Install made points at UnitPath; systemd goes by the
	// link's name, but point it where `systemctl enable` would, at the unit
	// that is left. An absent link stays absent: the admin disabled the unit.
	if _, err := t.root.Lstat(rel(WantsLink)); err == nil {
		c, err := t.symlink(WantsLink, PackageUnitPath, log)
		if err != nil {
			return changed, withHint(err)
		}
		changed = changed || c
	}
	log.Info("the swap-bootstrap package is installed and stays: its unit, binary and "+EnvFilePath+" were left alone; "+
		"to take swap-bootstrap off, run `swap-bootstrap remove`, then remove the package (apt remove swap-bootstrap, dnf remove swap-bootstrap)",
		"root", t.dir, "unit", PackageUnitPath)
	return changed, nil
}

// removeInstallCopy removes the unit and binary an earlier Install wrote,
// which would otherwise override the packaged unit. A unit at UnitPath that
// does not run BinaryPath is someone's own override of the packaged unit, and
// a binary at BinaryPath without Install's unit may be someone's own copy:
// both are left in place, with a warning.
func (t *tree) removeInstallCopy(log *slog.Logger) (changed bool, err error) {
	text, err := t.root.ReadFile(rel(UnitPath))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := t.root.Lstat(rel(BinaryPath)); err == nil {
			log.Warn("a swap-bootstrap binary that no unit runs comes before the packaged one in PATH; "+
				"delete it if an earlier swap-bootstrap install left it",
				"path", t.real(BinaryPath), "packaged_binary", PackageBinaryPath)
		}
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read %s: %w", t.real(UnitPath), err)
	case !runsBinary(text, BinaryPath):
		log.Warn("a unit that does not run "+BinaryPath+" overrides the packaged unit; leaving it, it decides what runs at boot",
			"unit", t.real(UnitPath), "packaged_unit", PackageUnitPath)
		return false, nil
	}
	log.Info("removing the copy an earlier swap-bootstrap install made; it would override the packaged unit",
		"unit", t.real(UnitPath), "binary", t.real(BinaryPath))
	for _, p := range []string{UnitPath, BinaryPath} {
		c, err := t.remove(p, log)
		if err != nil {
			return changed, err
		}
		changed = changed || c
	}
	return changed, nil
}

// runsBinary reports whether the unit text has an ExecStart= running bin, as
// every unit Install ever wrote has.
func runsBinary(unit []byte, bin string) bool {
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		key, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.TrimSpace(key) != "ExecStart" {
			continue
		}
		// systemd.service(5): the command may carry the prefixes - @ : + !
		cmd := strings.TrimLeft(strings.TrimSpace(value), "-@:+!")
		if f := strings.Fields(cmd); len(f) > 0 && f[0] == bin {
			return true
		}
	}
	return false
}
