package imds

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every test here sets an endpoint on 127.0.0.1 or a SysRoot without an EC2
// signature, so none can reach the real metadata service.

const (
	budget = time.Second
	slack  = 500 * time.Millisecond
	// quick is "answered without spending the budget on retries".
	quick = 300 * time.Millisecond
)

// fetchFrom runs Fetch against endpoint with the test budget and extra
// variables, on a machine without EC2 signature.
func fetchFrom(t *testing.T, endpoint string, env map[string]string, tags bool) (Facts, *logBuffer, error) {
	t.Helper()
	all := map[string]string{envEndpoint: endpoint}
	for k, v := range env {
		all[k] = v
	}
	log := &logBuffer{}
	start := time.Now()
	f, err := Fetch(context.Background(), Options{
		Timeout: budget, Tags: tags, LookupEnv: lookupMap(all), SysRoot: t.TempDir(), Logger: log.logger(),
	})
	if took := time.Since(start); took > budget+slack {
		t.Errorf("Fetch took %v, want at most the %v budget + %v", took, budget, slack)
	}
	if f.Elapsed <= 0 {
		t.Errorf("Facts.Elapsed = %v, want it set", f.Elapsed)
	}
	return f, log, err
}

func TestFetchRecovers(t *testing.T) {
	c6g := Facts{InstanceType: "c6g.large", InstanceID: "i-0fa4e5e5e5e5e5e5e", Region: "ap-southeast-2",
		AvailabilityZone: "ap-southeast-2c", Architecture: "arm64"}
	typeOnly := Facts{InstanceType: "c6g.large"}
	cases := []struct {
		name         string
		routes       map[string]http.HandlerFunc
		env          map[string]string
		want         Facts
		wantRequests []string
	}{
		{
			name:         "healthy service: one token, one identity document",
			routes:       map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: identity("c6g.large", "arm64")},
			want:         c6g,
			wantRequests: []string{routeToken, routeIdentity + " +token"},
		},
		{
			name: "token 503 twice while the service starts",
			routes: map[string]http.HandlerFunc{
				routeToken: failFirst(tokenOK, 503, 503), routeIdentity: identity("c6g.large", "arm64"),
			},
			want:         c6g,
			wantRequests: []string{routeToken, routeToken, routeToken, routeIdentity + " +token"},
		},
		{
			name: "identity document 500 then 200",
			routes: map[string]http.HandlerFunc{
				routeToken: tokenOK, routeIdentity: failFirst(identity("c6g.large", "arm64"), 500),
			},
			want:         c6g,
			wantRequests: []string{routeToken, routeIdentity + " +token", routeIdentity + " +token"},
		},
		{
			name: "throttled with 429 once",
			routes: map[string]http.HandlerFunc{
				routeToken: tokenOK, routeIdentity: failFirst(identity("c6g.large", "arm64"), 429),
			},
			want:         c6g,
			wantRequests: []string{routeToken, routeIdentity + " +token", routeIdentity + " +token"},
		},
		{
			name: "token 403, IMDSv1 fallback allowed: data asked without token",
			routes: map[string]http.HandlerFunc{
				routeToken: status(403), routeIdentity: identity("c6g.large", "arm64"),
			},
			want:         c6g,
			wantRequests: []string{routeToken, routeIdentity},
		},
		{
			name: "token 404 (old service), AWS_EC2_METADATA_V1_DISABLED=false",
			routes: map[string]http.HandlerFunc{
				routeToken: status(404), routeIdentity: identity("c6g.large", "arm64"),
			},
			env:          map[string]string{envV1Disabled: "false"},
			want:         c6g,
			wantRequests: []string{routeToken, routeIdentity},
		},
		{
			name: "identity document 404: instance-type path",
			routes: map[string]http.HandlerFunc{
				routeToken: tokenOK, routeIdentity: status(404), routeType: text("c6g.large"),
			},
			want:         typeOnly,
			wantRequests: []string{routeToken, routeIdentity + " +token", routeType + " +token"},
		},
		{
			name: "identity document not JSON: instance-type path",
			routes: map[string]http.HandlerFunc{
				routeToken: tokenOK, routeIdentity: text("<html>maintenance</html>"), routeType: text("c6g.large\n"),
			},
			want:         typeOnly,
			wantRequests: []string{routeToken, routeIdentity + " +token", routeType + " +token"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeIMDS(t, tc.routes)
			f, log, err := fetchFrom(t, srv.URL, tc.env, false)
			if err != nil {
				t.Fatalf("Fetch: %v\n%s", err, log)
			}
			tc.want.Endpoint = srv.URL
			assertFacts(t, f, tc.want)
			if got := srv.requests(); !slices.Equal(got, tc.wantRequests) {
				t.Errorf("requests:\n  %q\nwant\n  %q", got, tc.wantRequests)
			}
		})
	}
}

