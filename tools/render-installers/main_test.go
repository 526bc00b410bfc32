package main

import (
	"bytes"
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const scriptsDir = "../../scripts"

var (
	pinA = strings.Repeat("a", 64)
	pinB = strings.Repeat("B", 64)
)

// TestDocListsFiles: the output list in the package doc comment is Files.
func TestDocListsFiles(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	for _, m := range regexp.MustCompile(`(?m)^\t(swap-bootstrap\S*)\s+scripts/(\S+)$`).FindAllStringSubmatch(f.Doc.Text(), -1) {
		doc = append(doc, m[1]+" "+m[2])
	}
	var want []string
	for _, f := range Files {
		want = append(want, f.Asset+" "+f.Source)
	}
	if strings.Join(doc, "\n") != strings.Join(want, "\n") {
		t.Errorf("the doc comment lists\n%s\nbut Files is\n%s", strings.Join(doc, "\n"), strings.Join(want, "\n"))
	}
}

// TestRun renders the shipped files: every file in the list is written with
// its mode, its path printed, and exactly its three settings changed.
func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "new", "dir")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-version", "v1.2.3", "-sha256-amd64", pinA, "-sha256-arm64", pinB, "-out", out, "-scripts", scriptsDir}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var printed []string
	for _, f := range Files {
		printed = append(printed, filepath.Join(out, f.Asset))
	}
	if got := strings.Split(strings.TrimSpace(stdout.String()), "\n"); strings.Join(got, "\n") != strings.Join(printed, "\n") {
		t.Errorf("printed\n%s\nwant\n%s", stdout.String(), strings.Join(printed, "\n"))
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != len(Files) {
		t.Errorf("%s holds %d entries, want the %d files", out, len(entries), len(Files))
	}
	for _, f := range Files {
		src, err := os.ReadFile(filepath.Join(scriptsDir, f.Source))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(out, f.Asset)
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(dst)
		wantMode := os.FileMode(0o644)
		if strings.HasSuffix(f.Asset, ".sh") {
			wantMode = 0o755
		}
		if fi.Mode().Perm() != wantMode {
			t.Errorf("%s: mode %04o, want %04o", f.Asset, fi.Mode().Perm(), wantMode)
		}
		if n := diffLines(src, got); n != 3 {
			t.Errorf("%s: %d lines differ from %s, want 3 (version and two pins)", f.Asset, n, f.Source)
		}
		for _, want := range []string{"v1.2.3", pinA, strings.ToLower(pinB)} {
			if !bytes.Contains(got, []byte(want)) {
				t.Errorf("%s does not contain %s", f.Asset, want)
			}
		}
		if bytes.Contains(got, []byte(pinB)) {
			t.Errorf("%s: the arm64 pin is not lower-cased", f.Asset)
		}
	}
	var ssm struct {
		Parameters map[string]struct {
			Default string `json:"default"`
		} `json:"parameters"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "swap-bootstrap-ssm.json"))
	if err := json.Unmarshal(b, &ssm); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"Version": "v1.2.3", "Sha256Amd64": pinA, "Sha256Arm64": strings.ToLower(pinB), "BinaryUrl": ""} {
		if got := ssm.Parameters[name].Default; got != want {
			t.Errorf("SSM parameter %s default %q, want %q", name, got, want)
		}
	}
}

// TestRunUsage: bad flags are all reported at once, exit 2, nothing written.
func TestRunUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"nothing", nil, []string{`-version ""`, `-sha256-amd64 ""`, `-sha256-arm64 ""`, "-out is empty"}},
		{"not a tag", []string{"-version", "1.2.3", "-sha256-amd64", pinA, "-sha256-arm64", pinA, "-out", "x"}, []string{`-version "1.2.3": not a release tag`}},
		{"short pin", []string{"-version", "v1.2.3", "-sha256-amd64", "abc", "-sha256-arm64", pinA, "-out", "x"}, []string{`-sha256-amd64 "abc": not a SHA-256`}},
		{"extra argument", []string{"-version", "v1.2.3", "-sha256-amd64", pinA, "-sha256-arm64", pinA, "-out", "x", "y"}, []string{"unexpected arguments"}},
		{"unknown flag", []string{"-verison", "v1"}, []string{"flag provided but not defined: -verison"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr.String())
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("something was written: %v", entries)
			}
		})
	}
	t.Run("no scripts directory", func(t *testing.T) {
		t.Chdir(t.TempDir())
		var stdout, stderr bytes.Buffer
		code := run([]string{"-version", "v1.2.3", "-sha256-amd64", pinA, "-sha256-arm64", pinA, "-out", "out"}, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "run from the repository root, or pass -scripts") {
			t.Errorf("exit %d, stderr %q; want 1 saying where to run it", code, stderr.String())
		}
	})
}

// TestRenderRefusesDrift: a file whose placeholders moved or doubled is an
// error, not a silently half-rendered file.
func TestRenderRefusesDrift(t *testing.T) {
	rel := Release{Version: "v1.2.3", SHA256AMD64: pinA, SHA256ARM64: pinA}
	ssm, err := os.ReadFile(filepath.Join(scriptsDir, "ssm/swap-bootstrap.json"))
	if err != nil {
		t.Fatal(err)
	}
	packer, err := os.ReadFile(filepath.Join(scriptsDir, "packer/swap-bootstrap.pkr.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		render func([]byte, Release) ([]byte, error)
		text   string
		want   string
	}{
		{"shell: no version", renderShell, `a="${SWAP_BOOTSTRAP_SHA256_AMD64:-}" b="${SWAP_BOOTSTRAP_SHA256_ARM64:-}"`, "${SWAP_BOOTSTRAP_VERSION:-} found 0 times"},
		{"shell: version twice", renderShell, `${SWAP_BOOTSTRAP_VERSION:-} ${SWAP_BOOTSTRAP_VERSION:-} ${SWAP_BOOTSTRAP_SHA256_AMD64:-} ${SWAP_BOOTSTRAP_SHA256_ARM64:-}`, "found 2 times"},
		{"shell: already filled", renderShell, `${SWAP_BOOTSTRAP_VERSION:-v1.0.0} ${SWAP_BOOTSTRAP_SHA256_AMD64:-} ${SWAP_BOOTSTRAP_SHA256_ARM64:-}`, "found 0 times"},
		{"ssm: default already set", renderSSM, strings.Replace(string(ssm), `"Version": {`+"\n"+`      "type": "String",`+"\n"+`      "default": ""`, `"Version": {`+"\n"+`      "type": "String",`+"\n"+`      "default": "v0.0.1"`, 1), `parameter Version with "default": "" found 0 times`},
		{"ssm: not JSON", renderSSM, `"Version": {"default": ""}, "Sha256Amd64": {"default": ""}, "Sha256Arm64": {"default": ""}`, "not JSON"},
		{"packer: no version variable", renderPacker, strings.Replace(string(packer), `variable "version" {`, `variable "release" {`, 1), `variable "version" with default = "" found 0 times`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "ssm: default already set" && tc.text == string(ssm) {
				t.Fatal("the SSM document's layout changed; update this case")
			}
			_, err := tc.render([]byte(tc.text), rel)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
