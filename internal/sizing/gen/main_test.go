package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden tables in testdata/")

const (
	page1 = "testdata/describe-instance-types-page1.json"
	page2 = "testdata/describe-instance-types-page2.json"
)

// runTool runs the command as `go run` would and returns stdout, stderr and
// the exit code.
func runTool(t *testing.T, stdin io.Reader, args ...string) (string, string, int) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	code := run(args, stdin, &out, &errOut)
	return out.String(), errOut.String(), code
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("table differs from %s\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestTableFromDescribeInstanceTypes(t *testing.T) {
	both, err := os.ReadFile(page1)
	if err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(page2)
	if err != nil {
		t.Fatal(err)
	}
	both = append(both, second...)
	cases := []struct {
		name  string
		stdin io.Reader
		args  []string
	}{
		{"two pages as two files", nil, []string{page2, page1}},
		{"two pages in a row on stdin", bytes.NewReader(both), nil},
		{"the same page twice", nil, []string{page1, page2, page1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runTool(t, tc.stdin, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, "testdata/describe-instance-types.golden.tsv", out)
			if !strings.Contains(stderr, "6 types from JSON") {
				t.Errorf("stderr = %q, want a count of 6 types", stderr)
			}
		})
	}
}

func TestMergeKeepsTypesTheJSONDoesNotList(t *testing.T) {
	out, stderr, code := runTool(t, nil, "-merge", "testdata/merge-base.tsv", page1, page2)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// t2.micro: 999 MiB x86_64, storage and hibernation unknown in the old
	// table; 1024 MiB i386,x86_64, no store, hibernation true in the JSON,
	// which wins. a1.medium, m3.medium (a 4 GB store), mac2.metal and
	// u-6tb1.metal (both facts unknown) are kept with all their columns.
	golden(t, "testdata/merged.golden.tsv", out)
	if !strings.Contains(stderr, "4 kept from testdata/merge-base.tsv, 10 rows") {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestOutputFileReplacedAtomically(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "instance-types.tsv")
	base, err := os.ReadFile("testdata/merge-base.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(table, base, 0o640); err != nil {
		t.Fatal(err)
	}
	// The documented invocation: -merge and -o name the same file.
	out, stderr, code := runTool(t, nil, "-merge", table, "-o", table, page1, page2)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing with -o", out)
	}
	got, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/merged.golden.tsv", string(got))
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left in %s: %v, want only the table", dir, entries)
	}
	if st, err := os.Stat(table); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode after replace: %v %v, want 0640 kept", st.Mode(), err)
	}
}

