"""One definition of a failed request (a socket/protocol error, or a status
that --expect-status does not list; by default any status >= 400), counted
the same on every surface: the text report, the progress line, JSON, CSV,
HTML, done(), thresholds and merge; counts by status code; --exit-on-failures."""
import csv
import json
import os
import re
import socket
import tempfile
import threading

import schema
from harness import ROOT, BARRAGE, Nginx, Serve, barrage, check, eq

SCHEMA = json.load(open(os.path.join(ROOT, "src", "result", "result.schema.json")))


def run_json(url, *args, timeout=30):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.json")
        r = barrage(*args, "--json", path, url, timeout=timeout)
        with open(path) as f:
            return r, json.load(f)


def failed_line(out):
    m = re.search(r"^  Failed\s+(\d+) of (\d+) attempts \(([\d.]+)%\)$", out, re.M)
    return (int(m.group(1)), int(m.group(2)), m.group(3)) if m else None


def status_line(out):
    m = re.search(r"^  Status\s+(.*)$", out, re.M)
    return {int(k): int(v) for k, v in re.findall(r"(\d+): (\d+)", m.group(1))} if m else None


def test_five_percent_500s_fail_the_k6_style_gates():
    # every 20th request of exactly 2000 is a 500: 100 failed, 5% of the attempts
    with Serve("--fault", "status500:20") as s:
        r, d = run_json(s.url, "-t", "2", "-c", "4", "-n", "2000",
                        "--threshold", "errors<1%", "--threshold", "failed_rate<1%",
                        "--threshold", "http_req_failed<0.01", "--threshold", "http_req_failed:rate<0.01",
                        "--threshold", "failed<1%", "--threshold", "failed==100")
    eq(r.rc, 99, f"a failing gate exits 99: {r}")
    eq(schema.errors(d, SCHEMA), [], "schema violations")
    sm = d["summary"]
    eq((sm["failed"], sm["attempts"], sm["failed_rate"]), (100, 2000, 0.05), "summary.failed, attempts and rate")
    eq(sm["status"], {"200": 1900, "500": 100}, "summary.status")
    eq(sm["errors"]["status"], 100, "errors.status (non-2xx) still counts them")
    eq(stats_sum := sum(sm["errors"][k] for k in ("connect", "read", "write", "timeout", "parse")), 0,
       "no socket errors")
    eq(failed_line(r.out), (100, 2000, "5.00"), "the Failed line of the report")
    eq(status_line(r.out), {200: 1900, 500: 100}, "the Status line of the report")
    verdicts = {t["expr"]: (t["pass"], t["measured"]) for t in d["thresholds"]}
    eq(verdicts["errors<1%"], (True, 0), "errors are socket/protocol errors only")
    check("'failed'" in (next(t for t in d["thresholds"] if t["expr"] == "errors<1%")["note"] or ""),
          f"errors says it leaves the 500s out: {d['thresholds']}")
    for e in ("failed_rate<1%", "failed<1%"):
        eq(verdicts[e], (False, 5), e)
    for e in ("http_req_failed<0.01", "http_req_failed:rate<0.01"):
        eq(verdicts[e], (False, 0.05), e)
    eq(verdicts["failed==100"], (True, 100), "failed as a count")
    check(re.search(r"✗ http_req_failed<0.01\s+0\.0500", r.out), f"the rate as a fraction: {r.out}")
    ser = d["series"]
    eq(sum(p["failed"] for p in ser), 100, "per-second failed sums to the total")
    eq(sum(p["status"].get("500", 0) for p in ser), 100, "per-second status counts sum to the total")
    eq(sum(p["status"].get("200", 0) for p in ser), 1900, "per-second 200s sum to the total")


