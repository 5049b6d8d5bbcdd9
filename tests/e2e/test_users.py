"""Locust's user model in Lua: barrage.user{} classes (weights, fixed_count, tasks, wait helpers in
seconds, on_start/on_stop), run-wide user ids and class spread over threads and shards, users stopped
on ramp-down and at the end, and exceptions that do not end the run (--max-exceptions; JSON, HTML,
CSV). Against `barrage serve` on 127.0.0.1; counts are read from --json."""
import csv
import json
import math
import os
import re
import subprocess
import tempfile

import schema
from harness import BARRAGE, ROOT, Fail, Serve, barrage, check, eq

SCHEMA = json.load(open(os.path.join(ROOT, "src", "result", "result.schema.json")))


def names(r):
    """{name: requests} from the JSON result."""
    return {n["name"]: n["requests"] for n in r.json["names"]}


def classes(r):
    return {c["name"]: c["users"] for c in r.json["user_classes"]}


def exceptions(r):
    """{(message, location basename): count}."""
    return {(e["message"], os.path.basename(e["location"])): e["count"] for e in r.json["exceptions"]}


def run(text, *args, serve_args=(), timeout=30, tmp=None):
    with tempfile.TemporaryDirectory() as t, Serve(*serve_args) as s:
        path = os.path.join(tmp or t, "users.lua")
        with open(path, "w") as f:
            f.write(text)
        return barrage(*args, "-s", path, s.url, timeout=timeout)


# Three classes 10:1:2. Each user's on_start names one request after its class and run-wide id.
CLASSES = """
local function hello(u) u:get("/", { name = u.class_name .. " " .. u.gid }) end
local function task(u) u:get("/", { name = "task" }) end
local Shopper = barrage.user{ weight = 10, wait = constant(10), on_start = hello, tasks = { task } }
local Browser = barrage.user{ weight = 1, wait = constant(10), on_start = hello, tasks = { task } }
local Admin = barrage.user{ weight = 2, wait = constant(10), on_start = hello, tasks = { task } }
"""


def gids(r):
    """{gid: class} from the on_start requests."""
    out = {}
    for n in names(r):
        m = re.match(r"(\w+) (\d+)$", n)
        if m:
            out[int(m.group(2))] = m.group(1)
    return out


def test_class_weights_are_exact_over_threads():
    # 10:1:2 over 26 users is exactly 20/2/4, whatever the threads
    seen = []
    for threads in ("1", "2", "3"):
        r = run(CLASSES, "-t", threads, "-c", "26", "-d", "0.5s")
        eq(r.rc, 0, f"{r}")
        eq(classes(r), {"Shopper": 20, "Browser": 2, "Admin": 4}, f"-t{threads}: users by class")
        g = gids(r)
        eq(sorted(g), list(range(1, 27)), f"-t{threads}: every run-wide id 1..26 once")
        eq({c: list(g.values()).count(c) for c in set(g.values())}, {"Shopper": 20, "Browser": 2, "Admin": 4},
           "the users that ran, by class")
        seen.append(g)
    eq(seen[1], seen[0], "a user's class depends on its id only, not on the threads")
    eq(seen[2], seen[0], "three threads too")
    # interleaved: the first 13 ids (a ramp halfway) already hold the mix, not 13 Shoppers
    first = [seen[0][i] for i in range(1, 14)]
    eq({c: first.count(c) for c in set(first)}, {"Shopper": 10, "Browser": 1, "Admin": 2}, f"first 13: {first}")


