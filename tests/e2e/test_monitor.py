"""--monitor-pid / --monitor-cmd (the target's CPU, RSS, fds and threads from
/proc, once a second) and the client's own load (per-thread busy %, the
client-bottleneck warning), against processes whose behaviour the test
sets: a Python helper that burns a known share of a core, allocates memory
at a known rate and holds a known number of fds and threads, beside
`barrage serve` (the HTTP target)."""
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import schema
from harness import BARRAGE, ROOT, Nginx, Serve, barrage, check, eq
from test_progress import run_on_tty

SCHEMA = json.load(open(os.path.join(ROOT, "src", "result", "result.schema.json")))

# The helper: NAME FDS THREADS MIB_PER_S CPU_SHARE EXIT_AFTER_S. It names
# itself (comm), opens FDS extra fds and THREADS idle threads, prints
# "ready fds=N threads=M", then every 100 ms burns CPU up to CPU_SHARE of
# the elapsed time and allocates (touching every page) up to MIB_PER_S times
# the elapsed time, printing "t MONO CPU" (its own clock and CPU time).
HELPER = r'''
import os, sys, threading, time
name, nfds, nthreads, mib_s, share, exit_after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
with open("/proc/self/comm", "w") as f:
    f.write(name)
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(nfds)]
stop = threading.Event()
for _ in range(nthreads):
    threading.Thread(target=stop.wait, daemon=True).start()
time.sleep(0.05)
nfd = len(os.listdir("/proc/self/fd")) - 1  # listdir's own fd is listed too
threads = None
for line in open("/proc/self/status"):
    if line.startswith("Threads:"):
        threads = int(line.split()[1])
print(f"ready fds={nfd} threads={threads}", flush=True)
hold, held = [], 0
t0, c0 = time.monotonic(), time.process_time()
last_log = 0
while True:
    now = time.monotonic()
    el = now - t0
    if exit_after and el >= exit_after:
        os._exit(0)
    while held < mib_s * el:
        hold.append(bytearray(b"\x01") * (1 << 20))
        held += 1
    period_end = now + 0.1
    while time.process_time() - c0 < share * (time.monotonic() - t0) and time.monotonic() < period_end:
        pass
    if now - last_log >= 0.25:
        print(f"t {time.monotonic():.4f} {time.process_time():.4f}", flush=True)
        last_log = now
    left = period_end - time.monotonic()
    if left > 0:
        time.sleep(left)
'''


class Helper:
    def __init__(self, name, fds=0, threads=0, mib_s=0.0, share=0.0, exit_after=0.0):
        self.args = [name, fds, threads, mib_s, share, exit_after]

    def __enter__(self):
        self.file = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
        self.file.write(HELPER)
        self.file.close()
        self.proc = subprocess.Popen([sys.executable, self.file.name] + [str(a) for a in self.args],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"ready fds=(\d+) threads=(\d+)", line)
        check(m, f"helper did not start: {line!r}")
        self.fds, self.threads = int(m.group(1)), int(m.group(2))
        self.pid = self.proc.pid
        return self

    def log(self):
        """Stop the helper; its (monotonic, cpu seconds) lines."""
        if self.proc.poll() is None:
            self.proc.kill()
        out, _ = self.proc.communicate(timeout=5)
        return [(float(a), float(b)) for a, b in re.findall(r"^t (\S+) (\S+)$", out, re.M)]

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        os.unlink(self.file.name)


@contextlib.contextmanager
def leak_window(seconds):
    """The test-only override of the leak rule's 60 s window."""
    os.environ["BARRAGE_TEST_LEAK_WINDOW_S"] = str(seconds)
    try:
        yield
    finally:
        del os.environ["BARRAGE_TEST_LEAK_WINDOW_S"]


def cpu_share(log, t0, t1):
    """The helper's own CPU % over [t0, t1] (monotonic), from its log."""
    inside = [(t, c) for t, c in log if t0 <= t <= t1]
    check(len(inside) >= 2, f"helper log covers the run: {log}")
    (ta, ca), (tb, cb) = inside[0], inside[-1]
    return 100.0 * (cb - ca) / (tb - ta)


def one_target(r):
    eq(r.rc, 0, f"{r}")
    eq(schema.errors(r.json, SCHEMA), [], "schema violations")
    eq(len(r.json["target"]), 1, "one target")
    return r.json["target"][0]


