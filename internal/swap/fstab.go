package swap

import (
	"bytes"
	"strconv"
	"strings"
)

// fstabMarker is the comment written above our fstab line, so people reading
// fstab know where it came from.
const fstabMarker = "# swap-bootstrap: managed swapfile; `swap-bootstrap remove` drops this entry"

// FstabLine is the entry for a swapfile: nofail so a missing file never stops
// the boot, and pri only when the operator set one.
func FstabLine(path string, priority int) string {
	opts := "sw,nofail"
	if priority >= 0 {
		opts += ",pri=" + strconv.Itoa(priority)
	}
	return escapeOctal(path) + " none swap " + opts + " 0 0"
}

// fstabSpec returns the unescaped first field of an fstab line, or "" for
// comments and blank lines.
func fstabSpec(line string) string {
	// libmount separates fields with blanks only (space and tab).
	f := strings.FieldsFunc(strings.TrimRight(line, "\r\n"), func(r rune) bool { return r == ' ' || r == '\t' })
	if len(f) == 0 || strings.HasPrefix(f[0], "#") {
		return ""
	}
	return unescapeOctal(f[0])
}

// splitLines splits b into lines that keep their terminators, so joining them
// gives back b byte for byte.
func splitLines(b []byte) []string {
	var lines []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lines = append(lines, string(b))
			break
		}
		lines = append(lines, string(b[:i+1]))
		b = b[i+1:]
	}
	return lines
}

// SetFstabEntry returns fstab with exactly one entry for path, equal to line
// (and the marker comment above it). The first existing entry for path is
// replaced in place, later duplicates are dropped, every other byte is kept.
// When no entry exists one is appended; a missing final newline is added first
// so the new line is never glued to the last one.
func SetFstabEntry(fstab []byte, path, line string) []byte {
	lines := splitLines(fstab)
	eol := lineEnding(lines)
	var out []string
	placed := false
	for i, l := range lines {
		if ourMarker(lines, i, path) {
			continue // re-added with our entry
		}
		if fstabSpec(l) != path {
			out = append(out, l)
			continue
		}
		if !placed {
			out = append(out, fstabMarker+eol, line+eol)
			placed = true
		}
	}
	if !placed {
		out = appendLines(out, eol, fstabMarker+eol, line+eol)
	}
	return []byte(strings.Join(out, ""))
}

// appendLines appends add to lines, first ending a last line that has no
// terminator, so nothing is glued to it.
func appendLines(lines []string, eol string, add ...string) []string {
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		lines[n-1] = strings.TrimSuffix(lines[n-1], "\r") + eol
	}
	return append(lines, add...)
}

// RemoveFstabEntry drops every entry for path and the markers above them.
func RemoveFstabEntry(fstab []byte, path string) []byte {
	lines := splitLines(fstab)
	var out []string
	for i, l := range lines {
		if ourMarker(lines, i, path) || fstabSpec(l) == path {
			continue
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, ""))
}

// RemoveMarkedFstabEntry drops the entry swap-bootstrap wrote for path (the
// one under a marker) and its marker; an entry the operator wrote stays.
func RemoveMarkedFstabEntry(fstab []byte, path string) []byte {
	lines := splitLines(fstab)
	var out []string
	for i := 0; i < len(lines); i++ {
		if ourMarker(lines, i, path) {
			i++ // and the entry below it
			continue
		}
		out = append(out, lines[i])
	}
	return []byte(strings.Join(out, ""))
}

// ourMarker reports whether line i is a marker that belongs to path's entry:
// markers are written right above the entry they describe, so one above
// another path's entry is that path's.
func ourMarker(lines []string, i int, path string) bool {
	return isMarker(lines[i]) && i+1 < len(lines) && fstabSpec(lines[i+1]) == path
}

// FstabEntries returns the entries for path, trimmed.
func FstabEntries(fstab []byte, path string) []string {
	var found []string
	for _, l := range splitLines(fstab) {
		if fstabSpec(l) == path {
			found = append(found, strings.TrimRight(l, "\r\n"))
		}
	}
	return found
}

// lineEnding is the file's line ending: CRLF when its first terminated line
// (or, with none, its only line) ends in CR, else LF.
func lineEnding(lines []string) string {
	for _, l := range lines {
		if strings.HasSuffix(l, "\n") {
			if strings.HasSuffix(l, "\r\n") {
				return "\r\n"
			}
			return "\n"
		}
	}
	if len(lines) > 0 && strings.HasSuffix(lines[len(lines)-1], "\r") {
		return "\r\n"
	}
	return "\n"
}

func isMarker(l string) bool { return strings.HasPrefix(l, "# swap-bootstrap: managed swapfile") }
