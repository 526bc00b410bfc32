// Package config reads swap-bootstrap's configuration, the SWAP_* environment
// variables, and validates all of it before anything is touched: every
// problem is collected and named, so one run shows them all.
//
// Env is the one list of variables (name, default, description); envconfig
// reads it. Beside it, rows holds one parser per variable, and tags.go lets
// instance tags override some of them with the same parsers.
package config

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

// Prefix is the prefix of every variable.
const Prefix = "SWAP"

// Env is the user contract: every variable with its default and meaning.
// Values are read as text and parsed by the rows, so that all problems are
// reported together with the variable's name.
type Env struct {
	Policy      string `envconfig:"SWAP_POLICY" default:"ratio" desc:"sizing policy: ratio, aws, redhat, ubuntu, cloud-init, fixed, off"`
	Ratio       string `envconfig:"SWAP_RATIO" default:"2" desc:"RAM multiplier for the ratio policy (0.01 to 16)"`
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
	Kubelet     string `envconfig:"SWAP_KUBELET" default:"check" desc:"check: on a Kubernetes node, make swap only where kubelet's configuration allows it (failSwapOn: false); ignore: skip the check"`
	Zswap       string `envconfig:"SWAP_ZSWAP" default:"keep" desc:"on: a compressed cache in front of swap (zswap), set at every run; off: turn it off; keep: leave it as the kernel has it (see README for why keep is the default)"`
	ZswapComp   string `envconfig:"SWAP_ZSWAP_COMPRESSOR" default:"lzo-rle" desc:"zswap's compressor (lzo-rle, lzo, zstd, lz4, deflate: what the kernel has); one it lacks is a warning"`
	ZswapPool   string `envconfig:"SWAP_ZSWAP_POOL_PERCENT" default:"20" desc:"the most RAM zswap's pool may take, in percent (1..100)"`
	Store       string `envconfig:"SWAP_INSTANCE_STORE" default:"off" desc:"prefer: also put swap on free NVMe instance-store disks (local, faster than EBS), ahead of the swapfile, re-made at every boot; off"`
	Hibernation string `envconfig:"SWAP_HIBERNATION" default:"skip" desc:"skip: make no swapfile on an instance with hibernation configured (hibinit-agent's /swap must be the only swap); ignore: make one anyway"`
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
	Kubelet      string // "check" or "ignore"
	Zswap        string // "on", "off" or "keep"
	ZswapComp    string
	ZswapPool    int
	// InstanceStore: also swap on free NVMe instance-store disks.
	InstanceStore bool
	Hibernation   string // "skip" or "ignore"
	// PageSize is the running kernel's page size: a swap area has at least
	// ten pages (sizing.MinSize), so every size is checked against it.
	PageSize int64
	// Sources says where each sizing value came from: "default", the
	// variable's name, or "tag swap-bootstrap:…".
	Sources map[string]string
	// Unknown lists SWAP_* variables that are not swap-bootstrap's (typos).
	Unknown []string
	// Notes are what the operator should know about values that are valid
	// but may not mean what was meant (a size in GB, 10^9 bytes).
	Notes []string
}

// Error lists every problem in the configuration.
type Error struct{ Problems []string }

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

// Var is one variable, for help and the environment file.
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

// row is one variable's parser: it gets the value, trimmed and never empty,
// stores what it means in the Config, or says what is wrong with it.
type row struct {
	name  string
	parse func(v string, c *Config) error
}

