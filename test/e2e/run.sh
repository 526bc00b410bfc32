#!/usr/bin/env bash
# End-to-end test on a real boot: a Debian 12 VM with systemd, cloud-init and
# Docker, booted under QEMU, proves that swap is on before Docker starts, on
# the first boot, after a reboot and after an instance-type change.
#
#   sudo test/e2e/run.sh          # every scenario
#   sudo test/e2e/run.sh 1 4      # some of them
#
# The guest gets the shipped user data (scripts/cloud-config.yaml or
# scripts/user-data.sh, only their settings filled in) on a NoCloud seed. It
# downloads the binary from a python3 http.server on the host's 127.0.0.1
# and asks amazon-ec2-metadata-mock (IMDSv2 only) there for its instance type;
# QEMU's user network reaches both at 10.0.2.2 through guestfwd rules and
# nothing else (restrict=on, no DNS). The image (test/e2e/build-image.sh) is
# cached in /var/cache/swap-bootstrap-e2e. A report unit in the guest prints
# systemd's timestamps to the second serial port, which this script parses.
#
#   1  first boot, cloud-config (bootcmd), t3.micro: 2 GiB swap on before
#      docker.service leaves "inactive"; the hog container then runs with swap
#   2  first boot, user-data script: binary installed, unit enabled, swap on;
#      reboot: swap on again before Docker, one fstab line
#   3  stop, change the type to t3.small, start (the disk of 2): the file is
#      resized to 4 GiB before Docker starts
#   4  metadata service unreachable: swap-bootstrap gives up within
#      SWAP_IMDS_TIMEOUT, sizes from /proc/meminfo, Docker still starts
#      (first boot with cloud-config, then a reboot through the unit)
#   5  swap is usable by containers: `docker run --memory=128m
#      --memory-swap=1g` with a 300 MiB working set completes with swap (the
#      run in 1) and is OOM-killed on a boot with SWAP_POLICY=off
#
# Settings (environment): E2E_ACCEL=kvm|tcg (default: kvm when it boots,
# else tcg), E2E_BOOT_TIMEOUT (seconds per boot, default 900),
# E2E_LOGS (default /tmp/swap-bootstrap-e2e: serial logs, reports),
# E2E_CACHE (image cache, default /var/cache/swap-bootstrap-e2e).
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(mmdebstrap qemu-system-x86 qemu-utils e2fsprogs dosfstools mtools socat python3 curl)
boot_timeout=${E2E_BOOT_TIMEOUT:-900}
logs=${E2E_LOGS:-/tmp/swap-bootstrap-e2e}
imds_timeout=3s
hog_mib=300
gib=$((1024 * 1024 * 1024))

