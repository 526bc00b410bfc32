package swap

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Lock implements System: an exclusive flock on path, so only one run
// changes swap at a time (an Elastic Beanstalk hook and the boot unit can
// race on first deploy). It waits up to wait, then fails naming the process
// that holds the lock. The lock dies with the process, so a killed run never
// leaves it stuck.
//
// The file is opened read-only, created (0600) when missing, never
// truncated and never written: SWAP_LOCK_FILE may name a file swap-bootstrap
// does not own, and flock needs no write access. A symlink is not followed.
func (k *Kernel) Lock(path string, wait time.Duration) (release func(), err error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("lock file SWAP_LOCK_FILE=%q is a symlink; refusing to follow it: set SWAP_LOCK_FILE to a plain path such as /run/swap-bootstrap.lock", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open lock file SWAP_LOCK_FILE=%q: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Close(fd) }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer unix.Close(fd)
	if !errors.Is(err, unix.EWOULDBLOCK) {
		return nil, fmt.Errorf("lock %q: %w", path, err)
	}
	who := "another process"
	if pid := lockHolder(fd); pid > 0 {
		who = "pid " + strconv.Itoa(pid)
		if cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); err == nil {
			who += " (" + strings.TrimSpace(string(cmd)) + ")"
		}
	}
	return nil, fmt.Errorf("another swap-bootstrap run holds %s: %s; waited %s (SWAP_LOCK_TIMEOUT): try again when it finishes", path, who, wait)
}

// lockHolder finds the process holding a flock on fd's file in /proc/locks
// ("1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"), 0 when unknown.
func lockHolder(fd int) int {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return 0
	}
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0
	}
	id := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[1] == "FLOCK" && f[5] == id {
			if pid, err := strconv.Atoi(f[4]); err == nil {
				return pid
			}
		}
	}
	return 0
}
