package swap

import (
	"fmt"
	"strings"
)

// RefusalError means the configuration points at something swap-bootstrap will
// not touch; nothing was changed. The command exits 2.
type RefusalError struct{ Msg string }

func (e *RefusalError) Error() string { return e.Msg }

func refuse(format string, a ...any) error { return &RefusalError{Msg: fmt.Sprintf(format, a...)} }

// swapCapable are the filesystems whose swapfile support the kernel has
// (ext2/3/4 share a magic; XFS and btrfs with caveats handled elsewhere).
var swapCapable = map[string]bool{"ext4": true, "xfs": true, "btrfs": true, "f2fs": true}

// Intent is what the run means to do with SWAP_FILE.
type Intent int

// The intents Refuse knows.
const (
	// IntentKeep: make, adopt or resize a swapfile at SWAP_FILE.
	IntentKeep Intent = iota
	// IntentOff: policy off; remove our swapfile if there is one.
	IntentOff
	// IntentRemove: `swap-bootstrap remove`.
	IntentRemove
)

// Refuse says why SWAP_FILE must not be touched for intent, as a
// *RefusalError, or returns nil. It is the only place these rules live; it
// runs once, before anything is sized or planned.
func Refuse(path string, o Observation, intent Intent) error {
	switch {
	case !o.SwapSupported:
		return refuse("%s is missing: this kernel was built without swap support (CONFIG_SWAP); there is nothing swap-bootstrap can do here", ProcSwaps)
	case !o.Dir.Exists:
		return refuse("SWAP_FILE=%q: directory %q does not exist; create it or choose another path", path, o.Dir.Path)
	case o.Dir.Real != o.Dir.Path:
		return refuse("SWAP_FILE=%q: %q is reached through a symlink (it resolves to %q); refusing to follow it: set SWAP_FILE to the real path", path, o.Dir.Path, o.Dir.Real)
	case o.Dir.Unmounted != "":
		return refuse("SWAP_FILE=%q: %s is in fstab but not mounted, so the file would land on the filesystem below it; mount %s (and order the boot unit after it: RequiresMountsFor=%s in a drop-in), or set SWAP_FILE elsewhere",
			path, o.Dir.Unmounted, o.Dir.Unmounted, o.Dir.Unmounted)
	case !swapCapable[o.FS.Type]:
		return refuse("SWAP_FILE=%q is on %s, which cannot hold a swapfile; set SWAP_FILE to a path on the root disk (ext4, XFS or btrfs)", path, o.FS.Type)
	case o.FS.Type == "btrfs" && o.FS.Devices > 1:
		return refuse("SWAP_FILE=%q is on a btrfs filesystem with %d devices; btrfs swapfiles need a single device: set SWAP_FILE to a single-device filesystem", path, o.FS.Devices)
	case o.FS.Type == "btrfs" && o.FS.Compressed:
		return refuse("SWAP_FILE=%q: directory %q has btrfs compression set, and btrfs cannot swap on compressed files; run `chattr -c %s` or set SWAP_FILE elsewhere", path, o.Dir.Path, o.Dir.Path)
	}
	if o.FS.ReadOnly && (intent != IntentOff || o.File.Exists()) {
		return refuse("SWAP_FILE=%q is on a read-only filesystem; remount %s read-write, or set SWAP_FILE to a path on a writable filesystem", path, o.Dir.Path)
	}
	switch o.Temp.Kind {
	case KindNone, KindRegular, KindSymlink: // a stale temp file, or a symlink that is unlinked, never followed
	default:
		return refuse("SWAP_FILE=%q: %q is a %s; swap-bootstrap builds new swapfiles under that name and did not make it: move it away", path, TempPath(path), o.Temp.Kind)
	}
	f := o.File
	switch f.Kind {
	case KindNone, KindRegular:
	case KindSymlink:
		return refuse("SWAP_FILE=%q is a symlink; refusing to follow it: set SWAP_FILE to the real path", path)
	case KindDir:
		return refuse("SWAP_FILE=%q is a directory; set SWAP_FILE to a file path such as %s/swapfile", path, strings.TrimSuffix(path, "/"))
	default:
		return refuse("SWAP_FILE=%q is a %s, not a regular file; swap-bootstrap manages swapfiles only", path, f.Kind)
	}
	if f.HeaderDenied {
		return fmt.Errorf("SWAP_FILE=%q: cannot read its header without root to tell whether it is a swap area; run as root (sudo)", path)
	}
	if intent == IntentKeep && f.Links > 1 {
		return refuse("SWAP_FILE=%q has %d hard links: the kernel will not replace a swapfile that has other names, and they would keep its data on disk; remove the other links (find / -xdev -samefile %s) or set SWAP_FILE elsewhere", path, f.Links, path)
	}
	if f.Exists() && f.Header == nil {
		switch intent {
		case IntentKeep:
			return refuse("SWAP_FILE=%q exists and is not a swap area (no swap signature); refusing to overwrite it: move it away or set SWAP_FILE to another path", path)
		case IntentRemove:
			return refuse("SWAP_FILE=%q is not a swap area; refusing to remove it", path)
		}
	}
	return nil
}
