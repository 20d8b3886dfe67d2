#!/usr/bin/env bash
# sluice's differential suite (tests/differential/run.py): the same generated requests to
# sluice, an nginx and an HAProxy reverse proxy, each in front of one recording backend.
#
#   sudo ./tests/differential/run.sh            the smoke subset (what scripts/test.sh runs)
#   sudo ./tests/differential/run.sh --all      every case (the long run, a few minutes)
#   sudo ./tests/differential/run.sh --filter 'conn/|clte/'   cases whose id matches
#
# Other options: --report FILE (default build/differential-report.md), --junit FILE, --keep.
# Needs build/app/sluice and sluicectl (SLUICE_BUILD_DIR to use another build), nginx-light
# and haproxy (scripts/deps.sh). Exit status 1 when a framing check failed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
exec /usr/bin/python3 "$ROOT/tests/differential/run.py" "$@"
