package scripts

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// mimePart is one part of a MIME multi-part user data file.
type mimePart struct {
	contentType string
	encoding    string // Content-Transfer-Encoding
	filename    string
	body        string // decoded
}

// readMIME parses a MIME multi-part user data file the way a mail reader
// does (Go's net/mail and mime/multipart), strictly: one multipart/mixed
// message, every part with a Content-Type.
func readMIME(t *testing.T, path string) []mimePart {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: not a MIME message: %v", path, err)
	}
	if v := msg.Header.Get("MIME-Version"); v != "1.0" {
		t.Errorf("%s: MIME-Version %q, want 1.0 (cloud-init looks for it to take the data as MIME)", path, v)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
		t.Fatalf("%s: Content-Type %q (%v), want multipart/mixed with a boundary", path, msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var parts []mimePart
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: part %d: %v", path, len(parts)+1, err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("%s: part %d: Content-Type %q: %v", path, len(parts)+1, p.Header.Get("Content-Type"), err)
		}
		switch enc := strings.ToLower(p.Header.Get("Content-Transfer-Encoding")); enc {
		case "", "7bit":
		case "base64":
			if body, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), "")); err != nil {
				t.Fatalf("%s: part %d: base64: %v", path, len(parts)+1, err)
			}
		default:
			t.Fatalf("%s: part %d: Content-Transfer-Encoding %q", path, len(parts)+1, enc)
		}
		parts = append(parts, mimePart{ct, p.Header.Get("Content-Transfer-Encoding"), p.FileName(), string(body)})
	}
	return parts
}

// mimeParts maps content type to body; a type that appears twice fails.
func mimeParts(t *testing.T, path string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range readMIME(t, path) {
		if _, dup := m[p.contentType]; dup {
			t.Fatalf("%s: two %s parts", path, p.contentType)
		}
		m[p.contentType] = p.body
	}
	return m
}

