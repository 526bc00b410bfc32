package scripts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/install"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

var update = flag.Bool("update", false, "rewrite the copies: the Elastic Beanstalk ones from "+hookPath+", the ECS one from "+cloudConfig)

const (
	userData       = "user-data.sh"
	cloudConfig    = "cloud-config.yaml"
	hookPath       = "elasticbeanstalk/.platform/hooks/prebuild/01-swap.sh"
	confighookPath = "elasticbeanstalk/.platform/confighooks/prebuild/01-swap.sh"
	ebextPath      = "elasticbeanstalk/.ebextensions/01-swap.config"
	ebextScript    = "/opt/swap-bootstrap/01-swap.sh"
	packerPath     = "packer/swap-bootstrap.pkr.hcl"
	ssmPath        = "ssm/swap-bootstrap.json"
	ecsPath        = "ecs/user-data.mime"

	// releaseBase is where the scripts download a release from by default.
	releaseBase = "https://github.com/soundhub/swap-bootstrap/releases/download/"
)

// ---- test plumbing -------------------------------------------------------

var built struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// skipOrFail skips, except under CI=true, where a test that cannot run fails.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	swaptest.SkipOrFail(t, fmt.Sprintf(format, args...))
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, "%s is not installed", name)
	}
	return p
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root: the real binary runs `install --now`")
	}
}

// arch is the name the scripts give this machine (uname -m mapped).
func arch(t *testing.T) string {
	t.Helper()
	switch runtime.GOARCH {
	case "amd64", "arm64":
		return runtime.GOARCH
	}
	t.Skipf("the scripts support amd64 and arm64, not %s", runtime.GOARCH)
	return ""
}

func binaryName(t *testing.T) string { return "swap-bootstrap-linux-" + arch(t) }

// realBinary builds ./cmd/bootstrap once, as scripts/build.sh does, and
// returns its bytes.
func realBinary(t *testing.T) []byte {
	t.Helper()
	name := binaryName(t)
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "swap-bootstrap-build-")
		if built.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(built.dir, name), "./cmd/bootstrap")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build ./cmd/bootstrap: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	b, err := os.ReadFile(filepath.Join(built.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// scenario is one run of an install script: an install root, a TMPDIR and the
// swap-bootstrap settings that keep `install --now` off the host.
type scenario struct {
	dir  string // everything of this run lives under it
	root string // SWAP_BOOTSTRAP_INSTALL_ROOT
	tmp  string // TMPDIR
	dist string // the "download" location: swap-bootstrap-linux-<arch>
}

func newScenario(t *testing.T) *scenario {
	t.Helper()
	dir := t.TempDir()
	s := &scenario{dir: dir, root: filepath.Join(dir, "root"), tmp: filepath.Join(dir, "tmp"), dist: filepath.Join(dir, "dist")}
	for _, d := range []string{s.root, s.tmp, s.dist} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { swapoffUnder(t, dir) })
	return s
}

// env is the environment of a run: no variable of the caller's leaks in, the
// swap settings point into the scenario, and anything that would still ask
// the metadata service asks loopback.
func (s *scenario) env(extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + s.dir,
		"LC_ALL=C",
		"TMPDIR=" + s.tmp,
		"SWAP_BOOTSTRAP_INSTALL_ROOT=" + s.root,
		"SWAP_POLICY=off",
		"SWAP_FSTAB=" + filepath.Join(s.dir, "fstab"),
		"SWAP_FILE=" + filepath.Join(s.dir, "swapfile"),
		"SWAP_INSTANCE_TYPE=t3.micro",
		"SWAP_IMDS=off",
		"SWAP_ZSWAP=keep",
		"SWAP_LOCK_FILE=" + filepath.Join(s.dir, "lock"),
		"SWAP_SYSCTL_FILE=" + filepath.Join(s.dir, "sysctl.conf"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9/",
	}, extra...)
}

// publish puts b where the scripts download from and returns its SHA-256.
func (s *scenario) publish(t *testing.T, b []byte) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dist, binaryName(t)), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return sha(b)
}

// shaEnv pins sum for this machine's architecture and something else for the
// other, so a script that picks the wrong pin fails.
func shaEnv(t *testing.T, sum string) []string {
	other := strings.Repeat("0", 64)
	if arch(t) == "amd64" {
		return []string{"SWAP_BOOTSTRAP_SHA256_AMD64=" + sum, "SWAP_BOOTSTRAP_SHA256_ARM64=" + other}
	}
	return []string{"SWAP_BOOTSTRAP_SHA256_AMD64=" + other, "SWAP_BOOTSTRAP_SHA256_ARM64=" + sum}
}

// fakeBinary is a stand-in for swap-bootstrap that records each time it is
// run (its path, its arguments, its environment) in rec and changes nothing.
func fakeBinary(rec string) []byte {
	return []byte(fmt.Sprintf(`#!/bin/sh
# stand-in for swap-bootstrap
n=1
while [ -e %[1]q/args.$n ]; do n=$((n + 1)); done
for a in "$0" "$@"; do printf '%%s\n' "$a"; done >%[1]q/args.$n
env >%[1]q/env.$n
`, rec))
}

type fakeRun struct {
	args []string
	env  map[string]string
}

// readFakeRuns returns every run of the stand-in, in order.
func readFakeRuns(t *testing.T, rec string) []fakeRun {
	t.Helper()
	var runs []fakeRun
	for n := 1; ; n++ {
		a, err := os.ReadFile(filepath.Join(rec, fmt.Sprintf("args.%d", n)))
		if err != nil {
			break
		}
		e, _ := os.ReadFile(filepath.Join(rec, fmt.Sprintf("env.%d", n)))
		r := fakeRun{args: strings.Split(strings.TrimSuffix(string(a), "\n"), "\n"), env: map[string]string{}}
		for _, l := range strings.Split(string(e), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				r.env[k] = v
			}
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		t.Fatalf("the binary was not run")
	}
	return runs
}

// readFakeRun returns the last run of the stand-in.
func readFakeRun(t *testing.T, rec string) fakeRun {
	t.Helper()
	runs := readFakeRuns(t, rec)
	return runs[len(runs)-1]
}

// installRun checks how a script ran the binary: `install --now` on the real
// root; into a test root `install --root ROOT` (--root cannot take --now)
// and then `apply`. It returns the install run.
func installRun(t *testing.T, rec, root string) fakeRun {
	t.Helper()
	runs := readFakeRuns(t, rec)
	want := [][]string{{"install", "--now"}}
	if root != "" {
		want = [][]string{{"install", "--root", root}, {"apply"}}
	}
	var got [][]string
	for _, r := range runs {
		got = append(got, r.args[1:])
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("binary runs %q, want %q", got, want)
	}
	return runs[0]
}

// assertRefusedSettings checks a script run that bad settings stopped: exit
// 2, each problem named, nothing installed, nothing left in TMPDIR.
func assertRefusedSettings(t *testing.T, s *scenario, r result, want ...string) {
	t.Helper()
	if r.code != 2 {
		t.Errorf("exit %d, want 2 (bad configuration)", r.code)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
		}
	}
	assertEmptyDir(t, s.root, "the install root")
	assertEmptyDir(t, s.tmp, "TMPDIR")
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

func run(t *testing.T, dir string, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Logf("%s %s: %s", name, strings.Join(args, " "), r)
	return r
}

// swapoffUnder turns off any swap area under dir, so that a failed test never
// leaves the host swapping to a file that is about to be deleted.
func swapoffUnder(t *testing.T, dir string) {
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 0 && strings.HasPrefix(f[0], dir+"/") {
			t.Errorf("swap left active at %s; turning it off", f[0])
			if out, err := exec.Command("swapoff", f[0]).CombinedOutput(); err != nil {
				t.Errorf("swapoff %s: %v %s", f[0], err, out)
			}
		}
	}
}

