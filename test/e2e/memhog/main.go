// Command memhog is the memory hog of the swap-bootstrap end-to-end test
// (test/e2e/run.sh). It touches a working set of N MiB page by page, reads it
// back and checks it, and prints how much of its cgroup's memory went to swap.
//
// Built static and copied alone into a FROM scratch image, it runs under
// `docker run --memory=128m --memory-swap=1g` with a working set above 128 MiB:
// with swap on the host it finishes (exit 0) because the kernel pages the
// excess out to swap; without swap the cgroup's OOM killer ends it (exit 137).
//
//	memhog 300
//
// With -hold it is the memory-hungry neighbour of the original-failure
// scenario instead: it touches N MiB, prints "memhog: holding N MiB" and keeps
// them until it is killed.
//
//	memhog -hold 180
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	mib  = 1 << 20
	page = 4096
)

func main() {
	n := 300
	args := os.Args[1:]
	hold := len(args) > 0 && args[0] == "-hold"
	if hold {
		args = args[1:]
	}
	if len(args) > 0 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v <= 0 {
			fmt.Fprintf(os.Stderr, "memhog: %q is not a working set size in MiB; use e.g. 300\n", args[0])
			os.Exit(2)
		}
		n = v
	}
	if hold {
		// One private anonymous mapping, not the Go heap: the kernel charges
		// exactly n MiB to the commit account (the heap would add its own
		// arenas and metadata on top).
		buf, err := syscall.Mmap(-1, 0, n*mib, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			fmt.Fprintf(os.Stderr, "memhog: map %d MiB: %v\n", n, err)
			os.Exit(1)
		}
		for i := 0; i < len(buf); i += page {
			buf[i] = pattern(i)
		}
		fmt.Printf("memhog: holding %d MiB\n", n)
		for {
			time.Sleep(time.Hour)
		}
	}
	fmt.Printf("memhog: cgroup limits: memory.max=%s memory.swap.max=%s\n", cgroup("memory.max"), cgroup("memory.swap.max"))

	buf := make([]byte, n*mib)
	for i := 0; i < len(buf); i += page {
		buf[i] = pattern(i)
	}
	fmt.Printf("memhog: touched %d MiB; memory.current=%s memory.swap.current=%s\n", n, cgroup("memory.current"), cgroup("memory.swap.current"))

	// Read every page back twice: the first pages were paged out while the
	// last ones were written, so this brings them in again from swap.
	for pass := 1; pass <= 2; pass++ {
		for i := 0; i < len(buf); i += page {
			if buf[i] != pattern(i) {
				fmt.Fprintf(os.Stderr, "memhog: byte %d is %d, wrote %d: memory came back wrong\n", i, buf[i], pattern(i))
				os.Exit(1)
			}
		}
	}
	fmt.Printf("memhog: ok: %d MiB verified twice; memory.current=%s memory.swap.current=%s\n", n, cgroup("memory.current"), cgroup("memory.swap.current"))
}

// pattern is the byte written at offset i: it differs between neighbouring
// pages, so a page swapped in at the wrong place is noticed.
func pattern(i int) byte { return byte(i/page*7 + 1) }

// cgroup returns the value of a file of the container's own cgroup (cgroup v2,
// mounted at /sys/fs/cgroup inside the container), or "?" where it is missing.
func cgroup(name string) string {
	b, err := os.ReadFile("/sys/fs/cgroup/" + name)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}
