package bootstrap

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/kubelet"
	"github.com/soundhub/swap-bootstrap/internal/sizing"
	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// Report is what a command found, decided and did: printed by plan and
// status, summarised in one log line by apply and remove.
type Report struct {
	Command    string            `json:"command"`
	Facts      ReportFacts       `json:"facts"`
	Policy     string            `json:"policy"`
	Sources    map[string]string `json:"sources"`
	Reasons    []string          `json:"reasons"`
	Warnings   []string          `json:"warnings"`
	Filesystem string            `json:"filesystem,omitempty"`
	Available  int64             `json:"filesystem_available_bytes,omitempty"`
	Plan       *swap.Plan        `json:"plan,omitempty"`
	Areas      []swap.Area       `json:"swap_areas"`
	File       *FileReport       `json:"file,omitempty"`
	Swappiness int               `json:"swappiness"`
	Kubelet    *kubelet.Node     `json:"kubelet,omitempty"`
	Zswap      *ZswapReport      `json:"zswap,omitempty"`
	// Hibernation lists the signs that this instance hibernates.
	Hibernation []string `json:"hibernation,omitempty"`
	State       string   `json:"state,omitempty"`
	ElapsedMS   float64  `json:"elapsed_ms"`
	path        string
}

// ReportFacts are the instance facts and the memory that sizes swap.
type ReportFacts struct {
	Facts
	MemoryBytes  int64  `json:"memory_bytes"`
	MemorySource string `json:"memory_source"`
	MemoryNote   string `json:"memory_note,omitempty"`
}

// ZswapReport is zswap's state and what its pool holds.
type ZswapReport struct {
	swap.Zswap
	// From /proc/meminfo (Linux 5.19+): the pool's size and what it holds.
	PoolMeminfoBytes int64 `json:"meminfo_zswap_bytes"`
	StoredBytes      int64 `json:"meminfo_zswapped_bytes"`
}

// FileReport describes the managed file for status.
type FileReport struct {
	Path      string `json:"path"`
	Exists    bool   `json:"exists"`
	SwapArea  bool   `json:"swap_area"`
	SizeBytes int64  `json:"size_bytes,omitempty"`
	Mode      string `json:"mode,omitempty"`
	Active    bool   `json:"active"`
	UsedBytes int64  `json:"used_bytes,omitempty"`
	UUID      string `json:"uuid,omitempty"`
	Label     string `json:"label,omitempty"`
	FstabLine string `json:"fstab_entry,omitempty"`
}

// newReport builds the report of a command from what it gathered, observed
// and decided. Lists are never nil, so JSON shows [] rather than null.
func newReport(cmd string, c config.Config, f Facts, d Decision, p *swap.Plan, o swap.Observation, start time.Time) Report {
	r := Report{Command: cmd, Policy: string(d.Policy), Sources: d.Sources, path: c.File,
		Facts:   ReportFacts{Facts: f, MemoryBytes: d.Memory.Bytes, MemorySource: d.Memory.Source, MemoryNote: d.Memory.Note},
		Reasons: append([]string{}, d.Reasons...), Warnings: append(append([]string{}, d.InvalidTags...), d.Warnings...),
		Filesystem: o.FS.Type, Available: o.FS.Available, Plan: p, Areas: append([]swap.Area{}, o.Areas...), Swappiness: o.Swappiness}
	if r.Sources == nil {
		r.Sources = map[string]string{}
	}
	if o.Kubelet.Present {
		r.Kubelet = &o.Kubelet
	}
	if o.Zswap.Supported {
		r.Zswap = &ZswapReport{Zswap: o.Zswap, PoolMeminfoBytes: o.Mem.Zswap, StoredBytes: o.Mem.Zswapped}
	}
	if f.Hibernation == "true" {
		r.Hibernation = append(r.Hibernation, "metadata service: hibernation/configured=true")
	}
	r.Hibernation = append(r.Hibernation, o.Hibernation...)
	r.ElapsedMS = ms(time.Since(start))
	return r
}

func fileReport(c config.Config, o swap.Observation) *FileReport {
	f := o.File
	fr := &FileReport{Path: c.File, Exists: f.Exists(), SwapArea: f.Header != nil, SizeBytes: f.Size}
	if f.Exists() {
		fr.Mode = fmt.Sprintf("%04o", f.Mode)
	}
	if f.Header != nil {
		fr.UUID, fr.Label = f.Header.UUIDString(), f.Header.Label
	}
	if f.Active != nil {
		fr.Active, fr.UsedBytes = true, f.Active.Used
	}
	if e := swap.FstabEntries(o.Fstab, c.File); len(e) > 0 {
		fr.FstabLine = strings.Join(e, " | ")
	}
	return fr
}

// Summary is the one line a person reads in cloud-init-output.log.
func (r Report) Summary() string {
	size := "no swapfile"
	if r.Plan != nil && r.Plan.Target > 0 {
		size = sizing.FormatSize(r.Plan.Target) + " swap"
	}
	typ := "instance type unknown"
	if r.Facts.InstanceType != "" {
		typ = r.Facts.InstanceType + " from " + r.Facts.TypeSource
	}
	return fmt.Sprintf("swap-bootstrap: %s %s (%s); RAM %s from %s (%s); policy %s; %.2fs",
		r.path, size, r.State, sizing.FormatSize(r.Facts.MemoryBytes), r.Facts.MemorySource, typ, r.Policy, r.ElapsedMS/1000)
}

