#!/usr/bin/env python3
"""Side-by-side benchmark of barrage against wrk (stdlib only).

The target (nginx with one worker, or `barrage serve`) is pinned to CPU 0,
the client under test to CPU 1 (`taskset -c 1`), one thread, 50 keep-alive
connections to /health. Traffic goes to 127.0.0.1 only.

Suites (BENCH_SUITE or --suite: core, script, all; default all):

core, the plain static request; measured per tool:
  requests/s            from the tool's own report, BENCH_RUNS alternating runs
  CPU s per 1M requests client user+sys (os.wait4) / completed requests
  user-space CPU s per  perf samples of the same runs: `perf record -e
    1M requests (perf)  cpu-clock -F BENCH_PERF_FREQ -C 1` around each run, the
                        client's user-mode samples x their period / completed
                        requests (rusage's user/sys split is tick-based on this
                        VM, too coarse); plus the top 10 user-space symbols of
                        each tool (see PerfSession)
  syscalls per request  `strace -c -f` on a short run: total calls / requests
  peak RSS at 10k conns ru_maxrss of a -t1 -c10000 run (through GNU time:
                        see GNU_TIME below), with the connections actually
                        established counted by `ss` mid-run

script, the Lua hooks (scripts in tests/bench/lua/, the same file for both
tools unless said otherwise):
  request()             request_path.lua: a new path per request (/health?i=N):
                        requests/s, CPU and user-space CPU (perf) per 1M
                        requests, syscalls per request
  response()            response_status.lua: counts responses by status:
                        requests/s, CPU and user-space CPU per 1M requests
  3-step workflow       barrage: workflow_user.lua (user(u), three sequential
                        named GETs per connection); wrk: workflow_wrk.lua (the
                        same steps as a per-thread request()/response() state
                        machine, wrk's idiom): requests/s (CPU, user-space CPU
                        for information)
  Before the timed runs every script is run briefly against a recording
  HTTP server (in this process) that checks the paths on the wire; during the
  timed runs the scripts' done() output is checked against the tool's report
  (hooks ran for every request, only 2xx answers).

then the ratios barrage/wrk against the targets of the issues. Exits 0 even
when a target is missed: this is a benchmark, not a test.

Settings (environment, or the matching option):
  BARRAGE=path          binary under test (default ./barrage)      --barrage
  BENCH_SUITE=all       core, script or all                        --suite
  BENCH_CASES=          script suite only: a comma list of cases to run
                        (request, response, workflow; default all)
  BENCH_RUNS=7          runs per tool for rps and CPU              --runs
  BENCH_DURATION=5      seconds per run                            --duration
  BENCH_TARGET=nginx    or `serve` for the built-in target         --target
  BENCH_MAX_FOREIGN=10  a pair of runs (b, w) in which either CPU   --max-foreign
                        had more than this % of busy time from
                        other processes is dropped and run again,
  BENCH_REPEATS=6       at most this many times in the whole run   --repeats
                        (the machine is shared: see RESULTS.md)
  BENCH_PERF=1          0: no perf (user-space rows "skipped")      --perf
                        perf needs root (or perf_event_paranoid <= 0
                        for -C); without it the rows are skipped, with a note
  BENCH_PERF_FREQ=4000  cpu-clock samples per second               --perf-freq
  BENCH_STRACE_DURATION=2, BENCH_RSS_DURATION=3, BENCH_RSS_CONNECTIONS=10000
  WRK=path              wrk binary (default: wrk on PATH)
"""
import argparse
import datetime
import errno
import http.server
import itertools
import os
import platform
import re
import resource
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness  # noqa: E402  (shared nginx / serve helpers)

LUA = os.path.join(HERE, "lua")  # the benchmark's Lua scripts
SUITES = ("core", "script", "all")
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
PERF = shutil.which("perf")


def env_int(name, default):
    v = os.environ.get(name, "").strip()
    if not v:
        return default
    return int(float(v.rstrip("s")))


def parse_args():
    ap = argparse.ArgumentParser(description="barrage vs wrk benchmark (see RESULTS.md)")
    ap.add_argument("--barrage", default=os.environ.get("BARRAGE", os.path.join(ROOT, "barrage")))
    ap.add_argument("--wrk", default=os.environ.get("WRK", shutil.which("wrk") or "wrk"))
    ap.add_argument("--suite", choices=SUITES, default=os.environ.get("BENCH_SUITE", "all") or "all",
                    help="core (static request), script (Lua hooks) or all")
    ap.add_argument("--runs", type=int, default=env_int("BENCH_RUNS", 7))
    ap.add_argument("--duration", type=int, default=env_int("BENCH_DURATION", 5), help="seconds per run")
    ap.add_argument("--max-foreign", type=float, default=float(os.environ.get("BENCH_MAX_FOREIGN", "") or 10),
                    help="percent of foreign load on CPU 0 or 1 above which a pair of runs is repeated")
    ap.add_argument("--repeats", type=int, default=env_int("BENCH_REPEATS", 6),
                    help="how many noisy pairs may be run again, over the whole benchmark")
    ap.add_argument("--strace-duration", type=int, default=env_int("BENCH_STRACE_DURATION", 2))
    ap.add_argument("--rss-duration", type=int, default=env_int("BENCH_RSS_DURATION", 3))
    ap.add_argument("--rss-connections", type=int, default=env_int("BENCH_RSS_CONNECTIONS", 10000))
    ap.add_argument("--target", choices=("nginx", "serve"), default=os.environ.get("BENCH_TARGET", "nginx") or "nginx")
    ap.add_argument("--perf", type=int, choices=(0, 1), default=env_int("BENCH_PERF", 1),
                    help="1: user-space CPU from perf samples (needs perf, root or perf_event_paranoid <= 0)")
    ap.add_argument("--perf-freq", type=int, default=env_int("BENCH_PERF_FREQ", 4000),
                    help="perf record -F: cpu-clock samples per second of CPU time")
    a = ap.parse_args()
    a.suites = ("core", "script") if a.suite == "all" else (a.suite,)
    a.cases = [c for c in (os.environ.get("BENCH_CASES") or "").split(",") if c]
    if set(a.cases) - {c.key for c in CASES}:
        ap.error(f"BENCH_CASES: unknown case in {a.cases} (cases: {', '.join(c.key for c in CASES)})")
    a.repeats_left, a.repeated, a.noisy_kept = a.repeats, 0, 0
    a.barrage = os.path.abspath(a.barrage)
    if a.runs < 1 or a.duration < 1:
        ap.error("runs and duration must be >= 1")
    if not 10 <= a.perf_freq <= 50000:
        ap.error("perf frequency must be 10..50000 samples per second")
    a.perf_note = None  # why perf sampling is off, once probed
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


