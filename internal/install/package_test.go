package install

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
)

func TestUnitFor(t *testing.T) {
	pkg := UnitFor(PackageBinaryPath)
	u := parseUnit(t, pkg)
	if got := u.one(t, "Service", "ExecStart"); got != PackageBinaryPath+" apply" {
		t.Errorf("UnitFor(%q): ExecStart=%q, want %q", PackageBinaryPath, got, PackageBinaryPath+" apply")
	}
	if Unit() != UnitFor(BinaryPath) {
		t.Error("Unit() is not UnitFor(BinaryPath)")
	}
	// The two units differ in the binary they run and nothing else.
	if strings.ReplaceAll(pkg, PackageBinaryPath, BinaryPath) != Unit() {
		t.Errorf("UnitFor(%q) differs from Unit() beyond the binary path:\n%s", PackageBinaryPath, pkg)
	}
	if strings.Contains(pkg, "@BINARY@") {
		t.Error("placeholder left in the unit")
	}
}

// packageInRoot lays out what the .deb/.rpm install: the binary, the unit
// and the config file template.
func packageInRoot(t *testing.T, root string) {
	t.Helper()
	writeIn(t, root, PackageBinaryPath, 0o755, "packaged binary")
	writeIn(t, root, PackageUnitPath, 0o644, UnitFor(PackageBinaryPath))
	writeIn(t, root, EnvFilePath, 0o644, "# the package's template\n")
}

// logBuffer collects the log lines an operator would read.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

func assertFile(t *testing.T, root, p, want string) {
	t.Helper()
	got, err := os.ReadFile(under(root, p))
	if err != nil || string(got) != want {
		t.Errorf("%s = %q (err %v), want %q", p, got, err, want)
	}
}

func assertAbsent(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(under(root, p)); err == nil {
			t.Errorf("%s exists, want it absent", p)
		}
	}
}

func assertLink(t *testing.T, root, link, target string) {
	t.Helper()
	got, err := os.Readlink(under(root, link))
	if err != nil || got != target {
		t.Errorf("%s -> %q (err %v), want -> %s", link, got, err, target)
	}
}

func TestInstallOnPackagedHost(t *testing.T) {
	root := t.TempDir()
	packageInRoot(t, root)
	log, logs := logBuffer()

	changed, err := Install(Options{Root: root, Binary: fakeBinary(t, "downloaded binary"), Env: []string{"SWAP_MAX=8G"}, Logger: log})
	t.Log(logs.String())
	if err != nil || !changed {
		t.Fatalf("Install: changed=%v err=%v, want changed=true", changed, err)
	}
	// No second binary or unit: the packaged ones run.
	assertAbsent(t, root, BinaryPath, UnitPath)
	assertLink(t, root, WantsLink, PackageUnitPath)
	assertFile(t, root, PackageBinaryPath, "packaged binary")
	assertFile(t, root, PackageUnitPath, UnitFor(PackageBinaryPath))
	env, _ := os.ReadFile(under(root, EnvFilePath))
	if !strings.Contains(string(env), "\nSWAP_MAX=\"8G\"\n") {
		t.Errorf("settings not written to %s:\n%s", EnvFilePath, env)
	}
	if !strings.Contains(logs.String(), "the swap-bootstrap package is installed: writing only the settings") {
		t.Errorf("the log does not say that the package is installed and what install does instead:\n%s", logs)
	}

	log, logs = logBuffer()
	changed, err = Install(Options{Root: root, Binary: fakeBinary(t, "downloaded binary"), Env: []string{"SWAP_MAX=8G"}, Logger: log})
	if err != nil || changed {
		t.Errorf("second Install: changed=%v err=%v, want changed=false\n%s", changed, err, logs)
	}
	assertNoTempFiles(t, root)
}

// TestInstallOnPackagedHostTakesOverEarlierCopy: `swap-bootstrap install`
// ran first, then the package came; install again leaves one unit, the
// packaged one.
func TestInstallOnPackagedHostTakesOverEarlierCopy(t *testing.T) {
	root := t.TempDir()
	mustInstall(t, Options{Root: root, Binary: fakeBinary(t, "old binary"), Env: []string{"SWAP_POLICY=aws"}})
	packageInRoot(t, root)
	writeIn(t, root, EnvFilePath, 0o644, "SWAP_POLICY=\"aws\"\n") // as the package kept it

	log, logs := logBuffer()
	changed, err := Install(Options{Root: root, Binary: under(root, PackageBinaryPath), Env: []string{"SWAP_POLICY=aws"}, Logger: log})
	t.Log(logs.String())
	if err != nil || !changed {
		t.Fatalf("Install: changed=%v err=%v, want changed=true", changed, err)
	}
	assertAbsent(t, root, BinaryPath, UnitPath)
	assertLink(t, root, WantsLink, PackageUnitPath)
	if !strings.Contains(logs.String(), "removing the copy an earlier swap-bootstrap install made") {
		t.Errorf("the log does not say the earlier copy was removed:\n%s", logs)
	}
}