t0=$SECONDS
say() { printf 'e2e: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}
phase() { # NAME STARTED_AT
	printf 'e2e: phase %-28s %4ds\n' "$1" "$((SECONDS - $2))" >&2
}

[[ $(id -u) -eq 0 ]] || die "run as root (sudo test/e2e/run.sh): building the image needs mmdebstrap --mode=root"
[[ $(uname -m) == x86_64 ]] || die "the e2e image and QEMU setup are for x86_64 hosts only"

scenarios=("$@")
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(1 2 3 4 5)
want() { # N: is scenario N selected?
	local s
	for s in "${scenarios[@]}"; do [[ $s == "$1" ]] && return 0; done
	return 1
}
# Scenario 3 continues on the disk of scenario 2.
if want 3 && ! want 2; then scenarios+=(2); fi

# ---- tools ------------------------------------------------------------------
started=$SECONDS
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	say "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PATH="$PATH:$(go env GOPATH)/bin"
tools/install.sh ec2-metadata-mock
phase tools "$started"

# ---- cleanup ----------------------------------------------------------------
tmp=$(mktemp -d /tmp/swap-bootstrap-e2e.XXXXXX)
qemu_pid='' imds_pid='' http_pid=''
stop() { # PID: end one process this script started, and wait for it
	[[ -n $1 ]] || return 0
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	stop "$qemu_pid"
	stop "$imds_pid"
	stop "$http_pid"
	rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$logs"
rm -f -- "$logs"/s[0-9].* "$logs/http.log" "$logs/imds.log"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() { # URL: until something answers there (10 s at most)
	for _ in $(seq 50); do
		curl -s -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.2
	done
	return 1
}

# ---- the image --------------------------------------------------------------
started=$SECONDS
image=$(test/e2e/build-image.sh)
phase "image (build or cache)" "$started"

# ---- the binary, served as the shipped scripts download it -------------------
started=$SECONDS
mkdir -p "$tmp/dist"
CGO_ENABLED=0 go build -trimpath -o "$tmp/dist/swap-bootstrap-linux-amd64" ./cmd/bootstrap
sha=$(sha256sum "$tmp/dist/swap-bootstrap-linux-amd64" | cut -d' ' -f1)
http_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/dist" "$http_port" >"$logs/http.log" 2>&1 &
http_pid=$!
wait_http "http://127.0.0.1:$http_port/" || die "the HTTP server on 127.0.0.1:$http_port did not start; see $logs/http.log"
phase "binary and HTTP server" "$started"

# ---- the metadata service -----------------------------------------------------
imds_port=$(free_port)
start_imds() { # TYPE: (re)start the emulator, IMDSv2 only, answering TYPE
	stop "$imds_pid"
	imds_pid=''
	# swap-bootstrap reads the type from the instance identity document; set
	# it there and in meta-data/instance-type (a whole document: the
	# emulator replaces the default one).
	cat >"$tmp/aemm-$1.json" <<-EOF
		{"metadata": {"values": {"instance-type": "$1"}},
		 "dynamic": {"values": {"instance-identity-document": {
		  "accountId": "123456789012", "imageId": "ami-0b69ea66ff7391e80",
		  "availabilityZone": "eu-west-1a", "region": "eu-west-1",
		  "instanceId": "i-0e2e0000000000001", "instanceType": "$1", "architecture": "x86_64",
		  "privateIp": "10.0.2.15", "pendingTime": "2024-05-01T07:02:24Z", "version": "2017-09-30",
		  "ramdiskId": null, "kernelId": null, "devpayProductCodes": null,
		  "marketplaceProductCodes": null, "billingProducts": null}}}}
	EOF
	ec2-metadata-mock --hostname 127.0.0.1 --port "$imds_port" --imdsv2 --config-file "$tmp/aemm-$1.json" \
		>>"$logs/imds.log" 2>&1 &
	imds_pid=$!
	wait_http "http://127.0.0.1:$imds_port/latest/api/token" ||
		die "ec2-metadata-mock did not start on 127.0.0.1:$imds_port; see $logs/imds.log"
}
stop_imds() {
	stop "$imds_pid"
	imds_pid=''
}

# ---- QEMU -------------------------------------------------------------------
socat=$(command -v socat)
kvm_boots() {
	[[ -r /dev/kvm && -w /dev/kvm ]] || return 1
	# /dev/kvm may open and still not run a guest (nested virtualisation
	# without the CPU features): boot the kernel for a moment and look for
	# its banner.
	(timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -no-user-config -display none \
		-no-reboot -kernel "$image/vmlinuz" -append 'console=ttyS0 panic=-1' \
		-serial "file:$tmp/kvm-probe.log"; true) >/dev/null 2>&1
	grep -q 'Linux version' "$tmp/kvm-probe.log" 2>/dev/null
}
case ${E2E_ACCEL:-auto} in
kvm) accel=(-accel kvm -cpu host) ;;
tcg) accel=(-accel "tcg,thread=multi" -cpu max) ;;
auto)
	started=$SECONDS
	if kvm_boots; then
		accel=(-accel kvm -cpu host)
	else
		accel=(-accel "tcg,thread=multi" -cpu max)
	fi
	phase "kvm probe (${accel[1]%%,*})" "$started"
	;;
*) die "E2E_ACCEL=${E2E_ACCEL:-}: use kvm or tcg" ;;
esac

