package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/imds/imdstest"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// metadataEnv points a run at an endpoint (and never at the real service).
func metadataEnv(t *testing.T, file, endpoint string, kv ...string) []string {
	return override(env(t, file, kv...), "SWAP_IMDS=auto", "AWS_EC2_METADATA_DISABLED=false", "AWS_EC2_METADATA_SERVICE_ENDPOINT="+endpoint)
}

type planJSON struct {
	Facts struct {
		InstanceType string  `json:"instance_type"`
		TypeSource   string  `json:"instance_type_source"`
		Region       string  `json:"region"`
		MemoryBytes  int64   `json:"memory_bytes"`
		MemorySource string  `json:"memory_source"`
		MetadataMS   float64 `json:"metadata_ms"`
		MetadataNote string  `json:"metadata_note"`
	} `json:"facts"`
	Policy  string            `json:"policy"`
	Sources map[string]string `json:"sources"`
	Plan    struct {
		Target int64 `json:"target_bytes"`
	} `json:"plan"`
	Warnings []string `json:"warnings"`
}

func plan(t *testing.T, e []string) (planJSON, result) {
	t.Helper()
	r := runBin(t, e, "plan", "--json")
	var p planJSON
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil && r.code == 0 {
		t.Fatalf("plan --json: %v\n%s", err, r.stdout)
	}
	return p, r
}

// TestMetadataSizing is the metadata issue's acceptance test: an IMDSv2-only
// emulator saying t3.micro gives a 2 GiB swapfile (2 × nominal 1 GiB) and
// t4g.small 4 GiB, made by apply on a loop filesystem.
func TestMetadataSizing(t *testing.T) {
	dir := swaptest.Mount(t, "ext4", 12*gib, "")
	for _, c := range []struct {
		typ  string
		want int64
	}{{"t3.micro", 2 * gib}, {"t4g.small", 4 * gib}} {
		t.Run(c.typ, func(t *testing.T) {
			endpoint := imdstest.StartEmulator(t, imdstest.EmulatorConfig{InstanceType: c.typ, IMDSv2Only: true})
			e := metadataEnv(t, filepath.Join(dir, "swapfile"), endpoint)
			r := mustRun(t, e)
			if !strings.Contains(r.stderr, c.typ+" from metadata service") {
				t.Errorf("summary does not name the type and its source:\n%s", r.stderr)
			}
			assertOneActiveFile(t, e, c.want)
			mustRun(t, e, "remove")
		})
	}
}

func TestMetadataPlan(t *testing.T) {
	cases := []struct {
		name, typ string
		v2only    bool
		extra     []string
		target    int64
		source    string
	}{
		{"IMDSv1+v2 emulator, t3.micro", "t3.micro", false, nil, 2 * gib, "instance-type table"},
		// A test machine is far smaller than 768 GiB, which is what a mem= limit
		// looks like: MemTotal sizes it, and SWAP_MAX caps the result.
		{"r5.24xlarge capped by SWAP_MAX", "r5.24xlarge", true, []string{"SWAP_MAX=8G"}, 8 * gib, "MemTotal"},
		{"unknown type falls back to MemTotal", "zz9.mega", true, []string{"SWAP_MAX=1T", "SWAP_DISK_PERCENT=100", "SWAP_DISK_RESERVE=0"}, 0, "MemTotal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			endpoint := imdstest.StartEmulator(t, imdstest.EmulatorConfig{InstanceType: c.typ, IMDSv2Only: c.v2only})
			p, r := plan(t, metadataEnv(t, "/var/swap-bootstrap-test-never-created", endpoint, c.extra...))
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if p.Facts.InstanceType != c.typ || p.Facts.TypeSource != "metadata service" || p.Facts.MemorySource != c.source || p.Facts.Region == "" {
				t.Errorf("facts %+v", p.Facts)
			}
			if c.target > 0 && p.Plan.Target != c.target {
				t.Errorf("target %d, want %d", p.Plan.Target, c.target)
			}
			if c.typ == "zz9.mega" && !strings.Contains(strings.Join(p.Warnings, "\n"), `instance type "zz9.mega" is not in the embedded table`) {
				t.Errorf("the unknown type is not named: %q", p.Warnings)
			}
		})
	}
}

