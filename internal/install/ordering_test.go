package install

import (
	"strings"
	"testing"
)

// TestUnitOrderingAroundKubeletAndHibernation (issue 11): the unit runs after what writes kubelet's
// configuration (nodeadm's config phase) and after hibinit-agent starts,
// before kubelet and Docker, and never after nodeadm's run phase, which waits
// for kubelet: that would be a boot that hangs.
func TestUnitOrderingAroundKubeletAndHibernation(t *testing.T) {
	after, before := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(Unit(), "\n") {
		if v, ok := strings.CutPrefix(l, "After="); ok {
			for _, u := range strings.Fields(v) {
				after[u] = true
			}
		}
		if v, ok := strings.CutPrefix(l, "Before="); ok {
			for _, u := range strings.Fields(v) {
				before[u] = true
			}
		}
	}
	for _, u := range []string{"nodeadm-config.service", "hibinit-agent.service", "network-online.target", "local-fs.target"} {
		if !after[u] {
			t.Errorf("not After=%s", u)
		}
	}
	for _, u := range []string{"docker.service", "containerd.service", "ecs.service", "kubelet.service", "cloud-final.service"} {
		if !before[u] {
			t.Errorf("not Before=%s", u)
		}
	}
	if after["nodeadm-run.service"] {
		t.Error("After=nodeadm-run.service: nodeadm-run waits for kubelet, which waits for this unit")
	}
}
