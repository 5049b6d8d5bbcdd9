"""--json and --csv on real runs: valid against the schema, and the values
in the files equal those of the terminal report."""
import csv
import json
import os
import re
import tempfile

import schema
from harness import ROOT, Nginx, Serve, barrage, check, eq

SCHEMA = json.load(open(os.path.join(ROOT, "src", "result", "result.schema.json")))


def fmt_time_us(us):
    """report_time_us: the terminal report's latency format."""
    v, units = float(us), ["us", "ms", "s", "m", "h"]
    scale = [1000, 1000, 60, 60]
    i = 0
    while i < 4 and v >= scale[i]:
        v /= scale[i]
        i += 1
    return f"{v:.2f}{units[i]}"


def run_json(*args, target_args=(), timeout=30):
    with tempfile.TemporaryDirectory() as tmp, Serve(*target_args) as s:
        path = os.path.join(tmp, "r.json")
        r = barrage(*args, "--json", path, s.url, timeout=timeout)
        with open(path) as f:
            data = json.load(f)
    return r, data


def test_json_validates_and_matches_the_report():
    r, d = run_json("-t", "2", "-c", "4", "-d", "2s", "--latency", target_args=("--fault", "status500:7"))
    eq(r.rc, 0, f"{r}")
    eq(schema.errors(d, SCHEMA), [], "schema violations")
    eq(d["schema"], "barrage.result/1", "schema id")
    eq(d["summary"]["requests"], r.requests, "requests")
    eq(d["summary"]["errors"]["status"], r.non2xx, "non-2xx")
    eq(f"{d['summary']['rps']:.2f}", re.search(r"Requests/sec:\s+([\d.]+)", r.out).group(1), "req/s")
    for p in ("50", "75", "90", "99", "99.9", "99.99"):
        want = fmt_time_us(d["latency"]["percentiles"][p])
        line = re.search(rf"^\s+{re.escape(p)}%\s+(\S+)", r.out, re.M).group(1)
        eq(line, want, f"p{p} in the report and the JSON")
    eq(sum(c for _, c in d["latency"]["histogram"]["buckets"]), d["latency"]["count"], "bucket counts add up")
    eq(d["latency"]["count"], r.requests, "one latency per response")
    ser = d["series"]
    check(2 <= len(ser) <= 3, f"one point per second: {len(ser)}")
    eq(sum(p["requests"] for p in ser), r.requests, "series sums to the total")
    eq(sum(p["errors"]["status"] for p in ser), r.non2xx, "series errors sum to the total")
    check(all(p["active"] == 4 for p in ser[:-1]), f"active connections: {ser}")
    check(d["host"]["cores"] >= 1 and d["host"]["cpu_model"], "host facts")


def test_json_to_stdout_moves_the_report_to_stderr():
    with Serve() as s:
        r = barrage("-t", "1", "-c", "2", "-n", "100", "--json", "-", s.url)
    eq(r.rc, 0, f"{r}")
    d = json.loads(r.out)
    eq(d["summary"]["requests"], 100, "requests")
    check("100 requests in" in r.err, "the text report went to stderr")


def test_json_with_rate_stages_names_checks_thresholds():
    login = os.path.join(ROOT, "scripts", "login.lua")
    r, d = run_json("-t", "1", "-c", "4", "-R", "1", "--stages", "1s:100,2s:100", "-s", login,
                    "--threshold", "login:p(99)<1s", "--threshold", "max<2us")  # certainly fails
    eq(r.rc, 99, f"max<2us fails: {r}")
    eq(schema.errors(d, SCHEMA), [], "schema violations")
    eq(d["latency_corrected"], True, "corrected latency flagged")
    check(d["service"] is not None and d["schedule_delay"] is not None, "uncorrected service time kept")
    eq([x["target"] for x in d["config"]["stages"]], [100, 100], "stages recorded")
    eq([p["stage"] for p in d["series"]][:3], [0, 1, 1], "each stage boundary appears in the series")
    names = {n["name"]: n for n in d["names"]}
    t = re.search(r"Requests by name\n.*\n((?:    .*\n)+)", r.out).group(1)
    for line in t.splitlines():
        m = re.match(r"\s+\S+\s+(.+?)\s+(\d+)\s+(\d+)\s", line)  # Type, Name, Count, Failures
        eq((names[m.group(1)]["requests"], names[m.group(1)]["failures"]), (int(m.group(2)), int(m.group(3))),
           f"per-name counts of {m.group(1)}")
    report_checks = {m[0]: (int(m[1]), int(m[2])) for m in
                     re.findall(r"^\s+(?:ok  |FAIL) (.+?)\s+(\d+) passed\s+(\d+) failed", r.out, re.M)}
    eq({c["name"]: (c["pass"], c["fail"]) for c in d["checks"]}, report_checks, "checks equal the report's")
    check("logged in" in report_checks, f"checks ran: {report_checks}")
    eq([(t["expr"], t["pass"]) for t in d["thresholds"]], [("login:p(99)<1s", True), ("max<2us", False)],
       "threshold verdicts")
    eq(d["exit_code"], 99, "exit code recorded")


def test_csv_locust_columns_and_values():
    with tempfile.TemporaryDirectory() as tmp, Nginx() as n:
        prefix = os.path.join(tmp, "run")
        r = barrage("-t", "1", "-c", "2", "-d", "2s", "--csv", prefix, "--json", prefix + ".json",
                    f"{n.url}/notfound")
        eq(r.rc, 0, f"{r}")
        check(r.requests > 0 and r.non2xx == r.requests, f"every response is a 404: {r}")
        d = json.load(open(prefix + ".json"))
        rows = list(csv.DictReader(open(prefix + "_stats.csv")))
        hist = list(csv.DictReader(open(prefix + "_stats_history.csv")))
        fails = list(csv.DictReader(open(prefix + "_failures.csv")))
    for col in ("Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                "Average Response Time", "Min Response Time", "Max Response Time", "Average Content Size",
                "Requests/s", "Failures/s", "50%", "95%", "99%", "100%"):
        check(col in rows[0], f"Locust column {col!r}")
    agg = rows[-1]
    eq(agg["Name"], "Aggregated", "last row")
    eq(int(agg["Request Count"]), r.requests, "requests")
    eq(int(agg["Failure Count"]), r.non2xx, "failures = 404s")
    p99 = d["latency"]["percentiles"]["99"] / 1000  # Locust's integer ms, rounded as it stores times
    check(agg["99%"].isdigit() and abs(int(agg["99%"]) - p99) <= max(1, p99 * 0.01), f"p99 {agg['99%']} ~ {p99}")
    eq(sum(float(h["Requests/s"]) for h in hist), r.requests, "history sums to the total")
    check("Timestamp" in hist[0] and "User Count" in hist[0], "history columns")
    eq(len(fails), 1, f"one failure row: {fails}")
    eq(int(fails[0]["Occurrences"]), r.non2xx, "occurrences")
    check(fails[0]["Error"].startswith("HTTPError('404 Client Error: Not Found for url: "), fails[0]["Error"])


def test_unwritable_output_is_reported():
    with Serve() as s:
        r = barrage("-t", "1", "-c", "1", "-n", "5", "--json", "/nonexistent/dir/r.json", s.url)
    eq(r.rc, 1, f"{r}")
    check("--json: cannot write '/nonexistent/dir/r.json'" in r.err, r.err)
