package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// Release is what gets filled in: a version and the two pins.
type Release struct {
	Version     string
	SHA256AMD64 string
	SHA256ARM64 string
}

// versionRE is the form of a release tag the shipped scripts accept (they
// check SWAP_BOOTSTRAP_VERSION with the same expression).
var versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$`)

var sha256RE = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// check lists every problem with r, naming the flag at fault.
func (r Release) check() []string {
	var p []string
	if !versionRE.MatchString(r.Version) {
		p = append(p, fmt.Sprintf("-version %q: not a release tag; use one like v1.2.3", r.Version))
	}
	for _, f := range []struct{ flag, value string }{{"-sha256-amd64", r.SHA256AMD64}, {"-sha256-arm64", r.SHA256ARM64}} {
		if !sha256RE.MatchString(f.value) {
			p = append(p, fmt.Sprintf("%s %q: not a SHA-256; use the 64 hex digits from SHA256SUMS", f.flag, f.value))
		}
	}
	return p
}

func (r *Release) normalize() {
	r.SHA256AMD64 = strings.ToLower(r.SHA256AMD64)
	r.SHA256ARM64 = strings.ToLower(r.SHA256ARM64)
}

// File is one shipped file and how it is rendered.
type File struct {
	Source string // path under scripts/, with slashes
	Asset  string // name in the release and in -out
	Render func(text []byte, r Release) ([]byte, error)
}

// Files is the output list; the package doc comment shows the same table.
var Files = []File{
	{"user-data.sh", "swap-bootstrap-user-data.sh", renderShell},
	{"cloud-config.yaml", "swap-bootstrap-cloud-config.yaml", renderShell},
	{"ecs/user-data.mime", "swap-bootstrap-ecs-user-data.mime", renderShell},
	{"elasticbeanstalk/.platform/hooks/prebuild/01-swap.sh", "swap-bootstrap-eb-01-swap.sh", renderShell},
	{"elasticbeanstalk/.ebextensions/01-swap.config", "swap-bootstrap-eb-01-swap.config", renderShell},
	{"ssm/swap-bootstrap.json", "swap-bootstrap-ssm.json", renderSSM},
	{"packer/swap-bootstrap.pkr.hcl", "swap-bootstrap.pkr.hcl", renderPacker},
}

// renderShell fills the "${VAR:-}" defaults of the shell settings, the form
// the shipped shell (and the shell inside YAML and MIME) reads them in.
func renderShell(text []byte, r Release) ([]byte, error) {
	for _, s := range []struct{ name, value string }{
		{"SWAP_BOOTSTRAP_VERSION", r.Version},
		{"SWAP_BOOTSTRAP_SHA256_AMD64", r.SHA256AMD64},
		{"SWAP_BOOTSTRAP_SHA256_ARM64", r.SHA256ARM64},
	} {
		placeholder := []byte("${" + s.name + ":-}")
		if n := bytes.Count(text, placeholder); n != 1 {
			return nil, fmt.Errorf("%s found %d times, want once", placeholder, n)
		}
		text = bytes.Replace(text, placeholder, []byte("${"+s.name+":-"+s.value+"}"), 1)
	}
	return text, nil
}

// renderSSM sets the defaults of the Version, Sha256Amd64 and Sha256Arm64
// parameters. The text is edited in place, so the document keeps its layout
// and key order; decoding before and after proves nothing else changed.
func renderSSM(text []byte, r Release) ([]byte, error) {
	values := map[string]string{"Version": r.Version, "Sha256Amd64": r.SHA256AMD64, "Sha256Arm64": r.SHA256ARM64}
	out := text
	for name, value := range values {
		// A parameter is a flat object: no braces inside it.
		re := regexp.MustCompile(`("` + name + `"\s*:\s*\{[^{}]*?"default"\s*:\s*)""`)
		if n := len(re.FindAllIndex(out, -1)); n != 1 {
			return nil, fmt.Errorf(`parameter %s with "default": "" found %d times, want once`, name, n)
		}
		v, _ := json.Marshal(value)
		out = re.ReplaceAll(out, append([]byte("${1}"), v...))
	}

	var before, after map[string]any
	if err := json.Unmarshal(text, &before); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if err := json.Unmarshal(out, &after); err != nil {
		return nil, fmt.Errorf("not JSON after rendering: %w", err)
	}
	for name, value := range values {
		if got := param(after, name)["default"]; got != value {
			return nil, fmt.Errorf("parameter %s: default is %v after rendering, want %q", name, got, value)
		}
		param(before, name)["default"] = value
	}
	if !reflect.DeepEqual(before, after) {
		return nil, fmt.Errorf("rendering changed more than the three defaults")
	}
	return out, nil
}

// param is the parameter name of an SSM document, or an empty map.
func param(doc map[string]any, name string) map[string]any {
	params, _ := doc["parameters"].(map[string]any)
	p, _ := params[name].(map[string]any)
	if p == nil {
		return map[string]any{}
	}
	return p
}

// renderPacker sets the defaults of the version, sha256_amd64 and
// sha256_arm64 variables.
func renderPacker(text []byte, r Release) ([]byte, error) {
	out := text
	for _, v := range []struct{ name, value string }{
		{"version", r.Version}, {"sha256_amd64", r.SHA256AMD64}, {"sha256_arm64", r.SHA256ARM64},
	} {
		// The variable block up to its default line; validation blocks come
		// after the default in the shipped file, so [^}] does not cross one.
		re := regexp.MustCompile(`(?m)(^variable "` + v.name + `" \{\n[^}]*?^\s*default\s*=\s*)""$`)
		if n := len(re.FindAllIndex(out, -1)); n != 1 {
			return nil, fmt.Errorf(`variable %q with default = "" found %d times, want once`, v.name, n)
		}
		out = re.ReplaceAll(out, []byte(`${1}"`+v.value+`"`))
	}
	if changed := diffLines(text, out); changed != 3 {
		return nil, fmt.Errorf("rendering changed %d lines, want the 3 defaults", changed)
	}
	return out, nil
}

// diffLines counts the lines that differ between a and b, which must have
// the same number of lines (else it returns -1).
func diffLines(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	if len(la) != len(lb) {
		return -1
	}
	n := 0
	for i := range la {
		if !bytes.Equal(la[i], lb[i]) {
			n++
		}
	}
	return n
}
