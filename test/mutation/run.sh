#!/usr/bin/env bash
# Mutation testing of the pure packages: gremlins (pinned in tools/install.sh)
# mutates the decision code of internal/config, internal/sizing and the pure
# files of internal/swap (everything but the *_linux.go kernel side), runs the
# package's root-free tests against each mutant (-tags pure makes
# swaptest.RequireRoot skip the privileged ones), and fails when a package's
# efficacy (killed / (killed + lived)) is below the threshold. Survivors that
# no test can kill are listed with the reason in test/mutation/EQUIVALENT.md.
#
#   test/mutation/run.sh                   # all three, threshold 85 %
#   test/mutation/run.sh internal/sizing   # one package
#
# Settings: MUTATION_THRESHOLD (percent, default 85), MUTATION_WORKERS
# (mutants tested at a time, default: the number of CPUs).
set -euo pipefail
cd "$(dirname "$0")/../.."
PATH="$PATH:$(go env GOPATH)/bin"
export PATH
threshold=${MUTATION_THRESHOLD:-85}
workers=${MUTATION_WORKERS:-$(nproc)}

# Per package: what is not its own decision code (test helpers, generators,
# the kernel side, which the root tests prove on real filesystems).
declare -A exclude=(
	[internal/config]='configtest/'
	[internal/sizing]='gen/'
	[internal/swap]='(_linux\.go$|swaptest/)'
)
pkgs=("$@")
[[ ${#pkgs[@]} -gt 0 ]] || pkgs=(internal/config internal/sizing internal/swap)

tools/install.sh gremlins
failed=()
for p in "${pkgs[@]}"; do
	[[ -n ${exclude[$p]+x} ]] || {
		echo "mutation: unknown package $p; known: ${!exclude[*]}" >&2
		exit 2
	}
	echo "mutation: $p (efficacy ≥ $threshold %)"
	# -S l prints only the mutants that lived; the summary follows.
	if ! gremlins unleash --tags pure --exclude-files "${exclude[$p]}" \
		--workers "$workers" --timeout-coefficient 10 --threshold-efficacy "$threshold" -S l "./$p"; then
		failed+=("$p")
	fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "mutation: below $threshold % efficacy (or gremlins failed): ${failed[*]}" >&2
	exit 1
fi
