package sizing

import (
	"errors"
	"strings"
	"testing"
)

var bigDisk = DiskBudget{Available: 1 << 50, Percent: 100}

func TestPoliciesAtEveryInterestingRAMSize(t *testing.T) {
	rams := []float64{0.5, 1, 2, 4, 8, 16, 32, 64, 768} // GiB
	want := map[Policy][]float64{                       // GiB, same order
		PolicyRatio:     {1, 2, 4, 8, 16, 32, 64, 128, 1536},
		PolicyAWS:       {1, 2, 4, 6, 10, 18, 32, 64, 768},
		PolicyRedHat:    {1, 2, 4, 4, 8, 4, 4, 4, 4},
		PolicyUbuntu:    {1, 1, 1, 2, 3, 4, 6, 8, 28},
		PolicyCloudInit: {0.5, 1, 2, 4, 4, 4, 6, 8, 28},
	}
	for p, sizes := range want {
		for i, r := range rams {
			in := Input{Policy: p, Ratio: 2, RAM: Memory{Bytes: int64(r * float64(GiB))}, Disk: bigDisk, PageSize: 4096}
			d, err := Decide(in)
			if err != nil {
				t.Fatalf("%s at %v GiB: %v", p, r, err)
			}
			if w := int64(sizes[i] * float64(GiB)); d.Size != w {
				t.Errorf("%s at %v GiB RAM: got %s, want %s (reasons %q)", p, r, FormatSize(d.Size), FormatSize(w), d.Reasons)
			}
		}
	}
}

func TestDecide(t *testing.T) {
	t3micro := RAM("t3.micro", 950*MiB)
	cases := []struct {
		name     string
		in       Input
		want     int64
		warn     string
		reason   string
		shortage bool
	}{
		{name: "t3.micro, ratio 2", in: Input{Policy: PolicyRatio, Ratio: 2, RAM: t3micro, Disk: bigDisk, PageSize: 4096}, want: 2 * GiB},
		{name: "ratio 1.5 rounds down to whole MiB", in: Input{Policy: PolicyRatio, Ratio: 1.5, RAM: Memory{Bytes: 1000*MiB + 3}, Disk: bigDisk, PageSize: 4096}, want: 1500 * MiB},
		{name: "fixed", in: Input{Policy: PolicyFixed, Fixed: 3 * GiB, RAM: t3micro, Disk: bigDisk, PageSize: 4096}, want: 3 * GiB},
		{name: "off", in: Input{Policy: PolicyOff, RAM: t3micro, Disk: bigDisk, PageSize: 4096}, want: 0},
		{name: "r5.24xlarge capped by SWAP_MAX", in: Input{Policy: PolicyRatio, Ratio: 2, Max: 32 * GiB, RAM: RAM("r5.24xlarge", 760*GiB), Disk: bigDisk, PageSize: 4096}, want: 32 * GiB, reason: "capped at SWAP_MAX 32 GiB"},
		{name: "raised to SWAP_MIN", in: Input{Policy: PolicyUbuntu, Min: 2 * GiB, RAM: t3micro, Disk: bigDisk, PageSize: 4096}, want: 2 * GiB, reason: "raised to SWAP_MIN 2 GiB"},
		{name: "disk budget: 50% of 3 GiB", in: Input{Policy: PolicyRatio, Ratio: 2, RAM: t3micro, Disk: DiskBudget{Available: 3 * GiB, Percent: 50, Reserve: GiB}, PageSize: 4096}, want: 1536 * MiB, warn: "disk budget cuts swap from 2 GiB to 1.5 GiB"},
		{name: "disk budget: reserve wins", in: Input{Policy: PolicyRatio, Ratio: 2, RAM: t3micro, Disk: DiskBudget{Available: 3 * GiB, Percent: 100, Reserve: 2 * GiB}, PageSize: 4096}, want: GiB, warn: "keeping 2 GiB free"},
		{name: "current file counts as available", in: Input{Policy: PolicyRatio, Ratio: 2, RAM: t3micro, Disk: DiskBudget{Available: 2 * GiB, Current: 2 * GiB, Percent: 50, Reserve: GiB}, PageSize: 4096}, want: 2 * GiB},
		{name: "budget below SWAP_MIN refuses", in: Input{Policy: PolicyRatio, Ratio: 2, Min: 2 * GiB, RAM: t3micro, Disk: DiskBudget{Available: 3 * GiB, Percent: 50, Reserve: GiB}, PageSize: 4096}, shortage: true},
		{name: "full disk refuses", in: Input{Policy: PolicyRatio, Ratio: 2, RAM: t3micro, Disk: DiskBudget{Available: 100 * MiB, Percent: 50, Reserve: GiB}, PageSize: 4096}, shortage: true},
		{name: "64K pages: tiny fixed size rounds to pages", in: Input{Policy: PolicyFixed, Fixed: 700 * KiB, RAM: t3micro, Disk: bigDisk, PageSize: 64 * KiB}, want: 640 * KiB},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Decide(c.in)
			var se *ShortfallError
			if c.shortage {
				if !errors.As(err, &se) {
					t.Fatalf("want a ShortfallError, got %v (size %d)", err, d.Size)
				}
				if !strings.Contains(err.Error(), "not enough disk for swap") {
					t.Errorf("message: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Size != c.want {
				t.Errorf("size %s, want %s; reasons %q warnings %q", FormatSize(d.Size), FormatSize(c.want), d.Reasons, d.Warnings)
			}
			if c.warn != "" && !strings.Contains(strings.Join(d.Warnings, "\n"), c.warn) {
				t.Errorf("warnings %q lack %q", d.Warnings, c.warn)
			}
			if c.warn == "" && len(d.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", d.Warnings)
			}
			if c.reason != "" && !strings.Contains(strings.Join(d.Reasons, "\n"), c.reason) {
				t.Errorf("reasons %q lack %q", d.Reasons, c.reason)
			}
		})
	}
}

