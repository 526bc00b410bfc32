package sizing

import (
	"errors"
	"strings"
	"testing"
)

// TestNeverNoSwapUnlessOff: whatever the policy and RAM, Decide returns a
// swap area of at least ten pages or an error; only the policy off gives no
// swapfile (issue 10, item 1).
func TestNeverNoSwapUnlessOff(t *testing.T) {
	for _, p := range Policies {
		for _, ram := range []int64{1, 4 * KiB, 10 * KiB, 39 * KiB, 40 * KiB, MiB, GiB} {
			in := Input{Policy: p, Ratio: 0.01, Fixed: 40 * KiB, RAM: Memory{Bytes: ram}, Disk: bigDisk, PageSize: 4096}
			d, err := Decide(in)
			switch {
			case p == PolicyOff:
				if err != nil || d.Size != 0 {
					t.Errorf("off: %v %d", err, d.Size)
				}
			case err != nil:
				var small *TooSmallError
				if !errors.As(err, &small) || !strings.Contains(err.Error(), "below the smallest swap area, 40 KiB") {
					t.Errorf("%s at RAM %d: %v", p, ram, err)
				}
			case d.Size < MinSize(4096):
				t.Errorf("%s at RAM %d: size %d, below ten pages", p, ram, d.Size)
			}
		}
	}
}

// TestNamedRAM (issue 10, item 12): a type the operator names sizes swap
// even where MemTotal disagrees (a plan previewed on a smaller machine), and
// the disagreement is said; the mem= heuristic stays for learnt types.
func TestNamedRAM(t *testing.T) {
	m := NamedRAM("c5.4xlarge", 950*MiB)
	if m.Bytes != 32*GiB || m.Source != SourceTable || !strings.Contains(m.Note, "MemTotal 950 MiB is far below c5.4xlarge's nominal 32 GiB") {
		t.Errorf("named, MemTotal far below: %+v", m)
	}
	if m := NamedRAM("c5.4xlarge", 31*GiB); m.Bytes != 32*GiB || m.Note != "c5.4xlarge" {
		t.Errorf("named, MemTotal agrees: %+v", m)
	}
	if m := NamedRAM("zz9.mega", 950*MiB); m.Source != SourceMemTotal || !strings.Contains(m.Note, "not in the embedded table") {
		t.Errorf("named, unknown: %+v", m)
	}
	if m := RAM("c5.4xlarge", 950*MiB); m.Source != SourceMemTotal {
		t.Errorf("learnt from the metadata service: the heuristic stays: %+v", m)
	}
}
