// Package sizing decides how big the swapfile should be. It is pure: memory,
// a policy, limits and the disk budget go in; a size and the reasons for it come
// out. Nothing here reads the machine.
package sizing

import (
	"fmt"
	"math"
	"strings"
)

// Policy names a sizing rule.
type Policy string

// The sizing policies. Each cites the table it follows.
const (
	PolicyRatio     Policy = "ratio"      // RAM × SWAP_RATIO
	PolicyAWS       Policy = "aws"        // AWS knowledge-center table
	PolicyRedHat    Policy = "redhat"     // RHEL storage guide, no hibernation
	PolicyUbuntu    Policy = "ubuntu"     // Ubuntu SwapFaq, no hibernation
	PolicyCloudInit Policy = "cloud-init" // cloud-init's `swap: size: auto`
	PolicyFixed     Policy = "fixed"      // SWAP_SIZE
	PolicyOff       Policy = "off"        // no swapfile
)

// Policies lists every policy in the order help shows them.
var Policies = []Policy{PolicyRatio, PolicyAWS, PolicyRedHat, PolicyUbuntu, PolicyCloudInit, PolicyFixed, PolicyOff}

// ParsePolicy accepts a policy name, case-insensitively.
func ParsePolicy(s string) (Policy, error) {
	p := Policy(strings.ToLower(strings.TrimSpace(s)))
	for _, q := range Policies {
		if p == q {
			return p, nil
		}
	}
	names := make([]string, len(Policies))
	for i, q := range Policies {
		names[i] = string(q)
	}
	return "", fmt.Errorf("not a policy; use one of %s", strings.Join(names, ", "))
}

// MinSize is the smallest swap area the kernel and mkswap accept: ten pages.
func MinSize(pageSize int64) int64 { return 10 * pageSize }

// Memory sources, as reported to the operator.
const (
	SourceTable    = "instance-type table"
	SourceMemTotal = "MemTotal"
)

// Memory is the RAM figure that sizes swap, and where it came from.
type Memory struct {
	Bytes  int64
	Source string // SourceTable or SourceMemTotal
	Note   string // why the source was chosen, when it is not the obvious one
}

// memLimitFraction: MemTotal below this share of the nominal size means the
// kernel was booted with a mem= limit (or the type is wrong). Nitro and Xen
// guests see 88–97% of nominal (kernel and firmware reservations), never below 80%.
const memLimitFraction = 0.75

// RAM picks the memory that sizes swap: the instance type's nominal memory when
// the type is known, else MemTotal. MemTotal moves between kernels and sits below
// the nominal size, so sizing from the type keeps the target stable across
// kernel upgrades; but a MemTotal far below nominal (a mem= limit) wins.
func RAM(instanceType string, memTotal int64) Memory {
	if instanceType == "" {
		return Memory{Bytes: memTotal, Source: SourceMemTotal, Note: "instance type unknown"}
	}
	it, ok := LookupInstanceType(instanceType)
	if !ok {
		return Memory{Bytes: memTotal, Source: SourceMemTotal,
			Note: fmt.Sprintf("instance type %q is not in the embedded table (%d types); regenerate it with internal/sizing/gen", instanceType, TableSize())}
	}
	if memTotal > 0 && float64(memTotal) < memLimitFraction*float64(it.Memory) {
		return Memory{Bytes: memTotal, Source: SourceMemTotal,
			Note: fmt.Sprintf("MemTotal %s is far below %s's nominal %s (a mem= limit?)", FormatSize(memTotal), it.Name, FormatSize(it.Memory))}
	}
	return Memory{Bytes: it.Memory, Source: SourceTable, Note: it.Name}
}

// NamedRAM is RAM for an instance type the operator named
// (SWAP_INSTANCE_TYPE): its nominal memory even where MemTotal is far below
// it, since naming the type says which machine to size for (a plan previewed
// on a smaller machine, an AMI built on another type). The disagreement is
// kept in Note.
func NamedRAM(instanceType string, memTotal int64) Memory {
	m := RAM(instanceType, memTotal)
	it, ok := LookupInstanceType(instanceType)
	if !ok || m.Source == SourceTable {
		return m
	}
	return Memory{Bytes: it.Memory, Source: SourceTable,
		Note: fmt.Sprintf("MemTotal %s is far below %s's nominal %s; sized for %s as SWAP_INSTANCE_TYPE says", FormatSize(memTotal), it.Name, FormatSize(it.Memory), it.Name)}
}

