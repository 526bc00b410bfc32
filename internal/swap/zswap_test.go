package swap

import (
	"strings"
	"testing"
)

func TestPlanZswap(t *testing.T) {
	off := Zswap{Supported: true, Enabled: false, Compressor: "lzo", MaxPoolPercent: 20}
	on := Zswap{Supported: true, Enabled: true, Compressor: "lzo-rle", MaxPoolPercent: 20}
	want := &ZswapSettings{Enabled: true, Compressor: "lzo-rle", MaxPoolPercent: 20}
	cases := []struct {
		name   string
		have   Zswap
		want   *ZswapSettings
		params string
	}{
		{"off -> on with another compressor: compressor first, then enabled", off, want,
			"/sys/module/zswap/parameters/compressor=lzo-rle /sys/module/zswap/parameters/enabled=Y"},
		{"already as asked: nothing", on, want, ""},
		{"a new pool size", on, &ZswapSettings{Enabled: true, Compressor: "lzo-rle", MaxPoolPercent: 10}, "/sys/module/zswap/parameters/max_pool_percent=10"},
		{"asked off: only enabled changes", on, &ZswapSettings{Enabled: false, Compressor: "deflate", MaxPoolPercent: 5}, "/sys/module/zswap/parameters/enabled=N"},
		{"left alone", off, nil, ""},
		{"a kernel without zswap", Zswap{}, want, ""},
		{"no pool size asked: the kernel's stays", on, &ZswapSettings{Enabled: true, Compressor: "lzo-rle"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := settingsFor()
			s.Zswap = c.want
			o := obsWith(swapFile(2*gib, true, 0))
			o.Zswap = c.have
			p, err := PlanApply(s, o, Target{Size: 2 * gib})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range p.Actions {
				if a.Kind == ActionZswap {
					for _, pr := range a.Params {
						got = append(got, pr.Path+"="+pr.Value)
					}
				}
			}
			if strings.Join(got, " ") != c.params {
				t.Errorf("params %q, want %q (actions %q)", got, c.params, kinds(p))
			}
			if c.params == "" && strings.Contains(kinds(p), string(ActionZswap)) {
				t.Errorf("an empty zswap action: %q", kinds(p))
			}
		})
	}
}
