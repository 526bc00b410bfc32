package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// renderedRelease is a release as tools/render-installers fills it in.
type renderedRelease struct {
	dir     string
	version string
	pins    map[string]string // arch -> pin
}

func (r renderedRelease) file(asset string) string { return filepath.Join(r.dir, asset) }

// renderRelease runs `go run ./tools/render-installers` from the repository
// root, as the release build does, with this machine's pin set to the SHA-256
// of binary and the other architecture's to something else.
func renderRelease(t *testing.T, binary []byte) renderedRelease {
	t.Helper()
	r := renderedRelease{dir: t.TempDir(), version: "v1.2.3-rc.1", pins: map[string]string{"amd64": strings.Repeat("e", 64), "arm64": strings.Repeat("f", 64)}}
	r.pins[arch(t)] = sha(binary)
	cmd := exec.Command("go", "run", "./tools/render-installers", "-version", r.version,
		"-sha256-amd64", r.pins["amd64"], "-sha256-arm64", r.pins["arm64"], "-out", r.dir)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./tools/render-installers: %v\n%s", err, out)
	}
	return r
}

// TestRenderedInstallers: the files a release carries pass the same checks
// as the shipped ones, carry the release's version and pins, and install
// without any edit: the runs below set only the download location (to
// 127.0.0.1), through the variable or parameter each file honours.
func TestRenderedInstallers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the install scripts run on Linux")
	}
	needRoot(t)
	binary := realBinary(t)
	rel := renderRelease(t, binary)

	t.Run("validators", func(t *testing.T) {
		shellcheck := needTool(t, "shellcheck")
		check := func(t *testing.T, what, shell, text string) {
			args := []string{"--norc", "--severity=style"}
			if shell != "" {
				args = append(args, "--shell="+shell)
			}
			cmd := exec.Command(shellcheck, append(args, "-")...)
			cmd.Stdin = strings.NewReader(text)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("shellcheck %s: %v\n%s", what, err, out)
			}
		}
		read := func(asset string) string {
			b, err := os.ReadFile(rel.file(asset))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		check(t, "user-data.sh", "", read("swap-bootstrap-user-data.sh"))
		check(t, "eb hook", "", read("swap-bootstrap-eb-01-swap.sh"))
		check(t, "cloud-config bootcmd", "sh", bootcmdOf(t, rel.file("swap-bootstrap-cloud-config.yaml")))
		parts := mimeParts(t, rel.file("swap-bootstrap-ecs-user-data.mime"))
		check(t, "ecs cloud-config part", "sh", bootcmdText(t, parts["text/cloud-config"]))
		check(t, "ecs shell part", "", parts["text/x-shellscript"])
		check(t, "ssm runCommand", "sh", ssmScript(t, rel.file("swap-bootstrap-ssm.json")))
		p := packerProvisioners(t, rel.file("swap-bootstrap.pkr.hcl"))
		check(t, "packer shell", "bash", strings.Join(p.shell, "\n")+"\n")
		for _, inline := range p.local {
			check(t, "packer shell-local", "sh", strings.Join(inline, "\n")+"\n")
		}
		var eb struct {
			Files map[string]struct {
				Content string `json:"content"`
			} `json:"files"`
		}
		yamlFile(t, rel.file("swap-bootstrap-eb-01-swap.config"), &eb)
		if c := eb.Files[ebextScript].Content; c != read("swap-bootstrap-eb-01-swap.sh") {
			t.Errorf("the rendered .ebextensions script is not the rendered hook")
		}

		cloudInit := needTool(t, "cloud-init")
		part := filepath.Join(t.TempDir(), "part.yaml")
		os.WriteFile(part, []byte(parts["text/cloud-config"]), 0o644)
		for _, f := range []string{rel.file("swap-bootstrap-cloud-config.yaml"), part} {
			if out, err := exec.Command(cloudInit, "schema", "--config-file", f).CombinedOutput(); err != nil || !strings.Contains(string(out), "Valid cloud-config") {
				t.Errorf("cloud-init schema --config-file %s: %v\n%s", f, err, out)
			}
		}

		// The version and pins are in, as defaults an operator sees.
		for _, text := range []string{read("swap-bootstrap-user-data.sh"), read("swap-bootstrap-eb-01-swap.sh"), read("swap-bootstrap-cloud-config.yaml"), parts["text/cloud-config"]} {
			for _, want := range []string{`${SWAP_BOOTSTRAP_VERSION:-` + rel.version + `}`, `${SWAP_BOOTSTRAP_SHA256_AMD64:-` + rel.pins["amd64"] + `}`, `${SWAP_BOOTSTRAP_SHA256_ARM64:-` + rel.pins["arm64"] + `}`} {
				if !strings.Contains(text, want) {
					t.Errorf("a rendered file lacks %s", want)
				}
			}
		}
		d, _ := readSSMFile(t, rel.file("swap-bootstrap-ssm.json"))
		for name, want := range map[string]string{"Version": rel.version, "Sha256Amd64": rel.pins["amd64"], "Sha256Arm64": rel.pins["arm64"]} {
			if p := d.Parameters[name]; p.Default == nil || *p.Default != want {
				t.Errorf("SSM parameter %s: default %v, want %q", name, p.Default, want)
			}
		}
		f, diags := hclparse.NewParser().ParseHCLFile(rel.file("swap-bootstrap.pkr.hcl"))
		if diags.HasErrors() {
			t.Fatalf("rendered Packer template: %s", diags.Error())
		}
		vars := packerVariables(t, f.Body.(*hclsyntax.Body))
		for name, want := range map[string]string{"version": rel.version, "sha256_amd64": rel.pins["amd64"], "sha256_arm64": rel.pins["arm64"], "binary": ""} {
			if got := vars[name]; got.AsString() != want {
				t.Errorf("Packer variable %s: default %q, want %q", name, got.AsString(), want)
			}
		}
	})

	// Each rendered file against a fresh root: only the location is set.
	t.Run("user-data.sh over https", func(t *testing.T) {
		s := newScenario(t)
		s.publish(t, binary)
		srv, ca, hits := tlsServer(t, s.dist)
		r := run(t, s.dir, s.env("SWAP_BOOTSTRAP_URL="+srv.URL, "CURL_CA_BUNDLE="+ca), needTool(t, "bash"), rel.file("swap-bootstrap-user-data.sh"))
		if r.code != 0 {
			t.Fatalf("rendered user-data.sh: %s", r)
		}
		if hits.Load() == 0 {
			t.Error("the binary was not downloaded from 127.0.0.1")
		}
		if !strings.Contains(r.stderr, "downloading "+rel.version+" from "+srv.URL) {
			t.Errorf("the run does not name the release it installs:\n%s", r.stderr)
		}
		assertInstalled(t, s.root, binary)
		assertEmptyDir(t, s.tmp, "TMPDIR")
		assertNoRunner(t, s.root)
	})
	t.Run("cloud-config bootcmd", func(t *testing.T) {
		s := newScenario(t)
		s.publish(t, binary)
		srv, ca, _ := tlsServer(t, s.dist)
		script := filepath.Join(t.TempDir(), "bootcmd.sh")
		os.WriteFile(script, []byte(bootcmdOf(t, rel.file("swap-bootstrap-cloud-config.yaml"))), 0o644)
		if r := run(t, s.dir, s.env("SWAP_BOOTSTRAP_URL="+srv.URL, "CURL_CA_BUNDLE="+ca), needTool(t, "sh"), script); r.code != 0 {
			t.Fatalf("rendered cloud-config bootcmd: %s", r)
		}
		assertInstalled(t, s.root, binary)
	})
	t.Run("Elastic Beanstalk hook", func(t *testing.T) {
		s := newScenario(t)
		s.publish(t, binary)
		staging := filepath.Join(s.dir, "staging")
		hook := filepath.Join(staging, ".platform/hooks/prebuild/01-swap.sh")
		os.MkdirAll(filepath.Dir(hook), 0o755)
		text, _ := os.ReadFile(rel.file("swap-bootstrap-eb-01-swap.sh"))
		os.WriteFile(hook, text, 0o755)
		if r := run(t, staging, s.env("SWAP_BOOTSTRAP_URL=file://"+s.dist), hook); r.code != 0 {
			t.Fatalf("rendered Elastic Beanstalk hook: %s", r)
		}
		assertInstalled(t, s.root, binary)
	})
	t.Run("SSM document", func(t *testing.T) {
		s := newScenario(t)
		s.publish(t, binary)
		r := ssmRun(t, s, rel.file("swap-bootstrap-ssm.json"), map[string]string{"BinaryUrl": "file://" + s.dist, "Policy": "off", "File": filepath.Join(s.dir, "swapfile")},
			"SWAP_FSTAB="+filepath.Join(s.dir, "fstab"), "SWAP_IMDS=off", "SWAP_INSTANCE_TYPE=t3.micro", "SWAP_LOCK_FILE="+filepath.Join(s.dir, "lock"),
			"SWAP_SYSCTL_FILE="+filepath.Join(s.dir, "sysctl.conf"), "AWS_EC2_METADATA_DISABLED=true")
		if r.code != 0 {
			t.Fatalf("rendered SSM document: %s", r)
		}
		assertInstalled(t, s.root, binary)
	})
	t.Run("a binary of another release is refused", func(t *testing.T) {
		s := newScenario(t)
		rec := t.TempDir()
		s.publish(t, fakeBinary(rec))
		r := run(t, s.dir, s.env("SWAP_BOOTSTRAP_URL=file://"+s.dist), needTool(t, "bash"), rel.file("swap-bootstrap-user-data.sh"))
		if r.code != 1 || !strings.Contains(r.stderr, "checksum mismatch") {
			t.Errorf("want a checksum failure, got %s", r)
		}
		if _, err := os.Stat(filepath.Join(rec, "args")); err == nil {
			t.Error("the unverified binary was run")
		}
		assertEmptyDir(t, s.root, "the install root")
	})
}
