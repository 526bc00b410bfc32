package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/config"
)

// badValues has, for every variable, values that must be refused: garbage,
// negative, zero, huge, wrong unit, empty.
var badValues = map[string][]string{
	"SWAP_POLICY":             {"", "double", "2", "fixed"},
	"SWAP_RATIO":              {"", "abc", "-1", "0", "17", "1e9", "NaN", "2x"},
	"SWAP_SIZE":               {"", " ", "2 gigs", "-1G", "0", "99999999999T", "2X", "2GG"},
	"SWAP_MIN":                {"", "abc", "-5", "99999999999T", "3Q"},
	"SWAP_MAX":                {"", "abc", "0", "-1", "1PB"},
	"SWAP_FILE":               {"", "relative/swapfile", "/var/../var/swapfile", "/", "/var/swapfile/"},
	"SWAP_DISK_PERCENT":       {"", "0", "101", "50%", "abc", "-5", "12.5"},
	"SWAP_DISK_RESERVE":       {"", "abc", "-1G", "1Z"},
	"SWAP_TOLERANCE":          {"", "abc", "60%", "-1%", "%"},
	"SWAP_ALLOCATE":           {"", "dd", "zeros"},
	"SWAP_PRIORITY":           {"", "-2", "32768", "high", "1.5"},
	"SWAP_SWAPPINESS":         {"", "-1", "201", "sixty"},
	"SWAP_SYSCTL_FILE":        {"", "relative.conf"},
	"SWAP_PERSIST":            {"", "yes", "crontab"},
	"SWAP_FSTAB":              {"", "etc/fstab"},
	"SWAP_INSTANCE_TYPE":      {"", "t3 micro", "T3", "../../etc", "t3."},
	"SWAP_LOG_FORMAT":         {"", "xml"},
	"SWAP_IMDS":               {"", "sometimes"},
	"SWAP_IMDS_TIMEOUT":       {"", "3", "-1s", "forever", "1h"},
	"SWAP_TAGS":               {"", "maybe"},
	"SWAP_LOCK_FILE":          {"", "run/lock"},
	"SWAP_LOCK_TIMEOUT":       {"", "-1s", "soon"},
	"SWAP_KUBELET":            {"", "off", "yes"},
	"SWAP_HIBERNATION":        {"", "coexist", "off"},
	"SWAP_ZSWAP":              {"", "maybe", "1"},
	"SWAP_INSTANCE_STORE":     {"", "always", "yes"},
	"SWAP_ZSWAP_COMPRESSOR":   {"", "lz4; rm", "../x"},
	"SWAP_ZSWAP_POOL_PERCENT": {"", "0", "101", "20%"},
}

// TestBadInput: every bad value exits 2, names its variable, and leaves no
// file, no fstab, no swap behind.
func TestBadInput(t *testing.T) {
	for _, v := range config.Vars() {
		if _, ok := badValues[v.Name]; !ok {
			t.Errorf("no bad values listed for %s", v.Name)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "swapfile")
	for name, values := range badValues {
		for _, val := range values {
			t.Run(name+"="+val, func(t *testing.T) {
				e := env(t, file, name+"="+val)
				if name == "SWAP_MIN" {
					e = override(e, "SWAP_SIZE=1G")
				}
				for _, cmd := range []string{"apply", "plan"} {
					r := runBin(t, e, cmd)
					if r.code != 2 {
						t.Errorf("%s: exit %d, want 2\n%s", cmd, r.code, r.stderr)
					}
					if !strings.Contains(r.stderr, name+"=") || !strings.Contains(r.stderr, "nothing was changed") {
						t.Errorf("%s: message does not name %s:\n%s", cmd, name, r.stderr)
					}
				}
				if _, err := os.Lstat(file); !os.IsNotExist(err) {
					t.Error("swapfile created")
				}
				if _, err := os.Lstat(get(e, "SWAP_FSTAB")); !os.IsNotExist(err) {
					t.Error("fstab written")
				}
			})
		}
	}
}

func TestEveryProblemListedAtOnce(t *testing.T) {
	e := env(t, "relative", "SWAP_RATIO=0", "SWAP_PRIORITY=high", "SWAP_MIN=3G", "SWAP_MAX=2G")
	r := runBin(t, e, "plan")
	for _, want := range []string{`SWAP_FILE="relative": not an absolute path`, `SWAP_RATIO="0"`, `SWAP_PRIORITY="high"`, `SWAP_MIN="3G": is larger than SWAP_MAX=2G`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("missing %q in:\n%s", want, r.stderr)
		}
	}
	if r.code != 2 {
		t.Errorf("exit %d", r.code)
	}
}

func TestUsage(t *testing.T) {
	r := runBin(t, env(t, "/x"), "help")
	if r.code != 0 {
		t.Fatalf("help: exit %d", r.code)
	}
	for _, v := range config.Vars() {
		if !strings.Contains(r.stdout, v.Name) {
			t.Errorf("help lacks %s", v.Name)
		}
	}
	if r := runBin(t, env(t, "/x"), "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %s", r.code, r.stderr)
	}
	if r := runBin(t, env(t, "/x"), "plan", "--bogus"); r.code != 2 {
		t.Errorf("unknown flag: exit %d", r.code)
	}
	// Each subcommand takes only its own flags.
	for _, c := range [][]string{{"apply", "--root", "/tmp"}, {"plan", "--now"}, {"remove", "--json"}, {"status", "--keep-swap"}, {"install", "--json"}, {"uninstall", "--now"}} {
		r := runBin(t, env(t, "/x"), c...)
		flag := strings.TrimLeft(c[1], "-")
		if r.code != 2 || !strings.Contains(r.stderr, "flag provided but not defined: -"+flag) {
			t.Errorf("%v: exit %d\n%s", c, r.code, r.stderr)
		}
	}
	if r := runBin(t, env(t, "/x"), "plan", "extra"); r.code != 2 || !strings.Contains(r.stderr, `unexpected argument "extra"`) {
		t.Errorf("extra argument: %d %s", r.code, r.stderr)
	}
	if r := runBin(t, env(t, "/x"), "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "swap-bootstrap dev (") {
		t.Errorf("version: %d %q", r.code, r.stdout)
	}
}
