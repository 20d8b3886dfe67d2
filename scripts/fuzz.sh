#!/usr/bin/env bash
# Run one libFuzzer target (or all) for longer than the smoke run of scripts/test.sh.
#
#   scripts/fuzz.sh TARGET [SECONDS] [-- LIBFUZZER-ARGS...]   e.g. scripts/fuzz.sh tcp_fuzz 3600
#   scripts/fuzz.sh all [SECONDS]                             every target, SECONDS each
#   scripts/fuzz.sh list                                      the targets
#
# Builds build-fuzz (clang, -Dfuzz=true; ASan + UBSan + libFuzzer) when needed, then runs the
# target on its corpus build-fuzz/corpus/TARGET (new inputs are kept there between runs) plus
# its committed seeds tests/fuzz/seeds/TARGET. Crashes, leaks and timeouts are written to
# build-fuzz/artifacts/TARGET-*; reproduce one with build-fuzz/tests/fuzz/TARGET FILE. To make
# a finding a regression seed, copy it to tests/fuzz/seeds/TARGET/ once fixed (tests/fuzz/crashes/
# TARGET/ while the bug is open). Environment: FUZZ_JOBS=N runs N processes in parallel (-fork).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

usage() {
	sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

[ $# -ge 1 ] || usage
target=$1
shift
seconds=600
if [ $# -ge 1 ] && [ "$1" != "--" ]; then
	seconds=$1
	shift
fi
[ "${1:-}" = "--" ] && shift

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz.sh: clang is needed (scripts/deps.sh installs it)" >&2
	exit 1
fi
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Dtests=false >/dev/null
fi
ninja -C build-fuzz >/dev/null

mapfile -t all < <(find build-fuzz/tests/fuzz -maxdepth 1 -type f -executable -name '*_fuzz' \
	-printf '%f\n' | sort)
case $target in
list)
	printf '%s\n' "${all[@]}"
	exit 0
	;;
all) targets=("${all[@]}") ;;
*)
	[ -x "build-fuzz/tests/fuzz/$target" ] || {
		echo "fuzz.sh: no target $target (have: ${all[*]})" >&2
		exit 2
	}
	targets=("$target")
	;;
esac

rc=0
mkdir -p build-fuzz/artifacts
for t in "${targets[@]}"; do
	corpus=build-fuzz/corpus/$t
	mkdir -p "$corpus"
	seeds=()
	[ -d "tests/fuzz/seeds/$t" ] && seeds+=("tests/fuzz/seeds/$t")
	jobs=()
	[ -n "${FUZZ_JOBS:-}" ] && jobs=("-fork=$FUZZ_JOBS")
	echo "==> $t for ${seconds}s (corpus $corpus)"
	if ! "build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
		-artifact_prefix="build-fuzz/artifacts/$t-" -print_final_stats=1 "${jobs[@]}" "$@" \
		"$corpus" "${seeds[@]}"; then
		echo "==> $t: FAILED (artifacts: build-fuzz/artifacts/$t-*)"
		rc=1
	fi
done
exit $rc
