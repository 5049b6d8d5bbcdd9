#!/bin/sh
# valgrind.sh: a representative end-to-end subset of barrage under valgrind's
# memcheck (leaks, invalid reads/writes, uninitialised values, bad frees).
#
#   sh tests/bench/valgrind.sh              # builds, runs every case
#   sh tests/bench/valgrind.sh tls sigint   # only cases whose name contains a word
#
# It builds a normal (not ASan) binary with OPT="-O1 -g" into VG_BUILD
# (default /tmp/barrage-vg, outside the tree), then runs each case as
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
#            --error-exitcode=42 --track-fds=no [--suppressions=tests/bench/valgrind.supp] \
#            barrage -t1 -c4 ...
# against `barrage serve` (run natively) or nginx with TLS (tests/e2e/harness.py),
# all on 127.0.0.1. A case is clean when barrage exits with its expected code
# (not valgrind's 42) and valgrind's log shows 0 errors and nothing definitely
# or indirectly lost. Each case's log is kept in VG_LOGS (default a temp dir,
# printed). Ends with "N passed, N failed"; exit status 1 when a case failed.
#
# Settings: VG_BUILD, VG_LOGS, VG_NO_BUILD=1 (use VG_BUILD/barrage as it is),
# VALGRIND (the valgrind binary), VG_EXTRA (more valgrind options).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
VG_BUILD=${VG_BUILD:-/tmp/barrage-vg}
VALGRIND=${VALGRIND:-valgrind}
command -v "$VALGRIND" >/dev/null 2>&1 || { echo "valgrind.sh: valgrind not found (apt-get install valgrind)"; exit 2; }
if [ "${VG_NO_BUILD:-0}" != 1 ]; then
    make --no-print-directory BUILD="$VG_BUILD" OPT="-O1 -g" "$VG_BUILD/barrage" >/dev/null ||
        { echo "valgrind.sh: build failed"; exit 2; }
fi
[ -x "$VG_BUILD/barrage" ] || { echo "valgrind.sh: no binary at $VG_BUILD/barrage"; exit 2; }
export VG_BIN="$VG_BUILD/barrage" VALGRIND ROOT
exec python3 - "$@" <<'PY'
import os, re, shutil, signal, subprocess, sys, tempfile, time
ROOT = os.environ["ROOT"]
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness
harness.BARRAGE = os.environ["VG_BIN"]   # the servers run natively from the same build
BIN = os.environ["VG_BIN"]
SUPP = os.path.join(ROOT, "tests", "bench", "valgrind.supp")
LOGS = os.environ.get("VG_LOGS") or tempfile.mkdtemp(prefix="barrage-vg-logs-")
os.makedirs(LOGS, exist_ok=True)
VG = [os.environ["VALGRIND"], "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
      "--error-exitcode=42", "--track-fds=no", "--num-callers=30"]
if os.path.exists(SUPP):
    VG.append(f"--suppressions={SUPP}")
VG += os.environ.get("VG_EXTRA", "").split()
filters = sys.argv[1:]
tmp = tempfile.mkdtemp(prefix="barrage-vg-")
results = []


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def summarize(log):
    """(errors, definitely, indirectly, possibly, reachable bytes) from a memcheck log."""
    text = open(log).read() if os.path.exists(log) else ""
    def num(pat):
        m = re.findall(pat, text)
        return int(m[-1].replace(",", "")) if m else None
    return (num(r"ERROR SUMMARY: ([\d,]+) errors"), num(r"definitely lost: ([\d,]+) bytes"),
            num(r"indirectly lost: ([\d,]+) bytes"), num(r"possibly lost: ([\d,]+) bytes"),
            num(r"still reachable: ([\d,]+) bytes"), text)


def records(text):
    """Each error or lost block of a log, as one line: what, then the stack's first frames."""
    out = []
    for block in re.split(r"==\d+== \n", text):
        lines = [re.sub(r"^==\d+==\s*", "", l) for l in block.splitlines()]
        if not lines or not re.search(r"lost in loss record|^Invalid|uninitialised|^Syscall param|"
                                      r"^Mismatched|overlap|^Source and destination", lines[0]):
            continue
        frames = [re.sub(r"^(at|by) 0x[0-9A-F]+: ", "", l) for l in lines[1:] if re.match(r"(at|by) 0x", l)]
        frames = [f for f in frames if "vgpreload" not in f][:4]
        out.append(lines[0] + ": " + " < ".join(frames))
    return out


def case(name, args, expect, signal_after=None, timeout=180):
    if filters and not any(f in name for f in filters):
        return
    log = os.path.join(LOGS, re.sub(r"\W+", "-", name).strip("-") + ".log")
    cmd = VG + [f"--log-file={log}", BIN] + [str(a) for a in args]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    if signal_after:
        time.sleep(signal_after)
        p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    rc = p.returncode
    errors, definite, indirect, possible, reachable, text = summarize(log)
    problems = []
    if rc == 42:
        problems.append("valgrind reported errors (exit 42)")
    elif rc != expect:
        problems.append(f"exit {rc}, expected {expect}")
    if errors is None:
        problems.append("no ERROR SUMMARY in the log")
    elif errors:
        problems.append(f"{errors} errors")
    if definite:
        problems.append(f"definitely lost {definite} B")
    if indirect:
        problems.append(f"indirectly lost {indirect} B")
    m = re.search(r"^\s*(\d+) requests in ", out, re.M)
    info = (f"exit {rc}, {m.group(1) if m else 'no'} requests, {time.time() - t0:.1f}s; "
            f"lost: definitely {definite or 0} B, indirectly {indirect or 0} B, possibly {possible or 0} B; "
            f"still reachable {reachable or 0} B")
    if "unhandled amd64-linux syscall: 441" in text:
        info += "; epoll_pwait2 unknown to this valgrind (ran the epoll_wait fallback)"
    ok = not problems
    results.append(ok)
    print(f"{'clean' if ok else 'ERRORS'} {name}: {info}" + ("" if ok else "\n      " + "; ".join(problems)),
          flush=True)
    if not ok:
        for rec in records(text):
            print("      " + rec)
        print(f"      log: {log}")
        print("      command: " + " ".join(cmd))
        if err.strip():
            print("      stderr: " + err.strip()[-600:].replace("\n", "\n              "))


