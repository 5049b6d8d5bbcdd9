#!/bin/sh
# Builds the libFuzzer targets in tests/fuzz with ASan + UBSan into
# build-fuzz/ and runs each for FUZZ_SECONDS (default 60) on a scratch copy
# of its seed corpus (build-fuzz/corpus-<target>; tests/ is never written).
# Prints `ok   fuzz/<target> (N runs)` or `FAIL fuzz/<target>` with the
# reproducer, then `N passed, N failed`; exits 1 if a target failed.
#
# Environment:
#   FUZZ_SECONDS   time per target in seconds (default 60); 0 replays the seeds only
#   FUZZ_TARGETS   targets to run (default: url options threshold response)
#   FUZZ_CC        the compiler (default clang; it needs libFuzzer)
#   FUZZ_SRC       barrage's sources (default src; e.g. a patched copy)
#   FUZZ_OUT       where binaries, scratch corpora and logs go (default build-fuzz)
#   LLHTTP_SRC     llhttp's C sources (default /usr/share/llhttp)
#   LLHTTP_INC     llhttp.h's directory (default /usr/share/include/llhttp)
#
# Reproduce a failure:  build-fuzz/fuzz_<target> build-fuzz/crash-<target>-...
# Minimize it:          build-fuzz/fuzz_<target> -minimize_crash=1 -runs=10000 FILE
# shellcheck disable=SC2086 # $FLAGS, $objs, $dict and $limit split on purpose
cd "$(dirname "$0")/../.." || exit 2

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-url options threshold response}
CC=${FUZZ_CC:-clang}
SRC=${FUZZ_SRC:-src}
OUT=${FUZZ_OUT:-build-fuzz}
FLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
OBJ_FLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"

case $FUZZ_SECONDS in
    ''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number of seconds, not '$FUZZ_SECONDS'"; exit 2 ;;
esac

# llhttp: the same places the Makefile looks.
if [ -z "${LLHTTP_SRC:-}" ]; then
    for d in /usr/share/llhttp /usr/local/share/llhttp; do
        [ -f "$d/llhttp.c" ] && { LLHTTP_SRC=$d; break; }
    done
fi
if [ -z "${LLHTTP_INC:-}" ]; then
    for d in /usr/share/include/llhttp /usr/include/llhttp /usr/local/include/llhttp; do
        [ -f "$d/llhttp.h" ] && { LLHTTP_INC=$d; break; }
    done
fi
if [ -z "${LLHTTP_SRC:-}" ] || [ -z "${LLHTTP_INC:-}" ]; then
    echo "fuzz: llhttp sources not found: install the Debian package node-llhttp (make deps)"
    exit 2
fi

# The compiler and its libFuzzer runtime (Debian: clang + libclang-rt-N-dev).
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz: '$CC' not found: install the Debian package clang (and libclang-rt-dev for libFuzzer)"
    exit 2
fi
if ! "$CC" --version 2>/dev/null | grep -qi clang; then
    echo "fuzz: '$CC' is not clang: libFuzzer needs clang (Debian packages clang and libclang-rt-dev)"
    exit 2
fi
mkdir -p "$OUT" || exit 2
major=$("$CC" -dumpversion 2>/dev/null | cut -d. -f1)
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
    > "$OUT/probe.c"
if ! "$CC" $FLAGS -o "$OUT/probe" "$OUT/probe.c" >"$OUT/probe.log" 2>&1; then
    echo "fuzz: $CC cannot build a libFuzzer target with ASan/UBSan (see $OUT/probe.log):"
    echo "fuzz: install the Debian package libclang-rt-${major:-N}-dev (or libclang-rt-dev, which pulls in the default version)"
    sed -n '1,5p' "$OUT/probe.log"
    exit 2
fi
rm -f "$OUT/probe" "$OUT/probe.c" "$OUT/probe.log"

# Which sources each target needs (from the includes of src/**/*.c):
#   config*.c (CONFIG below) -> rate.c -> units.c (--stages; durations), threshold.c (a script's thresholds) -> stats*.c (STATS),
#   http.c, http_request.c -> llhttp.
LLHTTP="llhttp/llhttp llhttp/api llhttp/http"
CONFIG="config config_options config_script config_url config_usage"
STATS="stats stats_named stats_users stats_second"
sources() {
    case $1 in
        url)       echo "$CONFIG rate units seed threshold $STATS http http_request $LLHTTP" ;;
        options)   echo "$CONFIG rate units seed threshold $STATS http http_request $LLHTTP" ;;
        threshold) echo "threshold $STATS rate units seed $CONFIG" ;;
        response)  echo "http http_request $STATS $LLHTTP" ;;
        *)         return 1 ;;
    esac
}
max_len() {
    case $1 in
        response) echo 4096 ;;
        *)        echo 2048 ;;
    esac
}

