"""Per-stage results, `barrage report`, and charts with ok and failed apart.

One 3 s run (--stages 1s:2,1s:4,1s:4 against `barrage serve --fault status500
--fault-window 0.85s:1.45s`: 500s only inside the second stage) is shared by
most tests: it writes --json, --csv and --html, and prints its report. The
first connection opens 0.25 s in (the ramp from 0 to 2 reaches 0.5 then), so
the window falls inside stage 2's second with margins on both sides.
A 2-shard -R run with rate stages (started together with --start-at) is
merged for the fleet tests."""
import atexit
import csv
import filecmp
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import BARRAGE, ROOT, Serve, barrage, check, eq, no_sanitizer_report
from schema import errors as schema_errors
from test_html import Dom, fmt_us

STAGES = "1s:2,1s:4,1s:4"
TARGETS = [2, 4, 4]
THRESHOLDS = ("p(99)<2s", "failed_rate<90%")
SCHEMA = os.path.join(ROOT, "src", "result", "result.schema.json")
CSVS = ("stats", "stats_history", "failures", "status", "stages")
_RUN, _FLEET = {}, {}


def tmpdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


def load(path):
    with open(path) as f:
        return json.load(f)


def run():
    """The shared run: {dir, json, text, result}."""
    if _RUN:
        return _RUN
    d = tmpdir("barrage-stages-")
    p = lambda name: os.path.join(d, name)  # noqa: E731
    with Serve("--fault", "status500", "--fault-window", "0.85s:1.45s") as s:
        r = barrage("-t", "2", "-c", "4", "--stages", STAGES, "--threshold", THRESHOLDS[0],
                    "--threshold", THRESHOLDS[1], "--json", p("run.json"), "--csv", p("run"), "--html", p("run.html"),
                    s.url, timeout=30)
    eq(r.rc, 0, f"exit code of the run ({r.err})")
    _RUN.update(dir=d, json=r.json, text=r.out, result=r, p=p)
    return _RUN


def report(*args, timeout=30):
    r = barrage("report", *args, timeout=timeout)
    no_sanitizer_report(r.err, "barrage report")
    return r


# ---- per-stage rows --------------------------------------------------------------

def test_stage_rows_match_targets_and_add_up():
    d = run()["json"]
    st = d["stages"]
    eq([s["index"] for s in st], [0, 1, 2], "one row per stage")
    eq([s["target"] for s in st], TARGETS, "targets")
    eq([s["target_unit"] for s in st], ["connections"] * 3, "targets are connections")
    eq([(s["start_s"], s["end_s"]) for s in st], [(0, 1), (1, 2), (2, 3)], "planned spans")
    eq([s["users"] for s in st], TARGETS, "achieved users (connections open at each stage's end)")
    summ = d["summary"]
    for key, want in (("requests", summ["requests"]), ("failed", summ["failed"])):
        eq(sum(s[key] for s in st), want, f"stage {key} add up to the run's")
    for s in st:
        pts = [p for p in d["series"] if p["stage"] == s["index"]]
        eq(s["requests"], sum(p["requests"] for p in pts), f"stage {s['index']} requests = its seconds'")
        eq(s["ok"], sum(p["ok"] for p in pts), f"stage {s['index']} ok = its seconds'")
        eq(s["seconds"], len(pts), f"stage {s['index']} seconds")
        eq(s["ok"] + s["failed"], s["requests"] + sum(s["errors"][k] for k in s["errors"] if k != "status"),
           f"stage {s['index']}: ok + failed = attempts")
        eq(s["latency"]["count"], s["requests"], f"stage {s['index']}: a latency per response")
        for k, v in (("rps", "requests"), ("ok_rps", "ok"), ("failed_rps", "failed")):
            check(abs(s[k] - s[v] / s["duration_s"]) < 1e-6 * max(1, s[k]), f"stage {s['index']} {k}")
    # the stages' histograms are the run's, split: bucket counts add up exactly
    total = {}
    for s in st:
        for i, c in s["latency"]["histogram"]["buckets"]:
            total[i] = total.get(i, 0) + c
    eq(sorted(total.items()), sorted((i, c) for i, c in d["latency"]["histogram"]["buckets"]),
       "per-stage histograms merge into the run's")
    eq(schema_errors(d, load(SCHEMA)),
       [], "the result follows the schema")


