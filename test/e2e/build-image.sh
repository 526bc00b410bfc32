#!/usr/bin/env bash
# Builds the bootable Debian 12 disk image of the swap-bootstrap end-to-end
# test (test/e2e/run.sh) with Debian's own tools and nothing but the package
# registry: mmdebstrap makes the tree (systemd, cloud-init, Docker, the cloud
# kernel), the files under test/e2e/guest/ are copied in, and mkfs.ext4 -d
# turns the tree into a sparse ext4 image without mounting anything.
#
#   test/e2e/build-image.sh     # prints the directory holding the image
#
# The result is cached in $E2E_CACHE/<key>/ (default
# /var/cache/swap-bootstrap-e2e): disk.img (sparse raw ext4, 16 GiB apparent),
# vmlinuz and initrd.img, which QEMU boots directly. The key hashes the
# package list, the mirrors, this script, test/e2e/guest/ and the memory hog's
# source, so a change to any of them builds a new image; older ones are
# deleted. Needs root (mmdebstrap --mode=root, mkfs.ext4 -d keeping owners).
# Nothing of swap-bootstrap is in the image: it arrives through the user-data.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${E2E_CACHE:-/var/cache/swap-bootstrap-e2e}
size=16G

suite=bookworm
packages=(
	systemd-sysv udev dbus kmod procps iproute2 util-linux e2fsprogs
	cloud-init docker.io containerd apparmor linux-image-cloud-amd64
	ca-certificates curl
)

log() { printf 'build-image: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# mirrors prints one "deb URI SUITE main" line per Debian suite that this
# machine's apt uses for $suite (sources.list and deb822 .sources), so the
# image comes from the same mirror as the host's packages.
mirrors() {
	local f
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[[ -r $f ]] || continue
			awk -v s="$suite" '$1 == "deb" && $0 !~ /\[/ { for (i = 3; i <= 3; i++) if (index($i, s) == 1) print $2, $i }' "$f"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[[ -r $f ]] || continue
			awk -v s="$suite" '
				function flush(  i, n, a) {
					if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") {
						n = split(suites, a, " ")
						for (i = 1; i <= n; i++) if (index(a[i], s) == 1) print uris, a[i]
					}
					types = uris = suites = enabled = ""
				}
				/^[ \t]*$/ { flush(); next }
				/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
				/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $1 }
				/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
				/^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); enabled = $0 }
				END { flush() }' "$f"
		done
	} | awk '$1 ~ /\/debian(-security)?\/?$/ { print "deb", $1, $2, "main" }' | sort -u
}

[[ $(id -u) -eq 0 ]] || die "run as root: mmdebstrap --mode=root and mkfs.ext4 -d keep file owners"
for tool in mmdebstrap mkfs.ext4 go; do
	command -v "$tool" >/dev/null || die "$tool is not installed (test/e2e/run.sh installs what it needs)"
done

mapfile -t sources < <(mirrors)
[[ ${#sources[@]} -gt 0 ]] || die "no Debian $suite mirror in /etc/apt/sources.list{,.d}; add one (e.g. deb http://deb.debian.org/debian $suite main)"

key=$(
	{
		printf '%s\n' "${packages[@]}" "${sources[@]}" "$size"
		cat "$0"
		cd "$here" && find guest memhog -type f -print0 | sort -z | xargs -0 sha256sum
	} | sha256sum | cut -c1-16
)
out="$cache/$key"
if [[ -s $out/disk.img && -s $out/vmlinuz && -s $out/initrd.img ]]; then
	log "cached image $out"
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
root=$work/root
started=$SECONDS

log "mmdebstrap $suite from ${sources[*]}"
# Recommends stay out (the list above is all the image needs); docs and
# translations too, which keeps the tree small and mkfs quick.
mmdebstrap --mode=root --variant=minbase --quiet \
	--aptopt='APT::Install-Recommends "false"' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/locale/locale.alias' \
	--include="$(
		IFS=,
		echo "${packages[*]}"
	)" \
	"$suite" "$root" "${sources[@]}" >&2
log "mmdebstrap took $((SECONDS - started))s"

cp -a "$here/guest/." "$root/"
chmod 0755 "$root/usr/local/sbin/e2e-report"
CGO_ENABLED=0 go -C "$repo" build -trimpath -ldflags='-s -w' -o "$root/opt/e2e/hog/memhog" ./test/e2e/memhog

echo swap-e2e >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tswap-e2e\n' >"$root/etc/hosts"
cat >"$root/etc/fstab" <<'EOF'
# /etc/fstab of the swap-bootstrap e2e image. swap-bootstrap adds its own
# line below and must keep these.
/dev/vda	/	ext4	rw,errors=remount-ro	0	1
EOF
# A persistent journal, so a later boot can still show an earlier one.
mkdir -p "$root/var/log/journal"
# The machine ID is made at first boot, as on a cloud image.
: >"$root/etc/machine-id"

systemctl --root="$root" enable systemd-networkd.service systemd-networkd-wait-online.service e2e-report.service >&2
# Nothing may phone out: no apt timers, no time sync, no other periodic jobs.
systemctl --root="$root" mask apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
	systemd-timesyncd.service e2scrub_all.timer fstrim.timer man-db.timer dpkg-db-backup.timer >&2

kernel=$(find "$root/boot" -name 'vmlinuz-*' | sort -V | tail -n1)
initrd=$(find "$root/boot" -name 'initrd.img-*' | sort -V | tail -n1)
[[ -n $kernel && -n $initrd ]] || die "no kernel or initrd in $root/boot; is linux-image-cloud-amd64 in the package list?"
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"

log "mkfs.ext4 -d ($(du -sh "$root" | cut -f1) of files) into a sparse $size image"
truncate -s "$size" "$work/disk.img"
mkfs.ext4 -q -F -L swap-e2e-root -d "$root" "$work/disk.img" >&2
rm -rf -- "$root"

for old in "$cache"/*/; do
	[[ ${old%/} == "$out" ]] || rm -rf -- "$old"
done
rm -rf -- "$out"
mv "$work" "$out"
trap - EXIT
log "built $out in $((SECONDS - started))s"
echo "$out"
