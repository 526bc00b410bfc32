package swap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"syscall"

	"github.com/soundhub/swap-bootstrap/internal/fault"
)

// Execute carries out a plan through sys, in order, stopping at the first
// failure. Every step leaves a state the next run converges from.
func Execute(ctx context.Context, p Plan, s Settings, sys System, log *slog.Logger) error {
	for _, a := range p.Actions {
		fault.At(fault.Before(string(a.Kind)))
		log.Info("step", "action", string(a.Kind), "path", a.Path, "size_bytes", a.Size, "reason", a.Reason)
		if err := execute(ctx, p, a, s, sys, log); err != nil {
			return err
		}
	}
	return nil
}

func execute(ctx context.Context, p Plan, a Action, s Settings, sys System, log *slog.Logger) error {
	switch a.Kind {
	case ActionRemoveTemp:
		return sys.Remove(a.Path)
	case ActionCreate:
		if err := sys.MakeSwapfile(ctx, a.Path, a.Size, p.PageSize, a.Zero); err != nil {
			return err
		}
		if err := commit(a.Path, false, sys); err != nil {
			return err
		}
		fault.At(fault.Committed)
		return enable(ctx, a, s, sys, log)
	case ActionResize, ActionReplace:
		if a.PrepareFirst {
			// The slow part happens while the old file still serves.
			if err := sys.MakeSwapfile(ctx, a.Path, a.Size, p.PageSize, a.Zero); err != nil {
				return err
			}
			// The kernel refuses to rename or unlink an active swapfile
			// (IS_SWAPFILE in may_delete), so the old one goes off first.
			if a.OldActive {
				if err := guardedSwapoff(string(a.Kind), a.Path, sys); err != nil {
					sys.Remove(TempPath(a.Path))
					return err
				}
				fault.At(fault.OldOff)
			}
			if err := commit(a.Path, true, sys); err != nil {
				return err
			}
			fault.At(fault.Committed)
			return enable(ctx, a, s, sys, log)
		}
		if a.OldActive {
			if err := guardedSwapoff(string(a.Kind), a.Path, sys); err != nil {
				return err
			}
		}
		fault.At(fault.OldOff)
		if err := sys.Remove(a.Path); err != nil {
			return err
		}
		fault.At(fault.OldRemoved)
		if err := sys.MakeSwapfile(ctx, a.Path, a.Size, p.PageSize, a.Zero); err != nil {
			return err
		}
		if err := commit(a.Path, false, sys); err != nil {
			return err
		}
		fault.At(fault.Committed)
		return enable(ctx, a, s, sys, log)
	case ActionFixMode:
		return sys.FixOwnerMode(a.Path)
	case ActionEnable:
		return enable(ctx, a, s, sys, log)
	case ActionDisable:
		return guardedSwapoff(a.Reason, a.Path, sys)
	case ActionDevice:
		if a.Format {
			if err := sys.MakeSwapDevice(a.Path, a.Size, p.PageSize); err != nil {
				return err
			}
		}
		return swapon(a.Path, a.Value, sys)
	case ActionZswap:
		// zswap only speeds swap up: a parameter this kernel refuses (a
		// compressor it lacks) is a warning, and the swapfile is still made.
		for _, pr := range a.Params {
			if err := sys.SetParam(pr.Path, pr.Value); err != nil {
				log.Warn("zswap parameter not set; zswap keeps its current value", "param", pr.Path, "value", pr.Value, "error", err.Error())
			}
		}
		return nil
	case ActionPriority:
		if err := guardedSwapoff("priority", a.Path, sys); err != nil {
			return err
		}
		return enable(ctx, a, s, sys, log)
	case ActionDelete:
		return sys.Remove(a.Path)
	case ActionFstabSet, ActionFstabRemove:
		if err := sys.WriteFile(a.Path, a.Content, 0o644); err != nil {
			return fmt.Errorf("%w; fix the file or set SWAP_PERSIST=none (the boot unit re-enables swap on every boot)", err)
		}
		return nil
	case ActionSwappiness:
		if err := sys.SetParam(ProcSwappiness, strconv.Itoa(a.Value)); err != nil {
			return err
		}
		return sys.WriteFile(a.Path, a.Content, 0o644)
	}
	return fmt.Errorf("unknown action %q", a.Kind)
}

// commit renames the new swapfile into place; when that fails the complete
// temp file is deleted, so no error leaves a full-size file behind.
func commit(path string, replace bool, sys System) error {
	err := sys.Commit(path, replace)
	if err != nil {
		if rerr := sys.Remove(TempPath(path)); rerr != nil {
			return fmt.Errorf("%w (and the temp file could not be deleted: %v)", err, rerr)
		}
	}
	return err
}

// enable turns the swapfile on and confirms it in /proc/swaps. The kernel
// answers EINVAL for a file with unwritten extents it cannot swap on (XFS
// before Linux 4.18, some other filesystems): then zeros are written over the
// data pages and swapon is tried once more.
func enable(ctx context.Context, a Action, s Settings, sys System, log *slog.Logger) error {
	err := sys.Swapon(a.Path, s.Priority)
	if errors.Is(err, syscall.EINVAL) && !a.Zero {
		log.Warn("kernel rejected the fallocated file; writing zeros and retrying", "path", a.Path, "error", err.Error())
		if err = sys.ZeroFill(ctx, a.Path); err == nil {
			err = sys.Swapon(a.Path, s.Priority)
		}
	}
	if err != nil {
		return fmt.Errorf("swapon %q: %w", a.Path, err)
	}
	fault.At(fault.Enabled)
	return listed(a.Path, sys)
}

// swapon turns path on at priority and confirms it in /proc/swaps.
func swapon(path string, priority int, sys System) error {
	if err := sys.Swapon(path, priority); err != nil {
		return fmt.Errorf("swapon %q: %w", path, err)
	}
	return listed(path, sys)
}

// listed confirms that the kernel lists path as swap.
func listed(path string, sys System) error {
	b, err := sys.ReadFile(ProcSwaps)
	if err != nil {
		return fmt.Errorf("read %s: %w", ProcSwaps, err)
	}
	areas, err := ParseProcSwaps(b)
	if err != nil {
		return err
	}
	if _, ok := FindArea(areas, path); ok {
		return nil
	}
	return fmt.Errorf("swapon %q succeeded but it is not listed in %s", path, ProcSwaps)
}

// guardedSwapoff turns path off unless the swap in use on it exceeds
// MemAvailable right now: the planner checked the same rule against what it
// observed, but memory use can grow between planning and this moment.
func guardedSwapoff(action, path string, sys System) error {
	b, err := sys.ReadFile(ProcSwaps)
	if err != nil {
		return fmt.Errorf("read %s: %w", ProcSwaps, err)
	}
	areas, err := ParseProcSwaps(b)
	if err != nil {
		return err
	}
	if b, err = sys.ReadFile(ProcMeminfo); err != nil {
		return fmt.Errorf("read %s: %w", ProcMeminfo, err)
	}
	mem, err := ParseMeminfo(b)
	if err != nil {
		return err
	}
	if ar, ok := FindArea(areas, path); ok {
		if err := checkSwapoff(action, path, ar.Used, mem.MemAvailable); err != nil {
			return err
		}
	}
	if err := sys.Swapoff(path); err != nil {
		return fmt.Errorf("swapoff %q: %w", path, err)
	}
	return nil
}
