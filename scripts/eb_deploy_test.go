package scripts

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// ebInstance stands in for an Elastic Beanstalk instance: a temporary
// directory in place of /, with the platform engine's directories in it.
type ebInstance struct {
	dir     string // stands for /
	bundle  string // /opt/elasticbeanstalk/deployment/app_source_bundle
	staging string // /var/app/staging
	current string // /var/app/current
}

func newEBInstance(t *testing.T) *ebInstance {
	t.Helper()
	dir := t.TempDir()
	i := &ebInstance{
		dir:     dir,
		bundle:  filepath.Join(dir, "opt/elasticbeanstalk/deployment/app_source_bundle"),
		staging: filepath.Join(dir, "var/app/staging"),
		current: filepath.Join(dir, "var/app/current"),
	}
	if err := os.MkdirAll(filepath.Dir(i.bundle), 0o755); err != nil {
		t.Fatal(err)
	}
	return i
}

// path maps an absolute path on the instance into the stand-in tree.
func (i *ebInstance) path(p string) string { return filepath.Join(i.dir, p) }

// deploy runs one application deployment in the order eb-engine.log shows
// on AL2 and AL2023 (and the AWS "Instance deployment workflow" page
// describes): the bundle is downloaded to app_source_bundle; then
// PreBuildEbExtension, where cfn-init writes the .ebextensions `files:` and
// runs their `commands:`; then StageApplication, which recreates
// /var/app/staging and runs `unzip -q -o app_source_bundle -d
// /var/app/staging/`; then RunAppDeployPreBuildHooks, which runs
// .platform/hooks/prebuild/* from the staging directory; finally
// FlipApplication renames staging to /var/app/current. Like the engine it
// stops at the first step that fails. It returns that step's name ("" when
// the deployment succeeded) and everything the steps printed.
func (i *ebInstance) deploy(t *testing.T, bundle []byte, env []string) (failed string, out string) {
	t.Helper()
	var log strings.Builder
	env = append(slices.Clone(env), "SWAP_BOOTSTRAP_EB_SOURCE_BUNDLE="+i.bundle)

	// Downloading EB Application...
	if err := os.WriteFile(i.bundle, bundle, 0o644); err != nil {
		t.Fatal(err)
	}

	// PreBuildEbExtension: .ebextensions/*.config in the bundle, in name
	// order, each `files:` before its `commands:` (cfn-init's order), commands
	// in name order.
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil {
		t.Fatal(err)
	}
	var configs []*zip.File
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, ".ebextensions/") && strings.HasSuffix(f.Name, ".config") {
			configs = append(configs, f)
		}
	}
	sort.Slice(configs, func(a, b int) bool { return configs[a].Name < configs[b].Name })
	for _, f := range configs {
		rc, _ := f.Open()
		var text bytes.Buffer
		text.ReadFrom(rc)
		rc.Close()
		p := filepath.Join(t.TempDir(), filepath.Base(f.Name))
		os.WriteFile(p, text.Bytes(), 0o644)
		var c struct {
			Files map[string]struct {
				Mode    string `json:"mode"`
				Content string `json:"content"`
			} `json:"files"`
			Commands map[string]struct {
				Command string `json:"command"`
				Cwd     string `json:"cwd"`
			} `json:"commands"`
		}
		yamlFile(t, p, &c)
		for name, file := range c.Files {
			var mode os.FileMode
			fmt.Sscanf(file.Mode, "%o", &mode)
			dst := i.path(name)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.WriteFile(dst, []byte(file.Content), mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(dst, mode)
		}
		names := make([]string, 0, len(c.Commands))
		for name := range c.Commands {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			cmd := c.Commands[name]
			command := cmd.Command
			for file := range c.Files {
				command = strings.ReplaceAll(command, file, i.path(file))
			}
			cwd := i.dir
			if cmd.Cwd != "" {
				cwd = i.path(cmd.Cwd)
			}
			fmt.Fprintf(&log, "PreBuildEbExtension: commands.%s: %s (cwd %s)\n", name, cmd.Command, cmd.Cwd)
			// cfn-init hands cwd to subprocess.Popen: a missing one fails the
			// command before it starts.
			if fi, err := os.Stat(cwd); err != nil || !fi.IsDir() {
				fmt.Fprintf(&log, "cwd %s: %v\n", cmd.Cwd, err)
				return "PreBuildEbExtension", log.String()
			}
			r := run(t, cwd, env, "/bin/sh", "-c", command)
			log.WriteString(r.stderr)
			if r.code != 0 {
				return "PreBuildEbExtension", log.String()
			}
		}
	}

	// StageApplication: "Recreating /var/app/staging/", then unzip.
	if err := os.RemoveAll(i.staging); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(i.staging, 0o755)
	if out, err := exec.Command(needTool(t, "unzip"), "-q", "-o", i.bundle, "-d", i.staging+"/").CombinedOutput(); err != nil {
		fmt.Fprintf(&log, "StageApplication: unzip: %v %s\n", err, out)
		return "StageApplication", log.String()
	}

	// RunAppDeployPreBuildHooks: executables in .platform/hooks/prebuild, in
	// name order, run from the staging directory by their relative path.
	hooks, _ := filepath.Glob(filepath.Join(i.staging, ".platform/hooks/prebuild/*"))
	sort.Strings(hooks)
	for _, h := range hooks {
		rel, _ := filepath.Rel(i.staging, h)
		fmt.Fprintf(&log, "RunAppDeployPreBuildHooks: %s\n", rel)
		r := run(t, i.staging, env, "./"+rel)
		log.WriteString(r.stderr)
		if r.code != 0 {
			return "RunAppDeployPreBuildHooks", log.String()
		}
	}

	// FlipApplication: "Renaming /var/app/staging/ to /var/app/current/".
	os.RemoveAll(i.current)
	if err := os.Rename(i.staging, i.current); err != nil {
		t.Fatal(err)
	}
	return "", log.String()
}

