"""--csv against a real Locust 2.12.1: the same locustfile run by Locust and,
ported to a workflow script, by barrage, against `barrage serve`; the files
must match Locust's cell by cell in structure (headers, row keys, the kind of
every cell, counts that add up, failures keyed alike), and barrage's values
must follow Locust's rounding rules and equal its own JSON."""
import csv
import json
import os
import re
import subprocess
import tempfile

from harness import Serve, barrage, check, eq, need_peer

LOCUST = "/usr/bin/locust"

# Locust flushes its CSV files every 10 s and not at exit: once a second here,
# so a 3 s run leaves its last second's rows on disk.
LOCUSTFILE = """
import locust.stats
from locust import HttpUser, task, constant
locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 0
class U(HttpUser):
    wait_time = constant(0.05)
    @task
    def a(self):
        self.client.get("/hello")
        self.client.post("/hello", data="x")
        self.client.post("/submit", data="abc")
        self.client.get("/api/nope")
"""

PORT = """
function user(u)
   u:get("/hello")
   u:post("/hello", { body = "x" })
   u:post("/submit", { body = "abc" })
   u:get("/api/nope")
   u:sleep(50)
end
"""

INT = re.compile(r"^-?\d+$")
FLOAT = re.compile(r"^-?\d+\.\d+(e[-+]\d+)?$")


def kind(v):
    if v == "N/A":
        return "N/A"
    if INT.match(v):
        return "int"
    if FLOAT.match(v):
        return "float"
    return "str"


def read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))




def locust_run(tmp, url):
    lf = os.path.join(tmp, "locustfile.py")
    with open(lf, "w") as f:
        f.write(LOCUSTFILE)
    prefix = os.path.join(tmp, "L")
    # the reference must have made requests: on a loaded machine (CI runs both builds' suites at once)
    # Locust can spend a short run starting up and write only an empty Aggregated row; run it again,
    # longer, rather than compare barrage with an empty sample
    for seconds in ("3s", "8s"):
        p = subprocess.run([LOCUST, "-f", lf, "--headless", "-u", "4", "-r", "4", "-t", seconds, "--host", url,
                            "--csv", prefix, "--csv-full-history", "--only-summary"], cwd=tmp, capture_output=True,
                           text=True, timeout=60)
        check(os.path.exists(prefix + "_stats.csv"), f"Locust wrote no CSV: {p.returncode} {p.stderr[-2000:]}")
        rows = read(prefix + "_stats.csv")
        if len(rows) > 2 and rows[-1][1] == "Aggregated" and int(rows[-1][2]) > 0:
            break
    check(int(rows[-1][2]) > 0, f"Locust made no request in 3 s or 8 s: {rows} {p.stderr[-2000:]}")
    return prefix


def barrage_run(tmp, url, *extra):
    script = os.path.join(tmp, "port.lua")
    with open(script, "w") as f:
        f.write(PORT)
    prefix = os.path.join(tmp, "B")
    r = barrage("-t", "1", "-c", "4", "-d", "2s", "-s", script, "--csv", prefix, *extra, url)
    eq(r.rc, 0, f"{r}")
    return prefix, r


# Locust's kind of each stats.csv column for a row with requests (stats.py
# StatsCSV._requests_data_rows): the median is an int, or a float once past
# 100 ms or clamped to the exact min/max.
STATS_KINDS = {"Request Count": {"int"}, "Failure Count": {"int"}, "Median Response Time": {"int", "float"},
               "Average Response Time": {"float"}, "Min Response Time": {"float"},
               "Max Response Time": {"float"}, "Average Content Size": {"float"}, "Requests/s": {"float"},
               "Failures/s": {"float"}}


def check_stats(rows, who):
    head, body = rows[0], rows[1:]
    eq(body[-1][:2], ["", "Aggregated"], f"{who}: the last row")
    for r in body:
        d = dict(zip(head, r))
        for col, kinds in STATS_KINDS.items():
            if col in ("Min Response Time", "Max Response Time") and d[col] == "0":
                continue  # Locust starts both at the int 0 (`min_response_time or 0`, `max_response_time = 0`)
            check(kind(d[col]) in kinds, f"{who} {r[:2]} {col}={d[col]!r}: Locust writes {kinds}")
        pcts = [d[c] for c in head[11:]]
        check(all(kind(v) == "int" for v in pcts), f"{who} {r[:2]}: integer percentiles {pcts}")
        check([int(v) for v in pcts] == sorted(int(v) for v in pcts), f"{who} {r[:2]}: ordered {pcts}")
    agg = dict(zip(head, body[-1]))
    for col in ("Request Count", "Failure Count"):
        eq(int(agg[col]), sum(int(dict(zip(head, r))[col]) for r in body[:-1]), f"{who}: Aggregated {col} adds up")
    return {tuple(r[:2]): dict(zip(head, r)) for r in body}


