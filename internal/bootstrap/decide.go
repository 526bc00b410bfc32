package bootstrap

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/sizing"
	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// Decision is every choice a run makes, and why: the memory that sizes swap,
// the size, and what the operator should know. Decide makes it; the report
// and the log are built from it.
type Decision struct {
	Policy   sizing.Policy
	Sources  map[string]string
	Memory   sizing.Memory
	Budget   sizing.DiskBudget
	Reasons  []string // how the size was reached, in order
	Warnings []string // what the operator should act on, each once
	// InvalidTags are instance tags that were ignored (logged at error level).
	InvalidTags []string
}

// Decide makes every choice of apply and plan from the final configuration,
// the instance facts and the observed machine: the memory that sizes swap,
// the refusals, the policy's size, the disk budget, and the plan (create,
// adopt, resize, enable, remove). It is pure: no I/O, no logging, no clock.
func Decide(c config.Config, f Facts, o swap.Observation) (Decision, swap.Plan, error) {
	d := Decision{Policy: c.Policy, Sources: c.Sources, InvalidTags: f.InvalidTags, Warnings: slices.Clone(c.Notes)}
	if c.IMDS == "required" && f.InstanceType == "" {
		return d, swap.Plan{}, fmt.Errorf("SWAP_IMDS=required but the instance type could not be read: %s", f.MetadataNote)
	}
	d.Memory = memory(f, o)
	if c.Policy != sizing.PolicyOff {
		if err := kubeletRefuses(c, o); err != nil {
			return d, swap.Plan{}, err
		}
		if why := hibernating(c, f, o); why != "" {
			return noSwapfile(c, d, o, why)
		}
	}
	intent := swap.IntentKeep
	if c.Policy == sizing.PolicyOff {
		intent = swap.IntentOff
	}
	if err := swap.Refuse(c.File, o, intent); err != nil {
		return d, swap.Plan{}, err
	}

	// A boot that could not learn what sizes swap keeps a valid swapfile as
	// it is: resizing it from a fallback would rebuild it now and back again
	// at the next good boot, each time before Docker.
	why := degraded(c, f)
	if why != "" && o.File.Header != nil {
		keep := o.File.Usable()
		d.Reasons = []string{"kept as it is: " + why}
		d.Warnings = append(d.Warnings, fmt.Sprintf("keeping %s at %s as it is: %s; a boot that learns them sizes it (a fallback size is only used to make a swapfile where there is none)",
			c.File, sizing.FormatSize(keep), why))
		p, err := swap.PlanApply(settings(c), o, swap.Target{Size: keep})
		if p.Deferred != "" {
			d.Warnings = append(d.Warnings, p.Deferred)
		}
		return d, p, err
	}
	d.Warnings = append(d.Warnings, factWarnings(c, f, o, d.Memory)...)

	current, stale := o.Reusable()
	d.Budget = sizing.DiskBudget{Available: o.FS.Available, Current: current, Stale: stale, Percent: c.DiskPercent, Reserve: c.DiskReserve}
	size, err := sizing.Decide(sizing.Input{Policy: c.Policy, Ratio: c.Ratio, Fixed: c.Size, Min: c.Min, Max: c.Max,
		RAM: d.Memory, PageSize: o.PageSize, Disk: d.Budget})
	d.Reasons = size.Reasons
	d.Warnings = append(d.Warnings, size.Warnings...)
	var small *sizing.TooSmallError
	if errors.As(err, &small) {
		// Bad configuration, exit 2: a tiny result must never mean no swap.
		return d, swap.Plan{}, &config.Error{Problems: []string{small.Error()}}
	}
	if err != nil {
		return d, swap.Plan{}, err
	}
	p, err := swap.PlanApply(settings(c), o, swap.Target{Size: size.Size, BuildBeside: d.Budget.Beside(size.Size)})
	if p.Deferred != "" {
		d.Warnings = append(d.Warnings, p.Deferred)
	}
	if it, ok := sizing.LookupInstanceType(f.InstanceType); ok && it.InstanceStorageGB > 0 && !c.InstanceStore && err == nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s has %d GB of instance storage: SWAP_INSTANCE_STORE=prefer would put swap on it when it is NVMe and free, ahead of the EBS swapfile",
			it.Name, it.InstanceStorageGB))
	}
	return d, p, err
}

// factWarnings says what the operator should know about the facts this
// decision stands on: what could not be learnt, and what it fell back to.
func factWarnings(c config.Config, f Facts, o swap.Observation, m sizing.Memory) []string {
	var w []string
	if f.TagsFailed != "" {
		w = append(w, "instance tags could not be read ("+f.TagsFailed+"); sizing from the variables alone")
	}
	if c.Zswap == "on" && !o.Zswap.Supported && c.Policy != sizing.PolicyOff {
		w = append(w, "this kernel has no zswap ("+swap.ZswapDir+" is missing): swap works without the compressed cache")
	}
	if f.MetadataFailed != "" && f.InstanceType == "" {
		w = append(w, "metadata service unavailable; sizing from /proc/meminfo: "+f.MetadataFailed)
	}
	if f.InstanceType != "" && m.Source == sizing.SourceMemTotal {
		w = append(w, "sizing from MemTotal: "+m.Note)
	}
	if m.Source == sizing.SourceTable && m.Note != f.InstanceType {
		w = append(w, m.Note) // a named type that MemTotal disagrees with
	}
	return w
}