def test_fault_window_fails_only_its_stage():
    d = run()["json"]
    st = d["stages"]
    check(st[1]["failed"] > 0 and st[1]["ok"] > 0, f"stage 2 has failures and successes: {st[1]['failed']}, {st[1]['ok']}")
    eq((st[0]["failed"], st[2]["failed"]), (0, 0), "no failures outside the fault window's stage")
    eq(st[1]["errors"]["status"], st[1]["failed"], "the failures are statuses (500)")
    check(st[1]["failed_rps"] > 0 and st[0]["failed_rps"] == 0 == st[2]["failed_rps"], "failed/s in stage 2 only")
    failing = [p["t"] for p in d["series"] if p["failed"]]
    check(failing and all(p["stage"] == 1 for p in d["series"] if p["failed"]), f"failing seconds {failing}")
    for p in d["series"]:
        eq(p["ok"] + p["failed"], p["requests"], f"second {p['t']}: ok + failed = responses (no socket errors)")
        eq(p["failed"], p["status"].get("500", 0), f"second {p['t']}: failed = its 500s")


def test_terminal_table_shows_each_stage():
    r = run()
    d, text = r["json"], r["text"]
    lines = text.splitlines()
    head = [i for i, l in enumerate(lines) if l.strip().startswith("Stages")]
    eq(len(head), 1, f"one stage table in:\n{text}")
    rows = lines[head[0] + 1:head[0] + 4]
    for s, row in zip(d["stages"], rows):
        f = row.split()
        eq(f[0], str(s["index"] + 1), f"stage number in {row!r}")
        eq((f[2], int(f[3])), (str(s["target"]), s["users"]), f"target and users in {row!r}")
        eq([float(x) for x in f[4:7]], [round(s[k] / s["duration_s"], 2) for k in ("requests", "ok", "failed")],
           f"req/s, ok/s, failed/s in {row!r}")
        eq(f[7:10], [fmt_us(s["latency"]["percentiles"][k]) for k in ("50", "95", "99")], f"p50/p95/p99 in {row!r}")


def test_stages_csv():
    r = run()
    import csv
    with open(r["p"]("run_stages.csv")) as f:
        rows = list(csv.DictReader(f))
    st = r["json"]["stages"]
    eq(len(rows), len(st), "a CSV row per stage")
    for row, s in zip(rows, st):
        eq((int(row["Stage"]), float(row["Target"]), int(row["User Count"])), (s["index"] + 1, s["target"], s["users"]),
           "stage, target, users")
        eq((int(row["Request Count"]), int(row["OK Count"]), int(row["Failure Count"])),
           (s["requests"], s["ok"], s["failed"]), "counts")
        eq(float(row["99%"]), round(s["latency"]["percentiles"]["99"] / 1000, 2), "p99 (ms)")
        eq(float(row["Failures/s"]), round(s["failed"] / s["duration_s"], 2), "failures/s")


# ---- the charts --------------------------------------------------------------------

