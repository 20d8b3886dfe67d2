#!/usr/bin/env bash
# Soak: REQUESTS proxied requests through sluice to three nginx backends while backends are
# SIGKILLed and restarted and the configuration is reloaded; afterwards every pool in
# `sluicectl show pools` must be back at its idle level (tests/integration/test_faults_soak.py,
# run with SLUICE_LONG=1, which also waits TIME_WAIT out). It can take an hour at 10 million.
#
#   sudo ./bench/soak.sh [REQUESTS] [RELOADS] [KILLS] [WORKERS]
#        (defaults: 10000000 requests, 100 reloads, 20 kills, workers 1 and 2)
#
# Prints the test's "soak {...}" line per worker count (wrk's counts, 5xx from the killed
# backends, the idle level) and pytest's verdict.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REQUESTS=${1:-10000000}
RELOADS=${2:-100}
KILLS=${3:-20}
WORKERS=${4:-}
[[ $REQUESTS =~ ^[0-9]+$ && $RELOADS =~ ^[0-9]+$ && $KILLS =~ ^[0-9]+$ ]] || {
	echo "usage: $0 [REQUESTS] [RELOADS] [KILLS] [WORKERS 1|2]" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces): sudo $0 $*" >&2; exit 2; }
sel=()
[ -n "$WORKERS" ] && sel=(-k "workers$WORKERS")
cd "$ROOT"
SLUICE_LONG=1 SLUICE_SOAK_REQUESTS=$REQUESTS SLUICE_SOAK_RELOADS=$RELOADS \
	SLUICE_SOAK_KILLS=$KILLS exec /usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
	"${sel[@]}" tests/integration/test_faults_soak.py
