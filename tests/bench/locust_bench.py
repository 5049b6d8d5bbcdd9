#!/usr/bin/env python3
"""Weighted tasks: barrage vs Locust 2.12 (stdlib only, 127.0.0.1 only).

    make && python3 tests/bench/locust_bench.py
    BENCH_RUNS=5 BENCH_DURATION=10 python3 tests/bench/locust_bench.py

The same workload for every client: one user class, two tasks 3:1 (GET /items,
GET /), no think time, 50 users, one process / one thread:

  barrage       taskset -c 1 barrage -t1 -c50 -dNs -s tests/bench/lua/weighted.lua URL/
  locust-http   taskset -c 1 /usr/bin/locust -f tests/bench/locust/weighted.py --headless
                  -u 50 -r 50 -t Ns -H URL WeightedHttp      (HttpUser: requests)
  locust-fast   ... WeightedFast                            (FastHttpUser: geventhttpclient)

against one `barrage serve` (1 thread) pinned to CPU 0; every client pinned to
CPU 1. BENCH_RUNS rounds (default 3), each round runs the three clients in turn
(alternating). Per client: requests/s (barrage: its JSON summary.rps; Locust:
total requests / (last request - first request), its own Requests/s), client
CPU seconds (user+sys of the child from os.wait4) and requests per client
CPU-second; medians [min..max]. Checks every run: no failed request, and the
per-name counts (barrage: JSON `names`; Locust: its stats, written as JSON by
the locustfile's quitting hook) follow 3:1 within 3%. Then the ratios
barrage / Locust. Exits 0 even when a check fails (a benchmark), 2 when it
cannot run.

Settings: BARRAGE (./barrage), LOCUST (/usr/bin/locust), BENCH_RUNS (3),
BENCH_DURATION (10 s), BENCH_USERS (50).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (pinning, reaping, the serve target, figures)

ROOT = bench.ROOT
LUA = os.path.join(HERE, "lua", "weighted.lua")
LOCUSTFILE = os.path.join(HERE, "locust", "weighted.py")
WEIGHTS = {"/items": 3, "/": 1}
TOLERANCE = 0.03
CLIENTS = ("barrage", "locust-http", "locust-fast")
LOCUST_CLASS = {"locust-http": "WeightedHttp", "locust-fast": "WeightedFast"}


def env_int(name, default):
    return bench.env_int(name, default)


class Result:
    def __init__(self, client, rc, ru, wall, requests, rps, failures, names, err):
        self.client, self.rc, self.wall = client, rc, wall
        self.cpu = ru.ru_utime + ru.ru_stime
        self.requests, self.rps, self.failures, self.names = requests, rps, failures, names
        self.err = err
        self.per_cpu = requests / self.cpu if requests and self.cpu else None
        self.extra = {}

    def problem(self):
        if self.rc != 0 or not self.requests:
            return f"rc {self.rc}, {self.requests} requests: {self.err.strip()[-300:]!r}"
        if self.failures:
            return f"{self.failures} failed requests"
        a, b = self.names.get("/items", 0), self.names.get("/", 0)
        if set(self.names) != set(WEIGHTS) or not b:
            return f"names {self.names}"
        if abs(a / b / 3.0 - 1.0) > TOLERANCE:
            return f"/items:/ = {a / b:.3f}, not 3 within {100 * TOLERANCE:g}%"
        return None

    def describe(self):
        s = f"{self.requests or 0:>8} req {bench.fmt(self.rps, '>9,.0f')} req/s  cpu {self.cpu:5.2f}s " \
            f"({100 * self.cpu / self.wall:3.0f}% of {self.wall:4.1f}s)  {bench.fmt(self.per_cpu, '>9,.0f')} req/cpu-s"
        a, b = self.names.get("/items", 0), self.names.get("/", 0)
        s += f"  /items {a} / {b} = {a / b if b else 0:.3f}"
        if "server_cpu" in self.extra:
            s += f"  server cpu {100 * self.extra['server_cpu'] / self.wall:3.0f}%"
        if "others" in self.extra:
            s += f"  others cpu0 {100 * self.extra['others'][0] / self.wall:2.0f}% " \
                 f"cpu1 {100 * self.extra['others'][1] / self.wall:2.0f}%"
        p = self.problem()
        return s + (f"  CHECK FAILED: {p}" if p else "")


def command(args, client, url, out):
    if client == "barrage":
        return [args.barrage, "-t1", f"-c{args.users}", f"-d{args.duration}s", "-s", LUA, "--json", out, url + "/"]
    return [args.locust, "-f", LOCUSTFILE, "--headless", "-u", str(args.users), "-r", str(args.users),
            "-t", f"{args.duration}s", "-H", url, "--only-summary", "--loglevel", "WARNING",
            LOCUST_CLASS[client]]


def run_one(args, client, url, target_pid):
    fd, out = tempfile.mkstemp(prefix="locust-bench-", suffix=".json")
    os.close(fd)
    os.unlink(out)  # the client writes it; absent means it did not
    cmd = bench.pinned(command(args, client, url, out))
    env = dict(os.environ, BENCH_LOCUST_JSON=out)
    s0, b0 = bench.proc_cpu_seconds(target_pid), bench.cpu_busy_seconds()
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                             cwd=tempfile.gettempdir(), env=env)
        status, ru = bench.reap(p, args.duration + 30)
        wall = time.monotonic() - t0
        err.seek(0)
        errtext = err.read()
    server = bench.proc_cpu_seconds(target_pid) - s0
    b1 = bench.cpu_busy_seconds()
    requests = rps = failures = None
    names = {}
    try:
        with open(out) as f:
            doc = json.load(f)
        if client == "barrage":
            s = doc["summary"]
            requests, rps, failures = s["requests"], s["rps"], s["failed"]
            names = {n["name"]: n["requests"] for n in doc["names"]}
        else:
            requests, failures = doc["requests"], doc["failures"]
            span = (doc["last_request_timestamp"] or 0) - (doc["start_time"] or 0)
            rps = requests / span if span > 0 else None
            names = {k: v["requests"] for k, v in doc["names"].items()}
    except (OSError, ValueError, KeyError, TypeError) as e:
        errtext += f"\n(no result: {e})"
    finally:
        if os.path.exists(out):
            os.unlink(out)
    r = Result(client, os.waitstatus_to_exitcode(status), ru, wall, requests, rps, failures, names, errtext)
    r.extra["server_cpu"] = server
    if 0 in b1 and 1 in b1:
        r.extra["others"] = {0: max(0.0, b1[0] - b0[0] - server), 1: max(0.0, b1[1] - b0[1] - r.cpu)}
    return r


def main():
    args = type("Args", (), {})()
    args.barrage = os.path.abspath(os.environ.get("BARRAGE") or os.path.join(ROOT, "barrage"))
    args.locust = os.environ.get("LOCUST") or "/usr/bin/locust"
    args.runs = env_int("BENCH_RUNS", 3)
    args.duration = env_int("BENCH_DURATION", 10)
    args.users = env_int("BENCH_USERS", 50)
    for what, path in (("barrage", args.barrage), ("locust", args.locust)):
        if not os.access(path, os.X_OK):
            print(f"locust_bench: {what} not found at {path} (build with `make`, or set BARRAGE=/LOCUST=)")
            return 2
    if not shutil.which("taskset") or not {0, 1} <= os.sched_getaffinity(0):
        print("locust_bench: needs taskset and CPUs 0 and 1")
        return 2
    bv = bench.sh_output([args.barrage, "--version"]).splitlines()
    lv = bench.sh_output([args.locust, "--version"]).splitlines()
    bench.log("weighted tasks: barrage vs Locust")
    bench.log(f"  date:     {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    bench.log(f"  barrage:  {args.barrage} ({bv[0] if bv else '?'}); locust: {args.locust} ({lv[0] if lv else '?'})")
    bench.log(f"  settings: runs={args.runs} duration={args.duration}s users={args.users}; "
              "target barrage serve (1 thread) on CPU 0, clients on CPU 1")
    bench.log(f"  loadavg at start: {bench.loadavg()}")
    runs = {c: [] for c in CLIENTS}
    with bench.ServeTarget(args.barrage) as target:
        url = target.url
        for c in CLIENTS:
            bench.log("  " + bench.show(bench.pinned(command(args, c, url, "FILE"))))
        for i in range(1, args.runs + 1):
            for c in CLIENTS:
                r = run_one(args, c, url, target.serve.proc.pid)
                runs[c].append(r)
                bench.log(f"  run {i} {c:<11} {r.describe()}")
    bench.log("")
    bench.log(f"== results: median [min..max] of {args.runs} runs x {args.duration}s (loadavg at end {bench.loadavg()})")
    head = ("client", "requests/s", "client CPU s", "requests per CPU-s", "3:1 and no failures")
    rows = [head]
    for c in CLIENTS:
        bad = [r.problem() for r in runs[c] if r.problem()]
        rows.append((c, bench.spread([r.rps for r in runs[c]], ",.0f"),
                     bench.spread([r.cpu for r in runs[c]], ".2f"),
                     bench.spread([r.per_cpu for r in runs[c]], ",.0f"),
                     f"ok {len(runs[c])}/{len(runs[c])}" if not bad else f"FAIL {len(bad)}: {bad[0]}"))
    w = [max(len(r[i]) for r in rows) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(x.ljust(w[i]) for i, x in enumerate(r)) + " |"
    bench.log(line(rows[0]))
    bench.log("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows[1:]:
        bench.log(line(r))
    bench.log("")
    b_rps, b_eff = bench.med([r.rps for r in runs["barrage"]]), bench.med([r.per_cpu for r in runs["barrage"]])
    for c in CLIENTS[1:]:
        l_rps, l_eff = bench.med([r.rps for r in runs[c]]), bench.med([r.per_cpu for r in runs[c]])
        bench.log(f"barrage / {c}: requests/s {bench.fmt(bench.ratio(b_rps, l_rps), '.1f')}x, "
                  f"requests per client CPU-second {bench.fmt(bench.ratio(b_eff, l_eff), '.1f')}x")
    others = [v / r.wall for c in CLIENTS for r in runs[c] for v in r.extra.get("others", {}).values()]
    if others:
        bench.log(f"foreign load on the two CPUs: median {100 * bench.med(others):.0f}%, max {100 * max(others):.0f}%")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
