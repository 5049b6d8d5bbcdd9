#!/bin/sh
# Runs every suite (unit and end-to-end, on the normal and the sanitizer
# build) and ends with the total line `N passed, N failed`.
cd "$(dirname "$0")/.." || exit 2
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
logdir=${TMPDIR:-/tmp}/barrage-tests.$$
mkdir -p "$logdir"
total_p=0 total_f=0 status=0

# start NAME COMMAND...: run a suite in the background, its output in a log.
start() {
    name=$1; shift
    "$@" >"$logdir/$name.log" 2>&1 &
    eval "pid_$(echo "$name" | tr -c 'a-z0-9\n' _)=\$!"
}
# finish NAME: wait for it, print its log whole, add its `N passed, N failed`.
finish() {
    name=$1
    eval "wait \$pid_$(echo "$name" | tr -c 'a-z0-9\n' _)"
    rc=$?
    echo "== $name"
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
suite() { start "$@"; finish "$1"; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=66
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
n="$PWD/build/barrage" a="$PWD/build-asan/barrage"
# Most e2e files wait (durations, grace periods) rather than compute: the
# normal and the sanitizer build's parallel groups run at the same time,
# beside the unit tests; the files that measure time and rates (run.py's
# SERIAL) run afterwards, alone, one build after the other.
# The libFuzzer targets (60 s each: CI runs each for at least a minute) run
# all at once beside them, at idle CPU priority (SCHED_IDLE where chrt has
# it, else nice 19): they take the CPU the waiting tests leave.
idle="nice -n 19"
chrt -i 0 true 2>/dev/null && idle="chrt -i 0 nice -n 19"
start fuzz            $idle env FUZZ_SECONDS="${FUZZ_SECONDS:-60}" FUZZ_JOBS=4 sh tests/fuzz/run.sh
start unit            build/unit_tests
start unit-asan       build-asan/unit_tests
start e2e             env BARRAGE="$n" python3 tests/e2e/run.py --group parallel
start e2e-asan        env BARRAGE="$a" BARRAGE_SANITIZED=1 python3 tests/e2e/run.py --group parallel
finish unit; finish unit-asan; finish e2e; finish e2e-asan; finish fuzz
suite e2e-timing      env BARRAGE="$n" python3 tests/e2e/run.py --group serial
suite e2e-timing-asan env BARRAGE="$a" BARRAGE_SANITIZED=1 python3 tests/e2e/run.py --group serial
rm -rf "$logdir"
echo "$total_p passed, $total_f failed"
exit $status