// WriteJSON prints the report as one JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// WriteText prints the report for a person.
func (r Report) WriteText(w io.Writer) error {
	pw := &errWriter{w: w}
	r.writeText(pw)
	return pw.err
}

// errWriter keeps the first write error, so a report to a closed pipe fails
// the command instead of vanishing.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (r Report) writeText(w io.Writer) {
	// Every line is printed with its control characters escaped: values
	// from the network (metadata) or the machine (paths) cannot forge one.
	pr := func(format string, a ...any) {
		fmt.Fprintf(w, "%s\n", escapeControls(fmt.Sprintf(format, a...)))
	}
	f := r.Facts
	typ := "unknown"
	if f.InstanceType != "" {
		typ = f.InstanceType + " (from " + f.TypeSource + ")"
	}
	pr("instance type:  %s", typ)
	if f.InstanceID != "" {
		pr("instance:       %s in %s (%s), %s", f.InstanceID, f.AvailabilityZone, f.Region, f.Architecture)
	}
	pr("metadata:       %.1f ms; %s", f.MetadataMS, f.MetadataNote)
	mem := fmt.Sprintf("%s from %s", sizing.FormatSize(f.MemoryBytes), f.MemorySource)
	// A note that is also a warning is printed once, as the warning.
	if f.MemoryNote != "" && !strings.Contains(strings.Join(r.Warnings, "\n"), f.MemoryNote) {
		mem += " (" + f.MemoryNote + ")"
	}
	pr("memory:         %s", mem)
	if r.Command != "status" || r.Policy != "" {
		pr("policy:         %s", r.Policy)
	}
	if len(r.Sources) > 0 {
		keys := make([]string, 0, len(r.Sources))
		for k := range r.Sources {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		line := "settings from: "
		for _, k := range keys {
			line += fmt.Sprintf(" %s=%s;", k, r.Sources[k])
		}
		pr("%s", line)
	}
	for _, s := range r.Reasons {
		pr("sizing:         %s", s)
	}
	if r.Filesystem != "" {
		pr("filesystem:     %s, %s available", r.Filesystem, sizing.FormatSize(r.Available))
	}
	if r.Plan != nil {
		if r.Plan.Target > 0 {
			pr("target:         %s at %s", sizing.FormatSize(r.Plan.Target), r.Plan.File)
		} else if r.Command != "remove" {
			pr("target:         no swapfile")
		}
		for _, n := range r.Plan.Notes {
			pr("note:           %s", n)
		}
		if len(r.Plan.Actions) == 0 {
			pr("actions:        none; the machine already matches")
		}
		for i, a := range r.Plan.Actions {
			size := ""
			if a.Size > 0 {
				size = " " + sizing.FormatSize(a.Size)
			}
			pr("action %d:       %s %s%s: %s", i+1, a.Kind, a.Path, size, a.Reason)
		}
	}
	if k := r.Kubelet; k != nil {
		allowed := "refuses swap"
		if k.SwapAllowed {
			allowed = "allows swap"
		}
		pr("kubelet:        %s, %s: %s", k.Evidence, allowed, k.Why)
	}
	for _, h := range r.Hibernation {
		pr("hibernation:    %s", h)
	}
	if z := r.Zswap; z != nil {
		state := "off"
		if z.Enabled {
			state = "on"
		}
		line := fmt.Sprintf("%s, %s, pool at most %d%% of RAM; pool %s holds %s", state, z.Compressor, z.MaxPoolPercent,
			sizing.FormatSize(z.PoolMeminfoBytes), sizing.FormatSize(z.StoredBytes))
		if z.StoredPages >= 0 {
			line += fmt.Sprintf(" (%d pages)", z.StoredPages)
		}
		pr("zswap:          %s", line)
	}
	if r.Command == "status" {
		pr("swappiness:     %d", r.Swappiness)
		if len(r.Areas) == 0 {
			pr("swap areas:     none active")
		}
		for _, a := range r.Areas {
			pr("swap area:      %s (%s) %s, %s used, priority %d", a.Filename, a.Type, sizing.FormatSize(a.Size), sizing.FormatSize(a.Used), a.Priority)
		}
		if fr := r.File; fr != nil {
			switch {
			case !fr.Exists:
				pr("managed file:   %s does not exist", fr.Path)
			case !fr.SwapArea:
				pr("managed file:   %s exists but is not a swap area", fr.Path)
			default:
				act := "inactive"
				if fr.Active {
					act = "active, " + sizing.FormatSize(fr.UsedBytes) + " used"
				}
				pr("managed file:   %s %s, mode %s, %s, UUID %s, label %q", fr.Path, sizing.FormatSize(fr.SizeBytes), fr.Mode, act, fr.UUID, fr.Label)
			}
			if fr.FstabLine != "" {
				pr("fstab:          %s", fr.FstabLine)
			}
		}
	}
	for _, s := range r.Warnings {
		pr("warning:        %s", s)
	}
}

// escapeControls writes control characters (newlines, escapes, DEL) as Go
// escapes, so text stays on its line and cannot drive a terminal.
func escapeControls(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
