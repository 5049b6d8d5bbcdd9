"""k6's and Locust's vocabulary: k6's threshold metric names and tags
against servers whose numbers are known, a script's `options` table (k6's
shapes, the command line wins), and Locust's --users/--spawn-rate/--run-time."""
import json
import os
import re
import tempfile

import schema
from harness import ROOT, Serve, barrage, check, eq

SCHEMA = json.load(open(os.path.join(ROOT, "src", "result", "result.schema.json")))


def verdicts(r):
    """{expression: (pass, measured)} from the JSON result."""
    check(r.json is not None, f"no JSON result: {r}")
    return {t["expr"]: (t["pass"], t["measured"]) for t in r.json["thresholds"]}


def script(text):
    fd, path = tempfile.mkstemp(prefix="barrage-k6-", suffix=".lua")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def run_script(text, *args, serve=()):
    """barrage ARGS... -s SCRIPT(text) against a `barrage serve` (with `serve` options)."""
    path = script(text)
    try:
        with Serve(*serve) as s:
            return barrage(*args, "-s", path, s.url)
    finally:
        os.unlink(path)


def test_http_req_failed_rate_is_failed_rate():
    # every 20th response is a 500: 5% of the requests fail
    with Serve("--fault", "status500:20") as s:
        r = barrage("-t", "1", "-c", "1", "-n", "400", "--threshold", "http_req_failed:rate<0.01",
                    "--threshold", "http_req_failed:rate<0.1", "--threshold", "failed_rate<0.1", s.url)
    eq(r.rc, 99, f"one threshold fails: {r}")
    v = verdicts(r)
    eq(v["http_req_failed:rate<0.01"][0], False, f"{v}")
    eq(v["http_req_failed:rate<0.1"][0], True, f"{v}")
    eq(v["http_req_failed:rate<0.1"][1], r.json["summary"]["failed_rate"], "the same number as failed_rate")
    eq(v["failed_rate<0.1"][1], v["http_req_failed:rate<0.1"][1], "k6's name and barrage's agree")
    eq(round(v["http_req_failed:rate<0.1"][1], 4), 0.05, "5% measured")


def test_http_reqs_and_http_req_duration():
    with Serve("--delay", "20ms") as s:
        r = barrage("-t", "1", "-c", "2", "-n", "20", "--threshold", "http_reqs:count==20",
                    "--threshold", "http_reqs:count>20", "--threshold", "http_reqs:rate>5",
                    "--threshold", "http_req_duration:min>=20", "--threshold", "http_req_duration:med<10",
                    "--threshold", "http_req_duration:avg<1000", "--threshold", "http_req_duration:p(99.9)<1s",
                    "--threshold", "http_req_duration:max<5ms", s.url)
    eq(r.rc, 99, f"{r}")
    v = verdicts(r)
    want = {"http_reqs:count==20": True, "http_reqs:count>20": False, "http_reqs:rate>5": True,
            "http_req_duration:min>=20": True, "http_req_duration:med<10": False,
            "http_req_duration:avg<1000": True, "http_req_duration:p(99.9)<1s": True,
            "http_req_duration:max<5ms": False}
    eq({k: p for k, (p, _) in v.items()}, want, f"verdicts {v}")
    eq(v["http_reqs:count==20"][1], 20, "requests made")
    check(v["http_req_duration:min>=20"][1] >= 20000, f"min measured in us: {v}")


WORKFLOW = """
function user(u)
   local r = u:post("/api/login", { json = { name = "user" .. u.id, password = "pw" }, name = "login" })
   check(r.status == 200, "logged in")
   check(u.iteration % 2 == 0, "even iteration")
   u:get("/api/items", { name = "list items" })
end
"""


