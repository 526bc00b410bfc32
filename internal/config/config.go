// Package config reads swap-bootstrap's configuration, the SWAP_* environment
// variables, and validates all of it before anything is touched: every
// problem is collected and named, so one run shows them all.
package config

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

// Prefix is the prefix of every variable.
const Prefix = "SWAP"

// Env is the user contract: every variable with its default and meaning.
// Values are read as text and parsed by Load, so that all problems are
// reported together with the variable's name.
type Env struct {
	Policy      string `envconfig:"SWAP_POLICY" default:"ratio" desc:"sizing policy: ratio, aws, redhat, ubuntu, cloud-init, fixed, off"`
	Ratio       string `envconfig:"SWAP_RATIO" default:"2" desc:"RAM multiplier for the ratio policy (> 0, ≤ 16)"`
	Size        string `envconfig:"SWAP_SIZE" desc:"absolute swap size (e.g. 2048, 2G, 1.5GiB); setting it means the fixed policy"`
	Min         string `envconfig:"SWAP_MIN" desc:"smallest acceptable swapfile; below it nothing is created and the run fails"`
	Max         string `envconfig:"SWAP_MAX" default:"32G" desc:"largest swapfile the policy may ask for"`
	File        string `envconfig:"SWAP_FILE" default:"/var/swapfile" desc:"absolute path of the managed swapfile"`
	DiskPercent string `envconfig:"SWAP_DISK_PERCENT" default:"50" desc:"the swapfile may take at most this % of the filesystem's available space (1..100)"`
	DiskReserve string `envconfig:"SWAP_DISK_RESERVE" default:"1G" desc:"space that must stay free after allocation"`
	Tolerance   string `envconfig:"SWAP_TOLERANCE" default:"5%" desc:"keep an existing swapfile this close to the target (a % of the target or a size)"`
	Allocate    string `envconfig:"SWAP_ALLOCATE" default:"auto" desc:"auto (fallocate, zeros when the kernel rejects it) or zero (always write zeros: pre-warms EBS)"`
	Priority    string `envconfig:"SWAP_PRIORITY" desc:"swap priority, -1..32767 (unset: the kernel's default)"`
	Swappiness  string `envconfig:"SWAP_SWAPPINESS" desc:"set vm.swappiness (0..200) now and persist it in SWAP_SYSCTL_FILE"`
	SysctlFile  string `envconfig:"SWAP_SYSCTL_FILE" default:"/etc/sysctl.d/90-swap-bootstrap.conf" desc:"where SWAP_SWAPPINESS is persisted"`
	Persist     string `envconfig:"SWAP_PERSIST" default:"fstab" desc:"fstab (one entry in SWAP_FSTAB) or none"`
	Fstab       string `envconfig:"SWAP_FSTAB" default:"/etc/fstab" desc:"the fstab to keep the entry in"`
	Type        string `envconfig:"SWAP_INSTANCE_TYPE" desc:"EC2 instance type to size for, instead of asking the metadata service"`
	IMDS        string `envconfig:"SWAP_IMDS" default:"auto" desc:"auto (ask the metadata service, fall back to /proc/meminfo), required (fail without it), off"`
	IMDSTimeout string `envconfig:"SWAP_IMDS_TIMEOUT" default:"3s" desc:"bound on the whole metadata phase, retries included"`
	Tags        string `envconfig:"SWAP_TAGS" default:"false" desc:"true: instance tags swap-bootstrap:policy|size|ratio|max override the variables (needs instance metadata tags enabled)"`
	LogFormat   string `envconfig:"SWAP_LOG_FORMAT" default:"text" desc:"text or json"`
	LockFile    string `envconfig:"SWAP_LOCK_FILE" default:"/run/swap-bootstrap.lock" desc:"lock that keeps runs from overlapping"`
	LockTimeout string `envconfig:"SWAP_LOCK_TIMEOUT" default:"60s" desc:"how long a run waits for another one to finish"`
}

// Config is the validated configuration.
type Config struct {
	Policy       sizing.Policy
	Ratio        float64
	Size         int64
	Min, Max     int64
	File         string
	DiskPercent  int
	DiskReserve  int64
	Tolerance    sizing.Tolerance
	Zero         bool
	Priority     int // -1: unset
	Swappiness   int // -1: unset
	SysctlFile   string
	Persist      bool
	Fstab        string
	InstanceType string
	IMDS         string
	IMDSTimeout  time.Duration
	Tags         bool
	LogFormat    string
	LockFile     string
	LockTimeout  time.Duration
	// Sources says where each sizing value came from: "default", the
	// variable's name, or "tag swap-bootstrap:…".
	Sources map[string]string
	// Unknown lists SWAP_* variables that are not swap-bootstrap's (typos).
	Unknown []string
}

// Error lists every problem in the configuration.
type Error struct{ Problems []string }

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

// Var is one variable, for help.
type Var struct{ Name, Default, Desc string }