func TestFetchUnavailable(t *testing.T) {
	cases := []struct {
		name       string
		routes     map[string]http.HandlerFunc
		env        map[string]string
		wantReason string
		fast       bool // must not spend the budget retrying
		maxReqs    int
	}{
		{
			name:       "token 403 and AWS_EC2_METADATA_V1_DISABLED=true",
			routes:     map[string]http.HandlerFunc{routeToken: status(403)},
			env:        map[string]string{envV1Disabled: "true"},
			wantReason: "token request refused with 403 and AWS_EC2_METADATA_V1_DISABLED=true",
			fast:       true, maxReqs: 1,
		},
		{
			name:       "token 404 and AWS_EC2_METADATA_V1_DISABLED=TRUE",
			routes:     map[string]http.HandlerFunc{routeToken: status(404)},
			env:        map[string]string{envV1Disabled: "TRUE"},
			wantReason: "token request refused with 404 and AWS_EC2_METADATA_V1_DISABLED=true",
			fast:       true, maxReqs: 1,
		},
		{
			// The SDK retries a 401 once with a fresh token (its answer to an
			// expired one); a second 401 ends it.
			name:       "identity document 401",
			routes:     map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: status(401)},
			wantReason: "answered 401 Unauthorized to GET /latest/dynamic/instance-identity/document",
			fast:       true, maxReqs: 4,
		},
		{
			name:       "identity document and instance-type 404",
			routes:     map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: status(404), routeType: status(404)},
			wantReason: "answered 404 Not Found to GET /latest/meta-data/instance-type",
			fast:       true, maxReqs: 3,
		},
		{
			name:       "identity document 503 until the budget ends",
			routes:     map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: status(503)},
			wantReason: "gave no instance type within 1s (last answer: 503 Service Unavailable to GET /latest/dynamic/instance-identity/document)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeIMDS(t, tc.routes)
			start := time.Now()
			f, log, err := fetchFrom(t, srv.URL, tc.env, false)
			took := time.Since(start)
			u := assertUnavailable(t, err, tc.wantReason, false)
			if u != nil && u.Err == nil {
				t.Errorf("Unavailable.Err is nil; want the underlying error")
			}
			if f.Endpoint != srv.URL {
				t.Errorf("Endpoint = %q, want %q", f.Endpoint, srv.URL)
			}
			if f.InstanceType != "" {
				t.Errorf("InstanceType = %q on failure", f.InstanceType)
			}
			if tc.fast && took > quick {
				t.Errorf("took %v, want under %v: a definite refusal is not retried", took, quick)
			}
			if n := len(srv.requests()); tc.maxReqs > 0 && n > tc.maxReqs {
				t.Errorf("%d requests %q, want at most %d", n, srv.requests(), tc.maxReqs)
			}
			if t.Failed() {
				t.Logf("log:\n%s", log)
			}
		})
	}
}