// tlsServer serves dir over HTTPS on 127.0.0.1, counting requests, and returns
// a CA bundle for curl (CURL_CA_BUNDLE).
func tlsServer(t *testing.T, dir string) (*httptest.Server, string, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, ca, &hits
}

// assertInstalled checks what `install` leaves under root, as a user would
// look at it.
func assertInstalled(t *testing.T, root string, binary []byte) {
	t.Helper()
	bin := filepath.Join(root, install.BinaryPath)
	if fi, err := os.Lstat(bin); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o755 {
		t.Errorf("%s: %v %v, want a 0755 file", install.BinaryPath, fi, err)
	} else if got, _ := os.ReadFile(bin); !bytes.Equal(got, binary) {
		t.Errorf("%s is not the published binary", install.BinaryPath)
	}
	if unit, err := os.ReadFile(filepath.Join(root, install.UnitPath)); err != nil || string(unit) != install.Unit() {
		t.Errorf("%s missing or not install.Unit(): %v", install.UnitPath, err)
	}
	if target, err := os.Readlink(filepath.Join(root, install.WantsLink)); err != nil || target != install.UnitPath {
		t.Errorf("%s -> %q (%v), want -> %s", install.WantsLink, target, err, install.UnitPath)
	}
	env, err := os.ReadFile(filepath.Join(root, install.EnvFilePath))
	if err != nil {
		t.Errorf("env file: %v", err)
	}
	if !strings.Contains(string(env), "\nSWAP_POLICY=\"off\"\n") {
		t.Errorf("env file lacks SWAP_POLICY=\"off\":\n%s", env)
	}
	if strings.Contains(string(env), "SWAP_BOOTSTRAP_") {
		t.Errorf("the installer's own SWAP_BOOTSTRAP_* variables leaked into the env file:\n%s", env)
	}
}

func assertEmptyDir(t *testing.T, dir, what string) {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != dir {
			found = append(found, p)
		}
		return nil
	})
	if len(found) > 0 {
		t.Errorf("%s is not empty: %q", what, found)
	}
}

// python returns a python3 that has PyYAML (Debian's, which cloud-init uses,
// first).
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import yaml").Run() == nil {
			return p
		}
	}
	skipOrFail(t, "no python3 with the yaml module (Debian: python3-yaml)")
	return ""
}

// yamlFile reads a YAML file into v, through python3's yaml.safe_load.
func yamlFile(t *testing.T, path string, v any) {
	t.Helper()
	out, err := exec.Command(python(t), "-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", path).Output()
	if err != nil {
		t.Fatalf("%s does not parse as YAML: %v", path, err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatal(err)
	}
}

// ---- the files themselves -------------------------------------------------

func shellScripts(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p == "instancetypes" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".sh") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{userData, "build.sh", hookPath, confighookPath} {
		if !slices.Contains(files, want) {
			t.Errorf("%s not found", want)
		}
	}
	return files
}

func bootcmd(t *testing.T) string {
	t.Helper()
	return bootcmdOf(t, cloudConfig)
}

// bootcmdOf is the one bootcmd script of the cloud-config file path.
func bootcmdOf(t *testing.T, path string) string {
	t.Helper()
	var cc struct {
		Bootcmd []any `json:"bootcmd"`
	}
	yamlFile(t, path, &cc)
	if len(cc.Bootcmd) != 1 {
		t.Fatalf("bootcmd has %d entries, want the one script", len(cc.Bootcmd))
	}
	s, ok := cc.Bootcmd[0].(string)
	if !ok {
		t.Fatalf("bootcmd entry is %T, want a shell string", cc.Bootcmd[0])
	}
	return s
}

type ssmDoc struct {
	SchemaVersion string `json:"schemaVersion"`
	Description   string `json:"description"`
	Parameters    map[string]struct {
		Type              string  `json:"type"`
		Default           *string `json:"default"`
		Description       string  `json:"description"`
		InterpolationType string  `json:"interpolationType"`
		AllowedPattern    string  `json:"allowedPattern"`
	} `json:"parameters"`
	MainSteps []struct {
		Action string `json:"action"`
		Name   string `json:"name"`
		Inputs struct {
			RunCommand []string `json:"runCommand"`
		} `json:"inputs"`
	} `json:"mainSteps"`
}

func readSSM(t *testing.T) (ssmDoc, []byte) {
	t.Helper()
	return readSSMFile(t, ssmPath)
}

func readSSMFile(t *testing.T, path string) (ssmDoc, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d ssmDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", path, err)
	}
	return d, b
}

// ssmScript is the runShellScript of the SSM document at path, as the agent
// writes it to a file and runs it with sh.
func ssmScript(t *testing.T, path string) string {
	t.Helper()
	d, _ := readSSMFile(t, path)
	return strings.Join(d.MainSteps[0].Inputs.RunCommand, "\n") + "\n"
}

// ssmEnv is the environment the SSM Agent gives the script for these
// parameter values (interpolationType ENV_VAR: SSM_<Name> for every
// parameter, missing ones at their default). A value its allowedPattern
// refuses fails the test: SSM would refuse the command.
func ssmEnv(t *testing.T, path string, values map[string]string) []string {
	t.Helper()
	d, _ := readSSMFile(t, path)
	for name := range values {
		if _, ok := d.Parameters[name]; !ok {
			t.Fatalf("parameter %s is not declared in %s", name, path)
		}
	}
	var env []string
	for name, p := range d.Parameters {
		v, ok := values[name]
		if !ok && p.Default != nil {
			v = *p.Default
		}
		if !regexp.MustCompile(p.AllowedPattern).MatchString(v) {
			t.Fatalf("parameter %s=%q does not match its allowedPattern; SSM would refuse it", name, v)
		}
		env = append(env, "SSM_"+name+"="+v)
	}
	slices.Sort(env)
	return env
}

func TestShellcheck(t *testing.T) {
	shellcheck := needTool(t, "shellcheck")
	check := func(t *testing.T, shell, text string, file string) {
		args := []string{"--norc", "--severity=style"}
		if shell != "" {
			args = append(args, "--shell="+shell)
		}
		cmd := exec.Command(shellcheck, append(args, file)...)
		if file == "-" {
			cmd.Stdin = strings.NewReader(text)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s", file, err, out)
		}
	}
	for _, f := range shellScripts(t) {
		t.Run(f, func(t *testing.T) { check(t, "", "", f) })
	}
	// cloud-init runs bootcmd with /bin/sh, which is dash on Debian and Ubuntu.
	t.Run(cloudConfig+" bootcmd", func(t *testing.T) { check(t, "sh", bootcmd(t), "-") })
	// SSM's aws:runShellScript runs the lines with sh.
	t.Run(ssmPath+" runCommand", func(t *testing.T) { check(t, "sh", ssmScript(t, ssmPath), "-") })
	t.Run(packerPath+" shell inline", func(t *testing.T) {
		p := packerProvisioners(t, packerPath)
		check(t, "bash", strings.Join(p.shell, "\n")+"\n", "-")
	})
	t.Run(packerPath+" shell-local inline", func(t *testing.T) {
		for _, inline := range packerProvisioners(t, packerPath).local {
			check(t, "sh", strings.Join(inline, "\n")+"\n", "-")
		}
	})
	t.Run(ebextPath+" content", func(t *testing.T) { check(t, "", ebextensionsContent(t), "-") })
	t.Run(ecsPath+" parts", func(t *testing.T) {
		parts := mimeParts(t, ecsPath)
		check(t, "sh", bootcmdText(t, parts["text/cloud-config"]), "-")
		check(t, "", parts["text/x-shellscript"], "-")
	})
}

