# shellcheck shell=bash
# The memory-pressure part of bench/run.sh (BENCH_PARTS=pressure): sourced by
# run.sh, which owns the temp directory, the log, the cleanup trap (its undo
# stack) and the report. See "Under memory pressure" in docs/benchmarks.md for
# what it measures and why it is set up this way.
# shellcheck disable=SC2154 # work, log, res, repo, py, svg_file, runs_file, undo, R: run.sh's

# EBS gp3's baseline, what every gp3 volume gets without paying for more
# (AWS, "Amazon EBS General Purpose SSD volumes"): 3,000 IOPS and 125 MiB/s.
gp3_iops=3000
gp3_bps=$((125 * 1048576))

# The workload's memory limit and working sets; zswap's pool is sized like a
# 1 GiB instance's (see pool_percent).
p_limit=$((256 << 20))
p_swap=1G # the swapfile, made by swap-bootstrap apply
# The incompressible set is as large as the others: at 2x the limit, what
# goes to swap would nearly fit in zswap's pool, which on cgroup v1 is
# memory outside the limit (zswap stores a page it cannot compress as is).
declare -A p_size=([heap]=$((768 << 20)) [json]=$((768 << 20)) [random]=$((768 << 20)))
p_passes=seq,rand
p_runs=${BENCH_PRESSURE_RUNS:-3}
p_timeout=1800 # one workload run, seconds; a run that takes longer is recorded as failed
p_cases="${BENCH_PRESSURE_CASES:-heap random}"
if [ "${BENCH_QUICK:-}" = 1 ]; then
  p_limit=$((64 << 20)) p_runs=${BENCH_PRESSURE_RUNS:-1}
  p_size=([heap]=$((192 << 20)) [json]=$((192 << 20)) [random]=$((128 << 20)))
fi
p_py=/usr/bin/python3 # Debian's, with python3-lzo; the workload runs with -I

p_log() { echo "bench: pressure: $*" >&2; }

# ---- cgroups ---------------------------------------------------------------

# p_cgroups: finds the memory and I/O controllers (v1 memory + blkio, or v2)
# and makes the workload's cgroup; sets p_cgv, p_cg, p_blk.
p_cgroups() {
  local mem blk parent
  mem=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts)
  blk=$(awk '$3 == "cgroup" && $4 ~ /(^|,)blkio(,|$)/ { print $2; exit }' /proc/mounts)
  if [ -n "$mem" ] && [ -n "$blk" ]; then
    p_cgv=1
    if [ ! -e "$mem/memory.memsw.limit_in_bytes" ]; then
      echo "bench: pressure: cgroup v1 without swap accounting (memory.memsw.*): boot with swapaccount=1" >&2
      return 1
    fi
    # A child of the cgroup this script runs in, so whatever accounts for
    # this script (a session, a CI job) still sees the workload.
    parent=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
    p_cg="$mem${parent%/}/swap-bench-$$"
    # The throttle goes on the root blkio cgroup, and the workload runs in it:
    # on v1 a swap-out write is charged to the root blkio cgroup whatever
    # cgroup its task is in (bio_associate_blkg_from_page looks for a blkio
    # css in the memory hierarchy and finds none), a swap-in read to the
    # faulting task's, and v1 throttling is flat ("limits of a group don't
    # interact with limits of other groups", block/blk-throttle.c).
    p_blk=$blk
  elif [ -e /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers &&
    grep -qw io /sys/fs/cgroup/cgroup.controllers; then
    p_cgv=2
    # Under the root: a v2 cgroup with processes cannot also have children
    # with controllers, so the script's own cgroup may not take one.
    p_cg=/sys/fs/cgroup/swap-bench-$$
    local c
    for c in memory io; do
      if ! grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control; then
        echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
        undo+=("echo -$c >/sys/fs/cgroup/cgroup.subtree_control")
      fi
    done
  else
    echo "bench: pressure: needs cgroup v1 memory and blkio controllers, or v2 with memory and io" >&2
    return 1
  fi
  mkdir "$p_cg"
  undo+=("p_rmcg")
}

