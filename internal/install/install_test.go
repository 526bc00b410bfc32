package install

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// needTool returns the path of a command the test needs (systemd has them).
func needTool(t *testing.T, name string) string {
	t.Helper()
	return swaptest.NeedTool(t, name, "systemd")
}

// fakeBinary writes a stand-in for the swap-bootstrap binary outside the
// install root and returns its path.
func fakeBinary(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "swap-bootstrap-linux-amd64")
	if err := os.WriteFile(p, []byte(content), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func mustInstall(t *testing.T, o Options) bool {
	t.Helper()
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	changed, err := Install(o)
	if err != nil {
		t.Fatalf("Install(root %q): %v", o.Root, err)
	}
	return changed
}

func under(root, p string) string { return filepath.Join(root, p) }

func TestInstallIntoRoot(t *testing.T) {
	root := t.TempDir()
	bin := fakeBinary(t, "#!/bin/sh\necho fake swap-bootstrap\n")
	env := []string{
		"HOME=/root",
		"PATH=/usr/bin:/bin",
		"SWAP_POLICY=ratio",
		"SWAP_FILE=/var/swap file",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338",
		"AWS_ACCESS_KEY_ID=AKIAEXAMPLE",
		"SWAP_NOTE=say \"hi\" to $USER, `cost` \\ 100%",
	}
	if !mustInstall(t, Options{Root: root, Binary: bin, Env: env}) {
		t.Error("first Install reported changed=false")
	}

	for _, f := range []struct {
		path string
		mode fs.FileMode
	}{
		{BinaryPath, 0o755},
		{UnitPath, 0o644},
		{EnvFilePath, 0o644},
	} {
		fi, err := os.Lstat(under(root, f.path))
		if err != nil {
			t.Errorf("%s not installed: %v", f.path, err)
			continue
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != f.mode {
			t.Errorf("%s: mode %v, want regular file %04o", f.path, fi.Mode(), f.mode)
		}
	}
	for _, d := range []string{"/usr/local/sbin", "/etc/default", "/etc/systemd/system/multi-user.target.wants"} {
		if fi, err := os.Stat(under(root, d)); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("directory %s: %v, err %v; want 0755", d, fi.Mode(), err)
		}
	}

	got, _ := os.ReadFile(under(root, BinaryPath))
	want, _ := os.ReadFile(bin)
	if !bytes.Equal(got, want) {
		t.Errorf("installed binary differs from %s", bin)
	}
	unit, _ := os.ReadFile(under(root, UnitPath))
	if string(unit) != Unit() {
		t.Errorf("installed unit is not Unit():\n%s", unit)
	}
	target, err := os.Readlink(under(root, WantsLink))
	if err != nil || target != UnitPath {
		t.Errorf("%s -> %q (err %v), want -> %s", WantsLink, target, err, UnitPath)
	}

	envText, _ := os.ReadFile(under(root, EnvFilePath))
	var lines []string
	for _, l := range strings.Split(string(envText), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	wantLines := []string{
		`AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:1338"`,
		`SWAP_FILE="/var/swap file"`,
		"SWAP_NOTE=\"say \\\"hi\\\" to \\$USER, \\`cost\\` \\\\ 100%\"",
		`SWAP_POLICY="ratio"`,
	}
	if !slices.Equal(lines, wantLines) {
		t.Errorf("env file settings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
	if !strings.HasPrefix(string(envText), "# Written by swap-bootstrap install.") || !strings.Contains(string(envText), "every boot") {
		t.Errorf("env file header does not say who wrote it and that it applies at every boot:\n%s", envText)
	}
}

// TestEnvFileReadsBack checks the quoting with an independent reader: a POSIX
// shell double-quoted string has the escapes systemd.exec(5) documents for a
// double-quoted EnvironmentFile value, so bash must read back every value
// byte for byte.
func TestEnvFileReadsBack(t *testing.T) {
	bash := needTool(t, "bash")
	values := map[string]string{
		"SWAP_SPACES":    "a value with  two  spaces ",
		"SWAP_QUOTES":    `double " and single ' quotes`,
		"SWAP_DOLLAR":    "$HOME ${PATH} $(id) `id`",
		"SWAP_BACKSLASH": `C:\new\\path\`,
		"SWAP_NEWLINE":   "two\nlines",
		"SWAP_EMPTY":     "",
		"SWAP_UNICODE":   "größe 2 GiB",
	}
	var env []string
	for k, v := range values {
		env = append(env, k+"="+v)
	}
	text, err := envFile(env)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, want := range values {
		out, err := exec.Command(bash, "-c", `set -a; . "$1"; printf '%s' "${!2}"`, "bash", p, name).Output()
		if err != nil {
			t.Fatalf("bash could not source the env file: %v\n%s", err, text)
		}
		if string(out) != want {
			t.Errorf("%s read back as %q, want %q", name, out, want)
		}
	}
}

func TestEnvFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		want    []string // setting lines, after the header
		wantErr string
	}{
		{"no settings: header only", []string{"HOME=/root", "PATH=/bin"}, nil, ""},
		{"only SWAP_ and AWS_EC2_METADATA_ kept, sorted",
			[]string{"SWAP_SIZE=4G", "AWS_REGION=eu-west-1", "AWS_EC2_METADATA_DISABLED=true", "SWAPPY=1", "SWAP_POLICY=off"},
			[]string{`AWS_EC2_METADATA_DISABLED="true"`, `SWAP_POLICY="off"`, `SWAP_SIZE="4G"`}, ""},
		{"last of a repeated name wins, as in os/exec", []string{"SWAP_MAX=8G", "SWAP_MAX=16G"}, []string{`SWAP_MAX="16G"`}, ""},
		{"empty value kept", []string{"SWAP_SIZE="}, []string{`SWAP_SIZE=""`}, ""},
		{"entry without = ignored", []string{"SWAP_SIZE"}, nil, ""},
		{"value with = kept whole", []string{"SWAP_NOTE=a=b"}, []string{`SWAP_NOTE="a=b"`}, ""},
		{"invalid UTF-8 names the variable", []string{"SWAP_FILE=/var/\xff"}, nil, "SWAP_FILE: value is not UTF-8"},
		{"invalid name", []string{"SWAP_-X=1"}, nil, `"SWAP_-X": not a valid variable name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := envFile(tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, envFileHeader) {
				t.Fatalf("missing header:\n%s", got)
			}
			var lines []string
			if rest := strings.TrimPrefix(got, envFileHeader); rest != "" {
				lines = strings.Split(strings.TrimSuffix(rest, "\n"), "\n")
			}
			if !slices.Equal(lines, tc.want) {
				t.Errorf("got %q, want %q", lines, tc.want)
			}
		})
	}
}

func TestInstallTwiceChangesNothing(t *testing.T) {
	root := t.TempDir()
	bin := fakeBinary(t, "binary v1")
	o := Options{Root: root, Binary: bin, Env: []string{"SWAP_POLICY=off"}}
	mustInstall(t, o)

	// Back-date everything, so that any rewrite shows in the mtime.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	paths := []string{BinaryPath, UnitPath, EnvFilePath}
	inodes := map[string]uint64{}
	for _, p := range paths {
		if err := os.Chtimes(under(root, p), old, old); err != nil {
			t.Fatal(err)
		}
		inodes[p] = inode(t, under(root, p))
	}
	linkInode := inode(t, under(root, WantsLink))

	if mustInstall(t, o) {
		t.Error("second identical Install reported changed=true")
	}
	for _, p := range paths {
		fi, err := os.Stat(under(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(old) || inode(t, under(root, p)) != inodes[p] {
			t.Errorf("%s was rewritten by an identical second Install", p)
		}
	}
	if inode(t, under(root, WantsLink)) != linkInode {
		t.Errorf("%s was recreated by an identical second Install", WantsLink)
	}
	assertNoTempFiles(t, root)
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestReinstallWithNewSettings(t *testing.T) {
	root := t.TempDir()
	bin := fakeBinary(t, "binary v1")
	mustInstall(t, Options{Root: root, Binary: bin, Env: []string{"SWAP_POLICY=off", "SWAP_MAX=8G"}})

	if !mustInstall(t, Options{Root: root, Binary: bin, Env: []string{"SWAP_POLICY=ratio"}}) {
		t.Error("Install with new settings reported changed=false")
	}
	env, _ := os.ReadFile(under(root, EnvFilePath))
	if !strings.Contains(string(env), "\nSWAP_POLICY=\"ratio\"\n") || strings.Contains(string(env), "SWAP_MAX") {
		t.Errorf("env file not rewritten with only the new settings:\n%s", env)
	}

	bin2 := fakeBinary(t, "binary v2")
	if !mustInstall(t, Options{Root: root, Binary: bin2, Env: []string{"SWAP_POLICY=ratio"}}) {
		t.Error("Install of a new binary reported changed=false")
	}
	if got, _ := os.ReadFile(under(root, BinaryPath)); string(got) != "binary v2" {
		t.Errorf("binary not upgraded: %q", got)
	}
	assertNoTempFiles(t, root)
}

// TestInstallFromInstalledBinary is `swap-bootstrap install` run by the
// installed binary itself: nothing to copy.
func TestInstallFromInstalledBinary(t *testing.T) {
	root := t.TempDir()
	mustInstall(t, Options{Root: root, Binary: fakeBinary(t, "binary v1")})
	installed := under(root, BinaryPath)
	before := inode(t, installed)
	if mustInstall(t, Options{Root: root, Binary: installed}) {
		t.Error("Install from the installed binary reported changed=true")
	}
	if inode(t, installed) != before {
		t.Error("the installed binary was copied onto itself")
	}
}

// TestInstallReplacesPlantedSymlinks plants symlinks at every final name,
// pointing outside the root: Install must replace them, never write through.
func TestInstallReplacesPlantedSymlinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	victims := map[string]string{}
	for _, p := range []string{BinaryPath, UnitPath, EnvFilePath, WantsLink} {
		victim := filepath.Join(outside, filepath.Base(filepath.Dir(p))+"-"+filepath.Base(p))
		if err := os.WriteFile(victim, []byte("do not touch"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(under(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, under(root, p)); err != nil {
			t.Fatal(err)
		}
		victims[p] = victim
	}

	mustInstall(t, Options{Root: root, Binary: fakeBinary(t, "binary"), Env: []string{"SWAP_POLICY=off"}})

	for p, victim := range victims {
		if got, _ := os.ReadFile(victim); string(got) != "do not touch" {
			t.Errorf("Install wrote through the symlink at %s into %s: %q", p, victim, got)
		}
	}
	for _, p := range []string{BinaryPath, UnitPath, EnvFilePath} {
		if fi, err := os.Lstat(under(root, p)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s is not a regular file after Install: %v %v", p, fi, err)
		}
	}
	if target, _ := os.Readlink(under(root, WantsLink)); target != UnitPath {
		t.Errorf("%s -> %q, want -> %s", WantsLink, target, UnitPath)
	}
}

// TestInstallStaysInsideRoot: a directory symlink inside the root that leads
// out of it (as an image's /etc/default could) makes Install fail rather than
// write to the host.
func TestInstallStaysInsideRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.MkdirAll(under(root, "/etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, under(root, "/etc/default")); err != nil {
		t.Fatal(err)
	}
	_, err := Install(Options{Root: root, Binary: fakeBinary(t, "binary"), Logger: testLogger(t)})
	if err == nil {
		t.Fatal("Install followed /etc/default out of the root without an error")
	}
	t.Logf("error, as expected: %v", err)
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("Install wrote outside the root: %v", entries)
	}
	if _, err := os.Lstat(under(root, WantsLink)); err == nil {
		t.Error("unit enabled although the install failed")
	}
}

func TestInstallErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no binary", Options{Root: t.TempDir()}, "no binary to copy"},
		{"binary missing", Options{Root: t.TempDir(), Binary: filepath.Join(t.TempDir(), "missing")}, "binary to install"},
		{"binary is a directory", Options{Root: t.TempDir(), Binary: t.TempDir()}, "not a regular file"},
		{"root missing", Options{Root: filepath.Join(t.TempDir(), "missing"), Binary: fakeBinary(t, "x")}, "install root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Install(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestUninstallLeavesNothing(t *testing.T) {
	root := t.TempDir()
	mustInstall(t, Options{Root: root, Binary: fakeBinary(t, "binary"), Env: []string{"SWAP_POLICY=off"}})
	// A temporary file an interrupted install left behind.
	leftover := under(root, filepath.Join(filepath.Dir(UnitPath), tempPrefix(filepath.Base(UnitPath))+"abc"))
	if err := os.WriteFile(leftover, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	changed, err := Uninstall(Options{Root: root, Logger: testLogger(t)})
	if err != nil || !changed {
		t.Fatalf("Uninstall: changed=%v err=%v, want changed=true", changed, err)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	changed, err = Uninstall(Options{Root: root, Logger: testLogger(t)})
	if err != nil || changed {
		t.Errorf("second Uninstall: changed=%v err=%v, want changed=false and no error", changed, err)
	}
	changed, err = Uninstall(Options{Root: t.TempDir(), Logger: testLogger(t)})
	if err != nil || changed {
		t.Errorf("Uninstall of an empty root: changed=%v err=%v, want changed=false and no error", changed, err)
	}
}

func assertNoTempFiles(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

// unitFile is a systemd unit file as systemd reads it: each key's values in
// order, per section. Space-separated list keys (After=, Before=, ...) are
// split into their items.
type unitFile map[string]map[string][]string

func parseUnit(t *testing.T, text string) unitFile {
	t.Helper()
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	var cont string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(cont + sc.Text())
		cont = ""
		if strings.HasSuffix(line, `\`) {
			cont = strings.TrimSuffix(line, `\`) + " "
			continue
		}
		switch {
		case line == "", line[0] == '#', line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("unit line %d: not KEY=VALUE in a section: %q", n, line)
			}
			key = strings.TrimSpace(key)
			u[section][key] = append(u[section][key], strings.TrimSpace(value))
		}
	}
	return u
}

func (u unitFile) list(section, key string) []string {
	var items []string
	for _, v := range u[section][key] {
		items = append(items, strings.Fields(v)...)
	}
	return items
}

func (u unitFile) one(t *testing.T, section, key string) string {
	t.Helper()
	v := u[section][key]
	if len(v) != 1 {
		t.Errorf("[%s] %s= set %d times (%q), want once", section, key, len(v), v)
		return ""
	}
	return v[0]
}

// TestUnitOrdering reads the unit systemd would read, from an installed root,
// and checks what decides when it runs and what happens when it fails.
func TestUnitOrdering(t *testing.T) {
	root := t.TempDir()
	mustInstall(t, Options{Root: root, Binary: fakeBinary(t, "binary")})
	text, err := os.ReadFile(under(root, UnitPath))
	if err != nil {
		t.Fatal(err)
	}
	u := parseUnit(t, string(text))

	for _, tc := range []struct {
		section, key string
		mustHave     []string
	}{
		{"Unit", "Before", []string{"docker.service", "containerd.service", "ecs.service", "kubelet.service", "cloud-final.service"}},
		{"Unit", "After", []string{"network-online.target", "local-fs.target"}},
		{"Unit", "Wants", []string{"network-online.target"}},
		{"Install", "WantedBy", []string{"multi-user.target"}},
	} {
		got := u.list(tc.section, tc.key)
		for _, want := range tc.mustHave {
			if !slices.Contains(got, want) {
				t.Errorf("[%s] %s= is %q, missing %s", tc.section, tc.key, got, want)
			}
		}
	}
	// Docker must start even if swap-bootstrap fails: ordering only.
	for _, key := range []string{"Requires", "Requisite", "BindsTo", "PartOf", "Upholds", "RequiredBy", "Conflicts"} {
		for _, section := range []string{"Unit", "Install"} {
			for _, v := range u.list(section, key) {
				if strings.Contains(v, "docker") || strings.Contains(v, "containerd") {
					t.Errorf("[%s] %s=%s ties Docker's start to ours", section, key, v)
				}
			}
		}
	}
	if v := u["Unit"]["DefaultDependencies"]; len(v) > 0 {
		t.Errorf("DefaultDependencies=%v set; the default dependencies are wanted", v)
	}
	for _, tc := range []struct{ section, key, want string }{
		{"Unit", "ConditionVirtualization", "!container"},
		{"Service", "Type", "oneshot"},
		{"Service", "RemainAfterExit", "yes"},
		{"Service", "EnvironmentFile", "-" + EnvFilePath},
		{"Service", "ExecStart", BinaryPath + " apply"},
	} {
		if got := u.one(t, tc.section, tc.key); got != tc.want {
			t.Errorf("[%s] %s=%q, want %q", tc.section, tc.key, got, tc.want)
		}
	}
	timeout, err := parseTimespan(u.one(t, "Service", "TimeoutStartSec"))
	if err != nil || timeout < 20*time.Minute {
		t.Errorf("TimeoutStartSec=%v (%v): want at least 20 minutes, the time to zero-fill 32 GiB on a slow volume", timeout, err)
	}
}

// TestUnitVerifies runs `systemd-analyze verify` on an installed root with
// the host's own systemd units and Docker units like the real ones, so that
// systemd itself checks the unit's syntax, its ExecStart and that starting it
// next to Docker and cloud-init forms no ordering cycle. No systemd needs to
// run: verify loads the units from --root itself.
func TestUnitVerifies(t *testing.T) {
	analyze := needTool(t, "systemd-analyze")
	hostUnits := "/usr/lib/systemd/system"
	if _, err := os.Stat(filepath.Join(hostUnits, "multi-user.target")); err != nil {
		swaptest.SkipOrFail(t, "no systemd units on this host: "+err.Error())
	}
	root := t.TempDir()
	// verify resolves every unit inside --root, so the root needs the stock
	// targets (sysinit.target, network-online.target, ...). Copies, not
	// links: the root must not lead back to the host.
	if err := os.MkdirAll(under(root, "/usr/lib/systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", hostUnits, under(root, "/usr/lib/systemd/")).CombinedOutput(); err != nil {
		t.Fatalf("copy host units: %v\n%s", err, out)
	}
	// Units like Docker's and containerd's, enabled the way their packages
	// enable them, with stand-in binaries so verify finds their ExecStart.
	writeIn(t, root, "/etc/systemd/system/docker.service", 0o644, `[Unit]
Description=Docker Application Container Engine
After=network-online.target docker.socket firewalld.service containerd.service time-set.target
Wants=network-online.target containerd.service
Requires=docker.socket
[Service]
Type=notify
ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock
[Install]
WantedBy=multi-user.target
`)
	writeIn(t, root, "/etc/systemd/system/docker.socket", 0o644, `[Unit]
Description=Docker Socket for the API
[Socket]
ListenStream=/run/docker.sock
[Install]
WantedBy=sockets.target
`)
	writeIn(t, root, "/etc/systemd/system/containerd.service", 0o644, `[Unit]
Description=containerd container runtime
After=network.target local-fs.target
[Service]
ExecStart=/usr/bin/containerd
Type=notify
[Install]
WantedBy=multi-user.target
`)
	for _, p := range []string{"/usr/bin/dockerd", "/usr/bin/containerd", "/usr/bin/cloud-init"} {
		writeIn(t, root, p, 0o755, "#!/bin/sh\n")
	}
	wants := under(root, "/etc/systemd/system/multi-user.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"docker.service", "containerd.service"} {
		if err := os.Symlink("/etc/systemd/system/"+u, filepath.Join(wants, u)); err != nil {
			t.Fatal(err)
		}
	}

	mustInstall(t, Options{Root: root, Binary: fakeBinary(t, "#!/bin/sh\n"), Env: []string{"SWAP_POLICY=off"}})

	units := []string{"swap-bootstrap.service", "docker.service", "multi-user.target"}
	if _, err := os.Stat(under(root, "/usr/lib/systemd/system/cloud-final.service")); err == nil {
		units = append(units, "cloud-final.service")
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--root=" + root}, units...)...)
	out, err := cmd.CombinedOutput()
	t.Logf("systemd-analyze verify --root=%s %s:\n%s", root, strings.Join(units, " "), out)
	// verify exits non-zero on a unit it cannot load, a missing ExecStart
	// binary or an ordering cycle, but only warns (exit 0) about an unknown
	// key or a bad value. Count both as failures for our unit; lines about
	// the host's own units are not ours to judge.
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		t.Errorf("systemd-analyze verify failed (%v)", err)
	} else if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "swap-bootstrap") || strings.Contains(line, "cycl") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}

func writeIn(t *testing.T, root, p string, mode fs.FileMode, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(under(root, p)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(under(root, p), []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}

// parseTimespan reads the systemd time spans a unit is likely to use:
// "20min", "1h", "90s", or plain seconds.
func parseTimespan(s string) (time.Duration, error) {
	s = strings.ReplaceAll(s, "min", "m")
	if _, err := strconv.Atoi(s); err == nil {
		s += "s"
	}
	return time.ParseDuration(s)
}
