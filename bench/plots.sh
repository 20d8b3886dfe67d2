#!/usr/bin/env bash
# The pictures of docs/BENCHMARKS.md: PNGs made with gnuplot from the small data files under
# bench/data/ (figures copied from the tables in docs/BENCHMARKS.md; each file says where from).
#
#   ./bench/plots.sh                 (writes docs/img/*.png; no root, no lab)
#
# Inputs, each overridable by the variable named:
#   REQCORE        bench/data/proxy-reqcore.dat     requests per proxy core, a row per workload,
#                                                   a column per proxy (first row: the names)
#   PROXY_BEFORE   bench/data/instr-proxy-before.dat  instructions per proxied request by
#   PROXY_AFTER    bench/data/instr-proxy-after.dat   function (rows "function count", the first
#   DIRECT_BEFORE  bench/data/instr-direct-before.dat "(total) count"), before and after, drawn
#   DIRECT_AFTER   bench/data/instr-direct-after.dat  side by side
#   PATHS          bench/data/paths.dat             rows "path cycles_per_request" (quote labels
#                                                   with spaces); the plot is skipped when the
#                                                   file is absent
#   OUT            docs/img                         where the PNGs go
# Writes proxy-reqcore.png, instr-proxy.png, instr-direct.png and (with PATHS) paths.png.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
D=$ROOT/bench/data
REQCORE=${REQCORE:-$D/proxy-reqcore.dat}
PROXY_BEFORE=${PROXY_BEFORE:-$D/instr-proxy-before.dat}
PROXY_AFTER=${PROXY_AFTER:-$D/instr-proxy-after.dat}
DIRECT_BEFORE=${DIRECT_BEFORE:-$D/instr-direct-before.dat}
DIRECT_AFTER=${DIRECT_AFTER:-$D/instr-direct-after.dat}
PATHS=${PATHS:-$D/paths.dat}
OUT=${OUT:-$ROOT/docs/img}

command -v gnuplot >/dev/null || { echo "gnuplot missing: sudo ./scripts/deps.sh" >&2; exit 2; }
for f in "$REQCORE" "$PROXY_BEFORE" "$PROXY_AFTER" "$DIRECT_BEFORE" "$DIRECT_AFTER"; do
	[ -r "$f" ] || { echo "plots: cannot read $f" >&2; exit 2; }
done
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/sluice-plots-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# Common look: PNG via cairo, plain text (function names have underscores), light grid.
HEAD='set terminal pngcairo size 960,520 font "DejaVu Sans,11" noenhanced
set style fill solid 0.85 border rgb "#333333"
set grid ytics lc rgb "#dddddd"
set border 3
set xtics nomirror
set ytics nomirror
set yrange [0:*]
set key top right'

# --- requests per proxy core, clustered by workload ---
ncol=$(awk '!/^#/ && NF { print NF; exit }' "$REQCORE")
nrow=$(awk '!/^#/ && NF { n++ } END { print n - 1 }' "$REQCORE")
gnuplot <<EOF
$HEAD
set output "$OUT/proxy-reqcore.png"
set title "Requests per second per proxy core (1e6 / CPU us per request), bench/proxy.sh"
set ylabel "requests/s per core"
set format y "%.0f"
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.9
set key autotitle columnheader
set xrange [-0.6:$nrow - 0.4]
plot for [i=2:$ncol] "$REQCORE" using i:xtic(1)
EOF

# --- instructions per request by function, before and after ---
# join BEFORE AFTER > TMP: "function before after" for the union of functions, the before
# file's order first, then functions only the after file has; the totals go to the title.
instr() { # BEFORE AFTER NAME WHAT
	local j="$TMP/$3.dat" tb ta
	awk 'FNR == 1 { f++ } /^#/ || !NF { next }
		f == 1 { if (!($1 in b)) order[++n] = $1; b[$1] = $2; next }
		{ a[$1] = $2; if (!($1 in b)) { order[++n] = $1; b[$1] = 0 } }
		END { for (i = 1; i <= n; i++) if (order[i] != "(total)")
			printf "%s %s %s\n", order[i], b[order[i]], (order[i] in a) ? a[order[i]] : 0 }' \
		"$1" "$2" >"$j"
	tb=$(awk '$1 == "(total)" { print $2 }' "$1")
	ta=$(awk '$1 == "(total)" { print $2 }' "$2")
	gnuplot <<EOF
$HEAD
set output "$OUT/instr-$3.png"
set title "Instructions per $4 by function (exclusive, callgrind): before ${tb:-?}, after ${ta:-?} in all"
set ylabel "instructions per request"
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.9
set xtics rotate by -40 scale 0 font ",9"
set bmargin 9
set rmargin 8
plot "$j" using 2:xtic(1) title "before" lc rgb "#9e9e9e", \
     "" using 3 title "after" lc rgb "#1f77b4"
EOF
}
instr "$PROXY_BEFORE" "$PROXY_AFTER" proxy "proxied keep-alive request"
instr "$DIRECT_BEFORE" "$DIRECT_AFTER" direct "direct response"

# --- the memif path against the lab path ---
if [ -r "$PATHS" ]; then
	prow=$(awk '!/^#/ && NF { n++ } END { print n }' "$PATHS")
	gnuplot <<EOF
$HEAD
set output "$OUT/paths.png"
set title "CPU cycles per proxied keep-alive request on the proxy's core, by I/O path"
set ylabel "cycles per request"
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.7
set xtics rotate by -20 scale 0 font ",9"
set bmargin 7
set rmargin 10
set xrange [-0.6:$prow - 0.4]
unset key
plot "$PATHS" using 2:xtic(1) lc rgb "#1f77b4", \
     "" using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,0.8 font ",9"
EOF
else
	echo "plots: no $PATHS: paths.png skipped" >&2
	rm -f "$OUT/paths.png"
fi
ls -1 "$OUT"/*.png
