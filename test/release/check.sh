#!/bin/bash
# Checks a snapshot release the way a packager and an operator would, as root:
#
#   sudo test/release/check.sh
#
#  - shellcheck on this script, scripts/release.sh and the maintainer scripts
#  - builds the release twice (scripts/release.sh): the second time from a
#    fresh clone at another path, with another umask and time zone (and an
#    empty Go build cache with RELEASE_CHECK_COLD=1); every artifact must be
#    byte-identical
#  - SHA256SUMS lists every file and `sha256sum -c` passes
#  - binaries: static, stripped, -trimpath, right architecture, version-stamped
#  - archives: the binary, README.md, LICENSE, NOTICE, owned by root
#  - each .deb: dpkg-deb --info/--contents, lintian; each .rpm: rpm -qpi,
#    -qpl, --scripts, rpmlint; the packaged binary is the release binary and
#    the packaged unit is install.UnitFor("/usr/sbin/swap-bootstrap")
#  - systemd-analyze verify on the packaged unit
#  - every SBOM validates against the SPDX 2.3 schema and names its artifact's SHA-256
#  - the .rpm installs into an empty root (rpm --root --nodeps)
#  - in a Debian chroot (mmdebstrap), where the maintainer scripts really
#    run: the .deb and the .rpm install (enable link made, nothing started),
#    upgrade (settings kept, an admin's disable kept), remove (link, unit and
#    binary gone, settings kept, the swap message printed), purge; and both
#    next to an earlier `swap-bootstrap install`
#  - SHA256SUMS signed and verified with a throwaway cosign key; a changed
#    SHA256SUMS fails verification
#
# Installs what it needs (apt-get, tools/install.sh). The chroot's tarball is
# cached in $RELEASE_CHECK_CACHE (default /var/cache/swap-bootstrap-release-check).
# Without root it skips; with CI=true it fails instead. Ends with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$(pwd)

if [[ $(id -u) -ne 0 ]]; then
	if [[ ${CI:-} == true ]]; then
		echo "release check: needs root (dpkg, rpm --root, chroot); CI=true makes this a failure" >&2
		exit 1
	fi
	echo "release check: skipped, needs root (dpkg, rpm --root, chroot)" >&2
	exit 0
fi

