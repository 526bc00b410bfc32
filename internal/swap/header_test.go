package swap_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/swap"
	"github.com/soundhub/swap-bootstrap/internal/swap/swaptest"
)

// TestHeaderMatchesMkswap checks our header against util-linux: for each page
// size the first page must equal what mkswap writes for the same UUID and
// label, and blkid must read our UUID and label back.
func TestHeaderMatchesMkswap(t *testing.T) {
	swaptest.NeedTool(t, "mkswap", "util-linux")
	swaptest.NeedTool(t, "blkid", "util-linux")
	for _, ps := range swap.PageSizes {
		h, err := swap.NewHeader(4<<20, ps)
		if err != nil {
			t.Fatal(err)
		}
		if h.Label != "swap-bootstrap" {
			t.Errorf("label %q, want swap-bootstrap (what status and blkid show)", h.Label)
		}
		ours := filepath.Join(t.TempDir(), "ours")
		if err := os.WriteFile(ours, append(h.Marshal(), make([]byte, 4<<20-ps)...), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("blkid", "-p", "-o", "export", ours).CombinedOutput()
		if err != nil {
			t.Fatalf("blkid on our %d-byte-page header: %v\n%s", ps, err, out)
		}
		for _, want := range []string{"TYPE=swap", "UUID=" + h.UUIDString(), "LABEL=" + h.Label, "VERSION=1"} {
			if !strings.Contains(string(out), want+"\n") {
				t.Errorf("page size %d: blkid says\n%s\nwant %s", ps, out, want)
			}
		}

		theirs := filepath.Join(t.TempDir(), "theirs")
		if err := os.WriteFile(theirs, make([]byte, 4<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mkswap", "-p", strconv.FormatInt(ps, 10), "-U", h.UUIDString(), "-L", h.Label, theirs).CombinedOutput(); err != nil {
			t.Fatalf("mkswap: %v\n%s", err, out)
		}
		b, _ := os.ReadFile(theirs)
		if !bytes.Equal(b[:ps], h.Marshal()) {
			t.Errorf("page size %d: our header differs from mkswap's", ps)
		}
		got, ok := swap.ParseHeader(b[:65536])
		if !ok || got.PageSize != ps || got.UUID != h.UUID || got.Label != h.Label || got.Size() != 4<<20 {
			t.Errorf("swap.ParseHeader(mkswap %d) = %+v %v", ps, got, ok)
		}
	}
	if _, ok := swap.ParseHeader(make([]byte, 65536)); ok {
		t.Error("zeros parsed as a swap header")
	}
	if _, err := swap.NewHeader(9*4096, 4096); err == nil {
		t.Error("9 pages: want an error")
	}
}