// TestMetadataTags: with SWAP_TAGS=true an instance tag overrides the
// variable, and plan says where the value came from; a bad tag is named and
// ignored.
func TestMetadataTags(t *testing.T) {
	endpoint := imdstest.StartEmulator(t, imdstest.EmulatorConfig{InstanceType: "t3.micro", IMDSv2Only: true,
		Tags: map[string]string{"swap-bootstrap:size": "3G"}})
	p, r := plan(t, metadataEnv(t, "/var/swap-bootstrap-test-never-created", endpoint, "SWAP_TAGS=true"))
	if r.code != 0 || p.Plan.Target != 3*gib || p.Policy != "fixed" || p.Sources["size"] != "tag swap-bootstrap:size" {
		t.Errorf("exit %d target %d policy %s sources %v\n%s", r.code, p.Plan.Target, p.Policy, p.Sources, r.stderr)
	}
	p, _ = plan(t, metadataEnv(t, "/var/swap-bootstrap-test-never-created", endpoint))
	if p.Plan.Target != 2*gib {
		t.Errorf("without SWAP_TAGS the tag was used: %d", p.Plan.Target)
	}

	bad := imdstest.StartEmulator(t, imdstest.EmulatorConfig{InstanceType: "t3.micro", Tags: map[string]string{"swap-bootstrap:size": "lots"}})
	p, r = plan(t, metadataEnv(t, "/var/swap-bootstrap-test-never-created", bad, "SWAP_TAGS=true"))
	if r.code != 0 || p.Plan.Target != 2*gib || !strings.Contains(strings.Join(p.Warnings, "\n"), `swap-bootstrap:size="lots" ignored`) {
		t.Errorf("bad tag: exit %d target %d warnings %q", r.code, p.Plan.Target, p.Warnings)
	}
}

// TestMetadataUnreachable: an endpoint that refuses or never answers costs at
// most SWAP_IMDS_TIMEOUT; plan sizes from /proc/meminfo, and
// SWAP_IMDS=required exits 1.
func TestMetadataUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close()
	hang := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	t.Cleanup(func() { close(hang); silent.Close() })

	for name, endpoint := range map[string]string{"refused": refused, "silent": silent.URL} {
		t.Run(name, func(t *testing.T) {
			e := metadataEnv(t, "/var/swap-bootstrap-test-never-created", endpoint, "SWAP_IMDS_TIMEOUT=1s")
			start := time.Now()
			p, r := plan(t, e)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("plan took %s with SWAP_IMDS_TIMEOUT=1s", d)
			}
			if r.code != 0 || p.Facts.InstanceType != "" || p.Facts.MemorySource != "MemTotal" || !strings.Contains(strings.Join(p.Warnings, "\n"), "sizing from /proc/meminfo") {
				t.Errorf("exit %d facts %+v warnings %q", r.code, p.Facts, p.Warnings)
			}
			start = time.Now()
			r = runBin(t, override(e, "SWAP_IMDS=required"), "plan")
			if r.code != 1 || !strings.Contains(r.stderr, "SWAP_IMDS=required") || time.Since(start) > 2*time.Second {
				t.Errorf("required: exit %d after %s\n%s", r.code, time.Since(start), r.stderr)
			}
		})
	}
}

// TestReportShape: plan --json is snake_case throughout, its lists are []
// rather than null, and each warning is printed exactly once (in the
// report, not also in the log).
func TestReportShape(t *testing.T) {
	e := env(t, "/var/swap-bootstrap-test-never-created", "SWAP_INSTANCE_TYPE=zz9.mega")
	r := runBin(t, e, "plan", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if path != ".sources" && k != strings.ToLower(k) {
					t.Errorf("%s.%s: not snake_case", path, k)
				}
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		case nil:
			t.Errorf("%s is null", path)
		}
	}
	walk("", doc)
	for _, k := range []string{"reasons", "warnings", "swap_areas"} {
		if _, ok := doc[k].([]any); !ok {
			t.Errorf("%s: %v, want a list", k, doc[k])
		}
	}
	if areas, _ := doc["swap_areas"].([]any); len(areas) > 0 {
		if _, ok := areas[0].(map[string]any)["size_bytes"]; !ok {
			t.Errorf("swap_areas entries: %v", areas[0])
		}
	}

	const warning = `instance type "zz9.mega" is not in the embedded table`
	r = runBin(t, e, "plan")
	if n := strings.Count(r.stdout+r.stderr, warning); n != 1 || !strings.Contains(r.stdout, "warning:") {
		t.Errorf("the warning is printed %d times:\nstdout:\n%s\nstderr:\n%s", n, r.stdout, r.stderr)
	}
}