func TestBadInputLeavesTheTableAlone(t *testing.T) {
	cases := []struct {
		name    string
		stdin   string
		args    []string
		wantErr string
	}{
		{"malformed JSON", `{"InstanceTypes": [{"InstanceType": "t3.micro",`, nil, "stdin: document 1 is not valid JSON"},
		{"JSON of another command", `{"Reservations": []}`, nil, "stdin: document 1 has no InstanceTypes"},
		{"empty input", "", nil, "stdin: empty"},
		{"no types at all", `{"InstanceTypes": []}`, nil, "no instance types in the input"},
		{"type without memory", `{"InstanceTypes": [{"InstanceType": "t3.micro", "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]}}]}`,
			nil, "stdin: document 1, InstanceTypes[0]: t3.micro: memory 0 MiB"},
		{"type without architecture", `{"InstanceTypes": [{"InstanceType": "t3.micro", "MemoryInfo": {"SizeInMiB": 1024}}]}`,
			nil, "t3.micro: no supported architectures"},
		{"two dumps disagree", `{"InstanceTypes": [{"InstanceType": "t2.micro", "MemoryInfo": {"SizeInMiB": 2048}, "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]}}]}`,
			[]string{page1, "-"}, "t2.micro: 1024 MiB in " + page1 + " but 2048 MiB in stdin"},
		{"two dumps disagree on the instance store", `{"InstanceTypes": [{"InstanceType": "m5d.large", "MemoryInfo": {"SizeInMiB": 8192}, "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]},
			"InstanceStorageSupported": true, "InstanceStorageInfo": {"TotalSizeInGB": 150}}]}`,
			[]string{page1, "-"}, "m5d.large: 75 GB instance store in " + page1 + " but 150 GB in stdin"},
		{"two dumps disagree on hibernation", `{"InstanceTypes": [{"InstanceType": "t2.micro", "MemoryInfo": {"SizeInMiB": 1024}, "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]}, "HibernationSupported": false}]}`,
			[]string{page1, "-"}, "t2.micro: HibernationSupported true in " + page1 + " but false in stdin"},
		{"negative instance store", `{"InstanceTypes": [{"InstanceType": "m5d.large", "MemoryInfo": {"SizeInMiB": 8192}, "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]}, "InstanceStorageInfo": {"TotalSizeInGB": -1}}]}`,
			nil, "stdin: document 1, InstanceTypes[0]: m5d.large: InstanceStorageInfo.TotalSizeInGB -1"},
		{"merge table of three columns", "", []string{"-merge", "testdata/three-columns.tsv", page1}, `header "instance_type\tmemory_mib\tarchitectures"`},
		{"merge table with a bad instance store", "", []string{"-merge", "testdata/bad-storage.tsv", page1}, `testdata/bad-storage.tsv:3: instance_storage_gb "75GB"`},
		{"merge table with a bad hibernation", "", []string{"-merge", "testdata/bad-hibernation.tsv", page1}, `testdata/bad-hibernation.tsv:2: hibernation_supported "yes"`},
		{"merge table with another header", "", []string{"-merge", page1, page1}, "header"},
		{"missing file", "", []string{"testdata/nope.json"}, "nope.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			table := filepath.Join(dir, "instance-types.tsv")
			if err := os.WriteFile(table, []byte("untouched\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"-o", table}, tc.args...)
			out, stderr, code := runTool(t, strings.NewReader(tc.stdin), args...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.wantErr)
			}
			if got, _ := os.ReadFile(table); string(got) != "untouched\n" || out != "" {
				t.Errorf("output written on error: file %q, stdout %q", got, out)
			}
		})
	}
}

// A fact the dump leaves out is written as "-", never guessed: a type with
// an instance store but no size in the dump, and one without
// HibernationSupported. A type without a store is 0. A second dump that
// gives a fact fills it in.
func TestUnknownFactsStayUnknown(t *testing.T) {
	const dumps = `{"InstanceTypes": [
	{"InstanceType": "x9.large", "MemoryInfo": {"SizeInMiB": 4096}, "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]},
	 "InstanceStorageSupported": true, "HibernationSupported": false},
	{"InstanceType": "x9.small", "MemoryInfo": {"SizeInMiB": 2048}, "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]},
	 "InstanceStorageSupported": false},
	{"InstanceType": "x9d.large", "MemoryInfo": {"SizeInMiB": 4096}, "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]},
	 "InstanceStorageSupported": true}
]}
{"InstanceTypes": [
	{"InstanceType": "x9d.large", "MemoryInfo": {"SizeInMiB": 4096}, "ProcessorInfo": {"SupportedArchitectures": ["arm64"]},
	 "InstanceStorageSupported": true, "InstanceStorageInfo": {"TotalSizeInGB": 118}, "HibernationSupported": true}
]}`
	out, stderr, code := runTool(t, strings.NewReader(dumps))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := header + "\n" +
		"x9.large\t4096\tx86_64\t-\tfalse\n" +
		"x9.small\t2048\tx86_64\t0\t-\n" +
		"x9d.large\t4096\tarm64,x86_64\t118\ttrue\n"
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
}

// The embedded table must already be in the exact format the tool writes,
// so a regeneration diff shows only real changes.
func TestEmbeddedTableIsInToolFormat(t *testing.T) {
	const embedded = "../instance-types.tsv"
	want, err := os.ReadFile(embedded)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(embedded)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := parseTSV(f, embedded)
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]instanceType{}
	for _, r := range rows {
		table[r.Name] = r
	}
	var got bytes.Buffer
	writeTSV(&got, table)
	if got.String() != string(want) {
		t.Errorf("%s is not in the tool's format (sorted, header, arch order); rewriting it would change %d bytes",
			embedded, len(want)-got.Len())
	}
}