func TestCloudConfigSchema(t *testing.T) {
	cloudInit := needTool(t, "cloud-init")
	out, err := exec.Command(cloudInit, "schema", "--config-file", cloudConfig).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Valid cloud-config") {
		t.Errorf("cloud-init schema --config-file %s: %v\n%s", cloudConfig, err, out)
	}
	b, _ := os.ReadFile(cloudConfig)
	if !bytes.HasPrefix(b, []byte("#cloud-config\n")) {
		t.Errorf("%s must start with #cloud-config or cloud-init ignores it", cloudConfig)
	}
	for _, want := range []string{"install --now", "sha256sum -c", "uname -m"} {
		if !strings.Contains(bootcmd(t), want) {
			t.Errorf("bootcmd does not %q", want)
		}
	}
}

func TestSSMDocument(t *testing.T) {
	d, raw := readSSM(t)
	if d.SchemaVersion != "2.2" {
		t.Errorf("schemaVersion %q, want 2.2 (interpolationType needs it)", d.SchemaVersion)
	}
	if len(d.MainSteps) != 1 || d.MainSteps[0].Action != "aws:runShellScript" || len(d.MainSteps[0].Inputs.RunCommand) == 0 {
		t.Fatalf("want one aws:runShellScript step with runCommand, got %+v", d.MainSteps)
	}
	for _, want := range []string{"create-association", "Key=tag:swap-bootstrap,Values=enabled", "Version=v1.0.0"} {
		if !strings.Contains(d.Description, want) {
			t.Errorf("description does not show %q", want)
		}
	}
	want := []string{"Version", "Sha256Amd64", "Sha256Arm64", "BinaryUrl", "Policy", "Ratio", "Size", "Max", "File"}
	for _, name := range want {
		if _, ok := d.Parameters[name]; !ok {
			t.Errorf("parameter %s missing", name)
		}
	}

	// Parameters reach the shell only as environment variables: no {{ }}
	// anywhere in the steps, every parameter ENV_VAR and read as SSM_<Name>,
	// and no SSM_<Name> read that is not a parameter.
	var steps struct {
		MainSteps json.RawMessage `json:"mainSteps"`
	}
	if err := json.Unmarshal(raw, &steps); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(steps.MainSteps), "{{") {
		t.Errorf("mainSteps template a value into the script with {{ }}; read the SSM_<Name> environment variable instead")
	}
	script := ssmScript(t, ssmPath)
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{?SSM_([A-Za-z0-9_]+)`).FindAllStringSubmatch(script, -1) {
		used[m[1]] = true
	}
	for name, p := range d.Parameters {
		if p.InterpolationType != "ENV_VAR" {
			t.Errorf("parameter %s: interpolationType %q, want ENV_VAR", name, p.InterpolationType)
		}
		if p.Default == nil {
			t.Errorf("parameter %s has no default; every parameter of this document is optional", name)
		}
		if !used[name] {
			t.Errorf("parameter %s is declared but $SSM_%s is never read", name, name)
		}
		// The old-agent check must name every parameter, or an agent without
		// ENV_VAR support would run with that one silently empty.
		if !strings.Contains(script, "${SSM_"+name+"+set}") {
			t.Errorf("the script does not check that SSM_%s was set by the agent", name)
		}
	}
	for name := range used {
		if _, ok := d.Parameters[name]; !ok {
			t.Errorf("the script reads $SSM_%s, which is not a parameter", name)
		}
	}

	// allowedPattern still guards every value: the defaults pass their own
	// pattern, and nothing lets a quote, a newline or a substitution in.
	for name, p := range d.Parameters {
		if p.AllowedPattern == "" {
			t.Errorf("parameter %s has no allowedPattern", name)
			continue
		}
		re, err := regexp.Compile(p.AllowedPattern)
		if err != nil {
			t.Errorf("parameter %s: allowedPattern: %v", name, err)
			continue
		}
		if p.Default != nil && !re.MatchString(*p.Default) {
			t.Errorf("parameter %s: default %q does not match its own allowedPattern", name, *p.Default)
		}
		for _, bad := range []string{"x'; reboot; '", "a\nb", "$(reboot)", "`reboot`", "a b", `a\b`, `a"b`} {
			if re.MatchString(bad) {
				t.Errorf("parameter %s accepts %q", name, bad)
			}
		}
	}
	for name, good := range map[string][]string{
		"Version":     {"", "v1.0.0", "v12.3.45", "v1.0.0-rc.1"},
		"Sha256Amd64": {"", strings.Repeat("a", 64), strings.Repeat("F", 64)},
		"Policy":      {"", "ratio", "aws", "redhat", "ubuntu", "cloud-init", "fixed", "off"},
		"Ratio":       {"", "2", "0.5"},
		"Size":        {"", "4G", "2048", "1.5GiB"},
		"Max":         {"", "16G"},
		"File":        {"", "/var/swapfile", "/mnt/data/swap.img"},
	} {
		re := regexp.MustCompile(d.Parameters[name].AllowedPattern)
		for _, v := range good {
			if !re.MatchString(v) {
				t.Errorf("parameter %s refuses the valid value %q", name, v)
			}
		}
	}
	if re := regexp.MustCompile(d.Parameters["Version"].AllowedPattern); re.MatchString("1.0.0") || re.MatchString("v1.0.0/../x") || re.MatchString("latest") {
		t.Error("parameter Version accepts something that is not a release tag")
	}
}

// TestSSMBinaryUrlPattern: BinaryUrl admits presigned S3 URLs (?, &, =, %)
// and the locations the script can fetch from, and nothing else.
func TestSSMBinaryUrlPattern(t *testing.T) {
	d, _ := readSSM(t)
	re := regexp.MustCompile(d.Parameters["BinaryUrl"].AllowedPattern)
	presigned := "https://my-bucket.s3.eu-west-1.amazonaws.com/swap-bootstrap/v1.0.0/swap-bootstrap-linux-amd64" +
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Feu-west-1%2Fs3%2Faws4_request" +
		"&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host" +
		"&X-Amz-Signature=" + strings.Repeat("0a", 32)
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"", true},
		{"https://downloads.example.com/swap-bootstrap/v1.0.0", true},
		{"https://downloads.example.com:8443/swap-bootstrap/v1.0.0/", true},
		{"http://10.0.0.5:8080/swap-bootstrap", true},
		{presigned, true},
		{"https://example.com/swap-bootstrap-linux-amd64?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY", true},
		{"s3://my-bucket/swap-bootstrap/v1.0.0", true},
		{"s3://my.bucket-1", true},
		{"file:///opt/swap-bootstrap", true},
		{"ftp://example.com/swap-bootstrap", false},
		{"https://", false},
		{"https://example.com/a b", false},
		{"https://example.com/$(reboot)", false},
		{"https://example.com/x?a=1;reboot", false},
		{"https://example.com/x#frag", false},
		{"https://example.com/x?a='b'", false},
		{"s3://UPPER-case/x", false},
		{"file://relative/path", false},
		{"file:///opt/a?b", false},
		{"https://example.com/x\nreboot", false},
	} {
		if got := re.MatchString(tc.url); got != tc.want {
			t.Errorf("BinaryUrl %q: accepted=%v, want %v", tc.url, got, tc.want)
		}
	}
}

