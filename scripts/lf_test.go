package scripts

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// shippedFiles are the files operators copy onto machines or into source
// bundles, relative to scripts/.
var shippedFiles = []string{
	userData, cloudConfig, hookPath, confighookPath, ebextPath, ssmPath, packerPath, ecsPath, "build.sh",
}

// TestShippedFilesLF: git stores every shipped file with LF line endings
// and checks them out that way on every machine (.gitattributes eol=lf): a
// hook whose #! line ends in CR fails with "bad interpreter" and aborts an
// Elastic Beanstalk deployment. It reads the committed blobs, not the
// working tree.
func TestShippedFilesLF(t *testing.T) {
	git := needTool(t, "git")
	if out, err := exec.Command(git, "rev-parse", "--is-inside-work-tree").Output(); err != nil || strings.TrimSpace(string(out)) != "true" {
		skipOrFail(t, "not in a git work tree (%v); the committed bytes cannot be read", err)
	}
	attrs, err := exec.Command(git, append([]string{"check-attr", "text", "eol", "--"}, shippedFiles...)...).Output()
	if err != nil {
		t.Fatalf("git check-attr: %v", err)
	}
	for _, f := range shippedFiles {
		for _, want := range []string{f + ": text: set", f + ": eol: lf"} {
			if !strings.Contains(string(attrs), want+"\n") {
				t.Errorf(".gitattributes: want %q, git check-attr says:\n%s", want, attrs)
			}
		}
		// HEAD's blob: what a clone gets.
		blob, err := exec.Command(git, "cat-file", "blob", "HEAD:./"+f).Output()
		if err != nil {
			t.Errorf("%s is not committed (git cat-file blob HEAD:./%s: %v)", f, f, err)
			continue
		}
		if i := bytes.IndexByte(blob, '\r'); i >= 0 {
			line := bytes.Count(blob[:i], []byte("\n")) + 1
			t.Errorf("%s: committed with a CR on line %d; it must be LF only", f, line)
		}
	}
}
