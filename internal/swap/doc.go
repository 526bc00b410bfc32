// Package swap observes, plans and changes a machine's swapfile.
//
// It has three parts that never mix:
//
//   - Observe reads the machine through the System seam: /proc/swaps,
//     /proc/meminfo, vm.swappiness, fstab, the sysctl file, the filesystem
//     under SWAP_FILE (statfs), the file itself and its swap header. It only
//     records what it finds; it decides nothing and needs no root.
//   - The planner is pure: Refuse says whether SWAP_FILE may be touched at all,
//     PlanApply and PlanRemove turn an Observation and a target into a Plan,
//     a list of Actions with reasons. `plan` prints a Plan, `apply` executes
//     the same one.
//   - Execute carries out a Plan through the System seam, in order.
//
// The parsers (ParseProcSwaps, ParseMeminfo, ParseHeader, the fstab editor)
// are pure functions tested with literal fixtures. Everything that needs
// root or the kernel sits behind System; Kernel (Linux only) is the real
// implementation, and the root-only tests beside it run it on loop-mounted
// ext4, XFS and btrfs.
package swap