def test_files_match_a_real_locust_run():
    if not need_peer(LOCUST, "python3-locust"):
        return
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        lp = locust_run(tmp, s.url)
        bp, r = barrage_run(tmp, s.url)
        d = r.json
        files = {f[len("L_"):] for f in os.listdir(tmp) if f.startswith("L_")}
        mine = {f[len("B_"):] for f in os.listdir(tmp) if f.startswith("B_")}
        # PREFIX_exceptions.csv is a script's exceptions (its own writer); the rest are here
        check(files - {"exceptions.csv"} <= mine, f"Locust's files {sorted(files)}, barrage's {sorted(mine)}")
        L = {n: read(f"{lp}_{n}.csv") for n in ("stats", "stats_history", "failures")}
        B = {n: read(f"{bp}_{n}.csv") for n in ("stats", "stats_history", "failures")}
    eq(B["stats"][0], L["stats"][0], "stats.csv header")
    eq(B["stats_history"][0], L["stats_history"][0], "stats_history.csv header")
    eq(B["failures"][0], L["failures"][0] + ["First Seen", "Last Seen"],
       "failures.csv header: Locust 2.12.1's, then Locust 2.44's First Seen/Last Seen")
    lrows, brows = check_stats(L["stats"], "Locust"), check_stats(B["stats"], "barrage")
    eq([k for k in brows], [k for k in lrows], "row keys (Type, Name) in Locust's order, no phantom row")
    for key in lrows:
        for col in L["stats"][0]:
            if col != "Median Response Time":
                eq(kind(brows[key][col]), kind(lrows[key][col]), f"{key} {col}: the kind of cell")
    # barrage's counts are its JSON's, per (method, name)
    names = {(n["method"], n["name"]): n for n in d["names"]}
    eq(set(names), {k for k in brows if k[1] != "Aggregated"}, "JSON names are the CSV rows")
    for k, n in names.items():
        eq((int(brows[k]["Request Count"]), int(brows[k]["Failure Count"])), (n["requests"], n["failures"]),
           f"{k} counts from the JSON")
        eq(float(brows[k]["Average Content Size"]), n["bytes"] / n["requests"], f"{k} content size")
    eq(int(brows[("", "Aggregated")]["Request Count"]), d["summary"]["attempts"], "Aggregated = attempts")
    # failures: keyed alike, the status in Locust's words
    lf = {(x[0], x[1]): x for x in L["failures"][1:]}
    bf = {(x[0], x[1]): x for x in B["failures"][1:]}
    eq(set(bf), set(lf), "failure rows keyed by (method, name)")
    for k in lf:
        pat = r"HTTPError\('404 Client Error: Not Found for url: \S*/api/nope'\)"
        check(re.fullmatch(pat, lf[k][2]) and re.fullmatch(pat, bf[k][2]), f"error texts {lf[k][2]!r} {bf[k][2]!r}")
        eq(int(bf[k][3]), names[k]["failures"], "occurrences")
        for t in bf[k][4:6]:
            check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t), f"First/Last Seen in UTC ISO: {t!r}")
        check(bf[k][4] <= bf[k][5], "first seen before last seen")
    # history: the kinds of Locust's rows with requests, and the totals of barrage's
    lh, bh = L["stats_history"], B["stats_history"]
    ldata = [x for x in lh[1:] if int(x[17])]
    check(ldata, f"Locust's history has rows with requests: {lh}")
    hk = [kind(v) for v in ldata[-1]]
    for row in bh[1:]:
        eq(len(row), len(lh[0]), "history row length")
        eq([kind(v) for v in row[:4]], hk[:4], "Timestamp, User Count, Type, Name")
        if int(row[17]):
            eq([kind(v) for v in row[4:19]] + [kind(v) for v in row[20:]], hk[4:19] + hk[20:],
               f"history cells but the median: {row} vs {ldata[-1]}")
        check(all(re.fullmatch(r"\d+\.\d{6}", v) for v in row[4:6]), f"Requests/s, Failures/s as '%f': {row[4:6]}")
        check(all(kind(v) in ("int", "N/A") for v in row[6:17]), f"percentiles: {row[6:17]}")
        eq([kind(v) for v in row[17:19]], ["int", "int"], "Total counts")
    # per second: a row per (method, name) as Locust's --csv-full-history, in its order, then Aggregated
    def seconds(rows):
        by = {}
        for x in rows[1:]:
            by.setdefault(x[0], []).append(tuple(x[2:4]))
        return by
    lsec = [keys for keys in seconds(lh).values() if len(keys) > 1]
    check(lsec, f"Locust's full history has per-name rows: {lh}")
    bsec = list(seconds(bh).values())
    eq(bsec[-1], lsec[-1], "the last second's row keys")
    check(all(keys[-1] == ("", "Aggregated") for keys in bsec), "each second ends with Aggregated")
    last = {tuple(x[2:4]): x for x in bh[1:] if x[0] == bh[-1][0]}
    for k, row in last.items():
        eq((int(row[17]), int(row[18])), (int(brows[k]["Request Count"]), int(brows[k]["Failure Count"])),
           f"{k}: the history's last totals = stats.csv")
        eq(row[19:24], [brows[k][c] for c in TOTALS], f"{k}: the history's last times and size = stats.csv's")
        eq(round(sum(float(x[4]) for x in bh[1:] if tuple(x[2:4]) == k)), int(row[17]),
           f"{k}: Requests/s adds up to the total")


