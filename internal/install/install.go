// Package install puts swap-bootstrap on a machine so that it runs at every
// boot, and takes it off again.
//
// Install copies the binary to BinaryPath, writes the systemd unit (UnitPath)
// and the environment file holding the SWAP_* settings (EnvFilePath), and
// enables the unit by creating its multi-user.target.wants symlink itself, as
// `systemctl enable` would. Nothing here needs a running systemd, so the same
// code installs into a Packer build, a chroot or a test's temporary directory
// (Options.Root).
//
// The swap-bootstrap .deb and .rpm install the same unit (UnitFor) as
// PackageUnitPath, running PackageBinaryPath. Both use the unit name
// swap-bootstrap.service, and a unit in /etc/systemd/system overrides one of
// the same name in /usr/lib/systemd/system (systemd.unit(5), "Unit File Load
// Path"), so whichever is present, one unit runs. On a host where the package
// is installed, Install and Uninstall leave the package's files to the
// package manager: Install writes only the settings and enables the packaged
// unit, and both take away a copy an earlier Install made, so that the
// packaged binary is the one that runs.
//
// Every file is written to a temporary name in its final directory and renamed
// into place, so a reader never sees half a file and a symlink planted at a
// final name is replaced rather than written through. All paths are resolved
// with os.Root, so nothing, not even a symlink inside Root, leads out of Root.
package install

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Where Install puts things, as seen from inside the installed system.
const (
	BinaryPath  = "/usr/local/sbin/swap-bootstrap"
	UnitPath    = "/etc/systemd/system/swap-bootstrap.service"
	EnvFilePath = "/etc/default/swap-bootstrap"
	WantsLink   = "/etc/systemd/system/multi-user.target.wants/swap-bootstrap.service"
)

// Where the swap-bootstrap .deb and .rpm put the binary and the unit. They
// share EnvFilePath (the packages' config file) and WantsLink with Install.
const (
	PackageBinaryPath = "/usr/sbin/swap-bootstrap"
	PackageUnitPath   = "/usr/lib/systemd/system/swap-bootstrap.service"
)

// File modes. The environment file is 0644, as is usual under /etc/default:
// it only ever holds SWAP_* settings and AWS_EC2_METADATA_* endpoint settings,
// none of them secret (envFile drops every other variable), and an operator
// can read it without sudo when asking why the swapfile has the size it has.
const (
	binaryMode  fs.FileMode = 0o755
	unitMode    fs.FileMode = 0o644
	envFileMode fs.FileMode = 0o644
	dirMode     fs.FileMode = 0o755
)

// Options says what to install and where.
type Options struct {
	// Root is the directory tree to install into: "" or "/" for the running
	// system, otherwise e.g. a Packer chroot or a test's temporary directory.
	// With Root set, nothing outside it is touched.
	Root string
	// Binary is the path of the swap-bootstrap binary to copy, normally the
	// running one (os.Executable).
	Binary string
	// Env is the environment to take settings from (os.Environ): every SWAP_*
	// and AWS_EC2_METADATA_* variable is written to the environment file.
	Env []string
	// Logger receives one line per step; nil discards them.
	Logger *slog.Logger
}

// Install copies the binary, writes the unit and the environment file and
// enables the unit. It is idempotent: a run that finds everything in place
// changes nothing and reports changed=false.
func Install(o Options) (changed bool, err error) {
	log := logger(o)
	if o.Binary == "" {
		return false, errors.New("install: no binary to copy; pass the path of the swap-bootstrap binary")
	}
	env, err := envFile(o.Env)
	if err != nil {
		return false, err
	}
	r, err := openRoot(o.Root)
	if err != nil {
		return false, err
	}
	defer r.Close()
	if r.packaged() {
		return r.installForPackage(env, log)
	}

	// The binary and its settings go first and the enabling symlink last, so
	// an install that stops halfway never leaves an enabled unit without its
	// binary.
	steps := []func() (bool, error){
		func() (bool, error) { return r.installBinary(o.Binary, log) },
		func() (bool, error) { return r.writeFile(EnvFilePath, []byte(env), envFileMode, log) },
		func() (bool, error) { return r.writeFile(UnitPath, []byte(Unit()), unitMode, log) },
		func() (bool, error) { return r.symlink(WantsLink, UnitPath, log) },
	}
	if changed, err = runSteps(steps); err != nil {
		return changed, err
	}
	if changed {
		reloadSystemd(o.Root, log)
		log.Info("swap-bootstrap installed; systemd runs it at every boot before Docker", "root", r.dir, "unit", UnitPath)
	} else {
		log.Info("swap-bootstrap already installed; nothing changed", "root", r.dir, "unit", UnitPath)
	}
	return changed, nil
}