common = ["-t1", "-c4", "-q"]
count = write("count.lua", "local n = 0\nfunction request()\n  n = n + 1\n"
              "  if n > 200 then error('boom after ' .. n .. ' requests') end\n"
              "  return wrk.request()\nend\n")

print(f"valgrind: {' '.join(VG)}")
print(f"binary:   {BIN} (-O1 -g); logs in {LOGS}", flush=True)
with harness.Serve() as srv:
    url = srv.url + "/"
    case("plain 2s", common + ["-d2s", "--latency", url], 0)
    case("-n 1000", common + ["-n", "1000", url], 0)
    case("no keep-alive", common + ["-d2s", "--no-keepalive", url], 0)
    case("wrk script setup.lua", common + ["-d2s", "-s", f"{ROOT}/scripts/setup.lua", url], 0)
    case("wrk script counter.lua", common + ["-d2s", "-s", f"{ROOT}/scripts/counter.lua", url], 0)
    case("workflow login.lua", common + ["-d2s", "-s", f"{ROOT}/scripts/login.lua", url], 0)
    case("threshold + JSON + CSV (exit 99)",
         common + ["-d2s", "--latency", "--json", f"{tmp}/r.json", "--csv", f"{tmp}/r",
                   "--threshold", "p(95)<10s", "--threshold", "requests<10", url], 99)
    case("rate + stages", common + ["-R", "1", "--stages", "1s:200,1s:400", url], 0)
    case("script error in request() (exit 2)", common + ["-d5s", "-s", count, url], 2)
    case("SIGINT mid-run (exit 130)", common + ["-d60s", "--json", f"{tmp}/i.json", url], 130,
         signal_after=4)
    case("SIGINT mid-run, workflow (exit 130)",
         common + ["-d60s", "-s", f"{ROOT}/scripts/login.lua", url], 130, signal_after=4)
    case("usage error (exit 2)", ["-t1", "-c4", "--threshold", "p(95)<<1", url], 2)

# a TLS handshake takes ~1.5 s under valgrind: these runs last 5 s
with harness.Nginx(access_log=False, tls=True) as ng:
    pki = ng.pki
    case("TLS --cacert 5s", common + ["-d5s", "--cacert", f"{pki}/ca.crt", ng.tls_url + "/health"], 0)
    case("TLS -k --no-tls-resume --no-keepalive 5s",
         common + ["-d5s", "-k", "--no-tls-resume", "--no-keepalive", ng.tls_url + "/health"], 0)
    case("TLS mTLS + request() script", common + ["-d5s", "--cacert", f"{pki}/ca.crt", "--cert", f"{pki}/client.crt",
                                        "--key", f"{pki}/client.key", "-s", f"{ROOT}/scripts/counter.lua",
                                        ng.tls_url + "/mtls"], 0)
    case("TLS verification failure (exit 2)", common + ["-d2s", ng.tls_url + "/health"], 2)

# the built-in target itself, under valgrind, driven by a native client
if not filters or any(f in "serve (SIGTERM)" for f in filters):
    log = os.path.join(LOGS, "serve.log")
    t0 = time.time()
    p = subprocess.Popen(VG + [f"--log-file={log}", BIN, "serve", "--listen", "127.0.0.1:0", "--threads", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line or "")
    if m:
        u = f"http://127.0.0.1:{m.group(1)}"
        subprocess.run([BIN, "-t1", "-c4", "-d2s", "-q", u + "/"], capture_output=True, timeout=60)
        subprocess.run([BIN, "-t1", "-c4", "-d1s", "-q", "-s", f"{ROOT}/scripts/login.lua", u + "/"],
                       capture_output=True, timeout=60)
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    errors, definite, indirect, possible, reachable, _ = summarize(log)
    ok = bool(m) and p.returncode == 0 and errors == 0 and not definite and not indirect
    results.append(ok)
    print(f"{'clean' if ok else 'ERRORS'} serve (SIGTERM): exit {p.returncode}, {err.strip().splitlines()[-1] if err.strip() else ''}, "
          f"{time.time() - t0:.1f}s; lost: definitely {definite or 0} B, indirectly {indirect or 0} B, "
          f"possibly {possible or 0} B; still reachable {reachable or 0} B" +
          ("" if ok else f"\n      log: {log}"), flush=True)

shutil.rmtree(tmp, ignore_errors=True)
passed = sum(results)
print(f"{passed} passed, {len(results) - passed} failed")
sys.exit(1 if passed != len(results) else 0)
PY
