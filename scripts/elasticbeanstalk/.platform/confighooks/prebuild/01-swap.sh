#!/bin/bash
# swap-bootstrap for Elastic Beanstalk (Docker platform on Amazon Linux 2 and
# Amazon Linux 2023).
#
# The same file is used in three places; copy the one you need into your source
# bundle, keeping its path, and make sure the hooks stay executable
# (chmod 0755; git keeps the bit, a zip made on Windows may not):
#   .platform/hooks/prebuild/01-swap.sh        application deployments
#   .platform/confighooks/prebuild/01-swap.sh  configuration deployments
#   .ebextensions/01-swap.config               writes this script and runs it from
#                                              `commands:` (drop-in for the classic
#                                              01_setup_swap.config dd snippet)
# Use the hooks or the .ebextensions file, not both.
#
# It installs swap-bootstrap with `install --now`: the swapfile is created now,
# before Elastic Beanstalk pulls and starts the container, and the installed
# systemd unit recreates it at every reboot (hooks do not run on reboot).
#
# The binary comes from the source bundle, bin/swap-bootstrap-linux-amd64 or
# bin/swap-bootstrap-linux-arm64 (hooks run with the working directory
# /var/app/staging), or else is downloaded from SWAP_BOOTSTRAP_URL.
#
# Swap settings: set SWAP_* environment properties on the environment
# (SWAP_POLICY, SWAP_MAX, ...); this script reads them with Elastic Beanstalk's
# get-config, because hooks do not get them in their environment. An export
# below wins over an environment property.
#
# Output goes to /var/log/eb-hooks.log (.ebextensions: /var/log/eb-engine.log).
set -euo pipefail

# ---- Settings: change these ---------------------------------------------------
# Where to download the binary from when the bundle has no bin/ copy: the
# location holding swap-bootstrap-linux-amd64 and -arm64 (scripts/build.sh's
# dist/): https://..., http://..., s3://... (aws s3 cp; the instance profile
# needs s3:GetObject) or file:///dir. Empty: only the bundled binary is used.
SWAP_BOOTSTRAP_URL="${SWAP_BOOTSTRAP_URL:-}"
# SHA-256 of each binary, from dist/SHA256SUMS. Required for a download;
# a bundled binary is checked against it when it is set.
SWAP_BOOTSTRAP_SHA256_AMD64="${SWAP_BOOTSTRAP_SHA256_AMD64:-}"
SWAP_BOOTSTRAP_SHA256_ARM64="${SWAP_BOOTSTRAP_SHA256_ARM64:-}"

# Swap settings, saved to /etc/default/swap-bootstrap and applied at every boot.
# Unset, swap is 2 x RAM (policy ratio), at most 32 GiB.
# export SWAP_POLICY=ratio        # ratio, aws, redhat, ubuntu, cloud-init, fixed or off
# export SWAP_RATIO=2             # policy ratio: swap = RAM x this
# export SWAP_SIZE=4G             # policy fixed: this size
# export SWAP_MAX=16G             # never more than this
# export SWAP_FILE=/var/swapfile  # where the swapfile goes

# Environment properties read with get-config, when they are set.
SWAP_BOOTSTRAP_EB_SETTINGS="${SWAP_BOOTSTRAP_EB_SETTINGS:-SWAP_POLICY SWAP_RATIO SWAP_SIZE SWAP_MIN SWAP_MAX SWAP_FILE SWAP_DISK_PERCENT SWAP_DISK_RESERVE SWAP_TOLERANCE SWAP_ALLOCATE SWAP_PRIORITY SWAP_SWAPPINESS SWAP_TAGS}"
SWAP_BOOTSTRAP_EB_GET_CONFIG="${SWAP_BOOTSTRAP_EB_GET_CONFIG:-/opt/elasticbeanstalk/bin/get-config}"

# For tests only: install into this directory instead of / (empty: the real root).
SWAP_BOOTSTRAP_INSTALL_ROOT="${SWAP_BOOTSTRAP_INSTALL_ROOT:-}"
# -------------------------------------------------------------------------------

