package bootstrap

import (
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

// TestDegradedBootKeepsTheFile (issue 10, item 6): when the size would come
// from a degraded source (the metadata service did not answer, so the type is
// unknown; or the tags could not be read), a valid swapfile is kept as it is
// (enabled if needed) and the run says so; the fallback only makes a file
// when there is none.
func TestDegradedBootKeepsTheFile(t *testing.T) {
	down := Facts{MetadataFailed: "no answer from http://127.0.0.1:1 within 3s", MetadataNote: "no answer"}
	tagsUnread := Facts{InstanceType: "t3.micro", TypeSource: "metadata service", TagsFailed: "the list of instance tags was not read: 500"}
	// A t3.micro's file is 2 GiB (2 × nominal 1 GiB); from MemTotal
	// (972 MiB) the target would be 1.9 GiB, outside the 5% tolerance.
	cases := []struct {
		name    string
		env     []string
		facts   Facts
		active  bool
		exists  bool
		target  int64
		actions string
		warn    string
	}{
		{"metadata down, file active: kept", nil, down, true, true, 2 * gib, "", "keeping /var/swapfile at 2 GiB as it is"},
		{"metadata down, file inactive: enabled, not rebuilt", nil, down, false, true, 2 * gib, "enable", "keeping /var/swapfile at 2 GiB as it is"},
		{"metadata down, no file: made from MemTotal", nil, down, false, false, 1944 * mib, "create,fstab-set", "sizing from /proc/meminfo"},
		{"metadata down, fixed size: the type does not matter", []string{"SWAP_SIZE=1G"}, down, true, true, gib, "resize", "metadata service unavailable"},
		{"tags unread, file active: kept", []string{"SWAP_TAGS=true", "SWAP_RATIO=4"}, tagsUnread, true, true, 2 * gib, "", "instance tags could not be read"},
		{"tags unread, policy off from the environment: kept", []string{"SWAP_TAGS=true", "SWAP_POLICY=off"}, tagsUnread, true, true, 2 * gib, "", "instance tags could not be read"},
		{"tags unread, no file: made from the variables", []string{"SWAP_TAGS=true"}, tagsUnread, false, false, 2 * gib, "create,fstab-set", "instance tags could not be read"},
		{"all facts read: resized as usual", []string{"SWAP_RATIO=4"}, typed("t3.micro"), true, true, 4 * gib, "resize", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := machine()
			if c.exists {
				o = withFile(o, 2*gib, c.active)
			}
			d, p, err := Decide(cfg(t, c.env...), c.facts, o)
			if err != nil {
				t.Fatal(err)
			}
			if p.Target != c.target || kinds(p) != c.actions {
				t.Errorf("target %s actions %q, want %s %q", sizing.FormatSize(p.Target), kinds(p), sizing.FormatSize(c.target), c.actions)
			}
			if got := strings.Join(d.Warnings, "\n"); c.warn == "" && got != "" || !strings.Contains(got, c.warn) {
				t.Errorf("warnings %q, want %q", d.Warnings, c.warn)
			}
		})
	}
}
