// Command pkgfiles writes the files the swap-bootstrap .deb and .rpm install
// besides the binary, from the same sources the binary uses, so that they
// cannot drift from it:
//
//	swap-bootstrap.service  the boot unit, install.UnitFor(install.PackageBinaryPath)
//	swap-bootstrap.default  /etc/default/swap-bootstrap: every variable of
//	                        `swap-bootstrap help` (config.Vars), commented out
//
// scripts/release.sh runs it:
//
//	go run ./tools/pkgfiles -out DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/install"
)

// Names of the files written into -out.
const (
	UnitFile    = "swap-bootstrap.service"
	EnvFileName = "swap-bootstrap.default"
)

func main() {
	out := flag.String("out", "", "directory to write "+UnitFile+" and "+EnvFileName+" into (created if missing)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./tools/pkgfiles -out DIR")
		os.Exit(2)
	}
	if err := write(*out); err != nil {
		fmt.Fprintf(os.Stderr, "pkgfiles: %v\n", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, text := range map[string]string{
		UnitFile:    install.UnitFor(install.PackageBinaryPath),
		EnvFileName: envTemplate(config.Vars()),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// envTemplate is the packaged /etc/default/swap-bootstrap: every variable
// with its meaning and default, commented out, so the file changes nothing
// until an operator uncomments a line. It holds no version: as long as the
// variables stay the same, an upgrade brings the same file, and the package
// manager has nothing to ask about a file the operator edited.
func envTemplate(vars []config.Var) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Settings for swap-bootstrap.service, read at every boot (EnvironmentFile=).
# Every line is commented out: the defaults apply. To change one, uncomment
# it, set a value, then reboot or run: sudo systemctl restart swap-bootstrap
# '%[1]s help' explains every variable.
# Package upgrades keep this file. '%[1]s install' rewrites it
# from the SWAP_* variables it is run with.
# AWS_EC2_METADATA_* variables (e.g. AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6)
# reach the metadata client too.
`, install.PackageBinaryPath)
	for _, v := range vars {
		def := v.Default
		note := ""
		if def == "" {
			note = " Unset by default."
		}
		fmt.Fprintf(&b, "\n# %s.%s\n#%s=%s\n", v.Desc, note, v.Name, def)
	}
	return b.String()
}