log() { printf 'swap-bootstrap-eb: %s\n' "$*" >&2; }
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
if [[ -n $want && ! $want =~ ^[0-9a-f]{64}$ ]]; then
	die "SWAP_BOOTSTRAP_SHA256_${arch^^}=\"$want\" is not a SHA-256; set it from dist/SHA256SUMS"
fi

name="swap-bootstrap-linux-${arch}"
installed="${SWAP_BOOTSTRAP_INSTALL_ROOT%/}/usr/local/sbin/swap-bootstrap"
tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/swap-bootstrap.XXXXXXXX")
trap 'rm -rf -- "$tmpdir"' EXIT
tmp="$tmpdir/$name"

# Where the binary comes from: the bundle, else SWAP_BOOTSTRAP_URL.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bundled=""
for candidate in "$PWD/bin/$name" "$here/../../../bin/$name"; do
	if [[ -f $candidate ]]; then
		bundled=$candidate
		break
	fi
done

fetch() {
	local src=$1
	case "$src" in
	https://* | http://*)
		if command -v curl >/dev/null; then
			curl --fail --silent --show-error --location --proto '=https,http' \
				--connect-timeout 10 --max-time 300 --retry 3 --retry-delay 2 \
				--output "$tmp" "$src"
		elif command -v wget >/dev/null; then
			wget --quiet --tries=3 --waitretry=2 --timeout=30 --output-document="$tmp" "$src"
		else
			die "neither curl nor wget is installed; use an s3:// or file:// SWAP_BOOTSTRAP_URL"
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

if [[ -n $bundled ]]; then
	log "using the bundled binary $bundled"
	cp -- "$bundled" "$tmp"
	src=$bundled
elif [[ -n $SWAP_BOOTSTRAP_URL ]]; then
	[[ -n $want ]] || die "SWAP_BOOTSTRAP_SHA256_${arch^^} is empty; a downloaded binary must be pinned: set it from dist/SHA256SUMS"
	src="${SWAP_BOOTSTRAP_URL%/}/$name"
	log "downloading $src"
	for attempt in 1 2 3 4 5; do
		if fetch "$src"; then
			break
		fi
		((attempt < 5)) || die "could not download $src after $attempt attempts; nothing was installed"
		log "download attempt $attempt failed; retrying in $((attempt * 3))s"
		sleep $((attempt * 3))
	done
elif [[ -x $installed ]]; then
	# A configuration deployment of a bundle without bin/: refresh the settings
	# with the binary already installed.
	log "no bin/$name in the bundle and no SWAP_BOOTSTRAP_URL; using the installed $installed"
	cp -- "$installed" "$tmp"
	src=$installed
	want=""
else
	die "no bin/$name in the source bundle ($PWD) and SWAP_BOOTSTRAP_URL is empty; add the binary to the bundle or set SWAP_BOOTSTRAP_URL at the top of this script"
fi

if [[ -n $want ]]; then
	if ! printf '%s  %s\n' "$want" "$tmp" | sha256sum --check --status; then
		got=$(sha256sum "$tmp" | cut -d' ' -f1)
		die "checksum mismatch for $src: SHA-256 is $got, expected $want; refusing to run it, nothing was installed"
	fi
	log "checksum verified: $want"
fi
chmod 0755 "$tmp"

# Environment properties from the Elastic Beanstalk console or `eb setenv`.
if [[ -x $SWAP_BOOTSTRAP_EB_GET_CONFIG ]]; then
	for setting in $SWAP_BOOTSTRAP_EB_SETTINGS; do
		if [[ -z ${!setting+set} ]] && value=$("$SWAP_BOOTSTRAP_EB_GET_CONFIG" environment -k "$setting" 2>/dev/null) && [[ -n $value ]]; then
			export "$setting=$value"
			log "environment property $setting=$value"
		fi
	done
fi

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