// ebextensionsContent is the installer script the .ebextensions file writes.
func ebextensionsContent(t *testing.T) string {
	t.Helper()
	var c struct {
		Files map[string]struct {
			Mode    string `json:"mode"`
			Owner   string `json:"owner"`
			Content string `json:"content"`
		} `json:"files"`
		Commands map[string]struct {
			Command string `json:"command"`
			Cwd     string `json:"cwd"`
		} `json:"commands"`
	}
	yamlFile(t, ebextPath, &c)
	f, ok := c.Files[ebextScript]
	if !ok {
		t.Fatalf("%s: no files: entry for %s", ebextPath, ebextScript)
	}
	if f.Mode != "000755" || f.Owner != "root" {
		t.Errorf("%s: %s has mode %q owner %q, want 000755 root", ebextPath, ebextScript, f.Mode, f.Owner)
	}
	if len(c.Commands) != 1 {
		t.Fatalf("%s: want one entry under commands:, got %v", ebextPath, c.Commands)
	}
	for name, cmd := range c.Commands {
		// No cwd: /var/app/staging does not exist when commands: run on a new
		// instance, and holds an earlier bundle (or nothing) on a redeploy.
		if cmd.Command != ebextScript || cmd.Cwd != "" {
			t.Errorf("%s: commands.%s runs %q in %q, want %s with no cwd", ebextPath, name, cmd.Command, cmd.Cwd, ebextScript)
		}
	}
	return f.Content
}

// TestElasticBeanstalkCopies: the confighook and the .ebextensions content are
// copies of the prebuild hook, and the ECS user data's cloud-config part is
// cloud-config.yaml; the hooks are executable, in git too.
func TestElasticBeanstalkCopies(t *testing.T) {
	hook, err := os.ReadFile(hookPath)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(confighookPath, hook, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ebextPath, []byte(replaceEbextContent(t, string(hook))), 0o644); err != nil {
			t.Fatal(err)
		}
		cc, err := os.ReadFile(cloudConfig)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ecsPath, []byte(replaceMIMEPart(t, ecsPath, "text/cloud-config", string(cc))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if confighook, _ := os.ReadFile(confighookPath); !bytes.Equal(confighook, hook) {
		t.Errorf("%s differs from %s; run go test ./scripts -run %s -update", confighookPath, hookPath, t.Name())
	}
	if ebextensionsContent(t) != string(hook) {
		t.Errorf("the script in %s differs from %s; run go test ./scripts -run %s -update", ebextPath, hookPath, t.Name())
	}
	if cc, _ := os.ReadFile(cloudConfig); mimeParts(t, ecsPath)["text/cloud-config"] != string(cc) {
		t.Errorf("the cloud-config part of %s differs from %s; run go test ./scripts -run %s -update", ecsPath, cloudConfig, t.Name())
	}

	for p, why := range map[string]string{
		hookPath:       "Elastic Beanstalk runs only executable hooks",
		confighookPath: "Elastic Beanstalk runs only executable hooks",
		userData:       "it is a script to run",
		"build.sh":     "it is a script to run",
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("%s has mode %04o, want 0755: %s", p, fi.Mode().Perm(), why)
		}
	}

	git, err := exec.LookPath("git")
	if err != nil {
		t.Log("git not installed; the mode in git is not checked")
		return
	}
	for _, p := range []string{hookPath, confighookPath} {
		out, err := exec.Command(git, "ls-files", "--stage", "--", p).Output()
		if err != nil || len(out) == 0 {
			t.Logf("%s is not tracked by git here (%v); only its file mode was checked", p, err)
			continue
		}
		if !bytes.HasPrefix(out, []byte("100755 ")) {
			t.Errorf("git has %s as %s; run git update-index --chmod=+x %s", p, bytes.Fields(out)[0], p)
		}
	}
}

// replaceEbextContent puts hook in place of the content: block of ebextPath.
func replaceEbextContent(t *testing.T, hook string) string {
	t.Helper()
	b, err := os.ReadFile(ebextPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	start := slices.Index(lines, "    content: |\n")
	if start < 0 {
		t.Fatalf("%s: no `    content: |` line", ebextPath)
	}
	end := start + 1
	for end < len(lines) && (strings.TrimSpace(lines[end]) == "" || strings.HasPrefix(lines[end], "      ")) {
		end++
	}
	for end > start+1 && strings.TrimSpace(lines[end-1]) == "" {
		end-- // keep the blank lines that separate it from what follows
	}
	var block strings.Builder
	for _, l := range strings.SplitAfter(hook, "\n") {
		if strings.TrimSpace(l) != "" {
			block.WriteString("      ")
		}
		block.WriteString(l)
	}
	return strings.Join(lines[:start+1], "") + block.String() + strings.Join(lines[end:], "")
}

// TestElasticBeanstalkSettingNames: the environment properties the hook reads
// are real swap-bootstrap settings.
func TestElasticBeanstalkSettingNames(t *testing.T) {
	known := map[string]bool{}
	typ := reflect.TypeFor[config.Env]()
	for i := range typ.NumField() {
		known[typ.Field(i).Tag.Get("envconfig")] = true
	}
	hook, _ := os.ReadFile(hookPath)
	m := regexp.MustCompile(`SWAP_BOOTSTRAP_EB_SETTINGS="\$\{SWAP_BOOTSTRAP_EB_SETTINGS:-([^}]*)\}"`).FindSubmatch(hook)
	if m == nil {
		t.Fatalf("%s: no SWAP_BOOTSTRAP_EB_SETTINGS default", hookPath)
	}
	for _, name := range strings.Fields(string(m[1])) {
		if !known[name] {
			t.Errorf("%s reads environment property %s, which is not a setting in internal/config", hookPath, name)
		}
	}
}

// packerBuild is what the tests look at in a Packer template's build block.
type packerBuild struct {
	kinds []string   // provisioner types, in order
	local [][]string // each shell-local provisioner's inline commands
	shell []string   // the shell provisioner's inline commands
	file  *hclsyntax.Body
}

// packerProvisioners parses the Packer template at path and returns its
// provisioners.
func packerProvisioners(t *testing.T, path string) packerBuild {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCLFile(path)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", path, diags.Error())
	}
	body := f.Body.(*hclsyntax.Body)
	var build *hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == "build" {
			build = b
		}
	}
	if build == nil {
		t.Fatalf("%s: no build block", path)
	}
	var p packerBuild
	for _, b := range build.Body.Blocks {
		if b.Type != "provisioner" || len(b.Labels) != 1 {
			continue
		}
		p.kinds = append(p.kinds, b.Labels[0])
		var inline []string
		if b.Labels[0] != "file" {
			for _, v := range literal(t, b.Body, "inline").AsValueSlice() {
				inline = append(inline, v.AsString())
			}
		}
		switch b.Labels[0] {
		case "file":
			p.file = b.Body
		case "shell":
			p.shell = inline
		case "shell-local":
			p.local = append(p.local, inline)
		}
	}
	return p
}

// literal evaluates an attribute that refers to no variable.
func literal(t *testing.T, body *hclsyntax.Body, name string) cty.Value {
	t.Helper()
	a, ok := body.Attributes[name]
	if !ok {
		t.Fatalf("no %s attribute", name)
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", name, diags.Error())
	}
	return v
}

// packerVariables returns the default of every variable of the template.
func packerVariables(t *testing.T, body *hclsyntax.Body) map[string]cty.Value {
	t.Helper()
	vars := map[string]cty.Value{}
	for _, b := range body.Blocks {
		if b.Type == "variable" {
			if _, ok := b.Body.Attributes["default"]; ok {
				vars[b.Labels[0]] = literal(t, b.Body, "default")
			} else {
				vars[b.Labels[0]] = cty.NilVal
			}
		}
	}
	return vars
}

