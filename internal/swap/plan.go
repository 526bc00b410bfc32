package swap

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

// Settings are the parts of the configuration the engine acts on.
type Settings struct {
	File       string
	Priority   int // -1: the kernel's default
	Swappiness int // -1: leave vm.swappiness alone
	SysctlFile string
	Persist    bool // keep an fstab entry
	Fstab      string
	Tolerance  sizing.Tolerance
	Zero       bool // SWAP_ALLOCATE=zero
	// Zswap is what SWAP_ZSWAP* ask for; nil leaves zswap alone.
	Zswap *ZswapSettings
	// InstanceStore puts swap on free NVMe instance-store disks too
	// (SWAP_INSTANCE_STORE=prefer).
	InstanceStore bool
}

// Target is the swapfile the decision asks for.
type Target struct {
	Size int64 // bytes; 0 = no swapfile
	// BuildBeside: the disk holds a new file beside the current one
	// (sizing.DiskBudget.Beside), so a resize builds the new file first.
	BuildBeside bool
}

// ActionKind names a step of a plan.
type ActionKind string

// The steps a plan is made of.
const (
	ActionRemoveTemp  ActionKind = "remove-temp"  // a temp file left by a killed run
	ActionCreate      ActionKind = "create"       // make, rename into place, enable
	ActionResize      ActionKind = "resize"       // replace the file with one of another size
	ActionReplace     ActionKind = "replace"      // replace a file that cannot be adopted as it is
	ActionFixMode     ActionKind = "fix-mode"     // chown root, chmod 0600
	ActionEnable      ActionKind = "enable"       // swapon
	ActionDisable     ActionKind = "disable"      // swapoff
	ActionDelete      ActionKind = "delete"       // unlink
	ActionFstabSet    ActionKind = "fstab-set"    // write our fstab entry
	ActionFstabRemove ActionKind = "fstab-remove" // drop our fstab entry
	ActionSwappiness  ActionKind = "swappiness"   // set and persist vm.swappiness
	ActionPriority    ActionKind = "priority"     // swapoff, then swapon with SWAP_PRIORITY
	ActionZswap       ActionKind = "zswap"        // set zswap's parameters
	ActionDevice      ActionKind = "swap-device"  // (mkswap and) swapon an instance-store disk
)

// Action is one step, with the reason it is needed.
type Action struct {
	Kind   ActionKind `json:"action"`
	Path   string     `json:"path"`
	Size   int64      `json:"size_bytes,omitempty"`
	Reason string     `json:"reason"`
	// Replace and resize: build the new file beside the old one before the old
	// one goes off (the disk holds both), and whether the old one is active.
	PrepareFirst bool `json:"prepare_first,omitempty"`
	OldActive    bool `json:"old_active,omitempty"`
	// Zero: write zeros instead of fallocate.
	Zero bool `json:"zero_fill,omitempty"`
	// Format: write a swap header on the device first.
	Format  bool    `json:"format,omitempty"`
	Value   int     `json:"value,omitempty"`
	Params  []Param `json:"params,omitempty"` // kernel parameters to write, in order
	Content []byte  `json:"-"`                // new fstab or sysctl file bytes
}

// Plan is what apply or remove will do, and why. It is data: `plan` prints it,
// `apply` executes it.
type Plan struct {
	File     string   `json:"file"`
	Target   int64    `json:"target_bytes"`
	PageSize int64    `json:"page_size"`
	Actions  []Action `json:"actions"`
	Notes    []string `json:"notes"`
	// Deferred is set when a resize or replacement is held back to keep the
	// machine out of memory; the old file stays as it is.
	Deferred string `json:"deferred,omitempty"`
}

// Changes reports whether executing the plan changes anything.
func (p Plan) Changes() bool { return len(p.Actions) > 0 }