// sourceBundle zips files (name -> content) as a source bundle; names under
// .platform/ and bin/ ending in .sh are executable.
func sourceBundle(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := &zip.FileHeader{Name: n, Method: zip.Deflate}
		h.SetMode(0o644)
		if strings.HasSuffix(n, ".sh") {
			h.SetMode(0o755)
		}
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(files[n])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// versionedFake is a stand-in binary that records, besides how it was run,
// which bundle it came from.
func versionedFake(rec, version string) []byte {
	return append(fakeBinary(rec), []byte(fmt.Sprintf("echo %s >%q/version\n", version, rec))...)
}

func ranVersion(t *testing.T, rec string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(rec, "version"))
	if err != nil {
		t.Fatalf("no binary ran: %v", err)
	}
	os.Remove(filepath.Join(rec, "version"))
	return strings.TrimSpace(string(b))
}

func shipped(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestElasticBeanstalkDeployOrder deploys source bundles to a stand-in
// instance in the platform's order and directory layout and shows which
// binary ran: on a first deploy (no /var/app/staging yet), on a redeploy
// (the previous bundle in /var/app/current), and after a failed deploy left
// an earlier bundle in /var/app/staging, the binary of the bundle being
// deployed runs, both from .ebextensions `commands:` and from the hooks.
func TestElasticBeanstalkDeployOrder(t *testing.T) {
	needTool(t, "unzip")
	name := binaryName(t)
	dockerrun := []byte(`{"AWSEBDockerrunVersion": "1", "Image": {"Name": "nginx"}, "Ports": [{"ContainerPort": 80}]}` + "\n")
	layouts := map[string]func(bin []byte) map[string][]byte{
		".ebextensions": func(bin []byte) map[string][]byte {
			return map[string][]byte{".ebextensions/01-swap.config": shipped(t, ebextPath), "bin/" + name: bin, "Dockerrun.aws.json": dockerrun}
		},
		".platform hooks": func(bin []byte) map[string][]byte {
			return map[string][]byte{
				".platform/hooks/prebuild/01-swap.sh":       shipped(t, hookPath),
				".platform/confighooks/prebuild/01-swap.sh": shipped(t, confighookPath),
				"bin/" + name:        bin,
				"Dockerrun.aws.json": dockerrun,
			}
		},
	}
	for layout, files := range layouts {
		t.Run(layout, func(t *testing.T) {
			s := newScenario(t)
			i := newEBInstance(t)
			rec := t.TempDir()
			env := s.env()

			// First deploy: nothing in /var/app yet.
			v1 := versionedFake(rec, "v1")
			if failed, log := i.deploy(t, sourceBundle(t, files(v1)), env); failed != "" {
				t.Fatalf("first deploy failed at %s:\n%s", failed, log)
			}
			if got := ranVersion(t, rec); got != "v1" {
				t.Errorf("first deploy ran the binary of bundle %s, want v1", got)
			}

			// Redeploy: v1 is in /var/app/current; the pin of v2 is set, so a
			// stale binary would also be refused.
			v2 := versionedFake(rec, "v2")
			if failed, log := i.deploy(t, sourceBundle(t, files(v2)), append(env, shaEnv(t, sha(v2))...)); failed != "" {
				t.Fatalf("redeploy failed at %s:\n%s", failed, log)
			}
			if got := ranVersion(t, rec); got != "v2" {
				t.Errorf("redeploy ran the binary of bundle %s, want v2", got)
			}

			// An earlier deploy failed after extracting: its bundle (v1) is
			// still in /var/app/staging when the next one (v3) starts.
			os.MkdirAll(i.staging, 0o755)
			os.WriteFile(i.bundle, sourceBundle(t, files(v1)), 0o644)
			if out, err := exec.Command("unzip", "-q", "-o", i.bundle, "-d", i.staging).CombinedOutput(); err != nil {
				t.Fatalf("unzip: %v %s", err, out)
			}
			v3 := versionedFake(rec, "v3")
			if failed, log := i.deploy(t, sourceBundle(t, files(v3)), env); failed != "" {
				t.Fatalf("deploy over a failed one failed at %s:\n%s", failed, log)
			}
			if got := ranVersion(t, rec); got != "v3" {
				t.Errorf("deploy over a failed one ran the binary of bundle %s, want v3", got)
			}
			assertNoRunner(t, s.root)
		})
	}

	// The same .ebextensions with the cwd the file used to have: on a new
	// instance the deployment fails before the command starts, which is what
	// this stand-in must reproduce to prove anything above.
	t.Run("control: cwd /var/app/staging", func(t *testing.T) {
		s := newScenario(t)
		i := newEBInstance(t)
		config := strings.Replace(string(shipped(t, ebextPath)), "    command: /opt/swap-bootstrap/01-swap.sh\n",
			"    command: /opt/swap-bootstrap/01-swap.sh\n    cwd: /var/app/staging\n", 1)
		rec := t.TempDir()
		bundle := sourceBundle(t, map[string][]byte{".ebextensions/01-swap.config": []byte(config), "bin/" + name: versionedFake(rec, "v1")})
		if failed, log := i.deploy(t, bundle, s.env()); failed != "PreBuildEbExtension" {
			t.Errorf("with cwd /var/app/staging the first deploy failed at %q, want PreBuildEbExtension:\n%s", failed, log)
		}
	})
}

// TestElasticBeanstalkDownloadOnly: a bundle with .ebextensions but no bin/
// gets the binary from SWAP_BOOTSTRAP_URL (here a file:// location; a
// version alone means the GitHub release, see TestReleaseURL), checked
// against its pin; without a pin it is refused.
func TestElasticBeanstalkDownloadOnly(t *testing.T) {
	needTool(t, "unzip")
	s := newScenario(t)
	i := newEBInstance(t)
	rec := t.TempDir()
	fake := versionedFake(rec, "download")
	sum := s.publish(t, fake)
	bundle := sourceBundle(t, map[string][]byte{".ebextensions/01-swap.config": shipped(t, ebextPath), "Dockerrun.aws.json": []byte("{}\n")})

	failed, log := i.deploy(t, bundle, s.env("SWAP_BOOTSTRAP_URL=file://"+s.dist))
	if failed != "PreBuildEbExtension" || !strings.Contains(log, "must be pinned") {
		t.Errorf("a download without a pin: want the deployment to fail at PreBuildEbExtension asking for a pin, got %q:\n%s", failed, log)
	}
	if failed, log := i.deploy(t, bundle, s.env(append(shaEnv(t, sum), "SWAP_BOOTSTRAP_URL=file://"+s.dist)...)); failed != "" {
		t.Fatalf("deploy failed at %s:\n%s", failed, log)
	}
	if got := ranVersion(t, rec); got != "download" {
		t.Errorf("ran %s, want the downloaded binary", got)
	}
}
