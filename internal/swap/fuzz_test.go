package swap

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzProcSwaps: the parser never panics, and what it returns is sane.
func FuzzProcSwaps(f *testing.F) {
	f.Add("Filename\tType\tSize\tUsed\tPriority\n/var/swapfile file 2097148 0 -2\n")
	f.Add("Filename Type Size Used Priority\n/dev/zram0 partition 1003516 12 100\n/mnt/a\\040b file 1020 4 -3\n")
	f.Add("/x (deleted) file 1 0 -1\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		areas, err := ParseProcSwaps([]byte(in))
		if err != nil {
			return
		}
		for _, a := range areas {
			if a.Size < 0 || a.Used < 0 || a.Filename == "" {
				t.Errorf("insane area %+v from %q", a, in)
			}
		}
	})
}

// FuzzFstab: for any fstab and any path, setting our entry leaves exactly one
// entry, keeps every other line byte for byte, is idempotent, and removing
// it leaves none.
func FuzzFstab(f *testing.F) {
	f.Add("# /etc/fstab\nUUID=abcd\t/\text4\tdefaults\t0 1\n", "/var/swapfile")
	f.Add("LABEL=root / ext4 defaults 0 1", "/var/swapfile")
	f.Add("/var/swapfile swap swap defaults 0 0\r\n/var/swapfile none swap sw 0 0\r\n", "/var/swapfile")
	f.Add("#/swap none swap sw 0 0\n\n\t\n", "/my swap")
	f.Fuzz(func(t *testing.T, fstab, path string) {
		if path == "" || strings.ContainsAny(path, "\n\r") || strings.HasPrefix(path, "#") || strings.TrimSpace(path) != path {
			return
		}
		line := FstabLine(path, -1)
		out := SetFstabEntry([]byte(fstab), path, line)
		if n := len(FstabEntries(out, path)); n != 1 {
			t.Fatalf("%d entries for %q in\n%q", n, path, out)
		}
		if again := SetFstabEntry(out, path, line); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n%q\n%q", out, again)
		}
		for _, l := range splitLines([]byte(fstab)) {
			if fstabSpec(l) != path && !isMarker(l) && !bytes.Contains(out, []byte(strings.TrimRight(l, "\r\n"))) {
				t.Fatalf("line %q lost:\n%q", l, out)
			}
		}
		if n := len(FstabEntries(RemoveFstabEntry(out, path), path)); n != 0 {
			t.Fatalf("remove left %d entries", n)
		}
	})
}
