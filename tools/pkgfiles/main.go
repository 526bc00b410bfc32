// Command pkgfiles writes the files the swap-bootstrap .deb and .rpm install
// besides the binary, from the same sources the binary uses, so that they
// cannot drift from it:
//
//	swap-bootstrap.service  the boot unit, install.UnitFor(install.PackageBinaryPath)
//	swap-bootstrap.default  /etc/default/swap-bootstrap: every variable of
//	                        `swap-bootstrap help` (config.Vars), commented out
//	swap-bootstrap.8        the manual page, around the text of `swap-bootstrap help`
//	                        (with -help FILE holding that text)
//
// scripts/release.sh runs it:
//
//	swap-bootstrap help >help.txt
//	SOURCE_DATE_EPOCH=... go run ./tools/pkgfiles -out DIR -help help.txt -version v1.2.3
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/install"
)

// Names of the files written into -out.
const (
	UnitFile    = "swap-bootstrap.service"
	EnvFileName = "swap-bootstrap.default"
	ManualFile  = "swap-bootstrap.8"
)

func main() {
	out := flag.String("out", "", "directory to write "+UnitFile+" and "+EnvFileName+" into (created if missing)")
	help := flag.String("help", "", "file holding the output of `swap-bootstrap help`: also write "+ManualFile)
	version := flag.String("version", "", "the release version, for the manual page")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 || (*help != "") != (*version != "") {
		fmt.Fprintln(os.Stderr, "usage: go run ./tools/pkgfiles -out DIR [-help FILE -version VERSION]")
		os.Exit(2)
	}
	files := packageFiles()
	if *help != "" {
		text, err := os.ReadFile(*help)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pkgfiles: %v\n", err)
			os.Exit(2)
		}
		date, err := sourceDate(os.Getenv("SOURCE_DATE_EPOCH"))
		if err != nil {
			fmt.Fprintf(os.Stderr, "pkgfiles: %v\n", err)
			os.Exit(2)
		}
		files[ManualFile] = manual(string(text), *version, date)
	}
	if err := write(*out, files); err != nil {
		fmt.Fprintf(os.Stderr, "pkgfiles: %v\n", err)
		os.Exit(1)
	}
}

// packageFiles are the files every package gets, by name.
func packageFiles() map[string]string {
	return map[string]string{
		UnitFile:    install.UnitFor(install.PackageBinaryPath),
		EnvFileName: envTemplate(config.Vars()),
	}
}

func write(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, text := range files {
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

// sourceDate is the manual page's date: SOURCE_DATE_EPOCH
// (reproducible-builds.org), so two builds of one commit give the same page.
func sourceDate(v string) (time.Time, error) {
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: set it to the release commit's time (git log -1 --format=%%ct)", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// manual is the swap-bootstrap(8) manual page: the text of `swap-bootstrap
// help` as it is, with the package's files around it.
func manual(help, version string, date time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, `.TH SWAP-BOOTSTRAP 8 "%s" "swap-bootstrap %s" "System Administration"
.SH NAME
swap-bootstrap \- size, create and enable a swapfile at boot, before Docker
.SH SYNOPSIS
.B swap-bootstrap
.RI [ command ]
.RI [ flags ]
.SH DESCRIPTION
swap-bootstrap asks the EC2 instance metadata service for the instance type,
sizes swap by policy and creates, adopts, resizes or enables the swapfile.
The swap-bootstrap.service unit runs
.B swap-bootstrap apply
at every boot, before Docker, with the settings in
.IR /etc/default/swap-bootstrap .
The text of
.B swap-bootstrap help
follows.
.PP
.nf
`, date.Format("2006-01-02"), roffEscape(version))
	for _, line := range strings.Split(strings.TrimRight(help, "\n"), "\n") {
		line = roffEscape(line)
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			line = `\&` + line
		}
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, `.fi
.SH FILES
.TP
.I %s
the binary
.TP
.I %s
the boot unit, enabled when the package is installed
.TP
.I %s
the settings (SWAP_* variables); package upgrades keep it
.SH SEE ALSO
.BR systemctl (1),
.BR swapon (8),
.UR https://github.com/soundhub/swap-bootstrap
.UE
`, install.PackageBinaryPath, install.PackageUnitPath, install.EnvFilePath)
	return b.String()
}

// roffEscape makes text print as itself in roff: a backslash is \e, and a
// hyphen-minus is \- so that options copied from the page work.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	return strings.ReplaceAll(s, "-", `\-`)
}
