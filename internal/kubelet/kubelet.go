// Package kubelet tells whether this machine is a Kubernetes node whose
// kubelet would refuse to start with swap on.
//
// kubelet checks /proc/swaps once at startup and exits with "running with
// swap on is not supported, please disable swap or set --fail-swap-on flag to
// false" unless its configuration says failSwapOn: false (default true;
// kubernetes/kubernetes pkg/kubelet/cm/container_manager_linux.go). EKS
// nodes with swap failed to join their cluster for exactly this reason
// (awslabs/amazon-eks-ami #1868, #1958).
//
// Observe finds kubelet (its unit or binary) and replays how kubelet reads the
// setting on this boot: the unit's ExecStart= with its Environment= and
// EnvironmentFile= variables (so nodeadm's /etc/eks/kubelet/environment,
// kubeadm's 10-kubeadm.conf, kubeadm-flags.env and KUBELET_EXTRA_ARGS, and
// EKS AL2's unit all work without knowing them by name), then the --config
// file, then the *.conf drop-ins of --config-dir in name order, then the last
// --fail-swap-on flag, which wins (kubelet re-parses its command line over its
// files: cmd/kubelet/app/server.go, kubeletConfigFlagPrecedence).
package kubelet

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/soundhub/swap-bootstrap/internal/envfile"
)

// Reader reads the machine (swap.System satisfies it).
type Reader interface {
	ReadFile(path string) ([]byte, error)
	ReadDir(dir string) ([]fs.DirEntry, error)
}

// Node is what Observe found.
type Node struct {
	// Present: a kubelet unit or binary is on this machine.
	Present bool `json:"present"`
	// Evidence names what was found, e.g. "/usr/lib/systemd/system/kubelet.service".
	Evidence string `json:"evidence,omitempty"`
	// SwapAllowed: kubelet would start with swap on (failSwapOn false).
	SwapAllowed bool `json:"swap_allowed"`
	// Why says where the deciding value came from, for the operator.
	Why string `json:"why,omitempty"`
}

// The directories systemd loads units from, most important first.
var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// binDirs are where kubelet's binary is installed.
var binDirs = []string{"/usr/bin", "/usr/local/bin"}

// Observe finds kubelet and the failSwapOn it will start with.
func Observe(r Reader) Node {
	var n Node
	unit, dropins := findUnit(r)
	if unit != "" {
		n.Present, n.Evidence = true, unit
	} else {
		for _, d := range binDirs {
			if hasEntry(r, d, "kubelet") {
				n.Present, n.Evidence = true, path.Join(d, "kubelet")
				break
			}
		}
	}
	if !n.Present {
		return n
	}
	args, where := commandLine(r, unit, dropins)
	allowed, why := failSwapOff(r, args, where)
	n.SwapAllowed, n.Why = allowed, why
	return n
}

func hasEntry(r Reader, dir, name string) bool {
	entries, err := r.ReadDir(dir)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() == name })
}

