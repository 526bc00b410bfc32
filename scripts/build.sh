#!/bin/bash
# Builds the static swap-bootstrap binaries for EC2, amd64 and arm64 (Graviton),
# into dist/, with dist/SHA256SUMS for the SHA-256 pins the install scripts
# (user-data.sh, cloud-config.yaml, the Elastic Beanstalk hook, the SSM
# document) ask for.
#
#   scripts/build.sh                 # version from `git describe`
#   VERSION=v1.2.3 scripts/build.sh  # or given
#   DIST=/tmp/out scripts/build.sh   # another output directory
#
# CGO_ENABLED=0 makes the binaries static: they run on any distribution,
# whatever its libc. -trimpath keeps the builder's paths out of them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DIST="${DIST:-dist}"
if [[ -z ${VERSION:-} ]]; then
	VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
fi
ARCHES="${ARCHES:-amd64 arm64}"

mkdir -p "$DIST"
files=()
for arch in $ARCHES; do
	out="$DIST/swap-bootstrap-linux-${arch}"
	echo "building $out (version $VERSION)" >&2
	CGO_ENABLED=0 GOOS=linux GOARCH="$arch" \
		go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o "$out" ./cmd/bootstrap
	files+=("swap-bootstrap-linux-${arch}")
done

# Names without the directory, so `sha256sum -c SHA256SUMS` works from inside it.
(cd "$DIST" && sha256sum -- "${files[@]}" >SHA256SUMS)
echo "wrote $DIST/SHA256SUMS:" >&2
cat "$DIST/SHA256SUMS"