p_rmcg() {
  local pid i
  [ -e "$p_cg/cgroup.procs" ] || return 0
  for ((i = 0; i < 100; i++)); do # a workload with its pages in swap takes a moment to exit
    [ -s "$p_cg/cgroup.procs" ] || break
    while read -r pid; do kill -9 "$pid" 2>/dev/null; done <"$p_cg/cgroup.procs"
    sleep 0.1
  done
  rmdir "$p_cg" || echo "bench: could not remove the cgroup $p_cg" >&2
}

# p_limit_set BYTES|max: the memory limit, with room for the whole swapfile in
# swap (v1: memory+swap; v2: swap alone).
p_limit_set() {
  local lim=$1 swap
  swap=$(($(numfmt --from=iec "$p_swap")))
  if [ "$p_cgv" = 1 ]; then
    if [ "$lim" = max ]; then
      echo -1 >"$p_cg/memory.memsw.limit_in_bytes" # first: memsw may not be below the limit
      echo -1 >"$p_cg/memory.limit_in_bytes"
    else
      echo "$lim" >"$p_cg/memory.limit_in_bytes"
      echo $((lim + swap)) >"$p_cg/memory.memsw.limit_in_bytes"
    fi
  else
    echo "$lim" >"$p_cg/memory.max"
    if [ "$lim" = max ]; then echo max >"$p_cg/memory.swap.max"; else echo "$swap" >"$p_cg/memory.swap.max"; fi
  fi
}

# p_in_cg COMMAND...: runs COMMAND in the workload's cgroup (and on v1 in the
# root blkio cgroup, where the throttle is).
p_in_cg() {
  (
    echo "$BASHPID" >"$p_cg/cgroup.procs"
    if [ "$p_cgv" = 1 ]; then echo "$BASHPID" >"$p_blk/cgroup.procs"; fi
    exec "$@"
  )
}

# p_throttle on|off: gp3's baseline on the disk under the swap filesystem.
p_throttle() {
  local v b i f
  if [ "$1" = on ]; then b=$gp3_bps i=$gp3_iops; else b=0 i=0; fi
  if [ "$p_cgv" = 1 ]; then
    for f in read_bps write_bps read_iops write_iops; do
      v=$b
      if [[ $f == *iops ]]; then v=$i; fi
      echo "$p_disk_dev $v" >"$p_blk/blkio.throttle.${f}_device"
    done
  else
    if [ "$1" = on ]; then v="rbps=$b wbps=$b riops=$i wiops=$i"; else v="rbps=max wbps=max riops=max wiops=max"; fi
    echo "$p_disk_dev $v" >"$p_cg/io.max"
  fi
}

# ---- the swap device ---------------------------------------------------------

# Two loop devices: "disk", the image file, is what gets throttled; "swapdev",
# on top of it, holds ext4 and the swapfile. Swap's own bios are not held back
# by a throttle on the device they are submitted to (measured on this script's
# machine: swap-out written at 46 MiB/s under a 10 MiB/s write_bps limit that
# held dd to it); the loop driver turns them into plain direct I/O on the disk
# below, which is throttled, and merges adjacent pages into one request
# first, as EBS counts merged sequential I/O as one operation (AWS, "Amazon
# EBS I/O characteristics": up to 256 KiB on SSD volumes).
p_device() {
  local img=$work/pressure.img
  truncate -s 1280M "$img" # sparse; the 1 GiB swapfile and room for the probe
  p_disk=$(losetup --direct-io=on --sector-size 4096 --find --show "$img")
  loops+=("$p_disk")
  p_swapdev=$(losetup --direct-io=on --sector-size 4096 --find --show "$p_disk")
  loops+=("$p_swapdev")
  p_disk_dev=$(cat "/sys/block/${p_disk#/dev/}/dev")
  undo+=("p_throttle off")
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$p_swapdev"
  p_dir=$work/mnt-pressure
  mkdir -p "$p_dir"
  mount "$p_swapdev" "$p_dir"
  mounts+=("$p_dir")
  # Highest priority, so that the workload swaps here even if another swap
  # area is active on this machine.
  SWAP_FILE=$p_dir/swapfile SWAP_SIZE=$p_swap SWAP_PRIORITY=32767 "$BENCH_SB" apply 2>>"$log"
  is_active "$p_dir/swapfile"
}