// PlanApply decides how to bring the machine to the target: one swapfile of
// t.Size bytes at s.File, or none. It is pure. Refuse must have passed.
func PlanApply(s Settings, o Observation, t Target) (Plan, error) {
	size := t.Size
	p := Plan{File: s.File, Target: size, PageSize: o.PageSize, Actions: []Action{}, Notes: []string{}}
	notOurs(&p, s, o)
	f := o.File
	if size == 0 {
		if f.Exists() && f.Header == nil {
			p.Notes = append(p.Notes, fmt.Sprintf("%s is not a swap area; left alone", s.File))
		} else if err := planRemoval(&p, s, o, "policy off"); err != nil {
			return p, err
		}
		planRemoveTemp(&p, s, o)
		planFstabRemove(&p, s, o)
		planSwappiness(&p, s, o)
		return p, nil
	}
	planZswap(&p, s, o)
	planRemoveTemp(&p, s, o)
	zero := s.Zero || (o.FS.Type == "xfs" && kernelBefore(o.KernelRelease, 4, 18))
	replace := func(kind ActionKind, why string) {
		if f.Active != nil {
			if err := checkSwapoff(string(kind), s.File, f.Active.Used, o.Mem.MemAvailable); err != nil {
				p.Deferred = err.Error()
				return
			}
		}
		p.Actions = append(p.Actions, Action{Kind: kind, Path: s.File, Size: size, Reason: why, Zero: zero,
			PrepareFirst: t.BuildBeside, OldActive: f.Active != nil})
	}
	switch {
	case !f.Exists():
		p.Actions = append(p.Actions, Action{Kind: ActionCreate, Path: s.File, Size: size, Zero: zero, Reason: "no swapfile yet"})
	case f.Header.PageSize != o.PageSize:
		replace(ActionReplace, fmt.Sprintf("swap header made for %d-byte pages; this kernel uses %d", f.Header.PageSize, o.PageSize))
	case f.UID != 0:
		replace(ActionReplace, fmt.Sprintf("owned by uid %d, who may hold it open and read swapped memory; a new root-owned file replaces it", f.UID))
	case !s.Tolerance.Within(f.Usable(), size):
		replace(ActionResize, fmt.Sprintf("%s is outside SWAP_TOLERANCE %s of the target", sizing.FormatSize(f.Usable()), s.Tolerance))
	default:
		if f.Mode != 0o600 || f.GID != 0 {
			p.Actions = append(p.Actions, Action{Kind: ActionFixMode, Path: s.File, Reason: fmt.Sprintf("mode %04o gid %d; swap must be readable by root only", f.Mode, f.GID)})
		}
		switch {
		case f.Active == nil:
			p.Actions = append(p.Actions, Action{Kind: ActionEnable, Path: s.File, Reason: "valid swap area, not active"})
		case s.Priority >= 0 && f.Active.Priority != s.Priority:
			// The kernel sets a priority at swapon only.
			if err := checkSwapoff("priority", s.File, f.Active.Used, o.Mem.MemAvailable); err != nil {
				p.Deferred = err.Error()
				break
			}
			p.Actions = append(p.Actions, Action{Kind: ActionPriority, Path: s.File, Value: s.Priority,
				Reason: fmt.Sprintf("active at priority %d, want %d (SWAP_PRIORITY)", f.Active.Priority, s.Priority)})
		default:
			p.Notes = append(p.Notes, fmt.Sprintf("swapfile %s already active at %s (target %s)", s.File, sizing.FormatSize(f.Usable()), sizing.FormatSize(size)))
		}
	}
	if s.Persist {
		want := SetFstabEntry(o.Fstab, s.File, FstabLine(s.File, s.Priority))
		if o.FstabMissing || !bytes.Equal(want, o.Fstab) {
			p.Actions = append(p.Actions, Action{Kind: ActionFstabSet, Path: s.Fstab, Content: want, Reason: "one entry: " + FstabLine(s.File, s.Priority)})
		}
	} else if want := RemoveMarkedFstabEntry(o.Fstab, s.File); s.Fstab != "" && !bytes.Equal(want, o.Fstab) {
		p.Actions = append(p.Actions, Action{Kind: ActionFstabRemove, Path: s.Fstab, Content: want,
			Reason: "SWAP_PERSIST=none: drop the entry swap-bootstrap wrote for " + s.File})
	}
	planInstanceStore(&p, s, o)
	planSwappiness(&p, s, o)
	return p, nil
}

// PlanRemove decides how to take our swapfile away: off, deleted, its fstab
// entry dropped. Refuse(IntentRemove) must have passed.
func PlanRemove(s Settings, o Observation) (Plan, error) {
	p := Plan{File: s.File, PageSize: o.PageSize, Actions: []Action{}, Notes: []string{}}
	if err := planRemoval(&p, s, o, "remove"); err != nil {
		return p, err
	}
	planRemoveTemp(&p, s, o)
	planFstabRemove(&p, s, o)
	return p, nil
}

