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
}

var (
	tableOnce sync.Once
	table     map[string]InstanceType
)

// LookupInstanceType returns the nominal memory of an EC2 instance type from the
// embedded table.
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
		m[f[0]] = InstanceType{Name: f[0], Memory: mib * MiB, Architectures: strings.Split(f[2], ",")}
	}
	return m
}