// findUnit returns kubelet.service from the most important directory and its
// drop-ins (kubelet.service.d/*.conf of every directory; a name in a more
// important directory hides the same name elsewhere), in the order systemd
// applies them.
func findUnit(r Reader) (string, []string) {
	unit := ""
	for _, d := range unitDirs {
		if hasEntry(r, d, "kubelet.service") {
			unit = path.Join(d, "kubelet.service")
			break
		}
	}
	byName := map[string]string{}
	for i := len(unitDirs) - 1; i >= 0; i-- {
		dir := path.Join(unitDirs[i], "kubelet.service.d")
		entries, _ := r.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".conf") && !e.IsDir() {
				byName[e.Name()] = path.Join(dir, e.Name())
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	var dropins []string
	for _, n := range names {
		dropins = append(dropins, byName[n])
	}
	if unit == "" && len(dropins) > 0 {
		unit = dropins[0]
	}
	return unit, dropins
}

// commandLine is kubelet's argv as systemd would start it: the last
// ExecStart= of the unit and its drop-ins, with $VAR and ${VAR} expanded from
// Environment= and EnvironmentFile= (later assignments win). where maps a flag
// position to the file it came from, for messages.
func commandLine(r Reader, unit string, dropins []string) ([]string, []string) {
	env := map[string]string{}
	from := map[string]string{} // variable -> file that set it
	var exec, execFrom string
	var envFiles []string
	for _, f := range append([]string{unit}, dropins...) {
		b, err := r.ReadFile(f)
		if err != nil {
			continue
		}
		for _, kv := range unitSettings(string(b), "Service") {
			switch kv[0] {
			case "Environment":
				for _, a := range splitWords(kv[1]) {
					if name, v, ok := strings.Cut(a, "="); ok {
						env[name], from[name] = v, f
					}
				}
			case "EnvironmentFile":
				if kv[1] == "" {
					envFiles = nil
				} else {
					envFiles = append(envFiles, strings.TrimPrefix(kv[1], "-"))
				}
			case "ExecStart":
				exec, execFrom = kv[1], f
			}
		}
	}
	// EnvironmentFile= values override Environment= (systemd.exec(5)).
	for _, f := range envFiles {
		b, err := r.ReadFile(f)
		if err != nil {
			continue
		}
		assignments, _ := envfile.Parse(string(b))
		for _, a := range assignments {
			name, v, _ := strings.Cut(a, "=")
			env[name], from[name] = v, f
		}
	}
	exec = strings.TrimLeft(exec, "-@+!:")
	var args, where []string
	for _, w := range splitWords(exec) {
		name, braced := variable(w)
		if name == "" {
			args, where = append(args, w), append(where, execFrom)
			continue
		}
		v := env[name]
		if braced {
			args, where = append(args, v), append(where, from[name])
			continue
		}
		for _, x := range strings.Fields(v) {
			args, where = append(args, x), append(where, fmt.Sprintf("%s (%s)", from[name], name))
		}
	}
	if len(args) > 0 {
		args, where = args[1:], where[1:] // the binary
	}
	return args, where
}

// variable returns the name of a word that is a whole $VAR or ${VAR}.
func variable(w string) (name string, braced bool) {
	if strings.HasPrefix(w, "${") && strings.HasSuffix(w, "}") {
		return w[2 : len(w)-1], true
	}
	if strings.HasPrefix(w, "$") && len(w) > 1 {
		return w[1:], false
	}
	return "", false
}

// failSwapOff replays kubelet's precedence for failSwapOn.
func failSwapOff(r Reader, args, where []string) (bool, string) {
	flags := flagValues(args, where)
	configFile, haveConfig := flags["config"]
	fail, why := true, "no kubelet configuration says failSwapOn: false, and its default is true"
	if !haveConfig {
		why = "kubelet starts without --config, so failSwapOn has its default, true"
	} else {
		b, err := r.ReadFile(configFile.value)
		switch {
		case err != nil:
			why = fmt.Sprintf("kubelet's configuration %s does not exist yet (it is written when the node joins), and kubelet's default is failSwapOn: true", configFile.value)
		default:
			if v, ok := failSwapOnIn(b); ok {
				fail, why = v, fmt.Sprintf("failSwapOn: %v in %s", v, configFile.value)
			} else {
				why = fmt.Sprintf("%s does not set failSwapOn, and its default is true", configFile.value)
			}
		}
	}
	if dir, ok := flags["config-dir"]; ok {
		for _, f := range dropInFiles(r, dir.value) {
			if b, err := r.ReadFile(f); err == nil {
				if v, ok := failSwapOnIn(b); ok {
					fail, why = v, fmt.Sprintf("failSwapOn: %v in %s", v, f)
				}
			}
		}
	}
	if f, ok := flags["fail-swap-on"]; ok {
		v, err := strconv.ParseBool(f.value)
		if err == nil {
			fail, why = v, fmt.Sprintf("--fail-swap-on=%v from %s", v, f.from)
		}
	}
	return !fail, why
}

type flagValue struct{ value, from string }

// flagValues reads the flags kubelet takes that matter here; the last one
// wins, as with pflag. A bool flag without "=value" is true.
func flagValues(args, where []string) map[string]flagValue {
	out := map[string]flagValue{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "fail-swap-on":
			if !hasValue {
				v = "true"
			}
		case "config", "config-dir":
			if !hasValue && i+1 < len(args) {
				i++
				v = args[i]
			}
		default:
			continue
		}
		out[name] = flagValue{value: v, from: where[i]}
	}
	return out
}

// dropInFiles lists the *.conf files under dir, subdirectories included, in
// the lexical order of kubelet's filepath.WalkDir.
func dropInFiles(r Reader, dir string) []string {
	entries, err := r.ReadDir(dir)
	if err != nil {
		return nil
	}
	var files []string
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		switch {
		case e.IsDir():
			files = append(files, dropInFiles(r, p)...)
		case strings.HasSuffix(e.Name(), ".conf"):
			files = append(files, p)
		}
	}
	return files
}

// failSwapOnIn reads failSwapOn from a KubeletConfiguration document, JSON
// (nodeadm) or YAML (kubeadm): ok is false when the document does not set it.
func failSwapOnIn(b []byte) (value, ok bool) {
	var doc map[string]any
	if json.Unmarshal(b, &doc) == nil {
		v, isBool := doc["failSwapOn"].(bool)
		return v, isBool
	}
	// A top-level YAML key sits at column 0: "failSwapOn: false".
	for _, line := range strings.Split(string(b), "\n") {
		rest, found := strings.CutPrefix(line, "failSwapOn:")
		if !found {
			continue
		}
		v := strings.TrimSpace(rest)
		if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		switch strings.Trim(v, `"'`) {
		case "true", "True", "TRUE", "yes", "on":
			value, ok = true, true
		case "false", "False", "FALSE", "no", "off":
			value, ok = false, true
		}
	}
	return value, ok
}
