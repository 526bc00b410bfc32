// Package fault names the places in a run where a crash test may stop the
// process: after the lock is taken, after each step of making a swapfile,
// around the swapoff of a resize, after an fstab temp file is written. Release
// builds compile every point to nothing (fault_off.go); test builds use
// `-tags faultpoints` (fault_on.go says how a point is armed).
package fault

// Point is one place a crash test can stop a run.
type Point string

// The points, in the order a run reaches them.
const (
	Locked          Point = "locked"            // the lock is held, nothing read yet
	Planned         Point = "planned"           // the plan is made, nothing changed yet
	TempCreated     Point = "temp-created"      // the new swapfile's temp file exists, empty
	ZeroChunk       Point = "zero-chunk"        // one chunk of zeros written (reached once per chunk)
	Allocated       Point = "allocated"         // its space is allocated
	HeaderWritten   Point = "header-written"    // the swap header is written, not yet synced
	Synced          Point = "synced"            // the temp file is complete and on disk
	OldOff          Point = "old-off"           // the old swapfile of a resize is off
	OldRemoved      Point = "old-removed"       // the old swapfile is deleted (resize on a tight disk)
	Committed       Point = "committed"         // the new file has its final name, inactive
	Enabled         Point = "enabled"           // swapon succeeded
	FileTempWritten Point = "file-temp-written" // an fstab/sysctl temp file is written, not renamed
)

// Points lists every fixed point; Before adds one per action kind.
var Points = []Point{Locked, Planned, TempCreated, ZeroChunk, Allocated, HeaderWritten, Synced,
	OldOff, OldRemoved, Committed, Enabled, FileTempWritten}

// Before is the point reached just before an action of kind (e.g. "create",
// "fstab-set") runs.
func Before(kind string) Point { return Point("before-" + kind) }