func TestPackerTemplate(t *testing.T) {
	f, diags := hclparse.NewParser().ParseHCLFile(packerPath)
	if diags.HasErrors() {
		t.Fatalf("%s does not parse as HCL: %s", packerPath, diags.Error())
	}
	body := f.Body.(*hclsyntax.Body)

	vars := packerVariables(t, body)
	declared := map[string]map[string]bool{"var": {}, "local": {}}
	blocks := map[string][]*hclsyntax.Block{}
	for name := range vars {
		declared["var"][name] = true
	}
	for _, b := range body.Blocks {
		blocks[b.Type] = append(blocks[b.Type], b)
		if b.Type == "locals" {
			for name := range b.Body.Attributes {
				declared["local"][name] = true
			}
		}
	}
	for _, v := range []string{"region", "arch", "instance_type", "source_ami_name", "binary", "version", "sha256_amd64", "sha256_arm64"} {
		if !declared["var"][v] {
			t.Errorf("variable %q not declared", v)
		}
	}
	for _, v := range []string{"version", "sha256_amd64", "sha256_arm64", "binary"} {
		if d, ok := vars[v]; !ok || d == cty.NilVal || d.AsString() != "" {
			t.Errorf("variable %q: default %#v, want \"\" (the release copy fills version and pins in)", v, d)
		}
	}

	// Every var.X and local.X is declared: packer would refuse the template.
	// And a file path is never relative to where packer happens to run.
	var walk func(*hclsyntax.Body)
	walk = func(b *hclsyntax.Body) {
		for _, a := range b.Attributes {
			for _, tr := range a.Expr.Variables() {
				root := tr.RootName()
				if len(tr) < 2 || declared[root] == nil {
					continue
				}
				if attr, ok := tr[1].(hcl.TraverseAttr); ok && !declared[root][attr.Name] {
					t.Errorf("%s:%d: %s.%s is not declared", packerPath, a.SrcRange.Start.Line, root, attr.Name)
				}
			}
		}
		for _, c := range b.Blocks {
			walk(c.Body)
		}
	}
	walk(body)
	src, _ := os.ReadFile(packerPath)
	for _, m := range regexp.MustCompile(`"((\.\.?/)*dist/[^"]*)"`).FindAllStringSubmatch(string(src), -1) {
		t.Errorf("%s: path %q is relative to the working directory; start it with ${path.root}", packerPath, m[1])
	}
	var localsBody *hclsyntax.Body
	for _, b := range blocks["locals"] {
		if _, ok := b.Body.Attributes["binary"]; ok {
			localsBody = b.Body
		}
	}
	if localsBody == nil {
		t.Fatal("no local.binary")
	}
	rng := localsBody.Attributes["binary"].Expr.Range()
	if expr := string(rng.SliceBytes(src)); strings.Count(expr, "${path.root}/") != 2 {
		t.Errorf("local.binary = %s: both the downloaded and the dist/ path must be under ${path.root}", expr)
	}

	// packer { required_plugins { amazon = { source = ... } } }
	if len(blocks["packer"]) != 1 {
		t.Fatalf("want one packer block")
	}
	var plugins *hclsyntax.Body
	for _, b := range blocks["packer"][0].Body.Blocks {
		if b.Type == "required_plugins" {
			plugins = b.Body
		}
	}
	if plugins == nil {
		t.Fatal("packer block has no required_plugins")
	}
	if amazon := literal(t, plugins, "amazon"); amazon.GetAttr("source").AsString() != "github.com/hashicorp/amazon" {
		t.Errorf("required_plugins.amazon.source = %q", amazon.GetAttr("source").AsString())
	}

	// IMDSv2 only, on the build instance and on instances of the AMI.
	var ebs *hclsyntax.Body
	for _, b := range blocks["source"] {
		if b.Labels[0] == "amazon-ebs" {
			ebs = b.Body
		}
	}
	if ebs == nil {
		t.Fatal(`no source "amazon-ebs" block`)
	}
	if v, ok := ebs.Attributes["imds_support"]; !ok || literal(t, ebs, "imds_support").AsString() != "v2.0" {
		t.Errorf(`source "amazon-ebs": imds_support = %v, want "v2.0"`, v)
	}
	var metadata *hclsyntax.Body
	for _, b := range ebs.Blocks {
		if b.Type == "metadata_options" {
			metadata = b.Body
		}
	}
	if metadata == nil {
		t.Fatal(`source "amazon-ebs" has no metadata_options block`)
	}
	for k, want := range map[string]string{"http_endpoint": "enabled", "http_tokens": "required"} {
		if _, ok := metadata.Attributes[k]; !ok {
			t.Errorf("metadata_options.%s missing", k)
		} else if got := literal(t, metadata, k).AsString(); got != want {
			t.Errorf("metadata_options.%s = %q, want %q", k, got, want)
		}
	}

	p := packerProvisioners(t, packerPath)
	if !slices.Equal(p.kinds, []string{"shell-local", "file", "shell-local", "shell"}) {
		t.Errorf("provisioners %v, want shell-local (download), file, shell-local (clean up), shell", p.kinds)
	}
	if p.file == nil {
		t.Fatal("no file provisioner")
	}
	if dest := literal(t, p.file, "destination").AsString(); dest != "/tmp/swap-bootstrap" {
		t.Errorf("file provisioner uploads to %q, want /tmp/swap-bootstrap", dest)
	}
	script := strings.Join(p.shell, "\n")
	if !slices.Contains(p.shell, "/usr/local/sbin/swap-bootstrap install") {
		t.Errorf("the shell provisioner does not run `/usr/local/sbin/swap-bootstrap install`:\n%s", script)
	}
	if strings.Contains(script, "/tmp/swap-bootstrap install") {
		t.Errorf("the shell provisioner runs the binary from /tmp, which CIS-hardened AMIs mount noexec:\n%s", script)
	}
	if strings.Contains(script, "--now") {
		t.Errorf("the shell provisioner runs --now: the AMI would get a swapfile:\n%s", script)
	}
	for _, want := range []string{"sha256sum --check", "test ! -e /var/swapfile", "swapon --show", "systemctl is-enabled swap-bootstrap.service"} {
		if !strings.Contains(script, want) {
			t.Errorf("the shell provisioner does not check %q", want)
		}
	}
	if download := strings.Join(p.local[0], "\n"); !strings.Contains(download, releaseBase+"$VERSION/swap-bootstrap-linux-$ARCH") {
		t.Errorf("the download step does not fetch %s<version>/swap-bootstrap-linux-<arch>:\n%s", releaseBase, download)
	}
}

// ---- running the scripts ---------------------------------------------------

// TestUserDataInstalls runs user-data.sh as cloud-init would, with the real
// binary from 127.0.0.1 over HTTPS, from a file:// location, and over plain
// HTTP with wget where curl is missing.
func TestUserDataInstalls(t *testing.T) {
	needRoot(t)
	binary := realBinary(t)
	bash := needTool(t, "bash")

	t.Run("https from 127.0.0.1 with curl", func(t *testing.T) {
		s := newScenario(t)
		sum := s.publish(t, binary)
		srv, ca, hits := tlsServer(t, s.dist)
		r := run(t, s.dir, s.env(append(shaEnv(t, sum), "SWAP_BOOTSTRAP_URL="+srv.URL+"/", "CURL_CA_BUNDLE="+ca)...), bash, absPath(t, userData))
		if r.code != 0 {
			t.Fatalf("user-data.sh failed: %s", r)
		}
		if hits.Load() == 0 {
			t.Error("the server was never asked for the binary")
		}
		assertInstalled(t, s.root, binary)
		checkUserDataRun(t, s, r)
	})
	t.Run("file://", func(t *testing.T) {
		s := newScenario(t)
		sum := s.publish(t, binary)
		r := run(t, s.dir, s.env(append(shaEnv(t, sum), "SWAP_BOOTSTRAP_URL=file://"+s.dist)...), bash, absPath(t, userData))
		if r.code != 0 {
			t.Fatalf("user-data.sh failed: %s", r)
		}
		assertInstalled(t, s.root, binary)
		checkUserDataRun(t, s, r)
	})
	t.Run("http with wget, no curl", func(t *testing.T) {
		if _, err := exec.LookPath("wget"); err != nil {
			t.Skip("wget not installed")
		}
		s := newScenario(t)
		sum := s.publish(t, binary)
		srv := httptest.NewServer(http.FileServer(http.Dir(s.dist)))
		t.Cleanup(srv.Close)
		env := s.env(append(shaEnv(t, sum), "SWAP_BOOTSTRAP_URL="+srv.URL)...)
		env[0] = "PATH=" + pathWithout(t, "curl")
		r := run(t, s.dir, env, bash, absPath(t, userData))
		if r.code != 0 {
			t.Fatalf("user-data.sh failed: %s", r)
		}
		assertInstalled(t, s.root, binary)
	})
}