def test_checks_iterations_and_tags():
    r = run_script(WORKFLOW, "-t", "1", "-c", "2", "-d", "1s",
                   "--threshold", "checks{check:logged in}:rate>0.99",
                   "--threshold", "checks{check:even iteration}:rate>0.9",
                   "--threshold", "checks:rate<0.9", "--threshold", "checks:rate>0.6",
                   "--threshold", "iterations:count>=10", "--threshold", "iterations:count>100000000",
                   "--threshold", "iterations:rate>5",
                   "--threshold", "http_req_duration{name:login}:p(95)<1000",
                   "--threshold", "http_req_failed{name:login}:rate==0",
                   "--threshold", "http_reqs{name:list items}:count>=10",
                   "--threshold", "login:p(95)<1s")
    eq(r.rc, 99, f"{r}")
    v = verdicts(r)
    fails = sorted(k for k, (p, _) in v.items() if not p)
    eq(fails, ["checks{check:even iteration}:rate>0.9", "iterations:count>100000000"], f"{v}")
    it = r.json["summary"]["iterations"]
    eq(v["iterations:count>=10"][1], it, "iterations measured = summary.iterations")
    # each iteration makes one login: the counts agree
    logins = [n for n in r.json["names"] if n["name"] == "login"][0]
    check(abs(logins["requests"] - it) <= 2, f"one login per iteration: {logins['requests']} vs {it}")
    half = v["checks{check:even iteration}:rate>0.9"][1]
    check(0.4 <= half <= 0.6, f"half the iterations are even: {half}")
    eq(schema.errors(r.json, SCHEMA), [], "schema violations")


def test_a_name_that_never_ran_fails_and_says_so():
    r = run_script(WORKFLOW, "-t", "1", "-c", "1", "-n", "20",
                   "--threshold", "http_req_duration{name:logout}:p(95)<1s",
                   "--threshold", "checks{check:nope}:rate>0", "--threshold", "logut:errors==0",
                   "--threshold", "login:errors==0")
    eq(r.rc, 99, f"{r}")
    v = verdicts(r)
    eq([k for k, (p, _) in v.items() if p], ["login:errors==0"], f"only the name that ran passes: {v}")
    for line in ["barrage: threshold 'http_req_duration{name:logout}:p(95)<1s': no request named 'logout' ran",
                 "barrage: threshold 'checks{check:nope}:rate>0': no check named 'nope' ran",
                 "barrage: threshold 'logut:errors==0': no request named 'logut' ran"]:
        check(line in r.err, f"says '{line}': {r.err}")


OPTIONS = """
options = {
   stages = { {duration = "500ms", target = 2}, {duration = "1s", target = 3} },
   thresholds = {
      http_req_duration = {"p(95)<500", "p(99)<1500"},
      http_req_failed = {"rate<0.01"},
      ["http_req_duration{name:login}"] = {"p(95)<300"},
   },
   threads = 1,
}
function user(u)
   u:post("/api/login", { json = { name = "u", password = "pw" }, name = "login" })
   u:sleep(5)
end
"""


def test_options_table_stages_and_thresholds():
    r = run_script(OPTIONS)
    eq(r.rc, 0, f"{r}")
    c = r.json["config"]
    eq(c["stages"], [{"duration_s": 0.5, "target": 2}, {"duration_s": 1, "target": 3}], "k6's stages")
    eq(c["threads"], 1, "threads = 1")
    eq(c["connections"], 3, "the stages' peak")
    eq(sorted(c["from_script"]), ["stages", "threads", "threshold"], "sources")
    eq(sorted(verdicts(r)), sorted(["http_req_duration:p(95)<500", "http_req_duration:p(99)<1500",
                                    "http_req_failed:rate<0.01", "http_req_duration{name:login}:p(95)<300"]),
       "k6's thresholds, as KEY:EXPR")
    check(all(p for p, _ in verdicts(r).values()), f"{verdicts(r)}")
    active = [p["active"] for p in r.json["series"]]
    eq(max(active), 3, f"the ramp reaches 3: {active}")
    check(1.3 <= r.json["duration_s"] <= 2.5, f"stages last 1.5 s: {r.json['duration_s']}")
    eq(schema.errors(r.json, SCHEMA), [], "schema violations")