func TestFetchNoAnswer(t *testing.T) {
	cases := []struct {
		name       string
		endpoint   func(*testing.T) string
		wantReason string
	}{
		{"connection refused", closedPort, "within 1s (last attempt: connection refused)"},
		{"accepts and never answers", silentServer, "within 1s (last attempt: no response within 330ms)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			endpoint := tc.endpoint(t)
			f, log, err := fetchFrom(t, endpoint, nil, false)
			assertUnavailable(t, err, "no answer from "+endpoint+" "+tc.wantReason, false)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error does not unwrap to context.DeadlineExceeded: %v", err)
			}
			// It kept trying for the whole budget (the service may be starting).
			if f.Elapsed < budget-100*time.Millisecond {
				t.Errorf("Elapsed = %v, want about the %v budget", f.Elapsed, budget)
			}
			if t.Failed() {
				t.Logf("log:\n%s", log)
			}
		})
	}
}

func TestFetchTags(t *testing.T) {
	doc := identity("m7g.medium", "arm64")
	cases := []struct {
		name         string
		routes       map[string]http.HandlerFunc
		want         map[string]string
		wantRequests int
		wantError    string // part of Facts.TagsError; "" = every tag read
	}{
		{
			name:         "tags not in the metadata (404)",
			routes:       map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: doc, routeTags: status(404)},
			want:         map[string]string{},
			wantRequests: 3,
		},
		{
			name: "only swap-bootstrap:* tags are fetched",
			routes: map[string]http.HandlerFunc{
				routeToken: tokenOK, routeIdentity: doc,
				routeTags:                           text("Name\nswap-bootstrap:ratio\nswap-bootstrap:size\nteam"),
				routeTags + "/swap-bootstrap:size":  text("3G"),
				routeTags + "/swap-bootstrap:ratio": text(" 1.5 "),
			},
			want:         map[string]string{"swap-bootstrap:size": "3G", "swap-bootstrap:ratio": " 1.5 "},
			wantRequests: 5,
		},
		{
			name: "one tag refused: said, the other kept",
			routes: map[string]http.HandlerFunc{
				routeToken: tokenOK, routeIdentity: doc,
				routeTags:                            text("swap-bootstrap:max\nswap-bootstrap:policy\n"),
				routeTags + "/swap-bootstrap:max":    status(403),
				routeTags + "/swap-bootstrap:policy": text("off"),
			},
			want:         map[string]string{"swap-bootstrap:policy": "off"},
			wantRequests: 5,
			wantError:    "tag swap-bootstrap:max was not read from http://127.0.0.1",
		},
		{
			name:      "tag listing 500 until the budget ends: type still returned",
			routes:    map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: doc, routeTags: status(500)},
			want:      map[string]string{},
			wantError: "the list of instance tags was not read",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeIMDS(t, tc.routes)
			f, log, err := fetchFrom(t, srv.URL, nil, true)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if f.InstanceType != "m7g.medium" {
				t.Errorf("InstanceType = %q, want m7g.medium", f.InstanceType)
			}
			assertTags(t, f.Tags, tc.want)
			if n := len(srv.requests()); tc.wantRequests > 0 && n != tc.wantRequests {
				t.Errorf("%d requests %q, want %d", n, srv.requests(), tc.wantRequests)
			}
			if (tc.wantError == "") != (f.TagsError == "") || !strings.Contains(f.TagsError, tc.wantError) {
				t.Errorf("TagsError %q, want %q", f.TagsError, tc.wantError)
			}
			if log.has("level=WARN") {
				t.Errorf("a warning was logged; the decision says what unread tags mean")
			}
			if t.Failed() {
				t.Logf("log:\n%s", log)
			}
		})
	}
}

func TestFetchTagsNotAsked(t *testing.T) {
	srv := newFakeIMDS(t, map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: identity("t3.nano", "x86_64")})
	f, _, err := fetchFrom(t, srv.URL, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	assertTags(t, f.Tags, nil) // and the fake fails the test on a tags request
}