# p_stat DEV: "read_bytes write_bytes read_ios write_ios" of a block device.
p_stat() {
  awk '{ printf "%.0f %.0f %d %d\n", $3 * 512, $7 * 512, $1, $5 }' "/sys/block/${1#/dev/}/stat"
}

# p_probe NAME: fio against a file on the swap filesystem, as the workload
# runs: 4 KiB random reads and writes (IOPS) and 1 MiB sequential (MiB/s).
p_probe() {
  local name=$1 rw bs f=$p_dir/probe
  for rw in randread randwrite read write; do
    bs=4k
    if [ "$rw" = read ] || [ "$rw" = write ]; then bs=1M; fi
    p_in_cg fio --name=probe --filename="$f" --size=64M --direct=1 --ioengine=libaio --iodepth=16 \
      --rw="$rw" --bs="$bs" --runtime=3 --time_based --output-format=json >"$res/probe-$name-$rw.json" 2>>"$log"
  done
  rm -f -- "$f"
  R["probe-$name"]=$("$p_py" - "$res"/probe-"$name"-{randread,randwrite,read,write}.json <<'EOF'
import json, sys
out = []
for name, key, unit in zip(sys.argv[1:], ("read", "write", "read", "write"), ("iops", "iops", "bw", "bw")):
    j = json.load(open(name))["jobs"][0][key]
    out.append("%.0f" % (j["iops"] if unit == "iops" else j["bw_bytes"] / 1048576))
print(" ".join(out))
EOF
)
}

# ---- zswap -----------------------------------------------------------------

zp=/sys/module/zswap/parameters

p_zswap_save() {
  local f
  p_zswap_saved=()
  [ -d "$zp" ] || return 0
  for f in enabled compressor max_pool_percent accept_threshold_percent shrinker_enabled zpool; do
    if [ -e "$zp/$f" ]; then p_zswap_saved+=("$f=$(cat "$zp/$f")"); fi
  done
  undo+=("p_zswap_restore")
}

p_zswap_restore() {
  local kv
  [ "${#p_zswap_saved[@]}" -gt 0 ] || return 0
  echo N >"$zp/enabled" 2>/dev/null
  for kv in "${p_zswap_saved[@]}"; do
    [ "${kv%%=*}" = enabled ] && continue
    echo "${kv#*=}" >"$zp/${kv%%=*}" 2>/dev/null || echo "bench: could not restore zswap ${kv%%=*}=${kv#*=}" >&2
  done
  for kv in "${p_zswap_saved[@]}"; do
    if [ "${kv%%=*}" = enabled ]; then echo "${kv#*=}" >"$zp/enabled"; fi
  done
}

# p_compressors: those the kernel offers, i.e. the compression algorithms
# in /proc/crypto and those zswap accepts when asked for (a modular kernel
# loads them on demand), in the order zswap users know them.
p_compressors() {
  local c list="" orig
  orig=$(cat "$zp/compressor")
  for c in lzo lzo-rle lz4 lz4hc zstd deflate 842 $(awk '/^name/ { n = $3 } /^type/ && ($3 == "scomp" || $3 == "acomp" || $3 == "compression") { print n }' /proc/crypto); do
    [[ " $list " == *" $c "* ]] && continue
    if echo "$c" >"$zp/compressor" 2>/dev/null && [ "$(cat "$zp/compressor")" = "$c" ]; then list+=" $c"; fi
  done
  echo "$orig" >"$zp/compressor"
  echo "${list# }"
}