// memory is the RAM that sizes swap: a type the operator named is taken at
// its word; one learnt from the metadata service yields to a MemTotal far
// below it (a mem= limit).
func memory(f Facts, o swap.Observation) sizing.Memory {
	if f.TypeSource == "SWAP_INSTANCE_TYPE" {
		return sizing.NamedRAM(f.InstanceType, o.Mem.MemTotal)
	}
	return sizing.RAM(f.InstanceType, o.Mem.MemTotal)
}

// kubeletRefuses is the Kubernetes rule: kubelet checks /proc/swaps once at
// startup and exits unless its configuration says failSwapOn: false, so swap
// on such a node keeps it from ever becoming Ready (awslabs/amazon-eks-ami
// #1868). No swap is made or enabled there unless kubelet allows it.
func kubeletRefuses(c config.Config, o swap.Observation) error {
	k := o.Kubelet
	if !k.Present || k.SwapAllowed || c.Kubelet == "ignore" {
		return nil
	}
	msg := fmt.Sprintf("kubelet is installed (%s) and would refuse to start with swap on: %s. No swap was made or enabled. "+
		"To give this node swap, allow it in kubelet's configuration: failSwapOn: false, and memorySwap.swapBehavior: LimitedSwap "+
		"for pods to use it (cgroup v2; see README, \"Kubernetes nodes\"); if kubelet never runs on this machine, set SWAP_KUBELET=ignore",
		k.Evidence, k.Why)
	if a := o.File.Active; a != nil {
		msg += fmt.Sprintf(". %s is active now: kubelet fails at its next start; run `swap-bootstrap remove` or allow swap", c.File)
	}
	return &swap.RefusalError{Msg: msg}
}

// hibernating says why this instance is set up to hibernate, or "" (or when
// SWAP_HIBERNATION=ignore). hibinit-agent makes its own /swap for the
// hibernation image, and hibernation fails while other swap is active,
// whatever the priorities (amazon-ec2-hibinit-agent #20, #51).
func hibernating(c config.Config, f Facts, o swap.Observation) string {
	if c.Hibernation == "ignore" {
		return ""
	}
	var signs []string
	if f.Hibernation == "true" {
		signs = append(signs, "the metadata service says hibernation/configured=true")
	}
	signs = append(signs, o.Hibernation...)
	return strings.Join(signs, "; ")
}

// noSwapfile is the decision on an instance that must not get our swap: no
// swapfile is made, an existing one is left as it is, and the run says why.
func noSwapfile(c config.Config, d Decision, o swap.Observation, why string) (Decision, swap.Plan, error) {
	d.Reasons = []string{"no swapfile: hibernation is configured"}
	d.Warnings = append(d.Warnings, fmt.Sprintf("hibernation is configured for this instance (%s): hibinit-agent keeps /swap for the hibernation image, "+
		"and hibernation fails while other swap is active; no swapfile made (SWAP_HIBERNATION=ignore makes one anyway)", why))
	if o.File.Active != nil {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s is active and will keep hibernation from working; `swap-bootstrap remove` takes it away", c.File))
	}
	p := swap.Plan{File: c.File, PageSize: o.PageSize, Actions: []swap.Action{}, Notes: []string{}}
	return d, p, nil
}

// degraded says why this boot cannot trust its target size, or "": the
// instance tags were asked for and not read, or the metadata service did not
// answer and the policy sizes from RAM.
func degraded(c config.Config, f Facts) string {
	switch {
	case c.Tags && f.TagsFailed != "":
		return "instance tags could not be read (" + f.TagsFailed + ")"
	case f.InstanceType == "" && f.MetadataFailed != "" && c.Policy != sizing.PolicyFixed && c.Policy != sizing.PolicyOff:
		return "the metadata service did not answer (" + f.MetadataFailed + "), so the instance type, which sizes swap, is unknown"
	}
	return ""
}

// DecideRemove decides what `remove` does: our swapfile off and deleted, its
// fstab entry dropped. It is pure.
func DecideRemove(c config.Config, o swap.Observation) (Decision, swap.Plan, error) {
	d := Decision{Policy: c.Policy, Sources: c.Sources}
	if err := swap.Refuse(c.File, o, swap.IntentRemove); err != nil {
		return d, swap.Plan{}, err
	}
	p, err := swap.PlanRemove(settings(c), o)
	return d, p, err
}

func settings(c config.Config) swap.Settings {
	s := swap.Settings{File: c.File, Priority: c.Priority, Swappiness: c.Swappiness, SysctlFile: c.SysctlFile,
		Persist: c.Persist, Fstab: c.Fstab, Tolerance: c.Tolerance, Zero: c.Zero, InstanceStore: c.InstanceStore}
	if c.Zswap != "keep" {
		s.Zswap = &swap.ZswapSettings{Enabled: c.Zswap == "on", Compressor: c.ZswapComp, MaxPoolPercent: c.ZswapPool}
	}
	return s
}

func paths(c config.Config) swap.Paths {
	return swap.Paths{File: c.File, Fstab: c.Fstab, Sysctl: c.SysctlFile, InstanceStore: c.InstanceStore}
}
