package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/imds/imdstest"
	"github.com/soundhub/swap-bootstrap/internal/install"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// TestElasticBeanstalkHookMakesSwap runs the prebuild hook the way Elastic
// Beanstalk runs it (as root, executed from the staging directory, the binary
// from the bundle's bin/) on a t3.micro emulated on 127.0.0.1 and a loop
// filesystem: the 1 GiB instance gets its 2 GiB swapfile before the image pull,
// and the unit's env file keeps the settings for every reboot.
func TestElasticBeanstalkHookMakesSwap(t *testing.T) {
	needRoot(t)
	binary := realBinary(t)
	s := newScenario(t)
	staging, hook := ebStaging(t, s, binary)
	fs := swaptest.Mount(t, "xfs", 6<<30, "")
	file := filepath.Join(fs, "swapfile")
	endpoint := imdstest.StartEmulator(t, imdstest.EmulatorConfig{InstanceType: "t3.micro", IMDSv2Only: true})
	env := without(s.env("SWAP_POLICY=ratio", "SWAP_FILE="+file, "SWAP_IMDS=required",
		"AWS_EC2_METADATA_DISABLED=false", "AWS_EC2_METADATA_SERVICE_ENDPOINT="+endpoint), "SWAP_INSTANCE_TYPE")

	r := run(t, staging, env, hook)
	if r.code != 0 {
		t.Fatalf("prebuild hook: %s", r)
	}
	if !strings.Contains(r.stderr, "2 GiB swap (active, created); RAM 1 GiB from instance-type table (t3.micro from metadata service)") {
		t.Errorf("summary line:\n%s", r.stderr)
	}
	if a, ok := swaptest.Active(t, file); !ok || a.Size != 2<<30-int64(os.Getpagesize()) {
		t.Errorf("/proc/swaps: %+v active=%v", a, ok)
	}
	if b, err := os.ReadFile(filepath.Join(s.root, install.BinaryPath)); err != nil || string(b) != string(binary) {
		t.Errorf("binary not installed from the bundle: %v", err)
	}
	saved, _ := os.ReadFile(filepath.Join(s.root, install.EnvFilePath))
	for _, want := range []string{`SWAP_FILE="` + file + `"`, `AWS_EC2_METADATA_SERVICE_ENDPOINT="` + endpoint + `"`, `SWAP_IMDS="required"`} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("env file lacks %s:\n%s", want, saved)
		}
	}
	// A redeploy runs the hook again: nothing changes.
	if r := run(t, staging, env, hook); r.code != 0 || !strings.Contains(r.stderr, "(active, unchanged)") {
		t.Errorf("second deploy: %s", r)
	}
}

// without drops every entry for name from env.
func without(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
