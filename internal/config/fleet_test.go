package config

import (
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

// TestSizesBelowTheSwapMinimum: a size, cap or ratio that would give less
// than the kernel's 10-page minimum is bad configuration, never "off"
// (issue 10, item 1). Only SWAP_POLICY=off asks for no swap.
func TestSizesBelowTheSwapMinimum(t *testing.T) {
	for _, kv := range []string{"SWAP_SIZE=1K", "SWAP_SIZE=0.001", "SWAP_SIZE=100B", "SWAP_SIZE=20K", "SWAP_SIZE=39K",
		"SWAP_MAX=1K", "SWAP_MAX=0.001", "SWAP_RATIO=0.0000000001", "SWAP_RATIO=0.009"} {
		t.Run(kv, func(t *testing.T) {
			name, val, _ := strings.Cut(kv, "=")
			_, err := load(t, kv)
			cerr, _ := err.(*Error)
			if cerr == nil || len(cerr.Problems) != 1 || !strings.HasPrefix(cerr.Problems[0], name+`="`+val+`": `) {
				t.Fatalf("error %v, want one problem naming %s", err, name)
			}
		})
	}
	// On 4 KiB pages the minimum is 40 KiB: exactly that is a valid size.
	c, err := parse(Env{Size: "40K", Max: "32G", Ratio: "2"}, map[string]bool{"SWAP_SIZE": true}, nil, 4096)
	if err != nil || c.Size != 40*sizing.KiB {
		t.Errorf("40K on 4 KiB pages: %v %+v", err, c)
	}
	// On 64 KiB pages (arm64) it is 640 KiB.
	_, err = parse(Env{Size: "600K", Max: "32G", Ratio: "2"}, map[string]bool{"SWAP_SIZE": true}, nil, 64*1024)
	if err == nil || !strings.Contains(err.Error(), "640 KiB") {
		t.Errorf("600K on 64 KiB pages: %v", err)
	}
	if _, err := load(t, "SWAP_RATIO=0.01"); err != nil {
		t.Errorf("ratio 0.01: %v", err)
	}
}

// TestTagsBelowTheSwapMinimum: the same values as tags are invalid tags,
// ignored with a message; the variables' values stand.
func TestTagsBelowTheSwapMinimum(t *testing.T) {
	base, err := load(t, "SWAP_MAX=8G")
	if err != nil {
		t.Fatal(err)
	}
	for tag, val := range map[string]string{TagSize: "1K", TagMax: "0.001", TagRatio: "0.0000001"} {
		c, problems := WithTags(base, map[string]string{tag: val})
		if len(problems) != 1 || !strings.Contains(problems[0], "instance tag "+tag+`="`+val+`" ignored`) {
			t.Errorf("%s=%s: problems %q", tag, val, problems)
		}
		if c.Policy != sizing.PolicyRatio || c.Size != 0 || c.Max != 8*sizing.GiB || c.Ratio != 2 {
			t.Errorf("%s=%s changed the config: %+v", tag, val, c)
		}
	}
}

// TestPathsMustDiffer (issue 10, item 3): the four files swap-bootstrap
// writes or locks are distinct, or it is bad configuration naming both.
func TestPathsMustDiffer(t *testing.T) {
	for _, c := range []struct{ env []string }{
		{[]string{"SWAP_LOCK_FILE=/var/swapfile"}},
		{[]string{"SWAP_FSTAB=/etc/sysctl.d/90-swap-bootstrap.conf"}},
		{[]string{"SWAP_SYSCTL_FILE=/tmp/x", "SWAP_LOCK_FILE=/tmp/x"}},
		{[]string{"SWAP_FILE=/etc/fstab"}},
	} {
		t.Run(strings.Join(c.env, " "), func(t *testing.T) {
			_, err := load(t, c.env...)
			name, _, _ := strings.Cut(c.env[len(c.env)-1], "=")
			if err == nil || !strings.Contains(err.Error(), name) || strings.Count(err.Error(), "SWAP_") < 2 || !strings.Contains(err.Error(), "must differ") {
				t.Errorf("error %v", err)
			}
		})
	}
}

// TestTypos (issue 10, item 11): an unknown SWAP_* close to a known name is
// a typo, bad configuration naming the fix; a far one only warns; the
// scripts' SWAP_BOOTSTRAP_* are known and silent.
func TestTypos(t *testing.T) {
	for kv, want := range map[string]string{
		"SWAP_POLCY=off":   `SWAP_POLCY="off": not a swap-bootstrap variable; did you mean SWAP_POLICY?`,
		"SWAP_SIZ=1G":      "did you mean SWAP_SIZE?",
		"SWAP_MAXX=4G":     "did you mean SWAP_MAX?",
		"SWAP_TAG=true":    "did you mean SWAP_TAGS?",
		"SWAP_SWAPINES=10": "did you mean SWAP_SWAPPINESS?",
	} {
		t.Run(kv, func(t *testing.T) {
			_, err := load(t, kv)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
	c, err := load(t, "SWAP_FOO=1", "SWAP_BOOTSTRAP_URL=https://example.com", "SWAP_BOOTSTRAP_VERSION=v1.0.0")
	if err != nil || strings.Join(c.Unknown, ",") != "SWAP_FOO" {
		t.Errorf("far from any name: %v %q", err, c.Unknown)
	}
}

// TestDecimalUnitsSaySo (issue 10, item 15): GB is 10^9 as documented, and
// a run with a decimal unit says what it parsed and how to ask for GiB.
func TestDecimalUnitsSaySo(t *testing.T) {
	c, err := load(t, "SWAP_SIZE=2gb", "SWAP_MAX=40GB", "SWAP_MIN=512M")
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(c.Notes, "\n")
	for _, want := range []string{`SWAP_SIZE="2gb" = 1.86 GiB (KB, MB, GB and TB are powers of 1000); use 2G for 2 GiB`,
		`SWAP_MAX="40GB" = 37.25 GiB`} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", c.Notes, want)
		}
	}
	if strings.Contains(notes, "SWAP_MIN") || c.Size != 2e9 {
		t.Errorf("notes %q size %d", c.Notes, c.Size)
	}
	c, _ = WithTags(c, map[string]string{TagSize: "3GB"})
	if !strings.Contains(strings.Join(c.Notes, "\n"), `instance tag swap-bootstrap:size="3GB" = 2.79 GiB`) {
		t.Errorf("tag notes %q", c.Notes)
	}
	// The max tag too, and a binary unit adds no note.
	before := len(c.Notes)
	c, _ = WithTags(c, map[string]string{TagMax: "8G"})
	if len(c.Notes) != before {
		t.Errorf("max tag 8G added notes %q", c.Notes[before:])
	}
	c, _ = WithTags(c, map[string]string{TagMax: "8GB"})
	if got := c.Notes[before:]; len(got) != 1 || !strings.Contains(got[0], `instance tag swap-bootstrap:max="8GB" = 7.45 GiB`) {
		t.Errorf("max tag 8GB notes %q", got)
	}
}
