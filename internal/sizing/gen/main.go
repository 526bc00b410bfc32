// Command gen regenerates internal/sizing/instance-types.tsv, the
// instance-type table embedded in swap-bootstrap, from the output of
// `aws ec2 describe-instance-types`.
//
// Usage, from the repository root:
//
//	aws ec2 describe-instance-types --region us-east-1 --output json > types.json
//	go run ./internal/sizing/gen -merge internal/sizing/instance-types.tsv -o internal/sizing/instance-types.tsv types.json
//
// It reads one or more describe-instance-types JSON documents: files given
// as arguments ("-" or no argument reads stdin), each holding one document or
// several in a row (pages fetched with --no-paginate and --next-token, or
// dumps of several regions). The CLI follows NextToken itself unless told not
// to, so one file per region is the usual input. A type listed in several
// dumps gets the union of their architectures; its memory, instance store
// and hibernation support must agree wherever they are given.
//
// -merge FILE keeps the rows of an existing table, all five columns, for the
// types the JSON does not mention, so a dump of one region does not drop the
// types only other regions offer; rows from the JSON win. Without -o the
// table goes to stdout; with -o it replaces FILE atomically (written beside
// it, then renamed), so FILE may also be the -merge input.
//
// The table has five tab-separated columns under the header line
// instance_type, memory_mib, architectures, instance_storage_gb,
// hibernation_supported: one row per type sorted by name in byte order.
//
//   - memory_mib is MemoryInfo.SizeInMiB.
//   - architectures is ProcessorInfo.SupportedArchitectures, sorted and
//     comma-separated (arm64, or i386,x86_64).
//   - instance_storage_gb is InstanceStorageInfo.TotalSizeInGB, the instance
//     store's total size; 0 when the type has none (EC2 then leaves
//     InstanceStorageInfo out), - when the size is not known (a store the
//     dump gives no size for, or a merged row that did not know). Whether
//     the store is NVMe is not recorded.
//   - hibernation_supported is HibernationSupported: true, false, or - when
//     the input does not say.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/soundhub/swap-bootstrap/internal/atomicfile"
)

const header = "instance_type\tmemory_mib\tarchitectures\tinstance_storage_gb\thibernation_supported"

// unknown is how the table writes a fact no input gave.
const unknown = "-"

