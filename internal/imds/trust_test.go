package imds

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestNoCrossOriginRedirect (issue 10, item 10): a metadata answer that
// redirects elsewhere is not followed, so the session token never leaves the
// service's origin.
func TestNoCrossOriginRedirect(t *testing.T) {
	var leaked []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = append(leaked, r.Method+" "+r.URL.Path+" token="+r.Header.Get("X-Aws-Ec2-Metadata-Token"))
		identity("t3.micro", "x86_64")(w, r)
	}))
	t.Cleanup(elsewhere.Close)
	to := func(path string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+path, http.StatusFound)
		}
	}
	srv := newFakeIMDS(t, map[string]http.HandlerFunc{routeToken: tokenOK,
		routeIdentity: to("/latest/dynamic/instance-identity/document"), routeType: to("/latest/meta-data/instance-type")})
	f, _, err := fetchFrom(t, srv.URL, nil, false)
	if err == nil || f.InstanceType != "" {
		t.Errorf("a redirected answer was used: %+v %v", f, err)
	}
	if len(leaked) > 0 {
		t.Errorf("requests reached another origin: %q", leaked)
	}
}

// TestInstanceTypeValidated (item 10): only a well-formed instance type is
// accepted; one with a newline (a forged log line) or an absurd length is
// refused with a reason that shows it escaped.
func TestInstanceTypeValidated(t *testing.T) {
	for _, bad := range []string{"t3.micro\nlevel=ERROR msg=forged", "T3.MICRO", "t3", "t3.micro ", strings.Repeat("a", 60) + ".xlarge", "../etc.passwd"} {
		t.Run(bad, func(t *testing.T) {
			srv := newFakeIMDS(t, map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: identity(bad, "x86_64")})
			f, _, err := fetchFrom(t, srv.URL, nil, false)
			if err == nil || f.InstanceType != "" || !strings.Contains(err.Error(), "not a valid instance type") || strings.Contains(err.Error(), "\n") {
				t.Errorf("accepted %q: %+v %v", bad, f, err)
			}
		})
	}
	for _, good := range []string{"t3.micro", "u-6tb1.metal", "c7gn.16xlarge", "mac2-m2pro.metal"} {
		srv := newFakeIMDS(t, map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: identity(good, "x86_64")})
		if f, _, err := fetchFrom(t, srv.URL, nil, false); err != nil || f.InstanceType != good {
			t.Errorf("refused %q: %v", good, err)
		}
	}
}

// TestFetchHibernation (issue 11): whether the instance was launched with
// hibernation configured, asked with the session token; 404 means no.
func TestFetchHibernation(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer http.HandlerFunc
		want   string
	}{
		{"configured", text("true"), "true"},
		{"not configured", text("false"), "false"},
		{"no such item (404)", status(http.StatusNotFound), "false"},
		{"no answer (500 until the budget ends)", status(http.StatusInternalServerError), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newFakeIMDS(t, map[string]http.HandlerFunc{routeToken: tokenOK, routeIdentity: identity("m5.large", "x86_64"), routeHibernation: c.answer})
			f, _, err := fetchFrom(t, srv.URL, nil, false)
			if err != nil || f.Hibernation != c.want || f.InstanceType != "m5.large" {
				t.Errorf("%+v %v, want hibernation %q", f, err, c.want)
			}
			srv.mu.Lock()
			seen := strings.Join(srv.seen, "\n")
			srv.mu.Unlock()
			if !strings.Contains(seen, routeHibernation+" +token") {
				t.Errorf("requests %s", seen)
			}
		})
	}
}
