// Package bootstrap runs swap-bootstrap's commands in one pass, like a
// reconciler: configuration, facts (metadata service, /proc, statfs), the
// sizing decision, the plan, its execution, and one report. cmd/bootstrap
// only wires it to the process.
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/fault"
	"github.com/soundhub/swap-bootstrap/internal/imds"
	"github.com/soundhub/swap-bootstrap/internal/sizing"
	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// Deps are the outside world; zero values mean the real thing.
type Deps struct {
	System    swap.System
	FetchIMDS func(context.Context, imds.Options) (imds.Facts, error)
	Log       *slog.Logger
}

func (d *Deps) fill() {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.System == nil {
		d.System = &swap.Kernel{Logger: d.Log}
	}
	if d.FetchIMDS == nil {
		d.FetchIMDS = imds.Fetch
	}
}

// Facts is what the run learned about the instance.
type Facts struct {
	InstanceType     string        `json:"instance_type,omitempty"`
	TypeSource       string        `json:"instance_type_source,omitempty"` // SWAP_INSTANCE_TYPE or "metadata service"
	InstanceID       string        `json:"instance_id,omitempty"`
	Region           string        `json:"region,omitempty"`
	AvailabilityZone string        `json:"availability_zone,omitempty"`
	Architecture     string        `json:"architecture,omitempty"`
	Metadata         time.Duration `json:"-"`
	MetadataMS       float64       `json:"metadata_ms"`
	MetadataNote     string        `json:"metadata_note,omitempty"`
	Memory           sizing.Memory `json:"-"`
	MemoryBytes      int64         `json:"memory_bytes"`
	MemorySource     string        `json:"memory_source"`
	MemoryNote       string        `json:"memory_note,omitempty"`
}

