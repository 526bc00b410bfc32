#!/bin/bash
# Builds a swap-bootstrap release into dist/ (or DIST): for linux/amd64 and
# linux/arm64 (ARCHES)
#
#   swap-bootstrap-linux-ARCH                  the static binary (scripts/build.sh)
#   swap-bootstrap-VERSION-linux-ARCH.tar.gz   the binary, README.md, LICENSE, NOTICE
#   swap-bootstrap_DEBVERSION_ARCH.deb         Debian/Ubuntu package
#   swap-bootstrap-RPMVERSION.RPMARCH.rpm      Amazon Linux/RHEL/Fedora package
#   ARTIFACT.spdx.json                         an SPDX 2.3 SBOM for each of the above
#   user-data.sh, cloud-config.yaml, ...       the install files with this release's
#                                              version and SHA-256 pins filled in
#   SHA256SUMS                                 the SHA-256 of every file above
#
#   scripts/release.sh                   # version from `git describe`
#   VERSION=v1.2.3 scripts/release.sh    # as the release workflow does for tag v1.2.3
#
# Reproducible: two runs on the same commit give the same bytes. The binaries
# are built with -trimpath; every timestamp inside archives, packages and
# SBOMs is SOURCE_DATE_EPOCH, the commit's time unless set; tar entries are
# sorted, owned by root and have fixed modes; gzip stores no name or time;
# rpm's build host is fixed. test/release/check.sh builds twice and compares.
#
# Needs: go, git, tar, gzip; nfpm is installed at its pinned version
# (tools/install.sh). SHA256SUMS is signed by the release workflow
# (.github/workflows/release.yml), not here.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DIST="${DIST:-dist}"
if [[ -z ${VERSION:-} ]]; then
	VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
fi
ARCHES="${ARCHES:-amd64 arm64}"
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
fi
export SOURCE_DATE_EPOCH