def test_charts_show_ok_and_failed_apart_and_failures_by_status():
    r = run()
    d = r["json"]
    with open(r["p"]("run.html"), encoding="utf-8") as f:
        dom = Dom(f.read()).root
    pts = [p for p in d["series"] if p["t"] < d["duration_s"] or p["t"] == 0]
    rps = dom.find("svg", id="rps-chart")
    eq(int(rps.attrs["data-total-ok"]), sum(p["ok"] for p in pts), "rps-chart ok total")
    eq(int(rps.attrs["data-total-failed"]), sum(p["failed"] for p in pts), "rps-chart failed total")
    for cls in ("ok", "failed", "rps"):
        check(rps.find("polyline", **{"class": cls}), f"rps-chart has a {cls} line")
    eq(rps.find("polyline", **{"class": "ok"}).attrs["stroke"] != rps.find("polyline", **{"class": "failed"}).attrs["stroke"],
       True, "ok and failed in different colours")
    status = dom.find("svg", id="status-chart")
    eq(status.attrs["data-codes"], "500", "failed statuses charted")
    eq(int(status.attrs["data-total"]), sum(p["status"].get("500", 0) for p in pts), "status-chart total")
    check(status.find("g", **{"class": "status-500"}).find("polyline"), "a line for 500")
    for cid in ("rps-chart", "status-chart", "errors-chart", "latency-chart"):
        eq(dom.find("svg", id=cid).attrs["data-stage-boundaries"], "1,2", f"{cid} stage boundaries")
        eq(len(dom.find("svg", id=cid).find_all("line", **{"class": "stage"})), 2, f"{cid} stage lines")
    rows = [tr for tr in dom.find("table", id="stages").find_all("tr") if "data-stage" in tr.attrs]
    eq(len(rows), 3, "HTML stage rows")
    for tr, s in zip(rows, d["stages"]):
        eq(int(tr.find(data_metric="users").text), s["users"], "HTML users")
        eq(int(tr.find(data_metric="requests").text), s["requests"], "HTML requests")
        eq(int(tr.find(data_metric="failed").attrs["data-count"]), s["failed"], "HTML failed")
        for k in ("50", "95", "99"):
            eq(int(tr.find(data_metric="p" + k).attrs["data-us"]), s["latency"]["percentiles"][k], f"HTML p{k}")


# ---- barrage report ------------------------------------------------------------

def test_report_equals_the_runs_outputs():
    r = run()
    p = r["p"]
    rep = report(p("run.json"), "--json", p("again.json"), "--csv", p("again"), "--html", p("again.html"))
    eq(rep.rc, 0, f"report exit code ({rep.err})")
    eq(rep.out, r["text"], "the terminal report is the run's own")
    for name in CSVS:
        if name != "stats_history":
            check(filecmp.cmp(p(f"run_{name}.csv"), p(f"again_{name}.csv"), shallow=False), f"{name}.csv identical")
    # the history: a result holds each second's counts, not its latency histogram or content (N/A)
    with open(p("run_stats_history.csv")) as a, open(p("again_stats_history.csv")) as b:
        ra, rb = list(csv.reader(a)), list(csv.reader(b))
    eq(rb[0], ra[0], "the history's header")
    agg = [x for x in ra[1:] if x[3] == "Aggregated"]
    eq([x[:6] + x[17:19] for x in rb[1:]], [x[:6] + x[17:19] for x in agg], "the history's counts per second")
    check(all(set(x[6:17] + x[19:]) == {"N/A"} for x in rb[1:]), f"what a result cannot know is N/A: {rb[1:3]}")
    # the HTML page: the run's, but for the client threads' busy % (one machine's, not in a result)
    with open(p("run.html")) as a, open(p("again.html")) as b:
        ha, hb = a.read(), b.read()
    ha = re.sub(r"<section><h2>Client threads</h2>.*?</section>\n", "", ha, flags=re.S)
    eq(hb, ha, "the HTML page is the run's (without its client threads)")
    own = {k: v for k, v in r["json"].items() if k not in ("client", "target")}  # one machine's: not rendered again
    eq(load(p("again.json")), own, "the JSON is the run's (without its client threads)")
    # --latency: the percentile table a file cannot know was asked for
    lat = report(p("run.json"), "--latency")
    eq(lat.rc, 0, "report --latency")
    check("Latency Distribution" in lat.out and "Latency Distribution" not in r["text"], "--latency adds the table")
    # a threshold given now is evaluated on the file's numbers
    th = report(p("run.json"), "--threshold", "p(50)<1us", "--threshold", THRESHOLDS[0])
    eq(th.rc, 99, f"a failing threshold exits 99 ({th.err})")
    lines = [l for l in th.out.splitlines() if l.startswith("  \u2713") or l.startswith("  \u2717")]
    eq([l.split()[1] for l in lines], [THRESHOLDS[0], THRESHOLDS[1], "p(50)<1us"], "the file's thresholds, then the new, once each")
    eq(lines[2].split()[0], "\u2717", "p(50)<1us fails")


