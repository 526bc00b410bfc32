#!/usr/bin/env python3
"""The memory-pressure workload of bench/run.sh (BENCH_PARTS=pressure), its
data, and its report. Standard library only (python3-lzo is used when present,
for the sample's lzo ratio).

    pressure.py sample heap|json|random BYTES OUT   write a data sample (see below)
    pressure.py ratio FILE                          per-page compressibility of a sample, JSON
    pressure.py run SAMPLE BYTES PASSES SEED        the workload; prints its phase times, JSON
    pressure.py report RESULTS.jsonl MD SVG         medians, the markdown table and the chart

The workload (run) maps BYTES of anonymous memory with 4 KiB pages
(MADV_NOHUGEPAGE), fills it by copying SAMPLE end to end, then makes PASSES
over it (comma-separated: "seq" in address order, "rand" in a shuffled order
seeded by SEED); each pass reads and rewrites the first 8 bytes of every page,
as a program that walks and mutates its heap does. Under a memory limit
smaller than BYTES every pass faults pages back in from swap and pushes others
out. It is meant to run in a memory cgroup; it does not set one up itself.

Samples (BYTES of each, made once per benchmark run; swap compresses page by
page, so a sample repeated end to end compresses like the sample itself):

    heap    the resident heap of a CPython process holding the parsed iso-codes
            JSON documents (/usr/share/iso-codes/json: dicts, lists and str of
            country, language, currency and script names in many scripts),
            read from /proc/self/mem; all-zero pages are left out, because
            swap stores those without compressing or writing anything and they
            would flatter every configuration;
    json    the same JSON documents as text, concatenated;
    random  bytes from a PRNG seeded with a constant: incompressible.
"""

import glob
import gc
import json
import math
import mmap
import os
import random
import statistics
import sys
import time
import zlib

PAGE = mmap.PAGESIZE
CORPUS = "/usr/share/iso-codes/json/iso_*.json"


def corpus_files():
    files = sorted(glob.glob(CORPUS))
    if not files:
        raise SystemExit("pressure.py: no JSON corpus at %s; install iso-codes (apt-get install iso-codes)" % CORPUS)
    return files


def sample_heap(size):
    # Parse the corpus again and again, keeping every result, until the
    # interpreter's heap holds enough non-zero pages; then read them back.
    texts = []
    for name in corpus_files():
        with open(name, encoding="utf-8") as f:
            texts.append(f.read())
    kept = []
    while True:
        for t in texts:
            kept.append(json.loads(t))
        n, zero, _ = heap_pages(False)
        if n * PAGE >= size:
            break
    gc.collect()
    n, zero, data = heap_pages(True)
    return bytes(data[:size]), {"heap_resident_pages": n + zero, "heap_zero_pages": zero, "objects_kept": len(kept)}


def heap_pages(keep):
    """Counts the non-zero and the all-zero pages of this process's writable
    private anonymous mappings (the malloc heap, pymalloc arenas, large
    objects) and, with keep, returns the non-zero ones in address order. The
    mappings are listed first and the copy grows in memory of its own, so the
    copy does not read itself."""
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            path = fields[5] if len(fields) > 5 else ""
            if fields[1] == "rw-p" and path in ("", "[heap]"):
                ranges.append(tuple(int(a, 16) for a in fields[0].split("-")))
    n = zero = 0
    out = bytearray() if keep else None
    zpage = bytes(PAGE)
    with open("/proc/self/mem", "rb", buffering=0) as mem:
        for lo, hi in ranges:
            mem.seek(lo)
            try:
                chunk = memoryview(mem.read(hi - lo))
            except OSError:
                continue
            for o in range(0, len(chunk), PAGE):
                p = chunk[o : o + PAGE]
                if p == zpage:
                    zero += 1
                else:
                    n += 1
                    if keep:
                        out += p
    return n, zero, out


def sample_json(size):
    out = bytearray()
    files = corpus_files()
    while len(out) < size:
        for name in files:
            with open(name, "rb") as f:
                out += f.read()
    return bytes(out[:size]), {"corpus_bytes": sum(os.path.getsize(n) for n in files)}


def sample_random(size):
    return random.Random(13).randbytes(size), {}


def ratio(path):
    """Per-page compressibility: original bytes over compressed bytes, each
    4 KiB page compressed on its own as zswap does. deflate with the kernel's
    crypto/deflate.c parameters (raw, 2^11 window, default level); lzo is
    lzo1x_1 (the kernel's lzo; lzo-rle adds run-length coding of zero runs)
    when python3-lzo is installed. A page that does not shrink counts as a
    whole page (zswap keeps no compressed copy bigger than the page)."""
    with open(path, "rb") as f:
        data = f.read()
    n = len(data) // PAGE
    out = {"pages": n}
    comp = {"deflate": lambda p: zlib_raw(p)}
    try:
        import lzo  # python3-lzo

        comp["lzo"] = lambda p: lzo.compress(p, 1, False)
    except ImportError:
        pass
    for name, fn in comp.items():
        total = 0
        for i in range(n):
            total += min(PAGE, len(fn(data[i * PAGE : (i + 1) * PAGE])))
        out[name] = round(n * PAGE / total, 2)
    return out


