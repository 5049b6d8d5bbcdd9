#!/usr/bin/env python3
"""TLS and constant-rate benchmarks of barrage (stdlib only); the companion of
bench.py, with the same set-up: the target pinned to CPU 0, the client to
CPU 1 (`taskset -c 1`), one client thread, alternating runs, medians, client
CPU from wait4 rusage. Traffic goes to 127.0.0.1 only. See RESULTS.md.

Suites (TLSRATE_SUITE or --suite: tls, rate or all; default all):

tls, barrage vs wrk against nginx's HTTPS server (harness.Nginx(tls=True),
one worker on CPU 0), -t1 -c50 /health:
  keep-alive            requests/s (target barrage >= wrk) and client CPU per
                        request (target barrage <= 0.85x wrk); barrage verifies
                        the certificate (--cacert), wrk verifies nothing
  one request per conn  barrage --no-keepalive vs wrk -H 'Connection: close'
                        (both reconnect after every response): requests/s
                        (target barrage >= wrk)
  handshake check       short runs of both tools against a second nginx that
                        logs $ssl_session_reused and $ssl_protocol: the TLS
                        version each tool negotiated and how many of its
                        connections resumed a session

rate, barrage alone against `barrage serve` / nginx:
  rate vs saturating    client CPU per request of a -R run against that of a
  CPU                   saturating run at the same achieved rate. The
                        saturating run is held to the rate by the server, not
                        by the client: `barrage serve --delay 1ms` answers
                        every request 1 ms late, so -cN achieves about N/1ms.
                        R_max = barrage -t1 -c50 against `barrage serve`
                        without delay; for X = 50% and 80% of R_max, N is
                        calibrated with 1 s runs until the saturating run
                        achieves about X; then pairs (saturating -cN, then
                        -R A -c2N where A is the rate that saturating run
                        achieved). Then the other way to hold a saturating
                        run to a rate: -c2 against nginx (the round trip
                        sets the rate), paired with -R A -c100. Target:
                        rate-limited CPU per request <= 1.10x the
                        saturating one (within +-10%); a pair whose -R run
                        fell below 99% of A is left out (it was saturated)
  schedule jitter       barrage -t1 -c100 -R 20000 -d10s --json against nginx
                        (plain HTTP): schedule_delay.percentiles["99"] (us,
                        intended vs actual send) of each run; target: median
                        p99 < 1000 us. Also shown: the slowest TCP connect
                        of each run and the (corrected) latency p99 of the
                        first second vs the worst later second, and one
                        diagnostic run with -c1000, where opening the
                        connections takes tens of ms (the timeline starts
                        once they are open; before 9f64667 the slots that
                        fell due meanwhile counted as late and set p99)

Every run also records the busy time of other processes on CPUs 0 and 1
("foreign load"): this machine is shared, and time slices lost to another
process on CPU 1 show up directly as schedule jitter and lost requests/s.
Exits 0 even when a target is missed (a benchmark, not a test); 2 when it
cannot run.

Settings (environment, or the matching option):
  BARRAGE=path            binary under test (default ./barrage)   --barrage
  WRK=path                wrk (default: wrk on PATH)              --wrk
  TLSRATE_SUITE=all       tls, rate or all                        --suite
  TLSRATE_RUNS=3          runs per tool and case                  --runs
  TLSRATE_DURATION=5      seconds per tls run                     --duration
  TLSRATE_RATE_DURATION=3 seconds per rate-vs-saturating run      --rate-duration
  TLSRATE_JITTER_DURATION=10  seconds per jitter run              --jitter-duration
  TLSRATE_QUIET_WAIT=60   before each suite, wait up to this long for
                          CPUs 0 and 1 to be under 25% busy (0: no wait)  --quiet-wait
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness  # noqa: E402  (shared nginx / serve helpers)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import (cpu_busy_seconds, fmt, loadavg, log, med, proc_cpu_seconds, proc_tree, ratio, reap, sh_output,  # noqa: E402
                   spread, verdict)  # the core benchmark's helpers, shared

SERVER_CPU = 0
CLIENT_CPU = 1
PATH = "/health"
CONNECTIONS = 50
DELAY = "1ms"            # serve --delay for the server-throttled saturating runs
DELAY_S = 0.001
RATE_LEVELS = (0.5, 0.8)  # fractions of R_max
JITTER_RATE = 20000
JITTER_CONNECTIONS = 100
JITTER_WIDE_CONNECTIONS = 1000  # diagnostic: enough connections to ride out a server stall
JITTER_WIDE_SECONDS = 3
FEW_CONNECTIONS = 2       # rate_pairs against nginx: the round trip sets the saturating rate
CHECK_SECONDS = 2        # handshake check runs
CHECK_CONNECTIONS = 10
QUIET_BUSY = 0.25        # wait_quiet: a CPU busier than this is not quiet
MAX_CONNECTIONS = 4000   # calibration cap
PERF_SECONDS = 2         # perf stat diagnostic runs
PERF_EVENTS = ("raw_syscalls:sys_enter", "syscalls:sys_enter_epoll_pwait2", "context-switches", "sched:sched_wakeup")


def env_int(name, default):
    v = os.environ.get(name, "").strip()
    return int(float(v.rstrip("s"))) if v else default


def parse_args():
    ap = argparse.ArgumentParser(description="barrage TLS and constant-rate benchmark (see RESULTS.md)")
    ap.add_argument("--barrage", default=os.environ.get("BARRAGE", os.path.join(ROOT, "barrage")))
    ap.add_argument("--wrk", default=os.environ.get("WRK", shutil.which("wrk") or "wrk"))
    ap.add_argument("--suite", choices=("tls", "rate", "all"), default=os.environ.get("TLSRATE_SUITE", "all") or "all")
    ap.add_argument("--runs", type=int, default=env_int("TLSRATE_RUNS", 3))
    ap.add_argument("--duration", type=int, default=env_int("TLSRATE_DURATION", 5))
    ap.add_argument("--rate-duration", type=int, default=env_int("TLSRATE_RATE_DURATION", 3))
    ap.add_argument("--jitter-duration", type=int, default=env_int("TLSRATE_JITTER_DURATION", 10))
    ap.add_argument("--quiet-wait", type=int, default=env_int("TLSRATE_QUIET_WAIT", 60),
                    help="seconds to wait at most, before each suite, for CPUs 0 and 1 to be quiet (0: do not wait)")
    a = ap.parse_args()
    a.barrage = os.path.abspath(a.barrage) if os.path.exists(a.barrage) else a.barrage
    if min(a.runs, a.duration, a.rate_duration, a.jitter_duration) < 1:
        ap.error("runs and durations must be >= 1")
    return a


def show(cmd):
    return " ".join(shlex.quote(str(a)) for a in cmd)


def table(head, rows):
    rows = [tuple(head)] + [tuple(r) for r in rows]
    w = [max(len(r[i]) for r in rows) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |"
    sep = "|" + "|".join("-" * (x + 2) for x in w) + "|"
    return "\n".join([line(rows[0]), sep] + [line(r) for r in rows[1:]])


# ---------------------------------------------------------------- CPU accounting

def proc_sleeps(pid):
    """voluntary context switches so far of every thread of pid and of its
    direct children: how often the server went to sleep waiting for work."""
    total = 0
    for p in proc_tree(pid):
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/status") as f:
                    m = re.search(r"^voluntary_ctxt_switches:\s*(\d+)", f.read(), re.M)
                total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total


def wait_quiet(args, what):
    """Before a suite: wait (up to --quiet-wait seconds) until CPUs 0 and 1
    are each less than QUIET_BUSY busy over a 1 s sample, since other jobs on
    this shared machine swamp every figure. Logs what it saw either way."""
    t0 = time.monotonic()
    while True:
        b0 = cpu_busy_seconds()
        time.sleep(1.0)
        b1 = cpu_busy_seconds()
        busy = {c: b1[c] - b0[c] for c in (SERVER_CPU, CLIENT_CPU) if c in b0 and c in b1}
        waited = time.monotonic() - t0
        if not busy or max(busy.values()) < QUIET_BUSY or waited >= args.quiet_wait:
            state = "quiet" if busy and max(busy.values()) < QUIET_BUSY else "STILL BUSY"
            log(f"  before {what}: CPUs busy " + " ".join(f"cpu{c} {100 * v:.0f}%" for c, v in sorted(busy.items()))
                + f" ({state}; waited {waited:.0f}s, loadavg {loadavg()})")
            return
        time.sleep(2.0)


# ---------------------------------------------------------------- targets

class ServeTarget:
    """`barrage serve [args]` pinned to SERVER_CPU (the child inherits our
    affinity mask, so narrow it around the fork only)."""

    def __init__(self, binary, *args):
        self.binary, self.args = binary, args

    def __enter__(self):
        harness.BARRAGE = self.binary
        old = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {SERVER_CPU})
        try:
            self.serve = harness.Serve(*self.args).__enter__()
        finally:
            os.sched_setaffinity(0, old)
        self.url, self.proc = self.serve.url, self.serve.proc
        return self

    def __exit__(self, *exc):
        self.serve.__exit__(*exc)


# ---------------------------------------------------------------- running

class Run:
    """One finished client run: report figures, rusage, server CPU, foreign load."""

    def __init__(self, tool, cmd, rc, ru, out, err, wall, server_cpu, others, js=None, server_sleeps=None):
        self.tool, self.cmd, self.rc, self.out, self.err, self.wall = tool, cmd, rc, out, err, wall
        self.cpu = ru.ru_utime + ru.ru_stime
        self.utime, self.stime = ru.ru_utime, ru.ru_stime
        self.nvcsw = ru.ru_nvcsw  # voluntary context switches: the times the client slept
        self.server_cpu, self.others, self.json = server_cpu, others, js
        self.server_sleeps = server_sleeps
        m = re.search(r"^\s*(\d+) requests in ", out, re.M)
        self.requests = int(m.group(1)) if m else None
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        self.rps = float(m.group(1)) if m else None
        e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        self.errors = sum(int(x) for x in e.groups()) if e else 0
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        self.non2xx = int(m.group(1)) if m else 0
        m = re.search(r"^\s*TLS\s+(\S+ \S+), (\d+) handshakes \((\d+) resumed\)", out, re.M)
        self.tls = (m.group(1), int(m.group(2)), int(m.group(3))) if m else None
        m = re.search(r"^\s*Connect\s+(\d+) connections", out, re.M)
        self.connects = int(m.group(1)) if m else None

    @property
    def ok(self):
        return self.rc == 0 and bool(self.requests)

    @property
    def us_per_req(self):
        """client CPU microseconds per completed request (= s per 1M requests)."""
        return self.cpu / self.requests * 1e6 if self.ok else None

    @property
    def sleeps_per_req(self):
        return self.nvcsw / self.requests if self.ok else None

    @property
    def server_sleeps_per_req(self):
        return self.server_sleeps / self.requests if self.ok and self.server_sleeps is not None else None

    @property
    def foreign(self):
        return max(self.others.values()) / self.wall if self.others else None

    def describe(self):
        if not self.ok:
            return f"FAILED rc={self.rc} out={self.out.strip()[-300:]!r} err={self.err.strip()[-300:]!r}"
        s = (f"{self.requests:>8} req {self.rps:>9.0f} req/s  cpu {self.cpu:5.2f}s ({100 * self.cpu / self.wall:3.0f}%)"
             f" {self.us_per_req:7.2f} us/req (u {self.utime / self.requests * 1e6:6.2f} s {self.stime / self.requests * 1e6:6.2f})"
             f" sleeps/req {self.sleeps_per_req:5.3f}  server {100 * self.server_cpu / self.wall:3.0f}%"
             f" (sleeps/req {fmt(self.server_sleeps_per_req, '5.3f')})")
        if self.others:
            s += "  others " + " ".join(f"cpu{c} {100 * v / self.wall:2.0f}%" for c, v in sorted(self.others.items()))
        if self.tls:
            s += f"  [{self.tls[0]}, {self.tls[1]} handshakes, {self.tls[2]} resumed]"
        if self.errors or self.non2xx:
            s += f"  errors {self.errors} non2xx {self.non2xx}"
        return s


def run_client(tool, inner, secs, server_proc, json_path=None):
    """Run `inner` pinned to CLIENT_CPU; reap it with wait4 for its rusage."""
    cmd = ["taskset", "-c", str(CLIENT_CPU)] + [str(a) for a in inner]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        s0, b0, z0 = proc_cpu_seconds(server_proc.pid), cpu_busy_seconds(), proc_sleeps(server_proc.pid)
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT)
        status, ru = reap(p, secs)
        wall = time.monotonic() - t0
        server = proc_cpu_seconds(server_proc.pid) - s0
        server_sleeps = proc_sleeps(server_proc.pid) - z0
        b1 = cpu_busy_seconds()
        others = {}
        if SERVER_CPU in b1 and CLIENT_CPU in b1:
            cpu = ru.ru_utime + ru.ru_stime
            others = {SERVER_CPU: max(0.0, b1[SERVER_CPU] - b0[SERVER_CPU] - server),
                      CLIENT_CPU: max(0.0, b1[CLIENT_CPU] - b0[CLIENT_CPU] - cpu)}
        out.seek(0)
        err.seek(0)
        js = None
        if json_path:
            try:
                with open(json_path) as f:
                    js = json.load(f)
            except (OSError, ValueError):
                js = None
        return Run(tool, cmd, p.returncode, ru, out.read(), err.read(), wall, server, others, js, server_sleeps)


def barrage_cmd(args, url, conns, secs, *extra):
    return [args.barrage, "-t1", f"-c{conns}", f"-d{secs}s", *extra, url + PATH]


def wrk_cmd(args, url, conns, secs, *extra):
    return [args.wrk, "-t1", f"-c{conns}", f"-d{secs}s", *extra, url + PATH]


def alternate(args, target, cmds, secs, runs, label):
    """runs x (barrage, wrk) alternately: {tool: [Run]}."""
    res = {t: [] for t in cmds}
    for t, c in cmds.items():
        log(f"  taskset -c {CLIENT_CPU} {show(c)}")
    for i in range(runs):
        for t, c in cmds.items():
            r = run_client(t, c, secs, target.proc)
            res[t].append(r)
            log(f"  {label} run {i + 1} {t:<8} {r.describe()}")
    return res


def all_foreign(*groups):
    return [r.foreign for g in groups for rs in g.values() for r in rs if r.foreign is not None]


# ---------------------------------------------------------------- tls suite

def handshake_check(args):
    """Short runs against a logging nginx: {(tool, mode): (protocols, reused, conns, requests)}."""
    log(f"== tls: handshake check, -t1 -c{CHECK_CONNECTIONS} -d{CHECK_SECONDS}s per tool and mode against a "
        "second nginx that logs $ssl_protocol and $ssl_session_reused")
    out = {}
    with harness.Nginx(tls=True, access_log=True, cpu=SERVER_CPU) as n:
        ca = f"{n.pki}/ca.crt"
        cases = (("barrage", "keep-alive", barrage_cmd(args, n.tls_url, CHECK_CONNECTIONS, CHECK_SECONDS, "--cacert", ca)),
                 ("wrk", "keep-alive", wrk_cmd(args, n.tls_url, CHECK_CONNECTIONS, CHECK_SECONDS)),
                 ("barrage", "close", barrage_cmd(args, n.tls_url, CHECK_CONNECTIONS, CHECK_SECONDS, "--no-keepalive",
                                                  "--cacert", ca)),
                 ("wrk", "close", wrk_cmd(args, n.tls_url, CHECK_CONNECTIONS, CHECK_SECONDS, "-H", "Connection: close")))
        for tool, mode, cmd in cases:
            before = len(n.tls_log())
            r = run_client(tool, cmd, CHECK_SECONDS, n.proc)
            time.sleep(0.3)  # let nginx write the last lines
            entries = n.tls_log()[before:]
            conns = {}
            for e in entries:  # the first request of each connection carries its handshake's facts
                conns.setdefault(e["connection"], e)
            protos = sorted({e["protocol"] for e in conns.values()})
            reused = sum(1 for e in conns.values() if e["reused"] == "r")
            out[(tool, mode)] = (protos, reused, len(conns), len(entries), r)
            own = f"; barrage's TLS line: {r.tls[0]}, {r.tls[1]} handshakes ({r.tls[2]} resumed)" if r.tls else ""
            log(f"  {tool:<8} {mode:<10} nginx logged {len(entries)} requests on {len(conns)} connections, "
                f"{reused} resumed, protocol {','.join(protos) or '?'}{own}"
                f"{'' if r.ok else '  FAILED: ' + r.describe()}")
    log("")
    return out


def tls_suite(args):
    rows, notes, groups = [], [], []
    wait_quiet(args, "the tls suite")
    with harness.Nginx(tls=True, access_log=False, cpu=SERVER_CPU) as n:
        ca = f"{n.pki}/ca.crt"
        log(f"  https target: {n.tls_url}{PATH} (nginx, 1 worker on CPU {SERVER_CPU}, certificate for localhost)")
        log(f"== tls: keep-alive, {args.runs} x {args.duration}s per tool, alternating")
        ka = alternate(args, n, {"barrage": barrage_cmd(args, n.tls_url, CONNECTIONS, args.duration, "--cacert", ca),
                                 "wrk": wrk_cmd(args, n.tls_url, CONNECTIONS, args.duration)},
                       args.duration, args.runs, "keep-alive")
        log("")
        log(f"== tls: one request per connection (resumption), {args.runs} x {args.duration}s per tool, alternating")
        cl = alternate(args, n, {"barrage": barrage_cmd(args, n.tls_url, CONNECTIONS, args.duration, "--no-keepalive",
                                                        "--cacert", ca),
                                 "wrk": wrk_cmd(args, n.tls_url, CONNECTIONS, args.duration, "-H", "Connection: close")},
                       args.duration, args.runs, "close")
        log("")
    groups += [ka, cl]
    hc = handshake_check(args)

    def rps_row(title, res):
        b, w = [r.rps if r.ok else None for r in res["barrage"]], [r.rps if r.ok else None for r in res["wrk"]]
        rr = ratio(med(b), med(w))
        return (title, spread(b, ",.0f"), spread(w, ",.0f"), fmt(rr, ".2f"), ">= 1.0x wrk",
                verdict(None if rr is None else rr >= 1.0))

    def cpu_row(title, res, target):
        b, w = [r.us_per_req for r in res["barrage"]], [r.us_per_req for r in res["wrk"]]
        rr = ratio(med(b), med(w))
        return (title, spread(b, ".2f"), spread(w, ".2f"), fmt(rr, ".2f"),
                f"<= {target}x wrk" if target else "-",
                (verdict(None if rr is None else rr <= target) if target else "info"))

    def tls_of(tool, mode, res):
        protos, reused, conns, reqs, _ = hc[(tool, mode)]
        if tool == "barrage":
            lines = [r.tls for r in res["barrage"] if r.tls]
            vc = lines[0][0] if lines else "?"
        else:
            vc = (",".join(protos) or "?") + " (cipher not reported)"
        return vc

    def resumed_of(tool, res):
        protos, reused, conns, reqs, _ = hc[(tool, "close")]
        if conns <= CHECK_CONNECTIONS:  # no reconnect happened: nothing to tell
            return f"n/a ({conns} conns only)"
        return f"{reused}/{conns} conns"

    rows.append(rps_row("keep-alive requests/s", ka))
    rows.append(cpu_row("keep-alive client CPU us/request", ka, 0.85))
    rows.append(("keep-alive TLS negotiated", tls_of("barrage", "keep-alive", ka), tls_of("wrk", "keep-alive", ka),
                 "", "-", "info"))
    rows.append(rps_row("conn-per-request requests/s", cl))
    rows.append(cpu_row("conn-per-request client CPU us/request", cl, None))
    rows.append(("conn-per-request sessions resumed (nginx log)", resumed_of("barrage", cl), resumed_of("wrk", cl),
                 "", "-", "info"))
    bad = {t: [r for rs in (ka[t], cl[t]) for r in rs if not r.ok or r.errors or r.non2xx] for t in ("barrage", "wrk")}
    rows.append(("runs without errors / non-2xx",
                 *(f"{2 * args.runs - len(bad[t])}/{2 * args.runs}" for t in ("barrage", "wrk")), "", "all", 
                 "PASS" if not (bad["barrage"] or bad["wrk"]) else "FAIL"))

    for label, res in (("keep-alive", ka), ("conn-per-request", cl)):
        pairs = [b.rps / w.rps for b, w in zip(res["barrage"], res["wrk"]) if b.ok and w.ok]
        if pairs:
            notes.append(f"{label}: paired requests/s ratio (run i of barrage / run i of wrk): median {med(pairs):.2f} "
                         f"[{min(pairs):.2f}..{max(pairs):.2f}]")
        for t in ("barrage", "wrk"):
            ok = [r for r in res[t] if r.ok]
            if ok:
                notes.append(f"{label}: {t} CPU us/request split: user {med([r.utime / r.requests * 1e6 for r in ok]):.2f}"
                             f" + sys {med([r.stime / r.requests * 1e6 for r in ok]):.2f}; server CPU "
                             f"{med([100 * r.server_cpu / r.wall for r in ok]):.0f}%, client CPU "
                             f"{med([100 * r.cpu / r.wall for r in ok]):.0f}% (medians)")
    b_tls = [r.tls for r in cl["barrage"] if r.tls]
    if b_tls:
        notes.append("conn-per-request: barrage's own count of resumed handshakes per run: " +
                     ", ".join(f"{x[2]}/{x[1]}" for x in b_tls))
    notes.append("wrk prints no TLS details: its protocol comes from nginx's $ssl_protocol (the harness log format "
                 "has no cipher field); wrk links the same libssl 3 with default cipher suites.")
    return rows, notes, all_foreign(*groups)


# ---------------------------------------------------------------- rate suite

def barrage_json_run(args, target, inner, secs):
    fd, path = tempfile.mkstemp(prefix="tlsrate-", suffix=".json")
    os.close(fd)
    try:
        r = run_client("barrage", inner[:-1] + ["--json", path, inner[-1]], secs, target.proc, json_path=path)
    finally:
        os.unlink(path)
    return r


def perf_counts(args, target, inner):
    """Events per completed request of a run under `perf stat` (tracepoint
    counting, far lighter than strace), or None when perf cannot count them."""
    if not shutil.which("perf"):
        return None
    fd, path = tempfile.mkstemp(prefix="tlsrate-perf-", suffix=".txt")
    os.close(fd)
    try:
        r = run_client("barrage", ["perf", "stat", "-x,", "-o", path, "-e", ",".join(PERF_EVENTS)] + inner,
                       PERF_SECONDS, target.proc)
        counts = {}
        with open(path) as f:
            for ln in f:
                t = ln.strip().split(",")
                if len(t) > 2 and t[0].isdigit():
                    counts[t[2]] = int(t[0])
    except OSError:
        return None
    finally:
        os.unlink(path)
    if not r.ok or not counts:
        return None
    return {k: v / r.requests for k, v in counts.items()}, r


def rate_cpu_suite(args):
    """(rows, notes, foreign): rate-limited vs server-throttled saturating CPU per request."""
    secs = args.rate_duration
    wait_quiet(args, "the rate-vs-saturating suite")
    log(f"== rate: R_max, barrage -t1 -c{CONNECTIONS} saturating `barrage serve` (no delay), 3 x {secs}s")
    with ServeTarget(args.barrage) as s:
        log(f"  taskset -c {CLIENT_CPU} {show(barrage_cmd(args, s.url, CONNECTIONS, secs))}")
        rmax_runs = []
        for i in range(3):
            r = run_client("barrage", barrage_cmd(args, s.url, CONNECTIONS, secs), secs, s.proc)
            rmax_runs.append(r)
            log(f"  R_max run {i + 1} {r.describe()}")
    r_max = med([r.rps for r in rmax_runs if r.ok])
    if not r_max:
        return [("R_max", "n/a", "", "", "", "FAIL")], ["could not measure R_max"], []
    log(f"  R_max = {r_max:,.0f} req/s (median)")
    log("")

    rows, notes = [], []
    foreign = [r.foreign for r in rmax_runs if r.foreign is not None]
    with ServeTarget(args.barrage, "--delay", DELAY) as s:
        for frac in RATE_LEVELS:
            want = frac * r_max
            log(f"== rate: {frac:.0%} of R_max = {want:,.0f} req/s against `barrage serve --delay {DELAY}`")
            # calibrate the saturating run's connections: about want * delay, then proportionally
            n, tried = max(1, round(want * DELAY_S * 1.2)), {}
            for it in range(4):
                r = run_client("barrage", barrage_cmd(args, s.url, n, 1), 1, s.proc)
                got = r.rps if r.ok else None
                log(f"  calibrate -c{n}: {fmt(got, ',.0f')} req/s")
                if not got:
                    break
                tried[n] = got
                if abs(got - want) <= 0.05 * want:
                    break
                n2 = max(1, min(MAX_CONNECTIONS, round(n * want / got)))
                if n2 in tried:
                    break
                n = n2
            if tried:  # the tried count that came closest
                n = min(tried, key=lambda k: abs(tried[k] - want))
            r_, n_, f_ = rate_pairs(args, s, n, 2 * n, f"{frac:.0%} of R_max ({want:,.0f}/s)", f"{frac:.0%}",
                                    perf=(frac == RATE_LEVELS[0]),  # near R_max perf's own cost would make -R fall behind
                                    want=want)
            rows += r_
            notes += n_
            foreign += f_
    # the other way to hold a saturating run to a rate: few connections against
    # a fast server, so the round trip sets the rate (each response is waited for)
    with harness.Nginx(access_log=False, cpu=SERVER_CPU) as ng:
        log(f"== rate: few connections: saturating -c{FEW_CONNECTIONS} against nginx (the round trip sets the rate) "
            f"vs -R at that rate with -c{JITTER_CONNECTIONS}")
        r_, n_, f_ = rate_pairs(args, ng, FEW_CONNECTIONS, JITTER_CONNECTIONS,
                                f"nginx, saturating -c{FEW_CONNECTIONS}", f"-c{FEW_CONNECTIONS}", perf=True)
        rows += r_
        notes += n_
        foreign += f_
    notes.insert(0, f"R_max (barrage -t1 -c{CONNECTIONS} against `barrage serve`, no delay): {r_max:,.0f} req/s; "
                 f"client CPU {med([100 * r.cpu / r.wall for r in rmax_runs if r.ok]):.0f}%, server CPU "
                 f"{med([100 * r.server_cpu / r.wall for r in rmax_runs if r.ok]):.0f}% (medians)")
    return rows, notes, foreign


def rate_pairs(args, s, n, n_lim, title, tag, perf, want=None):
    """args.runs pairs: saturating -c{n}, then -R A -c{n_lim} with A the rate
    that saturating run achieved, against target s. A pair counts only if the
    -R run kept its rate and (given want) the saturating run came within 20%
    of want. (rows, notes, foreign)."""
    secs = args.rate_duration
    rows, notes = [], []
    log(f"  saturating: taskset -c {CLIENT_CPU} {show(barrage_cmd(args, s.url, n, secs))}")
    log(f"  rate-limited: taskset -c {CLIENT_CPU} {show(barrage_cmd(args, s.url, n_lim, secs, '-R', 'A'))}"
        "   (A = the rate the saturating run before it achieved)")
    sat, lim = [], []
    for i in range(args.runs):
        a = barrage_json_run(args, s, barrage_cmd(args, s.url, n, secs), secs)
        sat.append(a)
        log(f"  {tag} run {i + 1} saturating   -c{n:<5}        {a.describe()}")
        if not a.ok:
            lim.append(a)
            continue
        rate = round(a.rps)
        b = barrage_json_run(args, s, barrage_cmd(args, s.url, n_lim, secs, "-R", str(rate)), secs)
        lim.append(b)
        sched = ((b.json or {}).get("schedule_delay") or {}).get("percentiles", {}).get("99")
        log(f"  {tag} run {i + 1} rate-limited -c{n_lim:<5} -R {rate:<6} {b.describe()}  "
            f"schedule p99 {fmt(sched, 'd')} us")
    foreign = [r.foreign for r in sat + lim if r.foreign is not None]
    rows_extra = [("  sleeps (voluntary ctx switches)/request", spread([a.sleeps_per_req for a in sat], ".3f"),
                   spread([b.sleeps_per_req for b in lim], ".3f"),
                   fmt(ratio(med([b.sleeps_per_req for b in lim]), med([a.sleeps_per_req for a in sat])), ".2f"),
                   "-", "info"),
                  ("  server sleeps/request", spread([a.server_sleeps_per_req for a in sat], ".3f"),
                   spread([b.server_sleeps_per_req for b in lim], ".3f"),
                   fmt(ratio(med([b.server_sleeps_per_req for b in lim]),
                             med([a.server_sleeps_per_req for a in sat])), ".2f"), "-", "info")]
    rates = [round(a.rps) for a in sat if a.ok]
    if rates and perf:
        log(f"  perf stat -e {','.join(PERF_EVENTS)}, {PERF_SECONDS}s per path (diagnostic):")
        pc = {}
        for key, inner in (("sat", barrage_cmd(args, s.url, n, PERF_SECONDS)),
                           ("lim", barrage_cmd(args, s.url, n_lim, PERF_SECONDS, "-R", str(int(med(rates)))))):
            got = perf_counts(args, s, inner)
            pc[key] = got[0] if got else None
            log(f"    {show(['perf', 'stat', '-e', 'EVENTS'] + inner)}: " +
                (", ".join(f"{k} {v:.3f}/req" for k, v in got[0].items()) + f"  ({got[1].rps:,.0f} req/s)"
                 if got else "perf could not count (skipped)"))
        if pc["sat"] and pc["lim"]:
            for ev, label in (("raw_syscalls:sys_enter", "syscalls/request (perf)"),
                              ("syscalls:sys_enter_epoll_pwait2", "epoll_pwait2/request (perf)"),
                              ("sched:sched_wakeup", "wake-ups done by the client/request (perf)")):
                a_, b_ = pc["sat"].get(ev), pc["lim"].get(ev)
                rows_extra.append((f"  {label}", fmt(a_, ".3f"), fmt(b_, ".3f"), fmt(ratio(b_, a_), ".2f"),
                                   "-", "info"))
    # a -R run that fell behind its rate is saturated itself: not the
    # rate-limited path any more, so its pair does not count; nor does a pair
    # whose saturating run missed the level by far (another job took the CPUs)
    kept = [(a, b) for a, b in zip(sat, lim) if a.ok and b.ok and b.rps >= 0.99 * a.rps
            and (want is None or abs(a.rps - want) <= 0.2 * want)]
    pr = [ratio(b.us_per_req, a.us_per_req) for a, b in kept]
    cs, cl = [a.us_per_req for a in sat], [b.us_per_req for b in lim]
    rs, rl = [a.rps if a.ok else None for a in sat], [b.rps if b.ok else None for b in lim]
    rr = med(pr)
    rows.append((title, f"-c{n}: {spread(rs, ',.0f')}", f"-c{n_lim} -R: {spread(rl, ',.0f')}", "", "same rate", "info"))
    rows.append(("  client CPU us/request", spread(cs, ".2f"), spread(cl, ".2f"), fmt(rr, ".2f"),
                 "<= 1.10x (+-10%)", verdict(None if rr is None else rr <= 1.10)))
    rows.append(("  pairs kept (-R held >= 99%" + (", saturating within 20% of the level)" if want else ")"),
                 f"{len(kept)}/{len(sat)}", "", "", "ratio over these", "info"))
    rows += rows_extra
    bad = [r for r in sat + lim if not r.ok or r.errors or r.non2xx]
    if bad:
        rows.append(("  runs with errors", str(sum(1 for r in sat if r in bad)),
                     str(sum(1 for r in lim if r in bad)), "", "none", "FAIL"))
    split = lambda rs: (f"user {med([r.utime / r.requests * 1e6 for r in rs if r.ok]):.2f} + sys "
                        f"{med([r.stime / r.requests * 1e6 for r in rs if r.ok]):.2f}")
    if any(r.ok for r in sat) and any(r.ok for r in lim):
        notes.append(f"{title}: CPU us/request split: saturating {split(sat)}, rate-limited {split(lim)} (medians); "
                     "per-pair ratios " + (", ".join(f"{x:.2f}" for x in pr) or "none kept"))
    log("")
    return rows, notes, foreign


def startup(r):
    """The slowest connect, and the JSON series' per-second latency p99
    (measured from the intended send time) of the first second against the
    worst later second."""
    js = r.json or {}
    conn = (js.get("connect") or {}).get("max")
    series = js.get("series") or []
    first = series[0].get("p99") if series else None
    later = max((x.get("p99") or 0 for x in series[1:]), default=None)
    return f"; connect max {conn} us; per-second latency p99: first second {first}, worst later second {later}"


def jitter_suite(args):
    secs = args.jitter_duration
    wait_quiet(args, "the jitter suite")
    log(f"== rate: schedule jitter, barrage -t1 -c{JITTER_CONNECTIONS} -R {JITTER_RATE} -d{secs}s --json, "
        f"{args.runs} runs against nginx (plain HTTP, 1 worker on CPU {SERVER_CPU})")
    runs = []
    with harness.Nginx(access_log=False, cpu=SERVER_CPU) as n:
        cmd = barrage_cmd(args, n.url, JITTER_CONNECTIONS, secs, "-R", str(JITTER_RATE))
        log(f"  taskset -c {CLIENT_CPU} {show(cmd[:-1] + ['--json', 'FILE', cmd[-1]])}")
        for i in range(args.runs):
            r = barrage_json_run(args, n, cmd, secs)
            sd = ((r.json or {}).get("schedule_delay") or {})
            p = sd.get("percentiles", {})
            r.p99 = p.get("99")
            r.sched = sd
            log(f"  jitter run {i + 1} {r.describe()}  schedule delay us: p50 {p.get('50')} p90 {p.get('90')} "
                f"p99 {p.get('99')} p99.9 {p.get('99.9')} max {sd.get('max')}{startup(r)}")
            runs.append(r)
        # diagnostic: the same rate with 10x the connections: opening 1000
        # connections takes tens of ms; the timeline starts once they are open,
        # so that time must not show up as schedule delay.
        wide_cmd = barrage_cmd(args, n.url, JITTER_WIDE_CONNECTIONS, JITTER_WIDE_SECONDS, "-R", str(JITTER_RATE))
        log(f"  diagnostic: taskset -c {CLIENT_CPU} {show(wide_cmd[:-1] + ['--json', 'FILE', wide_cmd[-1]])}")
        wide = barrage_json_run(args, n, wide_cmd, JITTER_WIDE_SECONDS)
        wsd = ((wide.json or {}).get("schedule_delay") or {})
        wp = wsd.get("percentiles", {})
        log(f"  jitter -c{JITTER_WIDE_CONNECTIONS} {wide.describe()}  schedule delay us: p50 {wp.get('50')} "
            f"p90 {wp.get('90')} p99 {wp.get('99')} p99.9 {wp.get('99.9')} max {wsd.get('max')}{startup(wide)}")
    log("")
    p99s = [r.p99 for r in runs if r.ok and r.p99 is not None]
    m = med(p99s)
    rps = [(r.json or {}).get("summary", {}).get("rps") if r.ok else None for r in runs]
    rows = [
        (f"achieved rate (asked {JITTER_RATE:,}/s)", spread(rps, ",.0f"), "", "", f">= {0.99 * JITTER_RATE:,.0f}",
         verdict(None if med(rps) is None else med(rps) >= 0.99 * JITTER_RATE)),
        ("schedule delay p99 us, median of runs", fmt(m, ".0f"), "", "", "< 1000 us",
         verdict(None if m is None else m < 1000)),
        ("schedule delay p99 us, each run / max", " ".join(str(x) for x in p99s) + f" / max {max(p99s) if p99s else 'n/a'}",
         "", "", "< 1000 us", verdict(None if not p99s else max(p99s) < 1000)),
        ("client CPU us/request", spread([r.us_per_req for r in runs], ".2f"), "", "", "-", "info"),
        ("service latency p99 us (from actual send), median",
         fmt(med([((r.json or {}).get("service") or {}).get("percentiles", {}).get("99") for r in runs if r.ok]), ".0f"),
         "", "", "-", "info"),
        ("slowest TCP connect us, median of runs",
         fmt(med([((r.json or {}).get("connect") or {}).get("max") for r in runs if r.ok]), ".0f"), "", "", "-", "info"),
        (f"diagnostic -c{JITTER_WIDE_CONNECTIONS} {JITTER_WIDE_SECONDS}s: schedule delay p99 us",
         (f"{wp.get('99')} (connect max {((wide.json or {}).get('connect') or {}).get('max')})" if wide.ok else "n/a"),
         "", "", "-", "info"),
    ]
    notes = [f"schedule delay p50/p90/p99.9/max us per run: " +
             "; ".join(f"{r.sched.get('percentiles', {}).get('50')}/{r.sched.get('percentiles', {}).get('90')}/"
                       f"{r.sched.get('percentiles', {}).get('99.9')}/{r.sched.get('max')}" for r in runs if r.ok),
             "foreign load on CPU 1 during the jitter runs: " +
             ", ".join(f"{100 * r.others.get(CLIENT_CPU, 0) / r.wall:.0f}%" for r in runs if r.others)]
    return rows, notes, [r.foreign for r in runs + [wide] if r.foreign is not None]


# ---------------------------------------------------------------- main

def main():
    args = parse_args()
    need = [("barrage", args.barrage)] + ([("wrk", args.wrk)] if args.suite in ("tls", "all") else [])
    for what, path in need:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)) and not shutil.which(path):
            log(f"tls_rate: {what} not found at {path} (build with `make`, or set BARRAGE=/WRK=)")
            return 2
    for tool in ("taskset", "openssl"):
        if not shutil.which(tool):
            log(f"tls_rate: `{tool}` is required")
            return 2
    if not {SERVER_CPU, CLIENT_CPU} <= os.sched_getaffinity(0):
        log(f"tls_rate: needs CPUs {SERVER_CPU} and {CLIENT_CPU}; allowed here: {sorted(os.sched_getaffinity(0))}")
        return 2
    cpu = "unknown"
    for ln in sh_output(["lscpu"]).splitlines():
        if ln.startswith("Model name:"):
            cpu = ln.split(":", 1)[1].strip()
    bv = sh_output([args.barrage, "--version"]).splitlines()
    wv = sh_output([args.wrk, "-v"]).splitlines()
    ngx = sh_output([harness.NGINX, "-v"]).splitlines()
    t_start = time.monotonic()
    log("barrage TLS and constant-rate benchmark")
    log(f"  date:     {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')}")
    log(f"  cpu:      {cpu} ({os.cpu_count()} CPUs)")
    log(f"  kernel:   {platform.system()} {platform.release()}")
    log(f"  barrage:  {args.barrage} ({bv[0] if bv else '?'})")
    log(f"  wrk:      {args.wrk} ({wv[0].split('Copyright')[0].strip() if wv else '?'})")
    log(f"  nginx:    {ngx[0] if ngx else '?'}, 1 worker pinned to CPU {SERVER_CPU}; clients pinned to CPU {CLIENT_CPU}")
    log(f"  openssl:  {sh_output(['openssl', 'version'])}")
    envs = " ".join(f"{k}={shlex.quote(os.environ[k])}" for k in sorted(os.environ)
                    if k.startswith("TLSRATE_") or k in ("BARRAGE", "WRK"))
    log(f"  command:  {(envs + ' ') if envs else ''}{show([sys.argv[0]] + sys.argv[1:])}")
    log(f"  settings: suite={args.suite} runs={args.runs} duration={args.duration}s "
        f"rate-duration={args.rate_duration}s jitter-duration={args.jitter_duration}s")
    log(f"  loadavg at start: {loadavg()}")
    log("")

    results = []
    try:
        if args.suite in ("tls", "all"):
            rows, notes, fg = tls_suite(args)
            results.append(("TLS (nginx HTTPS, -t1 -c50 /health)", ("metric", "barrage", "wrk", "ratio b/w", "target", "result"),
                            rows, notes, fg))
        if args.suite in ("rate", "all"):
            rows, notes, fg = rate_cpu_suite(args)
            results.append((f"constant rate: CPU per request, rate-limited vs server-throttled saturating "
                            f"(`barrage serve --delay {DELAY}`)",
                            ("level", "saturating", "rate-limited (-R)", "ratio R/sat", "target", "result"),
                            rows, notes, fg))
            rows, notes, fg = jitter_suite(args)
            results.append((f"constant rate: schedule jitter at {JITTER_RATE:,} req/s (nginx, -t1 -c{JITTER_CONNECTIONS})",
                            ("metric", "barrage", "", "", "target", "result"), rows, notes, fg))
    except (harness.Fail, OSError) as e:
        log(f"tls_rate: could not run: {e}")
        return 2

    log(f"== results (median [min..max] of {args.runs} runs; wall {time.monotonic() - t_start:.0f}s, "
        f"loadavg at end {loadavg()})")
    misses = []
    for name, head, rows, notes, fg in results:
        log("")
        log(f"{name}:")
        log(table(head, rows))
        log("")
        for n_ in notes:
            log(n_)
        if fg:
            log(f"foreign load on CPUs 0/1 (max of the two per run): median {100 * med(fg):.0f}%, "
                f"max {100 * max(fg):.0f}%" + ("  WARNING: other jobs shared the benchmark CPUs; these figures "
                                              "are unreliable" if med(fg) > 0.2 else ""))
        misses += [r[0].strip() for r in rows if r[5] not in ("PASS", "info")]
    log("")
    log("all targets met" if not misses else "MISS: " + "; ".join(misses))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