def proc_tree(pid):
    """pid and its direct children (nginx's workers)."""
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return pids


def proc_cpu_seconds(pid):
    """user+sys so far of pid and its direct children."""
    total = 0.0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def server_cpu_seconds(target):
    """user+sys so far of the target process and its children (nginx workers)."""
    proc = target.serve.proc if isinstance(target, ServeTarget) else target.proc
    return proc_cpu_seconds(proc.pid)


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
        # what the bench's Lua scripts print from done() ("bench-script: ...")
        # and barrage's per-name rows ("Requests by name": [method] name count failures ...)
        m = re.search(r"^bench-script: request\(\) calls (\d+)", out, re.M)
        self.calls = int(m.group(1)) if m else None
        self.statuses = {int(a): int(b) for a, b in
                         re.findall(r"^bench-script: status (\d+) responses (\d+)", out, re.M)}
        m = re.search(r"^bench-script: steps sent (\d+) (\d+) (\d+)", out, re.M)
        self.steps = [int(x) for x in m.groups()] if m else None
        self.named = {a: (int(b), int(c)) for a, b, c in
                      re.findall(r"^\s+(?:[A-Z]+\s+)?(step\d)\s+(\d+)\s+(\d+)\s", out, re.M)}
        self.problem = None  # set by a case's check of the hooks' output
        self.perf = None  # PerfResult of the client's samples, when perf ran
        self.perf_error = None

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

    @property
    def perf_per_mreq(self):
        """(user, kernel) CPU seconds per million requests from perf samples."""
        if not self.ok or self.perf is None:
            return None
        return self.perf.user_ns / self.requests * 1e-3, self.perf.kernel_ns / self.requests * 1e-3

    @property
    def user_per_mreq(self):
        return self.perf_per_mreq[0] if self.perf_per_mreq else None

    @property
    def perf_vs_wait4(self):
        """perf's total (user + kernel samples) / the wait4 total: ~1.0."""
        if not self.ok or self.perf is None or not self.cpu:
            return None
        return (self.perf.user_ns + self.perf.kernel_ns) * 1e-9 / self.cpu

    def describe(self):
        if not self.ok:
            return f"FAILED rc={self.rc} out={self.out.strip()[-300:]!r} err={self.err.strip()[-300:]!r}"
        s = f"{self.requests:>9} req  {self.rps:>8.0f} req/s  cpu {self.cpu:5.2f}s " \
            f"({100 * self.cpu / self.wall:3.0f}%)  {self.cpu_per_mreq:5.2f} s/Mreq " \
            f"(u {self.split_per_mreq[0]:4.2f} s {self.split_per_mreq[1]:4.2f})  " \
            f"maxrss {fmt(self.maxrss_mb, '5.1f')} MB"
        if self.perf_per_mreq:
            s += f"  perf u {self.perf_per_mreq[0]:4.2f} k {self.perf_per_mreq[1]:4.2f} s/Mreq " \
                 f"({self.perf.samples} samples, {100 * self.perf_vs_wait4:3.0f}% of wait4)"
            if self.perf.warning:
                s += f" perf: {self.perf.warning}"
        elif self.perf_error:
            s += f"  perf n/a: {self.perf_error}"
        if "server_cpu" in self.extra:
            s += f"  server cpu {100 * self.extra['server_cpu'] / self.wall:3.0f}%"
        if "others" in self.extra:
            s += "  others " + " ".join(f"cpu{c} {100 * v / self.wall:2.0f}%"
                                        for c, v in sorted(self.extra["others"].items()))
        if self.errors or self.non2xx:
            s += f"  errors {self.errors} non2xx {self.non2xx}"
        if self.problem:
            s += f"  CHECK FAILED: {self.problem}"
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


def client_cmd(args, tool, url, conns, secs, script=None):
    binary = args.barrage if tool == "barrage" else args.wrk
    lua = ["-s", os.path.relpath(script, ROOT)] if script else []
    return [binary, "-t1", f"-c{conns}", f"-d{secs}s"] + lua + [url + PATH]


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


def reap(p, secs):
    """Wait for Popen p with wait4 (its own rusage, not the children's
    total), killing it if it outlives its duration by a minute. Returns
    (wait status, rusage); p.returncode is set so Popen does not reap again."""
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
    p.returncode = os.waitstatus_to_exitcode(status)
    return status, ru