// DiskBudget is the space the swapfile may take on its filesystem. It is the
// one place the disk rules live: how big the file may be (Limit), and whether
// a new file fits beside the current one while that one still serves
// (Beside).
type DiskBudget struct {
	Available int64 // free space (statfs f_bavail: leaves the root-reserved blocks alone)
	Current   int64 // space held by our swapfile now; it counts as available
	Stale     int64 // space held by a temp file a killed run left; deleted first, so available
	Percent   int   // SWAP_DISK_PERCENT
	Reserve   int64 // SWAP_DISK_RESERVE
}

// usable is all the space the run may use: free, ours, and stale.
func (b DiskBudget) usable() int64 { return b.Available + b.Current + b.Stale }

// Limit is the largest swapfile the budget allows: at most Percent of the
// usable space, and never eating into Reserve.
func (b DiskBudget) Limit() int64 {
	avail := b.usable()
	pct := int64(b.Percent)
	limit := avail/100*pct + avail%100*pct/100 // exact, without overflowing on huge disks
	if r := avail - b.Reserve; r < limit {
		limit = r
	}
	return max(limit, 0)
}

// Beside reports whether a new file of size bytes fits while the current one
// still takes its space, without eating into Reserve: then a resize builds
// the new file completely before the old one goes off.
func (b DiskBudget) Beside(size int64) bool {
	return b.Available+b.Stale-b.Reserve >= size
}

func (b DiskBudget) String() string {
	return fmt.Sprintf("%d%% of %s available, keeping %s free", b.Percent, FormatSize(b.usable()), FormatSize(b.Reserve))
}

// Input is everything a decision depends on.
type Input struct {
	Policy   Policy
	Ratio    float64 // for PolicyRatio
	Fixed    int64   // for PolicyFixed
	Min, Max int64   // 0 = unset
	RAM      Memory
	Disk     DiskBudget
	PageSize int64
}

// Decision is the size the swapfile should have and why.
type Decision struct {
	Size     int64    // 0 = no swapfile
	Wanted   int64    // the policy's size after SWAP_MIN/SWAP_MAX, before the disk budget
	Reasons  []string // how the size was reached, in order
	Warnings []string // things the operator should act on
}

// ShortfallError means the disk cannot hold even the smallest acceptable file.
type ShortfallError struct {
	Need, Limit int64
	Budget      DiskBudget
}

func (e *ShortfallError) Error() string {
	return fmt.Sprintf("not enough disk for swap: the smallest acceptable file is %s but the budget allows %s (%s); free space, lower SWAP_MIN, or raise SWAP_DISK_PERCENT / lower SWAP_DISK_RESERVE",
		FormatSize(e.Need), FormatSize(e.Limit), e.Budget)
}

// TooSmallError means the policy's size, after SWAP_MIN/SWAP_MAX, is below
// the smallest swap area: bad configuration, never "no swap".
type TooSmallError struct {
	Size, Min int64
	Reasons   []string
}

func (e *TooSmallError) Error() string {
	return fmt.Sprintf("%s gives %s, which is below the smallest swap area, %s (ten pages); set SWAP_MIN to %s or more, or SWAP_POLICY=off for no swap",
		strings.Join(e.Reasons, ", "), FormatSize(e.Size), FormatSize(e.Min), FormatSize(e.Min))
}