# user_data KIND [VAR=VALUE...]: the shipped cloud-config.yaml or user-data.sh
# with its settings filled in, as an operator would: a variable the file reads
# as "${VAR:-}" gets VALUE after its ":-"; any other is exported on a line of
# its own right after the file's "---- Settings: change these" line.
user_data() {
	local kind=$1 file text kv var value
	shift
	case $kind in
	cloud-config) file=scripts/cloud-config.yaml ;;
	user-data) file=scripts/user-data.sh ;;
	esac
	text=$(<"$file")
	grep -q -- '---- Settings: change these' <<<"$text" ||
		die "$file has no '---- Settings: change these' line to add settings after"
	for kv in "$@"; do
		var=${kv%%=*} value=${kv#*=}
		if grep -qF "\${$var:-}" <<<"$text"; then
			text=${text//"\${$var:-}"/"\${$var:-$value}"}
		else
			text=$(awk -v line="export $var=$value" '
				{ print }
				/---- Settings: change these/ && !done { match($0, /^[ \t]*/); print substr($0, 1, RLENGTH) line; done = 1 }' <<<"$text")
		fi
		grep -qF -e "\${$var:-$value}" -e "export $var=$value" <<<"$text" || die "could not set $var in $file"
	done
	printf '%s\n' "$text"
}

# seed DIR ID: the NoCloud seed, a vfat volume labelled CIDATA holding
# DIR/user-data and a meta-data with instance-id ID; made without mounting.
seed() {
	printf 'instance-id: %s\nlocal-hostname: swap-e2e\n' "$2" >"$1/meta-data"
	rm -f "$1/seed.img"
	mkfs.vfat -n CIDATA -C "$1/seed.img" 1024 >/dev/null
	mcopy -i "$1/seed.img" "$1/user-data" "$1/meta-data" ::
}

# boot NAME DISK SEEDDIR MEM_MIB BOOTS [KERNEL_ARGS...]: one QEMU run of DISK
# (a qcow2 overlay of the image) until the guest has booted BOOTS times and
# powered off. Serial console to $logs/NAME.console, report to
# $logs/NAME.report; the forwarded ports are those set up by the caller in
# fwd[] (each guest connection spawns socat to the host's 127.0.0.1).
boot() {
	local name=$1 disk=$2 seeddir=$3 mem=$4 boots=$5 netdev f rc
	shift 5
	# restrict=on: the guest reaches nothing but the guestfwd rules (no
	# route out, no DNS). libslirp refuses guestfwd on its own host address,
	# so that moves from 10.0.2.2 to 10.0.2.254 and 10.0.2.2 is ours.
	netdev=user,id=n0,restrict=on,ipv6=off,host=10.0.2.254
	for f in "${fwd[@]}"; do
		netdev+=",guestfwd=tcp:10.0.2.2:$f-cmd:$socat STDIO TCP:127.0.0.1:$f"
	done
	started=$SECONDS
	timeout -k 10 $((boot_timeout * boots)) qemu-system-x86_64 "${accel[@]}" -machine q35 -smp 2 -m "$mem" \
		-nodefaults -no-user-config -display none -rtc base=utc \
		-kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 panic=-1 e2e.run=$name e2e.boots=$boots $*" \
		-drive "file=$disk,format=qcow2,if=virtio,index=0,cache=unsafe,discard=unmap" \
		-drive "file=$seeddir/seed.img,format=raw,if=virtio,index=1,readonly=on" \
		-netdev "$netdev" -device virtio-net-pci,netdev=n0 -device virtio-rng-pci \
		-serial "file:$logs/$name.console" -serial "file:$logs/$name.report" \
		>"$logs/$name.qemu" 2>&1 &
	qemu_pid=$!
	rc=0
	wait "$qemu_pid" || rc=$?
	qemu_pid=''
	tr -d '\r' <"$logs/$name.report" >"$logs/$name.report.txt" 2>/dev/null || true
	phase "boot $name ($boots boot(s))" "$started"
	((rc == 0)) || say "QEMU for $name exited $rc (124: timed out after $((boot_timeout * boots))s); see $logs/$name.console"
}

# report NAME BOOT: the E2E line of that boot of run NAME.
report() { grep -m1 "^E2E run=$1 boot=$2 " "$logs/$1.report.txt" || true; }
# field LINE KEY: the value of KEY=value in an E2E line.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -n1; }
# summary NAME BOOT: the swap-bootstrap summary line logged during that boot.
summary() {
	# The line is plain (text logs to a terminal) or slog's msg="swap-bootstrap: ...".
	awk -v b="$2" '/^E2E run=/ { n++ } n == b && /^E2E-SUMMARY / { sub(/^.*swap-bootstrap: /, ""); sub(/" [a-z_]+=.*$/, ""); s = $0 } END { print s }' "$logs/$1.report.txt"
}
sec() { # µs -> seconds with two decimals
	awk -v u="$1" 'BEGIN { if (u ~ /^[0-9]+$/) printf "%.2fs", u / 1e6; else printf "-" }'
}
gibs() { # KiB -> GiB with two decimals
	awk -v k="$1" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%.2fGiB", k / 1048576; else printf "-" }'
}

failures=0
results=()
problems=()
check() { # CONDITION-TEXT COMMAND...: record a failed check
	local what=$1
	shift
	"$@" || problems+=("$what")
}
is() { [[ $1 == "$2" ]]; }
lt() { [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] && (($1 > 0 && $1 < $2)); }
# swap_is KIB BYTES: /proc/swaps shows a file of BYTES (its first page is the header)
swap_is() { [[ $1 =~ ^[0-9]+$ ]] && (($1 * 1024 + 4096 == $2)); }
verdict() { # SCENARIO TEXT
	local s=$1 text=$2
	if [[ ${#problems[@]} -eq 0 ]]; then
		results+=("$(printf 'scenario %s PASS  %s' "$s" "$text")")
	else
		failures=$((failures + 1))
		results+=("$(printf 'scenario %s FAIL  %s; failed: %s' "$s" "$text" "$(
			IFS=';'
			echo "${problems[*]}"
		)")")
	fi
	say "${results[-1]}"
	problems=()
}
no_report() { # NAME BOOT: the boot left no report
	problems+=("boot $2 of $1 printed no report; see $logs/$1.console and $logs/$1.report.txt")
}

common_before_docker() { # LINE BYTES SWAP_DONE_KEY: the checks every "swap before Docker" boot shares
	local r=$1 bytes=$2 done_key=$3
	check "swapfile is $(gibs $((bytes / 1024))) (file_bytes=$(field "$r" file_bytes))" is "$(field "$r" file_bytes)" "$bytes"
	check "/proc/swaps shows it active (swap_kib=$(field "$r" swap_kib))" swap_is "$(field "$r" swap_kib)" "$bytes"
	check "Docker saw it when it started (docker_saw_kib=$(field "$r" docker_saw_kib))" swap_is "$(field "$r" docker_saw_kib)" "$bytes"
	check "$done_key < docker_inactive_exit" lt "$(field "$r" "$done_key")" "$(field "$r" docker_inactive_exit)"
	check "docker.service active (docker_state=$(field "$r" docker_state))" is "$(field "$r" docker_state)" active
	check "one fstab line (fstab_lines=$(field "$r" fstab_lines))" is "$(field "$r" fstab_lines)" 1
	check "file mode 600 (file_mode=$(field "$r" file_mode))" is "$(field "$r" file_mode)" 600
}
timeline() { # LINE SWAP_DONE_KEY LABEL: "swap on 29.71s (LABEL) < docker activating 38.66s (+8.95s)"
	local r=$1 d
	d=$(awk -v a="$(field "$r" "$2")" -v b="$(field "$r" docker_inactive_exit)" 'BEGIN { printf "%+.2fs", (b - a) / 1e6 }')
	printf 'last swapon (kernel) %ss; swap %s done %s < docker activating %s (%s), docker active %s; Docker saw %s; fstab lines %s' \
		"$(field "$r" kernel_swapon)" "$3" "$(sec "$(field "$r" "$2")")" "$(sec "$(field "$r" docker_inactive_exit)")" "$d" \
		"$(sec "$(field "$r" docker_active_enter)")" "$(gibs "$(field "$r" docker_saw_kib)")" "$(field "$r" fstab_lines)"
}

url="http://10.0.2.2:$http_port"
ci_settings=("SWAP_BOOTSTRAP_URL=$url" "SWAP_BOOTSTRAP_SHA256_AMD64=$sha"
	"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://10.0.2.2:$imds_port" "SWAP_IMDS_TIMEOUT=$imds_timeout")
overlay() { # NAME: a fresh qcow2 overlay of the cached image
	mkdir -p "$tmp/$1"
	qemu-img create -q -f qcow2 -F raw -b "$image/disk.img" "$tmp/$1/disk.qcow2"
}
hog_with_swap=''

# ---- 1: first boot, cloud-config --------------------------------------------
if want 1; then
	overlay s1
	user_data cloud-config "${ci_settings[@]}" >"$tmp/s1/user-data"
	cp "$tmp/s1/user-data" "$logs/s1.user-data"
	seed "$tmp/s1" iid-e2e-s1
	start_imds t3.micro
	fwd=("$http_port" "$imds_port")
	boot s1 "$tmp/s1/disk.qcow2" "$tmp/s1" 1024 1 "e2e.hog=$hog_mib"
	r=$(report s1 1)
	if [[ -z $r ]]; then no_report s1 1; else
		common_before_docker "$r" $((2 * gib)) ci_net_exit
		check "installed and enabled (bin=$(field "$r" bin) sb_enabled=$(field "$r" sb_enabled))" \
			is "$(field "$r" bin)/$(field "$r" sb_enabled)" yes/enabled
		check "sized from the metadata service's t3.micro ($(summary s1 1))" grep -q 't3.micro from metadata service' <<<"$(summary s1 1)"
	fi
	hog_with_swap=$(grep -m1 '^E2E-HOG ' "$logs/s1.report.txt" || true)
	verdict 1 "first boot, cloud-config bootcmd, t3.micro, 1 GiB guest: $(timeline "$r" ci_net_exit "by cloud-init bootcmd (cloud-init.service exit)")"
fi

# ---- 2: first boot, user-data script; reboot ---------------------------------
if want 2; then
	overlay s2
	user_data user-data "${ci_settings[@]}" >"$tmp/s2/user-data"
	cp "$tmp/s2/user-data" "$logs/s2.user-data"
	seed "$tmp/s2" iid-e2e-s2
	start_imds t3.micro
	fwd=("$http_port" "$imds_port")
	boot s2 "$tmp/s2/disk.qcow2" "$tmp/s2" 1024 2
	r1=$(report s2 1) r=$(report s2 2)
	if [[ -z $r1 ]]; then no_report s2 1; else
		check "boot 1: installed and enabled (bin=$(field "$r1" bin) sb_enabled=$(field "$r1" sb_enabled))" \
			is "$(field "$r1" bin)/$(field "$r1" sb_enabled)" yes/enabled
		check "boot 1: 2 GiB swap active (swap_kib=$(field "$r1" swap_kib))" swap_is "$(field "$r1" swap_kib)" $((2 * gib))
		check "boot 1: one fstab line" is "$(field "$r1" fstab_lines)" 1
	fi
	if [[ -z $r ]]; then no_report s2 2; else
		common_before_docker "$r" $((2 * gib)) sb_exec_exit
		check "boot 2: swap-bootstrap.service succeeded (sb_result=$(field "$r" sb_result))" is "$(field "$r" sb_result)" success
	fi
	verdict 2 "user-data script, t3.micro: boot 1 swap $(gibs "$(field "$r1" swap_kib)") on at $(field "$r1" kernel_swapon)s by cloud-final (Docker activating $(sec "$(field "$r1" docker_inactive_exit)"), as documented), unit $(field "$r1" sb_enabled); reboot: $(timeline "$r" sb_exec_exit "checked by swap-bootstrap.service")"
fi

# ---- 3: stop, change the type, start -----------------------------------------
if want 3; then
	seed "$tmp/s2" iid-e2e-s2
	start_imds t3.small
	fwd=("$http_port" "$imds_port")
	boot s3 "$tmp/s2/disk.qcow2" "$tmp/s2" 2048 1
	r=$(report s3 1)
	if [[ -z $r ]]; then no_report s3 1; else
		common_before_docker "$r" $((4 * gib)) sb_exec_exit
		check "resized for t3.small ($(summary s3 1))" grep -q '4 GiB swap (.*resized.*t3.small from metadata service' <<<"$(summary s3 1)"
	fi
	verdict 3 "stop, t3.micro -> t3.small, start, 2 GiB guest: $(timeline "$r" sb_exec_exit "resized by swap-bootstrap.service")"
fi

# ---- 4: metadata service unreachable -----------------------------------------
if want 4; then
	overlay s4
	stop_imds
	user_data cloud-config "${ci_settings[@]}" >"$tmp/s4/user-data"
	seed "$tmp/s4" iid-e2e-s4
	# The endpoint stays set, but nothing is forwarded to it: QEMU's
	# restricted network drops the guest's connection attempts unanswered,
	# like a metadata service that does not respond at all.
	fwd=("$http_port")
	boot s4 "$tmp/s4/disk.qcow2" "$tmp/s4" 1024 2
	limit=${imds_timeout%s}
	slack=4
	r1=$(report s4 1) r=$(report s4 2)
	line4=''
	for b in 1 2; do
		rb=$(report s4 "$b")
		if [[ -z $rb ]]; then
			no_report s4 "$b"
			continue
		fi
		s=$(summary s4 "$b")
		took=$(sed -n 's/.*; \([0-9.]*\)s$/\1/p' <<<"$s")
		mem=$(field "$rb" memtotal_kib)
		check "boot $b: gave up on the metadata service within $limit s + ${slack}s (took ${took:-?}s: $s)" \
			awk -v t="$took" -v l="$((limit + slack))" 'BEGIN { exit !(t != "" && t <= l) }'
		check "boot $b: sized from MemTotal ($s)" grep -q 'from MemTotal' <<<"$s"
		# 2 x MemTotal, within 1 % (the size is rounded to whole pages/MiB).
		check "boot $b: swap is 2 x MemTotal (swap_kib=$(field "$rb" swap_kib), MemTotal ${mem} KiB)" \
			awk -v s="$(field "$rb" swap_kib)" -v m="$mem" 'BEGIN { d = s - 2 * m; if (d < 0) d = -d; exit !(s > 0 && d <= 0.01 * 2 * m) }'
		check "boot $b: docker.service active" is "$(field "$rb" docker_state)" active
		line4+="boot $b: swap-bootstrap took ${took:-?}s (SWAP_IMDS_TIMEOUT=$imds_timeout), $(gibs "$(field "$rb" swap_kib)") = 2 x MemTotal $(gibs "$mem"), Docker active $(sec "$(field "$rb" docker_active_enter)"); "
	done
	if [[ -n $r ]]; then
		check "boot 2: swap-bootstrap.service done before Docker" lt "$(field "$r" sb_exec_exit)" "$(field "$r" docker_inactive_exit)"
		unit_s=$(awk -v a="$(field "$r" sb_exec_start)" -v b="$(field "$r" sb_exec_exit)" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
		check "boot 2: swap-bootstrap.service ran ${unit_s}s (limit ${limit}s + ${slack}s)" \
			awk -v t="$unit_s" -v l="$((limit + slack))" 'BEGIN { exit !(t > 0 && t <= l) }'
		line4+="unit ran ${unit_s}s; "
	fi
	verdict 4 "metadata service unreachable, 1 GiB guest: ${line4%; }"
fi

# ---- 5: swap is usable by containers -----------------------------------------
if want 5; then
	overlay s5
	start_imds t3.micro
	user_data cloud-config "${ci_settings[@]}" SWAP_POLICY=off >"$tmp/s5/user-data"
	seed "$tmp/s5" iid-e2e-s5
	fwd=("$http_port" "$imds_port")
	boot s5 "$tmp/s5/disk.qcow2" "$tmp/s5" 1024 1 "e2e.hog=$hog_mib"
	r=$(report s5 1)
	hog_off=$(grep -m1 '^E2E-HOG ' "$logs/s5.report.txt" || true)
	if [[ -z $r ]]; then no_report s5 1; else
		check "SWAP_POLICY=off: no swap (swap_kib=$(field "$r" swap_kib))" is "$(field "$r" swap_kib)" 0
		# Docker's State.OOMKilled is not always set under cgroup v2 when the
		# kernel kills the process (exit 137); the kernel's own log line is the
		# other witness of a memory-cgroup OOM kill.
		oom=$(field "$hog_off" oom_killed)
		[[ $oom == true || $(field "$hog_off" kernel_oom_kills) -gt 0 ]] && oom=true
		check "SWAP_POLICY=off: the hog was OOM-killed ($hog_off)" is "$oom/$(field "$hog_off" exit)" true/137
	fi
	if want 1; then
		check "with swap: the hog completed ($hog_with_swap)" is "$(field "$hog_with_swap" exit)/$(field "$hog_with_swap" oom_killed)" 0/false
	else
		problems+=("scenario 1 did not run, so there is no run with swap to compare")
	fi
	verdict 5 "docker run --memory=128m --memory-swap=1g, ${hog_mib} MiB working set: with 2 GiB swap exit $(field "$hog_with_swap" exit) oom_killed=$(field "$hog_with_swap" oom_killed) in $(field "$hog_with_swap" seconds)s; SWAP_POLICY=off exit $(field "$hog_off" exit) oom_killed=$(field "$hog_off" oom_killed)"
fi

# ---- result ------------------------------------------------------------------
gets=$(grep -c '"GET /swap-bootstrap-linux-amd64 HTTP/1.[01]" 200' "$logs/http.log" || true)
say "binary downloaded $gets time(s) from the host's HTTP server; logs in $logs"
phase total "$t0"
printf '%s\n' "${results[@]}"
echo "$(( ${#results[@]} - failures )) passed, $failures failed"
((failures == 0))