// replaceMIMEPart puts body in place of the body of the part of type ct in
// the file at path, keeping every other byte.
func replaceMIMEPart(t *testing.T, path, ct, body string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	msg, err := mail.ReadMessage(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	delim := "\n--" + params["boundary"]
	h := strings.Index(text, "\nContent-Type: "+ct)
	if h < 0 {
		t.Fatalf("%s: no %s part", path, ct)
	}
	start := h + strings.Index(text[h:], "\n\n") + 2
	end := start + strings.Index(text[start:], delim)
	// The line break before the delimiter belongs to the delimiter (RFC 2046),
	// so a body that ends in a newline needs a blank line before it.
	return text[:start] + body + "\n" + text[end+1:]
}

// bootcmdText is the bootcmd script of cloud-config text.
func bootcmdText(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cloud-config.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return bootcmdOf(t, p)
}

// TestECSUserData: the ECS user data is MIME multi-part user data that
// cloud-init itself splits into our cloud-config and the ECS shell script,
// each valid on its own.
func TestECSUserData(t *testing.T) {
	parts := readMIME(t, ecsPath)
	var types []string
	for _, p := range parts {
		types = append(types, p.contentType)
	}
	if !slices.Equal(types, []string{"text/cloud-config", "text/x-shellscript"}) {
		t.Fatalf("%s: parts %v, want text/cloud-config then text/x-shellscript", ecsPath, types)
	}
	for _, p := range parts {
		// 7bit (or none): the file stays readable and editable as text.
		if p.encoding != "" && p.encoding != "7bit" {
			t.Errorf("%s: part %s has Content-Transfer-Encoding %q, want 7bit", ecsPath, p.contentType, p.encoding)
		}
	}
	cc, shell := parts[0].body, parts[1].body
	if want, _ := os.ReadFile(cloudConfig); cc != string(want) {
		t.Errorf("the cloud-config part is not %s as it is", cloudConfig)
	}
	if !strings.HasPrefix(shell, "#!/bin/bash\n") {
		t.Errorf("the shell part does not start with #!/bin/bash")
	}
	for _, want := range []string{"ECS_CLUSTER=", "/etc/ecs/ecs.config"} {
		if !strings.Contains(shell, want) {
			t.Errorf("the shell part does not set %s", want)
		}
	}
	// EC2 takes at most 16 KiB of user data (before base64).
	if fi, err := os.Stat(ecsPath); err != nil || fi.Size() > 16<<10 {
		t.Errorf("%s is %d bytes; EC2 user data is limited to 16 KiB", ecsPath, fi.Size())
	}

	t.Run("cloud-init schema of the cloud-config part", func(t *testing.T) {
		cloudInit := needTool(t, "cloud-init")
		p := filepath.Join(t.TempDir(), "part.yaml")
		os.WriteFile(p, []byte(cc), 0o644)
		if out, err := exec.Command(cloudInit, "schema", "--config-file", p).CombinedOutput(); err != nil || !strings.Contains(string(out), "Valid cloud-config") {
			t.Errorf("cloud-init schema: %v\n%s", err, out)
		}
	})
	t.Run("shellcheck", func(t *testing.T) {
		shellcheck := needTool(t, "shellcheck")
		for _, s := range []struct{ shell, text string }{{"sh", bootcmdText(t, cc)}, {"bash", shell}} {
			cmd := exec.Command(shellcheck, "--norc", "--severity=style", "--shell="+s.shell, "-")
			cmd.Stdin = strings.NewReader(s.text)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("shellcheck: %v\n%s", err, out)
			}
		}
	})
	// cloud-init's own reader (cloudinit.user_data.UserDataProcessor, what it
	// runs on the user data at boot) must see the same two parts.
	t.Run("as cloud-init reads it", func(t *testing.T) {
		out, err := exec.Command(cloudInitPython(t), "-c", `
import sys, tempfile
from cloudinit import helpers, user_data
d = tempfile.mkdtemp()
msg = user_data.UserDataProcessor(helpers.Paths({"cloud_dir": d, "run_dir": d})).process(open(sys.argv[1], "rb").read())
for p in msg.walk():
    if p.get_content_maintype() != "multipart":
        print(p.get_content_type(), len(p.get_payload(decode=True)))
`, ecsPath).CombinedOutput()
		if err != nil {
			t.Fatalf("cloud-init's UserDataProcessor: %v\n%s", err, out)
		}
		want := "text/cloud-config " + strconv.Itoa(len(cc)) + "\ntext/x-shellscript " + strconv.Itoa(len(shell)) + "\n"
		if string(out) != want {
			t.Errorf("cloud-init reads the parts as\n%s\nwant\n%s", out, want)
		}
	})
	// The same two files through `cloud-init devel make-mime` give the same
	// parts (a cross-check of the hand-written MIME framing).
	t.Run("cloud-init devel make-mime", func(t *testing.T) {
		cloudInit := needTool(t, "cloud-init")
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "cc.yaml"), []byte(cc), 0o644)
		os.WriteFile(filepath.Join(dir, "ecs.sh"), []byte(shell), 0o644)
		out, err := exec.Command(cloudInit, "devel", "make-mime", "-a", filepath.Join(dir, "cc.yaml")+":cloud-config", "-a", filepath.Join(dir, "ecs.sh")+":x-shellscript").Output()
		if err != nil {
			t.Fatalf("make-mime: %v", err)
		}
		made := filepath.Join(dir, "made.mime")
		os.WriteFile(made, out, 0o644)
		got := readMIME(t, made)
		if len(got) != 2 || got[0].contentType != "text/cloud-config" || got[1].contentType != "text/x-shellscript" ||
			strings.TrimRight(got[0].body, "\n") != strings.TrimRight(cc, "\n") || strings.TrimRight(got[1].body, "\n") != strings.TrimRight(shell, "\n") {
			t.Errorf("make-mime's message has other parts: %+v", got)
		}
	})
}

// cloudInitPython is the python3 that has cloud-init's modules (Debian's).
func cloudInitPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import cloudinit.user_data").Run() == nil {
			return p
		}
	}
	skipOrFail(t, "no python3 with cloud-init's modules (Debian: cloud-init)")
	return ""
}
