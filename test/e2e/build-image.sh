#!/usr/bin/env bash
# Builds a bootable Debian disk image of the swap-bootstrap end-to-end test
# (test/e2e/run.sh) with Debian's own tools and nothing but the package
# registry: mmdebstrap makes the tree (systemd, cloud-init, Docker, the cloud
# kernel), the files under test/e2e/guest/ are copied in, and mkfs.ext4 -d
# turns the tree into a sparse ext4 image without mounting anything.
#
#   test/e2e/build-image.sh                  # Debian 12 (bookworm), amd64
#   test/e2e/build-image.sh trixie           # Debian 13
#   test/e2e/build-image.sh trixie arm64     # arm64, through qemu-user (binfmt)
#
# It prints the directory holding the image: $E2E_CACHE/<suite>-<arch>-<key>/
# (default /var/cache/swap-bootstrap-e2e) with disk.img (sparse raw ext4,
# 16 GiB apparent), vmlinuz and initrd.img, which QEMU boots directly; on
# arm64 also vmlinuz-16k and initrd-16k.img (Debian's kernel built for 16 KiB
# pages); on amd64 also docker-archive.tar (test/e2e/docker-archive.sh: a
# large multi-layer container image made of the tree's files). The key hashes
# the suite, architecture, package list, mirrors, these scripts,
# test/e2e/guest/ and the memory hog's source, so a change to any of them
# builds a new image; older images of the same suite and architecture are
# deleted. Needs root (mmdebstrap --mode=root, mkfs.ext4 -d keeping owners).
# Nothing of swap-bootstrap is in the image: it arrives through the user-data.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${E2E_CACHE:-/var/cache/swap-bootstrap-e2e}
size=16G

suite=${1:-bookworm}
arch=${2:-amd64}
packages=(
	systemd-sysv udev dbus kmod procps iproute2 util-linux e2fsprogs
	cloud-init docker.io containerd apparmor ca-certificates curl
)
# From Debian 13 on, the docker command is its own package (a Recommends of
# docker.io, and Recommends stay out).
[[ $suite == bookworm ]] || packages+=(docker-cli)
case $arch in
amd64) packages+=(linux-image-cloud-amd64) ;;
# The cloud kernel (4 KiB pages, as on Graviton) and Debian's 16 KiB-page
# kernel, to boot the same tree on either.
arm64) packages+=(linux-image-cloud-arm64 linux-image-arm64-16k) ;;
*) echo "build-image: architecture $arch: use amd64 or arm64" >&2 && exit 2 ;;
esac

log() { printf 'build-image: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# mirrors prints the "deb URI SUITE main" lines for $suite (and its -updates
# and -security suites) on the Debian mirrors this machine's apt uses
# (sources.list and deb822 .sources, whatever suite they name), so the image
# comes from the same mirror as the host's packages.
mirrors() {
	local f
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[[ -r $f ]] || continue
			awk '$1 == "deb" && $0 !~ /\[/ { print $2 }' "$f"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[[ -r $f ]] || continue
			awk '
				function flush() {
					if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") print uris
					types = uris = enabled = ""
				}
				/^[ \t]*$/ { flush(); next }
				/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
				/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $1 }
				/^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); enabled = $0 }
				END { flush() }' "$f"
		done
	} | awk -v s="$suite" '
		{ sub(/\/$/, "") }
		$1 ~ /\/debian$/ { print "deb", $1, s, "main"; print "deb", $1, s "-updates", "main" }
		$1 ~ /\/debian-security$/ { print "deb", $1, s "-security", "main" }' | sort -u
}

[[ $(id -u) -eq 0 ]] || die "run as root: mmdebstrap --mode=root and mkfs.ext4 -d keep file owners"
for tool in mmdebstrap mkfs.ext4 go; do
	command -v "$tool" >/dev/null || die "$tool is not installed (test/e2e/run.sh installs what it needs)"
done

