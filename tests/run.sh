#!/bin/sh
# Runs every suite (unit and end-to-end, on the normal and the sanitizer
# build) and ends with the total line `N passed, N failed`.
cd "$(dirname "$0")/.." || exit 2
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
logdir=${TMPDIR:-/tmp}/barrage-tests.$$
mkdir -p "$logdir"
total_p=0 total_f=0 status=0

suite() { # suite NAME COMMAND...
    name=$1; shift
    echo "== $name"
    "$@" >"$logdir/$name.log" 2>&1
    rc=$?
    cat "$logdir/$name.log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logdir/$name.log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "!! $name printed no summary (exit $rc): counted as 1 failure"
        p=0 f=1
    else
        p=${line%% passed*}
        f=${line#*, }; f=${f%% failed*}
        [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { echo "!! $name exited $rc"; f=1; }
    fi
    total_p=$((total_p + p)); total_f=$((total_f + f))
    [ "$f" -eq 0 ] || status=1
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=66
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
suite unit            build/unit_tests
suite e2e             env BARRAGE="$PWD/build/barrage" python3 tests/e2e/run.py
suite unit-asan       build-asan/unit_tests
suite e2e-asan        env BARRAGE="$PWD/build-asan/barrage" BARRAGE_SANITIZED=1 python3 tests/e2e/run.py
# libFuzzer targets, 60 s each (two at a time): CI runs each for at least a minute
suite fuzz            env FUZZ_SECONDS="${FUZZ_SECONDS:-60}" sh tests/fuzz/run.sh
rm -rf "$logdir"
echo "$total_p passed, $total_f failed"
exit $status