// Vars lists every variable in the order of Env.
func Vars() []Var {
	t := reflect.TypeOf(Env{})
	vars := make([]Var, t.NumField())
	for i := range vars {
		f := t.Field(i)
		vars[i] = Var{Name: f.Tag.Get("envconfig"), Default: f.Tag.Get("default"), Desc: f.Tag.Get("desc")}
	}
	return vars
}

var instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)

// Load reads and validates the environment.
func Load() (Config, error) {
	var env Env
	// Full names in the tags and no prefix: with a prefix envconfig also falls
	// back to the bare name, so a stray FILE= or SIZE= would be read.
	if err := envconfig.Process("", &env); err != nil {
		return Config{}, &Error{Problems: []string{err.Error()}}
	}
	c := Config{Priority: -1, Swappiness: -1, Sources: map[string]string{}}
	var problems []string
	bad := func(name, val, format string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s=%q: %s", name, val, fmt.Sprintf(format, a...)))
	}
	set := map[string]bool{}
	for _, v := range Vars() {
		val, ok := os.LookupEnv(v.Name)
		set[v.Name] = ok
		if ok && strings.TrimSpace(val) == "" {
			bad(v.Name, val, "empty; unset it to use the default%s, or give a value", defaultNote(v.Default))
		}
	}
	known := map[string]bool{}
	for _, v := range Vars() {
		known[v.Name] = true
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		// SWAP_BOOTSTRAP_* belong to the shipped scripts and the tests.
		if strings.HasPrefix(name, Prefix+"_") && !strings.HasPrefix(name, "SWAP_BOOTSTRAP_") && !known[name] {
			c.Unknown = append(c.Unknown, name)
		}
	}
	sort.Strings(c.Unknown)
	source := func(name string) string {
		if set[name] {
			return name
		}
		return "default"
	}
	nonEmpty := func(name, val string) bool { return !set[name] || strings.TrimSpace(val) != "" }

	if p, err := sizing.ParsePolicy(env.Policy); err != nil {
		if nonEmpty("SWAP_POLICY", env.Policy) {
			bad("SWAP_POLICY", env.Policy, "%v", err)
		}
	} else {
		c.Policy = p
		c.Sources["policy"] = source("SWAP_POLICY")
	}
	if r, err := ParseRatio(env.Ratio); err != nil {
		if nonEmpty("SWAP_RATIO", env.Ratio) {
			bad("SWAP_RATIO", env.Ratio, "%v", err)
		}
	} else {
		c.Ratio = r
		c.Sources["ratio"] = source("SWAP_RATIO")
	}
	size := func(name, val string, allowZero bool) int64 {
		if val == "" || !nonEmpty(name, val) {
			return 0
		}
		b, err := sizing.ParseSize(val)
		switch {
		case err != nil:
			bad(name, val, "%v", err)
		case b == 0 && !allowZero:
			bad(name, val, "must be more than 0%s", map[bool]string{true: "; for no swap use SWAP_POLICY=off"}[name == "SWAP_SIZE"])
		}
		return b
	}
	if env.Size != "" {
		c.Size = size("SWAP_SIZE", env.Size, false)
		c.Sources["size"] = "SWAP_SIZE"
		switch {
		case !set["SWAP_POLICY"]:
			c.Policy = sizing.PolicyFixed
			c.Sources["policy"] = "SWAP_SIZE"
		case c.Policy != "" && c.Policy != sizing.PolicyFixed:
			bad("SWAP_SIZE", env.Size, "conflicts with SWAP_POLICY=%s; unset one of them (SWAP_SIZE alone means the fixed policy)", c.Policy)
		}
	} else if c.Policy == sizing.PolicyFixed {
		bad("SWAP_POLICY", env.Policy, "the fixed policy needs SWAP_SIZE; set SWAP_SIZE, e.g. SWAP_SIZE=2G")
	}
	c.Min = size("SWAP_MIN", env.Min, true)
	c.Max = size("SWAP_MAX", env.Max, false)
	c.Sources["max"] = source("SWAP_MAX")
	if c.Min > 0 && c.Max > 0 && c.Min > c.Max {
		bad("SWAP_MIN", env.Min, "is larger than SWAP_MAX=%s; lower SWAP_MIN or raise SWAP_MAX", env.Max)
	}
	c.DiskReserve = size("SWAP_DISK_RESERVE", env.DiskReserve, true)

	c.File = absPath(env.File, "SWAP_FILE", bad, nonEmpty)
	c.SysctlFile = absPath(env.SysctlFile, "SWAP_SYSCTL_FILE", bad, nonEmpty)
	c.Fstab = absPath(env.Fstab, "SWAP_FSTAB", bad, nonEmpty)
	c.LockFile = absPath(env.LockFile, "SWAP_LOCK_FILE", bad, nonEmpty)

	if n, err := strconv.Atoi(strings.TrimSpace(env.DiskPercent)); err != nil || n < 1 || n > 100 {
		if nonEmpty("SWAP_DISK_PERCENT", env.DiskPercent) {
			bad("SWAP_DISK_PERCENT", env.DiskPercent, "not a whole percentage from 1 to 100; e.g. 50")
		}
	} else {
		c.DiskPercent = n
	}
	if t, err := sizing.ParseTolerance(env.Tolerance); err != nil {
		if nonEmpty("SWAP_TOLERANCE", env.Tolerance) {
			bad("SWAP_TOLERANCE", env.Tolerance, "%v", err)
		}
	} else {
		c.Tolerance = t
	}
	switch v := strings.ToLower(strings.TrimSpace(env.Allocate)); v {
	case "auto", "zero":
		c.Zero = v == "zero"
	default:
		if nonEmpty("SWAP_ALLOCATE", env.Allocate) {
			bad("SWAP_ALLOCATE", env.Allocate, "use auto or zero")
		}
	}
	c.Priority = intIn(env.Priority, "SWAP_PRIORITY", -1, 32767, -1, bad, nonEmpty)
	c.Swappiness = intIn(env.Swappiness, "SWAP_SWAPPINESS", 0, 200, -1, bad, nonEmpty)
	switch v := strings.ToLower(strings.TrimSpace(env.Persist)); v {
	case "fstab", "none":
		c.Persist = v == "fstab"
	default:
		if nonEmpty("SWAP_PERSIST", env.Persist) {
			bad("SWAP_PERSIST", env.Persist, "use fstab or none")
		}
	}
	if t := strings.ToLower(strings.TrimSpace(env.Type)); t != "" {
		if !instanceTypeRE.MatchString(t) {
			bad("SWAP_INSTANCE_TYPE", env.Type, "not an EC2 instance type; use a name such as t3.micro")
		}
		c.InstanceType = t
	}
	c.IMDS = oneOf(env.IMDS, "SWAP_IMDS", []string{"auto", "required", "off"}, bad, nonEmpty)
	c.IMDSTimeout = duration(env.IMDSTimeout, "SWAP_IMDS_TIMEOUT", time.Millisecond, 5*time.Minute, bad, nonEmpty)
	switch v := strings.ToLower(strings.TrimSpace(env.Tags)); v {
	case "true", "1", "yes", "false", "0", "no":
		c.Tags = v == "true" || v == "1" || v == "yes"
	default:
		if nonEmpty("SWAP_TAGS", env.Tags) {
			bad("SWAP_TAGS", env.Tags, "use true or false")
		}
	}
	c.LogFormat = oneOf(env.LogFormat, "SWAP_LOG_FORMAT", []string{"text", "json"}, bad, nonEmpty)
	c.LockTimeout = duration(env.LockTimeout, "SWAP_LOCK_TIMEOUT", 0, time.Hour, bad, nonEmpty)

	if len(problems) > 0 {
		return c, &Error{Problems: problems}
	}
	return c, nil
}

