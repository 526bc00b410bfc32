package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// TestZswap (issue 13): SWAP_ZSWAP sets zswap's parameters at every run; a
// compressor the kernel lacks is a warning and swap is still made; status
// shows the state. The host's parameters are restored.
func TestZswap(t *testing.T) {
	z := swaptest.TakeZswap(t)
	z.Set("enabled", "N")
	read := z.Get
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