func checkUserDataRun(t *testing.T, s *scenario, r result) {
	t.Helper()
	for _, want := range []string{"swap-bootstrap-user-data: checksum verified", "swap-bootstrap-user-data: done"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if _, err := os.Lstat(filepath.Join(s.dir, "swapfile")); err == nil {
		t.Error("a swapfile was made although SWAP_POLICY=off")
	}
	assertEmptyDir(t, s.tmp, "TMPDIR after the run")
}

// pathWithout makes a PATH with every command of the current one but name.
func pathWithout(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if e.Name() == name {
				continue
			}
			os.Symlink(filepath.Join(d, e.Name()), filepath.Join(dir, e.Name())) // first one on PATH wins
		}
	}
	if _, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
		t.Fatalf("%s still on the PATH", name)
	}
	return dir
}

// TestUserDataRefusesBadChecksum: a binary that does not match the pin is
// never run, and nothing is left anywhere.
func TestUserDataRefusesBadChecksum(t *testing.T) {
	bash := needTool(t, "bash")
	needTool(t, "curl")
	for _, via := range []string{"https", "file"} {
		t.Run(via, func(t *testing.T) {
			s := newScenario(t)
			rec := t.TempDir()
			s.publish(t, fakeBinary(rec))
			url := "file://" + s.dist
			env := s.env(shaEnv(t, sha([]byte("some other binary")))...)
			if via == "https" {
				srv, ca, _ := tlsServer(t, s.dist)
				url = srv.URL
				env = append(env, "CURL_CA_BUNDLE="+ca)
			}
			r := run(t, s.dir, append(env, "SWAP_BOOTSTRAP_URL="+url), bash, absPath(t, userData))
			if r.code == 0 {
				t.Fatalf("user-data.sh accepted a binary with the wrong checksum: %s", r)
			}
			if !strings.Contains(r.stderr, "checksum mismatch") || !strings.Contains(r.stderr, "nothing was installed") {
				t.Errorf("the message does not say the checksum did not match: %s", r.stderr)
			}
			if _, err := os.Stat(filepath.Join(rec, "args")); err == nil {
				t.Error("the unverified binary was run")
			}
			assertEmptyDir(t, s.root, "the install root")
			assertEmptyDir(t, s.tmp, "TMPDIR")
		})
	}
}

// TestUserDataRunsInstall checks, with a stand-in binary, how user-data.sh
// runs it: the arguments, and an environment with the swap settings but
// without the installer's own variables.
func TestUserDataRunsInstall(t *testing.T) {
	bash := needTool(t, "bash")
	for _, tc := range []struct {
		name string
		root bool
	}{
		{"into a root", true},
		{"into the real root", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScenario(t)
			rec := t.TempDir()
			sum := s.publish(t, fakeBinary(rec))
			env := s.env(append(shaEnv(t, sum), "SWAP_BOOTSTRAP_URL=file://"+s.dist+"/", "SWAP_MAX=8G")...)
			if !tc.root {
				env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, "SWAP_BOOTSTRAP_INSTALL_ROOT=") })
			}
			if r := run(t, s.dir, env, bash, absPath(t, userData)); r.code != 0 {
				t.Fatalf("user-data.sh failed: %s", r)
			}
			root := ""
			if tc.root {
				root = s.root
			}
			got := installRun(t, rec, root)
			if got.env["SWAP_MAX"] != "8G" || got.env["SWAP_POLICY"] != "off" {
				t.Errorf("the swap settings did not reach the binary: %v", got.env)
			}
			for k := range got.env {
				if strings.HasPrefix(k, "SWAP_BOOTSTRAP_") {
					t.Errorf("%s reached the binary; install would save it", k)
				}
			}
			assertEmptyDir(t, s.tmp, "TMPDIR")
		})
	}
}