started=$SECONDS
log() { printf 'release check: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

packages=(dpkg-dev lintian rpm rpmlint cpio mmdebstrap systemd python3-jsonschema groff-base binutils shellcheck)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	log "installing ${missing[*]}"
	apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
fi
PATH="$PATH:$(go env GOPATH)/bin"
export PATH
tools/install.sh nfpm cosign || die "tools/install.sh failed"

tmp=$(mktemp -d /tmp/release-check.XXXXXX)
# Mounts are recorded in a file: the checks run in subshells.
cleanup() {
	local m
	if [[ -f $tmp/mounts ]]; then
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done <"$tmp/mounts"
	fi
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
a=$tmp/a
b=$tmp/b

# ---------------------------------------------------------------- the builds
log "build 1 into $a"
t0=$SECONDS
DIST=$a scripts/release.sh >"$tmp/build-a.log" 2>&1 || {
	cat "$tmp/build-a.log" >&2
	die "scripts/release.sh failed"
}
build_a=$((SECONDS - t0))

# The second build runs where a difference would show: another checkout
# path, a strict umask and another time zone. Uncommitted changes exist only
# here, so with a dirty tree it builds here too. It shares the Go build
# cache: entries are keyed by the content of every input and the toolchain,
# so a hit is what compiling again would give; RELEASE_CHECK_COLD=1 gives it
# an empty cache (every package compiled again, several minutes longer).
t0=$SECONDS
if [[ -z $(git status --porcelain) ]]; then
	src=$tmp/clone
	git clone -q --no-hardlinks "$repo" "$src" || die "git clone failed"
	where="a fresh clone ($src)"
else
	src=$repo
	where="this tree (uncommitted changes: no clone)"
fi
gocache=$(go env GOCACHE)
if [[ ${RELEASE_CHECK_COLD:-} == 1 ]]; then
	gocache=$tmp/gocache
	where+=", empty Go build cache"
fi
log "build 2 into $b from $where, umask 077, TZ=Pacific/Chatham"
(cd "$src" && umask 077 && TZ=Pacific/Chatham GOCACHE=$gocache DIST=$b scripts/release.sh) >"$tmp/build-b.log" 2>&1 || {
	cat "$tmp/build-b.log" >&2
	die "second scripts/release.sh failed"
}
build_b=$((SECONDS - t0))

# ---------------------------------------------------------------- the checks
passed=0
failed=0
failures=()
# check NAME FUNCTION: runs FUNCTION with errexit in a subshell; its output
# goes to the log and is shown when it fails.
check() {
	local name=$1 out=$tmp/check-$1.log t=$SECONDS
	shift
	(
		set -e
		"$@"
	) >"$out" 2>&1
	local rc=$?
	if [[ $rc -eq 0 ]]; then
		passed=$((passed + 1))
		printf 'PASS %-28s %3ds\n' "$name" $((SECONDS - t))
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL %-28s %3ds\n' "$name" $((SECONDS - t))
		sed 's/^/    /' "$out"
	fi
}
fail() {
	echo "$*" >&2
	return 1
}
show() { # a command and its output, for the log
	echo "\$ $*"
	"$@"
}

arches=(amd64 arm64)
declare -A rpm_arch=([amd64]=x86_64 [arm64]=aarch64) elf_machine=([amd64]="Advanced Micro Devices X86-64" [arm64]=AArch64)
deb_of() { ls "$a"/swap-bootstrap_*_"$1".deb; }
rpm_of() { ls "$a"/swap-bootstrap-*."${rpm_arch[$1]}".rpm; }

# The maintainer scripts run as /bin/sh on any distribution (dash on Debian).
shellcheck_scripts() {
	show shellcheck test/release/check.sh scripts/release.sh
	show shellcheck -s sh tools/release/deb/* tools/release/rpm/*
}

reproducible() {
	diff <(cd "$a" && ls -A) <(cd "$b" && ls -A) || fail "the two builds made different files"
	local f bad=0
	for f in "$a"/*; do
		if ! cmp -s "$f" "$b/$(basename "$f")"; then
			echo "differs: $(basename "$f")"
			bad=1
		fi
	done
	[[ $bad -eq 0 ]] || fail "artifacts differ between two builds of one commit"
	echo "$(find "$a" -maxdepth 1 -type f | wc -l) files identical"
}

sums() {
	(cd "$a" && show sha256sum -c SHA256SUMS)
	diff <(find "$a" -maxdepth 1 -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort) <(awk '{ print $2 }' "$a/SHA256SUMS") ||
		fail "SHA256SUMS does not list exactly the release's files"
	# Per architecture: the binary, the archive, the .deb and the .rpm, each with its SBOM.
	local kind
	for kind in 'swap-bootstrap-linux-amd64' 'swap-bootstrap-linux-arm64' '-linux-amd64\.tar\.gz' '-linux-arm64\.tar\.gz' \
		'_amd64\.deb' '_arm64\.deb' '\.x86_64\.rpm' '\.aarch64\.rpm'; do
		[[ $(grep -cE "  [^ ]*${kind}\$" "$a/SHA256SUMS") -eq 1 ]] || fail "SHA256SUMS: not one artifact matching $kind"
		[[ $(grep -cE "  [^ ]*${kind}\.spdx\.json\$" "$a/SHA256SUMS") -eq 1 ]] || fail "SHA256SUMS: no SBOM for $kind"
	done
}

binaries() {
	local arch bin
	for arch in "${arches[@]}"; do
		bin=$a/swap-bootstrap-linux-$arch
		readelf -hW "$bin" | grep -q "Machine: *${elf_machine[$arch]}" || fail "$bin: not an ${elf_machine[$arch]} ELF"
		! readelf -lW "$bin" | grep -q INTERP || fail "$bin: has a program interpreter, not static"
		! readelf -SW "$bin" | grep -qE '\.(symtab|debug_info)' || fail "$bin: not stripped"
		go version -m "$bin" | tee "$tmp/buildinfo-$arch"
		grep -qP '\tbuild\t-trimpath=true$' "$tmp/buildinfo-$arch" || fail "$bin: not built with -trimpath"
		grep -qP '\tbuild\tCGO_ENABLED=0$' "$tmp/buildinfo-$arch" || fail "$bin: built with cgo"
	done
	# The version stamp (-X main.version; go does not record -ldflags under -trimpath).
	show "$a/swap-bootstrap-linux-amd64" version | tee "$tmp/v"
	grep -q "^swap-bootstrap $version " "$tmp/v" || fail "amd64 binary does not print version $version"
	if command -v qemu-aarch64-static >/dev/null; then
		show qemu-aarch64-static "$a/swap-bootstrap-linux-arm64" version | grep -q "^swap-bootstrap $version " ||
			fail "arm64 binary does not print version $version"
	fi
}

archives() {
	local arch name tgz
	for arch in "${arches[@]}"; do
		name=swap-bootstrap-$version-linux-$arch
		tgz=$a/$name.tar.gz
		show tar -tvzf "$tgz" | tee "$tmp/tar-$arch"
		diff <(tar -tzf "$tgz") <(printf '%s\n' "$name/" "$name/LICENSE" "$name/NOTICE" "$name/README.md" "$name/swap-bootstrap") ||
			fail "$tgz: unexpected entries"
		tar -tvzf "$tgz" | awk '$2 != "0/0" { bad = 1 } END { exit bad }' || fail "$tgz: an entry not owned by 0/0"
		tar -xOzf "$tgz" "$name/swap-bootstrap" | cmp - "$a/swap-bootstrap-linux-$arch" || fail "$tgz: binary is not the release binary"
		tar -xOzf "$tgz" "$name/LICENSE" | cmp - LICENSE || fail "$tgz: LICENSE differs from the repository's"
		# gzip -n: no file name (FLG bit 3) and no time (MTIME) in the header.
		[[ $(od -An -tx1 -j3 -N5 "$tgz" | tr -d ' \n') == 0000000000 ]] || fail "$tgz: gzip header holds a name or time"
	done
	grep -q 'Apache License' LICENSE || fail "LICENSE is not the Apache License"
	grep -q 'Version 2.0, January 2004' LICENSE || fail "LICENSE is not version 2.0"
}

pkgfiles() { # the files tools/pkgfiles generates, for comparison
	[[ -d $tmp/pkgfiles ]] || go run ./tools/pkgfiles -out "$tmp/pkgfiles"
}

debs() {
	pkgfiles
	local arch deb x
	for arch in "${arches[@]}"; do
		deb=$(deb_of "$arch")
		show dpkg-deb --info "$deb" | tee "$tmp/info"
		show dpkg-deb --contents "$deb" | tee "$tmp/contents"
		grep -q "^ Package: swap-bootstrap$" "$tmp/info" || fail "$deb: Package"
		grep -q "^ Architecture: $arch$" "$tmp/info" || fail "$deb: Architecture"
		for x in ./usr/sbin/swap-bootstrap ./usr/lib/systemd/system/swap-bootstrap.service ./etc/default/swap-bootstrap \
			./usr/share/doc/swap-bootstrap/copyright ./usr/share/doc/swap-bootstrap/changelog.Debian.gz ./usr/share/man/man8/swap-bootstrap.8.gz; do
			grep -qE " $x\$" "$tmp/contents" || fail "$deb: no $x"
		done
		dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/default/swap-bootstrap ||
			fail "$deb: /etc/default/swap-bootstrap is not a conffile"
		x=$tmp/deb-$arch
		dpkg-deb -x "$deb" "$x"
		cmp "$x/usr/sbin/swap-bootstrap" "$a/swap-bootstrap-linux-$arch" || fail "$deb: binary is not the release binary"
		cmp "$x/usr/lib/systemd/system/swap-bootstrap.service" "$tmp/pkgfiles/swap-bootstrap.service" ||
			fail "$deb: unit is not install.UnitFor(/usr/sbin/swap-bootstrap)"
		cmp "$x/etc/default/swap-bootstrap" "$tmp/pkgfiles/swap-bootstrap.default" || fail "$deb: /etc/default/swap-bootstrap differs"
		grep -q '^ExecStart=/usr/sbin/swap-bootstrap apply$' "$x/usr/lib/systemd/system/swap-bootstrap.service" || fail "$deb: ExecStart"
		grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' "$x/usr/share/doc/swap-bootstrap/copyright" ||
			fail "$deb: copyright is not machine-readable"
	done
	# lintian exits non-zero on errors and warnings (--fail-on); the
	# overrides it honours are in tools/release/lintian-overrides, each with
	# its reason.
	show lintian --fail-on error,warning --display-info --tag-display-limit 0 "$a"/*.deb
}

rpms() {
	pkgfiles
	local arch rpmf x
	for arch in "${arches[@]}"; do
		rpmf=$(rpm_of "$arch")
		show rpm -qpi "$rpmf" | tee "$tmp/info"
		show rpm -qpl "$rpmf"
		show rpm -qp --scripts "$rpmf" | tee "$tmp/scripts"
		grep -q "^Architecture: ${rpm_arch[$arch]}$" "$tmp/info" || fail "$rpmf: Architecture"
		grep -q "^License *: Apache-2.0$" "$tmp/info" || fail "$rpmf: License"
		grep -q 'systemctl enable' "$tmp/scripts" || fail "$rpmf: %post does not enable the unit"
		! grep -v '^[[:space:]]*#' "$tmp/scripts" | grep -qE 'systemctl (--[a-z-]+ )*(start|restart|try-restart)' ||
			fail "$rpmf: a scriptlet starts the unit"
		# rpm file flags: c = %config, n = noreplace, l = %license, d = %doc.
		rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpmf" | tee "$tmp/flags"
		grep -qx '/etc/default/swap-bootstrap cn' "$tmp/flags" || fail "$rpmf: /etc/default/swap-bootstrap is not %config(noreplace)"
		grep -qx '/usr/share/licenses/swap-bootstrap/LICENSE l' "$tmp/flags" || fail "$rpmf: LICENSE is not %license"
		x=$tmp/rpm-$arch
		mkdir -p "$x"
		# nfpm writes absolute names into the payload: without
		# --no-absolute-filenames cpio would extract onto this machine's /.
		# rpm2cpio (rpm 4.18) exits 1 on nfpm's packages although it writes
		# the whole payload: it compares the bytes it copied with the
		# header's archive size, which nfpm records without the cpio
		# padding. The files are compared byte for byte below instead.
		rpm2cpio "$rpmf" >"$tmp/payload.cpio" || true
		(cd "$x" && cpio -idm --quiet --no-absolute-filenames <"$tmp/payload.cpio")
		cmp "$x/usr/sbin/swap-bootstrap" "$a/swap-bootstrap-linux-$arch" || fail "$rpmf: binary is not the release binary"
		cmp "$x/usr/lib/systemd/system/swap-bootstrap.service" "$tmp/pkgfiles/swap-bootstrap.service" ||
			fail "$rpmf: unit is not install.UnitFor(/usr/sbin/swap-bootstrap)"
		cmp "$x/usr/share/licenses/swap-bootstrap/LICENSE" LICENSE || fail "$rpmf: LICENSE"
	done
	# rpmlint unpacks with `rpm2cpio | cpio -id` in a temporary directory;
	# with nfpm's absolute payload names GNU cpio would write onto this
	# machine's /. A cpio first in PATH keeps it inside.
	mkdir -p "$tmp/shim"
	printf '#!/bin/sh\nexec /usr/bin/cpio --no-absolute-filenames "$@"\n' >"$tmp/shim/cpio"
	chmod 755 "$tmp/shim/cpio"
	# Each exception in the config file says why.
	PATH="$tmp/shim:$PATH" show rpmlint -c test/release/rpmlint.toml "$a"/*.rpm | tee "$tmp/rpmlint"
	grep -q ' 0 errors, 0 warnings' "$tmp/rpmlint" || fail "rpmlint found errors or warnings"
}

unit_verifies() {
	# verify resolves units inside --root: give it the host's stock units,
	# then the package's files.
	local root=$tmp/verify-root
	mkdir -p "$root/usr/lib/systemd"
	cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
	dpkg-deb -x "$(deb_of amd64)" "$root"
	echo "\$ systemd-analyze verify --root=$root swap-bootstrap.service multi-user.target"
	systemd-analyze verify --root="$root" swap-bootstrap.service multi-user.target 2>&1 | tee "$tmp/verify"
	! grep -q 'swap-bootstrap' "$tmp/verify" || fail "systemd-analyze verify complains about swap-bootstrap.service"
	# And without the binary it must complain: the check can fail.
	rm "$root/usr/sbin/swap-bootstrap"
	systemd-analyze verify --root="$root" swap-bootstrap.service >"$tmp/verify2" 2>&1 || true
	grep -q 'swap-bootstrap' "$tmp/verify2" || fail "systemd-analyze verify does not notice a missing ExecStart binary"
}

sboms() {
	local f n=0
	for f in "$a"/swap-bootstrap-linux-{amd64,arm64} "$a"/*.tar.gz "$a"/*.deb "$a"/*.rpm; do
		[[ -f $f.spdx.json ]] || fail "no SBOM for $(basename "$f")"
		n=$((n + 1))
	done
	/usr/bin/python3 - "$a" test/release/testdata/spdx-schema-2.3.json <<'EOF'
import glob, hashlib, json, os, sys
import jsonschema
dist, schema = sys.argv[1], json.load(open(sys.argv[2]))
for p in sorted(glob.glob(os.path.join(dist, "*.spdx.json"))):
    doc = json.load(open(p))
    jsonschema.validate(doc, schema)
    artifact = p[: -len(".spdx.json")]
    want = hashlib.sha256(open(artifact, "rb").read()).hexdigest()
    top = {q["SPDXID"]: q for q in doc["packages"]}[doc["documentDescribes"][0]]
    assert top["checksums"][0]["checksumValue"] == want, f"{p}: checksum of {artifact} is not {want}"
    arch = "arm64" if ("arm64" in artifact or "aarch64" in artifact) else "amd64"
    binsum = hashlib.sha256(open(os.path.join(dist, "swap-bootstrap-linux-" + arch), "rb").read()).hexdigest()
    binpkg = [q for q in doc["packages"] if q["SPDXID"] == "SPDXRef-Package-swap-bootstrap"][0]
    assert binpkg["checksums"][0]["checksumValue"] == binsum, f"{p}: binary checksum"
    names = {q["name"] for q in doc["packages"]}
    for m in ("github.com/aws/aws-sdk-go-v2/feature/ec2/imds", "golang.org/x/sys", "stdlib"):
        assert m in names, f"{p}: {m} missing"
    print(f"valid SPDX 2.3: {os.path.basename(p)} ({len(doc['packages'])} packages)")
EOF
	echo "$n SBOMs"
}

copyright_covers() {
	local m
	for m in $(go version -m "$a/swap-bootstrap-linux-amd64" | awk '$1 == "dep" { print $2 }'); do
		grep -qF "$m" tools/release/copyright || fail "tools/release/copyright does not name $m, which the binary contains"
	done
}

rpm_empty_root() {
	# An empty root has no /bin/sh for the scriptlets, so they are skipped
	# here; the chroot checks below run them.
	local root=$tmp/rpm-empty
	mkdir -p "$root"
	show rpm --root "$root" --nodeps --noscripts -i "$(rpm_of amd64)"
	show rpm --root "$root" -qa
	[[ -x $root/usr/sbin/swap-bootstrap ]] || fail "no /usr/sbin/swap-bootstrap"
	[[ -f $root/usr/lib/systemd/system/swap-bootstrap.service ]] || fail "no unit"
	[[ -f $root/etc/default/swap-bootstrap ]] || fail "no /etc/default/swap-bootstrap"
	[[ -f $root/usr/share/licenses/swap-bootstrap/LICENSE ]] || fail "no LICENSE"
	show rpm --root "$root" --nodeps --noscripts -e swap-bootstrap
	[[ ! -e $root/usr/sbin/swap-bootstrap ]] || fail "binary left after rpm -e"
}

# ------------------------------------------------------- the Debian chroot
cache=${RELEASE_CHECK_CACHE:-/var/cache/swap-bootstrap-release-check}
chroot_packages=(systemd)
chroot_tar=$cache/bookworm-minbase-$(printf '%s ' "${chroot_packages[@]}" | sha256sum | cut -c1-12).tar

# The chroot comes from the same Debian mirror as this machine's packages.
make_chroot_tar() {
	[[ -s $chroot_tar ]] && return 0
	mkdir -p "$cache"
	local sources
	sources=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v '^#') || true
	[[ -n $sources ]] || die "no apt sources on this machine for mmdebstrap"
	log "mmdebstrap bookworm (${chroot_packages[*]}) into $chroot_tar"
	local t=$SECONDS
	mmdebstrap --mode=root --variant=minbase --quiet \
		--include="$(
			IFS=,
			echo "${chroot_packages[*]}"
		)" \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		bookworm "$cache/partial.tar" <<<"$sources" || die "mmdebstrap failed"
	mv "$cache/partial.tar" "$chroot_tar"
	log "mmdebstrap took $((SECONDS - t))s"
}

# new_chroot DIR: a fresh Debian root from the cached tarball, /proc mounted.
new_chroot() {
	mkdir -p "$1"
	tar -xf "$chroot_tar" -C "$1"
	mount -t proc proc "$1/proc"
	echo "$1/proc" >>"$tmp/mounts"
	# Packages and the release binary, where the chroot can see them.
	mkdir -p "$1/release"
	cp "$a"/*.deb "$a"/*.rpm "$a/swap-bootstrap-linux-amd64" "$1/release/"
}
in_root() {
	local r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
link=/etc/systemd/system/multi-user.target.wants/swap-bootstrap.service
assert_enabled() {
	[[ -L $1$link ]] || fail "$link missing: the unit is not enabled"
	[[ $(readlink "$1$link") == /*/systemd/system/swap-bootstrap.service ]] || fail "$link -> $(readlink "$1$link")"
	in_root "$1" systemctl is-enabled swap-bootstrap.service 2>/dev/null | grep -qx enabled ||
		fail "systemctl is-enabled does not say enabled"
}
assert_gone() {
	local p
	for p in "$link" /usr/sbin/swap-bootstrap /usr/lib/systemd/system/swap-bootstrap.service; do
		[[ ! -e $1$p && ! -L $1$p ]] || fail "$p left after removal"
	done
}
# A changed deb needs a newer version: the same files under 99.0.0.
upgrade_packages() {
	[[ -d $tmp/upgrade ]] && return 0
	mkdir -p "$tmp/upgrade"
	go run ./tools/pkgfiles -out "$tmp/upgrade/pkg"
	dpkg-deb --fsys-tarfile "$(deb_of amd64)" | tar -xO ./usr/share/man/man8/swap-bootstrap.8.gz >"$tmp/upgrade/pkg/swap-bootstrap.8.gz"
	local f
	for f in deb rpm; do
		PKG_ARCH=amd64 PKG_VERSION=v99.0.0 PKG_BINARY=$a/swap-bootstrap-linux-amd64 PKG_FILES=$tmp/upgrade/pkg \
			nfpm package --config tools/release/nfpm.yaml --packager $f --target "$tmp/upgrade/" >/dev/null
	done
}