# Compile each needed object once (llhttp is slow to build: only if missing).
compile() { # compile NAME  ->  $OUT/obj/NAME.o
    o=$OUT/obj/$1.o
    case $1 in
        llhttp/*)
            [ -f "$o" ] && return 0
            mkdir -p "$OUT/obj/llhttp"
            "$CC" $OBJ_FLAGS -w -I"$LLHTTP_INC" -c -o "$o" "$LLHTTP_SRC/${1#llhttp/}.c" ;;
        *)
            mkdir -p "$OUT/obj"
            f=$(find "$SRC" -name "$1.c" | head -n 1)
            [ -n "$f" ] || { echo "fuzz: $1.c not found under $SRC"; return 1; }
            "$CC" $OBJ_FLAGS -std=gnu11 -Wall -Wextra $INCS -I"$LLHTTP_INC" -c -o "$o" "$f" ;;
    esac
}

# Every layer folder of src/ is on the include path, as in the Makefile.
INCS=$(find "$SRC" -type d | sed 's/^/-I/' | tr '\n' ' ')

passed=0 failed=0
built=" "
FUZZ_JOBS=${FUZZ_JOBS:-2}  # targets fuzzed at once (one per core)
ready=""
# 1. build every target (objects shared)
for t in $FUZZ_TARGETS; do
    if ! srcs=$(sources "$t"); then
        echo "FAIL fuzz/$t (no such target: use url, options, threshold or response)"
        failed=$((failed + 1))
        continue
    fi
    objs="" ok=1
    for s in $srcs; do
        case $built in *" $s "*) ;; *)
            if compile "$s"; then built="$built$s "; else ok=0; fi ;;
        esac
        objs="$objs $OUT/obj/$s.o"
    done
    bin=$OUT/fuzz_$t
    if [ $ok = 1 ]; then
        "$CC" $FLAGS -std=gnu11 -Wall -Wextra $INCS -I"$LLHTTP_INC" -o "$bin" \
            "tests/fuzz/fuzz_$t.c" $objs -lm || ok=0
    fi
    if [ $ok = 0 ]; then
        echo "FAIL fuzz/$t (build failed)"
        failed=$((failed + 1))
        continue
    fi
    ready="$ready $t"
done

# 2. fuzz one target; its verdict goes to $OUT/result-<target>
fuzz_one() {
    t=$1
    bin=$OUT/fuzz_$t
    corpus=$OUT/corpus-$t
    mkdir -p "$corpus"
    cp tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    log=$OUT/fuzz_$t.log
    rm -f "$OUT/crash-$t-"* "$OUT/leak-$t-"* "$OUT/timeout-$t-"* "$OUT/oom-$t-"* \
          "$OUT/slow-unit-$t-"*
    limit="-max_total_time=$FUZZ_SECONDS"
    [ "$FUZZ_SECONDS" = 0 ] && limit="-runs=0"
    BARRAGE_FUZZ_BODY=$OUT/fuzz-body-$t.json \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" $limit -timeout=5 -rss_limit_mb=2048 \
            -max_len="$(max_len "$t")" -print_final_stats=1 \
            -artifact_prefix="$OUT/" $dict "$corpus" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
    {
    if [ $rc = 0 ] && [ -n "$runs" ]; then
        echo "ok   fuzz/$t ($runs runs)"
    else
        # libFuzzer names the artifact crash-/leak-/timeout-/oom-<sha1>: give it the target's name.
        art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        if [ -n "$art" ] && [ -f "$art" ]; then
            base=${art##*/}
            new=$OUT/${base%%-*}-$t-${base#*-}
            mv -f "$art" "$new" && art=$new
        fi
        echo "FAIL fuzz/$t (exit $rc; log $log)"
        [ -n "$art" ] && echo "     reproducer: $art (run: $bin $art)"
        for seed in tests/fuzz/corpus/"$t"/*; do
            [ -n "$art" ] && [ -f "$art" ] && cmp -s "$seed" "$art" &&
                echo "     (that is the regression seed $seed)"
        done
        grep -m 3 -E 'fuzz invariant failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY:' "$log" \
            | sed 's/^/     /'
    fi
    } > "$OUT/result-$t"
}

# 3. FUZZ_JOBS targets at a time
set -- $ready
while [ $# -gt 0 ]; do
    batch=""
    i=0
    while [ $# -gt 0 ] && [ $i -lt "$FUZZ_JOBS" ]; do
        fuzz_one "$1" &
        batch="$batch $1"
        shift
        i=$((i + 1))
    done
    wait
    for t in $batch; do
        cat "$OUT/result-$t"
        if grep -q '^ok ' "$OUT/result-$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
