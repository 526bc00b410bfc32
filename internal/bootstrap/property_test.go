package bootstrap

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/config/configtest"
	"github.com/soundhub/swap-bootstrap/internal/sizing"
	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// values is the pool the property test draws from: valid values of every
// kind, empty ones, huge, negative, tiny, unit soup.
var values = []string{"", " ", "0", "-1", "1", "2", "16", "17", "0.01", "0.009", "1e-10", "NaN", "Inf", "1e9",
	"1K", "20K", "40K", "100B", "0.001", "2gb", "2GB", "2G", "1.5GiB", "512M", "64M", "2048", "3Q", "99999999999T", "1PB", "2 gigs", "--",
	"off", "OFF", "ratio", "aws", "redhat", "ubuntu", "cloud-init", "fixed", "zero", "auto", "none", "fstab", "true", "false", "yes",
	"required", "text", "json", "5%", "60%", "3s", "1ms", "1h", "t3.micro", "c5.4xlarge", "zz9.mega", "T3 micro",
	"/var/swapfile", "/tmp/prop/swap", "relative", "/", "/etc/fstab", "/tmp/prop/sysctl", "/tmp/prop/lock"}

// valid are values each variable accepts, drawn more often than the pool so
// that many random configurations get as far as a decision.
var valid = map[string][]string{
	"SWAP_POLICY": {"ratio", "aws", "redhat", "ubuntu", "cloud-init", "off"}, "SWAP_RATIO": {"0.01", "0.5", "2", "16"},
	"SWAP_SIZE": {"64M", "1G", "2G", "2048", "4G", "3GB"}, "SWAP_MIN": {"0", "64M", "1G", "3G"}, "SWAP_MAX": {"1G", "2G", "8G", "32G"},
	"SWAP_DISK_PERCENT": {"1", "50", "100"}, "SWAP_DISK_RESERVE": {"0", "1G", "90G"}, "SWAP_TOLERANCE": {"0%", "5%", "50%", "1G"},
	"SWAP_ALLOCATE": {"auto", "zero"}, "SWAP_PRIORITY": {"-1", "0", "10"}, "SWAP_SWAPPINESS": {"0", "60", "200"},
	"SWAP_PERSIST": {"fstab", "none"}, "SWAP_INSTANCE_TYPE": {"t3.micro", "c5.4xlarge", "zz9.mega"}, "SWAP_IMDS": {"auto", "off", "required"},
	"SWAP_IMDS_TIMEOUT": {"3s"}, "SWAP_TAGS": {"true", "false"}, "SWAP_LOG_FORMAT": {"text", "json"}, "SWAP_LOCK_TIMEOUT": {"60s"},
}

var tagNames = []string{config.TagPolicy, config.TagSize, config.TagRatio, config.TagMax}

// TestNeverRemovesOrShrinksUnasked (issue 10): over random values for every
// SWAP_* variable and tag, on a machine whose 2 GiB swapfile is active, a
// run never removes the swapfile unless the policy is off, never shrinks it
// unless the configuration asks for a smaller valid size on a boot that read
// everything it sizes from, and never plans to touch a file it refused.
func TestNeverRemovesOrShrinksUnasked(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 2026))
	pick := func() string { return values[rng.IntN(len(values))] }
	value := func(name string) string {
		if v := valid[name]; len(v) > 0 && rng.IntN(4) > 0 {
			return v[rng.IntN(len(v))]
		}
		return pick()
	}
	counts := map[string]int{}
	for i := range 2500 {
		var env []string
		for _, v := range config.Vars() {
			if rng.IntN(5) == 0 {
				env = append(env, v.Name+"="+value(v.Name))
			}
		}
		// The machine's files stay where the observation says.
		env = append(env, "SWAP_FILE=/var/swapfile", "SWAP_FSTAB=/etc/fstab", "SWAP_SYSCTL_FILE=/tmp/prop/sysctl", "SWAP_LOCK_FILE=/tmp/prop/lock")
		configtest.Env(t, env...)
		c, err := config.Load()
		if err != nil {
			var cerr *config.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("case %d %q: not a configuration error: %v", i, env, err)
			}
			counts["refused config"]++
			continue // exit 2 before anything is read or touched
		}
		tags := map[string]string{}
		for _, n := range tagNames {
			if rng.IntN(4) == 0 {
				tags[n] = value(map[string]string{config.TagPolicy: "SWAP_POLICY", config.TagSize: "SWAP_SIZE", config.TagRatio: "SWAP_RATIO", config.TagMax: "SWAP_MAX"}[n])
			}
		}
		c, bad := config.WithTags(c, tags)

		f := Facts{InstanceType: "t3.micro", TypeSource: "metadata service", InvalidTags: bad}
		switch rng.IntN(4) {
		case 0:
			f = Facts{MetadataFailed: "no answer within 3s", MetadataNote: "no answer"}
		case 1:
			f.TagsFailed = "the list of instance tags was not read: 500"
		}
		o := withFile(machine(), 2*gib, rng.IntN(2) == 0)
		foreign := rng.IntN(5) == 0
		if foreign {
			o = machine()
			o.File = swap.FileState{FileInfo: swap.FileInfo{Kind: swap.KindRegular, Mode: 0o644, Size: 4096}}
		}

		d, p, err := Decide(c, f, o)
		what := fmt.Sprintf("case %d: env %q tags %q facts %+v: decision %+v plan %q %v", i, env, tags, f, d, kinds(p), err)
		for _, a := range p.Actions {
			switch a.Kind {
			case swap.ActionDisable, swap.ActionDelete:
				if c.Policy != sizing.PolicyOff || (c.Tags && f.TagsFailed != "") {
					t.Fatalf("removes the swapfile without the policy off: %s", what)
				}
			case swap.ActionResize, swap.ActionReplace:
				if foreign {
					t.Fatalf("replaces a file it does not own: %s", what)
				}
				if a.Size < o.File.Usable() && (degraded(c, f) != "" || a.Size < sizing.MinSize(4096)) {
					t.Fatalf("shrinks the swapfile on a degraded boot or below the minimum: %s", what)
				}
			case swap.ActionCreate, swap.ActionEnable, swap.ActionFixMode:
				if foreign {
					t.Fatalf("touches a file it refused to manage: %s", what)
				}
			}
		}
		var refusal *swap.RefusalError
		switch {
		case foreign && c.Policy != sizing.PolicyOff && !errors.As(err, &refusal) && err == nil:
			t.Fatalf("a file that is not a swap area was not refused: %s", what)
		case err != nil:
			counts["refused or failed"]++
		case len(p.Actions) == 0:
			counts["nothing to do"]++
		default:
			counts[kinds(p)]++
		}
	}
	t.Logf("outcomes: %v", counts)
	if counts["refused config"] == 0 || counts["nothing to do"] == 0 || len(counts) < 5 {
		t.Errorf("the random cases do not cover enough outcomes: %v", counts)
	}
}
