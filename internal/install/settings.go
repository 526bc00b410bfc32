package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/soundhub/swap-bootstrap/internal/config"
)

// ReadSettings returns the settings an earlier Install saved in the
// environment file under root, as NAME=value entries; ok is false when there
// is no such file. uninstall removes what these name, not what the caller's
// shell happens to say.
func ReadSettings(root string) (env []string, ok bool, err error) {
	if root == "" {
		root = "/"
	}
	path := filepath.Join(root, EnvFilePath)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	env, err = parseEnvFile(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w; fix the file or run swap-bootstrap install again", path, err)
	}
	return env, true, nil
}

// parseEnvFile reads the EnvironmentFile syntax of systemd.exec(5) that
// envFile writes, and what a person editing it by hand would write: NAME=value
// lines, # and ; comments, blank lines, values bare, 'single-quoted'
// (literal) or "double-quoted" (with \ escapes, and newlines inside).
func parseEnvFile(text string) ([]string, error) {
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
		if !ok || strings.Contains(name, "\n") || !validEnvName(strings.TrimSpace(name)) {
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

// RemovalConfig is the configuration uninstall removes swap with: the
// settings install saved under root (what the boot unit applied), when there
// are any, else the environment's. A variable the environment sets to
// something else is reported: the installed settings win.
func RemovalConfig(shell config.Config, root string, environ []string) (config.Config, []string, error) {
	saved, ok, err := ReadSettings(root)
	if err != nil || !ok {
		return shell, nil, err
	}
	c, err := config.LoadEnviron(saved)
	if err != nil {
		return shell, nil, fmt.Errorf("the installed settings in %s are not valid, so uninstall cannot tell which swapfile is its own: %w", EnvFilePath, err)
	}
	have := map[string]string{}
	for _, kv := range saved {
		name, v, _ := strings.Cut(kv, "=")
		have[name] = v
	}
	var notes []string
	for _, kv := range environ {
		name, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "SWAP_") || strings.HasPrefix(name, "SWAP_BOOTSTRAP_") {
			continue
		}
		if old, ok := have[name]; !ok {
			notes = append(notes, fmt.Sprintf("%s=%q in this environment differs from the installed %s (unset); uninstall follows %s", name, v, name, EnvFilePath))
		} else if old != v {
			notes = append(notes, fmt.Sprintf("%s=%q in this environment differs from the installed %s=%q; uninstall follows %s", name, v, name, old, EnvFilePath))
		}
	}
	slices.Sort(notes)
	return c, notes, nil
}