deb_lifecycle() {
	local r=$tmp/deb-root deb
	deb=/release/$(basename "$(deb_of amd64)")
	new_chroot "$r"
	show in_root "$r" dpkg -i "$deb"
	assert_enabled "$r"
	[[ -x $r/usr/sbin/swap-bootstrap && -f $r/etc/default/swap-bootstrap ]] || fail "files not installed"
	# shellcheck disable=SC2016 # a dpkg-query format, not shell
	in_root "$r" dpkg-query -W -f='${Conffiles}\n' swap-bootstrap | grep -q /etc/default/swap-bootstrap || fail "no conffile"

	# Upgrade: the operator's settings stay; so does an admin's disable.
	echo 'SWAP_MAX=8G' >>"$r/etc/default/swap-bootstrap"
	upgrade_packages
	cp "$tmp"/upgrade/*_amd64.deb "$r/release/upgrade.deb"
	show in_root "$r" dpkg -i /release/upgrade.deb
	grep -qx 'SWAP_MAX=8G' "$r/etc/default/swap-bootstrap" || fail "upgrade lost the settings"
	assert_enabled "$r"
	in_root "$r" systemctl disable swap-bootstrap.service
	in_root "$r" dpkg -i /release/upgrade.deb
	[[ ! -L $r$link ]] || fail "an upgrade enabled the unit the admin disabled"

	# Remove: unit, binary and link go; settings stay; the message says how
	# to take swap off.
	in_root "$r" systemctl enable swap-bootstrap.service
	show in_root "$r" dpkg -r swap-bootstrap 2>&1 | tee "$tmp/remove.out"
	assert_gone "$r"
	grep -qx 'SWAP_MAX=8G' "$r/etc/default/swap-bootstrap" || fail "removal lost the settings"
	grep -q "swap-bootstrap remove" "$tmp/remove.out" || fail "removal does not say how to take swap off"

	# Installed again: enabled again (the admin's earlier disable is forgotten with the package).
	in_root "$r" dpkg -i "$deb" >/dev/null
	assert_enabled "$r"
	show in_root "$r" dpkg --purge swap-bootstrap
	assert_gone "$r"
	[[ ! -e $r/etc/default/swap-bootstrap ]] || fail "purge left /etc/default/swap-bootstrap"
	[[ -z $(find "$r/var/lib/systemd/deb-systemd-helper-enabled" -name '*swap-bootstrap*' 2>/dev/null) ]] ||
		fail "deb-systemd-helper state left after purge"
}

rpm_lifecycle() {
	local r=$tmp/rpm-root rpmf
	rpmf=$(rpm_of amd64)
	new_chroot "$r"
	# rpm runs the scriptlets chrooted into --root, with its /bin/sh and systemctl.
	show rpm --root "$r" --nodeps -i "$rpmf"
	assert_enabled "$r"
	echo 'SWAP_MAX=8G' >>"$r/etc/default/swap-bootstrap"
	upgrade_packages
	show rpm --root "$r" --nodeps -U "$tmp"/upgrade/*.x86_64.rpm
	grep -qx 'SWAP_MAX=8G' "$r/etc/default/swap-bootstrap" || fail "upgrade lost the settings"
	assert_enabled "$r"
	in_root "$r" systemctl disable swap-bootstrap.service
	rpm --root "$r" --nodeps -U --force "$tmp"/upgrade/*.x86_64.rpm
	[[ ! -L $r$link ]] || fail "an upgrade enabled the unit the admin disabled"
	in_root "$r" systemctl enable swap-bootstrap.service
	show rpm --root "$r" --nodeps -e swap-bootstrap 2>&1 | tee "$tmp/remove.out"
	assert_gone "$r"
	# rpm keeps a changed %config file as .rpmsave.
	grep -qx 'SWAP_MAX=8G' "$r/etc/default/swap-bootstrap.rpmsave" || fail "removal lost the settings"
	grep -q "swap-bootstrap remove" "$tmp/remove.out" || fail "removal does not say how to take swap off"
}

# The package arrives where `swap-bootstrap install` ran before.
after_install() {
	local r=$tmp/coexist-$1
	new_chroot "$r"
	SWAP_POLICY=aws "$a/swap-bootstrap-linux-amd64" install --root "$r"
	if [[ $1 == deb ]]; then
		show in_root "$r" dpkg -i "/release/$(basename "$(deb_of amd64)")" 2>&1 | tee "$tmp/co.out"
	else
		show rpm --root "$r" --nodeps -i "$(rpm_of amd64)" 2>&1 | tee "$tmp/co.out"
	fi
	grep -qx 'SWAP_POLICY="aws"' "$r/etc/default/swap-bootstrap" || fail "the package replaced the settings install wrote"
	grep -q "overrides the packaged unit" "$tmp/co.out" || fail "the package does not say which unit runs"
	[[ -L $r$link ]] || fail "not enabled"
	# One unit: the /etc copy decides until the packaged binary takes over.
	show in_root "$r" /usr/sbin/swap-bootstrap uninstall --keep-swap
	[[ ! -e $r/etc/systemd/system/swap-bootstrap.service && ! -e $r/usr/local/sbin/swap-bootstrap ]] ||
		fail "uninstall on a packaged host left install's unit or binary"
	grep -qx 'SWAP_POLICY="aws"' "$r/etc/default/swap-bootstrap" || fail "uninstall on a packaged host lost the settings"
	assert_enabled "$r"
	[[ $(readlink "$r$link") == /usr/lib/systemd/system/swap-bootstrap.service ]] || fail "link not pointed at the packaged unit"
	# install on the packaged host: settings only, no second binary or unit.
	in_root "$r" env SWAP_POLICY=redhat /usr/sbin/swap-bootstrap install 2>&1 | tee "$tmp/inst.out"
	grep -q 'the swap-bootstrap package is installed' "$tmp/inst.out" || fail "install does not say the package is installed"
	grep -qx 'SWAP_POLICY="redhat"' "$r/etc/default/swap-bootstrap" || fail "install did not write the settings"
	[[ ! -e $r/usr/local/sbin/swap-bootstrap && ! -e $r/etc/systemd/system/swap-bootstrap.service ]] ||
		fail "install put a second binary or unit next to the package's"
	systemd-analyze verify --root="$r" swap-bootstrap.service
}
coexist_deb() { after_install deb; }
coexist_rpm() { after_install rpm; }

signing() {
	local d=$tmp/sign
	mkdir -p "$d"
	cp "$a/SHA256SUMS" "$d/"
	(
		cd "$d"
		COSIGN_PASSWORD=throwaway cosign generate-key-pair >/dev/null
		# The bundle format the release workflow writes (cosign sign-blob
		# --bundle); a key instead of the keyless certificate, and no
		# transparency log (it needs the network).
		COSIGN_PASSWORD=throwaway show cosign sign-blob --yes --key cosign.key --tlog-upload=false \
			--bundle SHA256SUMS.sigstore.json SHA256SUMS
		show cosign verify-blob --key cosign.pub --insecure-ignore-tlog=true --bundle SHA256SUMS.sigstore.json SHA256SUMS
		echo "tampered" >>SHA256SUMS
		! cosign verify-blob --key cosign.pub --insecure-ignore-tlog=true --bundle SHA256SUMS.sigstore.json SHA256SUMS ||
			fail "a changed SHA256SUMS verified"
		echo "a changed SHA256SUMS fails verification, as it must"
	)
}

check shellcheck shellcheck_scripts
check reproducible reproducible
check sha256sums sums
check binaries binaries
check archives archives
check deb-packages debs
check rpm-packages rpms
check unit-verifies unit_verifies
check sboms sboms
check copyright-covers-modules copyright_covers
check rpm-empty-root rpm_empty_root
make_chroot_tar
check deb-install-upgrade-remove deb_lifecycle
check rpm-install-upgrade-remove rpm_lifecycle
check deb-after-install coexist_deb
check rpm-after-install coexist_rpm
check signing signing

log "builds ${build_a}s and ${build_b}s; total $((SECONDS - started))s; artifacts:"
find "$a" -maxdepth 1 -type f -printf '  %10s  %f\n' | sort -k2 >&2
if [[ $failed -gt 0 ]]; then
	log "failed: ${failures[*]}"
fi
echo "release: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
