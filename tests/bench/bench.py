#!/usr/bin/env python3
"""Side-by-side benchmark of barrage against wrk (stdlib only).

The target (nginx with one worker, or `barrage serve`) is pinned to CPU 0,
the client under test to CPU 1 (`taskset -c 1`), one thread, 50 keep-alive
connections to /health. Traffic goes to 127.0.0.1 only.

Measured per tool:
  requests/s            from the tool's own report, BENCH_RUNS alternating runs
  CPU s per 1M requests client user+sys (os.wait4) / completed requests
  syscalls per request  `strace -c -f` on a short run: total calls / requests
  peak RSS at 10k conns ru_maxrss of a -t1 -c10000 run (through GNU time:
                        see GNU_TIME below), with the connections actually
                        established counted by `ss` mid-run
then the ratios barrage/wrk against the targets of the issue. Exits 0 even
when a target is missed: this is a benchmark, not a test.

Settings (environment, or the matching option):
  BARRAGE=path          binary under test (default ./barrage)      --barrage
  BENCH_RUNS=5          runs per tool for rps and CPU              --runs
  BENCH_DURATION=5      seconds per run                            --duration
  BENCH_TARGET=nginx    or `serve` for the built-in target         --target
  BENCH_STRACE_DURATION=2, BENCH_RSS_DURATION=3, BENCH_RSS_CONNECTIONS=10000
  WRK=path              wrk binary (default: wrk on PATH)
"""
import argparse
import datetime
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness  # noqa: E402  (shared nginx / serve helpers)

SERVER_CPU = 0
CLIENT_CPU = 1
PATH = "/health"
CONNECTIONS = 50
NOFILE = 30000
# ru_maxrss from our own wait4 is useless for a child of Python: Linux carries
# the pre-exec high-water mark (the forked copy of this interpreter, ~15-20 MB)
# across exec. GNU time forks the tool from its own tiny image, so its %M is
# the tool's real peak. Without it, fall back to sampling VmHWM.
GNU_TIME = next((p for p in ("/usr/bin/time",) if os.access(p, os.X_OK)), None)


def env_int(name, default):
    v = os.environ.get(name, "").strip()
    if not v:
        return default
    return int(float(v.rstrip("s")))


def parse_args():
    ap = argparse.ArgumentParser(description="barrage vs wrk benchmark (see RESULTS.md)")
    ap.add_argument("--barrage", default=os.environ.get("BARRAGE", os.path.join(ROOT, "barrage")))
    ap.add_argument("--wrk", default=os.environ.get("WRK", shutil.which("wrk") or "wrk"))
    ap.add_argument("--runs", type=int, default=env_int("BENCH_RUNS", 5))
    ap.add_argument("--duration", type=int, default=env_int("BENCH_DURATION", 5), help="seconds per run")
    ap.add_argument("--strace-duration", type=int, default=env_int("BENCH_STRACE_DURATION", 2))
    ap.add_argument("--rss-duration", type=int, default=env_int("BENCH_RSS_DURATION", 3))
    ap.add_argument("--rss-connections", type=int, default=env_int("BENCH_RSS_CONNECTIONS", 10000))
    ap.add_argument("--target", choices=("nginx", "serve"), default=os.environ.get("BENCH_TARGET", "nginx") or "nginx")
    a = ap.parse_args()
    a.barrage = os.path.abspath(a.barrage)
    if a.runs < 1 or a.duration < 1:
        ap.error("runs and duration must be >= 1")
    return a


def log(msg=""):
    print(msg, flush=True)


# ---------------------------------------------------------------- targets

class ServeTarget:
    """`barrage serve` pinned to SERVER_CPU, through harness.Serve: the child
    inherits our affinity mask, so narrow it around the fork only."""

    def __init__(self, binary):
        self.binary = binary

    def __enter__(self):
        harness.BARRAGE = self.binary
        old = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {SERVER_CPU})
        try:
            self.serve = harness.Serve().__enter__()
        finally:
            os.sched_setaffinity(0, old)
        self.port, self.url = self.serve.port, self.serve.url
        return self

    def __exit__(self, *exc):
        self.serve.__exit__(*exc)


def server_cpu_seconds(target):
    """user+sys so far of the target process and its children (nginx workers)."""
    proc = target.serve.proc if isinstance(target, ServeTarget) else target.proc
    pids = [proc.pid]
    try:
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
            pids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def cpu_busy_seconds():
    """{cpu: busy seconds} from /proc/stat (user+nice+system+irq+softirq+steal)."""
    busy = {}
    try:
        with open("/proc/stat") as f:
            for ln in f:
                m = re.match(r"^cpu(\d+)\s+(.*)", ln)
                if m:
                    v = [int(x) for x in m.group(2).split()]
                    busy[int(m.group(1))] = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        pass
    return busy


