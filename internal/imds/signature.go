package imds

import (
	"os"
	"path/filepath"
	"strings"
)

// The files that identify an EC2 machine without a network round trip. All
// are world-readable.
var signatureFiles = []struct {
	path  string
	match func(string) bool
}{
	// Nitro instances (and bare metal) report DMI vendor "Amazon EC2".
	{"sys/class/dmi/id/sys_vendor", isEC2Vendor},
	{"sys/class/dmi/id/board_vendor", isEC2Vendor},
	// Xen instances (t2, m4, c4 ...) report DMI vendor "Xen"; their
	// hypervisor UUID starts with "ec2" (upper case on some AMIs).
	{"sys/hypervisor/uuid", isEC2HypervisorUUID},
}

// ec2Signature returns the first file under sysRoot ("" = "/") that says this
// machine is an EC2 instance.
func ec2Signature(sysRoot string) (string, bool) {
	if sysRoot == "" {
		sysRoot = "/"
	}
	for _, s := range signatureFiles {
		p := filepath.Join(sysRoot, s.path)
		b, err := os.ReadFile(p)
		if err == nil && s.match(string(b)) {
			return p, true
		}
	}
	return "", false
}

func isEC2Vendor(s string) bool { return strings.TrimSpace(s) == "Amazon EC2" }

func isEC2HypervisorUUID(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= 3 && strings.EqualFold(s[:3], "ec2")
}
