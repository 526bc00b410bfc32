package main

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/bootstrap"
	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/config/configtest"
	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// storeKernel is the real kernel with a /dev/disk/by-id of the test's own,
// where a loop device stands in for an NVMe instance-store disk.
type storeKernel struct {
	*swap.Kernel
	byID string
}

func (k storeKernel) ReadDir(dir string) ([]fs.DirEntry, error) {
	if dir == "/dev/disk/by-id" {
		return os.ReadDir(k.byID)
	}
	return k.Kernel.ReadDir(dir)
}

func (k storeKernel) Resolve(path string) (string, error) {
	if rest, ok := strings.CutPrefix(path, "/dev/disk/by-id/"); ok {
		return filepath.EvalSymlinks(filepath.Join(k.byID, rest))
	}
	return k.Kernel.Resolve(path)
}

// TestInstanceStoreSwap (issue 13): with SWAP_INSTANCE_STORE=prefer a free
// instance-store disk (a loop device here) becomes swap ahead of the
// swapfile; a rerun changes nothing; after a reboot that kept the disk (swap
// off) it is enabled again, not re-made.
func TestInstanceStoreSwap(t *testing.T) {
	swaptest.RequireRoot(t)
	img := filepath.Join(t.TempDir(), "nvme.img")
	f, _ := os.Create(img)
	f.Truncate(128 * mib)
	f.Close()
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		exec.Command("swapoff", dev).Run()
		exec.Command("losetup", "-d", dev).Run()
	})
	byID := t.TempDir()
	os.Symlink(dev, filepath.Join(byID, "nvme-Amazon_EC2_NVMe_Instance_Storage_AWS0123456789ABCDEF0"))

	dir := swaptest.Mount(t, "ext4", 2*gib, "")
	e := override(env(t, filepath.Join(dir, "swapfile"), "SWAP_SIZE=64M"), "SWAP_INSTANCE_STORE=prefer")
	configtest.Env(t, e...)
	c, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	deps := bootstrap.Deps{System: storeKernel{Kernel: &swap.Kernel{}, byID: byID}, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	apply := func() {
		t.Helper()
		if _, err := bootstrap.Apply(context.Background(), c, deps); err != nil {
			t.Fatalf("apply: %v\n%s", err, logs.String())
		}
	}
	apply()
	a, ok := activeArea(t, dev)
	if !ok || a.Priority != 10 || a.Size != 128*mib-4096 {
		t.Fatalf("/proc/swaps: %s %+v active=%v\n%s", dev, a, ok, logs.String())
	}
	assertOneActiveFile(t, e, 64*mib)
	head, _ := (&swap.Kernel{}).ReadAt(dev, 0, 65536)
	h1, _ := swap.ParseHeader(head)

	logs.Reset()
	apply()
	if strings.Contains(logs.String(), "msg=step") {
		t.Errorf("second run was not a no-op:\n%s", logs.String())
	}

	exec.Command("swapoff", dev).Run() // a reboot: the disk keeps its header
	apply()
	head, _ = (&swap.Kernel{}).ReadAt(dev, 0, 65536)
	if h2, ok := swap.ParseHeader(head); !ok || h2.UUID != h1.UUID {
		t.Errorf("the disk was re-made after a reboot: %v %v", h1.UUIDString(), h2.UUIDString())
	}
	if _, ok := activeArea(t, dev); !ok {
		t.Error("not enabled again after the reboot")
	}
}
