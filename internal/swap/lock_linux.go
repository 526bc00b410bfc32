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

// Lock implements System: an exclusive flock on path so only one run changes swap at a
// time (an Elastic Beanstalk hook and the boot unit can race on first deploy).
// It waits up to wait, then fails naming the holder. The lock dies with the
// process, so a killed run never leaves it stuck.
func (k *Kernel) Lock(path string, wait time.Duration) (release func(), err error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %q: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			holder := make([]byte, 32)
			n, _ := unix.Pread(fd, holder, 0)
			unix.Close(fd)
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, fmt.Errorf("another swap-bootstrap run (pid %s) holds %s; waited %s: try again when it finishes",
					strings.TrimSpace(string(holder[:max(n, 0)])), path, wait)
			}
			return nil, fmt.Errorf("lock %q: %w", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	unix.Ftruncate(fd, 0)
	unix.Pwrite(fd, []byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { unix.Close(fd) }, nil
}