def test_class_weights_are_exact_over_shards_and_merge():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = os.path.join(tmp, "users.lua")
        with open(path, "w") as f:
            f.write(CLASSES)
        outs, allg = [], {}
        for i in range(3):
            out = os.path.join(tmp, f"s{i}.json")
            r = barrage("-t", "2", "-c", "26", "-d", "0.5s", "--shard", f"{i}/3", "--json", out, "-s", path, s.url)
            eq(r.rc, 0, f"{r}")
            g = gids(r)
            check(not set(g) & set(allg), f"shard {i}: ids not used by another shard: {sorted(g)}")
            allg.update(g)
            outs.append(out)
        single = run(CLASSES, "-t", "2", "-c", "26", "-d", "0.5s")
        eq(allg, gids(single), "three shards run the same 26 users as one instance, id for id, class for class")
        merged = os.path.join(tmp, "all.json")
        m = subprocess.run([BARRAGE, "merge", "-o", merged] + outs, capture_output=True, text=True, timeout=30)
        eq(m.returncode, 0, m.stderr)
        d = json.load(open(merged))
        eq({c["name"]: c["users"] for c in d["user_classes"]}, {"Shopper": 20, "Browser": 2, "Admin": 4},
           "merged users by class")
        eq(schema.errors(d, SCHEMA), [], "the merged result matches the schema")


def test_fixed_count_first_then_weights():
    script = """
local Boss = barrage.user{ fixed_count = 1, wait = constant(10), tasks = { function(u) u:get("/", {name = "boss " .. u.gid}) end } }
local A = barrage.user{ weight = 3, wait = constant(10), tasks = { function(u) u:get("/") end } }
local B = barrage.user{ weight = 1, wait = constant(10), tasks = { function(u) u:get("/") end } }
"""
    r = run(script, "-t", "2", "-c", "9", "-d", "0.5s")
    eq(r.rc, 0, f"{r}")
    eq(classes(r), {"Boss": 1, "A": 6, "B": 2}, "fixed_count = 1, then 8 users 3:1")
    check("boss 1" in names(r), f"the fixed user is user 1 (spawned first, as Locust does): {names(r)}")


def binomial_ok(k, n, p, what):
    sd = math.sqrt(n * p * (1 - p))
    check(abs(k - n * p) <= 5 * sd, f"{what}: {k} of {n}, expected {n * p:.0f} +/- {5 * sd:.0f} (5 sd)")


def test_task_weights_in_every_form():
    forms = {
        "[weight] = fn": "{ [3] = a, [1] = b }",
        "{weight, fn}": "{ {3, a}, {1, b} }",
        "barrage.task": "{ barrage.task(3, a), barrage.task(1, b) }",
        "[fn] = weight": "{ [a] = 3, [b] = 1 }",
    }
    for what, tasks in forms.items():
        script = f"""
local function a(u) u:get("/a", {{ name = "a" }}) end
local function b(u) u:get("/b", {{ name = "b" }}) end
local U = barrage.user{{ tasks = {tasks} }}
"""
        r = run(script, "-t", "1", "-c", "2", "-n", "2000")
        eq(r.rc, 0, f"{what}: {r}")
        got = names(r)
        eq(got.get("a", 0) + got.get("b", 0), 2000, f"{what}: every request is a task's")
        binomial_ok(got.get("a", 0), 2000, 0.75, f"{what}: task a (weight 3 of 4)")
    # a plain list: equal weights, as Locust's tasks = [a, b]
    r = run("""
local U = barrage.user{ tasks = { function(u) u:get("/a", {name = "a"}) end, function(u) u:get("/b", {name = "b"}) end } }
""", "-t", "1", "-c", "2", "-n", "2000")
    binomial_ok(names(r).get("a", 0), 2000, 0.5, "plain list: equal weights")


class GapServer:
    """A keep-alive HTTP/1.1 server on 127.0.0.1 that records when each request arrived, by path."""

    def __init__(self):
        import http.server
        import threading
        import time
        times = self.times = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                times.setdefault(self.path, []).append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, *a):
                pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128  # socketserver's 5 would drop the SYNs of a burst of connections

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def gaps(self, path):
        t = self.times.get(path, [])
        return [b - a for a, b in zip(t, t[1:])]