# zswap's pool limit is a percentage of all RAM; pick the one that gives the
# pool a 1 GiB instance gets from the kernel's default (20 %): about 205 MiB.
# The percentage is whole, so on a big host it is 1 and the pool larger.
p_pool_percent() {
  local total
  total=$(meminfo_kib MemTotal)
  awk -v t="$total" 'BEGIN { p = int(0.20 * 1048576 / t * 100 + 0.5); print (p < 1 ? 1 : p) }'
}

p_zswap_set() { # on COMPRESSOR[+shrinker] | off
  if [ "$1" = off ]; then
    [ -d "$zp" ] && echo N >"$zp/enabled"
    return 0
  fi
  echo N >"$zp/enabled"
  echo "${2%+shrinker}" >"$zp/compressor"
  echo "$p_pool_pct" >"$zp/max_pool_percent"
  # The kernel's defaults, set so that a changed host does not change them;
  # "+shrinker" turns on the shrinker, which writes cold compressed pages
  # back to the swapfile before the pool is full (Linux 6.8+).
  echo 90 >"$zp/accept_threshold_percent"
  if [ -e "$zp/shrinker_enabled" ]; then
    if [[ $2 == *+shrinker ]]; then echo Y >"$zp/shrinker_enabled"; else echo N >"$zp/shrinker_enabled"; fi
  fi
  echo Y >"$zp/enabled"
}

p_zswap_state() {
  [ -d "$zp" ] || return 0
  local f s=""
  for f in enabled compressor max_pool_percent accept_threshold_percent shrinker_enabled; do
    [ -e "$zp/$f" ] && s+="$f=$(cat "$zp/$f") "
  done
  echo "${s% }"
}

# p_other_swap: swap areas other than ours: with the same priority the kernel
# spreads pages over them too (a root test of swap-bootstrap running meanwhile).
p_other_swap() { awk -v f="$p_dir/swapfile" 'NR > 1 && $1 != f { print $1 }' /proc/swaps; }

vmstat_get() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' /proc/vmstat; }

p_dbg_get() { # FILE: a zswap debugfs counter, 0 without debugfs
  if [ -n "$p_dbg" ] && [ -e "$p_dbg/zswap/$1" ]; then cat "$p_dbg/zswap/$1"; else echo 0; fi
}

# ---- one run ---------------------------------------------------------------

