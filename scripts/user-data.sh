#!/bin/bash
# swap-bootstrap as EC2 user data (launch template, Auto Scaling group,
# `aws ec2 run-instances --user-data file://user-data.sh`).
#
# Downloads the swap-bootstrap binary for this machine's architecture, refuses
# it unless its SHA-256 matches the pinned one, and runs
# `swap-bootstrap install --now`, which creates the swapfile now and installs
# a systemd unit that recreates or resizes it at every later boot, before
# Docker starts.
#
# cloud-init runs user-data scripts late, after Docker has started, on the
# first boot only. From the second boot on the unit has swap ready before
# Docker. To have swap before Docker on the first boot too, use
# cloud-config.yaml (bootcmd) instead of this script.
#
# Output goes to /var/log/cloud-init-output.log.
set -euo pipefail

# ---- Settings: change these ---------------------------------------------------
# Where the binaries are: the location holding swap-bootstrap-linux-amd64 and
# swap-bootstrap-linux-arm64, as scripts/build.sh leaves them in dist/.
#   https://downloads.example.com/swap-bootstrap/v1.0.0   (curl, else wget)
#   s3://my-bucket/swap-bootstrap/v1.0.0   (aws s3 cp; the instance profile needs s3:GetObject)
#   file:///opt/swap-bootstrap             (a directory already on the machine)
# http:// works too; the pinned SHA-256 is what makes any download safe.
SWAP_BOOTSTRAP_URL="${SWAP_BOOTSTRAP_URL:-}"
# SHA-256 of each binary, from dist/SHA256SUMS. Anything else is refused.
SWAP_BOOTSTRAP_SHA256_AMD64="${SWAP_BOOTSTRAP_SHA256_AMD64:-}"
SWAP_BOOTSTRAP_SHA256_ARM64="${SWAP_BOOTSTRAP_SHA256_ARM64:-}"

# Swap settings. They are saved to /etc/default/swap-bootstrap and apply at
# every boot. Unset, swap is 2 x RAM (policy ratio), at most 32 GiB.
# export SWAP_POLICY=ratio        # ratio, aws, redhat, ubuntu, cloud-init, fixed or off
# export SWAP_RATIO=2             # policy ratio: swap = RAM x this
# export SWAP_SIZE=4G             # policy fixed: this size
# export SWAP_MAX=16G             # never more than this
# export SWAP_FILE=/var/swapfile  # where the swapfile goes

# For tests only: install into this directory instead of / (empty: the real root).
SWAP_BOOTSTRAP_INSTALL_ROOT="${SWAP_BOOTSTRAP_INSTALL_ROOT:-}"
# -------------------------------------------------------------------------------

log() { printf 'swap-bootstrap-user-data: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

case "$(uname -m)" in
x86_64) arch=amd64 want=$SWAP_BOOTSTRAP_SHA256_AMD64 ;;
aarch64 | arm64) arch=arm64 want=$SWAP_BOOTSTRAP_SHA256_ARM64 ;;
*) die "unsupported machine type $(uname -m): swap-bootstrap is built for x86_64 (amd64) and aarch64 (arm64) only" ;;
esac
want=$(printf '%s' "$want" | tr 'A-F' 'a-f')

[[ -n $SWAP_BOOTSTRAP_URL ]] || die "SWAP_BOOTSTRAP_URL is empty; set it at the top of this script"
[[ $want =~ ^[0-9a-f]{64}$ ]] || die "SWAP_BOOTSTRAP_SHA256_${arch^^}=\"$want\" is not a SHA-256; set it at the top of this script from dist/SHA256SUMS"

name="swap-bootstrap-linux-${arch}"
src="${SWAP_BOOTSTRAP_URL%/}/${name}"

# /tmp may be mounted noexec (CIS-hardened images): set TMPDIR to a directory
# that allows executing, e.g. TMPDIR=/root, at the top of this script.
tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/swap-bootstrap.XXXXXXXX")
trap 'rm -rf -- "$tmpdir"' EXIT
tmp="$tmpdir/$name"

fetch() {
	case "$src" in
	https://* | http://*)
		if command -v curl >/dev/null; then
			curl --fail --silent --show-error --location --proto '=https,http' \
				--connect-timeout 10 --max-time 300 --retry 3 --retry-delay 2 \
				--output "$tmp" "$src"
		elif command -v wget >/dev/null; then
			wget --quiet --tries=3 --waitretry=2 --timeout=30 --output-document="$tmp" "$src"
		else
			die "neither curl nor wget is installed; install one, or use an s3:// or file:// SWAP_BOOTSTRAP_URL"
		fi
		;;
	s3://*)
		command -v aws >/dev/null || die "SWAP_BOOTSTRAP_URL is s3:// but the aws CLI is not installed"
		aws s3 cp --only-show-errors "$src" "$tmp"
		;;
	file://*)
		cp -- "${src#file://}" "$tmp"
		;;
	*)
		die "SWAP_BOOTSTRAP_URL=\"$SWAP_BOOTSTRAP_URL\" must start with https://, http://, s3:// or file://"
		;;
	esac
}

log "downloading $src"
# Early in boot the network or DNS may still be settling: try a few times.
for attempt in 1 2 3 4 5; do
	if fetch; then
		break
	fi
	((attempt < 5)) || die "could not download $src after $attempt attempts; nothing was installed"
	log "download attempt $attempt failed; retrying in $((attempt * 3))s"
	sleep $((attempt * 3))
done

if ! printf '%s  %s\n' "$want" "$tmp" | sha256sum --check --status; then
	got=$(sha256sum "$tmp" | cut -d' ' -f1)
	die "checksum mismatch for $src: SHA-256 is $got, expected $want; refusing to run it, nothing was installed"
fi
log "checksum verified: $want"
chmod 0755 "$tmp"

args=(install --now)
if [[ -n $SWAP_BOOTSTRAP_INSTALL_ROOT ]]; then
	args+=(--root "$SWAP_BOOTSTRAP_INSTALL_ROOT")
fi
log "running $name ${args[*]}"
# The installer's own SWAP_BOOTSTRAP_* variables are not swap settings: keep
# them out of the environment that `install` saves to /etc/default/swap-bootstrap.
unset_args=()
for v in $(compgen -e); do
	[[ $v != SWAP_BOOTSTRAP_* ]] || unset_args+=(-u "$v")
done
# (The ${a[@]+...} form: bash 4.2 on Amazon Linux 2 calls an empty array unbound.)
env ${unset_args[@]+"${unset_args[@]}"} "$tmp" "${args[@]}"
log "done"