# one user per case (fixed_count = 1), told apart by its path: (wait, task's extra, expected gap in s)
WAITS = [
    ("constant(0.25)", "", 0.25),
    ("constant_pacing(0.25)", 'u:sleep("100ms")', 0.25),  # task start to task start: the sleep is inside
    ("constant(0.25)", 'u:sleep("100ms")', 0.35),         # constant adds to the task's own time
    ("constant_throughput(8)", "", 0.125),
    ("0.2", "", 0.2),                                    # a number: seconds
    ("function(u) return 0.2 end", "", 0.2),             # a function(u) giving seconds
    ("nil", "u:sleep(200)", 0.2),                         # u:sleep: a number is ms
    ("nil", 'u:sleep("200ms")', 0.2),                     # a duration string
    ("nil", 'u:sleep(".3s")', 0.3),
    ("between(0.2, 0.4)", "", None),
]


def test_wait_helpers_are_seconds_and_sleep_takes_ms_or_durations():
    lines = [f'local C{i} = barrage.user{{ fixed_count = 1, wait = {w}, tasks = {{ function(u) u:get("/c{i}") {x} end }} }}'
             for i, (w, x, _) in enumerate(WAITS)]
    with tempfile.TemporaryDirectory() as tmp, GapServer() as srv:
        path = os.path.join(tmp, "users.lua")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = barrage("-t", "1", "-c", str(len(WAITS)), "-d", "1.6s", "-s", path, srv.url)
        eq(r.rc, 0, f"{r}")
        for i, (w, x, want) in enumerate(WAITS):
            g = sorted(srv.gaps(f"/c{i}"))
            check(len(g) >= 3, f"wait = {w} {x}: gaps {g}")
            med = g[len(g) // 2]
            if want is None:  # between(0.2, 0.4): uniform; none shorter than 0.2 s
                check(g[0] >= 0.19 and 0.2 <= med <= 0.45, f"wait = {w}: gaps {g}")
            else:  # timers may be late under load, never early
                check(want - 0.01 <= med <= want + 0.06 and g[0] >= want - 0.02, f"wait = {w} {x}: gaps {g}, expected {want}")


def test_a_bad_sleep_duration_is_an_exception_at_its_line():
    r = run('function user(u) u:get("/") u:sleep("1.5x") end\n', "-t", "1", "-c", "1", "-d", "0.5s")
    eq(r.rc, 0, f"{r}")
    e = list(exceptions(r))
    check(len(e) == 1 and e[0][0].startswith("u:sleep: cannot read '1.5x' as a duration") and e[0][1] == "users.lua:1",
          f"a bad duration is an exception at the caller's line: {e}")


START_STOP = """
local U = barrage.user{
   wait = constant(0.05),
   on_start = function(u) u:get("/", { name = "start" }) end,
   tasks = { function(u) u:get("/", { name = "task" }) end },
   on_stop = function(u) u:get("/", { name = "stop" }) %s end,
}
"""


def test_on_start_once_per_user_and_on_stop_at_the_end():
    r = run(START_STOP % "", "-t", "2", "-c", "4", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    n = names(r)
    eq(n["start"], 4, "on_start once per user")
    eq(n["stop"], 4, "on_stop once per user at the end, its request sent and counted")
    check(n["task"] >= 4 * 2, f"tasks ran between them: {n}")  # (the wait's timing: wait_helpers_are_seconds...)


def test_a_hanging_on_stop_is_cut_off_after_the_grace():
    r = run(START_STOP % "u:sleep(60000)", "-t", "1", "-c", "2", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    eq(names(r)["stop"], 2, "on_stop's request went out")
    check(r.elapsed < 1 + 0.5 + 0.8, f"cut off after the 0.5 s grace: {r.elapsed:.2f}s")
    # the grace is not part of the run's duration: rates are over the 1 s the tasks ran
    check(0.95 <= r.json["duration_s"] < 1.2, f"duration without the grace: {r.json['duration_s']}")
    task = next(n for n in r.json["names"] if n["name"] == "task")
    check(abs(task["rps"] - task["requests"] / r.json["duration_s"]) < 0.01, f"task rps over the duration: {task}")
    # an on_stop stuck in Lua is interrupted like any hook at the end of a run: a script error
    r = run(START_STOP % "while true do end", "-t", "1", "-c", "1", "-d", "0.5s")
    eq(r.rc, 2, f"{r}")
    check("stopped" in r.err and "(in on_stop of class U)" in r.err, r.err)
    check(r.elapsed < 0.5 + 1 + 1.5, f"bounded: {r.elapsed:.2f}s")


def test_ramp_down_stops_users_and_ramp_up_starts_new_ones():
    # 2 users, then 0, then 2 again: the first two run on_stop when the target falls, two new users
    # run on_start when it rises, and those stop at the end
    r = run(START_STOP % "", "-t", "1", "--stages", "200ms:2,300ms:2,200ms:0,300ms:0,200ms:2,800ms:2")
    eq(r.rc, 0, f"{r}")
    n = names(r)
    eq(n["start"], 4, f"two users, then two new ones: {n}")
    eq(n["stop"], 4, f"each stopped once (ramp-down, end): {n}")


def test_exceptions_are_counted_and_the_users_go_on():
    script = """
local U = barrage.user{
   on_start = function(u)
      u.data.tries = (u.data.tries or 0) + 1
      if u.data.tries <= 2 then error("login failed") end
      u:get("/", { name = "started" })
   end,
   tasks = {
      [3] = function(u) u:get("/", { name = "ok" }) end,
      [1] = function(u) u:get("/", { name = "bad" }); local t = nil; return t.x end,
   },
}
"""
    r = run(script, "-t", "2", "-c", "4", "-d", "1.5s")
    eq(r.rc, 0, f"{r}")
    e, n = exceptions(r), names(r)
    eq(e.get(("login failed", "users.lua:5")), 8, f"on_start failed twice per user, then was tried again: {e}")
    eq(n["started"], 4, "every user got through on_start, once")
    bad = e.get(("attempt to index local 't' (a nil value)", "users.lua:10"))
    eq(bad, n["bad"], f"each failing task run is one exception at its line: {e}")
    check(n["ok"] > 10, f"the users went on: {n}")
    eq(len(e), 2, f"two (message, location) entries: {e}")


def test_an_error_object_without_tostring_is_one_exception_not_one_per_address():
    script = """
function user(u)
   u:get("/")
   if u.iteration % 2 == 0 then error({ code = 1 }) end
   u:sleep(20)
end
"""
    r = run(script, "-t", "1", "-c", "2", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    e = exceptions(r)
    eq(list(e), [("(error object is a table value)", "users.lua:4")], f"one entry, as lua.c words it: {e}")
    check(e[("(error object is a table value)", "users.lua:4")] >= 4, f"every one counted: {e}")
    # any value but a string or a number, without a __tostring (even behind __metatable), as lua.c words it
    script = """
function user(u)
   u:get("/")
   local k = u.iteration % 4
   if k == 0 then error(function() end) elseif k == 1 then error(nil) elseif k == 2 then error(42) end
   error(setmetatable({}, { __tostring = function() return "hidden" end, __metatable = false }))
end
"""
    # a __tostring that raises (or gives no string) is not the script's end: the object's kind is the message
    hostile = """
function user(u)
   u:get("/")
   if u.iteration % 2 == 0 then error(setmetatable({}, { __tostring = function() error("boom") end })) end
   error(setmetatable({}, { __tostring = function() return {} end }))
end
"""
    r = run(hostile, "-t", "1", "-c", "1", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    eq(sorted(exceptions(r)), [("(error object is a table value)", "users.lua:4"),
                               ("(error object is a table value)", "users.lua:5")], f"{exceptions(r)}")
    r = run(script, "-t", "1", "-c", "2", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    eq(sorted(m for m, _ in exceptions(r)), ["(error object is a function value)", "(error object is a nil value)",
                                            "42", "hidden"], f"one entry each: {exceptions(r)}")


def test_back_off_bounds_an_always_failing_user():
    script = 'local U = barrage.user{ tasks = { function(u) error("always") end } }\n'
    r = run(script, "-t", "1", "-c", "2", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    count = exceptions(r)[("always", "users.lua:1")]
    # 100, 200, 400, 800 ms back-off: 4 per user within 1 s (5 at most, if the run ends late)
    check(6 <= count <= 10, f"2 users backed off: {count}")


def test_max_exceptions_ends_the_run_with_exit_2():
    script = 'local U = barrage.user{ tasks = { function(u) u:get("/") error("always") end } }\n'
    r = run(script, "-t", "1", "-c", "1", "-d", "5s", "--max-exceptions", "3")
    eq(r.rc, 2, f"{r}")
    check(re.search(r"users\.lua:1: always \(in a task of class U\); more than --max-exceptions 3 exceptions", r.err),
          r.err)
    check(r.elapsed < 2.5, f"at the 4th exception (after 0.1 + 0.2 + 0.4 s of back-off): {r.elapsed:.2f}s")
    # the message names the hook the error came from: on_start, a task, on_stop or user()
    for text, hook in (('local U = barrage.user{ on_start = function(u) error("login broke") end,\n'
                        '  tasks = { function(u) u:get("/") end } }\n', "on_start of class U"),
                       ('function user(u) u:get("/") error("plain") end\n', "user()")):
        r = run(text, "-t", "1", "-c", "1", "-d", "5s", "--max-exceptions", "0")
        eq(r.rc, 2, f"{r}")
        check(f"(in {hook}); more than --max-exceptions 0" in r.err, f"names {hook}: {r.err}")
    r = run(script, "-t", "1", "-c", "1", "-d", "1s", "--max-exceptions", "100")
    eq(r.rc, 0, f"below the limit the run goes on: {r}")
    # Locust's exit code: with --exit-on-failures (or --exit-code-on-error N), exceptions count as errors
    r = run(script, "-t", "1", "-c", "1", "-d", "0.5s", "--exit-code-on-error", "3")
    eq(r.rc, 3, f"{r}")
    check(re.search(r"barrage: \d+ exceptions in virtual users' code: exit code 3", r.err), r.err)
    # a run that only -n ends: users that never get a request out cannot hang it (at most -n exceptions)
    never = 'function user(u) error("before any request") end\n'
    r = run(never, "-t", "1", "-c", "1", "-n", "3", timeout=20)
    eq(r.rc, 2, f"{r}")
    check("more exceptions than the -n 3 requests of a run without a duration" in r.err, r.err)
    eq(r.json["summary"]["requests"] if r.json else 0, 0, "nothing was sent")
    r = barrage("--max-exceptions", "x", "http://127.0.0.1:1/")
    eq(r.rc, 2, f"{r}")
    check("--max-exceptions: 'x' is not a count" in r.err and len(r.err.strip().splitlines()) == 1, r.err)


def test_exceptions_in_json_html_and_csv():
    script = """
local U = barrage.user{ tasks = {
   [1] = function(u) u:get("/") error("no, \\"quoted\\", here") end,
   [2] = function(u) u:get("/") error(setmetatable({}, { __tostring = function() return "an error object" end })) end,
} }
"""
    with tempfile.TemporaryDirectory() as tmp:
        html, prefix = os.path.join(tmp, "r.html"), os.path.join(tmp, "r")
        r = run(script, "-t", "1", "-c", "2", "-d", "1s", "--html", html, "--csv", prefix, tmp=tmp)
        eq(r.rc, 0, f"{r}")
        eq(schema.errors(r.json, SCHEMA), [], "schema")
        e = exceptions(r)
        eq(set(e), {('no, "quoted", here', "users.lua:3"), ("an error object", "users.lua:4")},
           f"a non-string error names its line too: {e}")
        total = sum(e.values())
        check(total >= 4, f"{e}")
        with open(prefix + "_exceptions.csv", newline="") as f:
            rows = list(csv.reader(f))
        eq(rows[0], ["Count", "Message", "Traceback", "Nodes"], "Locust 2.12's header")
        got = {(row[1], os.path.basename(row[2])): int(row[0]) for row in rows[1:]}
        eq(got, e, "the CSV rows equal the JSON")
        check(all(row[3] == "local" for row in rows[1:]), f"{rows}")
        page = open(html).read()
        check('id="exceptions"' in page and "no, &quot;quoted&quot;, here" in page, "the HTML table")
        for (msg, loc), count in e.items():
            check(f'<td data-metric="count" class="bad">{count}</td>' in page, f"count {count} in the HTML")
        check("Exceptions: %d in virtual users' code" % total in r.out, r.out)


def test_merge_adds_exceptions_by_message_and_location():
    script = 'local U = barrage.user{ tasks = { function(u) u:get("/") error("always") end } }\n'
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = os.path.join(tmp, "users.lua")
        with open(path, "w") as f:
            f.write(script)
        outs, total = [], 0
        for i in range(2):
            out = os.path.join(tmp, f"s{i}.json")
            r = barrage("-t", "1", "-c", "4", "-d", "0.5s", "--shard", f"{i}/2", "--json", out, "-s", path, s.url)
            eq(r.rc, 0, f"{r}")
            total += sum(exceptions(r).values())
            outs.append(out)
        merged = os.path.join(tmp, "all.json")
        m = subprocess.run([BARRAGE, "merge", "-o", merged] + outs, capture_output=True, text=True, timeout=30)
        eq(m.returncode, 0, m.stderr)
        d = json.load(open(merged))
        eq([(x["message"], os.path.basename(x["location"]), x["count"]) for x in d["exceptions"]],
           [("always", "users.lua:1", total)], "one entry, the counts added")


def test_wrk_hooks_keep_stopping_at_an_error():
    r = run('function request() error("boom") end\n', "-t", "1", "-c", "1", "-d", "5s")
    eq(r.rc, 2, f"wrk compatibility: {r}")
    check("boom" in r.err and "(in request())" in r.err, r.err)


def test_bad_class_definitions_are_one_line_errors():
    cases = {
        "local A = barrage.user{ tasks = {} }\n": "tasks is empty",
        "local A = barrage.user{ weight = -1, tasks = { function() end } }\n": "weight must be a number >= 0",
        "local A = barrage.user{ wait = 'x', tasks = { function() end } }\n": "wait must be between(a, b)",
        "local A = barrage.user{ tasks = { function() end } }\nfunction user(u) end\n":
            "defines both user() and barrage.user{} classes",
        "local A = barrage.user{ wait = between(3, 1), tasks = { function() end } }\n": "a must be <= b",
    }
    for script, msg in cases.items():
        r = run(script, "-t", "1", "-c", "1", "-d", "1s")
        eq(r.rc, 2, f"{script}: {r}")
        check(msg in r.err and len(r.err.strip().splitlines()) == 1, f"{script}: {r.err}")


def test_locustfile_port_runs_against_the_demo_api():
    # scripts/locust_shop.lua is tests/e2e/data/locustfile_shop.py ported line by line
    with Serve() as s:
        r = barrage("-t", "2", "-c", "13", "-d", "1.8s", "-s", os.path.join(ROOT, "scripts", "locust_shop.lua"), s.url)
    eq(r.rc, 0, f"{r}")
    eq(classes(r), {"Shopper": 12, "Browser": 1}, "13 users 10:1")
    n = names(r)
    eq(n["login"], 12, "each Shopper logged in once (on_start)")
    eq(n["me"], 12, "and ran on_stop at the end")
    eq(n["home"], 1, "the Browser's first task (then it waits 2 s, longer than the run)")
    check(n.get("items", 0) + n.get("cart", 0) >= 12, f"every Shopper ran a task at once: {n}")
    eq(r.json["exceptions"], [], "no exception")
    eq(r.json["summary"]["failed"], 0, "no failed request: the token and the session cookie were sent")


def test_readme_example_runs():
    text = open(os.path.join(ROOT, "README.md")).read()
    blocks = [b for b in re.findall(r"```lua\n(.*?)```", text, re.S) if "barrage.user{" in b]
    check(blocks, "the README shows a barrage.user{} example")
    for b in blocks:
        r = run(b, "-t", "2", "-c", "13", "-d", "1s")
        eq(r.rc, 0, f"{b}\n{r}")
        eq(r.json["exceptions"], [], f"{b}: no exception")
        eq(r.json["summary"]["failed"], 0, f"{b}: no failure")
        check(r.json["user_classes"], f"{b}: classes")


def test_the_real_locust_runs_the_locustfile_the_same_way():
    # Locust 2.12.1 on the original: the same split of 13 users, the same request names, and its
    # exceptions CSV has the header barrage writes, byte for byte
    locust = "/usr/bin/locust"
    if not os.path.exists(locust):
        raise Fail("Locust is not installed: this test runs the locustfile beside its port; install Debian's "
                   "`python3-locust` package (apt-get install python3-locust, or deps/install.sh)")
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        p = subprocess.run([locust, "-f", os.path.join(ROOT, "tests", "e2e", "data", "locustfile_shop.py"),
                            "--headless", "-u", "13", "-r", "100", "-t", "2s", "--host", s.url, "--only-summary",
                            "--csv", os.path.join(tmp, "lc")], capture_output=True, text=True, timeout=60, cwd=tmp)
        m = re.search(r"All users spawned: (\{.*?\})", p.stderr)
        check(m, f"Locust ran: {p.stderr[-2000:]}")
        eq(json.loads(m.group(1)), {"Shopper": 12, "Browser": 1}, "Locust's split of 13 users 10:1")
        with open(os.path.join(tmp, "lc_stats.csv"), newline="") as f:
            lnames = {row["Name"]: int(row["Request Count"]) for row in csv.DictReader(f) if row["Name"] != "Aggregated"}
        eq(lnames.get("login"), 12, f"Locust: each Shopper logged in once: {lnames}")
        me = re.search(r"^GET\s+me\s+(\d+)", p.stderr + p.stdout, re.M)  # after the CSV: in the summary only
        eq(me and int(me.group(1)), 12, f"Locust: on_stop at the end: {p.stderr[-1500:]}")
        head = open(os.path.join(tmp, "lc_exceptions.csv"), "rb").read().split(b"\n")[0] + b"\n"
        r = barrage("-t", "2", "-c", "13", "-d", "1s", "--csv", os.path.join(tmp, "b"),
                    "-s", os.path.join(ROOT, "scripts", "locust_shop.lua"), s.url)
        eq(r.rc, 0, f"{r}")
        eq(open(os.path.join(tmp, "b_exceptions.csv"), "rb").read(), head, "the same exceptions CSV header, no rows")
        check(set(names(r)) <= set(lnames) | {"me"}, f"the same names: {names(r)} / {lnames}")


def test_distinct_exceptions_are_bounded_and_all_counted():
    # a message with an id in it: at most 200 entries per thread, the rest under one entry, none lost
    script = 'local U = barrage.user{ tasks = { function(u) u:get("/", {name = "t"}) error("item " .. u.gid .. "." .. u.iteration) end } }\n'
    r = run(script, "-t", "1", "-c", "250", "-d", "1s")  # 250 users: 250 distinct at their first task alone
    eq(r.rc, 0, f"{r}")
    e = r.json["exceptions"]
    check(len(e) == 201, f"200 distinct entries and one for the rest: {len(e)}")
    eq(e[-1]["message"], "(other messages: more than 200 distinct exceptions in this thread)", "the rest")
    eq(sum(x["count"] for x in e), names(r)["t"], "every failing task run counted once")
