#!/usr/bin/env bash
# Writes a large multi-layer container image as a `docker save` archive,
# made of the files of a Debian tree (the e2e image's own packages), for the
# original-failure scenario of test/e2e/run.sh: `docker load` of it in a small
# guest, with and without swap.
#
#   test/e2e/docker-archive.sh ROOT OUT.tar
#
# No Docker is needed on the host: the archive is the format `docker load`
# reads (manifest.json, an image config whose rootfs.diff_ids are the SHA-256
# of each uncompressed layer tar, and the layer tars), written with tar and
# sha256sum. Each layer holds one part of ROOT, so the image has the shape of
# an application image built on a distribution: five layers of tens of MiB
# to about 100 MiB, about 280 MiB in all. (A 7-layer, 570 MiB image, with
# /usr/share, /usr/bin and the kernel modules, failed the same way without
# swap, but its load with swap took more than 8 minutes under TCG: more than
# the CI budget has for one scenario.)
set -euo pipefail
root=${1:?usage: docker-archive.sh ROOT OUT.tar}
out=${2:?usage: docker-archive.sh ROOT OUT.tar}
[[ -d $root/usr ]] || {
	echo "docker-archive: $root has no usr/; give the root of a Debian tree" >&2
	exit 1
}

# One layer per entry; paths relative to ROOT, missing ones skipped.
layers=(
	"etc var/lib/dpkg"
	"usr/sbin"
	"usr/lib/python3 usr/lib/python3.11 usr/lib/python3.13"
	"usr/lib/systemd usr/libexec"
	"usr/lib/x86_64-linux-gnu usr/lib/aarch64-linux-gnu"
)

work=$(mktemp -d "${TMPDIR:-/tmp}/docker-archive.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
diff_ids=() files=()
n=0
for spec in "${layers[@]}"; do
	paths=()
	for p in $spec; do
		[[ -e $root/$p ]] && paths+=("$p")
	done
	[[ ${#paths[@]} -gt 0 ]] || continue
	n=$((n + 1))
	mkdir -p "$work/layer$n"
	# Owners and modes as in the tree; a fixed mtime keeps the digest of an
	# unchanged tree stable.
	tar -C "$root" --numeric-owner --mtime=@0 --sort=name -cf "$work/layer$n/layer.tar" -- "${paths[@]}"
	diff_ids+=("\"sha256:$(sha256sum "$work/layer$n/layer.tar" | cut -d' ' -f1)\"")
	files+=("layer$n/layer.tar")
done

arch=amd64
[[ -d $root/usr/lib/aarch64-linux-gnu ]] && arch=arm64
join() {
	local IFS=,
	echo "$*"
}
config=$(printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/usr/bin/true"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
	"$arch" "$(join "${diff_ids[@]}")")
config_sha=$(printf '%s' "$config" | sha256sum | cut -d' ' -f1)
printf '%s' "$config" >"$work/$config_sha.json"
printf '[{"Config":"%s.json","RepoTags":["e2e-big:latest"],"Layers":[%s]}]' "$config_sha" "$(printf '"%s",' "${files[@]}" | sed 's/,$//')" >"$work/manifest.json"
tar -C "$work" --mtime=@0 --sort=name -cf "$out" manifest.json "$config_sha.json" "${files[@]%/layer.tar}"
echo "docker-archive: $out: $n layers, $(du -m "$out" | cut -f1) MiB" >&2
