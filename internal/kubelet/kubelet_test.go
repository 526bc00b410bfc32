package kubelet

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree is a machine in a directory: the fixture trees under testdata are real
// files of nodeadm (EKS AL2023), kubeadm's packages and EKS AL2 (SOURCES.md).
type tree string

func (t tree) ReadFile(p string) ([]byte, error) { return os.ReadFile(filepath.Join(string(t), p)) }
func (t tree) ReadDir(d string) ([]fs.DirEntry, error) {
	return os.ReadDir(filepath.Join(string(t), d))
}

// machine copies the fixture tree named (or nothing, for "") into a temp dir
// and writes the extra files over it.
func machine(t *testing.T, fixture string, extra map[string]string) tree {
	t.Helper()
	root := t.TempDir()
	if fixture != "" {
		if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", fixture))); err != nil {
			t.Fatal(err)
		}
	}
	for p, text := range extra {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return tree(root)
}

func appendTo(t *testing.T, fixture, file, text string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", fixture, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + text
}

// nodeadm writes this environment file (nodeadm/internal/kubelet/environment.go;
// no public copy exists): its flags, then the user's spec.kubelet.flags.
const nodeadmEnv = "/etc/eks/kubelet/environment"

func nodeadmArgs(user string) string {
	return "NODEADM_KUBELET_ARGS=--node-ip=10.0.0.1 --hostname-override=i-0123 --config=/etc/kubernetes/kubelet/config.json --config-dir=/etc/kubernetes/kubelet/config.json.d " + user + "\n"
}