func TestFetchNotOnEC2(t *testing.T) {
	start := time.Now()
	f, err := Fetch(context.Background(), Options{
		Timeout: budget, LookupEnv: lookupMap(nil), SysRoot: t.TempDir(),
	})
	took := time.Since(start)
	assertUnavailable(t, err,
		"not on EC2 (no EC2 DMI/hypervisor signature and no AWS_EC2_METADATA_SERVICE_ENDPOINT); metadata service not asked", true)
	if took > 50*time.Millisecond {
		t.Errorf("took %v, want under 50ms off EC2", took)
	}
	if f.Endpoint != "" {
		t.Errorf("Endpoint = %q, want empty when not asked", f.Endpoint)
	}
	if f.Elapsed <= 0 || f.Elapsed > took {
		t.Errorf("Elapsed = %v, want set and at most %v", f.Elapsed, took)
	}
}

func TestFetchExplicitEndpointIsAskedWithoutSignature(t *testing.T) {
	srv := newFakeIMDS(t, map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: identity("t3.nano", "x86_64")})
	f, _, err := fetchFrom(t, srv.URL, nil, false) // SysRoot is an empty dir
	if err != nil {
		t.Fatal(err)
	}
	if f.InstanceType != "t3.nano" || f.Endpoint != srv.URL {
		t.Errorf("got type %q from %q, want t3.nano from %q", f.InstanceType, f.Endpoint, srv.URL)
	}
}

func TestFetchSkippedByEnvironment(t *testing.T) {
	cases := []struct {
		name       string
		env        map[string]string
		wantReason string
	}{
		{"AWS_EC2_METADATA_DISABLED=true", map[string]string{envDisabled: "true"}, "AWS_EC2_METADATA_DISABLED=true"},
		{"AWS_EC2_METADATA_DISABLED=True", map[string]string{envDisabled: "True"}, "AWS_EC2_METADATA_DISABLED=true"},
		{"bad AWS_EC2_METADATA_V1_DISABLED", map[string]string{envV1Disabled: "yes"},
			`AWS_EC2_METADATA_V1_DISABLED="yes": not true or false; metadata service not asked`},
		{"bad AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", map[string]string{envEndpointMode: "IPv5"},
			`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE="IPv5": not IPv4 or IPv6; metadata service not asked`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _, err := fetchFrom(t, untouchable(t), tc.env, true)
			assertUnavailable(t, err, tc.wantReason, true)
			if f.Endpoint != "" {
				t.Errorf("Endpoint = %q, want empty when not asked", f.Endpoint)
			}
		})
	}
}

func TestFetchBadEndpoint(t *testing.T) {
	_, err := Fetch(context.Background(), Options{
		Timeout: budget, LookupEnv: lookupMap(map[string]string{envEndpoint: "localhost:1338"}), SysRoot: t.TempDir(),
	})
	assertUnavailable(t, err, `AWS_EC2_METADATA_SERVICE_ENDPOINT="localhost:1338": not an http:// URL`, true)
}

// The SDK reads AWS_EC2_METADATA_DISABLED and _SERVICE_ENDPOINT from the
// process environment unless told otherwise; Fetch must only see LookupEnv.
func TestFetchIgnoresProcessEnvironment(t *testing.T) {
	t.Setenv(envDisabled, "true")
	t.Setenv(envEndpoint, untouchable(t))
	t.Setenv(envV1Disabled, "true")
	srv := newFakeIMDS(t, map[string]http.HandlerFunc{routeToken: status(403), routeIdentity: identity("t3.nano", "x86_64")})
	f, _, err := fetchFrom(t, srv.URL, nil, false)
	if err != nil {
		t.Fatalf("Fetch read the process environment: %v", err)
	}
	if f.InstanceType != "t3.nano" {
		t.Errorf("InstanceType = %q, want t3.nano", f.InstanceType)
	}
}

