//go:build faultpoints

// The armed fault points of test builds (-tags faultpoints):
//
//	SWAP_BOOTSTRAP_FAULT=name[:n]       the nth arrival (default 1st) at point name...
//	SWAP_BOOTSTRAP_FAULT_ACTION=kill    ...SIGKILLs the process (default), or
//	SWAP_BOOTSTRAP_FAULT_ACTION=wait    ...creates SWAP_BOOTSTRAP_FAULT_FILE and waits until the test deletes it
package fault

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	mu     sync.Mutex
	counts = map[string]int{}
)

// At stops the process here when the test armed this point.
func At(p Point) {
	name := string(p)
	want, nth := os.Getenv("SWAP_BOOTSTRAP_FAULT"), 1
	if w, n, ok := strings.Cut(want, ":"); ok {
		want = w
		nth, _ = strconv.Atoi(n)
	}
	if want != name {
		return
	}
	mu.Lock()
	counts[name]++
	hit := counts[name] == nth
	mu.Unlock()
	if !hit {
		return
	}
	if os.Getenv("SWAP_BOOTSTRAP_FAULT_ACTION") == "wait" {
		f := os.Getenv("SWAP_BOOTSTRAP_FAULT_FILE")
		os.WriteFile(f, []byte(name), 0o644)
		for {
			if _, err := os.Stat(f); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}