func TestObserve(t *testing.T) {
	cases := []struct {
		name     string
		fixture  string
		extra    map[string]string
		present  bool
		allowed  bool
		evidence string
		why      string
	}{
		{name: "no kubelet", present: false},
		{name: "kubeadm node: config.yaml keeps the default", fixture: "kubeadm", present: true, allowed: false,
			evidence: "/usr/lib/systemd/system/kubelet.service", why: "/var/lib/kubelet/config.yaml does not set failSwapOn"},
		{name: "kubeadm node with failSwapOn: false", fixture: "kubeadm", present: true, allowed: true, why: "failSwapOn: false in /var/lib/kubelet/config.yaml",
			extra: map[string]string{"/var/lib/kubelet/config.yaml": appendTo(t, "kubeadm", "var/lib/kubelet/config.yaml", "failSwapOn: false\nmemorySwap:\n  swapBehavior: LimitedSwap\n")}},
		{name: "kubeadm, KUBELET_EXTRA_ARGS=--fail-swap-on=false beats the file", fixture: "kubeadm", present: true, allowed: true,
			why:   "--fail-swap-on=false from /etc/sysconfig/kubelet (KUBELET_EXTRA_ARGS)",
			extra: map[string]string{"/etc/sysconfig/kubelet": "KUBELET_EXTRA_ARGS=\"--fail-swap-on=false --node-labels=a=b\"\n"}},
		{name: "kubeadm, a bare --fail-swap-on beats failSwapOn: false", fixture: "kubeadm", present: true, allowed: false,
			extra: map[string]string{
				"/var/lib/kubelet/config.yaml":       appendTo(t, "kubeadm", "var/lib/kubelet/config.yaml", "failSwapOn: false\n"),
				"/var/lib/kubelet/kubeadm-flags.env": "KUBELET_KUBEADM_ARGS=\"--fail-swap-on --v=2\"\n"}},
		{name: "kubeadm before join: no config.yaml yet", fixture: "kubeadm", present: true, allowed: false,
			extra: map[string]string{"/var/lib/kubelet/config.yaml.gone": ""}, why: "does not exist yet"},
		{name: "EKS AL2023 (nodeadm), defaults", fixture: "nodeadm", extra: map[string]string{nodeadmEnv: nodeadmArgs("")},
			present: true, allowed: false, evidence: "/etc/systemd/system/kubelet.service", why: "/etc/kubernetes/kubelet/config.json does not set failSwapOn"},
		{name: "nodeadm, NodeConfig kubelet.config failSwapOn: false", fixture: "nodeadm", present: true, allowed: true,
			why:   "failSwapOn: false in /etc/kubernetes/kubelet/config.json.d/40-nodeadm.conf",
			extra: map[string]string{nodeadmEnv: nodeadmArgs(""), "/etc/kubernetes/kubelet/config.json.d/40-nodeadm.conf": `{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration","failSwapOn":false,"memorySwap":{"swapBehavior":"LimitedSwap"}}`}},
		{name: "nodeadm, a later drop-in sets it back", fixture: "nodeadm", present: true, allowed: false,
			extra: map[string]string{nodeadmEnv: nodeadmArgs(""),
				"/etc/kubernetes/kubelet/config.json.d/40-nodeadm.conf":  `{"failSwapOn":false}`,
				"/etc/kubernetes/kubelet/config.json.d/sub/90-site.conf": "failSwapOn: true\n",
				"/etc/kubernetes/kubelet/config.json.d/99-ignored.json":  `{"failSwapOn":false}`}},
		{name: "nodeadm, user flag --fail-swap-on=false", fixture: "nodeadm", present: true, allowed: true, why: "--fail-swap-on=false from /etc/eks/kubelet/environment (NODEADM_KUBELET_ARGS)",
			extra: map[string]string{nodeadmEnv: nodeadmArgs("--fail-swap-on=false")}},
		{name: "EKS AL2 (bootstrap.sh), --config with a space", fixture: "eks-al2", present: true, allowed: false, why: "/etc/kubernetes/kubelet/kubelet-config.json does not set failSwapOn"},
		{name: "EKS AL2 with failSwapOn false", fixture: "eks-al2", present: true, allowed: true,
			extra: map[string]string{"/etc/kubernetes/kubelet/kubelet-config.json": `{"kind":"KubeletConfiguration","failSwapOn":false}`}},
		{name: "a binary, no unit", extra: map[string]string{"/usr/bin/kubelet": "ELF"}, present: true, allowed: false,
			evidence: "/usr/bin/kubelet", why: "without --config"},
		{name: "a drop-in in /etc overrides the packaged one of the same name", fixture: "kubeadm", present: true, allowed: true,
			extra: map[string]string{"/etc/systemd/system/kubelet.service.d/10-kubeadm.conf": "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --fail-swap-on=false\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := machine(t, c.fixture, c.extra)
			if strings.Contains(c.name, "before join") {
				os.Remove(filepath.Join(string(r), "var/lib/kubelet/config.yaml"))
			}
			n := Observe(r)
			if n.Present != c.present || n.SwapAllowed != c.allowed {
				t.Errorf("present %v allowed %v (%s), want %v %v", n.Present, n.SwapAllowed, n.Why, c.present, c.allowed)
			}
			if c.evidence != "" && n.Evidence != c.evidence {
				t.Errorf("evidence %q, want %q", n.Evidence, c.evidence)
			}
			if !strings.Contains(n.Why, c.why) {
				t.Errorf("why %q, want %q", n.Why, c.why)
			}
		})
	}
}

func TestUnitSettings(t *testing.T) {
	text := "[Unit]\nExecStart=/not/this\n[Service]\n# comment\nEnvironment=\"A=b c\" D=e\nExecStart=/usr/bin/kubelet \\\n    --config /x \\\n    # a comment line\n    $ARGS\n; another\n"
	got := unitSettings(text, "Service")
	if len(got) != 2 || got[0] != [2]string{"Environment", `"A=b c" D=e`} || got[1] != [2]string{"ExecStart", "/usr/bin/kubelet  --config /x  $ARGS"} {
		t.Errorf("%q", got)
	}
	if w := splitWords(`"A=b c" D=e 'x y'\ z`); strings.Join(w, "|") != "A=b c|D=e|x y z" {
		t.Errorf("%q", w)
	}
}