def test_report_of_a_rate_run_with_latency_equals_its_text():
    """A -R run where every response fails fast (3 in 4 a 429, the rest 500s): the text renders again
    (Timeline and Failed lines included), and the status chart has both codes, the most frequent first."""
    d = tmpdir("barrage-stages-rate-")
    path, html = os.path.join(d, "rate.json"), os.path.join(d, "rate.html")
    with Serve("--status", "429", "--fault", "status500:4") as s:
        r = barrage("-t", "1", "-c", "2", "-R", "200", "-d", "1s", "--latency", "--json", path, "--html", html, s.url)
    eq(r.rc, 0, f"the -R run ({r.err})")
    check("Service" in r.out and "Latency Distribution (corrected)" in r.out, "a corrected -R report")
    rep = report(path, "--latency")
    eq((rep.rc, rep.out), (0, r.out), "report --latency of a -R run: the run's text, Timeline line included")
    st = r.json["summary"]["status"]
    check(st.get("429", 0) > st.get("500", 0) > 0 and set(st) == {"429", "500"}, f"statuses {st}")
    with open(html, encoding="utf-8") as f:
        dom = Dom(f.read()).root
    chart = dom.find("svg", id="status-chart")
    eq(chart.attrs["data-codes"], "429,500", "failing statuses, most frequent first")
    plotted = [p for p in r.json["series"] if p["t"] < r.json["duration_s"] or p["t"] == 0]
    eq(int(chart.attrs["data-total"]), sum(sum(p["status"].values()) for p in plotted), "every response failed")
    for code in ("429", "500"):
        check(chart.find("g", **{"class": f"status-{code}"}).find("polyline"), f"a line for {code}")
    rps = dom.find("svg", id="rps-chart")
    eq(int(rps.attrs["data-total-ok"]), 0, "no ok responses")
    eq(int(rps.attrs["data-total-failed"]), sum(p["failed"] for p in plotted), "all failed")


