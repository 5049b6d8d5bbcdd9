"""`barrage merge` and `barrage compare` on real results.

One batch of runs is shared by every test, all started at once (about 6 s):
three runs in parallel against one server (a workflow script with two named
requests and a check, the server answering every 25th request with a 500)
for merge, and a slow (--delay 5ms) and a fast run of 6 s each for compare.
Merged histograms are checked bucket by bucket against the inputs, and every
merged percentile against a Python re-implementation of hist_percentile."""
import atexit
import json
import math
import os
import shutil
import subprocess
import tempfile

from harness import BARRAGE, ROOT, Fail, Serve, barrage, check, eq, no_sanitizer_report
from schema import errors as schema_errors

PCTS = ("50", "75", "90", "95", "99", "99.9", "99.99", "100")
SCRIPT = """
function user(u)
  local r = u:get("/a", { name = "page a" })
  check(r.status == 200, "a answered")
  u:get("/b", { name = "page b" })
end
"""
_RUNS = {}


def runs():
    """{dir, fast, slow, par: [3 paths]}: the shared runs, made once."""
    if _RUNS:
        return _RUNS
    tmp = tempfile.mkdtemp(prefix="barrage-compare-")
    atexit.register(shutil.rmtree, tmp, True)
    script = os.path.join(tmp, "named.lua")
    with open(script, "w") as f:
        f.write(SCRIPT)
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    with Serve() as fast, Serve("--delay", "5ms") as slow, Serve("--fault", "status500:25") as shared:
        cmds = [["-t1", "-c4", "-d6s", "--no-pin", "-q", "--json", p("fast.json"), fast.url],
                ["-t1", "-c4", "-d6s", "--no-pin", "-q", "--json", p("slow.json"), slow.url]]
        cmds += [["-t1", "-c2", "-d2s", "--no-pin", "-q", "-s", script, "--json", p(f"par{i}.json"), shared.url]
                 for i in range(3)]
        procs = [subprocess.Popen([BARRAGE] + c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for c in cmds]
        for c, pr in zip(cmds, procs):
            try:
                out, err = pr.communicate(timeout=40)
            except subprocess.TimeoutExpired:
                pr.kill()
                pr.communicate()
                raise Fail(f"barrage {' '.join(c)} did not end")
            no_sanitizer_report(err, " ".join(c))
            eq(pr.returncode, 0, f"exit code of barrage {' '.join(c)}: {err}")
    _RUNS.update(dir=tmp, fast=p("fast.json"), slow=p("slow.json"), par=[p(f"par{i}.json") for i in range(3)])
    return _RUNS


def load(path):
    with open(path) as f:
        return json.load(f)


def merge(*paths, timeout=30):
    r = barrage("merge", *paths, timeout=timeout)
    eq(r.rc, 0, f"merge exit code ({r.err})")
    return json.loads(r.out), r


# ---- the histogram layout and hist_percentile, in Python ------------------------

def hist_highest(i):
    shift = 0 if i < 2048 else (i >> 10) - 1
    return ((i - (shift << 10)) << shift) + (1 << shift) - 1


def percentile(buckets, count, lo, hi, p):
    """hist_percentile (src/engine/stats.c): the bucket holding rank ceil(p% of
    count), reported as the bucket's highest value clamped to [min, max]."""
    if count == 0:
        return 0
    if not p > 0:
        return lo
    if p >= 100:
        return hi
    x = p * count / 100.0
    rank = min(max(math.ceil(x - x * 1e-12), 1), count)
    seen = 0
    for i, c in sorted(buckets.items()):
        seen += c
        if seen >= rank:
            return min(max(hist_highest(i), lo), hi)
    raise Fail("rank beyond the buckets")


def buckets(dist):
    return {i: c for i, c in dist["histogram"]["buckets"]}


def summed_buckets(dists):
    out = {}
    for d in dists:
        for i, c in d["histogram"]["buckets"]:
            out[i] = out.get(i, 0) + c
    return out


def check_merged_dist(m, ins, what):
    """m is the exact merge of the distributions ins."""
    ins = [d for d in ins if d is not None]
    want = summed_buckets(ins)
    eq(buckets(m), want, f"{what}: merged buckets are the sums of the inputs' buckets")
    count = sum(d["count"] for d in ins)
    eq(m["count"], count, f"{what}: count")
    eq(sum(want.values()), count, f"{what}: buckets hold count values")
    if count:
        eq(m["min"], min(d["min"] for d in ins if d["count"]), f"{what}: min")
        eq(m["max"], max(d["max"] for d in ins), f"{what}: max")
        s = sum(d["histogram"]["sum"] for d in ins)
        eq(m["histogram"]["sum"], s, f"{what}: sum")
        check(abs(m["mean"] - s / count) <= 1e-5 * max(1, s / count), f"{what}: mean {m['mean']} vs {s / count}")
    for k in PCTS:
        exp = percentile(want, count, m["min"], m["max"], float(k))
        eq(m["percentiles"][k], exp, f"{what}: p{k} from the union of the inputs' buckets")


# ---- merge ----------------------------------------------------------------------------

def test_merge_of_parallel_runs_is_exact():
    r = runs()
    ins = [load(p) for p in r["par"]]
    m, res = merge(*r["par"])
    eq(res.err, "", "no warnings for runs of one configuration")
    s = {k: sum(i["summary"][k] for i in ins) for k in ("requests", "sent", "bytes", "connects")}
    eq({k: m["summary"][k] for k in s}, s, "counters are sums")
    errs = {k: sum(i["summary"]["errors"][k] for i in ins) for k in ins[0]["summary"]["errors"]}
    eq(m["summary"]["errors"], errs, "errors are sums")
    check(errs["status"] > 0, f"the faulty server's 500s were counted: {errs}")
    for key in ("latency", "thread_rps", "connect"):
        check_merged_dist(m[key], [i[key] for i in ins], key)
    check(m["latency"]["count"] > 1000, "enough samples to mean something")
    # names and checks, merged by name
    names = {n["name"]: n for n in m["names"]}
    eq(sorted(names), ["page a", "page b"], "names")
    for name, n in names.items():
        src = [next(x for x in i["names"] if x["name"] == name) for i in ins]
        eq(n["requests"], sum(x["requests"] for x in src), f"{name}: requests")
        eq(n["failures"], sum(x["failures"] for x in src), f"{name}: failures")
        check_merged_dist(n["latency"], [x["latency"] for x in src], f"{name} latency")
        check(abs(n["rps"] - n["requests"] / m["duration_s"]) < 1e-3 * n["rps"] + 1e-6, f"{name}: rps")
    check(sum(n["failures"] for n in names.values()) > 0, "failures were counted per name")
    eq([(c["name"], c["pass"], c["fail"]) for c in m["checks"]],
       [("a answered", sum(i["checks"][0]["pass"] for i in ins), sum(i["checks"][0]["fail"] for i in ins))],
       "checks")
    # time: the earliest start to the latest end
    start = min(i["start_unix_ms"] for i in ins)
    end = max(i["start_unix_ms"] + i["duration_s"] * 1000 for i in ins)
    eq(m["start_unix_ms"], start, "start")
    check(abs(m["duration_s"] - (end - start) / 1000) < 1e-3, f"duration {m['duration_s']} vs {(end - start) / 1000}")
    check(abs(m["summary"]["rps"] - s["requests"] / m["duration_s"]) <= 1e-4 * m["summary"]["rps"], "rps")
    eq(m["config"]["merged_from"], 3, "config.merged_from")
    eq(m["host"]["hosts"], [ins[0]["host"]["hostname"]], "host.hosts (one machine)")
    eq({k: v for k, v in m["config"].items() if k != "merged_from"}, ins[0]["config"], "config of the first")
    # series: by wall-clock second, counts summed
    eq(sum(p["requests"] for p in m["series"]), sum(p["requests"] for i in ins for p in i["series"]),
       "series requests")
    secs = sorted({p["unix_ms"] // 1000 for i in ins for p in i["series"]})
    eq([p["unix_ms"] // 1000 for p in m["series"]], secs, "one point per wall-clock second")
    for p in m["series"]:
        same = [q for i in ins for q in i["series"] if q["unix_ms"] // 1000 == p["unix_ms"] // 1000]
        eq(p["requests"], sum(q["requests"] for q in same), "a second's requests")
        eq(p["max"], max(q["max"] for q in same), "a second's max")
        eq(p["active"], sum(q["active"] for q in same), "a second's connections")


def test_merge_output_follows_the_schema():
    r = runs()
    with open(os.path.join(ROOT, "src", "result", "result.schema.json")) as f:
        schema = json.load(f)
    one = load(r["par"][0])
    m, _ = merge(*r["par"])
    eq(schema_errors(one, schema), [], "an input follows the schema")
    eq(schema_errors(m, schema), [], "the merge follows the schema")
    # one machine's target samples and client load are dropped, with a note
    eq(set(m) - {"thresholds_note", "watch_note"}, set(one) - {"client", "target"}, "the same top-level keys")
    check("client" in one and "watch_note" in m, "the client section dropped with a note")
    eq(m["schema"], "barrage.result/1", "schema")
    eq(m["thresholds"], [], "thresholds dropped")


def test_merge_of_merges_equals_one_merge():
    r = runs()
    a, b, c = r["par"]
    ab = os.path.join(r["dir"], "ab.json")
    res = barrage("merge", "-o", ab, a, b)
    eq((res.rc, res.out), (0, ""), f"merge -o ({res.err})")
    once, _ = merge(a, b, c)
    twice, _ = merge(ab, c)
    eq(twice["config"]["merged_from"], 3, "merged_from adds up")
    for key in ("latency", "thread_rps", "connect"):
        eq(twice[key], once[key], f"{key} after two merges")
    eq(twice["summary"], once["summary"], "summary after two merges")
    eq(twice["names"], once["names"], "names after two merges")
    # per-second percentiles are request-weighted means, rounded to 1 us at each merge
    approx = ("p50", "p90", "p95", "p99")
    strip = lambda ser: [{k: v for k, v in p.items() if k not in approx} for p in ser]  # noqa: E731
    eq(strip(twice["series"]), strip(once["series"]), "series after two merges")
    for p, q in zip(twice["series"], once["series"]):
        check(all(abs(p[k] - q[k]) <= 1 for k in approx), f"per-second percentiles within rounding: {p} {q}")
    # one input: its distributions come back unchanged
    single, _ = merge(a)
    orig = load(a)
    for key in ("latency", "thread_rps", "connect"):
        eq(buckets(single[key]), buckets(orig[key]), f"{key} of a single input")
        eq(single[key]["percentiles"], orig[key]["percentiles"], f"{key} percentiles of a single input")


def test_merge_warns_when_configurations_differ():
    r = runs()
    m, res = merge(r["fast"], r["par"][0])
    lines = res.err.strip().splitlines()
    check(any("warning: config.url differs" in l for l in lines), f"url warning: {res.err}")
    check(any("warning: config.script differs" in l for l in lines), f"script warning: {res.err}")
    eq(m["summary"]["requests"], load(r["fast"])["summary"]["requests"] + load(r["par"][0])["summary"]["requests"],
       "still merged")


# ---- compare ---------------------------------------------------------------------------

def table(out):
    """{metric: (base, new, delta, delta %, verdict)} of the first block."""
    rows, inside = {}, False
    for line in out.splitlines():
        if line.split()[:1] == ["metric"]:
            if inside:
                break
            inside = True
            continue
        if inside and line.startswith("  ") and not line.startswith("  verdict:"):
            parts = line.split()
            if len(parts) >= 6 and not parts[0] in ("ok", "FAILED"):
                rows[" ".join(parts[:-5])] = tuple(parts[-5:])
    return rows


def test_compare_slow_against_fast():
    r = runs()
    res = barrage("compare", r["fast"], r["slow"])
    eq(res.rc, 0, f"no gates: exit 0 ({res.err})")
    t = table(res.out)
    for row in ("req/s", "mean", "p50", "p90", "p99", "p99.9", "max", "errors"):
        check(row in t, f"row {row}: {res.out}")
    eq(t["p50"][4], "slower", f"p50 verdict\n{res.out}")
    eq(t["p90"][4], "slower", f"p90 verdict\n{res.out}")
    eq(t["req/s"][4], "worse", f"req/s verdict\n{res.out}")
    eq(t["p99.9"][4], "n/a", "no per-second p99.9")
    check(t["p50"][2].startswith("+") and t["p50"][3].startswith("+"), f"p50 deltas are positive: {t['p50']}")
    check("\033[" not in res.out, "no colors when stdout is not a terminal")
    check("warning: config.url differs" in res.err, f"different servers: a warning ({res.err})")
    check("Mann-Whitney" in res.out, "the test is named")
    # gates
    res = barrage("compare", "--fail-if", "p(50)>+10%", r["fast"], r["slow"])
    eq(res.rc, 99, f"a failed gate exits 99 ({res.out})")
    check("FAILED p(50)>+10%" in res.out, f"the failed gate is named:\n{res.out}")
    check("1 gate failed" in res.err, res.err)
    res = barrage("compare", "--fail-if", "p(50)<-10%", "--fail-if=rps>+5%", r["fast"], r["slow"])
    eq(res.rc, 0, f"gates that hold exit 0 ({res.out})")
    eq(res.out.count("ok     "), 2, f"two gates ok:\n{res.out}")
    # more than one NEW: one block each
    res = barrage("compare", r["fast"], r["slow"], r["fast"])
    eq(res.rc, 0, res.err)
    eq(res.out.count("  metric "), 2, "two blocks")


def test_compare_colors_on_a_terminal():
    import pty
    r = runs()
    master, slave = pty.openpty()
    try:
        p = subprocess.run([BARRAGE, "compare", r["fast"], r["slow"]], stdout=slave, stderr=subprocess.PIPE,
                           timeout=30, env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})
        os.close(slave)
        slave = None
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    eq(p.returncode, 0, "exit code")
    text = out.decode()
    check("\033[31mslower\033[0m" in text, f"slower in red:\n{text!r}")


def test_compare_run_against_itself_is_noise():
    r = runs()
    res = barrage("compare", r["fast"], r["fast"])
    eq(res.rc, 0, res.err)
    eq(res.err, "", "same configuration: no warnings")
    t = table(res.out)
    eq(t["p50"][4], "noise", f"p50\n{res.out}")
    eq(t["req/s"][4], "noise", f"req/s\n{res.out}")
    check(all(v[4] in ("noise", "n/a") for v in t.values()), f"every verdict noise or n/a:\n{res.out}")
    check(all(v[3] == "+0.00%" for v in t.values()), f"no change:\n{res.out}")


def test_compare_merged_against_its_parts():
    r = runs()
    merged = os.path.join(r["dir"], "merged.json")
    eq(barrage("merge", "-o", merged, *r["par"]).rc, 0, "merge")
    res = barrage("compare", r["par"][0], merged)
    eq(res.rc, 0, res.err)
    check("3 runs merged" in res.out, res.out)
    t = table(res.out)
    check("page a: p50" in t and "page b: failures" in t, f"per-name rows:\n{res.out}")


def test_bad_files_and_gates_exit_2():
    r = runs()
    d = r["dir"]
    bad_json = os.path.join(d, "bad.json")
    with open(bad_json, "w") as f:
        f.write('{"schema": "barrage.result/1",\n  "x": [1,,2]}')
    other = os.path.join(d, "other.json")
    with open(other, "w") as f:
        f.write('{"schema": "something/2"}')
    broken = os.path.join(d, "broken.json")
    data = load(r["fast"])
    data["latency"]["histogram"]["buckets"][0][1] += 1  # counts no longer add up
    with open(broken, "w") as f:
        json.dump(data, f)
    missing = os.path.join(d, "missing.json")
    cases = [
        (("compare", r["fast"], missing), [missing, "cannot read: No such file or directory"]),
        (("compare", bad_json, r["fast"]), [f"{bad_json}:2:11: unexpected ','"]),
        (("compare", r["fast"], other), [other, 'unsupported schema "something/2"']),
        (("compare", r["fast"], broken), [broken, "latency", "count is"]),
        (("merge", r["fast"], bad_json), [bad_json + ":2:11"]),
        (("merge", missing), [missing]),
        (("compare", "--fail-if", "p(99)>5", r["fast"], r["slow"]), ["'5'", "relative change"]),
        (("compare", "--fail-if", "lat>5%", r["fast"], r["slow"]), ["'lat'"]),
        (("compare", r["fast"]), ["BASE"]),
        (("merge",), ["no results"]),
        (("compare", "--bogus", r["fast"], r["slow"]), ["'--bogus'"]),
    ]
    for args, words in cases:
        res = barrage(*args)
        eq(res.rc, 2, f"exit code of {args}: {res.out}{res.err}")
        lines = res.err.strip().splitlines()
        eq(len(lines), 1, f"one line for {args}: {res.err}")
        for w in words:
            check(w in lines[0], f"{w!r} in {lines[0]!r}")
        eq(res.out, "", f"nothing on stdout for {args}")