def test_expect_status_decides_what_fails():
    with Serve("--fault", "status500:20") as s:
        r, d = run_json(s.url, "-t", "1", "-c", "2", "-n", "400", "--expect-status", "200, 500",
                        "--threshold", "failed==0", "--threshold", "http_req_failed<0.01")
    eq(r.rc, 0, f"500 expected: the gates pass: {r}")
    eq((d["summary"]["failed"], d["summary"]["status"]), (0, {"200": 380, "500": 20}), "nothing failed")
    eq(d["config"]["expect_status"], "200, 500", "config.expect_status")
    eq(failed_line(r.out), (0, 400, "0.00"), "the Failed line shows 0 with --expect-status")
    with Serve("--status", "429") as s:
        ok, d1 = run_json(s.url, "-t", "1", "-c", "2", "-n", "50", "--expect-status", "200-399,429")
        bad, d2 = run_json(s.url, "-t", "1", "-c", "2", "-n", "50")
        ok2, d3 = run_json(s.url, "-t", "1", "-c", "2", "-n", "50", "--expect-status", "200")
    eq(d1["summary"]["failed"], 0, "429 listed: not failed")
    eq((d2["summary"]["failed"], d2["summary"]["status"]), (50, {"429": 50}), "429 by default: failed")
    check("every request got HTTP 429" in bad.err, f"all failed, said in one line: {bad.err!r}")
    eq(len([l for l in bad.err.splitlines() if "every request" in l]), 1, "one line")
    eq(d3["summary"]["failed"], 50, "a list replaces the default (200 only)")
    eq(ok.rc, 0, "--exit-on-failures is off by default")
    eq(bad.rc, 0, "failures alone do not change the exit code (wrk-compatible)")


def test_bad_expect_status_lists_are_usage_errors():
    for v, token in (("", ""), ("abc", "abc"), ("200-", "200-"), ("99", "99"), ("1000", "1000"),
                     ("300-200", "300-200"), ("200,,300", ""), ("2xx", "2xx"), ("200;404", "200;404")):
        r = barrage("--expect-status", v, "-n", "1", "http://127.0.0.1:9/")
        eq(r.rc, 2, f"--expect-status {v!r}: {r}")
        lines = r.err.strip().splitlines()
        eq(len(lines), 1, f"one line for {v!r}: {r.err!r}")
        check("--expect-status" in lines[0] and f"'{token}'" in lines[0] and "e.g." in lines[0],
              f"names the item and the fix: {lines[0]}")
    for v in ("256", "-1", "x", "1k"):
        r = barrage("--exit-code-on-error", v, "-n", "1", "http://127.0.0.1:9/")
        eq(r.rc, 2, f"--exit-code-on-error {v!r}: {r}")
        check("exit code" in r.err and r.err.count("\n") == 1, r.err)


def test_exit_on_failures_and_its_interaction_with_thresholds():
    with Serve("--fault", "status500:10") as s:
        eq(barrage("-t", "1", "-c", "2", "-n", "100", s.url).rc, 0, "off by default")
        r = barrage("-t", "1", "-c", "2", "-n", "100", "--exit-on-failures", s.url)
        eq(r.rc, 1, "--exit-on-failures: 1")
        check("barrage: 10 of 100 requests failed (10.00%): exit code 1\n" in r.err, f"says why: {r.err!r}")
        eq(barrage("-t", "1", "-c", "2", "-n", "100", "--exit-code-on-error", "3", s.url).rc, 3,
           "Locust's --exit-code-on-error N")
        eq(barrage("-t", "1", "-c", "2", "-n", "100", "--exit-code-on-error", "0", s.url).rc, 0, "0 turns it off")
        r = barrage("-t", "1", "-c", "2", "-n", "100", "--exit-on-failures", "--threshold", "p(50)<1us", s.url)
        eq(r.rc, 99, f"a failed threshold (99) wins over failures: {r}")
        r = barrage("-t", "1", "-c", "2", "-n", "100", "--exit-on-failures", "--threshold", "rps>0", s.url)
        eq(r.rc, 1, f"passing thresholds, failed requests: 1: {r}")
        eq(barrage("-t", "1", "-c", "2", "-n", "100", "--exit-on-failures", "--expect-status", "200,500",
                   s.url).rc, 0, "nothing failed under --expect-status")
    with Serve() as s:
        r = barrage("-t", "1", "-c", "2", "-n", "100", "--exit-on-failures", s.url)
    eq(r.rc, 0, f"no failures: 0: {r}")
    eq(failed_line(r.out), (0, 100, "0.00"), "the Failed line shows 0 with --exit-on-failures")
    eq(status_line(r.out), None, "one status, all 2xx: no Status line")


