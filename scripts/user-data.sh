#!/bin/bash
# swap-bootstrap as EC2 user data (launch template, Auto Scaling group,
# `aws ec2 run-instances --user-data file://user-data.sh`).
#
# Downloads the swap-bootstrap release binary for this machine's architecture,
# refuses it unless its SHA-256 matches the pinned one, and runs
# `swap-bootstrap install --now`, which creates the swapfile now and installs
# a systemd unit that recreates or resizes it at every later boot, before
# Docker starts.
#
# cloud-init runs user-data scripts late, after Docker has started, on the
# first boot only. From the second boot on the unit has swap ready before
# Docker. To have swap before Docker on the first boot too, use
# cloud-config.yaml (bootcmd) instead of this script.
#
# Each release carries a copy of this file with the version and both pins
# filled in (swap-bootstrap-user-data.sh): that one needs no edits.
#
# Output goes to /var/log/cloud-init-output.log.
set -euo pipefail

# ---- Settings: change these ---------------------------------------------------
# The release to install, e.g. v1.0.0 (https://github.com/soundhub/swap-bootstrap/releases).
SWAP_BOOTSTRAP_VERSION="${SWAP_BOOTSTRAP_VERSION:-}"
# SHA-256 of that release's swap-bootstrap-linux-amd64 and -arm64, from its
# SHA256SUMS. A binary with any other checksum is refused.
SWAP_BOOTSTRAP_SHA256_AMD64="${SWAP_BOOTSTRAP_SHA256_AMD64:-}"
SWAP_BOOTSTRAP_SHA256_ARM64="${SWAP_BOOTSTRAP_SHA256_ARM64:-}"
# Where the binaries are. Empty: the GitHub release of SWAP_BOOTSTRAP_VERSION,
# https://github.com/soundhub/swap-bootstrap/releases/download/<version>.
# Or your own copy, a location holding swap-bootstrap-linux-amd64 and -arm64
# (then the version is only logged):
#   https://downloads.example.com/swap-bootstrap/v1.0.0   (curl, else wget)
#   s3://my-bucket/swap-bootstrap/v1.0.0   (aws s3 cp; the instance profile needs s3:GetObject)
#   file:///opt/swap-bootstrap             (a directory already on the machine)
# http:// works too; the pinned SHA-256 is what makes any download safe.
SWAP_BOOTSTRAP_URL="${SWAP_BOOTSTRAP_URL:-}"

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
pin_var="SWAP_BOOTSTRAP_SHA256_${arch^^}"

# Every problem with the settings at once, before anything is downloaded.
problems=()
if [[ -z $SWAP_BOOTSTRAP_URL ]]; then
	if [[ -z $SWAP_BOOTSTRAP_VERSION ]]; then
		problems+=("SWAP_BOOTSTRAP_VERSION is empty: set it at the top of this script to the release to install, e.g. v1.0.0 (https://github.com/soundhub/swap-bootstrap/releases), or set SWAP_BOOTSTRAP_URL to where your own build is")
	elif [[ ! $SWAP_BOOTSTRAP_VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
		problems+=("SWAP_BOOTSTRAP_VERSION=\"$SWAP_BOOTSTRAP_VERSION\" is not a release tag; use one like v1.0.0")
	fi
fi
if [[ -z $want ]]; then
	problems+=("$pin_var is empty: set it at the top of this script to the SHA-256 of swap-bootstrap-linux-$arch from the release's SHA256SUMS")
elif [[ ! $want =~ ^[0-9a-f]{64}$ ]]; then
	problems+=("$pin_var=\"$want\" is not a SHA-256 (64 hex digits); copy it from the release's SHA256SUMS")
fi
case "$SWAP_BOOTSTRAP_URL" in
"" | https://* | http://* | s3://* | file://*) ;;
*) problems+=("SWAP_BOOTSTRAP_URL=\"$SWAP_BOOTSTRAP_URL\" must start with https://, http://, s3:// or file://") ;;
esac
if ((${#problems[@]} > 0)); then
	for p in "${problems[@]}"; do log "error: $p"; done
	log "nothing was downloaded or installed"
	exit 2
fi

name="swap-bootstrap-linux-${arch}"
base=${SWAP_BOOTSTRAP_URL:-https://github.com/soundhub/swap-bootstrap/releases/download/$SWAP_BOOTSTRAP_VERSION}
src="${base%/}/${name}"
root=$SWAP_BOOTSTRAP_INSTALL_ROOT
sbin="${root%/}/usr/local/sbin"

# The download lands in TMPDIR (reading and checksumming it needs no exec);
# the verified copy runs from a hidden file in the directory the binary is
# installed to, which must allow executing anyway: /tmp and /var/tmp are
# mounted noexec on CIS-hardened images (CIS Amazon Linux 2023 1.1.2.3,
# 1.1.4.2), where a binary run from them fails with "Permission denied".
tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/swap-bootstrap.XXXXXXXX")
runner=""
trap 'rm -rf -- "$tmpdir"; [[ -z $runner ]] || rm -f -- "$runner"' EXIT
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
	esac
}

log "downloading ${SWAP_BOOTSTRAP_VERSION:-swap-bootstrap} from $src"
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
	die "checksum mismatch for $src: SHA-256 is $got, $pin_var expects $want; refusing to run it, nothing was installed"
fi
log "checksum verified: $want"

mkdir -p -- "$sbin"
runner=$(mktemp "$sbin/.swap-bootstrap-installer.XXXXXXXX")
cp -- "$tmp" "$runner"
chmod 0755 "$runner"

args=(install --now)
if [[ -n $root ]]; then
	# --root scopes install to that tree and cannot be combined with --now:
	# the swapfile is then made by a separate apply, as --now would.
	args=(install --root "$root")
fi
log "running $name ${args[*]}"
# The installer's own SWAP_BOOTSTRAP_* variables are not swap settings: keep
# them out of the environment that `install` saves to /etc/default/swap-bootstrap.
unset_args=()
for v in $(compgen -e); do
	[[ $v != SWAP_BOOTSTRAP_* ]] || unset_args+=(-u "$v")
done
# (The ${a[@]+...} form: bash 4.2 on Amazon Linux 2 calls an empty array unbound.)
env ${unset_args[@]+"${unset_args[@]}"} "$runner" "${args[@]}"
if [[ -n $root ]]; then
	env ${unset_args[@]+"${unset_args[@]}"} "$runner" apply
fi
log "done"
