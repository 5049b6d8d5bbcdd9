#!/usr/bin/env python3
"""Soak: does barrage's memory stay flat over a long run at full speed?

Runs `barrage -t2 -c50 -d<SOAK_MINUTES x 60>s -q` against `barrage serve` (the shared
tests/e2e/harness.py Serve, on a free 127.0.0.1 port) twice: plain (the static
request, no Lua), and with the workflow script scripts/login.lua (one virtual
user per connection against serve's demo API). Every SOAK_INTERVAL seconds it
samples the client's VmRSS (and RssAnon) from /proc/PID/status. It prints RSS
over time, the requests completed, the mappings (/proc/PID/smaps) whose Rss
changed most after the first minute, and a verdict per run: PASS when VmRSS
grew by less than 1 MB (1024 KiB) between the 1-minute mark and the last
sample of the run proper (teardown after the duration excluded), else MISS.
The exit status is 0 either way (a benchmark, not a test); 2 only when it
cannot run.

Settings (environment variable, or option):
  SOAK_MINUTES   = 10   (--minutes)   length of each run; fractions allowed
  SOAK_INTERVAL  = 5    (--interval)  seconds between RSS samples
  SOAK_PARALLEL  = 0    (--parallel)  1: both runs at once (separate servers)
  SOAK_RUNS      = plain,workflow (--runs)
  SOAK_CSV       = ''   (--csv)       also write every sample to this file
  BARRAGE        = ./barrage          client and server binary; copy it
                                      (e.g. to /tmp/soak-bin/barrage) so that
                                      rebuilds do not replace it mid-run

  BARRAGE=/tmp/soak-bin/barrage python3 tests/bench/soak.py
  SOAK_MINUTES=1 SOAK_INTERVAL=2 python3 tests/bench/soak.py   # quick look
"""
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness  # noqa: E402  (barrage serve, free ports; stdlib only)

LIMIT_KB = 1024          # growth allowed after the first minute
WARMUP_S = 60            # the 1-minute mark
RUNS = {
    "plain": [],
    "workflow": ["-s", os.path.join(ROOT, "scripts", "login.lua")],
}


def proc_status(pid):
    """VmRSS, VmHWM, RssAnon, RssFile (KiB) and Threads of a live process, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except OSError:
        return None
    out = {}
    for key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
        m = re.search(rf"^{key}:\s+(\d+)", text, re.M)
        if m:
            out[key] = int(m.group(1))
    return out if "VmRSS" in out else None


def smaps(pid):
    """{(start address, name): (address range, size KiB, Rss KiB)} of a live
    process, or None. Keyed by the start: brk and glibc's arenas grow a
    mapping's end (mprotect), not its start."""
    try:
        with open(f"/proc/{pid}/smaps") as f:
            text = f.read()
    except OSError:
        return None
    maps, key, size = {}, None, 0
    for line in text.splitlines():
        m = re.match(r"^(([0-9a-f]+)-[0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$", line)
        if m:
            key = (m.group(2), m.group(3) or "[anon]")
            rng = m.group(1)
        elif key and line.startswith("Size:"):
            size = int(line.split()[1])
        elif key and line.startswith("Rss:"):
            maps[key] = (rng, size, int(line.split()[1]))
    return maps


def smaps_growth(before, after, top=6):
    """Mappings whose Rss grew most between two smaps snapshots, as text lines."""
    rows = []
    for key in set(before) | set(after):
        rng, size, rss = after[key] if key in after else before[key][:2] + (0,)
        old = before.get(key, ("", 0, 0))[2]
        gone = "" if key in after else ", gone"
        if rss != old:
            rows.append((rss - old, key[1], rng, size, old, rss, gone))
    rows.sort(key=lambda r: -abs(r[0]))
    return [f"{d:+6d} KiB  {name} ({rng}, size {size} KiB{gone}): {old} -> {rss} KiB"
            for d, name, rng, size, old, rss, gone in rows[:top]]


