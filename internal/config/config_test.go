package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/config/configtest"
	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

const (
	mib = sizing.MiB
	gib = sizing.GiB
)

func load(t *testing.T, kv ...string) (Config, error) {
	t.Helper()
	configtest.Env(t, kv...)
	return Load()
}

func TestDefaults(t *testing.T) {
	c, err := load(t)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Policy: sizing.PolicyRatio, Ratio: 2, Max: 32 * gib, File: "/var/swapfile", DiskPercent: 50,
		DiskReserve: gib, Tolerance: sizing.Tolerance{Fraction: 0.05}, Priority: -1, Swappiness: -1,
		SysctlFile: "/etc/sysctl.d/90-swap-bootstrap.conf", Persist: true, Fstab: "/etc/fstab", IMDS: "auto",
		IMDSTimeout: 3 * time.Second, LogFormat: "text", LockFile: "/run/swap-bootstrap.lock", LockTimeout: time.Minute, PageSize: int64(os.Getpagesize()),
		Kubelet: "check", Hibernation: "skip", Zswap: "keep", ZswapComp: "lzo-rle", ZswapPool: 20,
		Sources: map[string]string{"policy": "default", "ratio": "default", "max": "default"}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults\n%+v\nwant\n%+v", c, want)
	}
}

// TestRowsMatchEnv: one parser row per variable, in the order of Env.
func TestRowsMatchEnv(t *testing.T) {
	vars := Vars()
	if len(rows) != len(vars) {
		t.Fatalf("%d rows for %d variables", len(rows), len(vars))
	}
	for i, v := range vars {
		if rows[i].name != v.Name {
			t.Errorf("row %d is %s, Env field %d is %s", i, rows[i].name, i, v.Name)
		}
		if v.Desc == "" || !strings.HasPrefix(v.Name, "SWAP_") {
			t.Errorf("%s: no description or not a SWAP_ name", v.Name)
		}
	}
}

