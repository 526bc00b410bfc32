// Package envfile reads environment files: the NAME=value lines systemd
// loads with EnvironmentFile= (systemd.exec(5)), such as the one
// swap-bootstrap install writes and the ones kubelet's units read.
package envfile

import (
	"fmt"
	"strings"
)

// Parse reads the EnvironmentFile syntax of systemd.exec(5) that
// install writes, and what a person editing it by hand would write: NAME=value
// lines, # and ; comments, blank lines, values bare, 'single-quoted'
// (literal) or "double-quoted" (with \ escapes, and newlines inside).
func Parse(text string) ([]string, error) {
	var env []string
	line := 1
	for len(text) > 0 {
		l := strings.TrimLeft(text, " \t")
		if l == "" || l[0] == '\n' || l[0] == '#' || l[0] == ';' {
			i := strings.IndexByte(l, '\n')
			if i < 0 {
				break
			}
			text, line = l[i+1:], line+1
			continue
		}
		name, rest, ok := strings.Cut(l, "=")
		if !ok || strings.Contains(name, "\n") || !ValidName(strings.TrimSpace(name)) {
			return nil, fmt.Errorf("line %d is not NAME=value", line)
		}
		var value strings.Builder
		i := 0
	scan:
		for i < len(rest) {
			switch c := rest[i]; c {
			case '\n':
				break scan
			case '\'':
				j := strings.IndexByte(rest[i+1:], '\'')
				if j < 0 {
					return nil, fmt.Errorf("line %d: unterminated '", line)
				}
				value.WriteString(rest[i+1 : i+1+j])
				line += strings.Count(rest[i+1:i+1+j], "\n")
				i += j + 2
			case '"':
				i++
				for ; i < len(rest) && rest[i] != '"'; i++ {
					if rest[i] == '\\' && i+1 < len(rest) {
						i++
					}
					if rest[i] == '\n' {
						line++
					}
					value.WriteByte(rest[i])
				}
				if i >= len(rest) {
					return nil, fmt.Errorf("line %d: unterminated \"", line)
				}
				i++
			default:
				value.WriteByte(c)
				i++
			}
		}
		env = append(env, strings.TrimSpace(name)+"="+strings.TrimRight(value.String(), " \t"))
		text = rest[min(i+1, len(rest)):]
		line++
	}
	return env, nil
}

// ValidName reports whether name is a variable name: letters, digits and _,
// not starting with a digit.
func ValidName(name string) bool {
	for i, c := range name {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return name != ""
}
