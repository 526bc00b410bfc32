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
	"github.com/soundhub/swap-bootstrap/internal/envfile"
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
	env, err = envfile.Parse(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w; fix the file or run swap-bootstrap install again", path, err)
	}
	return env, true, nil
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