def test_samples_cpu_rss_fds_threads_and_leak_warning():
    """A process burning half a core and growing 10 MiB/s, holding 25 extra
    fds and 3 extra threads: every sample's fds and threads exact, the mean
    CPU within 12 points of the helper's own measure, the RSS slope within
    25% of 10 MiB/s, the leak warning (3 s window), and the HTML chart."""
    with Serve() as s, Helper("bgt-grow", fds=25, threads=3, mib_s=10, share=0.5) as h, leak_window(2), \
            tempfile.TemporaryDirectory() as tmp:
        html = os.path.join(tmp, "r.html")
        t0 = time.monotonic()
        r = barrage("-t", "1", "-c", "2", "-d", "3s", "-R", "200", "--monitor-pid", h.pid, "--html", html, s.url)
        t1 = time.monotonic()
        log = h.log()
        page = open(html).read()
    t = one_target(r)
    eq((t["pid"], t["cmd"], t["label"], t["exited_s"]), (h.pid, None, f"pid {h.pid}", None), "identity")
    samples = t["samples"]
    check(4 <= len(samples) <= 5, f"one sample a second over 3 s: {samples}")
    # once a second on the main thread: never two at once, never a gap of two seconds (a loaded
    # machine may delay one by a few hundred ms; the next keeps to the schedule)
    check(samples[0]["t"] < 0.3 and all(0.3 < b["t"] - a["t"] < 2 for a, b in zip(samples, samples[1:])),
          f"a second apart: {samples}")
    eq({x["fds"] for x in samples}, {h.fds}, "open fds, every sample")
    check(h.fds >= 28, f"the helper holds its 25 extra fds: {h.fds}")
    eq({x["threads"] for x in samples}, {h.threads}, "threads, every sample")
    eq(h.threads, 4, "the helper's main thread and 3 others")
    eq({x["procs"] for x in samples}, {1}, "one process")
    own = cpu_share(log, t0, t1)
    got = t["summary"]["cpu_pct"]["avg"]
    check(own > 20, f"the helper burned CPU: {own:.1f}%")
    print(f"    measured: cpu {got:.1f}% (own {own:.1f}%), rss slope {t['summary']['rss_growth_mib_per_h']:.0f} MiB/h")
    check(abs(got - own) <= 12, f"CPU {got:.1f}% vs the helper's own {own:.1f}%")
    slope = t["summary"]["rss_growth_mib_per_h"]
    check(abs(slope - 36000) <= 0.25 * 36000, f"RSS growth {slope:.0f} MiB/h, expected 10 MiB/s = 36000 MiB/h")
    eq(t["summary"]["samples"], len(samples), "summary counts the samples")
    eq(t["summary"]["rss_bytes"]["max"], max(x["rss_bytes"] for x in samples), "max RSS")
    eq((t["summary"]["leak_checked"], t["summary"]["leak"]), (True, True), "leak verdict")
    eq(t["leak_rule"]["min_s"], 2, "the override is recorded")
    check(re.search(rf"WARNING: pid {h.pid}'s RSS grew [\d.]+ MiB in \d+ s .*a memory leak\?", r.out), r.out)
    check(re.search(r"^\s+Open fds\s+%d\s+%d\s+%d$" % (h.fds, h.fds, h.fds), r.out, re.M), r.out)
    check(re.search(r"^\s+Threads\s+4\s+4\s+4$", r.out, re.M), r.out)
    m = re.search(r'<svg id="target-chart"[^>]* data-targets="1" data-samples="(\d+)"', page)
    check(m, "the HTML has the target chart")
    eq(int(m.group(1)), len(samples), "the chart plots every sample")
    check("target-cpu" in page and "target-rss" in page, "CPU and RSS lines drawn")
    m = re.search(r'<table id="target">.*?<tr class="bad"><td class="l name">pid %d</td><td>(\d+)</td>' % h.pid, page, re.S)
    check(m and int(m.group(1)) == len(samples), "the target's table row, flagged as a leak")
    check(re.search(r'<table id="client">.*id="client-verdict">The client was not the bottleneck\.', page, re.S),
          "the client threads' table and verdict (-R 200 kept its schedule)")


def test_flat_process_has_no_leak_warning():
    with Serve() as s, Helper("bgt-flat", share=0.1) as h, leak_window(2):
        r = barrage("-t", "1", "-c", "2", "-d", "3s", "-R", "200", "--monitor-pid", h.pid, s.url)
    t = one_target(r)
    eq((t["summary"]["leak_checked"], t["summary"]["leak"]), (True, False), "checked, and no leak")
    check(abs(t["summary"]["rss_growth_mib_per_h"]) < 1000, f"flat RSS: {t['summary']}")
    check("WARNING" not in r.out, r.out)