def start_target(args):
    if args.target == "serve":
        return ServeTarget(args.barrage)
    return harness.Nginx(access_log=False, cpu=SERVER_CPU)


# ---------------------------------------------------------------- running

class Run:
    """One finished client run: its report, rusage and derived figures."""

    def __init__(self, tool, cmd, status, ru, out, err, wall, extra=None, maxrss_kib=None):
        self.tool, self.cmd, self.out, self.err, self.wall = tool, cmd, out, err, wall
        self.rc = os.waitstatus_to_exitcode(status) if status is not None else None
        self.ru = ru
        self.cpu = (ru.ru_utime + ru.ru_stime) if ru else None  # includes reaped grandchildren
        self.extra = extra or {}
        if maxrss_kib is None and self.extra.get("vmhwm_kib"):
            maxrss_kib = self.extra["vmhwm_kib"]
        self.maxrss_mb = maxrss_kib / 1024.0 if maxrss_kib else None
        m = re.search(r"^\s*(\d+) requests in ", out, re.M)
        self.requests = int(m.group(1)) if m else None
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        self.rps = float(m.group(1)) if m else None
        e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        self.errors = sum(int(x) for x in e.groups()) if e else 0
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        self.non2xx = int(m.group(1)) if m else 0

    @property
    def ok(self):
        return self.rc == 0 and self.requests

    @property
    def split_per_mreq(self):
        """(user, sys) CPU seconds per million requests."""
        if not self.ok or self.ru is None:
            return None
        return self.ru.ru_utime / self.requests * 1e6, self.ru.ru_stime / self.requests * 1e6

    @property
    def cpu_per_mreq(self):
        if not self.ok or self.cpu is None:
            return None
        return self.cpu / self.requests * 1e6

    def describe(self):
        if not self.ok:
            return f"FAILED rc={self.rc} out={self.out.strip()[-300:]!r} err={self.err.strip()[-300:]!r}"
        s = f"{self.requests:>9} req  {self.rps:>8.0f} req/s  cpu {self.cpu:5.2f}s " \
            f"({100 * self.cpu / self.wall:3.0f}%)  {self.cpu_per_mreq:5.2f} s/Mreq " \
            f"(u {self.split_per_mreq[0]:4.2f} s {self.split_per_mreq[1]:4.2f})  " \
            f"maxrss {fmt(self.maxrss_mb, '5.1f')} MB"
        if "server_cpu" in self.extra:
            s += f"  server cpu {100 * self.extra['server_cpu'] / self.wall:3.0f}%"
        if "others" in self.extra:
            s += "  others " + " ".join(f"cpu{c} {100 * v / self.wall:2.0f}%"
                                        for c, v in sorted(self.extra["others"].items()))
        if self.errors or self.non2xx:
            s += f"  errors {self.errors} non2xx {self.non2xx}"
        return s


def raise_nofile():
    """Raise RLIMIT_NOFILE (soft, and hard if allowed) for us and every child."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want_hard in (max(hard, NOFILE), hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(NOFILE, want_hard), want_hard))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def client_cmd(args, tool, url, conns, secs):
    binary = args.barrage if tool == "barrage" else args.wrk
    return [binary, "-t1", f"-c{conns}", f"-d{secs}s", url + PATH]


def pinned(cmd):
    return ["taskset", "-c", str(CLIENT_CPU)] + cmd


def timed(cmd, path):
    return [GNU_TIME, "-f", "%M", "-o", path] + cmd if GNU_TIME else cmd


def show(cmd):
    return " ".join(shlex.quote(a) for a in cmd)


def tool_pid(pid):
    """The client's pid: pid itself, or its child when GNU time wraps it."""
    if not GNU_TIME:
        return pid
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None
    except OSError:
        return None


def run_client(tool, inner, secs, sampler=None, strace_out=None):
    """Run the client command `inner` pinned to CLIENT_CPU (under GNU time, or
    under strace when strace_out is given) and reap it with wait4 for its CPU
    time. sampler(pid) runs in a thread meanwhile; its dict lands in .extra."""
    if strace_out:
        cmd, tpath = pinned(["strace", "-c", "-f", "-o", strace_out] + inner), None
    else:
        fd, tpath = tempfile.mkstemp(prefix="bench-time-", suffix=".txt")
        os.close(fd)
        cmd = pinned(timed(inner, tpath))
    try:
        return _run(tool, cmd, secs, sampler, tpath)
    finally:
        if tpath:
            os.unlink(tpath)