// Decide applies the policy, then SWAP_MIN/SWAP_MAX, then the disk budget.
func Decide(in Input) (Decision, error) {
	var d Decision
	if in.Policy == PolicyOff {
		d.Reasons = append(d.Reasons, "policy off: no swapfile")
		return d, nil
	}
	want, why := policySize(in)
	d.Reasons = append(d.Reasons, why)
	if in.Min > 0 && want < in.Min {
		want = in.Min
		d.Reasons = append(d.Reasons, "raised to SWAP_MIN "+FormatSize(in.Min))
	}
	if in.Max > 0 && want > in.Max {
		want = in.Max
		d.Reasons = append(d.Reasons, "capped at SWAP_MAX "+FormatSize(in.Max))
	}
	d.Wanted = want
	if want < MinSize(in.PageSize) {
		return d, &TooSmallError{Size: want, Min: MinSize(in.PageSize), Reasons: d.Reasons}
	}
	size := roundDown(want, in.PageSize)

	floor := max(in.Min, MinSize(in.PageSize))
	if limit := roundDown(in.Disk.Limit(), in.PageSize); size > limit {
		if limit < floor {
			return d, &ShortfallError{Need: floor, Limit: limit, Budget: in.Disk}
		}
		d.Warnings = append(d.Warnings, fmt.Sprintf("disk budget cuts swap from %s to %s (%s); free space or adjust SWAP_DISK_PERCENT / SWAP_DISK_RESERVE",
			FormatSize(size), FormatSize(limit), in.Disk))
		size = limit
	}
	d.Size = size
	return d, nil
}

func policySize(in Input) (int64, string) {
	r := in.RAM.Bytes
	rs := FormatSize(r)
	switch in.Policy {
	case PolicyFixed:
		return in.Fixed, "policy fixed: SWAP_SIZE " + FormatSize(in.Fixed)
	case PolicyAWS:
		switch {
		case r <= 2*GiB:
			return 2 * r, fmt.Sprintf("policy aws: RAM %s ≤ 2 GiB → 2 × RAM", rs)
		case r < 32*GiB:
			return 4*GiB + (r - 2*GiB), fmt.Sprintf("policy aws: RAM %s between 2 and 32 GiB → 4 GiB + (RAM − 2 GiB)", rs)
		default:
			return r, fmt.Sprintf("policy aws: RAM %s ≥ 32 GiB → RAM", rs)
		}
	case PolicyRedHat:
		switch {
		case r <= 2*GiB:
			return 2 * r, fmt.Sprintf("policy redhat: RAM %s ≤ 2 GiB → 2 × RAM", rs)
		case r <= 8*GiB:
			return r, fmt.Sprintf("policy redhat: RAM %s ≤ 8 GiB → RAM", rs)
		default:
			return 4 * GiB, fmt.Sprintf("policy redhat: RAM %s > 8 GiB → 4 GiB", rs)
		}
	case PolicyUbuntu:
		g := max(sqrtGiB(r), 1)
		return g * GiB, fmt.Sprintf("policy ubuntu: round(√RAM) with RAM %s, at least 1 GiB", rs)
	case PolicyCloudInit:
		switch {
		case r < 4*GiB:
			return r, fmt.Sprintf("policy cloud-init: RAM %s < 4 GiB → RAM", rs)
		case r < 16*GiB:
			return 4 * GiB, fmt.Sprintf("policy cloud-init: RAM %s < 16 GiB → 4 GiB", rs)
		default:
			return sqrtGiB(r) * GiB, fmt.Sprintf("policy cloud-init: RAM %s ≥ 16 GiB → round(√RAM)", rs)
		}
	default: // PolicyRatio
		return int64(math.Round(float64(r) * in.Ratio)), fmt.Sprintf("policy ratio: %s × RAM %s", formatRatio(in.Ratio), rs)
	}
}

// sqrtGiB is round(√(r in GiB)), in GiB.
func sqrtGiB(r int64) int64 {
	return int64(math.Round(math.Sqrt(float64(r) / float64(GiB))))
}

func formatRatio(f float64) string { return strings.TrimSuffix(fmt.Sprintf("%.3g", f), ".0") }

// roundDown rounds to whole MiB when the size is at least 1 MiB (tidy numbers
// in /proc/swaps), else to whole pages; swap areas are counted in pages.
func roundDown(b, pageSize int64) int64 {
	unit := MiB
	if b < MiB || pageSize > MiB {
		unit = pageSize
	}
	if unit <= 0 {
		unit = 4 * KiB
	}
	return b / unit * unit
}