die() {
	echo "release.sh: $*" >&2
	exit 2
}
[[ $VERSION =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "VERSION=\"$VERSION\": use a tag like v1.2.3"
[[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH=\"$SOURCE_DATE_EPOCH\": not a number of seconds since 1970"
for arch in $ARCHES; do
	[[ $arch == amd64 || $arch == arm64 ]] || die "ARCHES: unknown architecture '$arch'; use amd64 and/or arm64"
done

# The release directory holds the release and nothing else.
if [[ -e $DIST ]] && [[ -n $(ls -A "$DIST") ]]; then
	if [[ $DIST == dist ]]; then
		rm -rf dist
	else
		die "DIST=$DIST is not empty; remove it or name another directory"
	fi
fi
mkdir -p "$DIST"

# Packages want a version that starts with a digit and orders correctly. A
# tag v1.2.3 becomes 1.2.3 (nfpm drops the v; a pre-release v1.2.3-rc.1
# becomes 1.2.3~rc.1, ordered before 1.2.3); a build between tags, e.g.
# ddb342a-dirty, becomes the snapshot 0.0.0~snapshot.ddb342a.dirty.
if [[ $VERSION =~ ^v?[0-9]+\.[0-9]+\.[0-9]+([-+].*)?$ ]]; then
	pkg_version=$VERSION
else
	pkg_version="0.0.0-snapshot.${VERSION//[^A-Za-z0-9.]/.}"
fi
# The version nfpm gives both packages (and so the changelog entry):
# version~prerelease-release.
pkg_full_version=${pkg_version#v}
pkg_full_version=${pkg_full_version%%+*}
if [[ $pkg_full_version == *-* ]]; then
	pkg_full_version="${pkg_full_version%%-*}~${pkg_full_version#*-}"
fi
pkg_full_version+="-1"

PATH="$PATH:$(go env GOPATH)/bin"
export PATH
tools/install.sh nfpm

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== binaries ($VERSION, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)" >&2
VERSION=$VERSION DIST=$DIST ARCHES=$ARCHES scripts/build.sh >/dev/null

# The packaged unit, /etc/default template and manual page, from the sources
# the binary uses; the changelog entry for this version (nfpm writes it as
# the .deb's changelog.Debian.gz and the .rpm's %changelog).
go run -ldflags "-X main.version=$VERSION" ./cmd/bootstrap help >"$work/help.txt"
go run ./tools/pkgfiles -out "$work/pkg" -help "$work/help.txt" -version "$VERSION"
gzip -n -9 "$work/pkg/swap-bootstrap.8"
go build -trimpath -o "$work/sbom" ./tools/sbom
cat >"$work/pkg/changelog.yml" <<EOF
- semver: $pkg_full_version
  date: $(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%dT%H:%M:%SZ')
  packager: swap-bootstrap maintainers <swap-bootstrap@users.noreply.github.com>
  deb:
    urgency: medium
    distributions: [stable]
  changes:
    - note: "Release $VERSION, see"
    - note: https://github.com/soundhub/swap-bootstrap/releases/tag/$VERSION
EOF
# nfpm does not expand variables in `changelog:`; name the file in a copy.
{
	cat tools/release/nfpm.yaml
	echo "changelog: $work/pkg/changelog.yml"
} >"$work/nfpm.yaml"

artifacts=()
for arch in $ARCHES; do
	bin="$DIST/swap-bootstrap-linux-$arch"
	artifacts+=("$bin")

	echo "== archive ($arch)" >&2
	name="swap-bootstrap-$VERSION-linux-$arch"
	stage="$work/$name"
	mkdir -p "$stage"
	install -m 0755 "$bin" "$stage/swap-bootstrap"
	install -m 0644 README.md LICENSE "$stage/"
	install -m 0644 tools/release/copyright "$stage/NOTICE"
	chmod 0755 "$stage"
	# GNU format: pax would add headers holding the tar process's PID.
	tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
		--mtime="@$SOURCE_DATE_EPOCH" -C "$work" -cf - "$name" |
		gzip -n -9 >"$DIST/$name.tar.gz"
	artifacts+=("$DIST/$name.tar.gz")

	for format in deb rpm; do
		echo "== $format ($arch)" >&2
		before=$(ls "$DIST")
		PKG_ARCH=$arch PKG_VERSION=$pkg_version PKG_BINARY=$bin PKG_FILES=$work/pkg \
			nfpm package --config "$work/nfpm.yaml" --packager "$format" --target "$DIST/" >&2
		made=$(comm -13 <(echo "$before") <(ls "$DIST"))
		[[ $(wc -l <<<"$made") -eq 1 && $made == *".$format" ]] || die "nfpm made '$made', want one .$format"
		artifacts+=("$DIST/$made")
	done
done

echo "== SBOMs" >&2
for a in "${artifacts[@]}"; do
	arch=amd64
	[[ $(basename "$a") == *arm64* || $(basename "$a") == *aarch64* ]] && arch=arm64
	"$work/sbom" -binary "$DIST/swap-bootstrap-linux-$arch" -version "$VERSION" -out "$a.spdx.json" "$a"
done

# The install files with this release's version and pins (tools/render-installers;
# its doc comment lists the files). A build between tags renders them with
# the snapshot version the packages carry, in the tag form the scripts take.
if [[ " $ARCHES " == *" amd64 "* && " $ARCHES " == *" arm64 "* ]]; then
	echo "== install files" >&2
	render_version=$VERSION
	[[ $render_version == v* ]] || render_version="v$pkg_version"
	sum() { sha256sum "$DIST/swap-bootstrap-linux-$1" | cut -d' ' -f1; }
	go run ./tools/render-installers -version "$render_version" \
		-sha256-amd64 "$(sum amd64)" -sha256-arm64 "$(sum arm64)" -out "$DIST" >&2
else
	echo "release.sh: ARCHES=$ARCHES: the install files need both architectures; not rendered" >&2
fi

# Every file of the release, by name, so `sha256sum -c SHA256SUMS` works from
# inside the directory (and with --ignore-missing after downloading a few).
files=$(cd "$DIST" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort)
(cd "$DIST" && xargs -d '\n' sha256sum -- <<<"$files" >SHA256SUMS)
echo "wrote $DIST/SHA256SUMS:" >&2
cat "$DIST/SHA256SUMS"