// Uninstall removes what Install put in place: the enabling symlink, the
// unit, the environment file and the binary, plus any temporary file an
// interrupted Install left beside them. Files already gone are not an error.
// It does not stop the unit or turn swap off; `swap-bootstrap remove` does.
func Uninstall(o Options) (changed bool, err error) {
	log := logger(o)
	r, err := openRoot(o.Root)
	if err != nil {
		return false, err
	}
	defer r.Close()
	if r.packaged() {
		return r.uninstallForPackage(log)
	}

	for _, p := range []string{WantsLink, UnitPath, EnvFilePath, BinaryPath} {
		c, err := r.remove(p, log)
		if err != nil {
			return changed, withHint(err)
		}
		changed = changed || c
	}
	if changed {
		reloadSystemd(o.Root, log)
		log.Info("swap-bootstrap uninstalled; it will not run at the next boot", "root", r.dir)
	} else {
		log.Info("swap-bootstrap was not installed; nothing to remove", "root", r.dir)
	}
	return changed, nil
}

// reloadSystemd tells a running systemd that the unit changed. Only for the
// running system: in another root (a chroot, a Packer build, a test) there is
// no systemd to tell, and the next boot reads the unit anyway.
func reloadSystemd(root string, log *slog.Logger) {
	if root != "" && root != "/" {
		return
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return
	}
	if out, err := exec.Command("systemctl", "daemon-reload").CombinedOutput(); err != nil {
		log.Warn("systemctl daemon-reload failed; the unit is enabled and runs at the next boot",
			"error", err.Error(), "output", strings.TrimSpace(string(out)))
	}
}

// runSteps runs install steps in order until one fails, and reports whether
// any changed something.
func runSteps(steps []func() (bool, error)) (changed bool, err error) {
	for _, step := range steps {
		c, err := step()
		if err != nil {
			return changed, withHint(err)
		}
		changed = changed || c
	}
	return changed, nil
}

// withHint says what to do about the one failure an operator is likely to
// hit: running without root.
func withHint(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w; run it as root (sudo)", err)
	}
	return err
}

func logger(o Options) *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// tree is the directory tree being installed into. Its methods take absolute
// paths as seen from inside the tree (BinaryPath, ...).
type tree struct {
	dir  string // the tree's real location, for messages
	root *os.Root
}

func openRoot(dir string) (*tree, error) {
	if dir == "" {
		dir = "/"
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("install root %q: %w; pass an existing directory as --root", dir, err)
	}
	return &tree{dir: dir, root: r}, nil
}

func (t *tree) Close() error { return t.root.Close() }

// rel turns an absolute in-tree path into the relative name os.Root takes.
func rel(p string) string { return strings.TrimPrefix(path.Clean(p), "/") }

// real is the path an operator would look at, for messages.
func (t *tree) real(p string) string { return filepath.Join(t.dir, p) }

// installBinary copies src to BinaryPath unless it is already there.
func (t *tree) installBinary(src string, log *slog.Logger) (bool, error) {
	srcInfo, err := os.Stat(src)
	if err != nil {
		return false, fmt.Errorf("binary to install: %w", err)
	}
	if !srcInfo.Mode().IsRegular() {
		return false, fmt.Errorf("binary to install %q is not a regular file", src)
	}
	// The running binary may already be the installed one (the unit, or
	// `swap-bootstrap install` run again from BinaryPath): nothing to copy.
	if dst, err := t.root.Lstat(rel(BinaryPath)); err == nil && os.SameFile(srcInfo, dst) && dst.Mode().Perm() == binaryMode {
		log.Info("binary already installed", "path", t.real(BinaryPath))
		return false, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return false, fmt.Errorf("binary to install: %w", err)
	}
	return t.writeFile(BinaryPath, data, binaryMode, log)
}