def _run(tool, cmd, secs, sampler, tpath):
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        extra = {}
        th = None
        if sampler:
            th = threading.Thread(target=lambda: extra.update(sampler(p.pid)), daemon=True)
            th.start()
        done = []

        def kill():  # never p.poll() here: that could reap the child before wait4
            if not done:
                os.kill(p.pid, signal.SIGKILL)
        killer = threading.Timer(secs + 60, kill)
        killer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            done.append(True)
            killer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from reaping again
        wall = time.monotonic() - t0
        if th:
            th.join(timeout=10)
        out.seek(0)
        err.seek(0)
        maxrss = None
        if tpath and GNU_TIME:
            with open(tpath) as f:
                lines = f.read().split()
            maxrss = int(lines[-1]) if lines and lines[-1].isdigit() else None
        return Run(tool, cmd, status, ru, out.read(), err.read(), wall, extra, maxrss)


def affinity_sampler(delay):
    """Check mid-run that every thread of the client is confined to CLIENT_CPU."""
    def sample(pid):
        time.sleep(delay)
        seen = set()
        pid = tool_pid(pid)
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    m = re.search(r"^Cpus_allowed_list:\s*(\S+)", f.read(), re.M)
                    if m:
                        seen.add(m.group(1))
        except OSError:
            pass
        return {"cpus": seen}
    return sample


def vmhwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(r"^VmHWM:\s*(\d+) kB", f.read(), re.M)
        return int(m.group(1)) if m else None
    except (OSError, TypeError):
        return None


def established_sampler(port, secs):
    """Count client sockets ESTABLISHED to the target port a few times mid-run,
    and track the client's VmHWM (a cross-check of ru_maxrss)."""
    def sample(pid):
        best, hwm, t0 = 0, 0, time.monotonic()
        time.sleep(min(1.0, secs / 3))
        while time.monotonic() - t0 < secs * 0.95:
            try:
                o = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"],
                                   capture_output=True, text=True, timeout=10).stdout
                best = max(best, sum(1 for ln in o.splitlines() if ln.strip()))
            except (OSError, subprocess.TimeoutExpired):
                pass
            hwm = max(hwm, vmhwm_kib(tool_pid(pid)) or 0)
            time.sleep(0.2)
        return {"established": best, "vmhwm_kib": hwm}
    return sample


def parse_strace(path):
    """(total calls, {syscall: calls}) from an `strace -c` summary."""
    total, per = None, {}
    with open(path) as f:
        for ln in f:
            t = ln.split()
            if len(t) < 5 or not re.match(r"^[\d.]+$", t[0]):
                continue
            # % time, seconds, usecs/call, calls, [errors], name
            if t[-1] == "total":
                total = int(t[3])
            else:
                per[t[-1]] = int(t[3])
    return total, per


# ---------------------------------------------------------------- figures

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def spread(xs, spec):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return format(xs[0], spec)
    return f"{format(statistics.median(xs), spec)} [{format(min(xs), spec)}..{format(max(xs), spec)}]"


def ratio(a, b):
    return a / b if a is not None and b else None