# p_run CASE CONFIG ROUND: one workload run; appends a JSON line to
# $res/pressure.jsonl.
p_run() {
  local case=$1 config=$2 round=$3 label want rc=0 t0 t1 s0 s1 k0 k1 wb hit poor zo zi others out state
  case $config in
    ram) label="RAM only (no limit)" ;;
    swap) label="plain swapfile" ;;
    zswap-*+shrinker) label="swapfile + zswap (${config#zswap-}" label="${label%+shrinker}), shrinker on" ;;
    zswap-*) label="swapfile + zswap (${config#zswap-})" ;;
  esac
  if [ "$config" = ram ]; then p_limit_set max; else p_limit_set "$p_limit"; fi
  if [[ $config == zswap-* ]]; then p_zswap_set on "${config#zswap-}"; else p_zswap_set off; fi
  want=$(p_zswap_state)
  sync
  echo 3 >/proc/sys/vm/drop_caches
  # Touch and free 1 GiB first: a VM that hands freed memory back to its
  # hypervisor (virtio-balloon free page reporting) would otherwise make the
  # first touch of every page slow, and RAM only touches the most.
  "$p_py" -c 'b = bytearray(b"\1") * (1 << 30)'
  read -r -a s0 < <(p_stat "$p_swapdev")
  read -r -a k0 < <(p_stat "$p_disk")
  wb=$(vmstat_get zswpwb) hit=$(p_dbg_get pool_limit_hit) poor=$(p_dbg_get reject_compress_poor)
  zo=$(vmstat_get zswpout) zi=$(vmstat_get zswpin)
  others=$(p_other_swap)
  t0=$EPOCHREALTIME
  out=$(p_in_cg timeout "$p_timeout" "$p_py" -I "$repo/bench/pressure.py" run "$work/sample-$case" \
    "${p_size[$case]}" "$p_passes" "$round" 2>>"$log") || rc=$?
  t1=$EPOCHREALTIME
  read -r -a s1 < <(p_stat "$p_swapdev")
  read -r -a k1 < <(p_stat "$p_disk")
  others=$(printf '%s\n%s\n' "$others" "$(p_other_swap)" | sort -u | paste -sd' ' | sed 's/^ *//')
  state=$(p_zswap_state)
  if [ "$state" != "$want" ]; then
    echo "bench: pressure: zswap parameters changed during the run (something else on this machine writes them): $want -> $state" >&2
    return 1
  fi
  [ -n "$out" ] || out=null
  printf '{"case":"%s","config":"%s","label":"%s","round":%d,"seconds":%s,"read_bytes":%d,"written_bytes":%d,"disk_read_ios":%d,"disk_write_ios":%d,"zswpout_pages":%d,"zswpin_pages":%d,"zswpwb_pages":%d,"pool_limit_hit":%d,"reject_compress_poor":%d,"other_swap":"%s","exit":%d,"workload":%s}\n' \
    "$case" "$config" "$label" "$round" "$(awk "BEGIN { print $t1 - $t0 }")" \
    $((s1[0] - s0[0])) $((s1[1] - s0[1])) $((k1[2] - k0[2])) $((k1[3] - k0[3])) \
    $(($(vmstat_get zswpout) - zo)) $(($(vmstat_get zswpin) - zi)) \
    $(($(vmstat_get zswpwb) - wb)) $(($(p_dbg_get pool_limit_hit) - hit)) $(($(p_dbg_get reject_compress_poor) - poor)) \
    "$others" "$rc" "$out" >>"$res/pressure.jsonl"
  printf '  %-7s %-22s run %d  %8.2f s  written %5d MiB  read %5d MiB%s\n' "$case" "$config" "$round" \
    "$(awk "BEGIN { print $t1 - $t0 }")" $(((s1[1] - s0[1]) >> 20)) $(((s1[0] - s0[0]) >> 20)) \
    "$([ "$rc" = 0 ] || echo "  FAILED (exit $rc)")" >&2
}

# ---- the part ----------------------------------------------------------------