def _run(tool, cmd, secs, sampler, tpath):
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT)
        extra = {}
        th = None
        if sampler:
            th = threading.Thread(target=lambda: extra.update(sampler(p.pid)), daemon=True)
            th.start()
        status, ru = reap(p, secs)
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
        return {"cpus": seen, "tool_pid": pid}
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


# ---------------------------------------------------------------- perf (user-space CPU)

# rusage splits user from system time by the timer tick that lands in each
# mode (this VM has no precise accounting), too coarse for a user share of
# ~10%. So the user-space CPU comes from perf samples: `perf record -e
# cpu-clock` on the client's CPU, system-wide on that CPU (-C), started
# (events disabled) before the client and enabled through a control FIFO with
# an ack, so perf's own start-up is never inside the run and the client's
# start-up is; stopped after the client exits. The client's samples are picked
# by its pid; each sample's period (ns) is CPU time, user or kernel by the
# sampled address. The client itself is started exactly as without perf, so
# its wait4 rusage (the total CPU) is the same measure as before.
KERNEL_IP = 1 << 63  # x86_64 and arm64 Linux: kernel addresses have the top bit set
PERF_LINE = re.compile(r"^\s*(\d+)\s+(\d+)\s+([0-9a-fA-F]+)(?:\s+(.*?)\s+\(([^()]*)\))?\s*$")


class PerfResult:
    """The samples of one client process: CPU ns in user and kernel mode, and
    user-mode ns by (symbol, object)."""

    def __init__(self):
        self.user_ns = self.kernel_ns = self.samples = 0
        self.syms = {}
        self.warning = None

    def add(self, period, ip, sym, dso):
        self.samples += 1
        if ip >= KERNEL_IP or dso.startswith("[kernel"):
            self.kernel_ns += period
        else:
            self.user_ns += period
            key = (sym, os.path.basename(dso) if dso.startswith("/") else dso)
            self.syms[key] = self.syms.get(key, 0) + period


