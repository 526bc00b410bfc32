package install

import (
	"fmt"
	"github.com/soundhub/swap-bootstrap/internal/envfile"
	"sort"
	"strings"
	"unicode/utf8"
)

// envPrefixes are the variables that reach the unit through EnvironmentFile=:
// swap-bootstrap's own settings and the AWS SDK's metadata-service settings
// (AWS_EC2_METADATA_DISABLED, AWS_EC2_METADATA_SERVICE_ENDPOINT, ...).
var envPrefixes = []string{"SWAP_", "AWS_EC2_METADATA_"}

const envFileHeader = `# Written by swap-bootstrap install. The values here apply at every boot:
# systemd loads this file into swap-bootstrap.service (EnvironmentFile=).
# To change them, run swap-bootstrap install again with the new SWAP_*
# variables set, or edit this file; then reboot or run swap-bootstrap apply.
`

// envFile returns the text of the environment file for env, a list of
// NAME=value entries as os.Environ returns them. Only SWAP_* and
// AWS_EC2_METADATA_* variables are kept; when a name appears twice the last
// value wins, as in os/exec. Lines are sorted by name.
//
// Values are double-quoted with \ " ` and $ escaped. systemd.exec(5) reads a
// double-quoted EnvironmentFile value with the escapes of a POSIX shell
// double-quoted string, so the file means the same to systemd and to a shell
// that sources it, and a value may hold spaces, quotes, $ and newlines.
func envFile(env []string) (string, error) {
	values := map[string]string{}
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		// SWAP_BOOTSTRAP_* belong to the shipped install scripts (URL, pins),
		// not to the settings of every boot.
		if !ok || !hasEnvPrefix(name) || strings.HasPrefix(name, "SWAP_BOOTSTRAP_") {
			continue
		}
		values[name] = value
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)

	var problems []string
	var b strings.Builder
	b.WriteString(envFileHeader)
	for _, name := range names {
		value := values[name]
		switch {
		case !envfile.ValidName(name):
			problems = append(problems, fmt.Sprintf("%q: not a valid variable name; use letters, digits and _", name))
			continue
		case !utf8.ValidString(value) || strings.ContainsAny(value, "\x00\ufeff"):
			// systemd.exec(5): the file must be UTF-8 without NUL or a byte order mark.
			problems = append(problems, fmt.Sprintf("%s: value is not UTF-8 text systemd can read; unset it or fix its value", name))
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", name, quoteEnvValue(value))
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("cannot write %s: %s", EnvFilePath, strings.Join(problems, "; "))
	}
	return b.String(), nil
}

func hasEnvPrefix(name string) bool {
	for _, p := range envPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func quoteEnvValue(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range v {
		switch c {
		case '\\', '"', '`', '$':
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	b.WriteByte('"')
	return b.String()
}