// rows holds one row per field of Env, in the same order.
var rows = []row{
	{"SWAP_POLICY", func(v string, c *Config) (err error) { c.Policy, err = sizing.ParsePolicy(v); return err }},
	{"SWAP_RATIO", func(v string, c *Config) (err error) { c.Ratio, err = ParseRatio(v); return err }},
	{"SWAP_SIZE", func(v string, c *Config) (err error) {
		c.Size, err = parseSwapSize(v, c.PageSize, "use SWAP_POLICY=off")
		return err
	}},
	{"SWAP_MIN", func(v string, c *Config) (err error) { c.Min, err = parseSize(v, true); return err }},
	{"SWAP_MAX", func(v string, c *Config) (err error) { c.Max, err = parseCap(v, c.PageSize); return err }},
	{"SWAP_FILE", func(v string, c *Config) (err error) { c.File, err = parsePath(v); return err }},
	{"SWAP_DISK_PERCENT", func(v string, c *Config) (err error) { c.DiskPercent, err = parsePercent(v); return err }},
	{"SWAP_DISK_RESERVE", func(v string, c *Config) (err error) { c.DiskReserve, err = parseSize(v, true); return err }},
	{"SWAP_TOLERANCE", func(v string, c *Config) (err error) { c.Tolerance, err = sizing.ParseTolerance(v); return err }},
	{"SWAP_ALLOCATE", func(v string, c *Config) error {
		w, err := parseOneOf(v, "auto", "zero")
		c.Zero = w == "zero"
		return err
	}},
	{"SWAP_PRIORITY", func(v string, c *Config) (err error) { c.Priority, err = parseInt(v, -1, 32767); return err }},
	{"SWAP_SWAPPINESS", func(v string, c *Config) (err error) { c.Swappiness, err = parseInt(v, 0, 200); return err }},
	{"SWAP_SYSCTL_FILE", func(v string, c *Config) (err error) { c.SysctlFile, err = parsePath(v); return err }},
	{"SWAP_PERSIST", func(v string, c *Config) error {
		w, err := parseOneOf(v, "fstab", "none")
		c.Persist = w == "fstab"
		return err
	}},
	{"SWAP_FSTAB", func(v string, c *Config) (err error) { c.Fstab, err = parsePath(v); return err }},
	{"SWAP_INSTANCE_TYPE", func(v string, c *Config) (err error) { c.InstanceType, err = ParseInstanceType(v); return err }},
	{"SWAP_IMDS", func(v string, c *Config) (err error) {
		c.IMDS, err = parseOneOf(v, "auto", "required", "off")
		return err
	}},
	{"SWAP_IMDS_TIMEOUT", func(v string, c *Config) (err error) {
		c.IMDSTimeout, err = parseDuration(v, time.Millisecond, 5*time.Minute)
		return err
	}},
	{"SWAP_TAGS", func(v string, c *Config) (err error) { c.Tags, err = parseBool(v); return err }},
	{"SWAP_LOG_FORMAT", func(v string, c *Config) (err error) { c.LogFormat, err = parseOneOf(v, "text", "json"); return err }},
	{"SWAP_LOCK_FILE", func(v string, c *Config) (err error) { c.LockFile, err = parsePath(v); return err }},
	{"SWAP_LOCK_TIMEOUT", func(v string, c *Config) (err error) { c.LockTimeout, err = parseDuration(v, 0, time.Hour); return err }},
	{"SWAP_KUBELET", func(v string, c *Config) (err error) { c.Kubelet, err = parseOneOf(v, "check", "ignore"); return err }},
	{"SWAP_ZSWAP", func(v string, c *Config) (err error) { c.Zswap, err = parseOneOf(v, "on", "off", "keep"); return err }},
	{"SWAP_ZSWAP_COMPRESSOR", func(v string, c *Config) (err error) { c.ZswapComp, err = parseCompressor(v); return err }},
	{"SWAP_ZSWAP_POOL_PERCENT", func(v string, c *Config) (err error) { c.ZswapPool, err = parsePercent(v); return err }},
	{"SWAP_INSTANCE_STORE", func(v string, c *Config) error {
		w, err := parseOneOf(v, "off", "prefer")
		c.InstanceStore = w == "prefer"
		return err
	}},
	{"SWAP_HIBERNATION", func(v string, c *Config) (err error) {
		c.Hibernation, err = parseOneOf(v, "skip", "ignore")
		return err
	}},
}

// sizeVars are the variables that take a size.
var sizeVars = map[string]bool{"SWAP_SIZE": true, "SWAP_MIN": true, "SWAP_MAX": true, "SWAP_DISK_RESERVE": true, "SWAP_TOLERANCE": true}

// decimalNote says what a size with a decimal unit parsed to, and how to
// write the binary size that is usually meant; "" for other sizes.
func decimalNote(label, v string) string {
	binary, ok := sizing.BinaryEquivalent(v)
	if !ok {
		return ""
	}
	b, err1 := sizing.ParseSize(v)
	want, err2 := sizing.ParseSize(binary)
	if err1 != nil || err2 != nil {
		return ""
	}
	return fmt.Sprintf("%s=%q = %s (KB, MB, GB and TB are powers of 1000); use %s for %s",
		label, v, sizing.FormatSize(b), binary, sizing.FormatSize(want))
}

// sourced are the settings whose source Config.Sources records (tags may
// override them).
var sourced = map[string]string{"SWAP_POLICY": "policy", "SWAP_RATIO": "ratio", "SWAP_SIZE": "size", "SWAP_MAX": "max"}

// Load reads the SWAP_* variables with envconfig and validates them.
func Load() (Config, error) {
	var env Env
	// Full names in the tags and no prefix: with a prefix envconfig also falls
	// back to the bare name, so a stray FILE= or SIZE= would be read.
	if err := envconfig.Process("", &env); err != nil {
		return Config{}, &Error{Problems: []string{err.Error()}}
	}
	set := map[string]bool{}
	for _, v := range Vars() {
		_, set[v.Name] = os.LookupEnv(v.Name)
	}
	return parse(env, set, os.Environ(), int64(os.Getpagesize()))
}