// instanceType is one row of the table.
type instanceType struct {
	Name          string
	MemoryMiB     int64
	Architectures []string // sorted, no duplicates
	StorageGB     int64    // instance store total in GB; 0 = none, -1 = unknown
	Hibernation   string   // "true", "false", or "" when unknown
	Source        string   // where the row came from, for error messages
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("instancetypes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	merge := fs.String("merge", "", "existing `TSV` whose rows are kept for types the JSON does not list")
	out := fs.String("o", "", "write the table to `FILE` (atomically) instead of stdout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: instancetypes [-merge TSV] [-o FILE] [describe-instance-types.json ...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := generate(fs.Args(), *merge, *out, stdin, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "instancetypes:", err)
		return 1
	}
	return 0
}

func generate(inputs []string, merge, out string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	fromJSON := map[string]instanceType{}
	for _, in := range inputs {
		name, r := in, stdin
		if in == "-" {
			name = "stdin"
		} else {
			f, err := os.Open(in)
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		types, err := parseDescribe(r, name)
		if err != nil {
			return err
		}
		for _, t := range types {
			if prev, ok := fromJSON[t.Name]; ok {
				if t, err = combine(prev, t); err != nil {
					return err
				}
			}
			fromJSON[t.Name] = t
		}
	}
	if len(fromJSON) == 0 {
		return errors.New("no instance types in the input; give the output of aws ec2 describe-instance-types --output json")
	}

	table := map[string]instanceType{}
	kept := 0
	if merge != "" {
		f, err := os.Open(merge)
		if err != nil {
			return err
		}
		rows, err := parseTSV(f, merge)
		f.Close()
		if err != nil {
			return err
		}
		for _, t := range rows {
			if _, ok := fromJSON[t.Name]; !ok {
				kept++
			}
			table[t.Name] = t
		}
	}
	for name, t := range fromJSON {
		table[name] = t
	}

	var buf bytes.Buffer
	writeTSV(&buf, table)
	dest := "stdout"
	if out == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else {
		if err := writeFileAtomic(out, buf.Bytes()); err != nil {
			return err
		}
		dest = out
	}
	fmt.Fprintf(stderr, "instancetypes: %d types from JSON, %d kept from %s, %d rows to %s\n",
		len(fromJSON), kept, orElse(merge, "no merge table"), len(table), dest)
	return nil
}

// combine merges two descriptions of one type from different dumps (regions,
// pages listed twice): the architectures add up, the other facts must agree
// where both dumps give them.
func combine(prev, t instanceType) (instanceType, error) {
	disagree := func(a, b string) error {
		return fmt.Errorf("%s: %s in %s but %s in %s; use the dumps of one date", t.Name, a, prev.Source, b, t.Source)
	}
	if prev.MemoryMiB != t.MemoryMiB {
		return t, disagree(fmt.Sprintf("%d MiB", prev.MemoryMiB), fmt.Sprintf("%d MiB", t.MemoryMiB))
	}
	t.Architectures = union(prev.Architectures, t.Architectures)
	switch {
	case t.StorageGB < 0:
		t.StorageGB = prev.StorageGB
	case prev.StorageGB >= 0 && prev.StorageGB != t.StorageGB:
		return t, disagree(fmt.Sprintf("%d GB instance store", prev.StorageGB), fmt.Sprintf("%d GB", t.StorageGB))
	}
	switch {
	case t.Hibernation == "":
		t.Hibernation = prev.Hibernation
	case prev.Hibernation != "" && prev.Hibernation != t.Hibernation:
		return t, disagree("HibernationSupported "+prev.Hibernation, t.Hibernation)
	}
	return t, nil
}

// describeOutput is the part of `aws ec2 describe-instance-types --output
// json` the table needs. Pointers tell a field the dump left out from a zero.
type describeOutput struct {
	InstanceTypes *[]struct {
		InstanceType  string
		MemoryInfo    struct{ SizeInMiB int64 }
		ProcessorInfo struct {
			SupportedArchitectures []string
		}
		InstanceStorageSupported *bool
		InstanceStorageInfo      *struct{ TotalSizeInGB *int64 }
		HibernationSupported     *bool
	}
	NextToken string
}

// parseDescribe reads every describe-instance-types document in r.
func parseDescribe(r io.Reader, source string) ([]instanceType, error) {
	var types []instanceType
	dec := json.NewDecoder(bufio.NewReader(r))
	for doc := 1; ; doc++ {
		var d describeOutput
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			if doc == 1 {
				return nil, fmt.Errorf("%s: empty; want the output of aws ec2 describe-instance-types --output json", source)
			}
			return types, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d is not valid JSON: %w", source, doc, err)
		}
		if d.InstanceTypes == nil {
			return nil, fmt.Errorf("%s: document %d has no InstanceTypes; want the output of aws ec2 describe-instance-types --output json", source, doc)
		}
		for i, it := range *d.InstanceTypes {
			where := fmt.Sprintf("%s: document %d, InstanceTypes[%d]", source, doc, i)
			t := instanceType{
				Name:          strings.TrimSpace(it.InstanceType),
				MemoryMiB:     it.MemoryInfo.SizeInMiB,
				Architectures: union(nil, it.ProcessorInfo.SupportedArchitectures),
				Source:        source,
			}
			// EC2 leaves InstanceStorageInfo out for types without an instance
			// store (InstanceStorageSupported false); a type that has one but
			// no size in the dump is unknown, not 0.
			switch {
			case it.InstanceStorageInfo != nil && it.InstanceStorageInfo.TotalSizeInGB != nil:
				t.StorageGB = *it.InstanceStorageInfo.TotalSizeInGB
				if t.StorageGB < 0 {
					return nil, fmt.Errorf("%s: %s: InstanceStorageInfo.TotalSizeInGB %d, want 0 or more", where, t.Name, t.StorageGB)
				}
			case it.InstanceStorageSupported != nil && *it.InstanceStorageSupported:
				t.StorageGB = -1
			}
			if it.HibernationSupported != nil {
				t.Hibernation = strconv.FormatBool(*it.HibernationSupported)
			}
			if err := t.check(); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			types = append(types, t)
		}
	}
}

// parseTSV reads a table in the format writeTSV writes.
func parseTSV(r io.Reader, source string) ([]instanceType, error) {
	var types []instanceType
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			if text != header {
				return nil, fmt.Errorf("%s:1: header %q, want %q", source, text, header)
			}
			continue
		}
		if text == "" {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 5 separated by tabs", source, line, len(f))
		}
		mib, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: memory_mib %q is not a number", source, line, f[1])
		}
		t := instanceType{Name: f[0], MemoryMiB: mib, Architectures: union(nil, strings.Split(f[2], ",")), StorageGB: -1, Source: source}
		if f[3] != unknown {
			if t.StorageGB, err = strconv.ParseInt(f[3], 10, 64); err != nil || t.StorageGB < 0 {
				return nil, fmt.Errorf("%s:%d: instance_storage_gb %q: want a number of GB, 0 for no instance store, or %s", source, line, f[3], unknown)
			}
		}
		switch f[4] {
		case "true", "false":
			t.Hibernation = f[4]
		case unknown:
		default:
			return nil, fmt.Errorf("%s:%d: hibernation_supported %q: want true, false or %s", source, line, f[4], unknown)
		}
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", source, line, err)
		}
		types = append(types, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("%s: empty; want a table starting with %q", source, header)
	}
	return types, nil
}

func (t instanceType) check() error {
	switch {
	case t.Name == "":
		return errors.New("no instance type name")
	case strings.ContainsAny(t.Name, "\t\n\r ,"):
		return fmt.Errorf("instance type %q has a space, tab or comma", t.Name)
	case t.MemoryMiB <= 0:
		return fmt.Errorf("%s: memory %d MiB, want more than 0", t.Name, t.MemoryMiB)
	case len(t.Architectures) == 0:
		return fmt.Errorf("%s: no supported architectures", t.Name)
	}
	for _, a := range t.Architectures {
		if a == "" || strings.ContainsAny(a, "\t\n\r ,") {
			return fmt.Errorf("%s: architecture %q", t.Name, a)
		}
	}
	return nil
}

// writeTSV writes the table sorted by name in byte order.
func writeTSV(w *bytes.Buffer, table map[string]instanceType) {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	slices.Sort(names)
	w.WriteString(header + "\n")
	for _, n := range names {
		t := table[n]
		storage := unknown
		if t.StorageGB >= 0 {
			storage = strconv.FormatInt(t.StorageGB, 10)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", t.Name, t.MemoryMiB, strings.Join(t.Architectures, ","), storage, orElse(t.Hibernation, unknown))
	}
}

// writeFileAtomic replaces path with data: a reader sees the old or the new
// table, never half of one. It keeps the mode of an existing file.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	return atomicfile.Write(path, data, mode)
}

// union returns the sorted, distinct, non-empty strings of a and b.
func union(a, b []string) []string {
	var out []string
	for _, s := range slices.Concat(a, b) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func orElse(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
