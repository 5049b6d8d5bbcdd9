#!/usr/bin/env python3
"""Cost of the live options (issue 14), stdlib only, 127.0.0.1 only.

    make && python3 tests/bench/live_bench.py
    BENCH_RUNS=9 BENCH_DURATION=5 python3 tests/bench/live_bench.py

bench.py's core benchmark (static GET /health, nginx with one worker pinned to
CPU 0, `taskset -c 1 barrage -t1 -c50 -dNs`), run plain and with the live
options, alternating (plain, live, plain, live, ...):

  plain  barrage -t1 -c50 -dNs URL/health
  live   barrage -t1 -c50 -dNs --web 127.0.0.1:0 --metrics 127.0.0.1:0
                 --monitor-pid <nginx master> --monitor-pid <nginx worker> URL/health

Nothing scrapes /metrics or opens the page: this is the cost of having them on
(the once-a-second snapshot, /proc sampling, the listeners). Per run: requests/s
(the report's), client CPU (user+sys, os.wait4 through GNU time as bench.py)
per request. A pair (plain, live) in which either CPU had more than
BENCH_MAX_FOREIGN % foreign load is run again (up to BENCH_REPEATS times).
Medians [min..max], the ratio live/plain of the medians and the median of the
per-pair ratios; the target is "under 2% more CPU per request" (ratio < 1.02).
The live options' work is per second, and the saturating runs' spread
(+-10%) hides 2%; so a second part measures it directly: -R200 -c2 runs,
plain vs live alternating, client CPU ms per second; the difference over the
saturating requests/s is their cost per request there (also against < 2%).

Settings: BARRAGE (./barrage), BENCH_RUNS (7), BENCH_DURATION (5 s),
BENCH_MAX_FOREIGN (10 %), BENCH_REPEATS (6).
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

ROOT = bench.ROOT
MODES = ("plain", "live")
TARGET = 1.02
IDLE_RATE = 200  # requests/s of the per-second cost runs


def command(args, mode, url, pids):
    cmd = [args.barrage, "-t1", f"-c{bench.CONNECTIONS}", f"-d{args.duration}s"]
    if mode == "live":
        cmd += ["--web", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]
        for p in pids:
            cmd += ["--monitor-pid", str(p)]
    return cmd + [url + bench.PATH]


def one(args, mode, url, target):
    pids = bench.proc_tree(target.proc.pid)
    s0, b0 = bench.proc_cpu_seconds(target.proc.pid), bench.cpu_busy_seconds()
    r = bench.run_client("barrage", command(args, mode, url, pids), args.duration)
    r.extra["server_cpu"] = bench.proc_cpu_seconds(target.proc.pid) - s0
    b1 = bench.cpu_busy_seconds()
    if r.cpu is not None and 0 in b1 and 1 in b1:
        r.extra["others"] = {0: max(0.0, b1[0] - b0[0] - r.extra["server_cpu"]),
                             1: max(0.0, b1[1] - b0[1] - r.cpu)}
    if mode == "live" and r.ok and "metrics on http://127.0.0.1:" not in r.err:
        r.problem = "no `metrics on` line on stderr: --metrics did not start"
    if r.ok and (r.errors or r.non2xx):
        r.problem = f"errors {r.errors} non2xx {r.non2xx}"
    return r


def main():
    args = type("Args", (), {})()
    args.barrage = os.path.abspath(os.environ.get("BARRAGE") or os.path.join(ROOT, "barrage"))
    args.runs = bench.env_int("BENCH_RUNS", 7)
    args.duration = bench.env_int("BENCH_DURATION", 5)
    args.max_foreign = float(os.environ.get("BENCH_MAX_FOREIGN") or 10)
    repeats_left = bench.env_int("BENCH_REPEATS", 6)
    if not os.access(args.barrage, os.X_OK):
        print(f"live_bench: barrage not found at {args.barrage} (build with `make`, or set BARRAGE=)")
        return 2
    bench.raise_nofile()
    bv = bench.sh_output([args.barrage, "--version"]).splitlines()
    bench.log("live options' cost: barrage plain vs --web --metrics --monitor-pid")
    bench.log(f"  date:     {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    bench.log(f"  barrage:  {args.barrage} ({bv[0] if bv else '?'})")
    bench.log(f"  settings: runs={args.runs} duration={args.duration}s; nginx (1 worker) on CPU 0, client on CPU 1")
    bench.log(f"  loadavg at start: {bench.loadavg()}")
    runs = {m: [] for m in MODES}
    repeated = noisy = 0
    with bench.harness.Nginx(access_log=False, cpu=bench.SERVER_CPU) as target:
        url = target.url
        pids = bench.proc_tree(target.proc.pid)
        for m in MODES:
            bench.log("  " + bench.show(bench.pinned(bench.timed(command(args, m, url, pids), "FILE"))))
        i = 0
        while len(runs["live"]) < args.runs:
            i += 1
            pair = {m: one(args, m, url, target) for m in MODES}
            for m in MODES:
                bench.log(f"  run {i} {m:<5} {pair[m].describe()}")
            worst = max((v / r.wall for r in pair.values() for v in r.extra.get("others", {}).values()),
                        default=0.0)
            if worst > args.max_foreign / 100.0:
                if repeats_left > 0:
                    repeats_left -= 1
                    repeated += 1
                    bench.log(f"  (pair {i} dropped: foreign load {100 * worst:.0f}%; {repeats_left} repeats left)")
                    continue
                noisy += 1
            for m in MODES:
                runs[m].append(pair[m])
    bench.log("")
    bench.log(f"== results: median [min..max] of {args.runs} runs x {args.duration}s each "
              f"(loadavg at end {bench.loadavg()}; pairs run again {repeated}, noisy pairs kept {noisy})")
    rps = {m: [r.rps if r.ok else None for r in runs[m]] for m in MODES}
    cpu = {m: [r.cpu_per_mreq for r in runs[m]] for m in MODES}
    r_cpu = bench.ratio(bench.med(cpu["live"]), bench.med(cpu["plain"]))
    r_rps = bench.ratio(bench.med(rps["live"]), bench.med(rps["plain"]))
    pair_cpu = [lv.cpu_per_mreq / pl.cpu_per_mreq for pl, lv in zip(runs["plain"], runs["live"])
                if pl.cpu_per_mreq and lv.cpu_per_mreq]
    pair_rps = [lv.rps / pl.rps for pl, lv in zip(runs["plain"], runs["live"]) if pl.ok and lv.ok]
    bad = [r.problem or "run failed" for m in MODES for r in runs[m] if r.problem or not r.ok]
    rows = [("metric", "plain", "live", "ratio live/plain", "target", "result"),
            ("client CPU s per 1M requests (wait4)", bench.spread(cpu["plain"], ".2f"), bench.spread(cpu["live"], ".2f"),
             bench.fmt(r_cpu, ".3f"), f"< {TARGET}", bench.verdict(None if r_cpu is None else r_cpu < TARGET)),
            ("requests/s", bench.spread(rps["plain"], ",.0f"), bench.spread(rps["live"], ",.0f"),
             bench.fmt(r_rps, ".3f"), "-", "info"),
            ("checks (2xx only, metrics started)", "", "", "", "every run", "FAIL: " + bad[0] if bad else "PASS")]
    bench.log(_table(rows))
    bench.log("")
    if pair_cpu:
        bench.log(f"paired CPU per request ratio (live run i / plain run i): median {bench.med(pair_cpu):.3f} "
                  f"[{min(pair_cpu):.3f}..{max(pair_cpu):.3f}]")
    if pair_rps:
        bench.log(f"paired requests/s ratio: median {bench.med(pair_rps):.3f} [{min(pair_rps):.3f}..{max(pair_rps):.3f}]")
    others = [v / r.wall for m in MODES for r in runs[m] for v in r.extra.get("others", {}).values()]
    if others:
        bench.log(f"foreign load on the two CPUs: median {100 * bench.med(others):.0f}%, max {100 * max(others):.0f}%")
    idle_cost(args, bench.med(rps["plain"]), bench.med(cpu["plain"]))
    return 0


def idle_cost(args, rps_plain, cpu_plain):
    """The live options' work is per second, not per request: measure it
    where it is not drowned by the run-to-run spread of a saturating run, at
    a low constant rate (-R IDLE_RATE -c2), plain vs live alternating; the
    CPU per second they add, over the saturating run's requests/s, is their
    cost per request there."""
    bench.log("")
    bench.log(f"== per-second cost: -R{IDLE_RATE} -c2 -d{args.duration}s, plain vs live, {args.runs} runs each")
    cps = {m: [] for m in MODES}
    with bench.harness.Nginx(access_log=False, cpu=bench.SERVER_CPU) as target:
        pids = bench.proc_tree(target.proc.pid)
        for i in range(args.runs):
            for m in MODES:
                cmd = command(args, m, target.url, pids)
                cmd[1:3] = ["-t1", "-c2", f"-R{IDLE_RATE}"]
                r = bench.run_client("barrage", cmd, args.duration)
                cps[m].append(r.cpu / args.duration * 1e3 if r.ok else None)
                bench.log(f"  run {i + 1} {m:<5} {r.describe()}")
    bench.log(f"  (command: {bench.show(bench.pinned(cmd))})")
    pl, lv = bench.med(cps["plain"]), bench.med(cps["live"])
    bench.log(f"client CPU ms per second: plain {bench.spread(cps['plain'], '.2f')}, live {bench.spread(cps['live'], '.2f')}")
    if pl is not None and lv is not None and rps_plain and cpu_plain:
        extra = (lv - pl) * 1e-3 / rps_plain * 1e6  # s per 1M requests at the saturating rate
        bench.log(f"live adds {lv - pl:.2f} ms of CPU per second; at {rps_plain:,.0f} req/s that is "
                  f"{extra:.4f} s per 1M requests = {100 * extra / cpu_plain:.2f}% of the plain "
                  f"{cpu_plain:.2f} s per 1M requests (target < {100 * (TARGET - 1):.0f}%: "
                  f"{'PASS' if extra / cpu_plain < TARGET - 1 else 'MISS'})")


def _table(rows):
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    line = lambda r: "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |"
    return "\n".join([line(rows[0]), "|" + "|".join("-" * (x + 2) for x in w) + "|"] + [line(r) for r in rows[1:]])


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
