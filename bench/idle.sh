#!/usr/bin/env bash
# Idle connections: hold N idle keep-alive connections against sluice, then nginx, in one lab;
# report bytes per idle connection (sluice from its pool accounting, nginx from RSS and kernel
# slab growth) and check that sluice's pools return to the baseline after close.
#
#   sudo ./bench/idle.sh [N]        (default 100000; SKIP_NGINX=1 skips nginx)
#
# See bench/idle.py for what is measured and how; results go in docs/BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces): sudo $0 $*" >&2; exit 2; }
exec timeout --kill-after=30 1800 /usr/bin/python3 "$ROOT/bench/idle.py" "$@"