def table(rows):
    head = ("metric", "barrage", "wrk", "ratio b/w", "target", "result")
    rows = [head] + rows
    w = [max(len(r[i]) for r in rows) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |"
    sep = "|" + "|".join("-" * (x + 2) for x in w) + "|"
    return "\n".join([line(rows[0]), sep] + [line(r) for r in rows[1:]])


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def sh_output(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine_info(args):
    cpu = "unknown"
    for ln in sh_output(["lscpu"]).splitlines():
        if ln.startswith("Model name:"):
            cpu = ln.split(":", 1)[1].strip()
    ncpu = os.cpu_count()
    wrkv = sh_output([args.wrk, "-v"]).splitlines()
    bv = sh_output([args.barrage, "--version"]).splitlines()
    ngx = sh_output([harness.NGINX, "-v"]).splitlines()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cpu": f"{cpu} ({ncpu} CPUs)",
        "kernel": f"{platform.system()} {platform.release()}",
        "barrage": f"{args.barrage} ({bv[0] if bv else '?'})",
        "wrk": f"{args.wrk} ({wrkv[0].split('Copyright')[0].strip() if wrkv else '?'})",
        "target": "nginx (" + (ngx[0] if ngx else "?") + "), 1 worker" if args.target == "nginx"
                  else "barrage serve",
    }


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


# ---------------------------------------------------------------- main

def main():
    args = parse_args()
    for what, path in (("barrage", args.barrage), ("wrk", args.wrk)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)) and not shutil.which(path):
            log(f"bench: {what} not found at {path} (build with `make`, or set BARRAGE=/WRK=)")
            return 2
    for need in ("taskset", "strace", "ss"):
        if not shutil.which(need):
            log(f"bench: `{need}` is required")
            return 2
    if not {SERVER_CPU, CLIENT_CPU} <= os.sched_getaffinity(0):
        log(f"bench: needs CPUs {SERVER_CPU} and {CLIENT_CPU}; allowed here: {sorted(os.sched_getaffinity(0))}")
        return 2
    nofile = raise_nofile()
    info = machine_info(args)
    tools = ("barrage", "wrk")
    t_start = time.monotonic()

    log("barrage vs wrk benchmark")
    log(f"  date:     {info['date']}")
    log(f"  cpu:      {info['cpu']}")
    log(f"  kernel:   {info['kernel']}")
    log(f"  barrage:  {info['barrage']}")
    log(f"  wrk:      {info['wrk']}")
    log(f"  target:   {info['target']} pinned to CPU {SERVER_CPU}; clients pinned to CPU {CLIENT_CPU}")
    envs = " ".join(f"{k}={shlex.quote(os.environ[k])}" for k in sorted(os.environ)
                    if k.startswith("BENCH_") or k in ("BARRAGE", "WRK"))
    log(f"  command:  {(envs + ' ') if envs else ''}{' '.join(shlex.quote(a) for a in [sys.argv[0]] + sys.argv[1:])}")
    log(f"  settings: runs={args.runs} duration={args.duration}s strace={args.strace_duration}s "
        f"rss={args.rss_connections} conns x {args.rss_duration}s, RLIMIT_NOFILE={nofile[0]}")
    log(f"  loadavg at start: {loadavg()}")

    runs = {t: [] for t in tools}
    strace = {}
    rss = {}
    try:
        target_cm = start_target(args)
        target = target_cm.__enter__()
    except (harness.Fail, OSError) as e:
        log(f"bench: could not start the {args.target} target: {e}")
        return 2
    try:
        url = target.url
        log(f"  url:      {url}{PATH}")
        log("")
        # 1. throughput and CPU, alternating b, w, b, w, ...
        log(f"== throughput: {args.runs} x {args.duration}s per tool, alternating")
        for t in tools:
            log("  " + show(pinned(timed(client_cmd(args, t, url, CONNECTIONS, args.duration), "FILE"))))
        for i in range(args.runs):
            for t in tools:
                cmd = client_cmd(args, t, url, CONNECTIONS, args.duration)
                s0, b0 = server_cpu_seconds(target), cpu_busy_seconds()
                r = run_client(t, cmd, args.duration, affinity_sampler(min(1.0, args.duration / 2)))
                r.extra["server_cpu"] = server_cpu_seconds(target) - s0
                b1 = cpu_busy_seconds()
                if r.cpu is not None and SERVER_CPU in b1 and CLIENT_CPU in b1:
                    # busy time on our two CPUs not spent by the server or the client
                    r.extra["others"] = {
                        SERVER_CPU: max(0.0, b1[SERVER_CPU] - b0[SERVER_CPU] - r.extra["server_cpu"]),
                        CLIENT_CPU: max(0.0, b1[CLIENT_CPU] - b0[CLIENT_CPU] - r.cpu)}
                runs[t].append(r)
                cpus = r.extra.get("cpus", set())
                warn = "" if cpus <= {str(CLIENT_CPU)} else f"  WARNING: threads allowed on CPUs {sorted(cpus)}"
                log(f"  run {i + 1} {t:<8} {r.describe()}{warn}")

        # 2. syscalls per request
        log("")
        log(f"== syscalls: strace -c -f on a {args.strace_duration}s run per tool")
        for t in tools:
            with tempfile.NamedTemporaryFile(prefix=f"bench-strace-{t}-", suffix=".txt", delete=False) as f:
                spath = f.name
            try:
                inner = client_cmd(args, t, url, CONNECTIONS, args.strace_duration)
                log("  " + show(pinned(["strace", "-c", "-f", "-o", "FILE"] + inner)))
                r = run_client(t, inner, args.strace_duration, strace_out=spath)
                total, per = parse_strace(spath) if os.path.getsize(spath) else (None, {})
            finally:
                os.unlink(spath)
            per_req = total / r.requests if (r.ok and total) else None
            strace[t] = per_req
            top = sorted(per.items(), key=lambda kv: -kv[1])[:5]
            detail = ", ".join(f"{k} {v / r.requests:.2f}" for k, v in top) if r.ok else ""
            log(f"  {t:<8} {r.requests or 0} requests, {total or 0} syscalls = {fmt(per_req, '.2f')}/request"
                f"{'  (' + detail + ')' if detail else ''}"
                f"{'' if r.ok else '  FAILED: ' + r.describe()}")

        # 3. peak RSS with many connections
        log("")
        how = "ru_maxrss via GNU time %M" if GNU_TIME else "VmHWM sampled (no /usr/bin/time)"
        log(f"== memory: -t1 -c{args.rss_connections} -d{args.rss_duration}s per tool, {how}")
        for t in tools:
            cmd = client_cmd(args, t, url, args.rss_connections, args.rss_duration)
            log("  " + show(pinned(timed(cmd, "FILE"))))
            r = run_client(t, cmd, args.rss_duration, established_sampler(target.port, args.rss_duration))
            rss[t] = r
            hwm = r.extra.get("vmhwm_kib")
            log(f"  {t:<8} {r.describe()}  established (max sampled) {r.extra.get('established', 0)}"
                f"  VmHWM (sampled) {fmt(hwm / 1024 if hwm else None, '.1f')} MB")
            time.sleep(0.5)  # let the closed connections drain out of nginx
    finally:
        target_cm.__exit__(None, None, None)

    # ------------------------------------------------------------ report
    rps = {t: [r.rps if r.ok else None for r in runs[t]] for t in tools}
    cpm = {t: [r.cpu_per_mreq for r in runs[t]] for t in tools}
    m_rps = {t: med(rps[t]) for t in tools}
    m_cpm = {t: med(cpm[t]) for t in tools}
    mem = {t: rss[t].maxrss_mb if rss[t].ok else None for t in tools}
    est = {t: rss[t].extra.get("established", 0) for t in tools}
    r_rps, r_cpm, r_sys, r_mem = (ratio(m_rps["barrage"], m_rps["wrk"]), ratio(m_cpm["barrage"], m_cpm["wrk"]),
                                  ratio(strace["barrage"], strace["wrk"]), ratio(mem["barrage"], mem["wrk"]))
    want_est = int(args.rss_connections * 0.99)
    rows = [
        ("requests/s", spread(rps["barrage"], ",.0f"), spread(rps["wrk"], ",.0f"),
         fmt(r_rps, ".2f"), ">= 1.0x wrk", verdict(None if r_rps is None else r_rps >= 1.0)),
        ("client CPU s per 1M requests", spread(cpm["barrage"], ".2f"), spread(cpm["wrk"], ".2f"),
         fmt(r_cpm, ".2f"), "<= 0.8x wrk", verdict(None if r_cpm is None else r_cpm <= 0.8)),
        ("syscalls per request", fmt(strace["barrage"], ".2f"), fmt(strace["wrk"], ".2f"),
         fmt(r_sys, ".2f"), "<= 2.5", verdict(None if strace["barrage"] is None else strace["barrage"] <= 2.5)),
        (f"peak RSS MB at {args.rss_connections:,} conns", fmt(mem["barrage"], ".1f"), fmt(mem["wrk"], ".1f"),
         fmt(r_mem, ".2f"), "<= 0.5x wrk", verdict(None if r_mem is None else r_mem <= 0.5)),
        ("  connections established", f"{est['barrage']:,}", f"{est['wrk']:,}", "",
         f">= {want_est:,} each", verdict(min(est.values()) >= want_est)),
    ]
    log("")
    log(f"== results (requests/s and CPU: median [min..max] of {args.runs} runs x {args.duration}s; wall {time.monotonic() - t_start:.0f}s, "
        f"loadavg at end {loadavg()})")
    log(table(rows))
    log("")
    misses = [r[0].strip() for r in rows if r[5] != "PASS"]
    pairs = [b.rps / w.rps for b, w in zip(runs["barrage"], runs["wrk"]) if b.ok and w.ok]
    if pairs:
        log(f"paired requests/s ratio (run i of barrage / run i of wrk): median {med(pairs):.2f} "
            f"[{min(pairs):.2f}..{max(pairs):.2f}]")
    for t in tools:
        sp = [r.split_per_mreq for r in runs[t] if r.split_per_mreq]
        if sp:
            log(f"{t} CPU s per 1M requests split: user {med([u for u, _ in sp]):.2f} + sys {med([k for _, k in sp]):.2f} (medians)")
    others = [v / r.wall for t in tools for r in runs[t] for v in r.extra.get("others", {}).values()]
    if others:
        log(f"foreign load on the two benchmark CPUs during the runs: median {100 * med(others):.0f}%, "
            f"max {100 * max(others):.0f}% (high values make requests/s unreliable)")
    log("")
    log("all targets met" if not misses else "MISS: " + "; ".join(misses))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
