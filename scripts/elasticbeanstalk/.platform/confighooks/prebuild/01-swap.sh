#!/bin/bash
# swap-bootstrap for Elastic Beanstalk (Docker platform on Amazon Linux 2 and
# Amazon Linux 2023).
#
# The same file is used in three places; copy the one you need into your source
# bundle, keeping its path, and make sure the hooks stay executable and LF-only
# (chmod 0755; git keeps the bit, a zip made on Windows may not; a CRLF line
# ending breaks the #! line and aborts the deployment):
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
# Where the binary comes from, first match wins:
#  1. The source bundle being deployed, bin/swap-bootstrap-linux-amd64 or
#     bin/swap-bootstrap-linux-arm64 (checked against the pin when one is set).
#     As a hook it is read from the extracted bundle the hook itself came from.
#     From .ebextensions `commands:` it is read out of the downloaded zip,
#     because those commands run after the bundle is downloaded and before it
#     is extracted ("Instance deployment workflow", AWS Elastic Beanstalk
#     Developer Guide): /var/app/staging is then absent, or holds an earlier
#     bundle. eb-engine.log shows where that zip is: "extracting
#     /opt/elasticbeanstalk/deployment/app_source_bundle to /var/app/staging/"
#     with /usr/bin/unzip, which is therefore present on every platform version.
#  2. The release SWAP_BOOTSTRAP_VERSION (or SWAP_BOOTSTRAP_URL), downloaded and
#     refused unless it matches the pin.
#  3. On a configuration deployment with neither: the binary already installed.
#
# Swap settings: set SWAP_* environment properties on the environment
# (SWAP_POLICY, SWAP_MAX, ...). This script reads them with Elastic Beanstalk's
# get-config, so it sees them the same way as a hook and from .ebextensions
# `commands:`. An export below wins over an environment property.
#
# Each release carries a copy of this file with the version and both pins
# filled in (swap-bootstrap-eb-01-swap.sh, and swap-bootstrap-eb-01-swap.config).
#
# Output goes to /var/log/eb-hooks.log (.ebextensions: /var/log/cfn-init-cmd.log).
set -euo pipefail

# ---- Settings: change these ---------------------------------------------------
# The release to download when the bundle has no bin/ copy, e.g. v1.0.0
# (https://github.com/soundhub/swap-bootstrap/releases). Empty, with an empty
# SWAP_BOOTSTRAP_URL: only the bundled (or installed) binary is used.
SWAP_BOOTSTRAP_VERSION="${SWAP_BOOTSTRAP_VERSION:-}"
# SHA-256 of swap-bootstrap-linux-amd64 and -arm64, from the release's
# SHA256SUMS. Required for a download; a bundled binary is checked against it
# when it is set.
SWAP_BOOTSTRAP_SHA256_AMD64="${SWAP_BOOTSTRAP_SHA256_AMD64:-}"
SWAP_BOOTSTRAP_SHA256_ARM64="${SWAP_BOOTSTRAP_SHA256_ARM64:-}"
# Where to download from instead of the GitHub release: a location holding
# swap-bootstrap-linux-amd64 and -arm64: https://..., http://..., s3://...
# (aws s3 cp; the instance profile needs s3:GetObject) or file:///dir.
SWAP_BOOTSTRAP_URL="${SWAP_BOOTSTRAP_URL:-}"

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
# Where the platform leaves the downloaded source bundle (a zip) before it
# extracts it to /var/app/staging.
SWAP_BOOTSTRAP_EB_SOURCE_BUNDLE="${SWAP_BOOTSTRAP_EB_SOURCE_BUNDLE:-/opt/elasticbeanstalk/deployment/app_source_bundle}"

# For tests only: install into this directory instead of / (empty: the real root).
SWAP_BOOTSTRAP_INSTALL_ROOT="${SWAP_BOOTSTRAP_INSTALL_ROOT:-}"
# -------------------------------------------------------------------------------

log() { printf 'swap-bootstrap-eb: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
bad_setting() {
	log "error: $*; nothing was installed"
	exit 2
}

case "$(uname -m)" in
x86_64) arch=amd64 want=$SWAP_BOOTSTRAP_SHA256_AMD64 ;;
aarch64 | arm64) arch=arm64 want=$SWAP_BOOTSTRAP_SHA256_ARM64 ;;
*) die "unsupported machine type $(uname -m): swap-bootstrap is built for x86_64 (amd64) and aarch64 (arm64) only" ;;
esac
want=$(printf '%s' "$want" | tr 'A-F' 'a-f')
pin_var="SWAP_BOOTSTRAP_SHA256_${arch^^}"
if [[ -n $want && ! $want =~ ^[0-9a-f]{64}$ ]]; then
	bad_setting "$pin_var=\"$want\" is not a SHA-256 (64 hex digits); copy it from the release's SHA256SUMS"