func TestEC2Signature(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string // file that matched, "" for none
	}{
		{"nothing", nil, ""},
		{"Nitro sys_vendor", map[string]string{"sys/class/dmi/id/sys_vendor": "Amazon EC2\n"}, "sys/class/dmi/id/sys_vendor"},
		{"board_vendor only", map[string]string{"sys/class/dmi/id/board_vendor": "Amazon EC2\n"}, "sys/class/dmi/id/board_vendor"},
		{"Xen hypervisor uuid", map[string]string{
			"sys/class/dmi/id/sys_vendor": "Xen\n", "sys/hypervisor/uuid": "ec2e1916-9099-7caf-fd21-012345abcdef\n",
		}, "sys/hypervisor/uuid"},
		{"Xen uuid in upper case", map[string]string{"sys/hypervisor/uuid": "EC2E1916-9099-7CAF-FD21-012345ABCDEF\n"}, "sys/hypervisor/uuid"},
		{"other cloud", map[string]string{"sys/class/dmi/id/sys_vendor": "Google\n", "sys/class/dmi/id/board_vendor": "Google\n"}, ""},
		{"Xen elsewhere", map[string]string{"sys/hypervisor/uuid": "4a1b0c7e-9099-7caf-fd21-012345abcdef\n"}, ""},
		{"vendor merely mentions Amazon", map[string]string{"sys/class/dmi/id/sys_vendor": "Amazon EC2 compatible\n"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for p, content := range tc.files {
				p = filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := ec2Signature(root)
			want := ""
			if tc.want != "" {
				want = filepath.Join(root, tc.want)
			}
			if got != want || ok != (tc.want != "") {
				t.Errorf("ec2Signature = %q, %v; want %q", got, ok, want)
			}
		})
	}
}

func TestPerAttemptTimeoutLeavesRoomForRetries(t *testing.T) {
	for _, b := range []time.Duration{200 * time.Millisecond, time.Second, 3 * time.Second, 30 * time.Second} {
		if p := perAttemptTimeout(b); 2*p > b || p > time.Second {
			t.Errorf("perAttemptTimeout(%v) = %v: want at most half the budget and 1s", b, p)
		}
	}
}

func assertUnavailable(t *testing.T, err error, wantReason string, wantSkipped bool) *Unavailable {
	t.Helper()
	var u *Unavailable
	if !errors.As(err, &u) {
		t.Fatalf("error = %v (%T), want *Unavailable", err, err)
	}
	t.Logf("reason: %s", u.Reason)
	if !strings.Contains(u.Reason, wantReason) {
		t.Errorf("Reason = %q, want it to contain %q", u.Reason, wantReason)
	}
	if strings.Contains(u.Reason, "\n") {
		t.Errorf("Reason is not one line: %q", u.Reason)
	}
	if u.Skipped != wantSkipped {
		t.Errorf("Skipped = %v, want %v (reason %q)", u.Skipped, wantSkipped, u.Reason)
	}
	if err.Error() != u.Reason {
		t.Errorf("Error() = %q, want the reason", err.Error())
	}
	return u
}

// In a container behind the default hop limit of 1 the token PUT is answered
// but the answer never arrives, while a GET without token works.
func TestFetchTokenAnswerLost(t *testing.T) {
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	t.Run("IMDSv1 allowed: asks without token in time", func(t *testing.T) {
		t.Parallel()
		srv := newFakeIMDS(t, map[string]http.HandlerFunc{routeToken: hang, routeIdentity: identity("m5.large", "x86_64")})
		f, log, err := fetchFrom(t, srv.URL, nil, false)
		if err != nil {
			t.Fatalf("Fetch: %v\n%s", err, log)
		}
		if f.InstanceType != "m5.large" {
			t.Errorf("InstanceType = %q, want m5.large", f.InstanceType)
		}
		want := []string{routeToken, routeToken, routeIdentity}
		if got := srv.requests(); !slices.Equal(got, want) {
			t.Errorf("requests:\n  %q\nwant\n  %q", got, want)
		}
	})
	t.Run("AWS_EC2_METADATA_V1_DISABLED=true: keeps asking for a token", func(t *testing.T) {
		t.Parallel()
		srv := newFakeIMDS(t, map[string]http.HandlerFunc{routeToken: hang})
		_, _, err := fetchFrom(t, srv.URL, map[string]string{envV1Disabled: "true"}, false)
		assertUnavailable(t, err, "no answer from "+srv.URL+" within 1s (last attempt: no response within 330ms)", false)
	})
}