def test_leak_rule_needs_its_window():
    """Without the override a short run is too short to judge (60 s window)."""
    with Serve() as s, Helper("bgt-short", mib_s=10) as h:
        r = barrage("-t", "1", "-c", "2", "-d", "1s", "-R", "100", "--monitor-pid", h.pid, s.url)
    t = one_target(r)
    eq((t["summary"]["leak_checked"], t["summary"]["leak"], t["leak_rule"]["min_s"]), (False, False, 60), "unchecked")
    check(t["summary"]["rss_growth_mib_per_h"] > 10000, f"the growth is still reported: {t['summary']}")
    check("memory leak" not in r.out, r.out)


def test_target_that_exits_mid_run_is_reported_and_the_run_goes_on():
    """Also the live line: 'target cpu N% rss NM', then 'target exited'."""
    with Serve() as s, Helper("bgt-exit", exit_after=1.5) as h, tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.json")
        rc, out, tty = run_on_tty("-t", "1", "-c", "2", "-d", "3s", "-R", "200", "--monitor-pid", h.pid,
                                  "--json", path, s.url)
        d = json.load(open(path))
    eq(rc, 0, out + tty)
    eq(schema.errors(d, SCHEMA), [], "schema violations")
    m = re.search(r"Target pid %d exited at (\d+) s \(the run went on\)" % h.pid, out)
    check(m and 1 <= int(m.group(1)) <= 3, out)
    check(re.search(r"\[\ds/3s\].*, failed 0, target cpu \d+% rss \d+M", tty), f"live line: {tty!r}")
    check(", target exited" in tty, f"live line after the exit: {tty!r}")
    t = d["target"][0]
    check(t["exited_s"] is not None and 1.0 <= t["exited_s"] <= 3.0, f"exited_s: {t['exited_s']}")
    eq(int(m.group(1)), round(t["exited_s"]), "the report and the JSON agree")
    check(all(x["t"] < t["exited_s"] for x in t["samples"]) and len(t["samples"]) >= 2, f"samples until the exit: {t}")
    check(d["summary"]["requests"] > 300 and d["duration_s"] > 2.9, f"the run went on: {d['summary']}")


def test_monitor_cmd_sums_matching_processes_and_finds_new_ones():
    """--monitor-cmd: two processes named bgt-many at the start (2 and 3
    extra threads), a third (1 extra) started a second later: summed, and
    the newcomer counted once the rescan finds it. The names carry this
    process's id: the normal and the sanitizer suites run at the same time."""
    many, other = f"bgm{os.getpid()}", f"bgo{os.getpid()}"
    with Serve() as s, Helper(many, threads=2) as a, Helper(many, threads=3) as b, \
            Helper(other, threads=5):
        proc = subprocess.Popen([BARRAGE] + ["-t", "1", "-c", "2", "-d", "3s", "-R", "100",
                                                              "--monitor-cmd", many, "--json", "-", s.url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.3)
        with Helper(many, threads=1) as c:
            out, err = proc.communicate(timeout=20)
    eq(proc.returncode, 0, err)
    d = json.loads(out)
    eq(schema.errors(d, SCHEMA), [], "schema violations")
    t = d["target"][0]
    eq((t["label"], t["cmd"], t["pid"]), (many, many, None), "identity")
    procs = [x["procs"] for x in t["samples"]]
    threads = [x["threads"] for x in t["samples"]]
    eq(procs[0], 2, f"two processes at the start: {t['samples']}")
    eq(threads[0], a.threads + b.threads, "threads summed")
    eq(procs[-1], 3, f"the third found by the rescan: {t['samples']}")
    eq(threads[-1], a.threads + b.threads + c.threads, "its threads added")
    check(f"Target {many} (3 processes" in err, err)


def test_bad_targets_are_one_line_exit_2():
    with Serve() as s:
        cases = [
            (["--monitor-pid", "2147483000"], r"^barrage: --monitor-pid: no process 2147483000 is running"),
            (["--monitor-pid", "abc"], r"^barrage: --monitor-pid: 'abc' is not a process ID"),
            (["--monitor-pid", "0"], r"^barrage: --monitor-pid: '0' is not a process ID"),
            (["--monitor-pid", "-5"], r"^barrage: --monitor-pid: '-5' is not a process ID"),
            (["--monitor-cmd", "no-such-proc-x"], r"^barrage: --monitor-cmd: no running process is named 'no-such-proc-x'"),
            (["--monitor-cmd", "/usr/sbin/nginx"], r"^barrage: --monitor-cmd: '/usr/sbin/nginx' is not a process name"),
        ]
        for args, pat in cases:
            r = barrage("-d", "1s", *args, s.url)
            eq(r.rc, 2, f"{args}: {r}")
            check(re.search(pat, r.err) and r.err.count("\n") == 1, f"{args}: one line: {r.err!r}")
            check(r.json is None and "requests in" not in r.out, f"{args}: no run: {r}")


BURN = """
function response(status, headers, body)
  local x = 0
  for i = 1, 300000 do x = x + i % 7 end
end
"""


def test_client_bottleneck_warning_when_the_client_is_saturated():
    """A response() hook that costs ~1 ms of CPU: the one thread is the
    bottleneck (warning, JSON); at -R 20 the same script keeps its schedule
    with the thread mostly idle: no warning."""
    with Serve() as s, tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "burn.lua")
        with open(script, "w") as f:
            f.write(BURN)
        html = os.path.join(tmp, "hot.html")
        hot = barrage("-t", "1", "-c", "4", "-d", "3s", "-s", script, "--html", html, s.url)
        page = open(html).read()
        cold = barrage("-t", "1", "-c", "4", "-d", "3s", "-R", "20", "-s", script, s.url)
    for r in (hot, cold):
        eq(r.rc, 0, f"{r}")
        eq(schema.errors(r.json, SCHEMA), [], "schema violations")
    c = hot.json["client"]
    th = c["threads"][0]
    eq((c["bottleneck"], c["bottleneck_thread"]), (True, 0), f"saturated: {c}")
    check(th["busy_mean_pct"] >= 90 and th["busy_seconds"] >= 2, f"busy: {th}")
    # one value for each second the thread ran (3 s, and a partial one or two as it stops)
    check(3 <= len(th["series"]) <= 5 and None not in th["series"], f"one value a second: {th}")
    check(re.search(r"WARNING: the client was the bottleneck: thread 0 was >= 90% busy in \d+ of \d+ s "
                    r"\(mean \d+%, \d+% on a CPU\); use more threads \(-t\), another machine, or split the load "
                    r"with --shard", hot.out), hot.out)
    eq(hot.json["client"]["rate_reached"], False, "no -R")
    check(re.search(r'<tr class="bad"><td class="l">0</td>.*id="client-verdict">The client was the bottleneck', page, re.S),
          "the HTML flags the thread and says so")
    c = cold.json["client"]
    eq((c["bottleneck"], c["bottleneck_thread"], c["rate_reached"]), (False, None, True), f"paced: {c}")
    check(c["threads"][0]["cpu_mean_pct"] < 50, f"little CPU at 20/s: {c}")
    check("bottleneck" not in cold.out, cold.out)


