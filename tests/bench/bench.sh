#!/bin/sh
# barrage vs wrk benchmark (see tests/bench/RESULTS.md). Builds nothing:
# expects ./barrage (run `make` first) or BARRAGE=/path/to/barrage.
# Settings: BENCH_SUITE (core|script|all, default all), BENCH_RUNS (5),
# BENCH_DURATION (5 s), BENCH_TARGET (nginx|serve).
cd "$(dirname "$0")/../.." || exit 2
python3 tests/bench/bench.py "$@" || exit $?
exec python3 tests/bench/tls_rate.py  # TLS and constant-rate suites (TLSRATE_* settings; see RESULTS.md)