// TestVariables: for every variable, its default, valid values at the edges,
// and each class of invalid value, named in the error.
func TestVariables(t *testing.T) {
	type check func(c Config) bool
	cases := []struct {
		env   string
		ok    check  // nil: must fail
		error string // part of the problem, for failures
	}{
		{"SWAP_POLICY=aws", func(c Config) bool { return c.Policy == sizing.PolicyAWS && c.Sources["policy"] == "SWAP_POLICY" }, ""},
		{"SWAP_POLICY= Cloud-Init ", func(c Config) bool { return c.Policy == sizing.PolicyCloudInit }, ""},
		{"SWAP_POLICY=off", func(c Config) bool { return c.Policy == sizing.PolicyOff }, ""},
		{"SWAP_POLICY=double", nil, `SWAP_POLICY="double": not a policy; use one of ratio, aws, redhat, ubuntu, cloud-init, fixed, off`},
		{"SWAP_POLICY=fixed", nil, `SWAP_POLICY="fixed": the fixed policy needs SWAP_SIZE`},
		{"SWAP_POLICY=", nil, `SWAP_POLICY="": empty; unset it to use the default (ratio), or give a value`},

		{"SWAP_RATIO=16", func(c Config) bool { return c.Ratio == 16 && c.Sources["ratio"] == "SWAP_RATIO" }, ""},
		{"SWAP_RATIO=0.01", func(c Config) bool { return c.Ratio == 0.01 }, ""},
		{"SWAP_RATIO=16.001", nil, `SWAP_RATIO="16.001": not a ratio from 0.01 to 16`},
		{"SWAP_RATIO=0", nil, `SWAP_RATIO="0": not a ratio`},
		{"SWAP_RATIO=-1", nil, `SWAP_RATIO="-1"`},
		{"SWAP_RATIO=NaN", nil, `SWAP_RATIO="NaN"`},
		{"SWAP_RATIO=2x", nil, `SWAP_RATIO="2x"`},

		{"SWAP_SIZE=2048", func(c Config) bool {
			return c.Size == 2*gib && c.Policy == sizing.PolicyFixed && c.Sources["policy"] == "SWAP_SIZE" && c.Sources["size"] == "SWAP_SIZE"
		}, ""},
		{"SWAP_SIZE=1.5G", func(c Config) bool { return c.Size == 3*gib/2 }, ""},
		{"SWAP_SIZE=0", nil, `SWAP_SIZE="0": must be more than 0; for no swap use SWAP_POLICY=off`},
		{"SWAP_SIZE=2 gigs", nil, `SWAP_SIZE="2 gigs": not a size`},
		{"SWAP_SIZE=-1G", nil, `SWAP_SIZE="-1G"`},
		{"SWAP_SIZE= ", nil, `SWAP_SIZE=" ": empty; unset it to use the default, or give a value`},

		{"SWAP_MIN=0", func(c Config) bool { return c.Min == 0 }, ""},
		{"SWAP_MIN=512M", func(c Config) bool { return c.Min == 512*mib }, ""},
		{"SWAP_MIN=abc", nil, `SWAP_MIN="abc": not a size`},

		{"SWAP_MAX=4G", func(c Config) bool { return c.Max == 4*gib && c.Sources["max"] == "SWAP_MAX" }, ""},
		{"SWAP_MAX=0", nil, `SWAP_MAX="0": must be more than 0`},
		{"SWAP_MAX=1PB", nil, `SWAP_MAX="1PB": not a size`},

		{"SWAP_FILE=/data/swap file", func(c Config) bool { return c.File == "/data/swap file" }, ""},
		{"SWAP_FILE=relative/swapfile", nil, `SWAP_FILE="relative/swapfile": not an absolute path`},
		{"SWAP_FILE=/var/../var/swapfile", nil, `SWAP_FILE="/var/../var/swapfile": not a clean file path; use "/var/swapfile"`},
		{"SWAP_FILE=/", nil, `SWAP_FILE="/": not a clean file path`},
		{"SWAP_FILE=/var/swapfile/", nil, `not a clean file path; use "/var/swapfile"`},
		{"SWAP_FILE=/var/swap\x01file", nil, `contains a control character`},
		{"SWAP_FILE=/var/swap\x7ffile", nil, `contains a control character`},

		{"SWAP_DISK_PERCENT=1", func(c Config) bool { return c.DiskPercent == 1 }, ""},
		{"SWAP_DISK_PERCENT=100", func(c Config) bool { return c.DiskPercent == 100 }, ""},
		{"SWAP_DISK_PERCENT=0", nil, `SWAP_DISK_PERCENT="0": not a whole percentage from 1 to 100`},
		{"SWAP_DISK_PERCENT=101", nil, `SWAP_DISK_PERCENT="101"`},
		{"SWAP_DISK_PERCENT=12.5", nil, `SWAP_DISK_PERCENT="12.5"`},

		{"SWAP_DISK_RESERVE=0", func(c Config) bool { return c.DiskReserve == 0 }, ""},
		{"SWAP_DISK_RESERVE=256M", func(c Config) bool { return c.DiskReserve == 256*mib }, ""},
		{"SWAP_DISK_RESERVE=1Z", nil, `SWAP_DISK_RESERVE="1Z"`},

		{"SWAP_TOLERANCE=10%", func(c Config) bool { return c.Tolerance.Fraction == 0.1 }, ""},
		{"SWAP_TOLERANCE=256M", func(c Config) bool { return c.Tolerance.Bytes == 256*mib && c.Tolerance.Fraction == 0 }, ""},
		{"SWAP_TOLERANCE=60%", nil, `SWAP_TOLERANCE="60%": not a percentage between 0% and 50%`},

		{"SWAP_ALLOCATE=zero", func(c Config) bool { return c.Zero }, ""},
		{"SWAP_ALLOCATE=AUTO", func(c Config) bool { return !c.Zero }, ""},
		{"SWAP_ALLOCATE=dd", nil, `SWAP_ALLOCATE="dd": use auto or zero`},

		{"SWAP_PRIORITY=-1", func(c Config) bool { return c.Priority == -1 }, ""},
		{"SWAP_PRIORITY=0", func(c Config) bool { return c.Priority == 0 }, ""},
		{"SWAP_PRIORITY=32767", func(c Config) bool { return c.Priority == 32767 }, ""},
		{"SWAP_PRIORITY=-2", nil, `SWAP_PRIORITY="-2": not a whole number from -1 to 32767`},
		{"SWAP_PRIORITY=32768", nil, `SWAP_PRIORITY="32768"`},
		{"SWAP_PRIORITY=high", nil, `SWAP_PRIORITY="high"`},

		{"SWAP_SWAPPINESS=0", func(c Config) bool { return c.Swappiness == 0 }, ""},
		{"SWAP_SWAPPINESS=200", func(c Config) bool { return c.Swappiness == 200 }, ""},
		{"SWAP_SWAPPINESS=-1", nil, `SWAP_SWAPPINESS="-1": not a whole number from 0 to 200`},
		{"SWAP_SWAPPINESS=201", nil, `SWAP_SWAPPINESS="201"`},

		{"SWAP_SYSCTL_FILE=/etc/sysctl.conf", func(c Config) bool { return c.SysctlFile == "/etc/sysctl.conf" }, ""},
		{"SWAP_SYSCTL_FILE=relative.conf", nil, `SWAP_SYSCTL_FILE="relative.conf": not an absolute path`},

		{"SWAP_PERSIST=none", func(c Config) bool { return !c.Persist }, ""},
		{"SWAP_PERSIST=yes", nil, `SWAP_PERSIST="yes": use fstab or none`},

		{"SWAP_FSTAB=/tmp/fstab", func(c Config) bool { return c.Fstab == "/tmp/fstab" }, ""},
		{"SWAP_FSTAB=etc/fstab", nil, `SWAP_FSTAB="etc/fstab": not an absolute path`},

		{"SWAP_INSTANCE_TYPE=T3.Micro", func(c Config) bool { return c.InstanceType == "t3.micro" }, ""},
		{"SWAP_INSTANCE_TYPE=u-6tb1.metal", func(c Config) bool { return c.InstanceType == "u-6tb1.metal" }, ""},
		{"SWAP_INSTANCE_TYPE=t3 micro", nil, `SWAP_INSTANCE_TYPE="t3 micro": not an EC2 instance type; use a name such as t3.micro`},
		{"SWAP_INSTANCE_TYPE=../../etc", nil, `SWAP_INSTANCE_TYPE="../../etc"`},
		{"SWAP_INSTANCE_TYPE=t3.", nil, `SWAP_INSTANCE_TYPE="t3."`},

		{"SWAP_IMDS=required", func(c Config) bool { return c.IMDS == "required" }, ""},
		{"SWAP_IMDS=Off", func(c Config) bool { return c.IMDS == "off" }, ""},
		{"SWAP_IMDS=sometimes", nil, `SWAP_IMDS="sometimes": use auto, required or off`},

		{"SWAP_IMDS_TIMEOUT=1ms", func(c Config) bool { return c.IMDSTimeout == time.Millisecond }, ""},
		{"SWAP_IMDS_TIMEOUT=5m", func(c Config) bool { return c.IMDSTimeout == 5*time.Minute }, ""},
		{"SWAP_IMDS_TIMEOUT=999us", nil, `SWAP_IMDS_TIMEOUT="999us": not a duration from 1ms to 5m0s`},
		{"SWAP_IMDS_TIMEOUT=5m1s", nil, `SWAP_IMDS_TIMEOUT="5m1s"`},
		{"SWAP_IMDS_TIMEOUT=3", nil, `SWAP_IMDS_TIMEOUT="3"`},

		{"SWAP_TAGS=yes", func(c Config) bool { return c.Tags }, ""},
		{"SWAP_TAGS=1", func(c Config) bool { return c.Tags }, ""},
		{"SWAP_TAGS=TRUE", func(c Config) bool { return c.Tags }, ""},
		{"SWAP_TAGS=no", func(c Config) bool { return !c.Tags }, ""},
		{"SWAP_TAGS=0", func(c Config) bool { return !c.Tags }, ""},
		{"SWAP_TAGS=maybe", nil, `SWAP_TAGS="maybe": use true or false`},

		{"SWAP_LOG_FORMAT=json", func(c Config) bool { return c.LogFormat == "json" }, ""},
		{"SWAP_LOG_FORMAT=xml", nil, `SWAP_LOG_FORMAT="xml": use text or json`},

		{"SWAP_LOCK_FILE=/tmp/l", func(c Config) bool { return c.LockFile == "/tmp/l" }, ""},
		{"SWAP_LOCK_FILE=run/lock", nil, `SWAP_LOCK_FILE="run/lock": not an absolute path`},

		{"SWAP_LOCK_TIMEOUT=0s", func(c Config) bool { return c.LockTimeout == 0 }, ""},
		{"SWAP_LOCK_TIMEOUT=1h", func(c Config) bool { return c.LockTimeout == time.Hour }, ""},
		{"SWAP_LOCK_TIMEOUT=1h0m1s", nil, `SWAP_LOCK_TIMEOUT="1h0m1s": not a duration from 0s to 1h0m0s`},
		{"SWAP_LOCK_TIMEOUT=-1s", nil, `SWAP_LOCK_TIMEOUT="-1s"`},

		{"SWAP_KUBELET=ignore", func(c Config) bool { return c.Kubelet == "ignore" }, ""},
		{"SWAP_KUBELET=off", nil, `SWAP_KUBELET="off": use check or ignore`},

		{"SWAP_ZSWAP=off", func(c Config) bool { return c.Zswap == "off" }, ""},
		{"SWAP_ZSWAP=On", func(c Config) bool { return c.Zswap == "on" }, ""},
		{"SWAP_ZSWAP=maybe", nil, `SWAP_ZSWAP="maybe": use on, off or keep`},
		{"SWAP_ZSWAP_COMPRESSOR=ZSTD", func(c Config) bool { return c.ZswapComp == "zstd" }, ""},
		{"SWAP_ZSWAP_COMPRESSOR=lz4; rm", nil, `SWAP_ZSWAP_COMPRESSOR="lz4; rm": not a compressor name`},
		{"SWAP_ZSWAP_POOL_PERCENT=10", func(c Config) bool { return c.ZswapPool == 10 }, ""},
		{"SWAP_ZSWAP_POOL_PERCENT=0", nil, `SWAP_ZSWAP_POOL_PERCENT="0": not a whole percentage from 1 to 100`},

		{"SWAP_INSTANCE_STORE=prefer", func(c Config) bool { return c.InstanceStore }, ""},
		{"SWAP_INSTANCE_STORE=always", nil, `SWAP_INSTANCE_STORE="always": use off or prefer`},

		{"SWAP_HIBERNATION=ignore", func(c Config) bool { return c.Hibernation == "ignore" }, ""},
		{"SWAP_HIBERNATION=coexist", nil, `SWAP_HIBERNATION="coexist": use skip or ignore`},
	}
	tested := map[string]bool{}
	for _, c := range cases {
		t.Run(c.env, func(t *testing.T) {
			name, _, _ := strings.Cut(c.env, "=")
			tested[name] = true
			got, err := load(t, c.env)
			if c.ok != nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !c.ok(got) {
					t.Errorf("config %+v", got)
				}
				return
			}
			cerr, isConfig := err.(*Error)
			if !isConfig || len(cerr.Problems) != 1 || !strings.Contains(cerr.Problems[0], c.error) {
				t.Errorf("error %v, want exactly one problem containing %q", err, c.error)
			}
		})
	}
	for _, v := range Vars() {
		if !tested[v.Name] {
			t.Errorf("no case for %s", v.Name)
		}
	}
}