func TestRAM(t *testing.T) {
	cases := []struct {
		name, typ string
		memTotal  int64
		want      int64
		source    string
		note      string
	}{
		{"t3.nano nominal beats MemTotal", "t3.nano", 452 * MiB, 512 * MiB, SourceTable, "t3.nano"},
		{"t4g.small", "t4g.small", 1900 * MiB, 2 * GiB, SourceTable, ""},
		{"type in any case", "T3.Micro", 950 * MiB, GiB, SourceTable, ""},
		{"mem= limit wins", "m5.xlarge", 2 * GiB, 2 * GiB, SourceMemTotal, "far below"},
		{"unknown type", "zz9.mega", 3 * GiB, 3 * GiB, SourceMemTotal, `"zz9.mega" is not in the embedded table`},
		{"no type", "", 3 * GiB, 3 * GiB, SourceMemTotal, "unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := RAM(c.typ, c.memTotal)
			if m.Bytes != c.want || m.Source != c.source || !strings.Contains(m.Note, c.note) {
				t.Errorf("got %+v, want %d from %s with note containing %q", m, c.want, c.source, c.note)
			}
		})
	}
	if n := TableSize(); n < 1400 {
		t.Errorf("embedded table has %d types, want the full table (≥ 1400)", n)
	}
}

