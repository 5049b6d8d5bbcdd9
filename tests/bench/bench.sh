#!/bin/sh
# barrage vs wrk benchmark (see tests/bench/RESULTS.md). Builds nothing:
# expects ./barrage (run `make` first) or BARRAGE=/path/to/barrage.
# Settings: BENCH_SUITE (core|script|all, default all), BENCH_RUNS (7),
# BENCH_DURATION (5 s), BENCH_TARGET (nginx|serve), BENCH_PERF (1; 0: no perf).
cd "$(dirname "$0")/../.." || exit 2
python3 tests/bench/bench.py "$@" || exit $?
exec python3 tests/bench/tls_rate.py  # TLS and constant-rate suites (TLSRATE_* settings; see RESULTS.md)