// Report is what a command found, decided and did.
type Report struct {
	Command    string            `json:"command"`
	Facts      Facts             `json:"facts"`
	Policy     string            `json:"policy"`
	Sources    map[string]string `json:"sources"`
	Reasons    []string          `json:"reasons,omitempty"`
	Warnings   []string          `json:"warnings,omitempty"`
	Filesystem string            `json:"filesystem,omitempty"`
	Available  int64             `json:"filesystem_available_bytes,omitempty"`
	Plan       *swap.Plan        `json:"plan,omitempty"`
	Areas      []swap.Area       `json:"swap_areas"`
	File       *FileReport       `json:"file,omitempty"`
	Swappiness int               `json:"swappiness"`
	State      string            `json:"state,omitempty"`
	Elapsed    time.Duration     `json:"-"`
	ElapsedMS  float64           `json:"elapsed_ms"`
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

// ErrNotRoot means a command that changes the machine ran without the
// privilege swapon needs.
var ErrNotRoot = errors.New("must run as root with CAP_SYS_ADMIN (swapon(2) needs it); run it with sudo or from a root boot unit")

// Plan decides what apply would do and why; it changes nothing and works
// without root.
func Plan(ctx context.Context, c config.Config, d Deps) (Report, error) {
	d.fill()
	start := time.Now()
	r, _, err := decide(ctx, &c, d, "plan")
	r.finish(start)
	return r, err
}

// Apply brings the machine to the decided state.
func Apply(ctx context.Context, c config.Config, d Deps) (Report, error) {
	d.fill()
	start := time.Now()
	if err := requireRoot(); err != nil {
		return Report{Command: "apply"}, err
	}
	release, err := swap.Lock(c.LockFile, c.LockTimeout)
	if err != nil {
		return Report{Command: "apply"}, err
	}
	defer release()
	fault.Point("locked")
	r, obs, err := decide(ctx, &c, d, "apply")
	if err != nil {
		return r, err
	}
	fault.Point("planned")
	err = swap.Execute(ctx, *r.Plan, settings(c), d.System, d.Log)
	r.State = state(*r.Plan, obs, err)
	r.finish(start)
	if err == nil {
		d.Log.Info(r.Summary(c), "path", c.File, "size_bytes", r.Plan.Target, "state", r.State,
			"instance_type", r.Facts.InstanceType, "memory_bytes", r.Facts.MemoryBytes, "memory_source", r.Facts.MemorySource,
			"policy", r.Policy, "elapsed_ms", r.ElapsedMS)
	}
	return r, err
}

// Remove turns our swapfile off, deletes it and drops its fstab entry.
func Remove(ctx context.Context, c config.Config, d Deps) (Report, error) {
	d.fill()
	start := time.Now()
	r := Report{Command: "remove", Sources: c.Sources}
	if err := requireRoot(); err != nil {
		return r, err
	}
	release, err := swap.Lock(c.LockFile, c.LockTimeout)
	if err != nil {
		return r, err
	}
	defer release()
	obs, err := swap.Observe(paths(c))
	if err != nil {
		return r, err
	}
	p, err := swap.PlanRemove(settings(c), obs)
	r.Plan = &p
	if err != nil {
		return r, err
	}
	err = swap.Execute(ctx, p, settings(c), d.System, d.Log)
	r.State = state(p, obs, err)
	r.finish(start)
	if err == nil {
		d.Log.Info(fmt.Sprintf("swap-bootstrap remove: %s %s in %.2fs", c.File, r.State, r.Elapsed.Seconds()), "path", c.File, "state", r.State)
	}
	return r, err
}

// Status reports the swap areas, the managed file, swappiness and the facts
// that size it.
func Status(ctx context.Context, c config.Config, d Deps) (Report, error) {
	d.fill()
	start := time.Now()
	r := Report{Command: "status", Policy: string(c.Policy), Sources: c.Sources}
	r.Facts = facts(ctx, &c, d, &r.Warnings)
	obs, err := swap.Observe(paths(c))
	var refusal *swap.RefusalError
	if err != nil && !errors.As(err, &refusal) {
		return r, err
	}
	if refusal != nil {
		r.Warnings = append(r.Warnings, refusal.Msg)
	}
	r.setMemory(sizing.RAM(r.Facts.InstanceType, obs.Mem.MemTotal))
	r.Areas, r.Swappiness = obs.Areas, obs.Swappiness
	r.Filesystem, r.Available = obs.FS.Type, obs.FS.Available
	f := obs.File
	fr := &FileReport{Path: c.File, Exists: f.Exists, SwapArea: f.Header != nil, SizeBytes: f.Size}
	if f.Exists {
		fr.Mode = fmt.Sprintf("%04o", f.Mode)
	}
	if f.Header != nil {
		fr.UUID, fr.Label = f.Header.UUIDString(), f.Header.Label
	}
	if f.Active != nil {
		fr.Active, fr.UsedBytes = true, f.Active.Used
	}
	if e := swap.FstabEntries(obs.Fstab, c.File); len(e) > 0 {
		fr.FstabLine = strings.Join(e, " | ")
	}
	r.File = fr
	r.finish(start)
	return r, nil
}

func decide(ctx context.Context, c *config.Config, d Deps, cmd string) (Report, swap.Observation, error) {
	r := Report{Command: cmd}
	r.Facts = facts(ctx, c, d, &r.Warnings)
	r.Policy, r.Sources = string(c.Policy), c.Sources
	if c.IMDS == "required" && r.Facts.InstanceType == "" {
		return r, swap.Observation{}, fmt.Errorf("SWAP_IMDS=required but the instance type could not be read: %s", r.Facts.MetadataNote)
	}
	obs, err := swap.Observe(paths(*c))
	if err != nil {
		return r, obs, err
	}
	r.Areas, r.Swappiness = obs.Areas, obs.Swappiness
	r.Filesystem, r.Available = obs.FS.Type, obs.FS.Available
	r.setMemory(sizing.RAM(r.Facts.InstanceType, obs.Mem.MemTotal))
	if r.Facts.MemoryNote != "" && r.Facts.MemorySource == sizing.SourceMemTotal && r.Facts.InstanceType != "" {
		d.Log.Warn("sizing from MemTotal: "+r.Facts.MemoryNote, "instance_type", r.Facts.InstanceType, "memory_bytes", r.Facts.MemoryBytes)
	}
	if c.Policy != sizing.PolicyOff {
		if err := swap.RefuseForeign(settings(*c), obs); err != nil {
			return r, obs, err
		}
	}
	// Space this run may reuse: our current file and a temp file a killed run
	// left behind both count as available.
	current := obs.TempAllocated
	if obs.File.Header != nil {
		current += obs.File.Allocated
	}
	dec, err := sizing.Decide(sizing.Input{
		Policy: c.Policy, Ratio: c.Ratio, Fixed: c.Size, Min: c.Min, Max: c.Max, RAM: r.Facts.Memory, PageSize: obs.PageSize,
		Disk: sizing.DiskBudget{Available: obs.FS.Available, Current: current, Percent: c.DiskPercent, Reserve: c.DiskReserve},
	})
	r.Reasons = dec.Reasons
	r.Warnings = append(r.Warnings, dec.Warnings...)
	for _, w := range dec.Warnings {
		d.Log.Warn(w, "path", c.File)
	}
	if err != nil {
		return r, obs, err
	}
	p, err := swap.PlanApply(settings(*c), obs, dec.Size)
	r.Plan = &p
	r.Warnings = append(r.Warnings, p.Warnings...)
	for _, w := range p.Warnings {
		d.Log.Warn(w, "path", c.File)
	}
	for _, n := range p.Notes {
		d.Log.Info(n, "path", c.File)
	}
	return r, obs, err
}

// facts finds the instance type: SWAP_INSTANCE_TYPE, else the metadata
// service (per SWAP_IMDS), and applies tag overrides.
func facts(ctx context.Context, c *config.Config, d Deps, warnings *[]string) Facts {
	var f Facts
	if c.InstanceType != "" {
		f.InstanceType, f.TypeSource = c.InstanceType, "SWAP_INSTANCE_TYPE"
		if !c.Tags {
			f.MetadataNote = "not asked: SWAP_INSTANCE_TYPE is set"
			return f
		}
	}
	if c.IMDS == "off" {
		f.MetadataNote = "not asked: SWAP_IMDS=off"
		return f
	}
	ctx, cancel := context.WithTimeout(ctx, c.IMDSTimeout)
	defer cancel()
	m, err := d.FetchIMDS(ctx, imds.Options{Timeout: c.IMDSTimeout, Tags: c.Tags, Logger: d.Log})
	f.Metadata = m.Elapsed
	f.MetadataMS = float64(m.Elapsed.Microseconds()) / 1000
	if err != nil {
		f.MetadataNote = err.Error()
		if c.InstanceType == "" {
			msg := "metadata service unavailable; sizing from /proc/meminfo: " + err.Error()
			d.Log.Warn(msg, "elapsed_ms", f.MetadataMS)
			*warnings = append(*warnings, msg)
		}
		return f
	}
	if f.InstanceType == "" {
		f.InstanceType, f.TypeSource = m.InstanceType, "metadata service"
	}
	f.InstanceID, f.Region, f.AvailabilityZone, f.Architecture = m.InstanceID, m.Region, m.AvailabilityZone, m.Architecture
	f.MetadataNote = "asked " + m.Endpoint
	d.Log.Info("instance facts from the metadata service", "instance_type", m.InstanceType, "instance_id", m.InstanceID,
		"region", m.Region, "availability_zone", m.AvailabilityZone, "elapsed_ms", f.MetadataMS)
	if c.Tags {
		for _, w := range c.ApplyTags(m.Tags) {
			d.Log.Error(w)
			*warnings = append(*warnings, w)
		}
	}
	return f
}

func (r *Report) setMemory(m sizing.Memory) {
	r.Facts.Memory, r.Facts.MemoryBytes, r.Facts.MemorySource, r.Facts.MemoryNote = m, m.Bytes, m.Source, m.Note
}

func (r *Report) finish(start time.Time) {
	r.Elapsed = time.Since(start)
	r.ElapsedMS = float64(r.Elapsed.Microseconds()) / 1000
}

// Summary is the one line a person reads in cloud-init-output.log.
func (r Report) Summary(c config.Config) string {
	size := "no swapfile"
	if r.Plan != nil && r.Plan.Target > 0 {
		size = sizing.FormatSize(r.Plan.Target) + " swap"
	}
	typ := "instance type unknown"
	if r.Facts.InstanceType != "" {
		typ = r.Facts.InstanceType + " from " + r.Facts.TypeSource
	}
	return fmt.Sprintf("swap-bootstrap: %s %s (%s); RAM %s from %s (%s); policy %s; %.2fs",
		c.File, size, r.State, sizing.FormatSize(r.Facts.MemoryBytes), r.Facts.MemorySource, typ, r.Policy, r.Elapsed.Seconds())
}

// state names what happened to the swapfile, for the summary.
func state(p swap.Plan, o swap.Observation, err error) string {
	if err != nil {
		return "failed"
	}
	if p.Deferred != "" {
		return "active, resize deferred"
	}
	for _, a := range p.Actions {
		switch a.Kind {
		case swap.ActionCreate:
			return "active, created"
		case swap.ActionResize:
			return "active, resized"
		case swap.ActionReplace:
			return "active, replaced"
		case swap.ActionDelete:
			return "removed"
		case swap.ActionEnable:
			return "active, enabled"
		}
	}
	switch {
	case p.Target == 0 && !o.File.Exists:
		return "absent"
	case p.Changes():
		return "active, updated"
	case p.Target == 0:
		return "unchanged"
	}
	return "active, unchanged"
}

func settings(c config.Config) swap.Settings {
	return swap.Settings{File: c.File, Priority: c.Priority, Swappiness: c.Swappiness, SysctlFile: c.SysctlFile,
		Persist: c.Persist, Fstab: c.Fstab, Tolerance: c.Tolerance, Zero: c.Zero, Reserve: c.DiskReserve}
}

func paths(c config.Config) swap.Paths {
	return swap.Paths{File: c.File, Fstab: c.Fstab, Sysctl: c.SysctlFile}
}

// requireRoot checks for root and CAP_SYS_ADMIN (bit 21 of CapEff).
func requireRoot() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			var caps uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%x", &caps); err == nil && caps&(1<<21) == 0 {
				return ErrNotRoot
			}
		}
	}
	return nil
}
