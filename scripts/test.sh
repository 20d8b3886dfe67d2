#!/usr/bin/env bash
# sluice: install what is missing, build, and run every suite.
#
#   sudo ./scripts/test.sh
#
# Suites, each counted: build, clang-format (one check), unit tests (every googletest case),
# fuzz smoke (every libFuzzer target for FUZZ_SECONDS, when clang is present), integration
# tests (every pytest case; they need root for network namespaces), bench smoke (every
# bench/ script once, short: it runs to the end and its tables hold no error), instruction budget
# (bench/budget.sh: callgrind's instructions per request within 5 % of bench/budget). The last line is
# "N passed, N failed" summing them all; the exit status is non-zero when anything failed.
#
# Environment: CI=true (non-interactive), FUZZ_SECONDS (default 20), SLUICE_TEST_SKIP_FUZZ=1
# SLUICE_TEST_SKIP_INTEGRATION=1 and SLUICE_TEST_SKIP_BENCH=1 (for quick local runs; the
# skipped suite is reported). The integration suite includes a short af_xdp smoke
# (test_af_xdp.py); SLUICE_TEST_AF_XDP=1 also runs the whole integration suite again with sluice
# on af_xdp (SLUICE_LAB_DEVICE=af_xdp), recorded as "integration af_xdp".
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

export DEBIAN_FRONTEND=noninteractive
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
PY=/usr/bin/python3
RESULTS=$ROOT/build/test-results
PASSED=0
FAILED=0
SKIPPED=0
SUMMARY=()

step() { printf '\n==> %s\n' "$*"; }

# record NAME PASSED FAILED [SKIPPED]
record() {
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	SKIPPED=$((SKIPPED + ${4:-0}))
	SUMMARY+=("$(printf '%-28s %4d passed, %4d failed' "$1" "$2" "$3")")
}

finish() {
	echo
	echo "==> summary"
	local s
	for s in "${SUMMARY[@]}"; do
		echo "    $s"
	done
	if [ "$SKIPPED" -gt 0 ]; then
		echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	else
		echo "$PASSED passed, $FAILED failed"
	fi
	[ "$FAILED" -eq 0 ]
	exit $?
}

# Counts from a JUnit XML file (googletest's or pytest's): prints "PASSED FAILED SKIPPED".
junit_counts() {
	"$PY" - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = s = 0
for su in suites:
    t += int(su.get("tests", 0))
    f += int(su.get("failures", 0)) + int(su.get("errors", 0))
    s += int(su.get("skipped", 0)) + int(su.get("disabled", 0))
print(t - f - s, f, s)
EOF
}

if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: needs root (packages, network namespaces, af_packet): sudo $0" >&2
	record "root" 0 1
	finish
fi

# ---- dependencies ----
step "dependencies (scripts/deps.sh)"
if "$ROOT/scripts/deps.sh"; then
	record "dependencies" 1 0
else
	record "dependencies" 0 1
fi

# ---- build ----
step "build (meson, build/)"
# configured: meson setup worked (unit tests can be listed); app_ok: sluice and sluicectl
# exist, so the integration tests can run even when some other target failed to build.
build_ok=0 configured=0 app_ok=0
blog=$(mktemp)
{
	if [ -f build/build.ninja ] && meson introspect build --buildoptions >/dev/null 2>&1; then
		meson configure build -Dtests=true -Dfuzz=false
	else
		# Missing, half-made or from another meson: start over.
		rm -rf build && meson setup build -Dtests=true -Dfuzz=false
	fi
} >"$blog" 2>&1 && configured=1
if [ $configured -eq 1 ]; then
	meson compile -C build >>"$blog" 2>&1 && build_ok=1
	if [ $build_ok -eq 0 ]; then
		echo "--- full build failed; building app/sluice and app/sluicectl alone" >>"$blog"
		ninja -C build app/sluice app/sluicectl >>"$blog" 2>&1 || true
	fi
	[ -x build/app/sluice ] && [ -x build/app/sluicectl ] && app_ok=1
fi
mkdir -p "$RESULTS"
mv -f "$blog" "$RESULTS/build.log"
if [ $build_ok -eq 1 ]; then
	echo "build: ok (log: $RESULTS/build.log)"
	record "build" 1 0
else
	grep -E 'error|ERROR|FAILED|undefined reference' "$RESULTS/build.log" | head -n 30
	echo "build: FAILED (log: $RESULTS/build.log)"
	[ $app_ok -eq 1 ] && echo "build: sluice and sluicectl built; running what can run"
	record "build" 0 1
