package swap_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// TestLockNeverWritesAFileItDidNotCreate (issue 10, item 3): pointing
// SWAP_LOCK_FILE at an existing file (a copy of /etc/passwd, an inactive
// swapfile) leaves every byte of it alone; a symlink is not followed.
func TestLockNeverWritesAFileItDidNotCreate(t *testing.T) {
	dir := t.TempDir()
	precious := filepath.Join(dir, "passwd")
	content := []byte("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/usr/sbin/nologin\n")
	if err := os.WriteFile(precious, content, 0o644); err != nil {
		t.Fatal(err)
	}
	k := &swap.Kernel{}
	release, err := k.Lock(precious, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if b, _ := os.ReadFile(precious); string(b) != string(content) {
		t.Errorf("the lock wrote into an existing file: %q", b)
	}

	link := filepath.Join(dir, "link")
	os.Symlink(precious, link)
	if _, err := k.Lock(link, time.Second); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("lock through a symlink: %v", err)
	}

	fresh := filepath.Join(dir, "new.lock")
	release, err = k.Lock(fresh, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new lock file: %v %v", fi, err)
	}
}

// TestLockNamesTheHolder (issue 10, item 13): the timeout message names the
// process that holds the lock now, not a pid an earlier run left in the file.
func TestLockNamesTheHolder(t *testing.T) {
	flock := swaptest.NeedTool(t, "flock", "util-linux")
	path := filepath.Join(t.TempDir(), "lock")
	os.WriteFile(path, []byte("4242\n"), 0o600) // what an old version left behind
	holder := exec.Command(flock, "--exclusive", path, "sleep", "30")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	k := &swap.Kernel{}
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var release func()
		if release, err = k.Lock(path, 0); err == nil {
			release() // flock has not taken it yet
			continue
		}
		break
	}
	want := "pid " + strconv.Itoa(holder.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "4242") {
		t.Errorf("error %v, want it to name %s", err, want)
	}
}
