// Package imdstest runs the Amazon EC2 metadata emulator
// (amazon-ec2-metadata-mock) for tests: one process per test on a free
// 127.0.0.1 port, configured with the instance type and tags the test asks
// for, stopped when the test ends.
//
// Install the emulator with
//
//	tools/install.sh ec2-metadata-mock   (the version pinned there)
//
// Tests that need it skip when it is missing, and fail when CI=true.
package imdstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// The identity the emulator reports, chosen to differ from its built-in
// defaults so a test proves the configuration was applied.
const (
	InstanceID       = "i-0b5e5c0ffee5ba5e0"
	Region           = "eu-central-1"
	AvailabilityZone = "eu-central-1b"
	AccountID        = "123456789012"
)

// binaryName is what `go install .../cmd/ec2-metadata-mock` produces.
const binaryName = "ec2-metadata-mock"

// EmulatorConfig is what the emulated instance looks like.
type EmulatorConfig struct {
	// InstanceType is served both at meta-data/instance-type and in the
	// identity document; "" means t3.micro.
	InstanceType string
	// IMDSv2Only makes every data request without a valid token get 401
	// (the emulator's --imdsv2).
	IMDSv2Only bool
	// Tags are instance tags served under meta-data/tags/instance/. The
	// emulator has two tag slots, so at most two; unused slots keep its
	// default tags "Name" and "Test".
	Tags map[string]string
	// Architecture goes in the identity document; "" means arm64 for
	// Graviton types (a1, and families like t4g, m6gd, c7gn) and x86_64
	// otherwise.
	Architecture string
}

// StartEmulator starts the emulator for the test and returns its endpoint,
// e.g. "http://127.0.0.1:40123". It is stopped in t.Cleanup; its log is
// printed when the test failed.
func StartEmulator(t testing.TB, c EmulatorConfig) (endpoint string) {
	t.Helper()
	bin := Binary(t)
	if len(c.Tags) > 2 {
		t.Fatalf("imdstest: the emulator has 2 tag slots; %d tags asked for", len(c.Tags))
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "aemm-config.json")
	cfg, err := json.MarshalIndent(emulatorFile(c), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}

	// The free port is found by binding and releasing it, so another process
	// may take it before the emulator binds: try a few ports.
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("imdstest: no free port on 127.0.0.1: %v", err)
		}
		endpoint, err := start(t, bin, dir, cfgPath, port, c.IMDSv2Only)
		if err == nil {
			return endpoint
		}
		lastErr = err
	}
	t.Fatalf("imdstest: emulator did not start: %v", lastErr)
	return ""
}

func start(t testing.TB, bin, home, cfgPath, port string, v2Only bool) (string, error) {
	t.Helper()
	args := []string{"-n", "127.0.0.1", "-p", port, "-c", cfgPath}
	if v2Only {
		args = append(args, "--imdsv2")
	}
	cmd := exec.Command(bin, args...)
	// HOME points at the temp dir so $HOME/aemm-config.json is not loaded;
	// AEMM_* variables would override the config through viper.
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "AEMM_")
	}), "HOME="+home)
	cmd.Dir = home
	out := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	endpoint := "http://127.0.0.1:" + port
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return "", fmt.Errorf("emulator exited (%v):\n%s", err, out.String())
		default:
		}
		if ready(endpoint) {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("emulator not answering on %s after 10s:\n%s", endpoint, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("emulator on %s (%s) log:\n%s", endpoint, strings.Join(args, " "), out.String())
		}
	})
	return endpoint, nil
}

// ready is true once the emulator serves HTTP: its root lists "latest", or
// answers 401 with --imdsv2.
func ready(endpoint string) bool {
	c := http.Client{Timeout: 200 * time.Millisecond, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get(endpoint + "/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// emulatorFile is the emulator's -c configuration: values override its
// built-in defaults (pkg/config/defaults/aemm-metadata-default-values.json)
// key by key, except the identity document, which is replaced whole.
func emulatorFile(c EmulatorConfig) map[string]any {
	typ := c.InstanceType
	if typ == "" {
		typ = "t3.micro"
	}
	arch := c.Architecture
	if arch == "" {
		arch = guessArchitecture(typ)
	}
	paths := map[string]any{}
	values := map[string]any{
		"instance-type":               typ,
		"instance-id":                 InstanceID,
		"placement-region":            Region,
		"placement-availability-zone": AvailabilityZone,
	}
	names := make([]string, 0, len(c.Tags))
	for k := range c.Tags {
		names = append(names, k)
	}
	slices.Sort(names)
	for i, name := range names {
		slot := []string{"tags-instance-name", "tags-instance-test"}[i]
		paths[slot] = "/latest/meta-data/tags/instance/" + name
		values[slot] = c.Tags[name]
	}
	return map[string]any{
		"metadata": map[string]any{"paths": paths, "values": values},
		"dynamic": map[string]any{"values": map[string]any{
			"instance-identity-document": map[string]any{
				"accountId":               AccountID,
				"imageId":                 "ami-0b69ea66ff7391e80",
				"availabilityZone":        AvailabilityZone,
				"ramdiskId":               nil,
				"kernelId":                nil,
				"devpayProductCodes":      nil,
				"marketplaceProductCodes": nil,
				"version":                 "2017-09-30",
				"privateIp":               "10.0.7.10",
				"billingProducts":         nil,
				"instanceId":              InstanceID,
				"pendingTime":             "2024-05-01T07:02:24Z",
				"architecture":            arch,
				"instanceType":            typ,
				"region":                  Region,
			},
		}},
	}
}

// graviton matches the families with an AWS Graviton (arm64) processor: a
// "g" right after the generation digit, e.g. t4g, m6gd, c7gn, im4gn, is4gen.
var graviton = regexp.MustCompile(`^[a-z]+[0-9]+g`)

func guessArchitecture(instanceType string) string {
	family, _, _ := strings.Cut(instanceType, ".")
	if family == "a1" || graviton.MatchString(family) {
		return "arm64"
	}
	return "x86_64"
}

// Binary returns the emulator's path: $AEMM_BIN, else ec2-metadata-mock on
// PATH, else in $GOBIN or $GOPATH/bin. When it is missing the test is
// skipped, or fails when CI=true.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("AEMM_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("AEMM_BIN=%q: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath(binaryName); err == nil {
		return p
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, binaryName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found (AEMM_BIN, PATH, %s); install it with: "+
		"tools/install.sh ec2-metadata-mock (from the repository root)",
		binaryName, strings.Join(dirs, ", "))
	swaptest.SkipOrFail(t, msg)
	return ""
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers: the emulator's two
// pipes, or a logger shared by goroutines.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