def test_command_line_overrides_options_and_thresholds_add_up():
    # -d replaces the script's schedule (stages); -c its vus; thresholds add up
    r = run_script(OPTIONS.replace("threads = 1,", "threads = 1, vus = 5, timeout = '1s',"),
                   "-d", "0.5s", "-c", "2", "-T", "3s", "--threshold", "http_reqs:count>0")
    eq(r.rc, 0, f"{r}")
    c = r.json["config"]
    eq(c["stages"], [], "the command line's -d replaces the stages")
    eq(c["duration_s"], 0.5, "-d")
    eq(c["connections"], 2, "-c wins over vus")
    eq(c["timeout_s"], 3, "-T wins over timeout")
    eq(sorted(c["from_script"]), ["threads", "threshold"], "what the script still set")
    eq(len(verdicts(r)), 5, f"the command line's threshold and the script's four: {verdicts(r)}")


def test_options_errors_exit_2_before_anything_is_sent():
    cases = [
        ("options = { durations = '1s' }", "barrage: options: unknown key 'durations' (use vus/connections, duration"),
        ("options = { duration = true }", "barrage: options.duration: expected a string or a number, got a boolean"),
        ("options = { vus = 'many' }", "barrage: options.vus: 'many' is not a valid number of connections"),
        ("options = { stages = { {duration = '1s'} } }", "barrage: options.stages: a stage needs duration"),
        ("options = { thresholds = { http_req_duration = { {threshold = 'p(95)<1', abortOnFail = true, "
         "delayAbortEval = '10s'} } } }", "unknown field 'delayAbortEval'"),
        ("options = { thresholds = { http_req_duration = {'count<5'} } }",
         "barrage: options.thresholds 'http_req_duration:count<5': http_req_duration takes p(N), avg, med, min or max"),
        ("options = { duration = '1s', stages = { {duration = '1s', target = 1} } }",
         "barrage: options: stages set the duration: drop duration (or stages)"),
        ("options = { rps = 10 }", "barrage: options.rps: k6's rps is a cap"),
        ("options = 5", "barrage: options: expected a table"),
        ("options = { latency = 'yes' }", "barrage: options.latency: expected true or false"),
    ]
    with Serve() as s:
        for text, want in cases:
            path = script(text + "\nfunction user(u) u:get('/') end\n")
            try:
                r = barrage("-n", "1", "-s", path, s.url)
            finally:
                os.unlink(path)
            eq(r.rc, 2, f"{text}: {r}")
            check(want in r.err, f"{text}: says '{want}': {r.err}")
            eq(len(r.err.strip().splitlines()), 1, f"one line: {r.err}")
        counts = s.stop()
    eq(counts.get("requests"), 0, "nothing was sent")


def test_abort_on_fail_in_the_object_form():
    r = run_script("options = { thresholds = { http_reqs = { {threshold = 'count<200', abortOnFail = true} },"
                   " http_req_duration = {'max<10s'} } }\n", "-t", "1", "-c", "2", "-d", "10s")
    eq(r.rc, 99, f"{r}")
    check(r.elapsed < 5, f"stopped early: {r.elapsed:.1f}s")
    check("a threshold can no longer pass; run stopped early" in r.err, r.err)
    v = verdicts(r)
    eq(v["http_reqs:count<200"][0], False, f"{v}")


def test_locust_users_spawn_rate_run_time():
    with Serve() as s:
        r = barrage("-t", "1", "--headless", "--users", "4", "--spawn-rate", "2", "--run-time", "0m3s", s.url)
    eq(r.rc, 0, f"{r}")
    c = r.json["config"]
    eq(c["stages"], [{"duration_s": 2, "target": 4}, {"duration_s": 1, "target": 4}], "0 to 4 at 2/s, then 4")
    eq(c["connections"], 4, "--users")
    active = [p["active"] for p in r.json["series"]]
    check(active and 1 <= active[0] <= 3, f"ramping after 1 s: {active}")
    eq(max(active), 4, f"4 users after the ramp: {active}")
    check(2.7 <= r.json["duration_s"] <= 3.5, f"--run-time 0m3s: {r.json['duration_s']}")