bench_pressure() {
  local c k round configs i lock
  # zswap's parameters are global: a test that sets them while this runs
  # changes what is measured (and this changes what the test sees). Both
  # take this lock.
  exec {lock}>/run/lock/swap-bootstrap-zswap.lock
  if ! flock -w 900 "$lock"; then
    echo "bench: pressure: /run/lock/swap-bootstrap-zswap.lock is still held after 15 min (a zswap test running?)" >&2
    return 1
  fi
  p_log "setting up (cgroups, throttled loop device, swapfile, zswap)"
  p_cgroups
  p_zswap_save
  p_dbg=""
  if [ -d /sys/kernel/debug/zswap ]; then
    p_dbg=/sys/kernel/debug
  elif [ -d "$zp" ]; then
    # zswap's counters (pool limit hits, poorly compressible pages) are in
    # debugfs only; a private mount, unmounted by the cleanup.
    mkdir -p "$work/debugfs"
    if mount -t debugfs none "$work/debugfs" 2>>"$log"; then
      mounts+=("$work/debugfs")
      p_dbg=$work/debugfs
    fi
  fi
  p_device
  if [ -n "$(p_other_swap)" ]; then
    p_log "other swap areas are active ($(p_other_swap | paste -sd' ')); runs that share them are flagged"
  fi

  # The data, made once; the workload copies it end to end.
  for c in $p_cases; do
    PYTHONHASHSEED=0 "$p_py" -I "$repo/bench/pressure.py" sample "$c" $((16 << 20)) "$work/sample-$c" >"$res/sample-$c.json"
    "$p_py" "$repo/bench/pressure.py" ratio "$work/sample-$c" >"$res/ratio-$c.json"
    p_log "sample $c: $(cat "$res/sample-$c.json") per-page ratio $(cat "$res/ratio-$c.json")"
  done

  p_probe unthrottled
  p_throttle on
  p_probe throttled
  p_log "device (fio, 4k rand read/write IOPS, 1M read/write MiB/s): unthrottled ${R["probe-unthrottled"]}, throttled ${R["probe-throttled"]}"

  configs="ram swap"
  p_comp=""
  p_pool_pct=""
  if [ -d "$zp" ]; then
    p_comp=${BENCH_PRESSURE_COMPRESSORS:-$(p_compressors)}
    p_pool_pct=$(p_pool_percent)
    for c in $p_comp; do
      configs+=" zswap-$c"
      if [ "${BENCH_PRESSURE_SHRINKER:-}" = 1 ] && [ -e "$zp/shrinker_enabled" ]; then configs+=" zswap-$c+shrinker"; fi
    done
  else
    p_log "this kernel has no zswap (/sys/module/zswap missing): only RAM only and plain swap"
  fi
  : >"$res/pressure.jsonl"
  # Rounds, and within a round the configurations in a rotated order, so
  # that no configuration always follows the same one.
  read -r -a configs <<<"$configs"
  for ((round = 1; round <= p_runs; round++)); do
    for c in $p_cases; do
      for ((i = 0; i < ${#configs[@]}; i++)); do
        k=${configs[(i + round - 1) % ${#configs[@]}]}
        p_run "$c" "$k" "$round"
      done
    done
  done
  p_zswap_set off
  p_throttle off
  "$p_py" "$repo/bench/pressure.py" report "$res/pressure.jsonl" "$res/pressure.md" "$svg_file"
  cp "$res/pressure.jsonl" "$runs_file"
  p_log "wrote $svg_file"
}

# p_report: the "Under memory pressure" section of docs/benchmarks.md.
p_report() {
  local c pool_mib ratios="" probe_u probe_t cgnote heap_mib random_mib
  heap_mib=$((p_size[heap] >> 20)) random_mib=$((p_size[random] >> 20))
  read -r -a probe_u <<<"${R["probe-unthrottled"]}"
  read -r -a probe_t <<<"${R["probe-throttled"]}"
  for c in $p_cases; do
    ratios+="$(printf '\n| %s | %s | %s |' "$c" "$(python3 "$py" json-get deflate "$res/ratio-$c.json")" \
      "$(python3 "$py" json-get lzo "$res/ratio-$c.json" 2>/dev/null || echo '—')")"
  done
  pool_mib=$(awk -v t="$(meminfo_kib MemTotal)" -v p="$p_pool_pct" 'BEGIN { printf "%.0f", t * p / 100 / 1024 }')
  if [ "$p_cgv" = 1 ]; then
    cgnote="This machine has **cgroup v1**: zswap's compressed pool is not charged to the workload's
cgroup, so with zswap the workload has its $((p_limit >> 20)) MiB plus up to the pool's ${pool_mib} MiB of the host's
memory, which flatters zswap against plain swap. On cgroup v2 the pool is charged to the cgroup
(\`memory.zswap.current\` counts in \`memory.current\`): there the same limit holds both."
  else
    cgnote="This machine has **cgroup v2**: zswap's compressed pool is charged to the workload's cgroup
(\`memory.zswap.current\` counts in \`memory.current\`), so pool and pages share the limit. On
cgroup v1 the pool is not charged, and there zswap gets extra memory outside the limit."
  fi
  cat <<EOF
## Under memory pressure

A process in a memory cgroup limited to $((p_limit >> 20)) MiB works on a set larger than that, so its
pages go to swap and come back. Swap is a ${p_swap%G} GiB swapfile made by \`swap-bootstrap apply\` on ext4 on a
loop device throttled like EBS gp3's baseline ($gp3_iops IOPS and $((gp3_bps >> 20)) MiB/s, read and write);
zswap's pool is capped at ${p_pool_pct} % of this machine's RAM, ${pool_mib} MiB, about what a 1 GiB instance gets
with the kernel's default of 20 %. Medians of $p_runs runs.

    BENCH_PARTS=pressure sudo ./bench/run.sh

$cgnote

![median wall time and swap-device I/O per configuration]($(basename "$svg_file"))

$(cat "$res/pressure.md")

Working sets: **heap** is $heap_mib MiB, $((heap_mib / (p_limit >> 20)))× the limit, copied from the
resident heap of a CPython process holding the parsed iso-codes JSON documents (dicts, lists and
strings of country, language and currency names in many scripts; all-zero pages left out, because swap
stores those without I/O); **random** is $random_mib MiB of bytes from a seeded PRNG, incompressible.
The workload (\`bench/pressure.py run\`) maps the set with 4 KiB pages, fills it, then makes one
sequential and one random pass, reading and rewriting 8 bytes of every page.

| sample | per-page ratio, deflate | per-page ratio, lzo |
|---|---|---|$ratios

Per-page ratio: original over compressed size, each 4 KiB page on its own, in user space (zlib with
the kernel's deflate parameters; lzo1x-1 through python3-lzo); the pool ratio in the table above is
the kernel's own (\`Zswapped\` over \`Zswap\` in \`/proc/meminfo\`, at its peak in the run), allocator
overhead included.

The throttle, measured with fio (direct I/O, queue depth 16, 3 s each) on a file on the swap
filesystem: 4 KiB random reads ${probe_t[0]} IOPS and writes ${probe_t[1]} IOPS, 1 MiB reads ${probe_t[2]} MiB/s and
writes ${probe_t[3]} MiB/s (unthrottled: ${probe_u[0]} and ${probe_u[1]} IOPS, ${probe_u[2]} and ${probe_u[3]} MiB/s).

- **Where the throttle sits.** The swapfile's filesystem is on one loop device stacked on a second
  one that holds the image; the lower one is throttled (cgroup v1:
  \`blkio.throttle.{read,write}_{iops,bps}_device\` on the root blkio cgroup, the workload in that
  cgroup; v2: \`io.max\` on the workload's cgroup). Throttling the device swap writes to directly does
  not work: while this benchmark was written (Linux 6.18, cgroup v1) swap-out was written at 46 MiB/s
  under a 10 MiB/s \`write_bps\` limit that held \`dd oflag=direct\` to it. On cgroup v1 swap-out writes are charged to the root blkio cgroup
  whatever cgroup the task is in, swap-in reads to the faulting task's, and v1 limits are flat (a
  parent's limit does not cover its children), hence the root cgroup for both. The loop driver merges
  adjacent pages into one request before the lower device sees it, as EBS counts merged sequential
  I/O up to 256 KiB as one operation.
- **Per direction.** The throttle limits reads and writes separately (blkio and \`io.max\` have no
  combined limit), while gp3's 3,000 IOPS and 125 MiB/s are for reads and writes together: with both
  under way this device can do up to twice the baseline. If anything, plain swap is faster here than
  on gp3, and zswap's gain understated.
- **Every run** is in [$(basename "$runs_file")]($(basename "$runs_file")), one JSON object a line, with the
  workload's phase times and zswap's counters.
- **Device bytes** are the swap device's (\`/sys/block/loopN/stat\`, sectors read and written) over
  the run; zswap's write-back column is \`zswpwb\` from \`/proc/vmstat\`.
- **Same start for every run:** \`sync\`, \`drop_caches\`, then 1 GiB touched and freed by a throwaway
  process (a VM that hands freed memory back to its hypervisor makes the first touch of a page slow,
  and RAM only touches the most); the zswap parameters are set before each run and checked after it.
  Rounds run the configurations in rotated order.
- **zswap settings:** enabled, the compressor under test, \`max_pool_percent=${p_pool_pct}\`,
  \`accept_threshold_percent=90\` and \`shrinker_enabled=N\` (the kernel's defaults; Y in a configuration
  marked "shrinker on"); everything
  this part changes (zswap parameters, throttles) is restored at the end and on failure.
EOF
}
