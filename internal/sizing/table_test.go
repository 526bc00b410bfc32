package sizing

import (
	"slices"
	"strings"
	"testing"
)

// The embedded table carries the instance store and hibernation facts as
// EC2 DescribeInstanceTypes gives them (in us-east-1, 2026-08; mac-m4.metal:
// a store with no size given; hpc7a: listed only by Karpenter's docs, which
// give neither fact).
func TestLookupInstanceTypeStorageAndHibernation(t *testing.T) {
	cases := []struct {
		name        string
		typ         string
		memory      int64
		arch        []string
		storageGB   int64
		hibernation string
	}{
		{"m5d.large, one 75 GB NVMe disk", "m5d.large", 8 * GiB, []string{"x86_64"}, 75, "true"},
		{"c5d.large, 50 GB", "c5d.large", 4 * GiB, []string{"x86_64"}, 50, "true"},
		{"i3.large, 475 GB", "i3.large", 15616 * MiB, []string{"x86_64"}, 475, "true"},
		{"m3.medium, a 4 GB non-NVMe store", "m3.medium", 3840 * MiB, []string{"x86_64"}, 4, "true"},
		{"t3.micro, EBS only", "t3.micro", GiB, []string{"x86_64"}, 0, "true"},
		{"c5.large, hibernation", "c5.large", 4 * GiB, []string{"x86_64"}, 0, "true"},
		{"t2.micro, two architectures", "t2.micro", GiB, []string{"i386", "x86_64"}, 0, "true"},
		{"r5.24xlarge, no hibernation", "r5.24xlarge", 768 * GiB, []string{"x86_64"}, 0, "false"},
		{"hpc7a.12xlarge, both unknown", "hpc7a.12xlarge", 768 * GiB, []string{"x86_64"}, InstanceStorageUnknown, ""},
		{"mac-m4.metal, a store of unknown size", "mac-m4.metal", 24 * GiB, []string{"arm64_mac"}, InstanceStorageUnknown, "false"},
		{"name as IMDS might give it", " M5D.Large\n", 8 * GiB, []string{"x86_64"}, 75, "true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it, ok := LookupInstanceType(c.typ)
			if !ok {
				t.Fatalf("LookupInstanceType(%q): not in the table", c.typ)
			}
			if it.Memory != c.memory || !slices.Equal(it.Architectures, c.arch) ||
				it.InstanceStorageGB != c.storageGB || it.Hibernation != c.hibernation {
				t.Errorf("LookupInstanceType(%q) = %+v; want memory %d, architectures %v, storage %d GB, hibernation %q",
					c.typ, it, c.memory, c.arch, c.storageGB, c.hibernation)
			}
		})
	}
}

func TestParseTable(t *testing.T) {
	const tsv = "instance_type\tmemory_mib\tarchitectures\tinstance_storage_gb\thibernation_supported\n" +
		"m5d.large\t8192\tx86_64\t75\ttrue\n" +
		"t3.micro\t1024\tx86_64\t0\tfalse\n" +
		"hpc7a.12xlarge\t786432\tx86_64\t-\t-\n" +
		"x1.bad-storage\t2048\tx86_64\t75GB\ttrue\n" +
		"x1.negative\t2048\tx86_64\t-5\tTrue\n" +
		"x1.old-format\t2048\tarm64\n" +
		"x1.four-columns\t2048\tarm64\t0\n" +
		"x1.no-memory\t-\tx86_64\t0\ttrue\n" +
		"x1.zero-memory\t0\tx86_64\t0\ttrue\n"
	want := map[string]InstanceType{
		"m5d.large":      {Name: "m5d.large", Memory: 8 * GiB, Architectures: []string{"x86_64"}, InstanceStorageGB: 75, Hibernation: "true"},
		"t3.micro":       {Name: "t3.micro", Memory: GiB, Architectures: []string{"x86_64"}, InstanceStorageGB: 0, Hibernation: "false"},
		"hpc7a.12xlarge": {Name: "hpc7a.12xlarge", Memory: 768 * GiB, Architectures: []string{"x86_64"}, InstanceStorageGB: InstanceStorageUnknown},
		// A bad storage or hibernation field reads as unknown; the memory
		// still sizes swap.
		"x1.bad-storage":  {Name: "x1.bad-storage", Memory: 2 * GiB, Architectures: []string{"x86_64"}, InstanceStorageGB: InstanceStorageUnknown, Hibernation: "true"},
		"x1.negative":     {Name: "x1.negative", Memory: 2 * GiB, Architectures: []string{"x86_64"}, InstanceStorageGB: InstanceStorageUnknown},
		"x1.old-format":   {Name: "x1.old-format", Memory: 2 * GiB, Architectures: []string{"arm64"}, InstanceStorageGB: InstanceStorageUnknown},
		"x1.four-columns": {Name: "x1.four-columns", Memory: 2 * GiB, Architectures: []string{"arm64"}, InstanceStorageGB: 0},
	}
	got := parseTable(tsv)
	if len(got) != len(want) {
		t.Errorf("parseTable: %d types, want %d (rows without memory skipped)", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: missing", name)
			continue
		}
		if g.Name != w.Name || g.Memory != w.Memory || !slices.Equal(g.Architectures, w.Architectures) ||
			g.InstanceStorageGB != w.InstanceStorageGB || g.Hibernation != w.Hibernation {
			t.Errorf("%s = %+v, want %+v", name, g, w)
		}
	}
}

// Every "-" in the embedded table, and only those, reads as unknown; every
// other storage and hibernation field reads as written.
func TestEmbeddedTableUnknownsMatchTheText(t *testing.T) {
	table := parseTable(instanceTypesTSV)
	rows := 0
	for i, line := range strings.Split(strings.TrimSuffix(instanceTypesTSV, "\n"), "\n") {
		if i == 0 {
			continue
		}
		rows++
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("row %d: %d fields, want 5: %q", i+1, len(f), line)
		}
		it, ok := table[f[0]]
		if !ok {
			t.Errorf("%s: not parsed", f[0])
			continue
		}
		if (f[3] == "-") != (it.InstanceStorageGB == InstanceStorageUnknown) {
			t.Errorf("%s: instance_storage_gb %q read as %d", f[0], f[3], it.InstanceStorageGB)
		}
		if want := strings.TrimPrefix(f[4], "-"); it.Hibernation != want {
			t.Errorf("%s: hibernation_supported %q read as %q", f[0], f[4], it.Hibernation)
		}
	}
	if rows != len(table) || rows < 1400 {
		t.Errorf("%d rows, %d types parsed; want all of them (>= 1400)", rows, len(table))
	}
}