// ParseRatio reads a RAM multiplier: a number above 0 and at most 16.
func ParseRatio(s string) (float64, error) {
	r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(r) || r <= 0 || r > 16 {
		return 0, fmt.Errorf("not a ratio above 0 and at most 16; e.g. 2 or 1.5")
	}
	return r, nil
}

func defaultNote(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}

type badFunc func(name, val, format string, a ...any)

func absPath(v, name string, bad badFunc, nonEmpty func(string, string) bool) string {
	if !nonEmpty(name, v) {
		return ""
	}
	switch {
	case !filepath.IsAbs(v):
		bad(name, v, "not an absolute path; use a path starting with /, e.g. /var/swapfile")
	case strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		bad(name, v, "contains a control character; use a plain path")
	case filepath.Clean(v) != v || v == "/":
		bad(name, v, "not a clean file path; use %q", filepath.Clean(v))
	}
	return v
}

func intIn(v, name string, lo, hi, unset int, bad badFunc, nonEmpty func(string, string) bool) int {
	if v == "" || !nonEmpty(name, v) {
		return unset
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		bad(name, v, "not a whole number from %d to %d", lo, hi)
		return unset
	}
	return n
}

func oneOf(v, name string, allowed []string, bad badFunc, nonEmpty func(string, string) bool) string {
	l := strings.ToLower(strings.TrimSpace(v))
	for _, a := range allowed {
		if l == a {
			return a
		}
	}
	if nonEmpty(name, v) {
		bad(name, v, "use %s", strings.Join(allowed, ", "))
	}
	return ""
}

func duration(v, name string, lo, hi time.Duration, bad badFunc, nonEmpty func(string, string) bool) time.Duration {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < lo || d > hi {
		if nonEmpty(name, v) {
			bad(name, v, "not a duration from %s to %s; e.g. 3s or 500ms", lo, hi)
		}
		return 0
	}
	return d
}