def fleet():
    """Two shards of one -R run with rate stages, merged: {dir, shards, merged}."""
    if _FLEET:
        return _FLEET
    d = tmpdir("barrage-stages-fleet-")
    p = lambda name: os.path.join(d, name)  # noqa: E731
    with Serve() as s:
        start = time.time() + 0.8
        procs = [subprocess.Popen([BARRAGE, "-t", "1", "-c", "4", "-R", "200", "--stages", "1s:200,1s:200",
                                   "--shard", f"{i}/2", "--start-at", f"{start:.3f}", "-q",
                                   "--threshold", "requests<225", "--threshold", "p(99)<2s",
                                   "--json", p(f"shard{i}.json"), s.url],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
        for pr in procs:
            out, err = pr.communicate(timeout=30)
            no_sanitizer_report(err, "a shard")
            eq(pr.returncode, 0, f"a shard passes its thresholds alone ({err})")
    m = barrage("merge", "-o", p("merged.json"), p("shard0.json"), p("shard1.json"))
    eq(m.rc, 0, f"merge ({m.err})")
    _FLEET.update(dir=d, p=p, shards=[load(p(f"shard{i}.json")) for i in range(2)], merged=load(p("merged.json")))
    return _FLEET


def test_merge_keeps_stages_and_thresholds_on_the_merged_numbers():
    f = fleet()
    m, shards = f["merged"], f["shards"]
    eq(len(m["stages"]), 2, "merged stages")
    for k, s in enumerate(m["stages"]):
        parts = [sh["stages"][k] for sh in shards]
        for key in ("requests", "ok", "failed", "users"):
            eq(s[key], sum(x[key] for x in parts), f"stage {k} {key} summed over shards")
        eq(s["target_unit"], "requests/s", "rate stages")
        eq(s["latency"]["count"], sum(x["latency"]["count"] for x in parts), f"stage {k} latency count")
        want = {}
        for x in parts:
            for i, c in x["latency"]["histogram"]["buckets"]:
                want[i] = want.get(i, 0) + c
        eq(sorted(map(tuple, s["latency"]["histogram"]["buckets"])), sorted(want.items()), f"stage {k} buckets merged")
    eq(sum(s["requests"] for s in m["stages"]), m["summary"]["requests"], "merged stages add up")
    th = {t["expr"]: t for t in m["thresholds"]}
    eq(sorted(th), sorted(["requests<225", "p(99)<2s"]), "the inputs' thresholds, once each")
    eq(th["requests<225"]["measured"], m["summary"]["requests"], "evaluated on the merged requests")
    check(m["summary"]["requests"] >= 225 and not th["requests<225"]["pass"],
          f"each shard passed, the fleet ({m['summary']['requests']} requests) does not")
    eq(m["exit_code"], 99, "the merged result's exit code says a threshold failed")
    eq(schema_errors(m, load(SCHEMA)),
       [], "the merge follows the schema")


def test_report_of_a_merge_gives_html_csv_and_thresholds():
    f = fleet()
    p, m = f["p"], f["merged"]
    rep = report(p("merged.json"), "--html", p("fleet.html"), "--csv", p("fleet"))
    eq(rep.rc, 99, f"the broken threshold exits 99 ({rep.err})")
    check("\u2717 requests<225" in rep.out, f"the verdict is printed:\n{rep.out}")
    check(f"{m['summary']['requests']} requests in" in rep.out, "the merged request count")
    import csv
    with open(p("fleet_stats.csv")) as fh:
        agg = [row for row in csv.DictReader(fh) if row["Name"] == "Aggregated"]
    eq(int(agg[0]["Request Count"]), m["summary"]["requests"], "CSV of the merged result")
    with open(p("fleet_stages.csv")) as fh:
        eq([int(r["Request Count"]) for r in csv.DictReader(fh)], [s["requests"] for s in m["stages"]], "stages CSV")
    with open(p("fleet.html"), encoding="utf-8") as fh:
        dom = Dom(fh.read()).root
    eq(dom.find(data_metric="requests").text, str(m["summary"]["requests"]), "HTML requests")
    eq(dom.find(id="verdict").text, "thresholds failed", "HTML verdict")
    rows = [tr for tr in dom.find("table", id="stages").find_all("tr") if "data-stage" in tr.attrs]
    eq([int(tr.find(data_metric="users").text) for tr in rows], [s["users"] for s in m["stages"]], "HTML users")
    ok = report(p("merged.json"), "--threshold", "requests>=1")
    eq(ok.rc, 99, "the file's failing threshold still counts")
    again = report(p("shard0.json"))
    eq(again.rc, 0, f"a shard alone passes ({again.err})")


def test_report_bad_input_exits_2():
    d = tmpdir("barrage-stages-bad-")
    p = lambda name: os.path.join(d, name)  # noqa: E731
    with open(p("text.json"), "w") as fh:
        fh.write("not json")
    with open(p("obj.json"), "w") as fh:
        fh.write("{}")
    good = run()["json"]
    broken = dict(good)
    del broken["summary"]
    with open(p("nosummary.json"), "w") as fh:
        json.dump(broken, fh)
    cases = (((p("missing.json"),), "cannot read"), ((p("text.json"),), "text.json"),
             ((p("obj.json"),), "not a barrage result"), ((p("nosummary.json"),), "summary"),
             ((), "no result"), ((p("obj.json"), p("text.json")), "one result at a time"),
             ((run()["p"]("run.json"), "--threshold", "p(9"), "p(9"),
             ((run()["p"]("run.json"), "--bogus"), "unknown option"), ((run()["p"]("run.json"), "--html"), "needs a value"))
    for args, what in cases:
        r = report(*args)
        eq(r.rc, 2, f"report {args}: exit code ({r.err})")
        eq(len(r.err.strip().splitlines()), 1, f"report {args}: one line: {r.err!r}")
        check(what in r.err, f"report {args}: {what!r} in {r.err!r}")
        eq(r.out, "", f"report {args}: nothing on stdout")
    h = report("--help")
    eq(h.rc, 0, "report --help")
    check("barrage report RESULT.json" in h.out, "usage")


def test_serve_fault_window_bad_values():
    for args, what in ((("--fault", "status500", "--fault-window", "2s:1s"), "ends before"),
                       (("--fault", "status500", "--fault-window", "1s"), "FROM:TO"),
                       (("--fault-window", "1s:2s"), "needs a --fault")):
        r = subprocess.run([BARRAGE, "serve", "--listen", "127.0.0.1:0", *args], capture_output=True, text=True,
                           timeout=10)
        eq(r.returncode, 2, f"serve {args}")
        check(what in r.stderr and len(r.stderr.strip().splitlines()) == 1, f"serve {args}: {r.stderr!r}")
