#!/usr/bin/env bash
# Measures swap-bootstrap against what it replaces and against the floor of
# what the kernel needs, and what swap costs a workload under memory pressure,
# and writes the results to docs/benchmarks.md. Four parts (BENCH_PARTS):
#
#   swapfile  time to an active 2 GiB and 8 GiB swapfile on loop-mounted ext4,
#             XFS and btrfs and on the root filesystem: `swap-bootstrap apply`
#             vs `fallocate && chmod && mkswap && swapon` vs the dd snippet it
#             replaces; the no-op run, `plan` and `status`; peak RSS and the
#             size of the stripped static binaries (amd64, arm64);
#   zero      the zero-fill path (SWAP_ALLOCATE=zero) against `dd conv=fsync`
#             and `dd oflag=direct` (1 and 8 MiB writes), and the page cache
#             each leaves behind, on the same filesystems;
#   metadata  the metadata phase against amazon-ec2-metadata-mock on
#             127.0.0.1, and the time to give up on an endpoint that never
#             answers;
#   pressure  a process in a memory cgroup working on 2-3x its limit, swapping
#             to a swapfile on a loop device throttled like EBS gp3: RAM only
#             vs plain swap vs zswap with each compressor the kernel offers,
#             wall time and device bytes, and a chart (bench/pressure.sh).
#
#   sudo ./bench/run.sh                           # everything (1-2 hours, most of it the pressure part)
#   BENCH_PARTS=pressure sudo ./bench/run.sh      # one part; the others' sections are kept
#   BENCH_FS="ext4 root" sudo -E ./bench/run.sh   # fewer filesystems
#   BENCH_PRESSURE_CASES="heap json random" …     # working sets (default heap random)
#   BENCH_PRESSURE_COMPRESSORS="lzo-rle" …        # zswap compressors (default: all the kernel offers)
#   BENCH_PRESSURE_RUNS=5 …                       # runs per configuration (default 3)
#   BENCH_PRESSURE_SHRINKER=1 …                   # also each compressor with zswap's shrinker on
#   BENCH_OUT=/tmp/b.md sudo -E ./bench/run.sh    # write elsewhere
#   BENCH_QUICK=1 …                               # one or two runs each, small sets: a smoke test
#
# It installs what it needs (hyperfine, GNU time, fio, xfsprogs, btrfs-progs,
# iso-codes, python3-lzo, the metadata emulator), builds the binaries itself,
# and works only in a temp directory under /var/tmp: SWAP_FSTAB,
# SWAP_SYSCTL_FILE and SWAP_LOCK_FILE point there, so the host's /etc/fstab and
# /etc/sysctl.d are never touched. Loop images are sparse (12 GiB each, up to
# ~40 GiB written in total at the peak). A trap turns off every swapfile it
# enabled, restores every kernel parameter it changed (zswap, blkio
# throttles), removes its cgroup, unmounts, detaches the loop devices and
# deletes everything, on any exit.
#
# Each part writes its own section of the output file; a run of some parts
# keeps the sections of the others. Text below the line "<!-- notes -->" is
# kept across runs.
set -euo pipefail

# ---- steps hyperfine runs around the measured commands ---------------------
# They come first so that `run.sh __reset …` does not parse the rest.

meminfo_kib() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

is_active() { awk -v f="$1" 'NR > 1 && $1 == f { found = 1 } END { exit !found }' /proc/swaps; }

# reset_state FILE FSTAB [OPTIONS]: the state every measured run starts from:
# no swapfile (nor swap-bootstrap's hidden temp file), a one-line fstab,
# nothing dirty or cached from the previous run, the programs themselves
# cached. OPTIONS, comma-separated: "nocow" leaves an empty NOCOW file (btrfs);
# "settle" waits until the memory just freed has been handed back to the
# hypervisor; "backed" then fills and frees 2.25 GiB of page cache, so that
# the next writer gets memory the hypervisor still backs (see "How it was
# measured" in the report).
reset_state() {
  local file=$1 fstab=$2 opts=",${3:-}," f
  for f in "$file" "$(dirname "$file")/.$(basename "$file").swap-bootstrap-tmp"; do
    if is_active "$f"; then swapoff "$f"; fi
    rm -f -- "$f"
  done
  printf '# <file system> <mount point> <type> <options> <dump> <pass>\n/dev/vda / ext4 rw,relatime 0 1\n' >"$fstab"
  sync
  echo 3 >/proc/sys/vm/drop_caches
  # drop_caches also evicts the programs; load them again so that a run pays
  # for its work, not for reading its own binary and libraries from disk.
  "$BENCH_SB" version >/dev/null
  for f in fallocate mkswap swapon chmod dd touch /usr/bin/time; do "$f" --version >/dev/null 2>&1 || true; done
  chattr >/dev/null 2>&1 || true
  if [[ $opts == *,nocow,* ]]; then
    : >"$file"
    chattr +C "$file"
  fi
  if [[ $opts == *,settle,* ]]; then sleep "$settle_seconds"; fi
  if [[ $opts == *,backed,* ]]; then
    f="$(dirname "$file")/.bench-backed"
    dd if=/dev/zero of="$f" bs=1M count=2304 status=none
    sync
    rm -f -- "$f"
    sync
  fi
}
settle_seconds=3

