package imds

import (
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/imds/imdstest"
)

// lookupMap is an Options.LookupEnv over a fixed set of variables.
func lookupMap(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// logBuffer captures what Fetch logs, at every level, as slog text.
type logBuffer struct{ imdstest.SyncBuffer }

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (b *logBuffer) has(s string) bool { return strings.Contains(b.String(), s) }

// attr is the last value logged under key, "" when never logged.
func (b *logBuffer) attr(key string) string {
	m := regexp.MustCompile(`(?:^|\s)`+regexp.QuoteMeta(key)+`=("(?:[^"\\]|\\.)*"|\S*)`).FindAllStringSubmatch(b.String(), -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1][1]
}

func assertFacts(t *testing.T, got, want Facts) {
	t.Helper()
	got.Elapsed, want.Elapsed = 0, 0
	got.Hibernation, want.Hibernation = "", "" // TestFetchHibernation checks it
	if !maps.Equal(got.Tags, want.Tags) || (got.Tags == nil) != (want.Tags == nil) {
		t.Errorf("Tags = %#v, want %#v", got.Tags, want.Tags)
	}
	got.Tags, want.Tags = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Facts =\n  %+v\nwant\n  %+v", got, want)
	}
}

// assertTags: want nil means tags were not read at all.
func assertTags(t *testing.T, got, want map[string]string) {
	t.Helper()
	if (got == nil) != (want == nil) || !maps.Equal(got, want) {
		t.Errorf("Tags = %#v, want %#v", got, want)
	}
}

// fakeIMDS serves the routes a test names ("PUT /latest/api/token") on
// 127.0.0.1 and fails the test on any other request.
type fakeIMDS struct {
	URL  string
	mu   sync.Mutex
	seen []string
}

func newFakeIMDS(t *testing.T, routes map[string]http.HandlerFunc) *fakeIMDS {
	t.Helper()
	f := &fakeIMDS{}
	if _, ok := routes[routeHibernation]; !ok {
		// The service's answer for an instance launched without hibernation.
		routes = maps.Clone(routes)
		routes[routeHibernation] = status(http.StatusNotFound)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		seen := key
		if r.Header.Get("X-Aws-Ec2-Metadata-Token") != "" {
			seen += " +token"
		}
		f.mu.Lock()
		f.seen = append(f.seen, seen)
		f.mu.Unlock()
		h, ok := routes[key]
		if !ok {
			t.Errorf("unexpected request %s", key)
			http.Error(w, "not in this test", http.StatusTeapot)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// requests lists what the fake was asked, e.g. "GET /latest/meta-data/x +token",
// leaving out the hibernation question, which TestFetchHibernation checks.
func (f *fakeIMDS) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.seen {
		if !strings.HasPrefix(r, routeHibernation) {
			out = append(out, r)
		}
	}
	return out
}

// untouchable is an endpoint that fails the test if anything reaches it.
func untouchable(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the metadata service was asked (%s %s) but must not be", r.Method, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// closedPort is an endpoint where nothing listens: connection refused.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c) // read the request, say nothing
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

const (
	routeToken    = "PUT /latest/api/token"
	routeIdentity = "GET /latest/dynamic/instance-identity/document"
	routeType     = "GET /latest/meta-data/instance-type"
	routeTags     = "GET /latest/meta-data/tags/instance"

	routeHibernation = "GET /latest/meta-data/hibernation/configured"
)

// tokenOK issues a token the way the service does.
func tokenOK(w http.ResponseWriter, r *http.Request) {
	ttl := r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds")
	if ttl == "" {
		http.Error(w, "missing TTL", http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", ttl)
	io.WriteString(w, "AQAEAFakeTokenForTests==")
}

// identity serves an identity document for an instance type.
func identity(instanceType, arch string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"accountId": "123456789012", "architecture": arch, "availabilityZone": "ap-southeast-2c",
			"imageId": "ami-0123456789abcdef0", "instanceId": "i-0fa4e5e5e5e5e5e5e", "instanceType": instanceType,
			"pendingTime": "2024-05-01T07:02:24Z", "privateIp": "10.0.7.10", "region": "ap-southeast-2",
			"version": "2017-09-30",
		})
	}
}

// text answers with a fixed body.
func text(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }
}

// status always answers with code.
func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Error(w, http.StatusText(code), code) }
}

// failFirst answers the first requests with the given statuses, then hands
// over to then.
func failFirst(then http.HandlerFunc, codes ...int) http.HandlerFunc {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if i := int(n.Add(1)) - 1; i < len(codes) {
			http.Error(w, http.StatusText(codes[i]), codes[i])
			return
		}
		then(w, r)
	}
}
