// Command render-installers writes the install files of scripts/ with one
// release's version and SHA-256 pins filled in, so that a user takes one file
// from the release and changes nothing in it. The release build calls it and
// publishes its output beside the binaries, listed in SHA256SUMS.
//
//	go run ./tools/render-installers -version v1.2.3 -sha256-amd64 HEX -sha256-arm64 HEX -out DIR
//
// It reads the files from -scripts (default: scripts, relative to the working
// directory, i.e. run it from the repository root) and writes exactly these
// into DIR, flat, under the names they have as release assets:
//
//	swap-bootstrap-user-data.sh        scripts/user-data.sh
//	swap-bootstrap-cloud-config.yaml   scripts/cloud-config.yaml
//	swap-bootstrap-ecs-user-data.mime  scripts/ecs/user-data.mime
//	swap-bootstrap-eb-01-swap.sh       scripts/elasticbeanstalk/.platform/hooks/prebuild/01-swap.sh
//	swap-bootstrap-eb-01-swap.config   scripts/elasticbeanstalk/.ebextensions/01-swap.config
//	swap-bootstrap-ssm.json            scripts/ssm/swap-bootstrap.json
//	swap-bootstrap.pkr.hcl             scripts/packer/swap-bootstrap.pkr.hcl
//
// The .sh files are written 0755, the rest 0644; each path written is printed
// on its own line. The Elastic Beanstalk hook goes into a source bundle twice,
// as .platform/hooks/prebuild/01-swap.sh and
// .platform/confighooks/prebuild/01-swap.sh.
//
// What changes, and nothing else: in the shell files (also inside the YAML,
// the .config and the MIME file) the empty defaults "${SWAP_BOOTSTRAP_VERSION:-}",
// "${SWAP_BOOTSTRAP_SHA256_AMD64:-}" and "${SWAP_BOOTSTRAP_SHA256_ARM64:-}"
// get the values after ":-"; in the SSM document the defaults of the Version,
// Sha256Amd64 and Sha256Arm64 parameters; in the Packer template the defaults
// of the version, sha256_amd64 and sha256_arm64 variables. A file in which a
// placeholder is not found exactly once is an error: the shipped file and
// this tool have drifted apart.
//
// Exit codes: 0 written, 1 a file could not be read, rendered or written,
// 2 bad usage (every problem with the flags is listed).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/soundhub/swap-bootstrap/internal/atomicfile"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("render-installers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rel Release
	var out, scripts string
	fs.StringVar(&rel.Version, "version", "", "release tag, e.g. v1.2.3")
	fs.StringVar(&rel.SHA256AMD64, "sha256-amd64", "", "SHA-256 of swap-bootstrap-linux-amd64 (64 hex digits)")
	fs.StringVar(&rel.SHA256ARM64, "sha256-arm64", "", "SHA-256 of swap-bootstrap-linux-arm64 (64 hex digits)")
	fs.StringVar(&out, "out", "", "directory to write the rendered files into (created if missing)")
	fs.StringVar(&scripts, "scripts", "scripts", "the repository's scripts/ directory to read the files from")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	problems := rel.check()
	if out == "" {
		problems = append(problems, "-out is empty: name the directory to write the files into")
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q; every input is a flag", fs.Args()))
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "render-installers: %s\n", p)
		}
		return 2
	}
	rel.normalize()

	if err := os.MkdirAll(out, 0o755); err != nil {
		fmt.Fprintf(stderr, "render-installers: %v\n", err)
		return 1
	}
	for _, f := range Files {
		src := filepath.Join(scripts, filepath.FromSlash(f.Source))
		text, err := os.ReadFile(src)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				err = fmt.Errorf("%w (run from the repository root, or pass -scripts)", err)
			}
			fmt.Fprintf(stderr, "render-installers: %v\n", err)
			return 1
		}
		rendered, err := f.Render(text, rel)
		if err != nil {
			fmt.Fprintf(stderr, "render-installers: %s: %v\n", src, err)
			return 1
		}
		dst := filepath.Join(out, f.Asset)
		mode := os.FileMode(0o644)
		if strings.HasSuffix(f.Asset, ".sh") {
			mode = 0o755
		}
		if err := atomicfile.Write(dst, rendered, mode); err != nil {
			fmt.Fprintf(stderr, "render-installers: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, dst)
	}
	return 0
}
