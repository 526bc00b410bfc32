package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/install"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir, packageFiles()); err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile(filepath.Join(dir, UnitFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(unit) != install.UnitFor("/usr/sbin/swap-bootstrap") {
		t.Errorf("%s is not install.UnitFor(\"/usr/sbin/swap-bootstrap\"):\n%s", UnitFile, unit)
	}
	if !strings.Contains(string(unit), "\nExecStart=/usr/sbin/swap-bootstrap apply\n") {
		t.Errorf("%s does not run the packaged binary:\n%s", UnitFile, unit)
	}

	env, err := os.ReadFile(filepath.Join(dir, EnvFileName))
	if err != nil {
		t.Fatal(err)
	}
	// Every variable of `swap-bootstrap help`, each commented out with its
	// default, and no active setting.
	settings := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(env)))
	for sc.Scan() {
		line := sc.Text()
		if line != "" && !strings.HasPrefix(line, "#") {
			t.Errorf("active setting in the template: %q", line)
		}
		if name, value, ok := strings.Cut(strings.TrimPrefix(line, "#"), "="); ok && strings.HasPrefix(line, "#SWAP_") {
			settings[name] = value
		}
	}
	vars := config.Vars()
	if len(settings) != len(vars) {
		t.Errorf("template has %d variables, config.Vars() %d", len(settings), len(vars))
	}
	for _, v := range vars {
		got, ok := settings[v.Name]
		if !ok {
			t.Errorf("%s missing from the template", v.Name)
		} else if got != v.Default {
			t.Errorf("#%s=%s, want the default %q", v.Name, got, v.Default)
		}
		if !strings.Contains(string(env), "# "+v.Desc) {
			t.Errorf("description of %s missing", v.Name)
		}
	}
}

func TestManual(t *testing.T) {
	help := "swap-bootstrap v1.2.3: size...\n\n  SWAP_FILE  /var/swapfile  a path with a \\ backslash\n.starts with a dot\n"
	page := manual(help, "v1.2.3", time.Unix(1767225600, 0).UTC())
	for _, want := range []string{
		`.TH SWAP-BOOTSTRAP 8 "2026-01-01" "swap-bootstrap v1.2.3" "System Administration"`,
		`  SWAP_FILE  /var/swapfile  a path with a \e backslash`,
		`\&.starts with a dot`,
		".I /usr/sbin/swap-bootstrap\n",
		".I /etc/default/swap-bootstrap\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("manual page lacks %q:\n%s", want, page)
		}
	}
	// groff renders it without a warning, as lintian's man check does.
	groff, err := exec.LookPath("groff")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("groff is required under CI=true: %v", err)
		}
		t.Skipf("groff not installed: %v", err)
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff -ww: %v\n%s", err, out)
	}
}