func TestCombinations(t *testing.T) {
	cases := []struct {
		name  string
		env   []string
		ok    func(c Config) bool
		error []string
	}{
		{"SWAP_SIZE with SWAP_POLICY=fixed", []string{"SWAP_SIZE=1G", "SWAP_POLICY=fixed"},
			func(c Config) bool {
				return c.Policy == sizing.PolicyFixed && c.Size == gib && c.Sources["policy"] == "SWAP_POLICY"
			}, nil},
		{"SWAP_SIZE with another policy", []string{"SWAP_SIZE=2048", "SWAP_POLICY=aws"}, nil,
			[]string{`SWAP_SIZE="2048": conflicts with SWAP_POLICY=aws; unset one of them`}},
		{"SWAP_MIN above SWAP_MAX", []string{"SWAP_MIN=3G", "SWAP_MAX=2G"}, nil,
			[]string{`SWAP_MIN="3G": is larger than SWAP_MAX=2G`}},
		{"SWAP_MIN equal to SWAP_MAX", []string{"SWAP_MIN=2G", "SWAP_MAX=2G"}, func(c Config) bool { return c.Min == c.Max }, nil},
		// A SWAP_MAX that did not parse is one problem, not also "SWAP_MIN is larger".
		{"SWAP_MIN with a bad SWAP_MAX", []string{"SWAP_MIN=1G", "SWAP_MAX=lots"}, nil,
			[]string{`SWAP_MAX="lots": not a size`}},
		{"every problem at once", []string{"SWAP_FILE=relative", "SWAP_RATIO=0", "SWAP_PRIORITY=high", "SWAP_MIN=3G", "SWAP_MAX=2G"}, nil,
			[]string{`SWAP_RATIO="0"`, `SWAP_FILE="relative": not an absolute path`, `SWAP_PRIORITY="high"`, `SWAP_MIN="3G": is larger than SWAP_MAX=2G`}},
		{"the scripts' own variables are not typos", []string{"SWAP_BOOTSTRAP_URL=https://example.com", "SWAP_UNHEARD_OF=1G", "SWAP_FOO=1"},
			func(c Config) bool { return strings.Join(c.Unknown, ",") == "SWAP_FOO,SWAP_UNHEARD_OF" }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := load(t, c.env...)
			if c.ok != nil {
				if err != nil || !c.ok(got) {
					t.Errorf("config %+v, error %v", got, err)
				}
				return
			}
			cerr, _ := err.(*Error)
			if cerr == nil || len(cerr.Problems) != len(c.error) {
				t.Fatalf("error %v, want %d problems", err, len(c.error))
			}
			for i, want := range c.error {
				if !strings.Contains(cerr.Problems[i], want) {
					t.Errorf("problem %d: %q, want %q", i, cerr.Problems[i], want)
				}
			}
			if err.Error() != strings.Join(cerr.Problems, "\n") {
				t.Errorf("Error() %q", err.Error())
			}
		})
	}
}

