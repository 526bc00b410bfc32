package config

import (
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

func TestDefaults(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy != sizing.PolicyRatio || c.Ratio != 2 || c.Max != 32*sizing.GiB || c.File != "/var/swapfile" || c.DiskPercent != 50 ||
		c.DiskReserve != sizing.GiB || c.Tolerance.Fraction != 0.05 || c.Zero || c.Priority != -1 || c.Swappiness != -1 || !c.Persist ||
		c.Fstab != "/etc/fstab" || c.IMDS != "auto" || c.IMDSTimeout.Seconds() != 3 || c.Tags || c.LogFormat != "text" {
		t.Errorf("defaults: %+v", c)
	}
	if c.Sources["policy"] != "default" {
		t.Errorf("sources %v", c.Sources)
	}
}

func TestSizeMeansFixed(t *testing.T) {
	t.Setenv("SWAP_SIZE", "2048")
	t.Setenv("SWAP_BOOTSTRAP_URL", "https://example.com") // the scripts' variables are not typos
	t.Setenv("SWAP_SIZ", "1G")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy != sizing.PolicyFixed || c.Size != 2*sizing.GiB || c.Sources["policy"] != "SWAP_SIZE" {
		t.Errorf("%+v", c)
	}
	if strings.Join(c.Unknown, ",") != "SWAP_SIZ" {
		t.Errorf("unknown %v", c.Unknown)
	}
	t.Setenv("SWAP_POLICY", "aws")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), `SWAP_SIZE="2048": conflicts with SWAP_POLICY=aws`) {
		t.Errorf("conflict: %v", err)
	}
}

func TestApplyTags(t *testing.T) {
	cases := []struct {
		name   string
		tags   map[string]string
		check  func(c Config) bool
		warn   string
		source string
	}{
		{"size tag means fixed", map[string]string{TagSize: "3G"}, func(c Config) bool { return c.Policy == sizing.PolicyFixed && c.Size == 3*sizing.GiB }, "", "tag swap-bootstrap:size"},
		{"policy tag", map[string]string{TagPolicy: "aws"}, func(c Config) bool { return c.Policy == sizing.PolicyAWS }, "", "tag swap-bootstrap:policy"},
		{"policy off by tag", map[string]string{TagPolicy: "off"}, func(c Config) bool { return c.Policy == sizing.PolicyOff }, "", "tag swap-bootstrap:policy"},
		{"ratio and max", map[string]string{TagRatio: "1.5", TagMax: "4G"}, func(c Config) bool { return c.Ratio == 1.5 && c.Max == 4*sizing.GiB }, "", "SWAP_POLICY"},
		{"invalid size is named and ignored", map[string]string{TagSize: "lots"}, func(c Config) bool { return c.Policy == sizing.PolicyRatio && c.Size == 0 }, `instance tag swap-bootstrap:size="lots" ignored`, "SWAP_POLICY"},
		{"invalid policy ignored", map[string]string{TagPolicy: "double"}, func(c Config) bool { return c.Policy == sizing.PolicyRatio }, `instance tag swap-bootstrap:policy="double" ignored`, "SWAP_POLICY"},
		{"fixed without a size ignored", map[string]string{TagPolicy: "fixed"}, func(c Config) bool { return c.Policy == sizing.PolicyRatio }, "needs a size", "SWAP_POLICY"},
		{"ratio out of range ignored", map[string]string{TagRatio: "40"}, func(c Config) bool { return c.Ratio == 2 }, `swap-bootstrap:ratio="40" ignored`, "SWAP_POLICY"},
		{"policy tag beats size tag", map[string]string{TagPolicy: "ubuntu", TagSize: "3G"}, func(c Config) bool { return c.Policy == sizing.PolicyUbuntu && c.Size == 0 }, "conflicts with tag swap-bootstrap:policy", "tag swap-bootstrap:policy"},
		{"no tags", nil, func(c Config) bool { return c.Policy == sizing.PolicyRatio }, "", "SWAP_POLICY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Policy: sizing.PolicyRatio, Ratio: 2, Max: 32 * sizing.GiB, Sources: map[string]string{"policy": "SWAP_POLICY"}}
			w := c.ApplyTags(tc.tags)
			if !tc.check(c) {
				t.Errorf("config after tags: %+v", c)
			}
			if got := strings.Join(w, "\n"); (tc.warn == "") != (got == "") || !strings.Contains(got, tc.warn) {
				t.Errorf("warnings %q, want %q", got, tc.warn)
			}
			if c.Sources["policy"] != tc.source {
				t.Errorf("policy source %q, want %q", c.Sources["policy"], tc.source)
			}
		})
	}
}
