package install

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestReadSettings (issue 10, item 8): what install saved is read back
// exactly, whatever the values hold, so uninstall removes what the installed
// settings name; the shipped scripts' SWAP_BOOTSTRAP_* variables are never
// saved (item 11).
func TestReadSettings(t *testing.T) {
	env := []string{"SWAP_FILE=/data/my swap", `SWAP_FSTAB=/etc/"odd"\fstab`, "SWAP_MAX=$HOME`x`", "SWAP_SIZE=two\nlines",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338", "SWAP_BOOTSTRAP_URL=https://example.com/x", "HOME=/root"}
	text, err := envFile(env)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/default"), 0o755)
	if err := os.WriteFile(filepath.Join(root, EnvFilePath), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got, ok, err := ReadSettings(root)
	want := []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338", `SWAP_FSTAB=/etc/"odd"\fstab`,
		"SWAP_FILE=/data/my swap", "SWAP_MAX=$HOME`x`", "SWAP_SIZE=two\nlines"}
	slices.Sort(got)
	slices.Sort(want)
	if err != nil || !ok || !slices.Equal(got, want) {
		t.Errorf("ReadSettings = %q %v %v\nwant %q", got, ok, err, want)
	}

	if _, ok, err := ReadSettings(t.TempDir()); ok || err != nil {
		t.Errorf("no file: ok=%v err=%v", ok, err)
	}
	os.WriteFile(filepath.Join(root, EnvFilePath), []byte("# a comment\n\nSWAP_POLICY=aws\nSWAP_RATIO='1.5'\nnot a setting\n"), 0o644)
	if _, _, err := ReadSettings(root); err == nil {
		t.Error("a line that is not NAME=value: want an error naming the file")
	}
	os.WriteFile(filepath.Join(root, EnvFilePath), []byte("# edited by hand\n\nSWAP_POLICY=aws\nSWAP_RATIO='1.5'\n"), 0o644)
	if got, _, err := ReadSettings(root); err != nil || !slices.Equal(got, []string{"SWAP_POLICY=aws", "SWAP_RATIO=1.5"}) {
		t.Errorf("hand-edited file: %q %v", got, err)
	}
}
