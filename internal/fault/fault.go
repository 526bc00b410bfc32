//go:build !faultpoints

// Package fault holds test-only fault points: named places in a run where a
// crash test can kill the process or pause it to change the machine under
// it. Release builds compile every point to nothing; test builds use
// `-tags faultpoints` (see fault_on.go for how a point is armed).
package fault

// Point marks a place a crash test may stop at. No-op in release builds.
func Point(string) {}

// Meminfo is the path /proc/meminfo is read from. Always /proc/meminfo in
// release builds.
func Meminfo() string { return "/proc/meminfo" }
