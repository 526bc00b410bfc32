package swap

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Area is one line of /proc/swaps.
type Area struct {
	Filename string `json:"filename"`   // unescaped path or device
	Type     string `json:"type"`       // "file" or "partition"
	Size     int64  `json:"size_bytes"` // bytes (the kernel prints KiB)
	Used     int64  `json:"used_bytes"` // bytes
	Priority int    `json:"priority"`
}

// ParseProcSwaps reads /proc/swaps. The kernel escapes space, tab, newline and
// backslash in the filename as octal (\040 …), like /proc/mounts, and appends
// " (deleted)" to a swapfile that was unlinked while active.
func ParseProcSwaps(b []byte) ([]Area, error) {
	var areas []Area
	sc := bufio.NewScanner(bytes.NewReader(b))
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			if strings.HasPrefix(line, "Filename") {
				continue
			}
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 5 {
			return nil, fmt.Errorf("/proc/swaps: malformed line %q", line)
		}
		// A "(deleted)" suffix is a separate field; the last four are numbers and type.
		n := len(f)
		name := strings.Join(f[:n-4], " ")
		size, err1 := strconv.ParseInt(f[n-3], 10, 64)
		used, err2 := strconv.ParseInt(f[n-2], 10, 64)
		prio, err3 := strconv.Atoi(f[n-1])
		if err1 != nil || err2 != nil || err3 != nil || size < 0 || used < 0 {
			return nil, fmt.Errorf("/proc/swaps: malformed line %q", line)
		}
		areas = append(areas, Area{Filename: unescapeOctal(name), Type: f[n-4], Size: size * 1024, Used: used * 1024, Priority: prio})
	}
	return areas, sc.Err()
}

// FindArea returns the active swap area for path.
func FindArea(areas []Area, path string) (Area, bool) {
	for _, a := range areas {
		if a.Filename == path {
			return a, true
		}
	}
	return Area{}, false
}

// unescapeOctal undoes the kernel's seq_file escaping of "\040"-style octal sequences.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapeOctal escapes a path for fstab, the inverse of unescapeOctal.
func escapeOctal(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, `\%03o`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Meminfo holds the /proc/meminfo figures swap-bootstrap uses, in bytes.
type Meminfo struct {
	MemTotal, MemAvailable, SwapTotal, SwapFree, Cached int64
	// Zswap is the compressed pool's size, Zswapped what it holds (Linux 5.19+).
	Zswap, Zswapped int64
}

// ParseMeminfo reads /proc/meminfo ("MemTotal:  1004284 kB").
func ParseMeminfo(b []byte) (Meminfo, error) {
	var m Meminfo
	fields := map[string]*int64{"MemTotal": &m.MemTotal, "MemAvailable": &m.MemAvailable,
		"SwapTotal": &m.SwapTotal, "SwapFree": &m.SwapFree, "Cached": &m.Cached, "Zswap": &m.Zswap, "Zswapped": &m.Zswapped}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		p, want := fields[key]
		if !ok || !want {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return m, fmt.Errorf("/proc/meminfo: %s has no value", key)
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || v < 0 {
			return m, fmt.Errorf("/proc/meminfo: %s: bad value %q", key, f[0])
		}
		if len(f) > 1 && strings.EqualFold(f[1], "kB") {
			v *= 1024
		}
		*p = v
	}
	if m.MemTotal == 0 {
		return m, fmt.Errorf("/proc/meminfo: no MemTotal")
	}
	return m, sc.Err()
}