class Soak:
    """One barrage run against its own `barrage serve`, sampled every interval."""

    def __init__(self, name, extra, minutes, interval):
        self.name, self.extra, self.minutes, self.interval = name, extra, minutes, interval
        self.samples = []        # (seconds since start, VmRSS, VmHWM, RssAnon KiB, threads)
        self.duration = int(round(minutes * 60))
        self.maps_base = self.maps_end = None  # smaps at the 1-minute mark, at the last in-run sample
        self.rc = self.out = self.err = None
        self.requests = self.rps = None
        self.errors = ""
        self.serve_counts = {}
        self.cmd = None
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - reported in the summary
            self.error = f"{type(e).__name__}: {e}"

    def _run(self):
        seconds = self.duration
        with harness.Serve() as srv, tempfile.TemporaryFile("w+") as out, \
                tempfile.TemporaryFile("w+") as err:
            self.cmd = [harness.BARRAGE, "-t", "2", "-c", "50", "-d", f"{seconds}s", "-q"] + \
                self.extra + [srv.url + "/"]
            t0 = time.monotonic()
            p = subprocess.Popen(self.cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            k = 0
            time.sleep(1.0)  # first sample after start-up (exec, threads, connections)
            while p.poll() is None:
                st = proc_status(p.pid)
                t = time.monotonic() - t0
                if st and p.poll() is None:
                    self.samples.append((t, st["VmRSS"], st.get("VmHWM", 0), st.get("RssAnon", 0),
                                         st.get("Threads", 0)))
                    if t >= WARMUP_S - 0.5 and t < self.duration - 1:
                        maps = smaps(p.pid)
                        if maps:
                            if self.maps_base is None:
                                self.maps_base = maps
                            self.maps_end = maps
                k += 1
                # sample on a fixed timeline (0, 5, 10, ... s), not drifting with sampling cost
                while p.poll() is None and time.monotonic() - t0 < k * self.interval:
                    time.sleep(min(0.2, max(0.0, k * self.interval - (time.monotonic() - t0))))
            self.rc = p.wait()
            self.wall = time.monotonic() - t0
            out.seek(0)
            err.seek(0)
            self.out, self.err = out.read(), err.read()
            srv.stop()
            self.serve_counts = srv.counts
        m = re.search(r"^\s*(\d+) requests in ", self.out, re.M)
        self.requests = int(m.group(1)) if m else None
        m = re.search(r"Requests/sec:\s+([\d.]+)", self.out)
        self.rps = float(m.group(1)) if m else None
        m = re.search(r"Socket errors: [^\n]*", self.out)
        self.errors = m.group(0).strip() if m else "Socket errors: none"
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", self.out)
        if m:
            self.errors += f"; non-2xx {m.group(1)}"
        m = re.search(r"Parse errors: (\d+)", self.out)
        if m:
            self.errors += f"; parse {m.group(1)}"

    # --- figures -------------------------------------------------------
    def at(self, t):
        """The first sample taken at or after t seconds."""
        for s in self.samples:
            if s[0] >= t - 0.5:
                return s
        return None

    def in_run(self):
        """Samples taken during the run proper: not during the teardown after
        the duration (threads joined, buffers freed, report written)."""
        return [s for s in self.samples if s[0] < self.duration - 1] or self.samples

    def verdict(self):
        """(rss at 1 min, rss at end, growth, peak after 1 min, verdict)"""
        base = self.at(WARMUP_S)
        if self.error or not self.samples:
            return None, None, None, None, "MISS"
        if base is None:
            return None, None, None, None, "SHORT"  # ended before the 1-minute mark
        end = self.in_run()[-1]
        peak = max(s[1] for s in self.in_run() if s[0] >= base[0])
        growth = end[1] - base[1]
        return base[1], end[1], growth, peak, "PASS" if growth < LIMIT_KB else "MISS"


def mb(kib):
    return "-" if kib is None else f"{kib / 1024:.2f}"


def print_table(soaks, interval):
    """VmRSS and RssAnon (MiB) at marks (1 s, 5 s, 10 s, 30 s, then every
    minute), at the last sample of the run proper, and at the last sample
    (teardown), with the min..max of VmRSS since the previous row."""
    names = [s.name for s in soaks]
    last = max(s.in_run()[-1][0] for s in soaks)
    marks = [t for t in [1, 5, 10, 30] + list(range(60, int(last) + 1, 60)) if t <= last]
    print("\nMemory of the barrage process (MiB): VmRSS and its anonymous part (RssAnon) at the mark, "
          "and [min..max] of VmRSS since the previous row")
    print(f"| {'time':>7} |" + "".join(f" {n + ' RSS':>13} | {'anon':>5} | {'range':>11} |" for n in names))
    print("|" + "-" * 9 + "|" + "".join("-" * 15 + "|" + "-" * 7 + "|" + "-" * 13 + "|" for _ in names))
    prev = {s.name: -1.0 for s in soaks}
    rows = [(f"{t // 60:>4}:{t % 60:02d}", t) for t in marks] + [("    end", "end"), ("   exit", "exit")]
    for label, t in rows:
        row = f"| {label} |"
        for s in soaks:
            smp = s.in_run()[-1] if t == "end" else s.samples[-1] if t == "exit" else s.at(t)
            if smp is None or (t == "exit" and smp is s.in_run()[-1]):
                row += f" {'-':>13} | {'':>5} | {'':>11} |"
                continue
            win = [x[1] for x in s.samples if prev[s.name] < x[0] <= smp[0]]
            rng = f"{mb(min(win))}..{mb(max(win))}" if win else ""
            row += f" {mb(smp[1]):>13} | {mb(smp[3]):>5} | {rng:>11} |"
            prev[s.name] = smp[0]
        print(row)
    print("(end: the last sample of the run proper, at " +
          ", ".join(f"{s.name} {s.in_run()[-1][0]:.0f} s" for s in soaks) +
          "; exit: a sample during the teardown after the duration, if one was taken)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "10")))
    ap.add_argument("--interval", type=float, default=float(os.environ.get("SOAK_INTERVAL", "5")))
    ap.add_argument("--parallel", action="store_true", default=os.environ.get("SOAK_PARALLEL", "0") == "1")
    ap.add_argument("--runs", default=os.environ.get("SOAK_RUNS", "plain,workflow"))
    ap.add_argument("--csv", default=os.environ.get("SOAK_CSV", ""))
    ap.add_argument("--barrage", default=None, help="binary (default $BARRAGE or ./barrage)")
    a = ap.parse_args()
    if a.barrage:
        harness.BARRAGE = os.path.abspath(a.barrage)
    if not os.access(harness.BARRAGE, os.X_OK):
        print(f"soak: no barrage binary at {harness.BARRAGE} (run make, or set BARRAGE)", file=sys.stderr)
        return 2
    names = [n.strip() for n in a.runs.split(",") if n.strip()]
    for n in names:
        if n not in RUNS:
            print(f"soak: unknown run {n!r} (plain, workflow)", file=sys.stderr)
            return 2
    version = subprocess.run([harness.BARRAGE, "-v"], capture_output=True, text=True).stdout.strip()
    print("barrage soak")
    print(f"  date:     {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC")
    print(f"  barrage:  {harness.BARRAGE} ({version})")
    print(f"  kernel:   {platform.system()} {platform.release()}, {os.cpu_count()} CPUs")
    print(f"  settings: {a.minutes:g} min per run, RSS sampled every {a.interval:g} s, "
          f"runs {', '.join(names)} {'at once' if a.parallel else 'one after the other'}")
    print(f"  loadavg at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sys.stdout.flush()

    soaks = [Soak(n, RUNS[n], a.minutes, a.interval) for n in names]
    if a.parallel:
        threads = [threading.Thread(target=s.run) for s in soaks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for s in soaks:
            print(f"  running {s.name} ...", flush=True)
            s.run()

    for s in soaks:
        print(f"\n== {s.name}")
        if s.cmd:
            print("  " + " ".join(s.cmd))
        if s.error:
            print(f"  could not run: {s.error}")
            continue
        print(f"  exit code {s.rc}; {s.requests if s.requests is not None else '?'} requests completed"
              f" ({s.rps if s.rps is not None else '?'} req/s); {s.errors}")
        if s.serve_counts:
            print("  server: " + " ".join(f"{k}={v}" for k, v in s.serve_counts.items()))
        if s.samples:
            first = s.samples[0]
            print(f"  {len(s.samples)} samples; first {mb(first[1])} MiB at {first[0]:.1f}s; "
                  f"threads {max(x[4] for x in s.samples)}; VmHWM at the end {mb(s.samples[-1][2])} MiB")
        if s.maps_base and s.maps_end:
            print("  mappings whose Rss changed most from the 1-minute mark to the end of the run:")
            try:
                lines = smaps_growth(s.maps_base, s.maps_end) or ["none"]
            except Exception as e:  # noqa: BLE001 - a diagnostic; never lose the table for it
                lines = [f"(could not compare: {e})"]
            for line in lines:
                print("    " + line)
        if s.rc not in (0, None):
            print("  stderr: " + s.err.strip()[-2000:])

    print_table([s for s in soaks if s.samples], a.interval)

    if a.csv:
        with open(a.csv, "w") as f:
            f.write("run,seconds,vmrss_kib,vmhwm_kib,rssanon_kib,threads\n")
            for s in soaks:
                for t, rss, hwm, anon, th in s.samples:
                    f.write(f"{s.name},{t:.1f},{rss},{hwm},{anon},{th}\n")
        print(f"every sample: {a.csv}")

    print(f"\n| run      | requests    | RSS at 1:00 MiB | RSS at end MiB | growth KiB | peak after 1:00 MiB | result |")
    print(f"|----------|-------------|-----------------|----------------|------------|---------------------|--------|")
    misses = []
    for s in soaks:
        base, end, growth, peak, v = s.verdict()
        if v == "MISS":
            misses.append(s.name)
        req = f"{s.requests:,}" if s.requests is not None else "-"
        g = "-" if growth is None else f"{growth:+d}"
        print(f"| {s.name:<8} | {req:>11} | {mb(base):>15} | {mb(end):>14} | {g:>10} | {mb(peak):>19} | {v:<6} |")
    print(f"(PASS: growth between the 1-minute mark and the end < {LIMIT_KB} KiB; "
          f"loadavg at end {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    shorts = [s.name for s in soaks if s.verdict()[4] == "SHORT"]
    if shorts:
        print("SHORT (ended before the 1-minute mark, no verdict): " + ", ".join(shorts))
    print("MISS: " + ", ".join(misses) if misses else "no MISS" if shorts else "all PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