def test_every_request_failed_says_why_in_one_line():
    with Serve("--fault", "hang") as s:
        r = barrage("-t", "1", "-c", "2", "-d", "1s", "-T", "200ms", "--exit-on-failures", s.url)
    eq(r.rc, 1, f"{r}")
    check(re.search(r"^barrage: every request timed out after 200ms: raise --timeout", r.err, re.M), r.err)
    with Serve("--status", "503") as s:
        r = barrage("-t", "1", "-c", "2", "-n", "20", s.url)
    check(re.search(r"^barrage: every request got HTTP 503: the server is failing", r.err, re.M), r.err)
    with Serve("--fault", "reset") as s:
        r = barrage("-t", "1", "-c", "1", "-d", "1s", s.url)
    check("every request failed: the server closed or reset the connection" in r.err, r.err)
    # a server that takes the start-up probe, then refuses every connection; a worker that connects
    # before the listener is closed is reset instead (a read error): then the set-up is tried again
    for _ in range(5):
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(8)
        port = lsock.getsockname()[1]

        def take_probe():
            c, _ = lsock.accept()
            lsock.close()
            c.close()
        t = threading.Thread(target=take_probe, daemon=True)
        t.start()
        r = barrage("-t", "1", "-c", "2", "-d", "1s", "--json", "-", f"http://127.0.0.1:{port}/")
        t.join(5)
        sm = json.loads(r.out)["summary"]
        if sm["attempts"] and sm["errors"]["connect"] == sm["attempts"]:
            break
    else:
        check(False, f"no run saw only refused connections: {sm}")
    check(re.search(rf"^barrage: every connection failed to open .*is the server up at 127.0.0.1:{port}\?$",
                    r.err, re.M), r.err)
    with Serve("--fault", "status500:2") as s:
        r = barrage("-t", "1", "-c", "2", "-n", "20", s.url)
    check("every" not in r.err, f"half failed: no such line: {r.err!r}")


WORKFLOW = """
function user(u)
  u:get("/", {name = "ok"})
  u:get("/error", {name = "err"})
  u:get("/notfound", {name = "nf"})
end
function done(summary)
  io.write(string.format("DONE failed=%d requests=%d s200=%d s404=%d s500=%d\\n", summary.failed,
           summary.requests, summary.status[200] or 0, summary.status[404] or 0, summary.status[500] or 0))
end
"""


