package swaptest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// ZswapLock is the lock that tests and the pressure benchmark
// (bench/pressure.sh, which names the same path) hold while they set zswap's
// parameters or depend on them: the parameters are global to the machine.
const ZswapLock = "/run/lock/swap-bootstrap-zswap.lock"

// Zswap gives the test zswap's parameters to itself: it takes ZswapLock,
// saves the parameters and restores them when the test ends, whatever
// happens to it. It skips (fails under CI=true) on a kernel without zswap.
type Zswap struct{ t testing.TB }

// TakeZswap locks and saves zswap's parameters for the test.
func TakeZswap(t testing.TB) *Zswap {
	t.Helper()
	RequireRoot(t)
	if _, err := os.Stat(swap.ZswapDir); err != nil {
		SkipOrFail(t, "this kernel has no zswap: "+err.Error())
	}
	os.MkdirAll(filepath.Dir(ZswapLock), 0o755)
	fd, err := unix.Open(ZswapLock, unix.O_RDONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatalf("zswap lock: %v", err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		t.Fatalf("zswap lock: %v", err)
	}
	z := &Zswap{t: t}
	names := []string{"compressor", "max_pool_percent", "enabled"}
	saved := map[string]string{}
	for _, n := range names {
		saved[n] = z.Get(n)
	}
	t.Cleanup(func() {
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(swap.ZswapDir, n), []byte(saved[n]), 0o644); err != nil {
				t.Errorf("restore zswap %s=%s: %v", n, saved[n], err)
			}
		}
		unix.Close(fd)
	})
	return z
}

// Get reads one of zswap's parameters.
func (z *Zswap) Get(name string) string {
	b, err := os.ReadFile(filepath.Join(swap.ZswapDir, name))
	if err != nil {
		z.t.Fatalf("zswap %s: %v", name, err)
	}
	return strings.TrimSpace(string(b))
}

// Set writes one of zswap's parameters (restored when the test ends).
func (z *Zswap) Set(name, value string) {
	if err := os.WriteFile(filepath.Join(swap.ZswapDir, name), []byte(value), 0o644); err != nil {
		z.t.Fatalf("zswap %s=%s: %v", name, value, err)
	}
}