// writeFile makes p a regular file holding data with mode perm. If it already
// is one, it changes nothing. Otherwise it writes a temporary file in the same
// directory, syncs it and renames it over p, so that p is never half-written
// and a symlink at p is replaced, not followed.
func (t *tree) writeFile(p string, data []byte, perm fs.FileMode, log *slog.Logger) (bool, error) {
	name := rel(p)
	if fi, err := t.root.Lstat(name); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() == perm {
		if cur, err := t.root.ReadFile(name); err == nil && bytes.Equal(cur, data) {
			log.Info("already up to date", "path", t.real(p))
			return false, nil
		}
	}
	dir := path.Dir(name)
	if err := t.mkdirAll(dir); err != nil {
		return false, err
	}
	f, tmp, err := t.createTemp(name)
	if err != nil {
		return false, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			t.root.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return false, fmt.Errorf("write %s: %w", t.real(p), err)
	}
	// Chmod on the open file: the mode must not depend on the umask.
	if err := f.Chmod(perm); err != nil {
		return false, fmt.Errorf("chmod %s: %w", t.real(p), err)
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("sync %s: %w", t.real(p), err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", t.real(p), err)
	}
	if err := t.root.Rename(tmp, name); err != nil {
		return false, fmt.Errorf("replace %s: %w", t.real(p), err)
	}
	ok = true
	t.syncDir(dir)
	log.Info("wrote file", "path", t.real(p), "mode", fmt.Sprintf("%04o", perm), "size_bytes", len(data))
	return true, nil
}

// symlink makes p a symlink to target, replacing whatever else is at p.
func (t *tree) symlink(p, target string, log *slog.Logger) (bool, error) {
	name := rel(p)
	if fi, err := t.root.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if cur, err := t.root.Readlink(name); err == nil && cur == target {
			log.Info("unit already enabled", "path", t.real(p), "target", target)
			return false, nil
		}
	}
	dir := path.Dir(name)
	if err := t.mkdirAll(dir); err != nil {
		return false, err
	}
	var tmp string
	var err error
	for range 10 {
		tmp = tempName(name)
		if err = t.root.Symlink(target, tmp); !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return false, fmt.Errorf("enable unit: create symlink in %s: %w", t.real("/"+dir), err)
	}
	if err := t.root.Rename(tmp, name); err != nil {
		t.root.Remove(tmp)
		return false, fmt.Errorf("enable unit: replace %s: %w", t.real(p), err)
	}
	t.syncDir(dir)
	log.Info("enabled unit", "path", t.real(p), "target", target)
	return true, nil
}

// remove deletes p (a file or symlink, never followed) and any temporary file
// an interrupted writeFile or symlink left beside it.
func (t *tree) remove(p string, log *slog.Logger) (bool, error) {
	name := rel(p)
	changed := false
	fi, err := t.root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Info("already absent", "path", t.real(p))
	case err != nil:
		return false, fmt.Errorf("uninstall: %w", err)
	case fi.IsDir():
		return false, fmt.Errorf("uninstall: %s is a directory, not something swap-bootstrap installed; remove it by hand", t.real(p))
	default:
		if err := t.root.Remove(name); err != nil {
			return false, fmt.Errorf("uninstall: %w", err)
		}
		log.Info("removed", "path", t.real(p))
		changed = true
	}

	dir, base := path.Split(name)
	if dir == "" {
		dir = "."
	}
	d, err := t.root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return changed, nil
	} else if err != nil {
		return changed, fmt.Errorf("uninstall: %w", err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return changed, fmt.Errorf("uninstall: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix(base)) && !e.IsDir() {
			leftover := path.Join(dir, e.Name())
			if err := t.root.Remove(leftover); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return changed, fmt.Errorf("uninstall: %w", err)
			}
			log.Info("removed leftover temporary file", "path", t.real("/"+leftover))
			changed = true
		}
	}
	return changed, nil
}

// mkdirAll creates dir and its missing parents with mode 0755 whatever the
// umask, leaving existing directories as they are.
func (t *tree) mkdirAll(dir string) error {
	if dir == "." || dir == "" {
		return nil
	}
	if fi, err := t.root.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	if err := t.mkdirAll(path.Dir(dir)); err != nil {
		return err
	}
	if err := t.root.Mkdir(dir, dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create directory %s: %w", t.real("/"+dir), err)
	} else if err == nil {
		if err := t.root.Chmod(dir, dirMode); err != nil {
			return fmt.Errorf("chmod %s: %w", t.real("/"+dir), err)
		}
	}
	return nil
}

// tempPrefix starts the names of the temporary files for base: hidden, and
// with no .service suffix, so systemd never takes one for a unit.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

func tempName(name string) string {
	dir, base := path.Split(name)
	return dir + tempPrefix(base) + strconv.FormatUint(rand.Uint64(), 36)
}

func (t *tree) createTemp(name string) (*os.File, string, error) {
	for range 10 {
		tmp := tempName(name)
		f, err := t.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("create temporary file beside %s: %w", t.real("/"+name), err)
		}
		return f, tmp, nil
	}
	return nil, "", fmt.Errorf("create temporary file beside %s: too many name collisions", t.real("/"+name))
}

// syncDir makes a rename in dir durable. A failure only costs durability
// across a crash, so it is not reported.
func (t *tree) syncDir(dir string) {
	if d, err := t.root.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