def test_status_counts_on_every_surface_and_merge():
    with tempfile.TemporaryDirectory() as tmp, Nginx(access_log=False) as n:
        script = os.path.join(tmp, "wf.lua")
        with open(script, "w") as f:
            f.write(WORKFLOW)
        runs = []
        for i in range(2):
            path, prefix, html = (os.path.join(tmp, f"r{i}.json"), os.path.join(tmp, f"c{i}"),
                                  os.path.join(tmp, f"r{i}.html"))
            r = barrage("-t", "1", "-c", "1", "-n", "300", "-s", script, "--expect-status", "200-399,404",
                        "--json", path, "--csv", prefix, "--html", html, n.url)
            eq(r.rc, 0, f"{r}")
            runs.append((r, json.load(open(path)), prefix, open(html).read(), path))
        m = barrage("merge", runs[0][4], runs[1][4])
        eq(m.rc, 0, f"{m}")
        merged = json.loads(m.out)
        c = barrage("compare", runs[0][4], runs[1][4], "--no-color")
        for r, d, prefix, html, _ in runs:
            eq(schema.errors(d, SCHEMA), [], "schema violations")
            sm = d["summary"]
            eq(sm["status"], {"200": 100, "404": 100, "500": 100}, "summary.status")
            eq(sm["failed"], 100, "only the 500s fail (404 expected)")
            names = {x["name"]: x for x in d["names"]}
            eq({k: (v["status"], v["failures"]) for k, v in names.items()},
               {"ok": ({"200": 100}, 0), "err": ({"500": 100}, 100), "nf": ({"404": 100}, 0)},
               "per-name status counts and failures follow --expect-status")
            eq(sum(p["failed"] for p in d["series"]), 100, "series failed")
            eq(status_line(r.out), {200: 100, 404: 100, 500: 100}, "Status line")
            eq(failed_line(r.out), (100, 300, "33.33"), "Failed line")
            check("DONE failed=100 requests=300 s200=100 s404=100 s500=100" in r.out, f"done() summary: {r.out}")
            rows = {(x["Name"], x["Status"]): (x["Count"], x["Counted As"])
                    for x in csv.DictReader(open(prefix + "_status.csv"))}
            eq(rows[("Aggregated", "500")], ("100", "failed"), "status.csv")
            eq(rows[("Aggregated", "404")], ("100", "expected"), "status.csv 404")
            eq(rows[("nf", "404")], ("100", "expected"), "status.csv per name")
            agg = [x for x in csv.DictReader(open(prefix + "_stats.csv")) if x["Name"] == "Aggregated"][0]
            eq(agg["Failure Count"], "100", "stats.csv Failure Count")
            fails = list(csv.DictReader(open(prefix + "_failures.csv")))
            eq([(x["Method"], x["Name"], x["Error"].split(":")[0], x["Occurrences"]) for x in fails],
               [("GET", "err", "HTTPError('500 Server Error", "100")],
               "failures.csv: a row per (method, name, failed status), none for the command-line URL")
            hist = list(csv.DictReader(open(prefix + "_stats_history.csv")))
            eq(hist[-1]["Total Failure Count"], "100", "stats_history total failures")
            check(re.search(r'data-metric="failed">100<', html), "HTML Failed card")
            check(re.search(r'<tr data-status="500" class="bad">.*?data-metric="status-500">100<', html), "HTML 500 row")
            check(re.search(r'<tr data-status="404"><td class="l">404</td><td class="l muted">expected', html),
                  "HTML 404 row is expected")
    sm = merged["summary"]
    eq((sm["failed"], sm["attempts"], sm["status"]), (200, 600, {"200": 200, "404": 200, "500": 200}),
       "merge sums failed and status exactly")
    eq({x["name"]: x["status"] for x in merged["names"]},
       {"ok": {"200": 200}, "err": {"500": 200}, "nf": {"404": 200}}, "merged per-name status")
    eq(sum(p["failed"] for p in merged["series"]), 200, "merged series failed")
    eq(sum(sum(p["status"].values()) for p in merged["series"]), 600, "merged series status")
    eq(schema.errors(merged, SCHEMA), [], "merged schema")
    check(re.search(r"^\s*failed\s+100\s+100", c.out, re.M), f"compare shows failed: {c.out}")


def test_latency_flag_always_shows_status_and_abort_on_failed():
    with Serve() as s:
        r = barrage("-t", "1", "-c", "2", "-n", "50", "--latency", s.url)
    eq(status_line(r.out), {200: 50}, "--latency: the Status line even when all 200")
    with Serve("--fault", "status500:5") as s:
        r = barrage("-t", "1", "-c", "2", "-d", "10s", "--threshold", "failed<10", "--abort-on-fail", s.url,
                    timeout=20)
    eq(r.rc, 99, f"{r}")
    check(r.elapsed < 5, f"stopped early once 10 requests failed: {r.elapsed:.1f}s")


def test_progress_line_shows_failed():
    from test_progress import run_on_tty
    with Serve("--fault", "status500:20") as s:
        rc, out, tty = run_on_tty("-t", "1", "-c", "2", "-d", "3s", "-R", "500", s.url)
    eq(rc, 0, f"{out}{tty}")
    ups = re.findall(r"\r\x1b\[K\[\d+s/3s\] conns \d+, \d+ req/s, p50 \S+, p99 \S+, errors (\d+), "
                     r"failed (\d+) \(([\d.]+)%\)", tty)
    check(len(ups) >= 2, f"progress with failed: {tty!r}")
    check(all(e == "0" for e, _, _ in ups), f"errors are socket errors only: {ups}")
    check(all(int(f) > 0 and 4.0 <= float(p) <= 6.0 for _, f, p in ups), f"5% failed: {ups}")