fi
if [[ -n $SWAP_BOOTSTRAP_VERSION && ! $SWAP_BOOTSTRAP_VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
	bad_setting "SWAP_BOOTSTRAP_VERSION=\"$SWAP_BOOTSTRAP_VERSION\" is not a release tag; use one like v1.0.0"
fi
case "$SWAP_BOOTSTRAP_URL" in
"" | https://* | http://* | s3://* | file://*) ;;
*) bad_setting "SWAP_BOOTSTRAP_URL=\"$SWAP_BOOTSTRAP_URL\" must start with https://, http://, s3:// or file://" ;;
esac

name="swap-bootstrap-linux-${arch}"
root=$SWAP_BOOTSTRAP_INSTALL_ROOT
sbin="${root%/}/usr/local/sbin"
installed="$sbin/swap-bootstrap"
# Downloads and bundle copies land in TMPDIR (checking them needs no exec); the
# verified copy runs from a hidden file in the directory the binary is
# installed to, which must allow executing anyway: CIS-hardened images mount
# /tmp and /var/tmp noexec.
tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/swap-bootstrap.XXXXXXXX")
runner=""
trap 'rm -rf -- "$tmpdir"; [[ -z $runner ]] || rm -f -- "$runner"' EXIT
tmp="$tmpdir/$name"

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
	esac
}

# The bundle being deployed. As a hook this script sits in
# <bundle>/.platform/(config)hooks/prebuild/ of the extracted bundle; anywhere
# else (/opt/swap-bootstrap/, written by .ebextensions) it runs before the
# extraction and reads the downloaded zip.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=""
case "$here" in
*/.platform/hooks/* | */.platform/confighooks/*)
	bundle=${here%/.platform/*}
	if [[ -f $bundle/bin/$name ]]; then
		log "using the bundled binary $bundle/bin/$name"
		cp -- "$bundle/bin/$name" "$tmp"
		src=$bundle/bin/$name
	fi
	;;
*)
	zip=$SWAP_BOOTSTRAP_EB_SOURCE_BUNDLE
	if [[ ! -f $zip ]]; then
		log "no downloaded source bundle at $zip"
	elif ! command -v unzip >/dev/null; then
		log "unzip is not installed; cannot look for bin/$name in the source bundle $zip"
	# A Docker source bundle may also be a bare Dockerrun.aws.json or
	# docker-compose.yml rather than a zip: then there is nothing to list.
	# (The listing goes through a variable: grep -q exiting early would make
	# unzip die of SIGPIPE, which pipefail reports as "not found".)
	elif listing=$(unzip -Z1 "$zip" 2>/dev/null) && grep -qxF "bin/$name" <<<"$listing"; then
		log "using bin/$name from the source bundle being deployed, $zip"
		unzip -p "$zip" "bin/$name" >"$tmp" || die "could not read bin/$name from $zip"
		src="$zip:bin/$name"
	fi
	;;
esac

if [[ -n $src ]]; then
	:
elif [[ -n $SWAP_BOOTSTRAP_VERSION || -n $SWAP_BOOTSTRAP_URL ]]; then
	[[ -n $want ]] || bad_setting "$pin_var is empty; a downloaded binary must be pinned: set it to the SHA-256 of $name from the release's SHA256SUMS"
	base=${SWAP_BOOTSTRAP_URL:-https://github.com/soundhub/swap-bootstrap/releases/download/$SWAP_BOOTSTRAP_VERSION}
	src="${base%/}/$name"
	log "downloading ${SWAP_BOOTSTRAP_VERSION:-swap-bootstrap} from $src"
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
	log "no bin/$name in the bundle and no SWAP_BOOTSTRAP_VERSION or SWAP_BOOTSTRAP_URL; using the installed $installed"
	cp -- "$installed" "$tmp"
	src=$installed
	want=""
else
	bad_setting "no bin/$name in the source bundle and SWAP_BOOTSTRAP_VERSION and SWAP_BOOTSTRAP_URL are empty; add the binary to the bundle's bin/ or set SWAP_BOOTSTRAP_VERSION (and $pin_var) at the top of this script"
fi

if [[ -n $want ]]; then
	if ! printf '%s  %s\n' "$want" "$tmp" | sha256sum --check --status; then
		got=$(sha256sum "$tmp" | cut -d' ' -f1)
		die "checksum mismatch for $src: SHA-256 is $got, $pin_var expects $want; refusing to run it, nothing was installed"
	fi
	log "checksum verified: $want"
fi

mkdir -p -- "$sbin"
runner=$(mktemp "$sbin/.swap-bootstrap-installer.XXXXXXXX")
cp -- "$tmp" "$runner"
chmod 0755 "$runner"

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