TOTALS = ("Median Response Time", "Average Response Time", "Min Response Time", "Max Response Time",
          "Average Content Size")


def locust_ms(us):
    """Locust's stored response time (stats.py log_request), in ms."""
    unit = 1000 if us < 100000 else 10000 if us < 1000000 else 100000 if us < 10000000 else 1000000
    q, r = divmod(us, unit)
    if 2 * r > unit or (2 * r == unit and q % 2):
        q += 1
    return q * unit // 1000


def test_rounding_past_100ms_and_the_median_clamp():
    with tempfile.TemporaryDirectory() as tmp, Serve("--delay", "120ms") as s:
        prefix = os.path.join(tmp, "R")
        r = barrage("-t", "2", "-c", "4", "-d", "1.5s", "--csv", prefix, s.url + "/slow")
        eq(r.rc, 0, f"{r}")
        rows = read(prefix + "_stats.csv")
        history = read(prefix + "_stats_history.csv")
    head, row, agg = rows[0], dict(zip(rows[0], rows[1])), dict(zip(rows[0], rows[2]))
    eq((row["Type"], row["Name"]), ("GET", "/slow"), "a plain run: one row, -m's method and the URL's path")
    eq(int(row["Request Count"]), r.json["summary"]["attempts"], "count from the JSON")
    eq([agg[c] for c in head[2:]], [row[c] for c in head[2:]], "Aggregated = the one row")
    pcts = [int(row[c]) for c in head[11:]]
    check(all(p % 10 == 0 and p >= 120 for p in pcts), f"past 100 ms, 10 ms steps: {pcts}")
    eq(pcts[-1], locust_ms(r.json["latency"]["max"]), "100% = the max, rounded as Locust")
    lo, hi, med = float(row["Min Response Time"]), float(row["Max Response Time"]), row["Median Response Time"]
    check(kind(med) == "float" and lo <= float(med) <= hi, f"median {med!r}: a float in [{lo}, {hi}]")
    check(float(med) in (lo, hi) or float(med) % 10 == 0, f"median {med}: 10 ms steps, or clamped to min/max")
    # past 10 ms the histogram's buckets are 0.1% wide: the history's totals are kept exact beside them,
    # so its last row is stats.csv's to the last digit (as Locust's is), from both threads
    eq(history[-1][19:24], [agg[c] for c in TOTALS], "the history's last totals = stats.csv's")
    check(float(history[-1][21]) < float(history[-1][22]), f"min < max: {history[-1]}")


def test_history_cumulative_or_per_second():
    """A server that holds its first 400 ms: the history's 100% column is the
    max since the start (cumulative, Locust's default) or that second's own
    (per-second), each the JSON series' max rounded as Locust rounds."""
    for mode in ("cumulative", "per-second"):
        with tempfile.TemporaryDirectory() as tmp, Serve("--stall", "400ms:60s") as s:
            prefix = os.path.join(tmp, "H")
            r = barrage("-t", "1", "-c", "2", "-d", "2s", "--csv", prefix, "--csv-history", mode, s.url)
            eq(r.rc, 0, f"{r}")
            rows = read(prefix + "_stats_history.csv")
        head, series = rows[0], r.json["series"]
        eq(len(rows) - 1, len(series), f"{mode}: one row per second of the series")
        check(max(p["max"] for p in series) >= 200000, f"{mode}: the stall shows: {series}")
        top = 0
        for row, p in zip(rows[1:], series):
            top = max(top, p["max"])
            want = locust_ms(top if mode == "cumulative" else p["max"])
            got = row[head.index("100%")]
            if mode == "per-second" and not p["requests"]:
                eq(got, "N/A", f"{mode}: a second without responses")
                continue
            # the histogram's bucket (under 0.1% wide) may round across one 10 ms step
            check(abs(int(got) - want) <= (10 if want >= 100 else 0), f"{mode} 100% {got} vs {want}: {row}")
        eq(int(rows[-1][head.index("Total Request Count")]), r.json["summary"]["attempts"], f"{mode} total")