func TestWithTags(t *testing.T) {
	cases := []struct {
		name   string
		tags   map[string]string
		check  func(c Config) bool
		warn   string
		source string
	}{
		{"size tag means fixed", map[string]string{TagSize: "3G"}, func(c Config) bool {
			return c.Policy == sizing.PolicyFixed && c.Size == 3*gib && c.Sources["size"] == "tag swap-bootstrap:size"
		}, "", "tag swap-bootstrap:size"},
		{"policy tag", map[string]string{TagPolicy: "aws"}, func(c Config) bool { return c.Policy == sizing.PolicyAWS }, "", "tag swap-bootstrap:policy"},
		{"policy off by tag", map[string]string{TagPolicy: " OFF "}, func(c Config) bool { return c.Policy == sizing.PolicyOff }, "", "tag swap-bootstrap:policy"},
		{"fixed policy tag with a size tag", map[string]string{TagPolicy: "fixed", TagSize: "1G"}, func(c Config) bool { return c.Policy == sizing.PolicyFixed && c.Size == gib }, "", "tag swap-bootstrap:policy"},
		{"ratio and max", map[string]string{TagRatio: "1.5", TagMax: "4G"}, func(c Config) bool {
			return c.Ratio == 1.5 && c.Max == 4*gib && c.Sources["ratio"] == "tag swap-bootstrap:ratio" && c.Sources["max"] == "tag swap-bootstrap:max"
		}, "", "SWAP_POLICY"},
		{"invalid size is named and ignored", map[string]string{TagSize: "lots"}, func(c Config) bool { return c.Policy == sizing.PolicyRatio && c.Size == 0 }, `instance tag swap-bootstrap:size="lots" ignored: not a size`, "SWAP_POLICY"},
		{"size 0 is not off", map[string]string{TagSize: "0"}, func(c Config) bool { return c.Policy == sizing.PolicyRatio }, "for no swap tag swap-bootstrap:policy=off", "SWAP_POLICY"},
		{"invalid policy ignored", map[string]string{TagPolicy: "double"}, func(c Config) bool { return c.Policy == sizing.PolicyRatio }, `instance tag swap-bootstrap:policy="double" ignored`, "SWAP_POLICY"},
		{"fixed without a size ignored", map[string]string{TagPolicy: "fixed"}, func(c Config) bool { return c.Policy == sizing.PolicyRatio }, "needs a size", "SWAP_POLICY"},
		{"ratio out of range ignored", map[string]string{TagRatio: "40"}, func(c Config) bool { return c.Ratio == 2 }, `swap-bootstrap:ratio="40" ignored`, "SWAP_POLICY"},
		{"max 0 ignored", map[string]string{TagMax: "0"}, func(c Config) bool { return c.Max == 32*gib }, `swap-bootstrap:max="0" ignored: must be more than 0`, "SWAP_POLICY"},
		{"max below SWAP_MIN ignored", map[string]string{TagMax: "256M"}, func(c Config) bool { return c.Max == 32*gib }, "below SWAP_MIN 512 MiB", "SWAP_POLICY"},
		{"max equal to SWAP_MIN", map[string]string{TagMax: "512M"}, func(c Config) bool { return c.Max == 512*mib }, "", "SWAP_POLICY"},
		{"policy tag beats size tag", map[string]string{TagPolicy: "ubuntu", TagSize: "3G"}, func(c Config) bool { return c.Policy == sizing.PolicyUbuntu && c.Size == 0 }, "conflicts with tag swap-bootstrap:policy=ubuntu, which wins", "tag swap-bootstrap:policy"},
		{"no tags", nil, func(c Config) bool { return c.Policy == sizing.PolicyRatio }, "", "SWAP_POLICY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := Config{Policy: sizing.PolicyRatio, Ratio: 2, Min: 512 * mib, Max: 32 * gib, Sources: map[string]string{"policy": "SWAP_POLICY"}}
			c, w := WithTags(base, tc.tags)
			if !tc.check(c) {
				t.Errorf("config after tags: %+v", c)
			}
			if got := strings.Join(w, "\n"); (tc.warn == "") != (got == "") || !strings.Contains(got, tc.warn) {
				t.Errorf("problems %q, want %q", got, tc.warn)
			}
			if c.Sources["policy"] != tc.source {
				t.Errorf("policy source %q, want %q", c.Sources["policy"], tc.source)
			}
			if base.Sources["policy"] != "SWAP_POLICY" || len(base.Sources) != 1 || base.Policy != sizing.PolicyRatio {
				t.Errorf("WithTags changed its input: %+v", base)
			}
		})
	}
	if c, _ := WithTags(Config{}, map[string]string{TagRatio: "3"}); c.Sources["ratio"] != "tag swap-bootstrap:ratio" {
		t.Errorf("a config without sources: %v", c.Sources)
	}
}
