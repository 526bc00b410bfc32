package sizing

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Byte multiples used throughout.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40
)

// maxSize bounds every parsed size: far beyond any disk, far below int64 overflow.
const maxSize = 1 << 60

var units = map[string]float64{
	"":  float64(MiB), // a bare number is MiB, like the snippet's SWAP_MEGABYTES
	"B": 1,
	"K": float64(KiB), "KIB": float64(KiB), "KB": 1e3,
	"M": float64(MiB), "MIB": float64(MiB), "MB": 1e6,
	"G": float64(GiB), "GIB": float64(GiB), "GB": 1e9,
	"T": float64(TiB), "TIB": float64(TiB), "TB": 1e12,
}

// ParseSize reads a size the way util-linux does: K M G T and KiB MiB GiB TiB
// are powers of 1024, KB MB GB TB powers of 1000, decimals are allowed
// ("1.5G"), and a bare number is MiB.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToUpper(strings.TrimSpace(t[i:]))
	mult, ok := units[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("not a size; use a number with an optional unit, e.g. 2048, 2G, 1.5GiB")
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size; use a number with an optional unit, e.g. 2048, 2G, 1.5GiB")
	}
	b := v * mult
	if b >= maxSize {
		return 0, fmt.Errorf("too large (over 1 EiB)")
	}
	return int64(math.Round(b)), nil
}

// BinaryEquivalent returns, for a size written with a decimal unit (KB, MB,
// GB, TB: powers of 1000), the same number with the binary unit people
// usually mean ("2gb" -> "2G"); ok is false for any other size.
func BinaryEquivalent(s string) (string, bool) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return "", false
	}
	switch unit := strings.ToUpper(strings.TrimSpace(t[i:])); unit {
	case "KB", "MB", "GB", "TB":
		return t[:i] + unit[:1], true
	}
	return "", false
}

// Tolerance is how far an existing file may be from the target and still be kept:
// either a fraction of the target or an absolute number of bytes.
type Tolerance struct {
	Fraction float64
	Bytes    int64
}

// ParseTolerance reads "5%" or a size such as "256M".
func ParseTolerance(s string) (Tolerance, error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 50 || math.IsNaN(v) {
			return Tolerance{}, fmt.Errorf("not a percentage between 0%% and 50%%; use e.g. 5%% or a size such as 256M")
		}
		return Tolerance{Fraction: v / 100}, nil
	}
	b, err := ParseSize(t)
	if err != nil {
		return Tolerance{}, fmt.Errorf("not a percentage or a size; use e.g. 5%% or 256M")
	}
	return Tolerance{Bytes: b}, nil
}

// Within reports whether have is close enough to want to be kept.
func (t Tolerance) Within(have, want int64) bool {
	d := have - want
	if d < 0 {
		d = -d
	}
	limit := t.Bytes
	if t.Fraction > 0 {
		limit = int64(t.Fraction * float64(want))
	}
	return d <= limit
}

func (t Tolerance) String() string {
	if t.Bytes > 0 || t.Fraction == 0 {
		return FormatSize(t.Bytes)
	}
	return strconv.FormatFloat(t.Fraction*100, 'f', -1, 64) + "%"
}

// FormatSize prints bytes in the largest binary unit that keeps it readable:
// "2 GiB", "1.5 GiB", "512 MiB".
func FormatSize(b int64) string {
	for _, u := range []struct {
		n int64
		s string
	}{{TiB, "TiB"}, {GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}} {
		if b >= u.n {
			v := float64(b) / float64(u.n)
			return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + " " + u.s
		}
	}
	return strconv.FormatInt(b, 10) + " B"
}