def test_plain_content_size_is_the_bodies_bytes():
    """Locust's Average Content Size is len(response.content): no head, no chunk framing."""
    cases = ((("--body-size", "1000"), (), 1000.0), (("--body-size", "40000", "--chunked"), (), 40000.0),
             (("--body-size", "1000"), ("-m", "HEAD"), 0.0))
    with tempfile.TemporaryDirectory() as tmp:
        for serve_args, args, want in cases:
            prefix = os.path.join(tmp, "C")
            with Serve(*serve_args) as s:
                r = barrage("-t", "1", "-c", "2", "-d", "0.5s", *args, "--csv", prefix, s.url + "/x")
            eq(r.rc, 0, f"{r}")
            rows = read(prefix + "_stats.csv")
            col = rows[0].index("Average Content Size")
            eq([float(x[col]) for x in rows[1:]], [want, want], f"{serve_args} {args}: the row and Aggregated")
            summary = r.json["summary"]
            eq(summary["content_bytes"], int(want) * summary["requests"], f"{serve_args} {args}: JSON content_bytes")
            check(summary["bytes"] > summary["content_bytes"], f"bytes read include the heads: {summary}")
            history = read(prefix + "_stats_history.csv")
            eq(float(history[-1][-1]), want, f"{serve_args} {args}: the history's Total Average Content Size")


def test_plain_failures_name_the_status_and_url():
    with tempfile.TemporaryDirectory() as tmp, Serve("--fault", "status500:3") as s:
        prefix = os.path.join(tmp, "F")
        r = barrage("-t", "1", "-c", "2", "-d", "1s", "--csv", prefix, s.url + "/x")
        eq(r.rc, 0, f"{r}")
        fails = read(prefix + "_failures.csv")
        stats = read(prefix + "_stats.csv")
    eq(len(fails), 2, f"one failure row: {fails}")
    eq(fails[1][:3], ["GET", "/x", f"HTTPError('500 Server Error: Internal Server Error for url: {s.url}/x')"],
       "the status and reason in Locust's words")
    eq(int(fails[1][3]), r.json["summary"]["status"]["500"], "occurrences = the JSON's 500s")
    eq(int(dict(zip(stats[0], stats[-1]))["Failure Count"]), r.json["summary"]["failed"], "Aggregated failures")


def test_bad_history_mode_is_a_usage_error():
    r = barrage("--csv", "x", "--csv-history", "hourly", "http://127.0.0.1:9/")
    eq(r.rc, 2, f"{r}")
    check("--csv-history: 'hourly' is not a history mode (use cumulative or per-second)" in r.err, r.err)


def test_method_and_name_keys_survive_merge_and_done():
    """(method, name) entries: JSON `method`/`bytes` read back by merge
    exactly; done()'s summary and thresholds judge a name over its methods."""
    script_text = PORT + """
function done(summary)
   local h = summary.names["/hello"]
   io.write(string.format("DONE hello=%d\\n", h.requests))
end
"""
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        script = os.path.join(tmp, "port.lua")
        with open(script, "w") as f:
            f.write(script_text)
        docs, files = [], []
        for i in range(2):
            path = os.path.join(tmp, f"r{i}.json")
            r = barrage("-t", "1", "-c", "2", "-d", "1s", "-s", script, "--json", path,
                        "--threshold", "/hello:requests>0", s.url)
            eq(r.rc, 0, f"{r}")
            d = json.load(open(path))
            hello = {n["method"]: n["requests"] for n in d["names"] if n["name"] == "/hello"}
            eq(set(hello), {"GET", "POST"}, "/hello is two entries")
            check(f"DONE hello={hello['GET'] + hello['POST']}" in r.out, f"done() sums the methods: {r.out}")
            eq(d["thresholds"][0]["measured"], hello["GET"] + hello["POST"], "a threshold on a name sums its methods")
            docs.append(d)
            files.append(path)
        m = barrage("merge", *files)
        eq(m.rc, 0, f"{m}")
        merged = json.loads(m.out)
    want = {}
    for d in docs:
        for n in d["names"]:
            w = want.setdefault((n["method"], n["name"]), [0, 0, 0])
            w[0] += n["requests"]; w[1] += n["failures"]; w[2] += n["bytes"]
    eq({(n["method"], n["name"]): [n["requests"], n["failures"], n["bytes"]] for n in merged["names"]}, want,
       "merge keeps (method, name) entries and their bytes exactly")