def test_spawn_rate_starts_the_first_user_at_once_and_then_one_every_1_over_r_seconds():
    # Locust starts its first user at once and then one every 1/R s (R < 2); a rate below one user
    # per run-time still runs that first user (it was "every target is 0 connections")
    path = script("function user(u)\n"
                  "  if u.iteration == 1 then io.write(string.format('started %d %.1f\\n', u.gid, barrage.now())) end\n"
                  "  u:get('/')\n  u:sleep(100)\nend\n")
    with Serve() as s:
        r = barrage("-t", "1", "-q", "-u", "3", "-r", "1", "--run-time", "2.5s", "-s", path, s.url)
        low = barrage("-t", "1", "-q", "--users", "2", "--spawn-rate", "0.3", "--run-time", "1s", "-s", path, s.url)
    eq(r.rc, 0, f"{r}")
    starts = {int(g): float(t) for g, t in re.findall(r"started (\d+) ([\d.]+)", r.out)}
    eq(sorted(starts), [1, 2, 3], f"three users started: {r.out}")
    for g in (2, 3):
        gap = starts[g] - starts[1]
        check((g - 1) * 1000 - 50 <= gap <= (g - 1) * 1000 + 400, f"user {g} started {gap:.0f} ms after user 1: {r.out}")
    eq(low.rc, 0, f"a spawn rate of 0.3/s over 1 s: {low}")
    eq(low.out.count("started"), 1, f"one user in the first 1/R s: {low.out}")
    check(low.json["summary"]["requests"] >= 3, f"that user ran: {low.json['summary']}")


def test_locust_flag_conflicts_are_usage_errors():
    cases = [
        (["--users", "5", "-c", "5"], "--users and -c both set the number of connections"),
        (["-u", "5", "-r", "1", "--stages", "1s:5"], "--spawn-rate and --stages both set the ramp"),
        (["--run-time", "1s", "-d", "1s"], "--run-time and -d both set the duration"),
        (["--spawn-rate", "3"], "--spawn-rate needs --users N"),
        (["--run-time", "1h30"], "--run-time: cannot parse '1h30' as a duration"),
        (["-t", "1m"], "-t: '1m' is not a valid number of threads"),  # -t is threads, not Locust's run time
        # Locust's and k6's own options: barrage's word for them
        (["--host", "http://127.0.0.1:9"], "unknown option '--host': the target is the URL argument"),
        (["-f", "locustfile.py"], "unknown option '-f': a script is -s FILE.lua"),
        (["--vus", "5"], "unknown option '--vus': users are connections: -c N"),
        (["--iterations", "5"], "unknown option '--iterations': a request count is -n N"),
    ]
    for args, want in cases:
        r = barrage(*args, "http://127.0.0.1:9/")
        eq(r.rc, 2, f"{args}: {r}")
        check(want in r.err, f"{args}: says '{want}': {r.err}")
    r = barrage("--help")
    for opt in ["--users N", "--spawn-rate R", "--run-time T", "--headless"]:
        check(opt in r.out, f"--help lists {opt}")


def test_merge_keeps_iterations_exact():
    path = script("function user(u) u:get('/') end\n")
    d = tempfile.mkdtemp(prefix="barrage-k6-merge-")
    try:
        with Serve() as s:
            runs = [barrage("-t", "1", "-c", "1", "-d", "0.3s", "-s", path, "--json", os.path.join(d, f"{i}.json"),
                            s.url) for i in range(2)]
        out = os.path.join(d, "m.json")
        m = barrage("merge", "-o", out, runs[0].args[runs[0].args.index("--json") + 1],
                    runs[1].args[runs[1].args.index("--json") + 1])
        eq(m.rc, 0, f"{m}")
        merged = json.load(open(out))
    finally:
        os.unlink(path)
    its = [r.json["summary"]["iterations"] for r in runs]
    check(all(i > 0 for i in its), f"iterations counted: {its}")
    # one request per iteration; the last response may come as the run ends, its iteration unfinished
    reqs = [r.json["summary"]["requests"] for r in runs]
    check(all(0 <= q - i <= 1 for q, i in zip(reqs, its)), f"one request per iteration: {reqs} vs {its}")
    eq(merged["summary"]["iterations"], sum(its), "merge sums iterations")
