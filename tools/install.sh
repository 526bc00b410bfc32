#!/usr/bin/env bash
# The Go tools that build, test, check and release swap-bootstrap, each pinned
# here and nowhere else. None of them is a requirement of the binary: they are
# installed with `go install` into $(go env GOPATH)/bin, never added to go.mod.
#
#   tools/install.sh ec2-metadata-mock staticcheck   # install these (if missing or another version)
#   tools/install.sh --version goreleaser             # print the pinned version
#   tools/install.sh --list                           # every tool with its module@version
set -euo pipefail

declare -A pin=(
	[ec2-metadata-mock]=github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock@v1.13.0
	[staticcheck]=honnef.co/go/tools/cmd/staticcheck@v0.8.2
	[gremlins]=github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
	[goreleaser]=github.com/goreleaser/goreleaser/v2@v2.15.1
	[nfpm]=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
	[actionlint]=github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
	[cosign]=github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
)

die() {
	echo "tools/install.sh: $*" >&2
	exit 2
}
module() { [[ -n ${pin[$1]:-} ]] || die "unknown tool '$1'; known: ${!pin[*]}"; }

case ${1:-} in
--list)
	for t in "${!pin[@]}"; do printf '%s\t%s\n' "$t" "${pin[$t]}"; done | sort
	exit 0
	;;
--version)
	module "${2:-}"
	echo "${pin[$2]##*@}"
	exit 0
	;;
"") die "usage: tools/install.sh TOOL... | --version TOOL | --list" ;;
esac

bin="$(go env GOPATH)/bin"
for t in "$@"; do
	module "$t"
	want=${pin[$t]##*@}
	# `go version -m` names the module version a binary was built from.
	if [[ -x $bin/$t ]] && go version -m "$bin/$t" 2>/dev/null | awk '$1 == "mod" { print $3 }' | grep -qxF "$want"; then
		continue
	fi
	echo "tools/install.sh: installing $t $want" >&2
	go install "${pin[$t]}"
done