# measure_cache OUT FILE COMMAND...: runs COMMAND under GNU time and appends
# "seconds, Cached before (KiB), Cached after (KiB), peak RSS (KiB), bytes of
# FILE resident in the page cache after" to OUT.
measure_cache() {
  local out=$1 file=$2 before after start end
  shift 2
  before=$(meminfo_kib Cached)
  start=$EPOCHREALTIME
  /usr/bin/time -v -o "$out.time" "$@"
  end=$EPOCHREALTIME
  after=$(meminfo_kib Cached)
  printf '%s %s %s %s %s\n' "$(awk "BEGIN { print $end - $start }")" "$before" "$after" \
    "$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out.time")" "$(fincore -bn -o RES "$file")" >>"$out"
}

case "${1:-}" in
  __reset)
    shift
    reset_state "$@"
    exit 0
    ;;
  "") ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
    ;;
esac

# ---- set up ------------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
  echo "bench: needs root (loop mounts, swapon, drop_caches); run: sudo ./bench/run.sh" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
repo=$PWD
self="$repo/bench/run.sh"
py="$repo/bench/measure.py"
out_file="${BENCH_OUT:-$repo/docs/benchmarks.md}"
svg_file="$(dirname "$out_file")/$(basename "$out_file" .md)-pressure.svg"
runs_file="$(dirname "$out_file")/$(basename "$out_file" .md)-pressure.jsonl" # every pressure run, raw
filesystems="${BENCH_FS:-ext4 xfs btrfs root}"
all_parts="swapfile zero metadata pressure"
parts="${BENCH_PARTS:-$all_parts}"
for p in $parts; do
  if [[ " $all_parts " != *" $p "* ]]; then
    echo "bench: BENCH_PARTS=\"$parts\": no part \"$p\"; use some of: $all_parts" >&2
    exit 2
  fi
done
has_part() { [[ " $parts " == *" $1 "* ]]; }
aemm_version=$(tools/install.sh --version ec2-metadata-mock)
started=$(date +%s)

# Runs per measurement (medians are reported). The dd snippets write real
# data, so they run fewer times.
runs_fast=10     # apply / floor at 2 GiB
runs_fast8=10    # apply / floor at 8 GiB
runs_dd2=3       # dd snippet at 2 GiB
runs_dd8=2       # dd snippet at 8 GiB
runs_noop=30     # no-op apply, plan, status
runs_zero=3      # SWAP_ALLOCATE=zero apply, dd conv=fsync, dd oflag=direct (1 and 8 MiB), 2 GiB
runs_meta=20     # plan against the metadata emulator
runs_silent=3    # plan against a silent endpoint
if [ "${BENCH_QUICK:-}" = 1 ]; then # does the script work? (numbers not worth keeping)
  runs_fast=2 runs_fast8=1 runs_dd2=1 runs_dd8=1 runs_noop=3 runs_zero=1 runs_meta=3 runs_silent=1
fi

missing=()
for tool in hyperfine:hyperfine /usr/bin/time:time mkfs.xfs:xfsprogs mkfs.btrfs:btrfs-progs \
  mkfs.ext4:e2fsprogs chattr:e2fsprogs losetup:mount mkswap:util-linux fallocate:util-linux python3:python3 \
  /usr/bin/python3:python3 fio:fio numfmt:coreutils; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if has_part pressure; then
  # The pressure workload's data (a JSON corpus) and the sample's lzo ratio.
  [ -e /usr/share/iso-codes/json/iso_639-3.json ] || missing+=(iso-codes)
  /usr/bin/python3 -c 'import lzo' 2>/dev/null || missing+=(python3-lzo)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  apt-get update -qq
  # Waits for another apt to finish rather than failing.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
fi
gobin=$(go env GOPATH)/bin
export PATH="$PATH:$gobin"
tools/install.sh ec2-metadata-mock

work=$(mktemp -d /var/tmp/swap-bench.XXXXXX)
res="$work/results"
log="$work/bench.log"
mkdir -p "$res" "$work/bin" "$work/etc" "$work/root"
loops=()
mounts=()
pids=()
undo=() # commands the cleanup runs, last first: restore what a part changed