// DeferredError means a swapoff was held back to keep the machine out of
// memory: the swap in use on the file exceeds MemAvailable, and swapoff must
// pull every used page back into memory, which past MemAvailable ends in the
// OOM killer.
type DeferredError struct {
	Action          string // what needed the swapoff: resize, replace, remove, policy off
	Path            string
	Used, Available int64
}

func (e *DeferredError) Error() string {
	return fmt.Sprintf("%s of %s deferred: %s of swap in use on it exceeds MemAvailable %s, and swapoff would have to pull it all back into memory; the file is kept as it is: free memory and run again (the boot unit retries at every boot)",
		e.Action, e.Path, sizing.FormatSize(e.Used), sizing.FormatSize(e.Available))
}

// checkSwapoff is the one MemAvailable rule: the planner applies it to what
// it observed, and the executor again right before the swapoff, because
// memory use can grow between the two.
func checkSwapoff(action, path string, used, available int64) error {
	if used > available {
		return &DeferredError{Action: action, Path: path, Used: used, Available: available}
	}
	return nil
}

func planRemoval(p *Plan, s Settings, o Observation, why string) error {
	f := o.File
	if !f.Exists() {
		p.Notes = append(p.Notes, fmt.Sprintf("no swapfile at %s", s.File))
		return nil
	}
	if f.Active != nil {
		if err := checkSwapoff(why, s.File, f.Active.Used, o.Mem.MemAvailable); err != nil {
			return err
		}
		p.Actions = append(p.Actions, Action{Kind: ActionDisable, Path: s.File, Reason: why})
	}
	p.Actions = append(p.Actions, Action{Kind: ActionDelete, Path: s.File, Reason: why})
	return nil
}

func planRemoveTemp(p *Plan, s Settings, o Observation) {
	if o.Temp.Exists() {
		p.Actions = append(p.Actions, Action{Kind: ActionRemoveTemp, Path: TempPath(s.File), Reason: "left by an interrupted run"})
	}
}

func planFstabRemove(p *Plan, s Settings, o Observation) {
	if s.Fstab == "" || o.FstabMissing {
		return
	}
	if want := RemoveFstabEntry(o.Fstab, s.File); !bytes.Equal(want, o.Fstab) {
		p.Actions = append(p.Actions, Action{Kind: ActionFstabRemove, Path: s.Fstab, Content: want, Reason: "drop the entry for " + s.File})
	}
}

func planSwappiness(p *Plan, s Settings, o Observation) {
	if s.Swappiness < 0 {
		return
	}
	want := SetSysctl(o.Sysctl, "vm.swappiness", strconv.Itoa(s.Swappiness))
	if o.Swappiness != s.Swappiness || o.SysctlMissing || !bytes.Equal(o.Sysctl, want) {
		p.Actions = append(p.Actions, Action{Kind: ActionSwappiness, Path: s.SysctlFile, Value: s.Swappiness, Content: want,
			Reason: fmt.Sprintf("vm.swappiness is %d, want %d (persisted in %s)", o.Swappiness, s.Swappiness, s.SysctlFile)})
	}
}

// notOurs reports other active swap: it is left alone, and the policy sizes
// our file regardless.
func notOurs(p *Plan, s Settings, o Observation) {
	for _, a := range o.Areas {
		if a.Filename != s.File {
			p.Notes = append(p.Notes, fmt.Sprintf("other swap active: %s (%s, %s, %s used, priority %d); left alone",
				a.Filename, a.Type, sizing.FormatSize(a.Size), sizing.FormatSize(a.Used), a.Priority))
		}
	}
}

// Usable is the swap size the kernel gets from the file: the header's, unless
// the file is shorter.
func (f FileState) Usable() int64 {
	if f.Header == nil {
		return f.Size
	}
	return min(f.Header.Size(), f.Size/f.Header.PageSize*f.Header.PageSize)
}

// kernelBefore reports whether a release such as "4.14.355-1.x86_64" is older
// than major.minor. An unparsable release counts as new.
func kernelBefore(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma < major || ma == major && mi < minor
}