// LoadEnviron validates the settings in environ (NAME=value entries, such as
// the environment file install saved) with the same rows as Load; a variable
// it does not hold has its default, as envconfig gives it.
func LoadEnviron(environ []string) (Config, error) {
	values := map[string]string{}
	for _, kv := range environ {
		if name, v, ok := strings.Cut(kv, "="); ok {
			values[name] = v
		}
	}
	var env Env
	fields := reflect.ValueOf(&env).Elem()
	set := map[string]bool{}
	for i, v := range Vars() {
		val, ok := values[v.Name]
		if !ok {
			val = v.Default
		}
		set[v.Name] = ok
		fields.Field(i).SetString(val)
	}
	return parse(env, set, environ, int64(os.Getpagesize()))
}

// parse validates what envconfig read: set says which variables the
// environment set (the rest hold their defaults), environ is the whole
// environment, searched for unknown SWAP_* variables, and pageSize is the
// kernel's.
func parse(env Env, set map[string]bool, environ []string, pageSize int64) (Config, error) {
	c := Config{Priority: -1, Swappiness: -1, PageSize: pageSize, Sources: map[string]string{}}
	var problems []string
	bad := func(name, val, format string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s=%q: %s", name, val, fmt.Sprintf(format, a...)))
	}
	values := reflect.ValueOf(env)
	for i, r := range rows {
		v := Vars()[i]
		val := values.Field(i).String()
		switch {
		case set[r.name] && strings.TrimSpace(val) == "":
			def := ""
			if v.Default != "" {
				def = " (" + v.Default + ")"
			}
			bad(r.name, val, "empty; unset it to use the default%s, or give a value", def)
			continue
		case val == "":
			continue
		}
		if err := r.parse(strings.TrimSpace(val), &c); err != nil {
			bad(r.name, val, "%v", err)
			continue
		}
		if sizeVars[r.name] {
			if n := decimalNote(r.name, strings.TrimSpace(val)); n != "" {
				c.Notes = append(c.Notes, n)
			}
		}
		if key, ok := sourced[r.name]; ok {
			c.Sources[key] = "default"
			if set[r.name] {
				c.Sources[key] = r.name
			}
		}
	}

	// SWAP_SIZE alone means the fixed policy; with another policy it is a
	// contradiction the operator must resolve.
	switch {
	case c.Size > 0 && !set["SWAP_POLICY"]:
		c.Policy = sizing.PolicyFixed
		c.Sources["policy"] = "SWAP_SIZE"
	case c.Size > 0 && c.Policy != "" && c.Policy != sizing.PolicyFixed:
		bad("SWAP_SIZE", env.Size, "conflicts with SWAP_POLICY=%s; unset one of them (SWAP_SIZE alone means the fixed policy)", c.Policy)
	case c.Policy == sizing.PolicyFixed && env.Size == "":
		bad("SWAP_POLICY", env.Policy, "the fixed policy needs SWAP_SIZE; set SWAP_SIZE, e.g. SWAP_SIZE=2G")
	}
	if c.Min > 0 && c.Max > 0 && c.Min > c.Max {
		bad("SWAP_MIN", env.Min, "is larger than SWAP_MAX=%s; lower SWAP_MIN or raise SWAP_MAX", env.Max)
	}
	// One file for two jobs would clobber it: the lock on the swapfile, the
	// sysctl settings written over fstab.
	files := []struct{ name, path string }{{"SWAP_FILE", c.File}, {"SWAP_FSTAB", c.Fstab}, {"SWAP_SYSCTL_FILE", c.SysctlFile}, {"SWAP_LOCK_FILE", c.LockFile}}
	for i, a := range files {
		for _, b := range files[i+1:] {
			if a.path != "" && a.path == b.path {
				bad(b.name, b.path, "is also %s; SWAP_FILE, SWAP_FSTAB, SWAP_SYSCTL_FILE and SWAP_LOCK_FILE must differ: give %s its own path", a.name, b.name)
			}
		}
	}

	known := map[string]bool{}
	for _, v := range Vars() {
		known[v.Name] = true
	}
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		// SWAP_BOOTSTRAP_* belong to the shipped scripts and the tests.
		if !strings.HasPrefix(name, Prefix+"_") || strings.HasPrefix(name, "SWAP_BOOTSTRAP_") || known[name] {
			continue
		}
		// A name two edits from a known one is a typo: running without the
		// setting the operator meant (SWAP_POLCY=off) would do the opposite.
		if near := nearest(name); near != "" {
			bad(name, val, "not a swap-bootstrap variable; did you mean %s? Rename it (or unset it)", near)
			continue
		}
		c.Unknown = append(c.Unknown, name)
	}
	slices.Sort(c.Unknown)
	if len(problems) > 0 {
		return c, &Error{Problems: problems}
	}
	return c, nil
}

