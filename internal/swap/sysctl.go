package swap

import (
	"strings"
)

// sysctlMarker is written above the vm.swappiness line swap-bootstrap keeps
// in SWAP_SYSCTL_FILE, which may be a file shared with other settings
// (/etc/sysctl.conf): only that line is ever changed.
const sysctlMarker = "# swap-bootstrap: vm.swappiness from SWAP_SWAPPINESS"

// isSysctlMarker also knows the header of the whole file earlier versions
// wrote, so that file converges to the new form.
func isSysctlMarker(l string) bool {
	return strings.HasPrefix(l, sysctlMarker) || strings.HasPrefix(l, "# Written by swap-bootstrap (SWAP_SWAPPINESS)")
}

// sysctlKey returns the key a sysctl.d(5) line sets, with "/" read as ".",
// or "" for comments (# or ;) and blank lines.
func sysctlKey(line string) string {
	l := strings.TrimSpace(strings.TrimRight(line, "\r\n"))
	if l == "" || l[0] == '#' || l[0] == ';' {
		return ""
	}
	key, _, ok := strings.Cut(strings.TrimPrefix(l, "-"), "=")
	if !ok {
		return ""
	}
	return strings.ReplaceAll(strings.TrimSpace(key), "/", ".")
}

// SetSysctl returns the sysctl file b with key set to value: the first line
// that sets key is replaced in place by ours (with the marker above it),
// later ones are dropped because they would override it, and every other
// byte is kept. With no such line, ours is appended.
func SetSysctl(b []byte, key, value string) []byte {
	lines := splitLines(b)
	eol := lineEnding(lines)
	ours := []string{sysctlMarker + eol, key + " = " + value + eol}
	var out []string
	placed := false
	for _, l := range lines {
		switch {
		case isSysctlMarker(l):
			continue // re-added with our line
		case sysctlKey(l) != key:
			out = append(out, l)
		case !placed:
			out = append(out, ours...)
			placed = true
		}
	}
	if !placed {
		out = appendLines(out, eol, ours...)
	}
	return []byte(strings.Join(out, ""))
}