cleanup() {
  local rc=$? f leftover
  set +e
  trap - EXIT INT TERM
  for f in "${pids[@]}"; do
    kill "$f" 2>/dev/null
    wait "$f" 2>/dev/null
  done
  for ((f = ${#undo[@]} - 1; f >= 0; f--)); do eval "${undo[f]}"; done
  awk 'NR > 1 { print $1 }' /proc/swaps | while read -r f; do
    case "$f" in "$work"/*) swapoff "$f" ;; esac
  done
  for ((f = ${#mounts[@]} - 1; f >= 0; f--)); do umount "${mounts[f]}"; done
  # Last attached first: a loop device may sit on another.
  for ((f = ${#loops[@]} - 1; f >= 0; f--)); do losetup -d "${loops[f]}"; done
  if [ "$rc" -ne 0 ] && [ -s "$log" ]; then
    echo "bench: failed; the end of $log:" >&2
    tail -n 25 "$log" >&2
  fi
  rm -rf -- "$work"
  leftover=$(grep -F "$work" /proc/swaps; losetup -a | grep -F "$work"; findmnt -rn -o TARGET | grep -F "$work")
  if [ -n "$leftover" ]; then
    echo "bench: could not clean up:" >&2
    echo "$leftover" >&2
    rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Only our variables reach the binary.
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(SWAP_|AWS_EC2_METADATA)' || true)
# SWAP_ZSWAP=keep: zswap's global parameters are the pressure part's to set
# (and restore); every other run leaves them as the machine has them.
export SWAP_FSTAB="$work/etc/fstab" SWAP_SYSCTL_FILE="$work/etc/90-swap-bootstrap.conf" \
  SWAP_LOCK_FILE="$work/etc/swap-bootstrap.lock" SWAP_IMDS=off SWAP_DISK_PERCENT=100 SWAP_DISK_RESERVE=0 \
  SWAP_ZSWAP=keep

echo "bench: building (CGO_ENABLED=0, -trimpath, -ldflags \"-s -w\")" >&2
for arch in amd64 arm64; do
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "-s -w" -o "$work/bin/swap-bootstrap-$arch" ./cmd/bootstrap
done
BENCH_SB="$work/bin/swap-bootstrap-$(go env GOARCH)"
export BENCH_SB

declare -A R # results: name -> value

# hf NAME RUNS WARMUP PREPARE COMMAND [noshell]: hyperfine, median into R[NAME] (seconds).
hf() {
  local name=$1 runs=$2 warmup=$3 prepare=$4 command=$5 mode=${6:-}
  local args=(--style basic --runs "$runs" --warmup "$warmup" --export-json "$res/$name.json")
  if [ -n "$prepare" ]; then args+=(--prepare "$prepare" --cleanup "$prepare"); fi
  if [ "$mode" = noshell ]; then args+=(-N); fi
  printf '  %-22s %2s runs  ' "$name" "$runs" >&2
  echo "== $name: $command" >>"$log"
  hyperfine "${args[@]}" "$command" >>"$log" 2>&1
  R[$name]=$(python3 "$py" hyperfine-median "$res/$name.json")
  echo "median $(human_time "${R[$name]}")" >&2
}

# pair NAME_A COMMAND_A NAME_B COMMAND_B RUNS PREPARE: RUNS of each, in
# halves ordered A B B A, one warm-up per half. The first command after other
# work pays for the filesystem's background work (journal commits, discards):
# measured A-then-B, an 8 GiB apply on the root filesystem came out 1.3× the
# floor, and 0.8× B-then-A. Medians are over both halves.
pair() {
  local a=$1 cmd_a=$2 b=$3 cmd_b=$4 runs=$5 prepare=$6 half name part
  half=$(((runs + 1) / 2))
  for part in "$a.1" "$b.1" "$b.2" "$a.2"; do
    name=${part%.*}
    local cmd=$cmd_a
    if [ "$name" = "$b" ]; then cmd=$cmd_b; fi
    echo "== $part: $cmd" >>"$log"
    hyperfine --style basic --runs "$half" --warmup 1 --prepare "$prepare" --cleanup "$prepare" \
      --export-json "$res/$part.json" "$cmd" >>"$log" 2>&1
  done
  for name in "$a" "$b"; do
    R[$name]=$(python3 "$py" hyperfine-median "$res/$name.1.json" "$res/$name.2.json")
    printf '  %-22s %2s runs  median %s\n' "$name" "$((2 * half))" "$(human_time "${R[$name]}")" >&2
  done
}

calc() { awk "BEGIN { printf \"%.${2:-3}f\", ($1) }"; }
human_time() { awk -v s="$1" 'BEGIN { if (s < 1) printf "%.1f ms", s * 1000; else printf "%.2f s", s }'; }
yes_no() { awk "BEGIN { print (($1) ? \"yes\" : \"**no**\") }"; }
q() { printf '%q' "$1"; }

# mount_fs NAME: a fresh filesystem of that type; sets dir.
mount_fs() {
  local fs=$1 img loop
  if [ "$fs" = root ]; then
    dir="$work/root"
    return
  fi
  img="$work/$fs.img"
  truncate -s 12G "$img"
  # Direct I/O: the loop device writes the image without caching it a second
  # time, so its page cache neither counts in Cached nor hides disk speed.
  loop=$(losetup --direct-io=on --sector-size 4096 --find --show "$img")
  loops+=("$loop")
  R[$fs-dio]=$(cat "/sys/block/${loop#/dev/}/loop/dio" 2>/dev/null || echo 0)
  case $fs in
    # Inode tables and journal now, not by a background thread during the runs.
    ext4) mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$loop" ;;
    xfs) mkfs.xfs -q -f "$loop" ;;
    btrfs) mkfs.btrfs -q -f "$loop" >/dev/null ;;
  esac
  dir="$work/mnt-$fs"
  mkdir -p "$dir"
  if [ "$fs" = btrfs ]; then
    # btrfs discards freed extents asynchronously by default (Linux 6.2+);
    # that background work would land in the next run.
    mount -o nodiscard "$loop" "$dir"
  else
    mount "$loop" "$dir"
  fi
  mounts+=("$dir")
}

# fs_setup FS DIR: the swapfile's path and the btrfs NOCOW prefix; sets f,
# pre, nocow, dd_opts.
fs_setup() {
  local fs=$1 dir=$2
  f="$dir/swapfile"
  pre="$(q "$self") __reset $(q "$f") $(q "$SWAP_FSTAB")"
  nocow="" dd_opts=""
  # btrfs swaps only on a NOCOW file, and the flag takes only on an empty file:
  # without these the floor and the snippet fail on btrfs (swapon: EINVAL).
  if [ "$fs" = btrfs ]; then
    nocow="touch $(q "$f") && chattr +C $(q "$f") && "
    dd_opts=nocow
  fi
}

bench_swapfile() {
  local fs=$1 dir=$2 f pre nocow dd_opts size mib
  fs_setup "$fs" "$dir"
  export SWAP_FILE="$f"
  echo "bench: $fs ($(findmnt -no FSTYPE --target "$dir") at $dir)" >&2

  for size in 2 8; do
    mib=$((size * 1024))
    export SWAP_SIZE=${size}G
    local r=$runs_fast d=$runs_dd2
    if [ "$size" = 8 ]; then r=$runs_fast8 d=$runs_dd8; fi
    pair "$fs-apply-$size" "$(q "$BENCH_SB") apply" \
      "$fs-floor-$size" "${nocow}fallocate -l ${size}G $(q "$f") && chmod 600 $(q "$f") && mkswap $(q "$f") && swapon $(q "$f")" \
      "$r" "$pre"
    hf "$fs-dd-$size" "$d" 0 "$pre settle" "${nocow}dd if=/dev/zero of=$(q "$f") bs=1M count=$mib && chmod 600 $(q "$f") && mkswap $(q "$f") && swapon $(q "$f")"
    if [ "$size" = 2 ]; then
      # One more apply under GNU time for its peak RSS; it leaves the file
      # active at the target, the start of the no-op, plan and status runs.
      reset_state "$f" "$SWAP_FSTAB"
      /usr/bin/time -v -o "$res/$fs-rss-apply.time" "$BENCH_SB" apply 2>>"$log"
      R[$fs-rss-apply]=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$res/$fs-rss-apply.time")
      hf "$fs-noop" "$runs_noop" 3 "" "$BENCH_SB apply" noshell
      hf "$fs-plan" "$runs_noop" 3 "" "$BENCH_SB plan" noshell
      hf "$fs-status" "$runs_noop" 3 "" "$BENCH_SB status" noshell
    fi
  done
  reset_state "$f" "$SWAP_FSTAB"
  rm -f -- "$f"
  unset SWAP_FILE SWAP_SIZE
}

# Zero-fill, 2 GiB: SWAP_ALLOCATE=zero apply against dd through the page cache
# (conv=fsync, as prepared for every write and again with memory the
# hypervisor still backs) and dd with O_DIRECT from an aligned buffer in 1 MiB
# and 8 MiB writes, what an O_DIRECT zero-fill can reach. The writers take
# turns (ABCDE EDCBA ABCDE) so that none is favoured by the state the previous
# one left in the disk's queue.
zero_writers=(tool dd backed direct direct8)
bench_zero() {
  local fs=$1 dir=$2 f pre nocow dd_opts i who order=("${zero_writers[@]}") growth seconds flag prep
  fs_setup "$fs" "$dir"
  export SWAP_FILE="$f" SWAP_SIZE=2G
  printf '  %-22s %2s runs  ' "$fs-zero" "$runs_zero" >&2
  for ((i = 0; i < runs_zero; i++)); do
    for who in "${order[@]}"; do
      if [ "$who" = tool ]; then
        reset_state "$f" "$SWAP_FSTAB" settle
        SWAP_ALLOCATE=zero measure_cache "$res/$fs-zero-tool.txt" "$f" "$BENCH_SB" apply 2>>"$log"
      else
        prep=settle flag="bs=1M count=2048 conv=fsync"
        case $who in
          backed) prep=settle,backed ;;
          direct) flag="bs=1M count=2048 oflag=direct conv=fsync" ;;
          direct8) flag="bs=8M count=256 oflag=direct conv=fsync" ;;
        esac
        reset_state "$f" "$SWAP_FSTAB" "$dd_opts,$prep"
        # shellcheck disable=SC2086 # $flag is several dd operands
        measure_cache "$res/$fs-zero-$who.txt" "$f" dd if=/dev/zero of="$f" $flag 2>>"$log"
      fi
    done
    mapfile -t order < <(printf '%s\n' "${order[@]}" | tac) # the other way round next time
  done
  reset_state "$f" "$SWAP_FSTAB"
  rm -f -- "$f"
  for who in "${zero_writers[@]}"; do
    # Seconds and page-cache growth (MiB): medians; peak RSS (KiB): max.
    mapfile -t seconds < <(awk '{ print $1 }' "$res/$fs-zero-$who.txt")
    R[$fs-zero-$who]=$(python3 "$py" median "${seconds[@]}")
    mapfile -t growth < <(awk '{ printf "%.1f\n", ($3 - $2) / 1024 }' "$res/$fs-zero-$who.txt")
    R[$fs-cache-$who]=$(python3 "$py" median "${growth[@]}")
    R[$fs-rss-zero-$who]=$(awk 'BEGIN { m = 0 } $4 > m { m = $4 } END { print m }' "$res/$fs-zero-$who.txt")
    mapfile -t growth < <(awk '{ printf "%.1f\n", $5 / 1048576 }' "$res/$fs-zero-$who.txt")
    R[$fs-resident-$who]=$(python3 "$py" median "${growth[@]}")
  done
  echo "median $(human_time "${R[$fs-zero-tool]}") (dd $(human_time "${R[$fs-zero-dd]}"), backed $(human_time "${R[$fs-zero-backed]}"), direct 1M $(human_time "${R[$fs-zero-direct]}"), 8M $(human_time "${R[$fs-zero-direct8]}"))" >&2
  unset SWAP_FILE SWAP_SIZE
}

bench_metadata() {
  local port i pid
  echo "bench: metadata phase (127.0.0.1 only)" >&2
  mkdir -p "$work/aemm"
  port=$(python3 "$py" free-port)
  cat >"$work/aemm/config.json" <<'EOF'
{
  "metadata": {
    "values": {
      "instance-type": "t3.micro",
      "instance-id": "i-0123456789abcdef0",
      "placement-region": "us-east-1",
      "placement-availability-zone": "us-east-1a"
    }
  },
  "dynamic": {
    "values": {
      "instance-identity-document": {
        "instanceType": "t3.micro",
        "instanceId": "i-0123456789abcdef0",
        "region": "us-east-1",
        "availabilityZone": "us-east-1a",
        "architecture": "x86_64"
      }
    }
  }
}
EOF
  HOME="$work/aemm" ec2-metadata-mock -n 127.0.0.1 -p "$port" -c "$work/aemm/config.json" >>"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  python3 "$py" wait-http "http://127.0.0.1:$port/latest/meta-data/instance-type" 20

  export SWAP_FILE="$work/root/swapfile" SWAP_SIZE=2G SWAP_IMDS=required \
    AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$port"
  for ((i = 0; i <= runs_meta; i++)); do
    "$BENCH_SB" plan --json >"$res/meta-$(printf %02d "$i").json" 2>>"$log"
  done
  rm -f "$res/meta-00.json" # warm-up
  if [ "$(python3 "$py" json-get facts.instance_type "$res/meta-01.json")" != t3.micro ]; then
    echo "bench: plan did not get t3.micro from the emulator; see $res/meta-01.json" >&2
    return 1
  fi
  R[meta]=$(printf %.2f "$(python3 "$py" json-median facts.metadata_ms "$res"/meta-*.json)")
  R[meta-elapsed]=$(printf %.2f "$(python3 "$py" json-median elapsed_ms "$res"/meta-*.json)")
  printf '  %-22s %2s runs  median %s ms (whole plan %s ms)\n' metadata "$runs_meta" "${R[meta]}" "${R[meta-elapsed]}" >&2
  kill "$pid"
  wait "$pid" 2>/dev/null || true

  # An endpoint that accepts connections and never answers.
  python3 "$py" silent "$work/silent.port" &
  pids+=("$!")
  for i in $(seq 50); do
    [ -s "$work/silent.port" ] && break
    sleep 0.1
  done
  port=$(cat "$work/silent.port")
  export SWAP_IMDS=auto SWAP_IMDS_TIMEOUT=1s AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$port"
  hf silent "$runs_silent" 0 "" "$BENCH_SB plan" noshell
  "$BENCH_SB" plan --json >"$res/silent.json" 2>>"$log"
  R[silent-note]=$(python3 "$py" json-get facts.metadata_note "$res/silent.json")
  unset SWAP_FILE SWAP_SIZE SWAP_IMDS_TIMEOUT AWS_EC2_METADATA_SERVICE_ENDPOINT
  export SWAP_IMDS=off
}

if has_part swapfile || has_part zero; then
  for fs in $filesystems; do
    mount_fs "$fs"
    if has_part swapfile; then bench_swapfile "$fs" "$dir"; fi
    if has_part zero; then bench_zero "$fs" "$dir"; fi
  done
fi
if has_part metadata; then bench_metadata; fi
# The pressure part (it uses svg_file and runs_file).
# shellcheck source=bench/pressure.sh
. "$repo/bench/pressure.sh"
if has_part pressure; then
  bench_pressure
  # An expansion error inside it ends the function without tripping set -e.
  [ -s "$res/pressure.md" ] || { echo "bench: the pressure part failed; see $log" >&2; exit 1; }
fi
for arch in amd64 arm64; do
  R[size-$arch]=$(stat -c %s "$work/bin/swap-bootstrap-$arch")
done
elapsed=$(($(date +%s) - started))

# ---- report ------------------------------------------------------------------
# Each part that ran writes its section into $res/sections/PART.md; the
# output file keeps the sections of the parts that did not run.

mkdir -p "$res/sections"
fs_label() {
  case $1 in
    root) echo "root fs ($(findmnt -no FSTYPE --target "$work"))" ;;
    xfs) echo XFS ;;
    *) echo "$1" ;;
  esac
}
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
provenance() { # PART: one line saying when, where and how a section was measured
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $cpu ($(nproc) cores), Linux $(uname -r), by \`BENCH_PARTS=$1 sudo ./bench/run.sh\`$([ "${BENCH_QUICK:-}" = 1 ] && echo ' with BENCH_QUICK=1 (a smoke test: numbers not worth keeping)')."
}
table_head() {
  targets="| figure | measured | target | met? |
|---|---|---|---|"
}
row() { targets+=$'\n'"| $1 | $2 | $3 | $4 |"; }
line() { # label key-suffix formatter
  local s="| $1 |" fs
  for fs in $filesystems; do s+=" $($3 "${R[$fs-$2]}") |"; done
  details+=$'\n'"$s"
}
details_head() {
  details="| median | $(for fs in $filesystems; do printf '%s | ' "$(fs_label "$fs")"; done)
|---|$(for fs in $filesystems; do printf -- '---|'; done)"
}
mib() { echo "$1 MiB"; }
kib_mib() { calc "$1 / 1024" 1 | sed 's/$/ MiB/'; }
rate() { echo "$(calc "2048 / $1" 0) MiB/s ($(human_time "$1"))"; }

# virtio-balloon (device 5) with free page reporting (feature bit 5): the host
# reclaims memory the guest frees, and the guest faults it back in on reuse.
balloon_note="A VM may hand the memory it frees back to the hypervisor (virtio-balloon free page
  reporting; this machine does not), and the next touch of such a page then faults in the host."
for d in /sys/bus/virtio/devices/*; do
  if [ "$(cat "$d/device" 2>/dev/null)" = 0x0005 ] && [ "$(cut -c6 "$d/features" 2>/dev/null)" = 1 ]; then
    balloon_note="This VM hands the memory it frees back to the hypervisor (virtio-balloon free page
  reporting), and the next touch of such a page faults in the host."
  fi
done
dio="loop devices with direct I/O:"
for fs in $filesystems; do [ "$fs" = root ] || dio+=" $fs=${R[$fs-dio]:-?}"; done
fs_note="**Filesystems**: 12 GiB sparse images on the root filesystem, attached with
  \`losetup --direct-io=on --sector-size 4096\` ($dio) so the image is not cached twice;
  ext4 made with \`lazy_itable_init=0,lazy_journal_init=0\` (no background initialisation during runs);
  btrfs mounted \`nodiscard\` (no asynchronous discard of the previous run's extents). The root
  filesystem case uses a temp directory under \`/var/tmp\`."
memory_note="**Memory the hypervisor took back.** $balloon_note
  Every write benchmark (the dd snippets and the zero-fill runs) therefore waits ${settle_seconds} s
  after dropping caches, so that each run starts alike, with the memory the previous run freed handed
  back. Without that wait, a 2 GiB \`dd conv=fsync\` on the VM this script was written on took
  anywhere from 1.2 s to 7 s, depending on how long before the previous run had freed its pages. A
  writer through the page cache (dd) pays for each new page; the zero-fill path reuses a few MiB of
  cache and hardly does. EC2 (Nitro) does not take guest memory back, so there dd through the page
  cache is faster there than in the other runs here: the \"memory backed\" dd runs stand for that."

if has_part swapfile; then
  table_head
  rss_apply=0
  for fs in $filesystems; do
    l=$(fs_label "$fs")
    for size in 2 8; do
      ap=${R[$fs-apply-$size]} fl=${R[$fs-floor-$size]} dd=${R[$fs-dd-$size]}
      row "$l: apply to an active $size GiB swapfile" "$(human_time "$ap") = $(calc "$ap / $fl" 2)× the floor ($(human_time "$fl"))" \
        "≤ 1.3× the floor" "$(yes_no "$ap <= 1.3 * $fl")"
      if [ "$size" = 2 ]; then
        row "$l: dd snippet ÷ apply, 2 GiB" "$(calc "$dd / $ap" 1)× ($(human_time "$dd") vs $(human_time "$ap"))" "≥ 20×" "$(yes_no "$dd >= 20 * $ap")"
      fi
    done
    row "$l: no-op apply (already at target)" "$(human_time "${R[$fs-noop]}")" "≤ 20 ms" "$(yes_no "${R[$fs-noop]} <= 0.020")"
    rss_apply=$(calc "${R[$fs-rss-apply]} > $rss_apply ? ${R[$fs-rss-apply]} : $rss_apply" 0)
  done
  row "peak RSS, apply 2 GiB, fallocate (max over filesystems)" "$(calc "$rss_apply / 1024" 1) MiB" "≤ 16 MiB" "$(yes_no "$rss_apply <= 16 * 1024")"
  for arch in amd64 arm64; do
    row "stripped static binary, linux/$arch" "$(calc "${R[size-$arch]} / 1048576" 2) MiB (${R[size-$arch]} bytes)" "≤ 10 MiB" "$(yes_no "${R[size-$arch]} <= 10 * 1048576")"
  done
  details_head
  line "apply, 2 GiB ($runs_fast runs)" apply-2 human_time
  line "floor: fallocate, chmod, mkswap, swapon, 2 GiB ($runs_fast)" floor-2 human_time
  line "dd snippet, 2 GiB ($runs_dd2)" dd-2 human_time
  line "apply, 8 GiB ($runs_fast8)" apply-8 human_time
  line "floor, 8 GiB ($runs_fast8)" floor-8 human_time
  line "dd snippet, 8 GiB ($runs_dd8)" dd-8 human_time
  line "no-op apply ($runs_noop)" noop human_time
  line "plan ($runs_noop)" plan human_time
  line "status ($runs_noop)" status human_time
  line "peak RSS, apply (fallocate)" rss-apply kib_mib
  cat >"$res/sections/swapfile.md" <<EOF
## Making the swapfile

$(provenance swapfile)

$targets

$details

- **Same start for every run.** Before each timed run, hyperfine's \`--prepare\` turns the swapfile off,
  deletes it (and swap-bootstrap's hidden temp file), rewrites the temp fstab to one line, runs \`sync\`
  and \`echo 3 > /proc/sys/vm/drop_caches\`, then runs each program once (\`--version\`) to load it again.
  So no run pays for the previous run's writeback or starts with its data cached, and none pays for
  reading its own binary from disk. Times are medians; hyperfine subtracts its shell's start-up.
  apply and the floor run in halves, ordered apply, floor, floor, apply: whichever runs first after
  other work pays for the filesystem's background work (by hand, 8 GiB on the root filesystem: apply
  first 28.4 ms against the floor's 22.2 ms; floor first 22.2 ms against apply's 17.7 ms).
- **apply** runs with \`SWAP_SIZE\`, \`SWAP_FILE\` on the filesystem under test, \`SWAP_IMDS=off\`,
  \`SWAP_DISK_PERCENT=100\`, \`SWAP_DISK_RESERVE=0\`, and \`SWAP_FSTAB\`, \`SWAP_SYSCTL_FILE\`,
  \`SWAP_LOCK_FILE\` in a temp directory. Its time includes what the floor does not do: the lock, the
  checks, fsync of the file and its directory, and writing the fstab entry (temp file, fsync, rename).
- **floor** is \`fallocate -l SIZE f && chmod 600 f && mkswap f && swapon f\`; **dd snippet** is
  \`dd if=/dev/zero of=f bs=1M count=N && chmod 600 f && mkswap f && swapon f\`, as in the README. dd
  does not fsync, but \`swapon(2)\` does (\`iomap_swapfile_activate\` calls \`vfs_fsync\`; btrfs waits for
  ordered extents), so its time includes writing the data to disk. On btrfs both are prefixed with
  \`touch f && chattr +C f &&\`: btrfs refuses swap on a copy-on-write file, and as written they fail there.
- $memory_note
- $fs_note
- **no-op, plan, status** run straight after an \`apply\` made the 2 GiB file (\`hyperfine -N\`, no shell,
  3 warm-up runs); nothing is dropped between them, as on a machine that booted with its swap.
  Peak RSS is GNU time's "Maximum resident set size" (\`/usr/bin/time -v\`) of one more apply.
- **Binary size**: \`CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" ./cmd/bootstrap\` for
  linux/amd64 and linux/arm64; the arm64 one is only measured.
EOF
fi

if has_part zero; then
  table_head
  rss_zero=0
  for fs in $filesystems; do
    l=$(fs_label "$fs")
    zt=$(calc "2048 / ${R[$fs-zero-tool]}" 0) zc=$(calc "2048 / ${R[$fs-zero-dd]}" 0)
    zb=$(calc "2048 / ${R[$fs-zero-backed]}" 0) zo=$(calc "2048 / ${R[$fs-zero-direct]}" 0)
    z8=$(calc "2048 / ${R[$fs-zero-direct8]}" 0)
    row "$l: zero-fill apply ÷ dd conv=fsync, 2 GiB" "$(calc "$zt / $zc" 2)× ($zt MiB/s vs $zc MiB/s; vs dd with backed memory, $zb MiB/s: $(calc "$zt / $zb" 2)×; O_DIRECT dd: 1 MiB writes $zo MiB/s, 8 MiB $z8 MiB/s)" \
      "≥ 1.5× dd conv=fsync" "$(yes_no "$zt >= 1.5 * $zc")"
    row "$l: page-cache growth, zero-fill 2 GiB" "${R[$fs-cache-tool]} MiB, of which the swapfile ${R[$fs-resident-tool]} MiB (dd conv=fsync: ${R[$fs-cache-dd]} MiB)" "≤ 64 MiB" "$(yes_no "${R[$fs-cache-tool]} <= 64")"
    rss_zero=$(calc "${R[$fs-rss-zero-tool]} > $rss_zero ? ${R[$fs-rss-zero-tool]} : $rss_zero" 0)
  done
  row "peak RSS, apply 2 GiB, SWAP_ALLOCATE=zero (max over filesystems)" "$(calc "$rss_zero / 1024" 1) MiB" "≤ 16 MiB" "$(yes_no "$rss_zero <= 16 * 1024")"
  details_head
  line "SWAP_ALLOCATE=zero apply, 2 GiB ($runs_zero runs)" zero-tool rate
  line "dd bs=1M count=2048 conv=fsync ($runs_zero)" zero-dd rate
  line "the same, memory backed ($runs_zero)" zero-backed rate
  line "dd bs=1M count=2048 oflag=direct conv=fsync ($runs_zero)" zero-direct rate
  line "dd bs=8M count=256 oflag=direct conv=fsync ($runs_zero)" zero-direct8 rate
  line "page-cache growth, zero-fill apply" cache-tool mib
  line "page-cache growth, dd conv=fsync" cache-dd mib
  line "page-cache growth, dd oflag=direct" cache-direct mib
  line "swapfile pages left in the page cache, zero-fill apply" resident-tool mib
  line "swapfile pages left in the page cache, dd conv=fsync" resident-dd mib
  line "peak RSS, apply (zero-fill)" rss-zero-tool kib_mib
  cat >"$res/sections/zero.md" <<EOF
## Zero-fill (SWAP_ALLOCATE=zero)

$(provenance zero)

$targets

$details

- **Writers**: \`SWAP_ALLOCATE=zero swap-bootstrap apply\` (2 GiB) against
  \`dd if=/dev/zero of=f bs=1M count=2048 conv=fsync\`; dd gets \`conv=fsync\` because swap-bootstrap
  fsyncs, so both times include putting the data on disk. dd runs twice: as prepared for every write
  benchmark (below), and again right after 2.25 GiB of page cache was filled and freed, so that it
  gets memory the hypervisor still backs, as on EC2. The target is checked against the first, prepared
  as the apply runs are; the ratio to the second is shown beside it. \`dd oflag=direct conv=fsync\` in
  1 MiB and 8 MiB writes (dd aligns its buffer for O_DIRECT) bypasses the page cache: what a zero-fill
  through O_DIRECT can reach. On btrfs dd writes into an empty NOCOW file, as swap-bootstrap does. The
  five take turns (ABCDE EDCBA ABCDE), $runs_zero runs each; the time is wall-clock around the command,
  and throughput is 2048 MiB over the median (apply's time also includes its swapon and fstab entry).
- **Page cache**: growth is \`Cached\` in \`/proc/meminfo\` right after the command minus right before
  it: system-wide, so whatever else runs on the machine counts too; \`fincore\` of the swapfile
  afterwards shows how much of it is the file's own pages. Peak RSS is GNU time's "Maximum resident
  set size" (\`/usr/bin/time -v\`) around the same runs.
- $memory_note
- $fs_note
EOF
fi

if has_part metadata; then
  table_head
  row "metadata phase against the emulator (median of $runs_meta)" "${R[meta]} ms" "≤ 50 ms" "$(yes_no "${R[meta]} <= 50")"
  row "give up on a silent endpoint, SWAP_IMDS_TIMEOUT=1s (whole plan)" "$(human_time "${R[silent]}")" "≤ 1.1 s ¹" "$(yes_no "${R[silent]} <= 1.1")"
  cat >"$res/sections/metadata.md" <<EOF
## Instance metadata

$(provenance metadata)

$targets

¹ Not in the issue's list: the README promises that \`SWAP_IMDS_TIMEOUT\` bounds the whole metadata phase, retries included, so a run must give up close to it.

Metadata phase against amazon-ec2-metadata-mock $aemm_version on 127.0.0.1: median ${R[meta]} ms (\`.facts.metadata_ms\` of \`plan --json\`, $runs_meta runs; the whole \`plan\` took ${R[meta-elapsed]} ms).
Silent endpoint: \`plan\` took $(human_time "${R[silent]}") (median of $runs_silent) and reported: ${R[silent-note]}.

- **Metadata**: \`ec2-metadata-mock -n 127.0.0.1\` with \`metadata.values.instance-type\` = t3.micro;
  \`AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:PORT SWAP_IMDS=required swap-bootstrap plan --json\`,
  $runs_meta runs after one warm-up, median of \`.facts.metadata_ms\`. The silent endpoint is a Python
  listener on 127.0.0.1 that accepts connections and never answers; \`SWAP_IMDS=auto SWAP_IMDS_TIMEOUT=1s\`,
  whole \`plan\` timed.
EOF
fi

if has_part pressure; then
  {
    p_report
    echo
    provenance pressure
  } >"$res/sections/pressure.md"
fi

mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)
rootdev=$(findmnt -no SOURCE,FSTYPE,OPTIONS --target "$work" | tr -s ' ')
cat >"$res/head.md" <<EOF
# Benchmarks

Generated by \`bench/run.sh\` (last run: $(date -u '+%Y-%m-%d %H:%M UTC'), parts: $parts, $((elapsed / 60)) min $((elapsed % 60)) s).
Each section says when and where it was measured; \`BENCH_PARTS=NAME\` re-runs one of them.

    sudo ./bench/run.sh

| machine (last run) | |
|---|---|
| CPU | $cpu, $(nproc) cores |
| memory | $mem |
| kernel | $(uname -r) ($(uname -m)) |
| OS | $os |
| root filesystem | $rootdev |
| tools | $(hyperfine --version), GNU time $(dpkg-query -W -f='${Version}' time 2>/dev/null || echo '?'), $(mkswap --version), $(fio --version), $(go version | cut -d' ' -f3-), ec2-metadata-mock $aemm_version |
EOF

for p in $parts; do
  echo
  cat "$res/sections/$p.md"
done
mkdir -p "$(dirname "$out_file")"
# shellcheck disable=SC2086 # one argument per part
python3 "$py" splice "$out_file" "$res/head.md" "$res/sections" $all_parts
echo "bench: wrote $out_file; total $((elapsed / 60)) min $((elapsed % 60)) s" >&2
