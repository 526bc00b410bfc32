package scripts

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/install"
)

// fakeCurl puts a stand-in for curl first on the PATH: it appends the URL it
// is asked for (its last argument) to log and writes the file body where
// --output/-o says. It returns the PATH to use.
func fakeCurl(t *testing.T, body, log string) string {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
# stand-in for curl: record the URL, "download" the prepared body
out=""
while [ $# -gt 1 ]; do
	case $1 in -o | --output) out=$2 ;; esac
	shift
done
printf '%s\n' "$1" >>` + shellQuote(log) + `
cp ` + shellQuote(body) + ` "$out"
`
	if err := os.WriteFile(filepath.Join(dir, "curl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// setPath replaces the PATH entry of env.
func setPath(env []string, path string) []string {
	env = slices.DeleteFunc(slices.Clone(env), func(e string) bool { return strings.HasPrefix(e, "PATH=") })
	return append(env, "PATH="+path)
}

// TestReleaseURL: given only a version and the pins, every install file
// downloads swap-bootstrap-linux-<arch> from that GitHub release, verifies
// it and runs it. curl is a stand-in here: tests never leave 127.0.0.1.
func TestReleaseURL(t *testing.T) {
	const version = "v9.8.7"
	want := releaseBase + version + "/" + binaryName(t)
	ssmPin := "Sha256" + strings.ToUpper(arch(t)[:1]) + arch(t)[1:]
	for _, kind := range []string{"user-data.sh", "cloud-config bootcmd", "Elastic Beanstalk hook", "SSM document"} {
		t.Run(kind, func(t *testing.T) {
			s := newScenario(t)
			rec := t.TempDir()
			fake := fakeBinary(rec)
			body := filepath.Join(t.TempDir(), "body")
			os.WriteFile(body, fake, 0o644)
			log := filepath.Join(t.TempDir(), "urls")
			path := fakeCurl(t, body, log)
			env := setPath(s.env(append(shaEnv(t, sha(fake)), "SWAP_BOOTSTRAP_VERSION="+version)...), path)

			var r result
			switch kind {
			case "user-data.sh":
				r = run(t, s.dir, env, needTool(t, "bash"), absPath(t, userData))
			case "cloud-config bootcmd":
				script := filepath.Join(t.TempDir(), "bootcmd.sh")
				os.WriteFile(script, []byte(bootcmd(t)), 0o644)
				r = run(t, s.dir, env, needTool(t, "sh"), script)
			case "Elastic Beanstalk hook":
				staging, hook := ebStaging(t, s, nil)
				r = run(t, staging, env, hook)
			case "SSM document":
				r = ssmRun(t, s, ssmPath, map[string]string{"Version": version, ssmPin: sha(fake)}, "PATH="+path)
			}
			if r.code != 0 {
				t.Fatalf("%s: %s", kind, r)
			}
			urls, _ := os.ReadFile(log)
			if got := strings.TrimSpace(string(urls)); got != want {
				t.Errorf("downloaded %q, want %q", got, want)
			}
			got := installRun(t, rec, s.root)
			for k := range got.env {
				if strings.HasPrefix(k, "SWAP_BOOTSTRAP_") {
					t.Errorf("%s reached the binary; install would save it", k)
				}
			}
			assertEmptyDir(t, s.tmp, "TMPDIR")
			assertNoRunner(t, s.root)
		})
	}
}

// TestCloudConfigBootcmdNeedsSettings: like user-data.sh, the bootcmd names
// every setting at fault at once, exits 2 and installs nothing.
func TestCloudConfigBootcmdNeedsSettings(t *testing.T) {
	sh := needTool(t, "sh")
	script := filepath.Join(t.TempDir(), "bootcmd.sh")
	if err := os.WriteFile(script, []byte(bootcmd(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	pin := "SWAP_BOOTSTRAP_SHA256_" + strings.ToUpper(arch(t))
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"nothing set", nil, []string{"SWAP_BOOTSTRAP_VERSION is empty", pin + " is empty"}},
		{"no pin", []string{"SWAP_BOOTSTRAP_VERSION=v1.0.0"}, []string{pin + " is empty"}},
		{"short pin", []string{"SWAP_BOOTSTRAP_VERSION=v1.0.0", "SWAP_BOOTSTRAP_SHA256_AMD64=abc", "SWAP_BOOTSTRAP_SHA256_ARM64=abc"}, []string{pin + `="abc" is not a SHA-256`}},
		{"bad version", append(shaEnv(t, strings.Repeat("a", 64)), "SWAP_BOOTSTRAP_VERSION=v1;reboot"), []string{"is not a release tag"}},
		{"not a tag", append(shaEnv(t, strings.Repeat("a", 64)), "SWAP_BOOTSTRAP_VERSION=main"), []string{`SWAP_BOOTSTRAP_VERSION="main" is not a release tag`}},
		{"unknown scheme", append(shaEnv(t, strings.Repeat("a", 64)), "SWAP_BOOTSTRAP_URL=ftp://example.invalid"), []string{"must start with https://"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScenario(t)
			r := run(t, s.dir, s.env(tc.env...), sh, script)
			assertRefusedSettings(t, s, r, tc.want...)
		})
	}
}

// noexecTmpfs mounts a small tmpfs with noexec (as CIS-hardened images mount
// /tmp) and shows that a binary there cannot run.
func noexecTmpfs(t *testing.T) string {
	t.Helper()
	needRoot(t)
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOEXEC|syscall.MS_NOSUID|syscall.MS_NODEV, "size=64m,mode=1777"); err != nil {
		skipOrFail(t, "mount a noexec tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	probe := filepath.Join(dir, "true")
	src, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(probe, src, 0o755)
	if err := exec.Command(probe).Run(); err == nil {
		t.Fatalf("%s is mounted noexec, yet a binary in it ran", dir)
	}
	os.Remove(probe)
	return dir
}

// TestInstallWithNoexecTmpAndNoCurl runs the cloud-config bootcmd and
// user-data.sh as root with TMPDIR on a noexec tmpfs and without curl: they
// download with wget over HTTP from 127.0.0.1 and install the real binary.
func TestInstallWithNoexecTmpAndNoCurl(t *testing.T) {
	needRoot(t)
	binary := realBinary(t)
	needTool(t, "wget")
	noCurl := pathWithout(t, "curl")
	for _, kind := range []string{"cloud-config bootcmd", "user-data.sh"} {
		t.Run(kind, func(t *testing.T) {
			s := newScenario(t)
			s.tmp = noexecTmpfs(t)
			sum := s.publish(t, binary)
			srv := httptest.NewServer(http.FileServer(http.Dir(s.dist)))
			t.Cleanup(srv.Close)
			env := setPath(s.env(append(shaEnv(t, sum), "SWAP_BOOTSTRAP_URL="+srv.URL)...), noCurl)

			var r result
			if kind == "user-data.sh" {
				r = run(t, s.dir, env, needTool(t, "bash"), absPath(t, userData))
			} else {
				script := filepath.Join(t.TempDir(), "bootcmd.sh")
				os.WriteFile(script, []byte(bootcmd(t)), 0o644)
				r = run(t, s.dir, env, needTool(t, "sh"), script)
			}
			if r.code != 0 {
				t.Fatalf("%s with a noexec TMPDIR and no curl: %s", kind, r)
			}
			assertInstalled(t, s.root, binary)
			assertEmptyDir(t, s.tmp, "TMPDIR")
			assertNoRunner(t, s.root)
			if _, err := os.Stat(filepath.Join(s.root, install.BinaryPath)); err != nil {
				t.Error(err)
			}
		})
	}
}
