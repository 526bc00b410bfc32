package bootstrap

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

// WriteJSON prints the report as one JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// WriteText prints the report for a person.
func (r Report) WriteText(w io.Writer) {
	f := r.Facts
	typ := "unknown"
	if f.InstanceType != "" {
		typ = f.InstanceType + " (from " + f.TypeSource + ")"
	}
	fmt.Fprintf(w, "instance type:  %s\n", typ)
	if f.InstanceID != "" {
		fmt.Fprintf(w, "instance:       %s in %s (%s), %s\n", f.InstanceID, f.AvailabilityZone, f.Region, f.Architecture)
	}
	fmt.Fprintf(w, "metadata:       %.1f ms; %s\n", f.MetadataMS, f.MetadataNote)
	mem := fmt.Sprintf("%s from %s", sizing.FormatSize(f.MemoryBytes), f.MemorySource)
	if f.MemoryNote != "" {
		mem += " (" + f.MemoryNote + ")"
	}
	fmt.Fprintf(w, "memory:         %s\n", mem)
	if r.Command != "status" || r.Policy != "" {
		fmt.Fprintf(w, "policy:         %s\n", r.Policy)
	}
	if len(r.Sources) > 0 {
		keys := make([]string, 0, len(r.Sources))
		for k := range r.Sources {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "settings from: ")
		for _, k := range keys {
			fmt.Fprintf(w, " %s=%s;", k, r.Sources[k])
		}
		fmt.Fprintln(w)
	}
	for _, s := range r.Reasons {
		fmt.Fprintf(w, "sizing:         %s\n", s)
	}
	if r.Filesystem != "" {
		fmt.Fprintf(w, "filesystem:     %s, %s available\n", r.Filesystem, sizing.FormatSize(r.Available))
	}
	if r.Plan != nil {
		if r.Plan.Target > 0 {
			fmt.Fprintf(w, "target:         %s at %s\n", sizing.FormatSize(r.Plan.Target), r.Plan.File)
		} else if r.Command != "remove" {
			fmt.Fprintf(w, "target:         no swapfile\n")
		}
		for _, n := range r.Plan.Notes {
			fmt.Fprintf(w, "note:           %s\n", n)
		}
		if len(r.Plan.Actions) == 0 {
			fmt.Fprintf(w, "actions:        none; the machine already matches\n")
		}
		for i, a := range r.Plan.Actions {
			size := ""
			if a.Size > 0 {
				size = " " + sizing.FormatSize(a.Size)
			}
			fmt.Fprintf(w, "action %d:       %s %s%s: %s\n", i+1, a.Kind, a.Path, size, a.Reason)
		}
	}
	if r.Command == "status" {
		fmt.Fprintf(w, "swappiness:     %d\n", r.Swappiness)
		if len(r.Areas) == 0 {
			fmt.Fprintf(w, "swap areas:     none active\n")
		}
		for _, a := range r.Areas {
			fmt.Fprintf(w, "swap area:      %s (%s) %s, %s used, priority %d\n", a.Filename, a.Type, sizing.FormatSize(a.Size), sizing.FormatSize(a.Used), a.Priority)
		}
		if fr := r.File; fr != nil {
			switch {
			case !fr.Exists:
				fmt.Fprintf(w, "managed file:   %s does not exist\n", fr.Path)
			case !fr.SwapArea:
				fmt.Fprintf(w, "managed file:   %s exists but is not a swap area\n", fr.Path)
			default:
				act := "inactive"
				if fr.Active {
					act = "active, " + sizing.FormatSize(fr.UsedBytes) + " used"
				}
				fmt.Fprintf(w, "managed file:   %s %s, mode %s, %s, UUID %s, label %q\n", fr.Path, sizing.FormatSize(fr.SizeBytes), fr.Mode, act, fr.UUID, fr.Label)
			}
			if fr.FstabLine != "" {
				fmt.Fprintf(w, "fstab:          %s\n", fr.FstabLine)
			}
		}
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "warning:        %s\n", s)
	}
}