// TestUserDataNeedsSettings: with settings missing or wrong, user-data.sh
// names each variable at fault, all at once, exits 2 and installs nothing.
func TestUserDataNeedsSettings(t *testing.T) {
	bash := needTool(t, "bash")
	pin := "SWAP_BOOTSTRAP_SHA256_" + strings.ToUpper(arch(t))
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"nothing set", nil, []string{"SWAP_BOOTSTRAP_VERSION is empty", pin + " is empty"}},
		{"no version", shaEnv(t, strings.Repeat("a", 64)), []string{"SWAP_BOOTSTRAP_VERSION is empty"}},
		{"no pin", []string{"SWAP_BOOTSTRAP_VERSION=v1.0.0"}, []string{pin + " is empty"}},
		{"no pin with a URL", []string{"SWAP_BOOTSTRAP_URL=file:///nonexistent"}, []string{pin + " is empty"}},
		{"bad pin", []string{"SWAP_BOOTSTRAP_VERSION=v1.0.0", "SWAP_BOOTSTRAP_SHA256_AMD64=abc", "SWAP_BOOTSTRAP_SHA256_ARM64=abc"}, []string{pin + `="abc" is not a SHA-256`}},
		{"bad version", append(shaEnv(t, strings.Repeat("a", 64)), "SWAP_BOOTSTRAP_VERSION=latest"), []string{`SWAP_BOOTSTRAP_VERSION="latest" is not a release tag`}},
		{"path in version", append(shaEnv(t, strings.Repeat("a", 64)), "SWAP_BOOTSTRAP_VERSION=v1.0.0/../../x"), []string{"is not a release tag"}},
		{"unknown scheme", append(shaEnv(t, strings.Repeat("a", 64)), "SWAP_BOOTSTRAP_URL=ftp://example.invalid"), []string{"must start with https://"}},
		{"everything wrong", []string{"SWAP_BOOTSTRAP_VERSION=1.0", "SWAP_BOOTSTRAP_SHA256_AMD64=x", "SWAP_BOOTSTRAP_SHA256_ARM64=x"}, []string{"SWAP_BOOTSTRAP_VERSION=\"1.0\"", pin + `="x"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScenario(t)
			r := run(t, s.dir, s.env(tc.env...), bash, absPath(t, userData))
			assertRefusedSettings(t, s, r, tc.want...)
		})
	}
}

// TestCloudConfigBootcmd runs the bootcmd shell with sh, as cloud-init does,
// twice: the first boot installs, the second does nothing, not even download.
func TestCloudConfigBootcmd(t *testing.T) {
	needRoot(t)
	binary := realBinary(t)
	sh := needTool(t, "sh")
	script := filepath.Join(t.TempDir(), "bootcmd.sh")
	if err := os.WriteFile(script, []byte(bootcmd(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newScenario(t)
	sum := s.publish(t, binary)
	srv, ca, hits := tlsServer(t, s.dist)
	env := s.env(append(shaEnv(t, sum), "SWAP_BOOTSTRAP_URL="+srv.URL, "CURL_CA_BUNDLE="+ca)...)

	if r := run(t, s.dir, env, sh, script); r.code != 0 {
		t.Fatalf("first boot: bootcmd failed: %s", r)
	}
	assertInstalled(t, s.root, binary)
	first := hits.Load()
	if first == 0 {
		t.Error("first boot: the binary was not downloaded")
	}

	r := run(t, s.dir, env, sh, script)
	if r.code != 0 || !strings.Contains(r.stderr, "already installed") {
		t.Errorf("second boot: want a quiet success saying already installed, got %s", r)
	}
	if hits.Load() != first {
		t.Error("second boot: bootcmd downloaded the binary again")
	}
	assertEmptyDir(t, s.tmp, "TMPDIR")
}

func TestCloudConfigBootcmdRefusesBadChecksum(t *testing.T) {
	sh := needTool(t, "sh")
	script := filepath.Join(t.TempDir(), "bootcmd.sh")
	if err := os.WriteFile(script, []byte(bootcmd(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newScenario(t)
	rec := t.TempDir()
	s.publish(t, fakeBinary(rec))
	r := run(t, s.dir, s.env(append(shaEnv(t, sha([]byte("other"))), "SWAP_BOOTSTRAP_URL=file://"+s.dist)...), sh, script)
	if r.code == 0 || !strings.Contains(r.stderr, "checksum mismatch") {
		t.Errorf("want a checksum failure, got %s", r)
	}
	if _, err := os.Stat(filepath.Join(rec, "args")); err == nil {
		t.Error("the unverified binary was run")
	}
	assertEmptyDir(t, s.root, "the install root")
}

// ebStaging lays out a source bundle as Elastic Beanstalk extracts it to
// /var/app/staging: the hook, executable, and optionally bin/<binary>.
func ebStaging(t *testing.T, s *scenario, binary []byte) (staging, hook string) {
	t.Helper()
	staging = filepath.Join(s.dir, "staging")
	hook = filepath.Join(staging, ".platform/hooks/prebuild/01-swap.sh")
	text, err := os.ReadFile(hookPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hook, text, 0o755); err != nil {
		t.Fatal(err)
	}
	if binary != nil {
		if err := os.MkdirAll(filepath.Join(staging, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		// 0644: a zip source bundle need not keep the executable bit.
		if err := os.WriteFile(filepath.Join(staging, "bin", binaryName(t)), binary, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return staging, hook
}

// TestElasticBeanstalkHookInstalls runs the prebuild hook the way Elastic
// Beanstalk does: executed directly, as root, from the staging directory,
// with the binary in the bundle's bin/. Then a configuration deployment of a
// bundle without bin/ reuses the installed binary.
func TestElasticBeanstalkHookInstalls(t *testing.T) {
	needRoot(t)
	binary := realBinary(t)
	s := newScenario(t)
	staging, hook := ebStaging(t, s, binary)
	r := run(t, staging, s.env(), hook)
	if r.code != 0 {
		t.Fatalf("prebuild hook failed: %s", r)
	}
	if !strings.Contains(r.stderr, "swap-bootstrap-eb: using the bundled binary") {
		t.Errorf("the hook did not use the bundled binary")
	}
	assertInstalled(t, s.root, binary)
	if _, err := os.Lstat(filepath.Join(s.dir, "swapfile")); err == nil {
		t.Error("a swapfile was made although SWAP_POLICY=off")
	}

	if err := os.RemoveAll(filepath.Join(staging, "bin")); err != nil {
		t.Fatal(err)
	}
	r = run(t, staging, s.env("SWAP_MAX=8G"), hook)
	if r.code != 0 || !strings.Contains(r.stderr, "using the installed") {
		t.Fatalf("confighook without bin/: want it to reuse the installed binary, got %s", r)
	}
	env, _ := os.ReadFile(filepath.Join(s.root, install.EnvFilePath))
	if !strings.Contains(string(env), "SWAP_MAX=\"8G\"") {
		t.Errorf("the new setting did not reach the env file:\n%s", env)
	}
	assertInstalled(t, s.root, binary)
	assertEmptyDir(t, s.tmp, "TMPDIR")
}

// TestElasticBeanstalkHookSettings checks, with a stand-in binary and a
// stand-in get-config, that environment properties reach the binary and that
// a variable already set wins over them.
func TestElasticBeanstalkHookSettings(t *testing.T) {
	s := newScenario(t)
	rec := t.TempDir()
	staging, hook := ebStaging(t, s, fakeBinary(rec))
	getConfig := filepath.Join(s.dir, "get-config")
	if err := os.WriteFile(getConfig, []byte(`#!/bin/sh
# stand-in for /opt/elasticbeanstalk/bin/get-config environment -k NAME
[ "$1" = environment ] && [ "$2" = -k ] || exit 2
case "$3" in
SWAP_MAX) echo 12G ;;
SWAP_POLICY) echo ratio ;;
*) echo "key $3 not found" >&2; exit 1 ;;
esac
`), 0o755); err != nil {
		t.Fatal(err)
	}
	r := run(t, staging, s.env("SWAP_BOOTSTRAP_EB_GET_CONFIG="+getConfig), hook)
	if r.code != 0 {
		t.Fatalf("hook failed: %s", r)
	}
	got := installRun(t, rec, s.root)
	if got.env["SWAP_MAX"] != "12G" {
		t.Errorf("environment property SWAP_MAX=12G did not reach the binary: %q", got.env["SWAP_MAX"])
	}
	if got.env["SWAP_POLICY"] != "off" {
		t.Errorf("SWAP_POLICY=%q: the variable already set must win over the environment property", got.env["SWAP_POLICY"])
	}
	if _, ok := got.env["SWAP_RATIO"]; ok {
		t.Error("SWAP_RATIO set although get-config had no such property")
	}
	for k := range got.env {
		if strings.HasPrefix(k, "SWAP_BOOTSTRAP_") {
			t.Errorf("%s reached the binary; install would save it", k)
		}
	}
}

func TestElasticBeanstalkHookRefuses(t *testing.T) {
	t.Run("bundled binary not matching the pin", func(t *testing.T) {
		s := newScenario(t)
		rec := t.TempDir()
		staging, hook := ebStaging(t, s, fakeBinary(rec))
		r := run(t, staging, s.env(shaEnv(t, sha([]byte("other")))...), hook)
		if r.code == 0 || !strings.Contains(r.stderr, "checksum mismatch") {
			t.Errorf("want a checksum failure, got %s", r)
		}
		if _, err := os.Stat(filepath.Join(rec, "args")); err == nil {
			t.Error("the unverified binary was run")
		}
		assertEmptyDir(t, s.root, "the install root")
	})
	t.Run("no binary anywhere", func(t *testing.T) {
		s := newScenario(t)
		staging, hook := ebStaging(t, s, nil)
		r := run(t, staging, s.env(), hook)
		if r.code == 0 || !strings.Contains(r.stderr, "no bin/"+binaryName(t)+" in the source bundle") {
			t.Errorf("want a failure naming the missing bin/ binary, got %s", r)
		}
		assertEmptyDir(t, s.root, "the install root")
	})
	t.Run("download without a pin", func(t *testing.T) {
		s := newScenario(t)
		staging, hook := ebStaging(t, s, nil)
		r := run(t, staging, s.env("SWAP_BOOTSTRAP_URL=file://"+s.dist), hook)
		if r.code == 0 || !strings.Contains(r.stderr, "must be pinned") {
			t.Errorf("want a failure asking for a pin, got %s", r)
		}
	})
}

// ssmRun runs the SSM document's script with sh, as the agent does, with
// the parameters in its environment and nothing else of the caller's.
func ssmRun(t *testing.T, s *scenario, doc string, params map[string]string, extra ...string) result {
	t.Helper()
	script := filepath.Join(t.TempDir(), "_script.sh")
	if err := os.WriteFile(script, []byte(ssmScript(t, doc)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.dir, "TMPDIR=" + s.tmp, "SWAP_BOOTSTRAP_INSTALL_ROOT=" + s.root}, extra...)
	if params != nil {
		env = append(env, ssmEnv(t, doc, params)...)
	}
	return run(t, s.dir, env, needTool(t, "sh"), script)
}

// TestSSMScript runs the SSM document's script with a stand-in binary: first
// downloaded, then, as State Manager runs it again, taken from where it is
// installed.
func TestSSMScript(t *testing.T) {
	s := newScenario(t)
	rec := t.TempDir()
	fake := fakeBinary(rec)
	sum := s.publish(t, fake)
	params := map[string]string{
		"BinaryUrl":   "file://" + s.dist,
		"Sha256Amd64": strings.Repeat("0", 64),
		"Sha256Arm64": strings.Repeat("0", 64),
		"Policy":      "off",
		"Max":         "8G",
		"File":        filepath.Join(s.dir, "swapfile"),
	}
	params["Sha256"+strings.ToUpper(arch(t)[:1])+arch(t)[1:]] = sum

	r := ssmRun(t, s, ssmPath, params)
	if r.code != 0 {
		t.Fatalf("SSM script failed: %s", r)
	}
	got := installRun(t, rec, s.root)
	for k, want := range map[string]string{"SWAP_POLICY": "off", "SWAP_MAX": "8G", "SWAP_FILE": params["File"]} {
		if got.env[k] != want {
			t.Errorf("%s=%q, want %q", k, got.env[k], want)
		}
	}
	for _, k := range []string{"SWAP_RATIO", "SWAP_SIZE", "SWAP_BOOTSTRAP_INSTALL_ROOT"} {
		if _, ok := got.env[k]; ok {
			t.Errorf("%s set for the binary although the parameter was empty", k)
		}
	}
	assertEmptyDir(t, s.tmp, "TMPDIR")
	assertNoRunner(t, s.root)

	// Installed already, as `install` would have left it: no download.
	installed := filepath.Join(s.root, install.BinaryPath)
	if err := os.MkdirAll(filepath.Dir(installed), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(installed, fake, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(s.dist, binaryName(t))); err != nil {
		t.Fatal(err)
	}
	r = ssmRun(t, s, ssmPath, params)
	if r.code != 0 || !strings.Contains(r.stderr, "already installed") {
		t.Fatalf("second run: want it to use the installed binary, got %s", r)
	}
	if got := readFakeRun(t, rec); got.args[0] != installed {
		t.Errorf("second run ran %s, want the installed %s", got.args[0], installed)
	}
}

// TestSSMScriptPresignedURL: a BinaryUrl with a query string is the object
// itself, fetched as given (query and all), and refused on an instance of the
// other architecture.
func TestSSMScriptPresignedURL(t *testing.T) {
	needTool(t, "curl")
	s := newScenario(t)
	rec := t.TempDir()
	fake := fakeBinary(rec)
	sum := sha(fake)
	const query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=abc123"
	var seen atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.RequestURI())
		if r.URL.RawQuery != query {
			http.Error(w, "signature does not match", http.StatusForbidden)
			return
		}
		w.Write(fake)
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	pin := "Sha256" + strings.ToUpper(arch(t)[:1]) + arch(t)[1:]

	url := srv.URL + "/bucket/v1.0.0/" + binaryName(t) + "?" + query
	r := ssmRun(t, s, ssmPath, map[string]string{"BinaryUrl": url, pin: sum}, "CURL_CA_BUNDLE="+ca)
	if r.code != 0 {
		t.Fatalf("SSM script with a presigned URL: %s", r)
	}
	if got, _ := seen.Load().(string); got != "/bucket/v1.0.0/"+binaryName(t)+"?"+query {
		t.Errorf("requested %q, want the presigned URL as given", got)
	}
	if strings.Contains(r.stderr, "X-Amz-Signature") {
		t.Errorf("the signature was logged:\n%s", r.stderr)
	}
	readFakeRun(t, rec)

	other := map[string]string{"amd64": "swap-bootstrap-linux-arm64", "arm64": "swap-bootstrap-linux-amd64"}[arch(t)]
	s2 := newScenario(t)
	r = ssmRun(t, s2, ssmPath, map[string]string{"BinaryUrl": srv.URL + "/bucket/" + other + "?" + query, pin: sum}, "CURL_CA_BUNDLE="+ca)
	if r.code != 2 || !strings.Contains(r.stderr, "BinaryUrl is "+other+" but this instance is "+arch(t)) {
		t.Errorf("a presigned URL for the other architecture: want exit 2 naming it, got %s", r)
	}
	assertEmptyDir(t, s2.root, "the install root")
}

// TestSSMScriptRefuses: settings the script cannot work with, and an agent
// that does not pass the parameters as environment variables.
func TestSSMScriptRefuses(t *testing.T) {
	pin := "Sha256" + strings.ToUpper(arch(t)[:1]) + arch(t)[1:]
	for _, tc := range []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"old agent: no SSM_* variables", nil, "needs SSM Agent 3.3.2746.0 or later"},
		{"no version, no URL", map[string]string{pin: strings.Repeat("a", 64)}, "the Version parameter is empty"},
		{"no pin", map[string]string{"Version": "v1.0.0"}, "the " + pin + " parameter is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScenario(t)
			r := ssmRun(t, s, ssmPath, tc.params)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want exit 2 saying %q, got %s", tc.want, r)
			}
			assertEmptyDir(t, s.root, "the install root")
			assertEmptyDir(t, s.tmp, "TMPDIR")
		})
	}
	t.Run("checksum mismatch", func(t *testing.T) {
		s := newScenario(t)
		rec := t.TempDir()
		s.publish(t, fakeBinary(rec))
		r := ssmRun(t, s, ssmPath, map[string]string{"BinaryUrl": "file://" + s.dist, pin: sha([]byte("other"))})
		if r.code != 1 || !strings.Contains(r.stderr, "checksum mismatch") {
			t.Errorf("want a checksum failure, got %s", r)
		}
		if _, err := os.Stat(filepath.Join(rec, "args")); err == nil {
			t.Error("the unverified binary was run")
		}
		assertEmptyDir(t, s.root, "the install root")
	})
}

// assertNoRunner: the hidden copy a script runs the binary from is gone.
func assertNoRunner(t *testing.T, root string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(root, "usr/local/sbin/.swap-bootstrap-installer.*"))
	if len(left) > 0 {
		t.Errorf("the installer's copy was left behind: %q", left)
	}
}

// TestBuildScript runs scripts/build.sh into a temporary directory: both
// binaries are static ELF files and SHA256SUMS verifies them.
func TestBuildScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	bash := needTool(t, "bash")
	dist := t.TempDir()
	env := append(os.Environ(), "DIST="+dist, "VERSION=v0.0.0-test")
	r := run(t, ".", env, bash, "build.sh")
	if r.code != 0 {
		t.Fatalf("build.sh failed: %s", r)
	}
	for _, a := range []string{"amd64", "arm64"} {
		b, err := os.ReadFile(filepath.Join(dist, "swap-bootstrap-linux-"+a))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\x7fELF")) {
			t.Errorf("swap-bootstrap-linux-%s is not an ELF binary", a)
		}
		if bytes.Contains(b, []byte("ld-linux")) {
			t.Errorf("swap-bootstrap-linux-%s asks for a dynamic loader; it must be static", a)
		}
	}
	sums, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if lines := strings.Count(string(sums), "\n"); lines != 2 {
		t.Errorf("SHA256SUMS has %d lines, want 2:\n%s", lines, sums)
	}
	cmd := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	cmd.Dir = dist
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum --check SHA256SUMS: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(dist, "swap-bootstrap-linux-"+runtime.GOARCH), "version").CombinedOutput()
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
		if err != nil || !strings.Contains(string(out), "v0.0.0-test") {
			t.Errorf("`swap-bootstrap version` = %q (%v), want the stamped v0.0.0-test", out, err)
		}
	}
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
