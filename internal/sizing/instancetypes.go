package sizing

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
)

// instanceTypesTSV is built from EC2 DescribeInstanceTypes output; regenerate it
// with `go run ./internal/sizing/gen` (see that program's doc comment).
//
//go:embed instance-types.tsv
var instanceTypesTSV string

// InstanceType is one row of the embedded table.
type InstanceType struct {
	Name          string
	Memory        int64 // nominal memory in bytes (MemoryInfo.SizeInMiB)
	Architectures []string
	// InstanceStorageGB is the instance store's total size in GB
	// (InstanceStorageInfo.TotalSizeInGB): 0 when the type has no instance
	// store, InstanceStorageUnknown when the table does not know the size.
	// Whether the store is NVMe is not recorded.
	InstanceStorageGB int64
	// Hibernation is HibernationSupported: "true", "false", or "" when the
	// table does not know.
	Hibernation string
}

// InstanceStorageUnknown is InstanceStorageGB when the table does not know
// whether the type has an instance store, or how big it is ("-" in the
// table). It is never 0: 0 means the type has no instance store.
const InstanceStorageUnknown = -1

var (
	tableOnce sync.Once
	table     map[string]InstanceType
)

// LookupInstanceType returns an EC2 instance type's row of the embedded table:
// its nominal memory, architectures, instance store size and hibernation
// support.
func LookupInstanceType(name string) (InstanceType, bool) {
	tableOnce.Do(func() { table = parseTable(instanceTypesTSV) })
	it, ok := table[strings.ToLower(strings.TrimSpace(name))]
	return it, ok
}

// TableSize is the number of instance types the binary knows.
func TableSize() int {
	tableOnce.Do(func() { table = parseTable(instanceTypesTSV) })
	return len(table)
}

// parseTable reads the table internal/sizing/gen writes (columns
// instance_type, memory_mib, architectures, instance_storage_gb,
// hibernation_supported). A row without a usable memory is skipped; a
// missing or malformed storage or hibernation field reads as unknown, so
// such a row still sizes swap by memory.
func parseTable(tsv string) map[string]InstanceType {
	m := make(map[string]InstanceType, 1500)
	for i, line := range strings.Split(tsv, "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 3 {
			continue
		}
		mib, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || mib <= 0 {
			continue
		}
		it := InstanceType{Name: f[0], Memory: mib * MiB, Architectures: strings.Split(f[2], ","),
			InstanceStorageGB: InstanceStorageUnknown}
		if len(f) > 3 {
			if gb, err := strconv.ParseInt(f[3], 10, 64); err == nil && gb >= 0 {
				it.InstanceStorageGB = gb
			}
		}
		if len(f) > 4 && (f[4] == "true" || f[4] == "false") {
			it.Hibernation = f[4]
		}
		m[f[0]] = it
	}
	return m
}
