package bootstrap

import (
	"errors"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/kubelet"
	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// TestDecideKubernetesNode (issue 11): on a node whose kubelet would refuse
// to start with swap on, no swap is made or enabled: exit 2, saying why and
// what to set; SWAP_KUBELET=ignore skips the check.
func TestDecideKubernetesNode(t *testing.T) {
	refusing := kubelet.Node{Present: true, Evidence: "/usr/lib/systemd/system/kubelet.service", Why: "/var/lib/kubelet/config.yaml does not set failSwapOn, and its default is true"}
	allowing := kubelet.Node{Present: true, SwapAllowed: true, Why: "failSwapOn: false in /var/lib/kubelet/config.yaml"}
	cases := []struct {
		name    string
		env     []string
		node    kubelet.Node
		file    bool // an inactive swapfile of ours exists
		actions string
		error   []string
	}{
		{"kubelet refuses swap: refused, nothing enabled", nil, refusing, true, "",
			[]string{"kubelet is installed (/usr/lib/systemd/system/kubelet.service)", "config.yaml does not set failSwapOn",
				"failSwapOn: false", "memorySwap.swapBehavior: LimitedSwap", "SWAP_KUBELET=ignore"}},
		{"kubelet allows swap", nil, allowing, false, "create,fstab-set", nil},
		{"SWAP_KUBELET=ignore", []string{"SWAP_KUBELET=ignore"}, refusing, false, "create,fstab-set", nil},
		{"policy off is not blocked", []string{"SWAP_POLICY=off"}, refusing, true, "delete,fstab-remove", nil},
		{"no kubelet", nil, kubelet.Node{}, false, "create,fstab-set", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := machine()
			if c.file {
				o = withFile(o, 2*gib, false)
			}
			o.Kubelet = c.node
			_, p, err := Decide(cfg(t, c.env...), typed("t3.micro"), o)
			if c.error != nil {
				var r *swap.RefusalError
				if !errors.As(err, &r) {
					t.Fatalf("want a refusal (exit 2), got %v", err)
				}
				for _, want := range c.error {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("message lacks %q:\n%s", want, err)
					}
				}
				return
			}
			if err != nil || kinds(p) != c.actions {
				t.Errorf("%v %q, want %q", err, kinds(p), c.actions)
			}
		})
	}
}

// TestDecideHibernation (issue 11): on an instance with hibernation
// configured, no swapfile is made (hibinit-agent's /swap must be the only
// swap: amazon-ec2-hibinit-agent #20, #51), and the run says so; an existing
// one of ours is left as it is, with a warning.
func TestDecideHibernation(t *testing.T) {
	configured := typed("m5.large")
	configured.Hibernation = "true"
	cases := []struct {
		name    string
		env     []string
		facts   Facts
		signs   []string
		file    bool
		actions string
		warn    string
	}{
		{"metadata says hibernation is configured", nil, configured, nil, false, "", "hibernation is configured for this instance (the metadata service says hibernation/configured=true)"},
		{"hibinit-agent's marker", nil, typed("m5.large"), []string{"/var/lib/hibinit-agent/hibernation-enabled exists"}, false, "", "hibernation-enabled exists"},
		{"an active swapfile of ours stays, with a warning", nil, configured, nil, true, "", "is active and will keep hibernation from working"},
		{"SWAP_HIBERNATION=ignore", []string{"SWAP_HIBERNATION=ignore"}, configured, nil, false, "create,fstab-set", ""},
		{"not configured", nil, typed("m5.large"), nil, false, "create,fstab-set", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := ram(machine(), 7*gib)
			if c.file {
				o = withFile(o, 2*gib, true)
			}
			o.Hibernation = c.signs
			d, p, err := Decide(cfg(t, append([]string{"SWAP_SIZE=2G"}, c.env...)...), c.facts, o)
			if err != nil || kinds(p) != c.actions {
				t.Fatalf("%v %q, want %q", err, kinds(p), c.actions)
			}
			got := strings.Join(d.Warnings, "\n")
			if (c.warn == "") != (got == "") || !strings.Contains(got, c.warn) {
				t.Errorf("warnings %q, want %q", d.Warnings, c.warn)
			}
		})
	}
}
