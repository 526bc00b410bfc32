package swap

import (
	"strings"
	"testing"
)

// TestSetSysctl (issue 10, item 4): only our vm.swappiness line changes;
// every other byte of the file is kept.
func TestSetSysctl(t *testing.T) {
	ours := sysctlMarker + "\nvm.swappiness = 10\n"
	cases := []struct{ name, in, want string }{
		{"new file", "", ours},
		{"sysctl.conf with other settings: appended",
			"# /etc/sysctl.conf\nnet.ipv4.ip_forward=1\n\tkernel.panic = 10\n",
			"# /etc/sysctl.conf\nnet.ipv4.ip_forward=1\n\tkernel.panic = 10\n" + ours},
		{"an existing setting replaced in place", "a.b=1\nvm.swappiness=60\nc.d = 2\n", "a.b=1\n" + ours + "c.d = 2\n"},
		{"slash-separated key, leading dash, spaces", "a=1\n - vm/swappiness =  30 \nb=2\n", "a=1\n" + ours + "b=2\n"},
		{"later duplicates would override ours: dropped", "vm.swappiness=1\nx=1\nvm.swappiness = 2\n", ours + "x=1\n"},
		{"commented-out settings are someone else's", "# vm.swappiness = 5\n; vm.swappiness = 6\n", "# vm.swappiness = 5\n; vm.swappiness = 6\n" + ours},
		{"already right: unchanged", "x=1\n" + ours, "x=1\n" + ours},
		{"no final newline", "x=1", "x=1\n" + ours},
		{"CRLF kept", "x=1\r\n", "x=1\r\n" + strings.ReplaceAll(ours, "\n", "\r\n")},
		{"the old whole-file header is ours", "# Written by swap-bootstrap (SWAP_SWAPPINESS); it rewrites this file on every run.\nvm.swappiness = 60\n", ours},
		{"a similar key is not ours", "vm.swappiness_extra=1\n", "vm.swappiness_extra=1\n" + ours},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := string(SetSysctl([]byte(c.in), "vm.swappiness", "10"))
			if got != c.want {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
			if again := string(SetSysctl([]byte(got), "vm.swappiness", "10")); again != got {
				t.Errorf("not idempotent:\n%q", again)
			}
		})
	}
}

// TestPlanSwappinessKeepsOtherSettings: the plan writes the edited file.
func TestPlanSwappinessKeepsOtherSettings(t *testing.T) {
	s := settingsFor()
	s.Swappiness, s.SysctlFile = 10, "/etc/sysctl.conf"
	o := obsWith(swapFile(2*gib, true, 0))
	o.Sysctl = []byte("net.ipv4.ip_forward=1\n")
	p, err := PlanApply(s, o, Target{Size: 2 * gib})
	if err != nil || kinds(p) != "swappiness" {
		t.Fatalf("%v %q", err, kinds(p))
	}
	if got := string(p.Actions[0].Content); !strings.HasPrefix(got, "net.ipv4.ip_forward=1\n") || !strings.HasSuffix(got, "vm.swappiness = 10\n") {
		t.Errorf("content %q", got)
	}
}

// TestPlanPriority (issue 10, item 7): SWAP_PRIORITY reaches a swapfile that
// is already active, through swapoff and swapon under the MemAvailable rule;
// a second run with it in place does nothing.
func TestPlanPriority(t *testing.T) {
	s := settingsFor()
	s.Priority, s.Persist = 10, false
	o := obsWith(swapFile(2*gib, true, 0)) // active at the kernel's -2
	o.Fstab = nil                          // SWAP_PERSIST=none: no entry
	p, err := PlanApply(s, o, Target{Size: 2 * gib})
	if err != nil || kinds(p) != "priority" || p.Actions[0].Value != 10 || !strings.Contains(p.Actions[0].Reason, "priority -2, want 10") {
		t.Fatalf("%v %+v", err, p.Actions)
	}
	o.File.Active.Priority = 10
	if p, _ := PlanApply(s, o, Target{Size: 2 * gib}); p.Changes() {
		t.Errorf("priority already 10: %q", kinds(p))
	}
	s.Priority = -1 // unset: the kernel's choice stands
	o.File.Active.Priority = -2
	if p, _ := PlanApply(s, o, Target{Size: 2 * gib}); p.Changes() {
		t.Errorf("priority unset: %q", kinds(p))
	}
	s.Priority = 10
	o = obsWith(swapFile(2*gib, true, gib)) // swapoff would need more than MemAvailable
	o.Fstab = nil
	p, _ = PlanApply(s, o, Target{Size: 2 * gib})
	if kinds(p) != "" || !strings.Contains(p.Deferred, "priority of /var/swapfile deferred") {
		t.Errorf("under pressure: %q %q", kinds(p), p.Deferred)
	}
}