// nearest returns the variable within two edits of name, or "".
func nearest(name string) string {
	best, bestD := "", 3
	for _, v := range Vars() {
		if d := editDistance(name, v.Name); d < bestD {
			best, bestD = v.Name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

const sizeHint = "use a number with an optional unit, e.g. 2048, 2G, 1.5GiB"

// parseSize reads a size; zero is allowed only where it means "none".
func parseSize(v string, allowZero bool) (int64, error) {
	b, err := sizing.ParseSize(v)
	if err != nil {
		return 0, err
	}
	if b == 0 && !allowZero {
		return 0, fmt.Errorf("must be more than 0; %s", sizeHint)
	}
	return b, nil
}

// parseSwapSize reads SWAP_SIZE and the size tag; off says how to ask for
// no swap instead. A size below the kernel's minimum swap area is refused:
// it must never round down to "no swap".
func parseSwapSize(v string, pageSize int64, off string) (int64, error) {
	b, err := sizing.ParseSize(v)
	if err != nil {
		return 0, err
	}
	if b == 0 {
		return 0, fmt.Errorf("must be more than 0; for no swap %s", off)
	}
	if err := atLeastMin(b, pageSize); err != nil {
		return 0, fmt.Errorf("%w; for no swap %s", err, off)
	}
	return b, nil
}

// parseCap reads SWAP_MAX and the max tag: more than the minimum swap area.
func parseCap(v string, pageSize int64) (int64, error) {
	b, err := parseSize(v, false)
	if err == nil {
		err = atLeastMin(b, pageSize)
	}
	return b, err
}

// atLeastMin refuses a size below the smallest swap area the kernel takes.
func atLeastMin(b, pageSize int64) error {
	if min := sizing.MinSize(pageSize); b < min {
		return fmt.Errorf("%s is below the smallest swap area, %s (10 pages of %s); use at least %s",
			sizing.FormatSize(b), sizing.FormatSize(min), sizing.FormatSize(pageSize), sizing.FormatSize(min))
	}
	return nil
}

// Ratio bounds. The lower one keeps RAM × ratio above the smallest swap
// area even on the smallest instances (0.01 × 512 MiB = 5 MiB), so a ratio
// can never round down to no swap.
const (
	minRatio = 0.01
	maxRatio = 16
)

// ParseRatio reads a RAM multiplier from 0.01 to 16.
func ParseRatio(s string) (float64, error) {
	r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(r) || r < minRatio || r > maxRatio {
		return 0, fmt.Errorf("not a ratio from %g to %g; e.g. 2 or 1.5 (for no swap use the policy off)", float64(minRatio), float64(maxRatio))
	}
	return r, nil
}

var instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)

// ParseInstanceType accepts an EC2 instance type name such as t3.micro.
func ParseInstanceType(v string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(v))
	if !instanceTypeRE.MatchString(t) {
		return "", fmt.Errorf("not an EC2 instance type; use a name such as t3.micro")
	}
	return t, nil
}

var compressorRE = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// parseCompressor accepts the name of a kernel compression algorithm; whether
// this kernel has it is known only when zswap is asked to use it.
func parseCompressor(v string) (string, error) {
	c := strings.ToLower(v)
	if !compressorRE.MatchString(c) {
		return "", fmt.Errorf("not a compressor name; use one the kernel has, e.g. lzo-rle, lzo, zstd, lz4 or deflate")
	}
	return c, nil
}

func parsePath(v string) (string, error) {
	switch {
	case !filepath.IsAbs(v):
		return "", fmt.Errorf("not an absolute path; use a path starting with /, e.g. /var/swapfile")
	case strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return "", fmt.Errorf("contains a control character; use a plain path")
	case filepath.Clean(v) != v || v == "/":
		return "", fmt.Errorf("not a clean file path; use %q", filepath.Clean(v))
	}
	return v, nil
}

func parsePercent(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		return 0, fmt.Errorf("not a whole percentage from 1 to 100; e.g. 50")
	}
	return n, nil
}

func parseInt(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("not a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

func parseOneOf(v string, allowed ...string) (string, error) {
	l := strings.ToLower(v)
	if slices.Contains(allowed, l) {
		return l, nil
	}
	return "", fmt.Errorf("use %s or %s", strings.Join(allowed[:len(allowed)-1], ", "), allowed[len(allowed)-1])
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("use true or false")
}

func parseDuration(v string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("not a duration from %s to %s; e.g. 3s or 500ms", lo, hi)
	}
	return d, nil
}