fi

# ---- clang-format ----
step "clang-format --dry-run -Werror"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t srcs < <(git ls-files '*.c' '*.h' '*.cc')
else
	mapfile -t srcs < <(find app control dataplane tcpstack tests -name '*.[ch]' -o -name '*.cc')
fi
fmt_bad=()
for f in "${srcs[@]}"; do
	[ -f "$f" ] || continue
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || fmt_bad+=("$f")
done
if [ ${#fmt_bad[@]} -eq 0 ]; then
	echo "clang-format: ${#srcs[@]} files clean"
	record "clang-format" 1 0
else
	echo "clang-format: would reformat: ${fmt_bad[*]}"
	echo "  (fix with: clang-format -i FILE)"
	record "clang-format" 0 1
fi

# ---- unit tests ----
step "unit tests (googletest)"
if [ $configured -eq 1 ]; then
	# The unit suite's executables, as meson knows them: "NAME<TAB>TIMEOUT<TAB>CMD...".
	mapfile -t units < <(meson introspect build --tests | "$PY" -c '
import json, sys
for t in json.load(sys.stdin):
    if "unit" in [s.split(":")[-1] for s in t["suite"]]:
        print("\t".join([t["name"], str(t.get("timeout") or 120)] + t["cmd"]))
')
	if [ ${#units[@]} -eq 0 ]; then
		echo "unit: no unit tests registered in meson"
		record "unit" 0 1
	fi
	for u in "${units[@]}"; do
		IFS=$'\t' read -r -a f <<<"$u"
		name=${f[0]} tmo=${f[1]} cmd=("${f[@]:2}")
		xml=$RESULTS/unit-$name.xml
		rm -f "$xml"
		echo "--- unit $name"
		if [ $build_ok -eq 0 ] &&
			! ninja -C build -n "$(realpath --relative-to=build "${cmd[0]}")" 2>/dev/null |
			grep -q 'no work to do'; then
			echo "unit $name: did not build"
			record "unit $name" 0 1
			continue
		fi
		timeout "$tmo" "${cmd[@]}" --gtest_brief=1 --gtest_output="xml:$xml"
		rc=$?
		if [ -s "$xml" ] && read -r p fl sk < <(junit_counts "$xml"); then
			# A crash after the report, or a non-zero exit with every case green, is a failure.
			[ $rc -ne 0 ] && [ "$fl" -eq 0 ] && fl=1
			echo "unit $name: $p passed, $fl failed (exit $rc)"
			record "unit $name" "$p" "$fl" "$sk"
		else
			echo "unit $name: no report (exit $rc; 124 means it timed out after ${tmo}s)"
			record "unit $name" 0 1
		fi
	done
else
	echo "unit: not run, meson setup failed"
	record "unit" 0 1
fi

# ---- fuzz smoke ----
step "fuzz smoke (libFuzzer, ${FUZZ_SECONDS}s per target)"
if [ "${SLUICE_TEST_SKIP_FUZZ:-0}" = 1 ]; then
	echo "fuzz: skipped (SLUICE_TEST_SKIP_FUZZ=1)"
	record "fuzz (skipped)" 0 0 1
elif ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: skipped, clang is not installed"
	record "fuzz (no clang)" 0 0 1
else
	fuzz_ok=0
	{
		if [ ! -f build-fuzz/build.ninja ] ||
			! meson introspect build-fuzz --buildoptions >/dev/null 2>&1; then
			rm -rf build-fuzz
			CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Dtests=false
		fi && meson compile -C build-fuzz
	} >"$RESULTS/fuzz-build.log" 2>&1 && fuzz_ok=1
	if [ $fuzz_ok -eq 0 ]; then
		tail -n 30 "$RESULTS/fuzz-build.log"
		echo "fuzz: build FAILED (log: $RESULTS/fuzz-build.log)"
		record "fuzz build" 0 1
	else
		# The targets meson.build defines (a stale binary of a removed target is not run).
		mapfile -t fuzzers < <(meson introspect build-fuzz --targets 2>/dev/null |
			$PY -c 'import json, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and t["name"].endswith("_fuzz"):
        print(t["filename"][0])' | sort)
		[ ${#fuzzers[@]} -eq 0 ] && echo "fuzz: no targets built yet"
		fp=0 ff=0
		mkdir -p "$RESULTS/fuzz"
		for fz in "${fuzzers[@]}"; do
			name=$(basename "$fz")
			corpus=build-fuzz/corpus/$name
			mkdir -p "$corpus"
			seeds=()
			[ -d "tests/fuzz/seeds/$name" ] && seeds=("tests/fuzz/seeds/$name")
			# Every target carries ASan and UBSan (tests/fuzz/meson.build's fuzz_args).
			syms=$(nm "$fz" 2>/dev/null | grep -c -E ' (__asan_init|__ubsan_handle_[a-z_]*abort)$')
			if [ "${syms:-0}" -lt 2 ]; then
				echo "fuzz $name: FAILED (not built with -fsanitize=address,undefined)"
				ff=$((ff + 1))
				continue
			fi
			# UBSan findings abort (-fno-sanitize-recover); print where they happened.
			if UBSAN_OPTIONS=print_stacktrace=1 timeout $((FUZZ_SECONDS + 60)) \
				"$fz" -max_total_time="$FUZZ_SECONDS" \
				-rss_limit_mb=2048 -artifact_prefix="$RESULTS/fuzz/$name-" \
				"$corpus" "${seeds[@]}" >"$RESULTS/fuzz/$name.log" 2>&1; then
				echo "fuzz $name: ok ($(grep -o 'Done [0-9]* runs' "$RESULTS/fuzz/$name.log" | tail -n 1))"
				fp=$((fp + 1))
			else
				tail -n 30 "$RESULTS/fuzz/$name.log"
				echo "fuzz $name: FAILED (log: $RESULTS/fuzz/$name.log)"
				ff=$((ff + 1))
			fi
		done
		record "fuzz" "$fp" "$ff"
	fi
fi

# ---- integration ----
step "integration tests (pytest, network namespaces)"
if [ "${SLUICE_TEST_SKIP_INTEGRATION:-0}" = 1 ]; then
	echo "integration: skipped (SLUICE_TEST_SKIP_INTEGRATION=1)"
	record "integration (skipped)" 0 0 1
elif [ $app_ok -eq 0 ]; then
	echo "integration: not run, sluice or sluicectl did not build"
	record "integration" 0 1
else
	xml=$RESULTS/integration.xml
	rm -f "$xml"
	timeout 1200 "$PY" -m pytest -q -p no:cacheprovider --junitxml="$xml" tests/integration
	rc=$?
	if [ -s "$xml" ] && read -r p fl sk < <(junit_counts "$xml"); then
		# Exit 5 (no test collected), an internal error or a timeout is a failure too.
		[ $rc -ne 0 ] && [ "$fl" -eq 0 ] && fl=1
		[ $rc -eq 5 ] && echo "integration: pytest collected no test"
		record "integration" "$p" "$fl" "$sk"
	else
		echo "integration: pytest wrote no report (exit $rc)"
		record "integration" 0 1
	fi
fi

# ---- differential ----
# The smoke subset of tests/differential (58 cases, about a minute): the same requests to
# sluice, an nginx and an HAProxy reverse proxy in front of one recording backend; a case fails
# when what the backend framed differs from sluice's own view. The whole suite (426 cases) is
# the long run `sudo ./tests/differential/run.sh --all` (docs/ROBUSTNESS.md).
# SLUICE_TEST_SKIP_DIFFERENTIAL=1 skips it (reported).
step "differential smoke (tests/differential: sluice, nginx, haproxy, one recording backend)"
if [ "${SLUICE_TEST_SKIP_DIFFERENTIAL:-0}" = 1 ]; then
	echo "differential: skipped (SLUICE_TEST_SKIP_DIFFERENTIAL=1)"
	record "differential (skipped)" 0 0 1
elif [ $app_ok -eq 0 ]; then
	echo "differential: not run, sluice or sluicectl did not build"
	record "differential" 0 1
else
	xml=$RESULTS/differential.xml
	rm -f "$xml"
	timeout 600 ./tests/differential/run.sh --smoke --junit "$xml" \
		--report "$RESULTS/differential-report.md"
	rc=$?
	if [ -s "$xml" ] && read -r p fl sk < <(junit_counts "$xml"); then
		[ $rc -ne 0 ] && [ "$fl" -eq 0 ] && fl=1
		record "differential" "$p" "$fl" "$sk"
	else
		echo "differential: no report (exit $rc)"
		record "differential" 0 1
	fi
fi

# ---- the whole integration suite on af_xdp (opt-in) ----
if [ "${SLUICE_TEST_AF_XDP:-0}" = 1 ] && [ "${SLUICE_TEST_SKIP_INTEGRATION:-0}" != 1 ] &&
	[ $app_ok -eq 1 ]; then
	step "integration tests on af_xdp (SLUICE_TEST_AF_XDP=1)"
	xml=$RESULTS/integration-af_xdp.xml
	rm -f "$xml"
	SLUICE_LAB_DEVICE=af_xdp timeout 1800 "$PY" -m pytest -q -p no:cacheprovider \
		--junitxml="$xml" tests/integration
	rc=$?
	if [ -s "$xml" ] && read -r p fl sk < <(junit_counts "$xml"); then
		[ $rc -ne 0 ] && [ "$fl" -eq 0 ] && fl=1
		record "integration af_xdp" "$p" "$fl" "$sk"
	else
		echo "integration af_xdp: pytest wrote no report (exit $rc)"
		record "integration af_xdp" 0 1
	fi
fi

# ---- bench smoke ----
# Each benchmark once, short (the real runs are minutes long: docs/BENCHMARKS.md): the script
# must finish with status 0 and every row of its tables must show 0 errors and some traffic.
bench_rows_ok() { # LOG: every Markdown row with an "errors" column has 0 there, requests/s > 0
	"$PY" - "$1" <<'PYEOF'
import sys
rows = bad = 0
cols = None
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if not line.startswith("|"):
        cols = None
    elif "errors" in cells and "requests/s" in cells:
        cols = cells
    elif cols and not set(line) <= set("|-\n "):
        rows += 1
        r = dict(zip(cols, cells))
        if r["errors"] != "0" or float(r["requests/s"]) <= 0:
            bad += 1
            print("bench smoke: bad row:", line.strip())
sys.exit(0 if rows > 0 and bad == 0 else 1)
PYEOF
}

step "bench smoke (bench/*.sh, short runs)"
if [ "${SLUICE_TEST_SKIP_BENCH:-0}" = 1 ]; then
	echo "bench: skipped (SLUICE_TEST_SKIP_BENCH=1)"
	record "bench smoke (skipped)" 0 0 1
elif [ $app_ok -eq 0 ]; then
	echo "bench: not run, sluice or sluicectl did not build"
	record "bench smoke" 0 1
else
	for b in "direct:env RUNS=1 ./bench/direct.sh 2 50" "proxy:./bench/proxy.sh 2 1" \
		"idle:env SKIP_NGINX=1 ./bench/idle.sh 2000" \
		"slowloris:env HEADER_MS=10000 ./bench/slowloris.sh 3 300 300" \
		"health:./bench/health.sh 2 100"; do
		name=${b%%:*}
		log=$RESULTS/bench-$name.log
		# shellcheck disable=SC2086 # the command is word-split on purpose
		if timeout 300 ${b#*:} >"$log" 2>&1 &&
			case $name in
			idle) grep -q '^result: PASS' "$log" ;;
			*) bench_rows_ok "$log" ;;
			esac; then
			echo "bench $name: ok"
			record "bench $name" 1 0
		else
			tail -n 20 "$log"
			echo "bench $name: FAILED (log: $log)"
			record "bench $name" 0 1
		fi
	done
fi

# ---- instruction budget ----
# bench/budget.sh runs bench/callgrind.sh (proxy and direct) on this build and fails a mode that
# spends more than 5 % over bench/budget (docs/BENCHMARKS.md, "Instruction budget").
step "instruction budget (bench/budget.sh: callgrind, proxy and direct)"
if [ "${SLUICE_TEST_SKIP_BENCH:-0}" = 1 ]; then
	echo "budget: skipped (SLUICE_TEST_SKIP_BENCH=1)"
	record "instruction budget (skipped)" 0 0 1
elif [ $app_ok -eq 0 ]; then
	echo "budget: not run, sluice did not build"
	record "instruction budget" 0 1
else
	log=$RESULTS/bench-budget.log
	timeout 600 ./bench/budget.sh 8 >"$log" 2>&1
	cat "$log"
	for mode in $(awk '$1 !~ /^#/ && NF >= 3 { print $1 }' bench/budget); do
		if grep -Eq "^budget $mode [0-9]+ .*: ok$" "$log"; then
			record "budget $mode" 1 0
		else
			record "budget $mode" 0 1
		fi
	done
fi

finish
