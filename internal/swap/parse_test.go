package swap

import (
	"strings"
	"testing"
)

func TestParseProcSwaps(t *testing.T) {
	in := "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" +
		"/dev/zram0                              partition\t1003516\t\t12\t\t100\n" +
		"/var/swapfile                           file\t\t2097148\t\t0\t\t-2\n" +
		"/mnt/my\\040swap                         file\t\t1020\t\t4\t\t-3\n" +
		"/var/old (deleted)                      file\t\t1020\t\t0\t\t-4\n"
	got, err := ParseProcSwaps([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Area{
		{"/dev/zram0", "partition", 1003516 * 1024, 12 * 1024, 100},
		{"/var/swapfile", "file", 2097148 * 1024, 0, -2},
		{"/mnt/my swap", "file", 1020 * 1024, 4096, -3},
		{"/var/old (deleted)", "file", 1020 * 1024, 0, -4},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d areas: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("area %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if a, err := ParseProcSwaps([]byte("Filename Type Size Used Priority\n")); err != nil || len(a) != 0 {
		t.Errorf("header only: %v %v", a, err)
	}
	for _, bad := range []string{"Filename\n/x file 1 2\n", "Filename\n/x file a 2 3\n", "Filename\n/x file -1 0 3\n"} {
		if _, err := ParseProcSwaps([]byte(bad)); err == nil {
			t.Errorf("want an error for %q", bad)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	in := "MemTotal:        1004284 kB\nMemFree:          100000 kB\nMemAvailable:     523000 kB\nCached:  4 kB\nSwapTotal:             0 kB\nSwapFree: 0 kB\nHugePages_Total:       0\n"
	m, err := ParseMeminfo([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.MemTotal != 1004284*1024 || m.MemAvailable != 523000*1024 || m.Cached != 4096 || m.SwapTotal != 0 {
		t.Errorf("got %+v", m)
	}
	if _, err := ParseMeminfo([]byte("MemFree: 1 kB\n")); err == nil {
		t.Error("no MemTotal: want an error")
	}
	if _, err := ParseMeminfo([]byte("MemTotal: x kB\n")); err == nil {
		t.Error("bad number: want an error")
	}
	// A value without a unit is taken as it is.
	if m, err := ParseMeminfo([]byte("MemTotal: 1048576\n")); err != nil || m.MemTotal != 1048576 {
		t.Errorf("no unit: %+v %v", m, err)
	}
}

// An octal escape at the very end of a field is decoded too.
func TestUnescapeOctalAtEnd(t *testing.T) {
	for in, want := range map[string]string{`/mnt/a\040`: "/mnt/a ", `\011x`: "\tx", `/x\04`: `/x\04`, `/plain`: "/plain"} {
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFstab(t *testing.T) {
	line := FstabLine("/var/swapfile", -1)
	entry := fstabMarker + "\n" + line + "\n"
	cases := []struct{ name, in, want string }{
		{"empty", "", entry},
		{"appends after comments and tabs, keeping them",
			"# /etc/fstab\nUUID=abcd\t/\text4\tdefaults\t0 1\n",
			"# /etc/fstab\nUUID=abcd\t/\text4\tdefaults\t0 1\n" + entry},
		{"no final newline is not glued", "LABEL=root / ext4 defaults 0 1", "LABEL=root / ext4 defaults 0 1\n" + entry},
		{"existing entry with other options replaced in place",
			"/dev/sda1 / ext4 defaults 0 1\n/var/swapfile swap swap defaults 0 0\n/dev/sdb1 /data xfs defaults 0 2\n",
			"/dev/sda1 / ext4 defaults 0 1\n" + entry + "/dev/sdb1 /data xfs defaults 0 2\n"},
		{"duplicates collapse to one", "/var/swapfile none swap sw 0 0\n/var/swapfile none swap sw 0 0\n", entry},
		{"already right: unchanged", "a b c d 0 0\n" + entry, "a b c d 0 0\n" + entry},
		{"commented-out entry is someone else's", "#/var/swapfile none swap sw 0 0\n", "#/var/swapfile none swap sw 0 0\n" + entry},
		{"CRLF kept", "UUID=x / ext4 defaults 0 1\r\n", "UUID=x / ext4 defaults 0 1\r\n" + fstabMarker + "\r\n" + line + "\r\n"},
		{"other swapfiles untouched", "/swap2 none swap sw 0 0\n", "/swap2 none swap sw 0 0\n" + entry},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := string(SetFstabEntry([]byte(c.in), "/var/swapfile", line))
			if got != c.want {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
			if again := string(SetFstabEntry([]byte(got), "/var/swapfile", line)); again != got {
				t.Errorf("not idempotent:\n%q", again)
			}
			if n := len(FstabEntries([]byte(got), "/var/swapfile")); n != 1 {
				t.Errorf("%d entries", n)
			}
			removed := string(RemoveFstabEntry([]byte(got), "/var/swapfile"))
			if len(FstabEntries([]byte(removed), "/var/swapfile")) != 0 || strings.Contains(removed, "swap-bootstrap") {
				t.Errorf("remove left our entry: %q", removed)
			}
		})
	}
	if got := FstabLine("/mnt/my swap", 10); got != `/mnt/my\040swap none swap sw,nofail,pri=10 0 0` {
		t.Errorf("escaped line with priority: %q", got)
	}
	// SWAP_PRIORITY=0 is a priority (the lowest one swapon -p takes); -1 is
	// "not set", the kernel's own order.
	if got := FstabLine("/var/swapfile", 0); got != "/var/swapfile none swap sw,nofail,pri=0 0 0" {
		t.Errorf("priority 0: %q", got)
	}
	if got := FstabLine("/var/swapfile", -1); got != "/var/swapfile none swap sw,nofail 0 0" {
		t.Errorf("no priority: %q", got)
	}
	if got := string(RemoveFstabEntry([]byte("a b\n"+entry+"c d"), "/var/swapfile")); got != "a b\nc d" {
		t.Errorf("remove keeps other bytes: %q", got)
	}
}