// TestPackagedHostKeepsOwnOverride: a unit in /etc that is not Install's is
// the admin's override of the packaged unit, and stays.
func TestPackagedHostKeepsOwnOverride(t *testing.T) {
	root := t.TempDir()
	packageInRoot(t, root)
	own := strings.ReplaceAll(UnitFor(PackageBinaryPath), "apply", "apply --json")
	own = strings.ReplaceAll(own, PackageBinaryPath, "/opt/swap/bin/swap-bootstrap")
	writeIn(t, root, UnitPath, 0o644, own)
	writeIn(t, root, BinaryPath, 0o755, "someone's binary")

	log, logs := logBuffer()
	if _, err := Install(Options{Root: root, Binary: fakeBinary(t, "x"), Logger: log}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, root, UnitPath, own)
	assertFile(t, root, BinaryPath, "someone's binary")
	if !strings.Contains(logs.String(), "overrides the packaged unit; leaving it") {
		t.Errorf("no warning about the override:\n%s", logs)
	}

	log, logs = logBuffer()
	if _, err := Uninstall(Options{Root: root, Logger: log}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, root, UnitPath, own)
	assertFile(t, root, BinaryPath, "someone's binary")
	if !strings.Contains(logs.String(), "overrides the packaged unit; leaving it") {
		t.Errorf("uninstall does not warn about the override it leaves:\n%s", logs)
	}
}

func TestUninstallOnPackagedHost(t *testing.T) {
	for _, tc := range []struct {
		name     string
		disabled bool // the admin removed the enabling link
	}{
		{"enabled", false},
		{"disabled by the admin", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			mustInstall(t, Options{Root: root, Binary: fakeBinary(t, "old binary"), Env: []string{"SWAP_POLICY=aws"}})
			packageInRoot(t, root)
			settings := "SWAP_POLICY=\"aws\"\n"
			writeIn(t, root, EnvFilePath, 0o644, settings)
			if tc.disabled {
				if err := os.Remove(under(root, WantsLink)); err != nil {
					t.Fatal(err)
				}
			}

			log, logs := logBuffer()
			changed, err := Uninstall(Options{Root: root, Logger: log})
			t.Log(logs.String())
			if err != nil || !changed {
				t.Fatalf("Uninstall: changed=%v err=%v, want changed=true", changed, err)
			}
			assertAbsent(t, root, BinaryPath, UnitPath)
			assertFile(t, root, PackageBinaryPath, "packaged binary")
			assertFile(t, root, PackageUnitPath, UnitFor(PackageBinaryPath))
			assertFile(t, root, EnvFilePath, settings)
			if tc.disabled {
				assertAbsent(t, root, WantsLink)
			} else {
				assertLink(t, root, WantsLink, PackageUnitPath)
			}
			if !strings.Contains(logs.String(), "the swap-bootstrap package is installed and stays") ||
				!strings.Contains(logs.String(), "apt remove swap-bootstrap") {
				t.Errorf("the log does not say the package stays and how to remove it:\n%s", logs)
			}
		})
	}
}

// TestPackageNeedsBothFiles: a packaged unit without its binary (or the
// reverse) is no package; Install does its usual full install.
func TestPackageNeedsBothFiles(t *testing.T) {
	root := t.TempDir()
	writeIn(t, root, PackageUnitPath, 0o644, UnitFor(PackageBinaryPath))
	mustInstall(t, Options{Root: root, Binary: fakeBinary(t, "binary")})
	assertFile(t, root, BinaryPath, "binary")
	assertFile(t, root, UnitPath, Unit())
	assertLink(t, root, WantsLink, UnitPath)
}

func TestRunsBinary(t *testing.T) {
	for _, tc := range []struct {
		name, unit string
		want       bool
	}{
		{"install's unit", Unit(), true},
		{"an older install's unit", "# Written by swap-bootstrap install\n[Service]\nExecStart=/usr/local/sbin/swap-bootstrap apply\n", true},
		{"prefixed command", "[Service]\nExecStart=-/usr/local/sbin/swap-bootstrap apply\n", true},
		{"spaces around =", "[Service]\nExecStart = /usr/local/sbin/swap-bootstrap\n", true},
		{"packaged unit", UnitFor(PackageBinaryPath), false},
		{"another binary with that prefix", "[Service]\nExecStart=/usr/local/sbin/swap-bootstrap-old apply\n", false},
		{"mentioned in a comment only", "# ExecStart=/usr/local/sbin/swap-bootstrap apply\n[Service]\nExecStart=/bin/true\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runsBinary([]byte(tc.unit), BinaryPath); got != tc.want {
				t.Errorf("runsBinary = %v, want %v", got, tc.want)
			}
		})
	}
}
