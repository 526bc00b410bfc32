#!/usr/bin/env bash
# Runs the whole test suite the way CI does, on a fresh Debian machine.
# As root it installs what the tests need (filesystem tools, util-linux, the
# linter shellcheck, systemd-analyze, cloud-init's schema checker, the metadata
# service emulator) and runs the privileged tests for real: loop-mounted
# ext4/XFS/btrfs images and real swapon(2). Without root those tests skip
# (with CI=true they fail instead).
#
#   sudo ./scripts/test.sh            # everything
#   ./scripts/test.sh -run TestPlan   # extra arguments go to `go test`
set -euo pipefail
cd "$(dirname "$0")/.."

# unzip: the Elastic Beanstalk tests extract source bundles as the platform
# does; wget: the install scripts' fallback where curl is missing; groff-base:
# the packaged man page is rendered in a test.
packages=(e2fsprogs xfsprogs btrfs-progs util-linux mount kmod shellcheck systemd cloud-init python3-yaml curl wget unzip groff-base)

if [ "$(id -u)" -eq 0 ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

PATH="$PATH:$(go env GOPATH)/bin"
export PATH
tools/install.sh ec2-metadata-mock

exec go test -count=1 -timeout 30m "$@" ./...
