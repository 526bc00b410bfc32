package swap

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// ZswapDir holds zswap's parameters (Documentation/admin-guide/mm/zswap.rst):
// a compressed cache in front of swap, built into the Amazon Linux 2023,
// Ubuntu and Debian kernels and off by default. They reset at boot, so the
// boot unit sets them at every run.
const ZswapDir = "/sys/module/zswap/parameters"

// zswapStats is where debugfs shows the pool, when it is mounted.
const zswapStats = "/sys/kernel/debug/zswap"

// Zswap is zswap's state.
type Zswap struct {
	Supported      bool   `json:"supported"` // the kernel has zswap
	Enabled        bool   `json:"enabled"`
	Compressor     string `json:"compressor,omitempty"`
	MaxPoolPercent int    `json:"max_pool_percent,omitempty"`
	// PoolBytes and StoredPages come from debugfs (-1 when not mounted).
	PoolBytes   int64 `json:"pool_bytes"`
	StoredPages int64 `json:"stored_pages"`
}

// ZswapSettings is what SWAP_ZSWAP* ask for.
type ZswapSettings struct {
	Enabled        bool
	Compressor     string
	MaxPoolPercent int
}

// Param is one kernel parameter write.
type Param struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

func observeZswap(sys System) (Zswap, error) {
	z := Zswap{PoolBytes: -1, StoredPages: -1}
	read := func(name string) (string, error) {
		b, err := sys.ReadFile(ZswapDir + "/" + name)
		return strings.TrimSpace(string(b)), err
	}
	enabled, err := read("enabled")
	if errors.Is(err, fs.ErrNotExist) {
		return z, nil
	}
	if err != nil {
		return z, fmt.Errorf("read %s/enabled: %w", ZswapDir, err)
	}
	z.Supported, z.Enabled = true, enabled == "Y" || enabled == "1"
	z.Compressor, _ = read("compressor")
	if v, err := read("max_pool_percent"); err == nil {
		z.MaxPoolPercent, _ = strconv.Atoi(v)
	}
	stat := func(name string) int64 {
		b, err := sys.ReadFile(zswapStats + "/" + name)
		if err != nil {
			return -1
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return -1
		}
		return n
	}
	z.PoolBytes, z.StoredPages = stat("pool_total_size"), stat("stored_pages")
	return z, nil
}

// planZswap sets zswap's parameters where they differ from s.Zswap: the
// compressor and the pool first, then enabled, so the cache starts as asked.
func planZswap(p *Plan, s Settings, o Observation) {
	want, have := s.Zswap, o.Zswap
	if want == nil || !have.Supported {
		return
	}
	var params []Param
	var why []string
	if want.Enabled {
		if want.Compressor != "" && want.Compressor != have.Compressor {
			params = append(params, Param{ZswapDir + "/compressor", want.Compressor})
			why = append(why, fmt.Sprintf("compressor %s -> %s", have.Compressor, want.Compressor))
		}
		if want.MaxPoolPercent > 0 && want.MaxPoolPercent != have.MaxPoolPercent {
			params = append(params, Param{ZswapDir + "/max_pool_percent", strconv.Itoa(want.MaxPoolPercent)})
			why = append(why, fmt.Sprintf("pool %d%% -> %d%% of RAM", have.MaxPoolPercent, want.MaxPoolPercent))
		}
	}
	if want.Enabled != have.Enabled {
		params = append(params, Param{ZswapDir + "/enabled", map[bool]string{true: "Y", false: "N"}[want.Enabled]})
		why = append(why, fmt.Sprintf("%s -> %s", onOff(have.Enabled), onOff(want.Enabled)))
	}
	if len(params) > 0 {
		p.Actions = append(p.Actions, Action{Kind: ActionZswap, Path: ZswapDir, Params: params, Reason: strings.Join(why, ", ")})
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
