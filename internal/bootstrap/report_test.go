package bootstrap

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// TestReportEscapesNetworkValues (issue 10, item 10): what the metadata
// service says is printed escaped, so it cannot forge a line of the report.
func TestReportEscapesNetworkValues(t *testing.T) {
	f := Facts{InstanceType: "t3.micro", TypeSource: "metadata service", InstanceID: "i-0123\nwarning:        forged",
		Region: "eu-west-1\x1b[31m", AvailabilityZone: "eu-west-1a", Architecture: "x86_64", MetadataNote: "asked http://x\r\nforged: yes"}
	o := machine()
	o.Areas = []swap.Area{{Filename: "/swap\nfile", Type: "file"}}
	r := newReport("status", cfg(t), f, Decision{Warnings: []string{"w\nforged"}}, nil, o, time.Now())
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "warning:        forged") || strings.HasPrefix(l, "forged") || strings.ContainsAny(l, "\x1b\r") {
			t.Errorf("a forged line: %q\n%s", l, b.String())
		}
	}
	if !strings.Contains(b.String(), `i-0123\nwarning:        forged`) {
		t.Errorf("the instance id is not shown escaped:\n%s", b.String())
	}
}