def zlib_raw(p):
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -11, 9)
    return c.compress(p) + c.flush()


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0]) * 1024
    return out


def run(sample_path, size, passes, seed):
    t0 = time.monotonic()
    with open(sample_path, "rb") as f:
        sample = f.read()
    npages = size // PAGE
    size = npages * PAGE
    orders = []
    rng = random.Random(seed)
    for p in passes:
        if p == "seq":
            orders.append(("seq", range(npages)))
        elif p == "rand":
            o = list(range(npages))
            rng.shuffle(o)
            orders.append(("rand", o))
        else:
            raise SystemExit("pressure.py: pass %r: use seq or rand" % p)
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    # Swap works on 4 KiB pages for most heaps: THP is "madvise" on Amazon
    # Linux 2023 and Ubuntu, and runtimes rarely ask for it.
    m.madvise(mmap.MADV_NOHUGEPAGE)
    times = {}
    peak = {"Zswap": 0, "Zswapped": 0}

    def note_pool():
        mi = meminfo()
        if mi.get("Zswapped", 0) > peak["Zswapped"]:
            peak["Zswap"], peak["Zswapped"] = mi.get("Zswap", 0), mi["Zswapped"]

    t = time.monotonic()
    n = len(sample)
    for off in range(0, size, n):
        k = min(n, size - off)
        m[off : off + k] = sample[:k]
    del sample
    times["fill"] = time.monotonic() - t
    note_pool()
    for i, (name, order) in enumerate(orders):
        t = time.monotonic()
        for pg in order:
            o = pg * PAGE
            v = int.from_bytes(m[o : o + 8], "little")
            m[o : o + 8] = ((v + 1) & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
        times["%d-%s" % (i + 1, name)] = time.monotonic() - t
        note_pool()
    m.close()
    times["total"] = time.monotonic() - t0
    return {"seconds": {k: round(v, 3) for k, v in times.items()}, "zswap_peak": peak}


# ---- report ---------------------------------------------------------------


def fmt_s(s):
    return "%.2f s" % s if s < 100 else "%.0f s" % s


def fmt_b(b):
    if b < 1 << 20:
        return "%.0f KiB" % (b / 1024)
    if b < 1 << 30:
        return "%.0f MiB" % (b / (1 << 20))
    return "%.2f GiB" % (b / (1 << 30))


def passes_seconds(r):
    w = r.get("workload") or {}
    secs = w.get("seconds", {})
    return sum(v for k, v in secs.items() if k[:1].isdigit())


def pool_ratio(r):
    peak = (r.get("workload") or {}).get("zswap_peak", {})
    return peak["Zswapped"] / peak["Zswap"] if peak.get("Zswap") else None


def ok_med(med, case, config):
    m = med.get((case, config))
    return m if m and "seconds" in m else None


def paired(runs, case, config, ref):
    """The median over rounds of config's time over ref's in the same round:
    a round runs every configuration back to back, so this cancels what
    changed between rounds (other load on the machine) better than a ratio
    of medians."""
    by = {}
    for r in runs:
        if r["case"] == case and r.get("exit", 0) == 0 and r["config"] in (config, ref):
            by.setdefault(r["round"], {})[r["config"]] = r["seconds"]
    q = [d[config] / d[ref] for d in by.values() if config in d and ref in d]
    return statistics.median(q) if q else None


def speed(base, t):
    return "%.1f× faster" % (base / t) if t <= base else "%.1f× slower" % (t / base)


def report(results_path, md_path, svg_path):
    """Reads the per-run records bench/pressure.sh appended to RESULTS (one
    JSON object a line: case, config, label, seconds, read_bytes,
    written_bytes, zswpwb_pages, exit, and the workload's own output) and
    writes the targets and the table to MD and the chart to SVG."""
    runs = []
    with open(results_path) as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))
    cases, configs, labels = [], [], {}
    for r in runs:
        if r["case"] not in cases:
            cases.append(r["case"])
        if r["config"] not in configs:
            configs.append(r["config"])
        labels[r["config"]] = r["label"]
    order = {"ram": 0, "swap": 1}
    configs.sort(key=lambda k: order.get(k, 2))
    med = {}
    for c in cases:
        for k in configs:
            every = [r for r in runs if r["case"] == c and r["config"] == k]
            if not every:
                continue
            # A run that failed (killed by the OOM killer, timed out) has no
            # time worth a median; it is counted and shown instead.
            rs = [r for r in every if r.get("exit", 0) == 0]
            m = {
                "n": len(every),
                "failed": len(every) - len(rs),
                # Pages zswap took in a run without zswap: something else on
                # the machine turned it on meanwhile.
                "disturbed": sum(1 for r in every if not k.startswith("zswap") and r.get("zswpout_pages", 0) > 0),
                "shared": sum(1 for r in every if r.get("other_swap")),
            }
            if rs:
                ratios = [x for x in (pool_ratio(r) for r in rs) if x]
                m.update(
                    {
                        "seconds": statistics.median(r["seconds"] for r in rs),
                        "min": min(r["seconds"] for r in rs),
                        "max": max(r["seconds"] for r in rs),
                        "passes": statistics.median(passes_seconds(r) for r in rs),
                        "read": statistics.median(r["read_bytes"] for r in rs),
                        "written": statistics.median(r["written_bytes"] for r in rs),
                        "ratio": statistics.median(ratios) if ratios else None,
                        "wb": statistics.median(r.get("zswpwb_pages", 0) for r in rs) * PAGE,
                    }
                )
            med[c, k] = m
    lines = [
        "| working set | configuration | wall time, median (min–max) | of which the passes | device written | device read | vs plain swap | vs RAM only | zswap pool ratio | zswap wrote back |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        base, ram = ok_med(med, c, "swap"), ok_med(med, c, "ram")
        for k in configs:
            m = med.get((c, k))
            if not m:
                continue
            flags = (
                (" **%d of %d runs failed**" % (m["failed"], m["n"]) if 0 < m["failed"] < m["n"] else "")
                + (" **zswap was on in %d of %d runs**" % (m["disturbed"], m["n"]) if m["disturbed"] else "")
                + (" **another swap area was active in %d of %d runs**" % (m["shared"], m["n"]) if m["shared"] else "")
            )
            if "seconds" not in m:
                lines.append("| %s | %s | every run failed (%d)%s | — | — | — | — | — | — | — |" % (c, labels[k], m["n"], flags))
                continue
            zs = k.startswith("zswap")
            lines.append(
                "| %s | %s | %s (%s–%s)%s | %s | %s | %s | %s | %s | %s | %s |"
                % (
                    c,
                    labels[k],
                    fmt_s(m["seconds"]),
                    fmt_s(m["min"]),
                    fmt_s(m["max"]),
                    flags,
                    fmt_s(m["passes"]),
                    fmt_b(m["written"]),
                    fmt_b(m["read"]),
                    speed(base["seconds"], m["seconds"]) if base and k not in ("swap", "ram") else "—",
                    speed(ram["seconds"], m["seconds"]) if ram and k != "ram" else "—",
                    "%.2f" % m["ratio"] if zs and m["ratio"] else "—",
                    fmt_b(m["wb"]) if zs else "—",
                )
            )
    targets = ["| figure | measured | target | met? |", "|---|---|---|---|"]
    verdict = {}
    for c in cases:
        base, ram = ok_med(med, c, "swap"), ok_med(med, c, "ram")
        if not base or not ram:
            continue
        compressible = c != "random"
        for k in configs:
            m = med.get((c, k))
            if not k.startswith("zswap") or not m:
                continue
            if "seconds" not in m:
                targets.append("| %s, %s | every run failed | — | **no** |" % (c, labels[k]))
                verdict.setdefault(k, []).append(False)
                continue
            if paired(runs, c, k, "swap") is None or paired(runs, c, k, "ram") is None:
                continue  # no round where both finished
            if compressible:
                f, r = 1 / paired(runs, c, k, "swap"), paired(runs, c, k, "ram")
                ok = f >= 5 and r <= 10 and not m["failed"]
                targets.append(
                    "| %s, %s: faster than plain swap / slower than RAM only | %.1f× / %.1f× | ≥ 5× / ≤ 10× | %s |"
                    % (c, labels[k], f, r, "yes" if ok else "**no**")
                )
            else:
                r = paired(runs, c, k, "swap")
                ok = r <= 1.0 and not m["failed"]
                targets.append(
                    "| %s, %s: wall time ÷ plain swap's | %.2f× | ≤ 1.0× (no slower) | %s |" % (c, labels[k], r, "yes" if ok else "**no**")
                )
            verdict.setdefault(k, []).append(ok)
    held = [labels[k] for k, v in verdict.items() if v and all(v)]
    with open(md_path, "w") as f:
        f.write("\n".join(targets) + "\n\n")
        f.write(
            "Ratios in the targets are medians over rounds of the ratio within a round (the configurations of a"
            " round run back to back); those in the table below are ratios of medians. A run that failed counts"
            " against its configuration's target.\n\n"
        )
        f.write("Every target held with: %s.\n\n" % (", ".join(held) if held else "none of the zswap configurations"))
        f.write("\n".join(lines) + "\n")
    with open(svg_path, "w") as f:
        f.write(chart(cases, configs, labels, med))


def chart(cases, configs, labels, med):
    """Two panels side by side per working set: median wall time (log scale,
    RAM-only to plain swap spans two orders of magnitude) and device bytes
    written and read (linear)."""
    colors = {"ram": "#7f7f7f", "swap": "#d62728"}
    palette = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
    for i, k in enumerate(k for k in configs if k not in colors):
        colors[k] = palette[i % len(palette)]
    bar, gap, left, panel = 16, 22, 210, 330
    width = left + 2 * panel + 60
    y = 40
    out = []

    def text(x, y, s, anchor="start", size=12, weight="normal"):
        s = s.replace("&", "&amp;").replace("<", "&lt;")
        out.append('<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" font-weight="%s">%s</text>' % (x, y, size, anchor, weight, s))

    ok = [m for m in med.values() if "seconds" in m]
    tmax = max(m["seconds"] for m in ok)
    tmin = min(m["seconds"] for m in ok)
    lo, hi = math.floor(math.log10(tmin)), math.ceil(math.log10(tmax))
    bmax = max(max(m["read"], m["written"]) for m in ok) or 1
    bstep = 1 << 30 if bmax > 2 << 30 else 256 << 20

    def tx(s):
        return left + (math.log10(s) - lo) / (hi - lo) * (panel - 20)

    def bx(b):
        return left + panel + 30 + b / bmax * (panel - 150)

    text(width / 2, 20, "Memory-pressure benchmark: median wall time and swap-device I/O", "middle", 14, "bold")
    for c in cases:
        rows = [k for k in configs if (c, k) in med]
        h = len(rows) * (bar + 4)
        text(10, y + 14, c, weight="bold")
        y += 22
        # axes
        for e in range(lo, hi + 1):
            x = tx(10**e)
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, y - 4, x, y + h))
            text(x, y + h + 14, "%g s" % 10**e, "middle", 10)
        v = 0
        while v <= bmax:
            x = bx(v)
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, y - 4, x, y + h))
            text(x, y + h + 14, fmt_b(v) if v else "0", "middle", 10)
            v += bstep
        for k in rows:
            m = med[c, k]
            text(left - 8, y + bar - 4, labels[k], "end", 11)
            if "seconds" not in m:
                text(left + 4, y + bar - 4, "every run failed (%d)" % m["n"], size=10)
                y += bar + 4
                continue
            out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (left, y, max(1, tx(m["seconds"]) - left), bar, colors[k]))
            text(tx(m["seconds"]) + 4, y + bar - 4, fmt_s(m["seconds"]), size=10)
            x0 = bx(0)
            hw = bar / 2
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%.1f" fill="%s"/>' % (x0, y, max(0.5, bx(m["written"]) - x0), hw, colors[k]))
            out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.45"/>' % (x0, y + hw, max(0.5, bx(m["read"]) - x0), hw, colors[k]))
            io = "%s written, %s read" % (fmt_b(m["written"]), fmt_b(m["read"])) if m["written"] or m["read"] else "none"
            text(max(bx(m["written"]), bx(m["read"])) + 4, y + bar - 4, io, size=10)
            y += bar + 4
        y += 26
    text(left + (panel - 20) / 2, 52, "wall time (log scale)", "middle", 11)
    text(left + panel + 30 + (panel - 150) / 2, 52, "swap-device bytes: written (dark), read (light)", "middle", 11)
    head = '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">' % (width, y)
    return "\n".join([head, '<rect width="100%" height="100%" fill="white"/>'] + out + ["</svg>", ""])


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "sample":
        kind, size, path = args[0], int(args[1]), args[2]
        make = {"heap": sample_heap, "json": sample_json, "random": sample_random}.get(kind)
        if not make:
            print("pressure.py: sample %r: use heap, json or random" % kind, file=sys.stderr)
            return 2
        data, info = make(size)
        if len(data) < size:
            print("pressure.py: sample %s: only %d bytes" % (kind, len(data)), file=sys.stderr)
            return 1
        with open(path, "wb") as f:
            f.write(data)
        print(json.dumps(info))
    elif cmd == "ratio":
        print(json.dumps(ratio(args[0])))
    elif cmd == "run":
        print(json.dumps(run(args[0], int(args[1]), [p for p in args[2].split(",") if p], int(args[3]))))
    elif cmd == "report":
        report(*args)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