class PerfSession:
    """One `perf record` around one client run (see above). start() returns
    once events are enabled; finish(pid) stops perf and parses the samples of
    pid. Failures raise PerfError with a one-line reason."""

    def __init__(self, freq):
        self.freq = freq
        self.dir = self.data = self.errpath = None
        self.proc = self.ctl = self.ack = None

    def command(self, ctl, ack, data):
        # perf itself on the server's CPU, off the client's
        return ["taskset", "-c", str(SERVER_CPU), PERF, "record", "-e", "cpu-clock", "-F", str(self.freq),
                "-C", str(CLIENT_CPU), "-D", "-1", "--control", f"fifo:{ctl},{ack}", "--synth=no", "-B",
                "-o", data]

    def _error(self, what):
        err = ""
        try:
            with open(self.errpath) as f:
                lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("[ perf record")
                         and ln.strip() not in ("Error:", "Events disabled", "Events enabled")]
            err = lines[0] if lines else ""  # perf's first line says why
            if any("paranoid" in ln for ln in lines):
                err += f" (perf_event_paranoid is {read_text('/proc/sys/kernel/perf_event_paranoid')}: " \
                       "run as root, or set it to 0 or less)"
        except OSError:
            pass
        return PerfError(f"{what}{': ' + err if err else ''}")

    def _command_ack(self, cmd, timeout):
        os.write(self.ctl, cmd.encode() + b"\n")
        got, deadline = b"", time.monotonic() + timeout
        while b"ack" not in got:
            left = deadline - time.monotonic()
            if self.proc.poll() is not None:
                raise self._error(f"perf record exited with {self.proc.returncode}")
            if left <= 0:
                raise self._error(f"perf record did not acknowledge `{cmd}`")
            r, _, _ = select.select([self.ack], [], [], min(left, 0.2))
            if r:
                try:
                    chunk = os.read(self.ack, 64)
                except BlockingIOError:
                    continue
                if not chunk:  # perf closed its end
                    time.sleep(0.05)
                got += chunk

    def start(self, timeout=30):
        try:
            return self._start(timeout)
        except BaseException:
            self.close()
            raise

    def _start(self, timeout):
        self.dir = tempfile.mkdtemp(prefix="bench-perf-")
        self.data, self.errpath = os.path.join(self.dir, "perf.data"), os.path.join(self.dir, "perf.err")
        ctl, ack = os.path.join(self.dir, "ctl"), os.path.join(self.dir, "ack")
        os.mkfifo(ctl)
        os.mkfifo(ack)
        # perf opens the ack FIFO for writing, which blocks until a reader
        # exists: open ours first, non-blocking
        self.ack = os.open(ack, os.O_RDONLY | os.O_NONBLOCK)
        with open(self.errpath, "w") as err:
            self.proc = subprocess.Popen(self.command(ctl, ack, self.data), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while self.ctl is None:
            try:
                self.ctl = os.open(ctl, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:  # ENXIO: perf has not opened it yet
                if e.errno != errno.ENXIO:
                    raise
                if self.proc.poll() is not None:
                    raise self._error(f"perf record exited with {self.proc.returncode}")
                if time.monotonic() > deadline:
                    raise self._error("perf record did not start")
                time.sleep(0.02)
        self._command_ack("enable", max(1.0, deadline - time.monotonic()))
        return self

    def finish(self, pid, timeout=60):
        """Stop perf, then the samples of process pid: a PerfResult."""
        try:
            try:
                self._command_ack("stop", 10)
            except (PerfError, OSError):
                if self.proc.poll() is None:
                    self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise PerfError("perf record did not stop")
            if not os.path.exists(self.data) or os.path.getsize(self.data) == 0:
                raise self._error("perf record wrote no data")
            if pid is None:
                raise PerfError("the client's pid was not seen during the run")
            p = subprocess.run([PERF, "script", "-i", self.data, f"--pid={pid}", "-F", "pid,period,ip,sym,dso"],
                               capture_output=True, text=True, errors="replace", timeout=timeout, cwd=self.dir)
            res = PerfResult()
            for ln in p.stdout.splitlines():
                m = PERF_LINE.match(ln)
                if m and int(m.group(1)) == pid:
                    res.add(int(m.group(2)), int(m.group(3), 16), m.group(4) or "[unknown]", m.group(5) or "[unknown]")
            if not res.samples:
                last = (p.stderr.strip().splitlines() or [""])[-1]
                raise PerfError(f"no perf samples of pid {pid} (perf script rc {p.returncode}{': ' + last if last else ''})")
            with open(self.errpath) as f:
                lost = [ln.strip() for ln in f if re.search(r"\blost\b", ln, re.I)]
            res.warning = lost[0] if lost else None
            return res
        finally:
            self.close()

    def close(self):
        for fd in (self.ctl, self.ack):
            if fd is not None:
                os.close(fd)
        self.ctl = self.ack = None
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


class PerfError(Exception):
    pass


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "?"


def perf_probe(args):
    """None when perf sampling works here, else why not (one line)."""
    if not args.perf:
        return "turned off (BENCH_PERF=0)"
    if not PERF:
        return "`perf` not found (Debian: apt-get install linux-perf)"
    s = PerfSession(args.perf_freq)
    try:
        s.start()
        p = subprocess.Popen(pinned([sys.executable, "-c", "sum(range(3000000))"]))
        p.wait()
        res = s.finish(p.pid)
    except (PerfError, OSError, subprocess.SubprocessError) as e:
        s.close()
        return f"perf record -e cpu-clock -C {CLIENT_CPU} does not work here: {e}"
    if not res.user_ns:
        return "perf saw no user-mode samples of a busy test process"
    return None


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


# ---------------------------------------------------------------- scripted cases

def _common_problem(r):
    if not r.ok:
        return "run failed"
    if r.errors:
        return f"{r.errors} socket errors"
    if r.non2xx:
        return f"{r.non2xx} non-2xx responses"
    return None


def check_calls(r):
    """request_path.lua: request() ran once per request sent (the ones still
    in flight at the end make the count a little higher than the responses)."""
    if r.calls is None:
        return "no `request() calls` line: request() or done() did not run"
    if not r.requests <= r.calls <= r.requests * 1.01 + 2 * CONNECTIONS:
        return f"request() ran {r.calls} times for {r.requests} responses"
    return None


def check_statuses(r):
    """response_status.lua: response() saw every response, all 200."""
    if not r.statuses:
        return "no status counts: response() or done() did not run"
    total = sum(r.statuses.values())
    if set(r.statuses) != {200} or total != r.requests:
        return f"response() counted {r.statuses} for {r.requests} responses"
    return None


def check_named(r):
    """workflow_user.lua in barrage: the three named steps, balanced, adding
    up to the responses, no failures."""
    counts = [r.named.get(f"step{i}", (0, 0)) for i in (1, 2, 3)]
    n = [c for c, _ in counts]
    if min(n) == 0:
        return f"per-name rows step1..3 missing or empty: {r.named}"
    if max(n) - min(n) > CONNECTIONS:
        return f"steps unbalanced: {n}"
    if sum(n) != r.requests:
        return f"per-name counts add up to {sum(n)}, not {r.requests}"
    if any(f for _, f in counts):
        return f"per-name failures: {[f for _, f in counts]}"
    return None


def check_steps(r):
    """workflow_wrk.lua: the state machine went round (about a third per step;
    not exactly: a batch of responses moves the shared step on before the
    connections write their next requests)."""
    if r.steps is None:
        return "no `steps sent` line: request() or done() did not run"
    if max(r.steps) - min(r.steps) > 0.05 * sum(r.steps) + CONNECTIONS:
        return f"steps unbalanced: {r.steps}"
    return None


class Case:
    """One scripted benchmark: the script each tool runs (paths relative to
    tests/bench/lua), what their output must show, the rows it reports."""

    def __init__(self, key, title, scripts, checks, cpu_target, strace):
        self.key, self.title, self.cpu_target, self.strace = key, title, cpu_target, strace
        self.scripts = {t: os.path.join(LUA, f) for t, f in scripts.items()}
        self.checks = checks

    def check(self, r):
        r.problem = _common_problem(r) or self.checks[r.tool](r)
        return r.problem


CASES = (
    Case("request", "request() new path", {"barrage": "request_path.lua", "wrk": "request_path.lua"},
         {"barrage": check_calls, "wrk": check_calls}, cpu_target=0.8, strace=True),
    Case("response", "response() status count", {"barrage": "response_status.lua", "wrk": "response_status.lua"},
         {"barrage": check_statuses, "wrk": check_statuses}, cpu_target=0.8, strace=False),
    Case("workflow", "3-step workflow", {"barrage": "workflow_user.lua", "wrk": "workflow_wrk.lua"},
         {"barrage": check_named, "wrk": check_steps}, cpu_target=None, strace=False),
)


# ---------------------------------------------------------------- wire check

class RecordingServer:
    """A small HTTP/1.1 keep-alive server on 127.0.0.1 (a thread per
    connection) that records (connection number, request target) of every
    request. /health (any query) gets 200 "ok", anything else 404, so a
    wrong path also shows as a non-2xx response in the tool's report."""

    def __enter__(self):
        records = self.records = []
        conn_ids = itertools.count(1)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.conn_id = next(conn_ids)

            def do_GET(self):
                records.append((self.conn_id, self.path))  # list.append is atomic
                ok = urllib.parse.urlsplit(self.path).path == PATH
                body = b"ok\n" if ok else b"not found\n"
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # a client that exits with a request in flight resets its
                # connections: expected, not worth a traceback
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def take(self):
        """The records so far, and forget them."""
        out, self.records[:] = list(self.records), []
        return out

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def wire_request_path(recs):
    ids = []
    for _, p in recs:
        m = re.match(r"^/health\?i=(\d+)$", p)
        if not m:
            return f"unexpected request target {p!r}", None
        ids.append(int(m.group(1)))
    if len(set(ids)) != len(ids):
        return f"{len(ids) - len(set(ids))} repeated paths among {len(ids)}", None
    return None, f"{len(ids)} requests, every one a new path /health?i=N (N = {min(ids)}..{max(ids)})"


def wire_static(recs):
    bad = [p for _, p in recs if p != PATH]
    if bad:
        return f"{len(bad)} requests not to {PATH}, e.g. {bad[0]!r}", None
    return None, f"{len(recs)} requests, all to {PATH}"


def _step(p):
    m = re.match(r"^/health\?step=([123])$", p)
    return int(m.group(1)) if m else None


def wire_user(recs):
    """workflow_user.lua: every connection goes 1, 2, 3, 1, 2, 3, ... in order."""
    per = {}
    for c, p in recs:
        s = _step(p)
        if s is None:
            return f"unexpected request target {p!r}", None
        per.setdefault(c, []).append(s)
    for c, seq in per.items():
        for k, s in enumerate(seq):
            if s != k % 3 + 1:
                return f"connection {c}: steps out of order {seq[max(0, k - 3):k + 3]} at request {k + 1}", None
    cycles = sum(len(seq) // 3 for seq in per.values())
    return None, f"{len(recs)} requests on {len(per)} connections, each in order step=1,2,3,1,... ({cycles} full cycles)"


def wire_machine(recs):
    """workflow_wrk.lua: only the three steps, about a third each (the order is
    per thread, not per connection, so it is not checked per connection)."""
    n = [0, 0, 0]
    for _, p in recs:
        s = _step(p)
        if s is None:
            return f"unexpected request target {p!r}", None
        n[s - 1] += 1
    if min(n) == 0 or max(n) - min(n) > 0.05 * sum(n) + 8:
        return f"steps unbalanced: {n}", None
    return None, f"{sum(n)} requests, steps 1/2/3 sent {n[0]}/{n[1]}/{n[2]} times"


WIRE_CHECKS = (  # (tool, script, check of the recorded requests)
    ("barrage", "request_path.lua", wire_request_path),
    ("wrk", "request_path.lua", wire_request_path),
    ("barrage", "response_status.lua", wire_static),
    ("wrk", "response_status.lua", wire_static),
    ("barrage", "workflow_user.lua", wire_user),
    ("barrage", "workflow_wrk.lua", wire_machine),  # barrage runs wrk's script too
    ("wrk", "workflow_wrk.lua", wire_machine),
)
WIRE_CONNECTIONS = 4
WIRE_SECONDS = 1


def wire_check(args):
    """Run every script briefly against the recording server: {tool: [problems]}."""
    log(f"== scripts on the wire: each script -t1 -c{WIRE_CONNECTIONS} -d{WIRE_SECONDS}s against a recording "
        "HTTP server (this process; /health?... -> 200, other paths 404)")
    problems = {"barrage": [], "wrk": []}
    with RecordingServer() as srv:
        for tool, script, check in WIRE_CHECKS:
            cmd = client_cmd(args, tool, srv.url, WIRE_CONNECTIONS, WIRE_SECONDS, os.path.join(LUA, script))
            srv.take()
            r = run_client(tool, cmd, WIRE_SECONDS)
            time.sleep(0.1)  # let the last requests land
            recs = srv.take()
            problem, summary = (_common_problem(r), None)
            if not problem:
                if not recs:
                    problem = "the server saw no request"
                else:
                    problem, summary = check(recs)
            if problem:
                problems[tool].append(f"{script}: {problem}")
            log(f"  {tool:<8} {script:<20} " + (f"ok: {summary}" if not problem else
                                                 f"FAILED: {problem}  [{show(cmd)}] {r.describe()}"))
    log("")
    return problems


# ---------------------------------------------------------------- suites

def timed_runs(args, target, url, scripts, check=None):
    """BENCH_RUNS alternating runs (b, w, b, w, ...): {tool: [Run]}.
    scripts: {tool: script path or None}."""
    tools = ("barrage", "wrk")
    runs = {t: [] for t in tools}
    for t in tools:
        log("  " + show(pinned(timed(client_cmd(args, t, url, CONNECTIONS, args.duration, scripts[t]), "FILE"))))
    if not args.perf_note:
        log("  around each: " + show(PerfSession(args.perf_freq).command("CTL", "ACK", "FILE"))
            + "; then " + show([PERF, "script", "-i", "FILE", "--pid=PID", "-F", "pid,period,ip,sym,dso"]))
    i = 0
    while len(runs["wrk"]) < args.runs:
        i += 1
        pair = {}
        for t in tools:
            cmd = client_cmd(args, t, url, CONNECTIONS, args.duration, scripts[t])
            perf, perf_error = None, None
            if not args.perf_note:
                try:  # started (and its start-up over) before the window of the CPU figures
                    perf = PerfSession(args.perf_freq).start()
                except (PerfError, OSError, subprocess.SubprocessError) as e:
                    perf_error = str(e)
            try:
                s0, b0 = server_cpu_seconds(target), cpu_busy_seconds()
                r = run_client(t, cmd, args.duration, affinity_sampler(min(1.0, args.duration / 2)))
            except BaseException:
                if perf:
                    perf.close()
                raise
            r.extra["server_cpu"] = server_cpu_seconds(target) - s0
            b1 = cpu_busy_seconds()
            if r.cpu is not None and SERVER_CPU in b1 and CLIENT_CPU in b1:
                # busy time on our two CPUs not spent by the server or the client
                r.extra["others"] = {
                    SERVER_CPU: max(0.0, b1[SERVER_CPU] - b0[SERVER_CPU] - r.extra["server_cpu"]),
                    CLIENT_CPU: max(0.0, b1[CLIENT_CPU] - b0[CLIENT_CPU] - r.cpu)}
            if perf:
                try:
                    r.perf = perf.finish(r.extra.get("tool_pid"))
                except (PerfError, OSError, subprocess.SubprocessError) as e:
                    perf_error = str(e)
            r.perf_error = perf_error
            if check:
                check(r)
            pair[t] = r
            cpus = r.extra.get("cpus", set())
            warn = "" if cpus <= {str(CLIENT_CPU)} else f"  WARNING: threads allowed on CPUs {sorted(cpus)}"
            log(f"  run {i} {t:<8} {r.describe()}{hook_summary(r)}{warn}")
        # Other engineers' builds and tests share these two CPUs: a pair in
        # which either run saw much foreign load is run again, while the
        # budget of repeats lasts (then it is kept, and counted as noisy).
        worst = max((v / r.wall for r in pair.values() for v in r.extra.get("others", {}).values()), default=0.0)
        if worst > args.max_foreign / 100.0:
            if args.repeats_left > 0:
                args.repeats_left -= 1
                args.repeated += 1
                log(f"  (pair {i} dropped: foreign load {100 * worst:.0f}% > {args.max_foreign:g}%; running it again, "
                    f"{args.repeats_left} repeats left)")
                continue
            args.noisy_kept += 1
            log(f"  (pair {i} kept although noisy: foreign load {100 * worst:.0f}%, no repeats left)")
        for t in tools:
            runs[t].append(pair[t])
    return runs


def hook_summary(r):
    if r.calls is not None:
        return f"  request() x{r.calls}"
    if r.statuses:
        return "  response(): " + " ".join(f"{k}x{v}" for k, v in sorted(r.statuses.items()))
    if r.steps:
        return "  steps sent " + "/".join(str(x) for x in r.steps)
    if r.named:
        return "  named " + "/".join(str(r.named[k][0]) for k in sorted(r.named))
    return ""


def strace_run(args, url, tool, script=None):
    """Syscalls per request of a short run under `strace -c -f`, or None."""
    with tempfile.NamedTemporaryFile(prefix=f"bench-strace-{tool}-", suffix=".txt", delete=False) as f:
        spath = f.name
    try:
        inner = client_cmd(args, tool, url, CONNECTIONS, args.strace_duration, script)
        log("  " + show(pinned(["strace", "-c", "-f", "-o", "FILE"] + inner)))
        r = run_client(tool, inner, args.strace_duration, strace_out=spath)
        total, per = parse_strace(spath) if os.path.getsize(spath) else (None, {})
    finally:
        os.unlink(spath)
    per_req = total / r.requests if (r.ok and total) else None
    top = sorted(per.items(), key=lambda kv: -kv[1])[:5]
    detail = ", ".join(f"{k} {v / r.requests:.2f}" for k, v in top) if r.ok else ""
    log(f"  {tool:<8} {r.requests or 0} requests, {total or 0} syscalls = {fmt(per_req, '.2f')}/request"
        f"{'  (' + detail + ')' if detail else ''}"
        f"{'' if r.ok else '  FAILED: ' + r.describe()}")
    return per_req


def ratio_row(name, values, target, spec=".2f", skipped=False):
    """A row of medians [min..max] per tool and the ratio of the medians
    against `target` (at most target x wrk; None: for information)."""
    r = ratio(med(values["barrage"]), med(values["wrk"]))
    if skipped:
        result = "skipped"
    elif target is None:
        result = "info"
    else:
        result = verdict(None if r is None else r <= target)
    return (name, spread(values["barrage"], spec), spread(values["wrk"], spec), fmt(r, ".2f"),
            f"<= {target}x wrk" if target is not None else "-", result)


def rps_cpu_rows(args, title, runs, cpu_target, user_target=None):
    """requests/s, total CPU per request (wait4) and user-space CPU per
    request (perf samples); the CPU targets are at most that many x wrk."""
    tools = ("barrage", "wrk")
    rps = {t: [r.rps if r.ok else None for r in runs[t]] for t in tools}
    r_rps = ratio(med(rps["barrage"]), med(rps["wrk"]))
    return [
        (f"{title}requests/s", spread(rps["barrage"], ",.0f"), spread(rps["wrk"], ",.0f"),
         fmt(r_rps, ".2f"), ">= 1.0x wrk", verdict(None if r_rps is None else r_rps >= 1.0)),
        ratio_row(f"{title}client CPU s per 1M requests (wait4)",
                  {t: [r.cpu_per_mreq for r in runs[t]] for t in tools}, cpu_target),
        ratio_row(f"{title}user-space CPU s per 1M requests (perf)",
                  {t: [r.user_per_mreq for r in runs[t]] for t in tools}, user_target,
                  skipped=bool(args.perf_note)),
    ]


def run_notes(label, runs):
    """Per-pair ratio and the CPU split, for the notes under the tables."""
    notes = []
    pairs = [b.rps / w.rps for b, w in zip(runs["barrage"], runs["wrk"]) if b.ok and w.ok]
    if pairs:
        notes.append(f"{label}paired requests/s ratio (run i of barrage / run i of wrk): median {med(pairs):.2f} "
                     f"[{min(pairs):.2f}..{max(pairs):.2f}]")
    for t in ("barrage", "wrk"):
        sp = [r.perf_per_mreq for r in runs[t] if r.perf_per_mreq]
        if sp:
            pw = [r.perf_vs_wait4 for r in runs[t] if r.perf_vs_wait4]
            share = [r.perf.user_ns / (r.perf.user_ns + r.perf.kernel_ns) for r in runs[t] if r.perf_per_mreq]
            notes.append(f"{label}{t} CPU s per 1M requests from perf samples: user {med([u for u, _ in sp]):.2f} + "
                         f"kernel {med([k for _, k in sp]):.2f} (medians of {len(sp)} runs; user share of the "
                         f"samples {100 * med(share):.1f}%); perf total / wait4 total {spread(pw, '.2f')}")
        sp = [r.split_per_mreq for r in runs[t] if r.split_per_mreq]
        if sp:
            notes.append(f"{label}{t} CPU s per 1M requests split by rusage (tick-based): user "
                         f"{med([u for u, _ in sp]):.2f} + sys {med([k for _, k in sp]):.2f} (medians)")
        bad = [r.perf_error for r in runs[t] if r.perf_error]
        if bad:
            notes.append(f"{label}{t}: perf failed in {len(bad)} of {len(runs[t])} runs: {bad[0]}")
    return notes


def top_symbols(runs, n=10):
    """Lines: the n symbols with the most user-mode samples of each tool,
    summed over its runs."""
    lines = []
    for t in ("barrage", "wrk"):
        rs = [r for r in runs[t] if r.ok and r.perf]
        if not rs:
            continue
        syms = {}
        for r in rs:
            for k, ns in r.perf.syms.items():
                syms[k] = syms.get(k, 0) + ns
        user_ns, reqs = sum(r.perf.user_ns for r in rs), sum(r.requests for r in rs)
        samples = sum(r.perf.samples for r in rs)
        lines.append(f"{t}: top {n} user-space symbols (perf samples of {len(rs)} runs: {samples:,} samples, "
                     f"user {user_ns / reqs * 1e-3:.3f} s per 1M requests)")
        lines.append(f"  {'share':>6} {'s/Mreq':>7}  symbol (object)")
        for (sym, dso), ns in sorted(syms.items(), key=lambda kv: -kv[1])[:n]:
            lines.append(f"  {100 * ns / user_ns:5.1f}% {ns / reqs * 1e-3:7.3f}  {sym} ({dso})")
    return lines


CORE_CPU_TARGET = 0.9   # issue 16: total client CPU per request (wait4) at most 0.9x wrk's
CORE_USER_TARGET = 0.6  # issue 16: user-space CPU per request (perf samples) at most 0.6x wrk's


def core_suite(args, target, url, all_runs):
    log(f"== core: throughput, {args.runs} x {args.duration}s per tool, alternating")
    runs = timed_runs(args, target, url, {"barrage": None, "wrk": None})
    all_runs.extend(runs["barrage"] + runs["wrk"])

    log("")
    log(f"== core: syscalls, strace -c -f on a {args.strace_duration}s run per tool")
    strace = {t: strace_run(args, url, t) for t in ("barrage", "wrk")}

    log("")
    how = "ru_maxrss via GNU time %M" if GNU_TIME else "VmHWM sampled (no /usr/bin/time)"
    log(f"== core: memory, -t1 -c{args.rss_connections} -d{args.rss_duration}s per tool, {how}")
    rss = {}
    for t in ("barrage", "wrk"):
        cmd = client_cmd(args, t, url, args.rss_connections, args.rss_duration)
        log("  " + show(pinned(timed(cmd, "FILE"))))
        r = run_client(t, cmd, args.rss_duration, established_sampler(target.port, args.rss_duration))
        rss[t] = r
        hwm = r.extra.get("vmhwm_kib")
        log(f"  {t:<8} {r.describe()}  established (max sampled) {r.extra.get('established', 0)}"
            f"  VmHWM (sampled) {fmt(hwm / 1024 if hwm else None, '.1f')} MB")
        time.sleep(0.5)  # let the closed connections drain out of nginx
    log("")

    mem = {t: rss[t].maxrss_mb if rss[t].ok else None for t in rss}
    est = {t: rss[t].extra.get("established", 0) for t in rss}
    r_sys, r_mem = ratio(strace["barrage"], strace["wrk"]), ratio(mem["barrage"], mem["wrk"])
    want_est = int(args.rss_connections * 0.99)
    rows = rps_cpu_rows(args, "", runs, cpu_target=CORE_CPU_TARGET, user_target=CORE_USER_TARGET) + [
        ("syscalls per request", fmt(strace["barrage"], ".2f"), fmt(strace["wrk"], ".2f"),
         fmt(r_sys, ".2f"), "<= 2.5", verdict(None if strace["barrage"] is None else strace["barrage"] <= 2.5)),
        (f"peak RSS MB at {args.rss_connections:,} conns", fmt(mem["barrage"], ".1f"), fmt(mem["wrk"], ".1f"),
         fmt(r_mem, ".2f"), "<= 0.5x wrk", verdict(None if r_mem is None else r_mem <= 0.5)),
        ("  connections established", f"{est['barrage']:,}", f"{est['wrk']:,}", "",
         f">= {want_est:,} each", verdict(min(est.values()) >= want_est)),
    ]
    return rows, run_notes("", runs) + top_symbols(runs)


def script_suite(args, target, url, all_runs):
    wire = wire_check(args)
    rows = [("scripts on the wire (recording server)",
             "ok" if not wire["barrage"] else "FAIL: " + "; ".join(wire["barrage"]),
             "ok" if not wire["wrk"] else "FAIL: " + "; ".join(wire["wrk"]),
             "", "paths/order as scripted", "PASS" if not (wire["barrage"] or wire["wrk"]) else "FAIL")]
    notes = []
    for case in CASES:
        if args.cases and case.key not in args.cases:
            continue
        names = {t: os.path.basename(case.scripts[t]) for t in case.scripts}
        log(f"== script: {case.title} (barrage -s {names['barrage']}, wrk -s {names['wrk']}), "
            f"{args.runs} x {args.duration}s per tool, alternating")
        runs = timed_runs(args, target, url, case.scripts, case.check)
        all_runs.extend(runs["barrage"] + runs["wrk"])
        rows += rps_cpu_rows(args, f"{case.title}: ", runs, case.cpu_target)
        if case.strace:
            log(f"  syscalls: strace -c -f on a {args.strace_duration}s run per tool")
            st = {t: strace_run(args, url, t, case.scripts[t]) for t in ("barrage", "wrk")}
            rows.append((f"{case.title}: syscalls per request", fmt(st["barrage"], ".2f"), fmt(st["wrk"], ".2f"),
                         fmt(ratio(st["barrage"], st["wrk"]), ".2f"), "-", "info"))
        bad = {t: [r for r in runs[t] if r.problem] for t in runs}
        rows.append((f"{case.title}: checks (2xx only, hooks ran)",
                     *(f"ok {len(runs[t])}/{len(runs[t])}" if not bad[t] else
                       f"FAIL {len(bad[t])}/{len(runs[t])}: {bad[t][0].problem}" for t in ("barrage", "wrk")),
                     "", "every run", "PASS" if not (bad["barrage"] or bad["wrk"]) else "FAIL"))
        notes += run_notes(f"{case.title}: ", runs)
        log("")
    return rows, notes


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
    log(f"  settings: suite={args.suite} runs={args.runs} duration={args.duration}s strace={args.strace_duration}s "
        f"rss={args.rss_connections} conns x {args.rss_duration}s, RLIMIT_NOFILE={nofile[0]}, "
        f"repeat a pair above {args.max_foreign:g}% foreign load (up to {args.repeats} repeats)")
    args.perf_note = perf_probe(args)
    if args.perf_note:
        log(f"  perf:     NOT USED, the user-space CPU rows are skipped: {args.perf_note}")
    else:
        log(f"  perf:     {sh_output([PERF, '--version'])}: cpu-clock samples at {args.perf_freq} Hz on CPU "
            f"{CLIENT_CPU} around each timed run (user-space CPU per request)")
    log(f"  loadavg at start: {loadavg()}")

    results = []  # (suite, rows, notes)
    all_runs = []
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
        if "core" in args.suites:
            results.append(("core (static GET /health)", *core_suite(args, target, url, all_runs)))
        if "script" in args.suites:
            results.append(("script (Lua hooks, tests/bench/lua)", *script_suite(args, target, url, all_runs)))
    finally:
        target_cm.__exit__(None, None, None)

    # ------------------------------------------------------------ report
    log(f"== results (requests/s and CPU: median [min..max] of {args.runs} runs x {args.duration}s per tool; "
        f"wall {time.monotonic() - t_start:.0f}s, loadavg at end {loadavg()})")
    misses = []
    for name, rows, notes in results:
        log("")
        log(f"{name}:")
        log(table(rows))
        log("")
        for n in notes:
            log(n)
        misses += [r[0].strip() for r in rows if r[5] not in ("PASS", "info", "skipped")]
    others = [v / r.wall for r in all_runs for v in r.extra.get("others", {}).values()]
    if others:
        log(f"foreign load on the two benchmark CPUs during the kept runs: median {100 * med(others):.0f}%, "
            f"max {100 * max(others):.0f}% (high values make requests/s unreliable)")
    log(f"pairs run again for foreign load > {args.max_foreign:g}%: {args.repeated} (of {args.repeats} allowed); "
        f"noisy pairs kept: {args.noisy_kept}")
    log("")
    if args.perf_note:
        log(f"user-space CPU (perf) not measured: {args.perf_note}")
    log("all targets met" if not misses else "MISS: " + "; ".join(misses))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