mapfile -t sources < <(mirrors)
[[ ${#sources[@]} -gt 0 ]] || die "no Debian $suite mirror in /etc/apt/sources.list{,.d}; add one (e.g. deb http://deb.debian.org/debian $suite main)"

# Two cache levels: the Debian tree (mmdebstrap: minutes, mostly downloads)
# is kept as base-<key>.tar, keyed by what goes into it; the bootable image
# (the tree plus guest/, the hog and mkfs: seconds) is keyed by that and the
# rest, so a change to guest/ does not download Debian again.
base_key=$(
	{
		printf '%s\n' "$suite" "$arch" "${packages[@]}" "${sources[@]}"
		sed -n '/^# ---- base/,/^# ---- end of base/p' "$0"
	} | sha256sum | cut -c1-16
)
key=$(
	{
		printf '%s\n' "$base_key" "$size"
		cat "$0" "$here/docker-archive.sh"
		cd "$here" && find guest memhog -type f -print0 | sort -z | xargs -0 sha256sum
	} | sha256sum | cut -c1-16
)
name=$suite-$arch
out="$cache/$name-$key"
base="$cache/$name-base-$base_key.tar"
if [[ -s $out/disk.img && -s $out/vmlinuz && -s $out/initrd.img ]]; then
	log "cached image $out"
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.build.XXXXXX")
# --one-file-system: never into what mmdebstrap may still have mounted in the
# tree (proc, sys, devpts) if it was interrupted.
trap 'rm -rf --one-file-system -- "$work"' EXIT
root=$work/root
started=$SECONDS

# ---- base: the Debian tree
if [[ -s $base ]]; then
	log "cached Debian tree $base"
	mkdir "$root"
	tar -C "$root" --numeric-owner -xpf "$base"
else
	log "mmdebstrap $suite $arch from ${sources[*]}"
	# Recommends stay out (the list above is all the image needs); docs and
	# translations too, which keeps the tree small and mkfs quick.
	mmdebstrap --mode=root --variant=minbase --quiet --architectures="$arch" \
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
	tar -C "$root" --numeric-owner -cpf "$work/base.tar" .
	for old in "$cache/$name"-base-*.tar; do
		[[ -e $old ]] && rm -f -- "$old"
	done
	mv "$work/base.tar" "$base"
fi
# ---- end of base

cp -a "$here/guest/." "$root/"
chmod 0755 "$root/usr/local/sbin/e2e-report" "$root/usr/local/sbin/e2e-powercut"
CGO_ENABLED=0 GOARCH=$arch go -C "$repo" build -trimpath -ldflags='-s -w' -o "$root/opt/e2e/hog/memhog" ./test/e2e/memhog

echo swap-e2e >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tswap-e2e\n' >"$root/etc/hosts"
cat >"$root/etc/fstab" <<'EOF'
# /etc/fstab of the swap-bootstrap e2e image. swap-bootstrap adds its own
# line below and must keep these.
LABEL=swap-e2e-root	/	ext4	rw,errors=remount-ro	0	1
EOF
# A persistent journal, so a later boot can still show an earlier one.
mkdir -p "$root/var/log/journal"
# The machine ID is made at first boot, as on a cloud image.
: >"$root/etc/machine-id"

systemctl --root="$root" enable systemd-networkd.service systemd-networkd-wait-online.service e2e-report.service \
	e2e-powercut-fsck.service e2e-powercut-observe.service e2e-powercut.service >&2
# Nothing may phone out: no apt timers, no time sync, no other periodic jobs.
# apparmor.service compiles every profile in /etc/apparmor.d at boot; Debian
# 13 ships about a hundred for programs the image does not have, minutes
# under TCG. Docker still loads its own docker-default profile.
systemctl --root="$root" mask apparmor.service >&2
systemctl --root="$root" mask apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
	systemd-timesyncd.service e2scrub_all.timer fstrim.timer man-db.timer dpkg-db-backup.timer >&2

# kernel FLAVOUR NAME: copy the newest vmlinuz and initrd of that flavour
# (cloud-amd64, cloud-arm64, arm64-16k) out of the tree as NAME and
# NAME's initrd.
kernel() {
	local k i
	k=$(find "$root/boot" -name "vmlinuz-*-$1" | sort -V | tail -n1)
	i=$(find "$root/boot" -name "initrd.img-*-$1" | sort -V | tail -n1)
	[[ -n $k && -n $i ]] || die "no $1 kernel or initrd in $root/boot; is its linux-image package in the list?"
	cp "$k" "$work/$2"
	cp "$i" "$work/${2/vmlinuz/initrd}.img"
}
case $arch in
amd64)
	kernel cloud-amd64 vmlinuz
	"$here/docker-archive.sh" "$root" "$work/docker-archive.tar"
	;;
arm64)
	kernel cloud-arm64 vmlinuz
	kernel arm64-16k vmlinuz-16k
	;;
esac
log "mkfs.ext4 -d ($(du -sh "$root" | cut -f1) of files) into a sparse $size image"
truncate -s "$size" "$work/disk.img"
mkfs.ext4 -q -F -L swap-e2e-root -d "$root" "$work/disk.img" >&2
rm -rf -- "$root"

# Older images of this suite and architecture, and those named by the key
# alone (before images were per suite and architecture).
for old in "$cache/$name"-????????????????/ "$cache"/????????????????/; do
	[[ -d $old ]] || continue
	[[ ${old%/} == "$out" ]] || rm -rf -- "$old"
done
rm -rf -- "$out"
mv "$work" "$out"
trap - EXIT
log "built $out in $((SECONDS - started))s"
echo "$out"