func TestParseSize(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"2048", 2 * GiB}, {"2G", 2 * GiB}, {"2g", 2 * GiB}, {"1.5G", 1536 * MiB}, {"1.5GiB", 1536 * MiB},
		{"2GB", 2e9}, {"512M", 512 * MiB}, {"512MB", 512e6}, {"64K", 64 * KiB}, {"64KiB", 64 * KiB}, {"1KB", 1000},
		{"1T", 1 << 40}, {"1TB", 1e12}, {" 4 G ", 4 * GiB}, {"0", 0}, {"100B", 100}, {"0.5", 512 * KiB},
	}
	for _, c := range good {
		got, err := ParseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "G", "2 gigs", "-1", "-1G", "1.2.3G", "2X", "0x10", "1e3", "NaN", "Inf", "2GG", "99999999999T", "١٢"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseTolerance(t *testing.T) {
	tol, err := ParseTolerance("5%")
	if err != nil || tol.Fraction != 0.05 {
		t.Fatalf("5%%: %+v %v", tol, err)
	}
	if !tol.Within(2*GiB-100*MiB, 2*GiB) || tol.Within(2*GiB-110*MiB, 2*GiB) {
		t.Error("5% of 2 GiB is 102.4 MiB: 100 MiB off is within, 110 MiB is not")
	}
	tol, err = ParseTolerance("256M")
	if err != nil || tol.Bytes != 256*MiB || !tol.Within(GiB+256*MiB, GiB) || tol.Within(GiB+257*MiB, GiB) {
		t.Errorf("256M: %+v %v", tol, err)
	}
	for _, in := range []string{"", "%", "51%", "-1%", "five%", "abc"} {
		if _, err := ParseTolerance(in); err == nil {
			t.Errorf("ParseTolerance(%q): want an error", in)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	for _, p := range Policies {
		if got, err := ParsePolicy(strings.ToUpper(string(p))); err != nil || got != p {
			t.Errorf("ParsePolicy(%q) = %q, %v", p, got, err)
		}
	}
	if _, err := ParsePolicy("double"); err == nil || !strings.Contains(err.Error(), "ratio, aws, redhat, ubuntu, cloud-init, fixed, off") {
		t.Errorf("bad policy error: %v", err)
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"2048", "1.5G", "2GB", "64KiB", "", "-1", "1e3", "9999999999999T"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseSize(s)
		if err == nil && (b < 0 || b >= maxSize) {
			t.Errorf("ParseSize(%q) = %d: out of range without error", s, b)
		}
	})
}

// roundDown keeps whole MiB from 1 MiB up, whole pages below it (and for
// pages larger than 1 MiB), and falls back to 4 KiB pages when the page
// size is unknown.
func TestRoundDown(t *testing.T) {
	for _, c := range []struct {
		b, page, want int64
	}{
		{3*MiB/2 + 4*KiB, 4 * KiB, MiB},
		{MiB + 64*KiB, 64 * KiB, MiB},
		{MiB - 4*KiB + 100, 4 * KiB, MiB - 4*KiB},
		{5 * MiB, 2 * MiB, 4 * MiB},
		{5000, 0, 4 * KiB},
		{5000, -1, 4 * KiB},
	} {
		if got := roundDown(c.b, c.page); got != c.want {
			t.Errorf("roundDown(%d, %d) = %d, want %d", c.b, c.page, got, c.want)
		}
	}
}

// Limit is exact for sizes that are not multiples of 100, and never above
// the usable space less the reserve.
func TestDiskBudgetLimit(t *testing.T) {
	for _, c := range []struct {
		b    DiskBudget
		want int64
	}{
		{DiskBudget{Available: 199, Percent: 50}, 99},
		{DiskBudget{Available: 150, Current: 40, Stale: 10, Percent: 50}, 100},
		{DiskBudget{Available: 1 << 62, Percent: 100}, 1 << 62},
		{DiskBudget{Available: 1000, Percent: 100, Reserve: 300}, 700},
		{DiskBudget{Available: 100, Percent: 100, Reserve: 300}, 0},
	} {
		if got := c.b.Limit(); got != c.want {
			t.Errorf("%+v.Limit() = %d, want %d", c.b, got, c.want)
		}
	}
}

// The boundaries of the size rules, each on its edge.
func TestBoundaries(t *testing.T) {
	if got, err := ParseSize("9G"); err != nil || got != 9<<30 {
		t.Errorf(`ParseSize("9G") = %d, %v`, got, err)
	}
	if _, err := ParseSize("1048576T"); err == nil { // 2^60 bytes
		t.Error(`ParseSize("1048576T"): want "too large"`)
	}
	for in, want := range map[string]float64{"0%": 0, "50%": 0.5} {
		if got, err := ParseTolerance(in); err != nil || got.Fraction != want {
			t.Errorf("ParseTolerance(%q) = %+v, %v", in, got, err)
		}
	}
	if _, err := ParseTolerance("50.5%"); err == nil {
		t.Error(`ParseTolerance("50.5%"): want an error`)
	}
	for b, want := range map[int64]string{1 << 10: "1 KiB", 1 << 20: "1 MiB", 1 << 30: "1 GiB", 1 << 40: "1 TiB", 1<<20 - 1: "1024 KiB"} {
		if got := FormatSize(b); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", b, got, want)
		}
	}
	// MemTotal exactly 75 % of nominal is not "far below" it; an unknown
	// MemTotal (0) never is.
	for _, mem := range []int64{3 << 28, 0} {
		if m := RAM("t3.micro", mem); m.Source != SourceTable || m.Bytes != 1<<30 {
			t.Errorf("RAM(t3.micro, %d) = %+v", mem, m)
		}
	}
	decide := func(in Input) Decision {
		t.Helper()
		in.PageSize, in.RAM = 4096, Memory{Bytes: 1 << 30}
		if in.Disk == (DiskBudget{}) {
			in.Disk = bigDisk
		}
		d, err := Decide(in)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		return d
	}
	// A policy size equal to SWAP_MIN or SWAP_MAX is neither raised nor capped.
	if d := decide(Input{Policy: PolicyRatio, Ratio: 2, Min: 2 << 30, Max: 2 << 30}); d.Size != 2<<30 || len(d.Reasons) != 1 {
		t.Errorf("at SWAP_MIN = SWAP_MAX: %+v", d)
	}
	// Exactly the 10-page minimum is a swap area.
	if d := decide(Input{Policy: PolicyFixed, Fixed: 10 * 4096}); d.Size != 10*4096 {
		t.Errorf("10 pages: %+v", d)
	}
	// A disk budget exactly at the floor still makes swap, cut to it.
	if d := decide(Input{Policy: PolicyRatio, Ratio: 2, Min: 64 << 20, Disk: DiskBudget{Available: 64 << 20, Percent: 100}}); d.Size != 64<<20 || len(d.Warnings) != 1 {
		t.Errorf("budget at SWAP_MIN: %+v", d)
	}
}
