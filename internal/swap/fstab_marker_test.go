package swap

import (
	"testing"
)

// TestFstabTwoManagedPaths (issue 10, item 9): each managed path keeps its
// own marker, so two of them in one fstab are both stable.
func TestFstabTwoManagedPaths(t *testing.T) {
	a, b := "/var/swapfile", "/data/swapfile"
	fstab := SetFstabEntry(SetFstabEntry([]byte("UUID=x / ext4 defaults 0 1\n"), a, FstabLine(a, -1)), b, FstabLine(b, -1))
	want := "UUID=x / ext4 defaults 0 1\n" + fstabMarker + "\n" + FstabLine(a, -1) + "\n" + fstabMarker + "\n" + FstabLine(b, -1) + "\n"
	if string(fstab) != want {
		t.Fatalf("got\n%s\nwant\n%s", fstab, want)
	}
	for _, p := range []string{a, b} {
		if again := SetFstabEntry(fstab, p, FstabLine(p, -1)); string(again) != want {
			t.Errorf("setting %s again rewrote fstab:\n%s", p, again)
		}
	}
	if got := string(RemoveFstabEntry(fstab, a)); got != "UUID=x / ext4 defaults 0 1\n"+fstabMarker+"\n"+FstabLine(b, -1)+"\n" {
		t.Errorf("removing %s took the other marker:\n%s", a, got)
	}
}

// TestRemoveMarkedFstabEntry (item 9): SWAP_PERSIST=none drops the entry
// swap-bootstrap wrote (marked), never one the operator wrote.
func TestRemoveMarkedFstabEntry(t *testing.T) {
	ours := fstabMarker + "\n/var/swapfile none swap sw,nofail 0 0\n"
	cases := []struct{ name, in, want string }{
		{"our marked entry goes", "a b c d 0 0\n" + ours, "a b c d 0 0\n"},
		{"an entry the operator wrote stays", "/var/swapfile none swap defaults 0 0\n", "/var/swapfile none swap defaults 0 0\n"},
		{"another managed path stays", fstabMarker + "\n/data/swapfile none swap sw,nofail 0 0\n", fstabMarker + "\n/data/swapfile none swap sw,nofail 0 0\n"},
		{"nothing of ours", "a b c d 0 0\n", "a b c d 0 0\n"},
		{"a marker on the last line, with no entry, stays", "a b c d 0 0\n" + fstabMarker + "\n", "a b c d 0 0\n" + fstabMarker + "\n"},
		{"a marker at the very end, no newline, stays", "a b c d 0 0\n" + fstabMarker, "a b c d 0 0\n" + fstabMarker},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(RemoveMarkedFstabEntry([]byte(c.in), "/var/swapfile")); got != c.want {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
	s := settingsFor()
	s.Persist = false
	o := obsWith(swapFile(2*gib, true, 0)) // its fstab has our marked entry
	p, err := PlanApply(s, o, Target{Size: 2 * gib})
	if err != nil || kinds(p) != "fstab-remove" || string(p.Actions[0].Content) != "" {
		t.Errorf("SWAP_PERSIST=none with our entry in fstab: %v %q %+v", err, kinds(p), p.Actions)
	}
}