def test_client_busy_against_nginx_flat_out_and_at_a_low_rate():
    """-t 1 flat out against nginx and at -R 100 (which keeps its schedule:
    never a bottleneck): the verdict follows the documented rule on the
    measured seconds, and the report says what the JSON says. (Whether flat
    out is a client bottleneck depends on the machine: on an idle one nginx
    outruns one client thread; on a loaded 2-core box nginx is the limit.)"""
    with Nginx(access_log=False) as n:
        flat = barrage("-t", "1", "-c", "20", "-d", "3s", n.url + "/index.html")
        low = barrage("-t", "1", "-c", "20", "-d", "3s", "-R", "100", n.url + "/index.html")
    f, l = flat.json["client"], low.json["client"]
    for c in (f, l):
        th = c["threads"][0]
        rule = th["seconds"] >= 3 and 2 * th["busy_seconds"] >= th["seconds"] and not c["rate_reached"]
        eq(c["bottleneck"], rule, f"the rule: {c}")
        eq(th["busy_seconds"], sum(1 for x in th["series"][:th["seconds"]] if x is not None and x >= 90),
           f"busy seconds are the series' seconds >= 90%: {th}")
    eq((l["rate_reached"], l["bottleneck"]), (True, False), f"-R 100 is no bottleneck: {l}")
    check("bottleneck" not in low.out, low.out)
    eq("client was the bottleneck" in flat.out, f["bottleneck"], "the report says what the JSON says")


def test_merge_drops_target_and_client_with_a_note():
    """barrage merge: one machine's processes and threads do not add up:
    both sections dropped, watch_note says so; the counts still merge."""
    with Serve() as s, tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, f"{i}.json") for i in range(2)]
        runs = [barrage("-t", "1", "-c", "2", "-d", "1s", "-R", "100", "--monitor-pid", s.proc.pid, "--json", p, s.url)
                for p in paths]
        m = subprocess.run([BARRAGE, "merge"] + paths, capture_output=True, text=True, timeout=20)
    eq(m.returncode, 0, m.stderr)
    d = json.loads(m.stdout)
    eq(schema.errors(d, SCHEMA), [], "schema violations")
    for r in runs:
        check("target" in r.json and "client" in r.json, "each input has both")
    check("target" not in d and "client" not in d, f"dropped: {sorted(d)}")
    check(re.match(r"the target and client sections of 2 results dropped", d["watch_note"]), d["watch_note"])
    eq(d["summary"]["requests"], sum(r.requests for r in runs), "requests merged")
