package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// zswapParams saves zswap's parameters and puts them back when the test
// ends, whatever happens to it.
func zswapParams(t *testing.T) func(name string) string {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(swap.ZswapDir, name))
		if err != nil {
			swaptest.SkipOrFail(t, "this kernel has no zswap: "+err.Error())
		}
		return strings.TrimSpace(string(b))
	}
	saved := map[string]string{}
	for _, n := range []string{"compressor", "max_pool_percent", "enabled"} {
		saved[n] = read(n)
	}
	t.Cleanup(func() {
		for _, n := range []string{"compressor", "max_pool_percent", "enabled"} {
			if err := os.WriteFile(filepath.Join(swap.ZswapDir, n), []byte(saved[n]), 0o644); err != nil {
				t.Errorf("restore zswap %s=%s: %v", n, saved[n], err)
			}
		}
	})
	return read
}

// TestZswap (issue 13): SWAP_ZSWAP sets zswap's parameters at every run; a
// compressor the kernel lacks is a warning and swap is still made; status
// shows the state. The host's parameters are restored.
func TestZswap(t *testing.T) {
	read := zswapParams(t)
	os.WriteFile(filepath.Join(swap.ZswapDir, "enabled"), []byte("N"), 0o644)
	dir := swaptest.Mount(t, "ext4", 2*gib, "")
	e := override(env(t, filepath.Join(dir, "swapfile"), "SWAP_SIZE=64M"), "SWAP_ZSWAP=on", "SWAP_ZSWAP_COMPRESSOR=lzo", "SWAP_ZSWAP_POOL_PERCENT=7")
	mustRun(t, e)
	if got := read("enabled") + " " + read("compressor") + " " + read("max_pool_percent"); got != "Y lzo 7" {
		t.Errorf("zswap enabled/compressor/pool: %s", got)
	}
	if r := mustRun(t, e); strings.Contains(r.stderr, "msg=step") {
		t.Errorf("second run was not a no-op:\n%s", r.stderr)
	}
	r := mustRun(t, e, "status")
	if !strings.Contains(r.stdout, "zswap:          on, lzo, pool at most 7% of RAM") {
		t.Errorf("status:\n%s", r.stdout)
	}

	r = mustRun(t, override(e, "SWAP_ZSWAP_COMPRESSOR=nosuchalgo"))
	if !strings.Contains(r.stderr, "zswap parameter not set") || read("compressor") != "lzo" {
		t.Errorf("a compressor the kernel lacks:\n%s", r.stderr)
	}
	assertOneActiveFile(t, e, 64*mib)

	mustRun(t, override(e, "SWAP_ZSWAP=off"))
	if read("enabled") != "N" {
		t.Errorf("SWAP_ZSWAP=off left it %s", read("enabled"))
	}
}
