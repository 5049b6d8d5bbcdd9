"""Per-request facts and controls in workflows: r.elapsed and r.timings,
barrage.now(), per-thread and per-shard math.random seeds (--seed),
expect = ... per request, and r:failure()/r:success() (Locust's
catch_response) on every surface: text, JSON totals, per name, per second,
thresholds and exit codes."""
import json
import os
import re
import tempfile

from harness import Nginx, Serve, barrage, check, eq


def script(tmp, text, name="flow.lua"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def lines(out, tag):
    """The `TAG a b c` lines a script's done() printed, split."""
    return [ln.split()[1:] for ln in out.splitlines() if ln.startswith(tag + " ")]


def name_entry(r, name):
    for n in r.json["names"]:
        if n["name"] == name:
            return n
    raise AssertionError(f"no name {name!r} in {[n['name'] for n in r.json['names']]}")


# Every response of one user gets its own name, so its per-name histogram
# holds exactly that response's recorded latency; done() prints r.elapsed.
ELAPSED = """
local threads = {}
function setup(t) table.insert(threads, t) end
local k = 0
el = {}
function user(u)
   k = k + 1
   local r = u:get("/", {name = "r" .. k})
   el[#el + 1] = {"r" .. k, r.elapsed, r.timings.duration, r.timings.ttfb, r.timings.waiting}
end
function done()
   for _, t in ipairs(threads) do
      for _, e in ipairs(t:get("el")) do print(string.format("EL %s %.17g %.17g %.17g %.17g", e[1], e[2], e[3], e[4], e[5])) end
   end
end
"""


def test_elapsed_is_the_latency_recorded_for_that_request():
    with tempfile.TemporaryDirectory() as tmp, Serve("--delay", "2ms") as s:
        r = barrage("-t", "1", "-c", "1", "-n", "15", "-s", script(tmp, ELAPSED), s.url)
    eq(r.rc, 0, f"{r}")
    got = lines(r.out, "EL")
    eq(len(got), 15, f"one r.elapsed per response: {r.out}")
    for name, elapsed, duration, ttfb, waiting in got:
        n = name_entry(r, name)
        lat = n["latency"]
        eq(lat["count"], 1, f"{name}: one response")
        # the histogram holds integer microseconds: r.elapsed is that value in ms, exactly
        eq(round(float(elapsed) * 1000), lat["min"], f"{name}: r.elapsed vs the recorded latency")
        check(abs(float(elapsed) * 1000 - lat["min"]) < 1e-6, f"{name}: r.elapsed {elapsed} is not exactly {lat['min']} us")
        eq(duration, elapsed, f"{name}: timings.duration is r.elapsed")
        eq(waiting, ttfb, f"{name}: timings.waiting is timings.ttfb")
        check(2.0 <= float(elapsed) < 1000, f"{name}: elapsed {elapsed} ms with a 2 ms server delay")
        check(0 < float(ttfb) <= float(elapsed), f"{name}: ttfb {ttfb} within elapsed {elapsed}")


TIMINGS = """
local threads = {}
function setup(t) table.insert(threads, t) end
tm = {}
function user(u)
   local r = u:get("/health", {name = "h"})
   local t = r.timings
   tm[#tm + 1] = {t.connect, t.tls, t.ttfb, t.duration, r.elapsed}
end
function done()
   for _, t in ipairs(threads) do
      for i, e in ipairs(t:get("tm")) do print(string.format("TM %d %.17g %.17g %.17g %.17g %.17g", i, e[1], e[2], e[3], e[4], e[5])) end
   end
end
"""


def test_timings_connect_and_tls_on_a_new_connection_zero_on_reuse():
    with tempfile.TemporaryDirectory() as tmp, Nginx(tls=True) as n:
        path = script(tmp, TIMINGS)
        r = barrage("-t", "1", "-c", "1", "-n", "6", "--cacert", f"{n.pki}/ca.crt", "-s", path, f"{n.tls_url}/")
        eq(r.rc, 0, f"{r}")
        got = [[float(x) for x in e] for e in lines(r.out, "TM")]
        eq(len(got), 6, f"six responses: {r.out}")
        first = got[0]
        check(first[1] > 0 and first[2] > 0, f"connect and tls > 0 on the new TLS connection: {first}")
        # the same numbers as the run's connect and handshake distributions (one connection)
        eq(round(first[1] * 1000), r.json["connect"]["max"], "timings.connect is the connection's connect time")
        eq(round(first[2] * 1000), r.json["tls"]["handshake"]["max"], "timings.tls is its handshake")
        for e in got[1:]:
            eq((e[1], e[2]), (0.0, 0.0), f"connect/tls on the reused keep-alive connection: {got}")
        for e in got:
            eq(e[4], e[5], "duration is elapsed")
            check(0 < e[3] <= e[4], f"ttfb within duration: {e}")
        # --no-keepalive: every request opens (and resumes TLS on) a new connection
        r = barrage("-t", "1", "-c", "1", "-n", "4", "--no-keepalive", "--cacert", f"{n.pki}/ca.crt", "-s", path,
                    f"{n.tls_url}/")
        eq(r.rc, 0, f"{r}")
        got = [[float(x) for x in e] for e in lines(r.out, "TM")]
        eq(len(got), 4, f"four responses: {r.out}")
        check(all(e[1] > 0 and e[2] > 0 for e in got), f"a new connection for each request: {got}")


def test_ttfb_is_the_head_delay_and_elapsed_the_whole_response():
    # the head is held 60 ms, then the response trickles out a byte every 2 ms (about 40 bytes)
    with tempfile.TemporaryDirectory() as tmp, Serve("--delay", "60ms", "--trickle", "2ms") as s:
        r = barrage("-t", "1", "-c", "1", "-n", "3", "-s", script(tmp, TIMINGS), s.url)
    eq(r.rc, 0, f"{r}")
    got = [[float(x) for x in e] for e in lines(r.out, "TM")]
    eq(len(got), 3, f"three responses: {r.out}")
    for _, _, _, ttfb, dur, _ in got:
        check(ttfb >= 60, f"ttfb {ttfb} ms for a head held 60 ms: never less")
        check(dur >= ttfb, f"elapsed {dur} ms ends after the first byte (ttfb {ttfb} ms)")
    # the trickled rest (~80 ms) comes after the first bytes: on at least one of the three (a
    # descheduled client may read a whole response at once)
    gap = max(e[4] - e[3] for e in got)
    check(gap >= 50, f"elapsed includes the trickled rest on none of {got}")
    # tolerance: within 100 ms of the delay for the best of the three (a loaded 2-core machine may
    # deschedule either process for a while on any one of them)
    best = min(e[3] for e in got)
    check(best < 160, f"ttfb {best} ms (best of three) for a head held 60 ms")


NOW = """
local threads = {}
function setup(t) table.insert(threads, t); t0 = barrage.now() end
function init() t_init = barrage.now() end
nw = {}
function user(u)
   local a = barrage.now()
   u:sleep(150)
   local b = barrage.now()
   local r = u:get("/", {name = "x"})
   local c = barrage.now()
   nw[#nw + 1] = {b - a, c - b, r.elapsed, t_init}
end
function done()
   local d = barrage.now()
   for _, t in ipairs(threads) do
      for _, e in ipairs(t:get("nw")) do print(string.format("NW %.17g %.17g %.17g %.17g %.17g %.17g", e[1], e[2], e[3], t0, e[4], d)) end
   end
end
"""


def test_now_is_monotonic_ms_across_a_sleep_and_the_timings_clock():
    with tempfile.TemporaryDirectory() as tmp, Serve("--delay", "5ms") as s:
        r = barrage("-t", "1", "-c", "1", "-n", "3", "-s", script(tmp, NOW), s.url)
    eq(r.rc, 0, f"{r}")
    got = [[float(x) for x in e] for e in lines(r.out, "NW")]
    eq(len(got), 3, f"three iterations: {r.out}")
    for slept, around, elapsed, t_setup, t_init, t_done in got:
        # a sleep is never shorter; the upper bound (scheduling under load, ASan) still catches a wrong unit
        check(150 <= slept < 650, f"barrage.now() across u:sleep(150): {slept} ms")
        # the same clock as r.elapsed: the request lies inside the two readings around it
        check(elapsed <= around + 0.001 and around - elapsed < 500, f"r.elapsed {elapsed} vs barrage.now() {around}")
        check(t_setup <= t_init < t_done, f"setup(), init() and done() readings in order: {t_setup} {t_init} {t_done}")


SEED = """
local threads = {}
function setup(t) table.insert(threads, t) end
function init() vals = {math.random(), math.random(), math.random(1000000)} end
function done()
   for i, t in ipairs(threads) do
      local v = t:get("vals")
      print(string.format("RND %d %.17g %.17g %d", i, v[1], v[2], v[3]))
   end
end
"""


def test_seed_gives_each_thread_and_shard_its_own_reproducible_sequence():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = script(tmp, SEED)

        def run(*extra):
            r = barrage("-q", "-t", "2", "-c", "4", "-d", "0.3s", "-s", path, *extra, s.url)
            eq(r.rc, 0, f"{r}")
            got = {e[0]: tuple(e[1:]) for e in lines(r.out, "RND")}
            eq(len(got), 2, f"two threads: {r.out}")
            return got, r.json["config"]["seed"]

        a, seed_a = run("--seed", "7")
        b, seed_b = run("--seed", "7")
        eq((seed_a, seed_b), (7, 7), "the given seed in the JSON config")
        eq(a, b, "same seed, same threads: the same sequence per thread")
        check(a["1"] != a["2"], f"two threads draw different sequences: {a}")
        c, seed_c = run()
        d, seed_d = run()
        check(isinstance(seed_c, int) and seed_c != seed_d, f"a fresh seed each run: {seed_c} {seed_d}")
        check(c != a and c != d, f"without --seed, runs differ: {a} {c} {d}")
        again, _ = run("--seed", str(seed_c))
        eq(again, c, "the recorded seed repeats an unseeded run")
        s0, _ = run("--seed", "7", "--shard", "0/2")
        s1, _ = run("--seed", "7", "--shard", "1/2")
        s0b, _ = run("--seed", "7", "--shard", "0/2")
        eq(s0, s0b, "the same shard and seed repeat")
        check(not set(s0.values()) & set(s1.values()), f"each shard its own sequences: {s0} {s1}")
    for bad in ("x", "-1", "9007199254740992", "1.5", ""):
        r = barrage("--seed", bad, "http://127.0.0.1:9/")
        eq(r.rc, 2, f"--seed {bad!r}: {r}")
        check("--seed" in r.err and len(r.err.strip().splitlines()) == 1, f"one line naming --seed: {r.err}")


EXPECT = """
function user(u)
   u:get("/", {name = "list", expect = {200, 429}})
   u:get("/", {name = "number", expect = 429})
   u:get("/", {name = "range", expect = "400-499"})
   u:get("/", {name = "strict"})
end
"""


def test_expect_per_request_overrides_expect_status():
    with tempfile.TemporaryDirectory() as tmp:
        path = script(tmp, EXPECT)
        with Serve("--status", "429") as s:
            r = barrage("-t", "1", "-c", "2", "-n", "40", "--exit-on-failures", "-s", path, s.url)
        eq(r.json["summary"]["status"], {"429": 40}, "every response a 429")
        for name in ("list", "number", "range"):
            eq(name_entry(r, name)["failures"], 0, f"{name}: an expected 429 is not failed")
        strict = name_entry(r, "strict")
        eq(strict["failures"], strict["requests"], "without expect, --expect-status's default fails a 429")
        eq(r.json["summary"]["failed"], strict["requests"], "the totals count only the strict ones")
        eq(sum(p["failed"] for p in r.json["series"]), strict["requests"], "the per-second series agrees")
        eq(r.rc, 1, f"--exit-on-failures sees the strict failures: {r}")
        # the other way round: --expect-status 429 for the run, expect = 200 for one request
        flip = script(tmp, """
function user(u)
   u:get("/", {name = "run default"})
   u:get("/", {name = "wants 200", expect = 200})
end
""", "flip.lua")
        with Serve("--status", "429") as s:
            r = barrage("-t", "1", "-c", "1", "-n", "10", "--expect-status", "429",
                        "--threshold", "http_req_failed<0.4", "-s", flip, s.url)
        eq(name_entry(r, "run default")["failures"], 0, "--expect-status 429 applies without expect")
        eq(name_entry(r, "wants 200")["failures"], 5, "expect = 200 overrides it")
        eq(r.json["summary"]["failed"], 5, "failed total")
        eq(r.rc, 99, f"http_req_failed 0.5 breaks the threshold: {r}")
        bad = script(tmp, 'function user(u) u:get("/", {expect = "2xx"}) end', "bad.lua")
        with Serve() as s:
            r = barrage("-t", "1", "-c", "1", "-n", "5", "-s", bad, s.url)
        eq(r.rc, 2, f"a bad expect is a script error: {r}")
        check("expect" in r.err and "2xx" in r.err and "bad.lua:1" in r.err, f"names the item and the line: {r.err}")


# Every 200 is marked failed with a reason, every 500 (the fault on every
# 2nd request) marked a success; marks return true; done() prints what the
# edge cases returned.
MARKS = """
local threads = {}
function setup(t) table.insert(threads, t) end
res = {}
function user(u)
   local r = u:get("/", {name = "page"})
   if r.status == 200 then
      res.first = r:failure("wrong body")
      r:failure("body check")        -- the last call wins: counted once, under this reason
      res.failed = r.failed
   else
      r:failure("first")
      res.success = r:success()       -- undoes the failure: a 500 that is not failed
      res.ok = r.failed
   end
   u:sleep(1)
   local ok, err = pcall(function() return r:failure("too late") end)
   res.late = tostring(ok) .. " " .. tostring(err)
end
function done(summary)
   local v = threads[1]:get("res")
   print("MK " .. tostring(v.first) .. " " .. tostring(v.failed) .. " " .. tostring(v.success) .. " " .. tostring(v.ok))
   print("LATE " .. v.late)
   local p = summary.names.page
   print("DN " .. p.failures .. " " .. tostring(p.failure_reasons["body check"]) .. " " .. summary.failed)
end
"""


def test_failure_and_success_marks_on_every_surface():
    with tempfile.TemporaryDirectory() as tmp:
        path = script(tmp, MARKS)
        with Serve("--fault", "status500:2") as s:
            # every 2nd request gets a 500
            r = barrage("-t", "1", "-c", "1", "-n", "20", "--threshold", "http_req_failed<0.2", "-s", path, s.url)
    eq(r.rc, 99, f"the marked failures break http_req_failed<0.2: {r}")
    eq(lines(r.out, "MK"), [["true", "true", "true", "false"]], f"marks return true, r.failed follows: {r.out}")
    eq(lines(r.out, "DN"), [["10", "10", "10"]], f"done()'s summary: failures, reasons, failed: {r.out}")
    late = lines(r.out, "LATE")
    check(late and late[0][0] == "false" and "settled" in " ".join(late[0]), f"a mark after the next request/sleep is an error: {late}")
    page = name_entry(r, "page")
    eq(page["requests"], 20, "page requests")
    eq(page["status"], {"200": 10, "500": 10}, "page statuses")
    eq(page["failures"], 10, "the 200s marked failed, the 500s marked successes")
    eq(page["failure_reasons"], {"body check": 10}, "the reason of the last r:failure(), and none left by r:success()")
    summ = r.json["summary"]
    eq(summ["failed"], 10, "summary.failed")
    eq(summ["errors"]["status"], 10, "the 500s are still non-2xx responses")
    eq(sum(p["failed"] for p in r.json["series"]), 10, "per-second failed adds up to the total")
    eq(sum(p["requests"] for p in r.json["series"]), 20, "per-second requests")
    m = re.search(r"Failed\s+(\d+) of (\d+) attempts", r.out)
    check(m and (int(m.group(1)), int(m.group(2))) == (10, 20), f"the text report's Failed line: {r.out}")
    tm = re.search(r"^\s+\S+\s+page\s+(\d+)\s+(\d+)\s", r.out, re.M)  # Type, Name, Count, Failures
    check(tm and (int(tm.group(1)), int(tm.group(2))) == (20, 10), f"the per-name table: {r.out}")
    # the same run without the threshold: --exit-on-failures sees them; only successes: exit 0
    with tempfile.TemporaryDirectory() as tmp:
        ok = script(tmp, 'function user(u) local r = u:get("/", {name = "p"}); r:success() end')
        with Serve("--status", "503") as s:
            r = barrage("-t", "1", "-c", "1", "-n", "10", "--exit-on-failures", "--threshold", "http_req_failed==0",
                        "-s", ok, s.url)
        eq((r.rc, r.json["summary"]["failed"], name_entry(r, "p")["failures"]), (0, 0, 0),
           f"503s marked successes fail nothing: {r}")


ERRORED = """
local threads = {}
function setup(t) table.insert(threads, t) end
res = {}
function user(u)
   local r = u:get("/", {name = "e"})
   if r.status == 0 then
      res[#res + 1] = tostring(r:success()) .. "," .. tostring(r:failure("mine")) .. "," .. tostring(r.failed) .. "," .. r.error
   end
end
function done()
   for _, v in ipairs(threads[1]:get("res")) do print("ER " .. v) end
end
"""


def test_failure_reasons_survive_merge_exactly():
    with tempfile.TemporaryDirectory() as tmp:
        path = script(tmp, '''
function user(u)
   local r = u:get("/", {name = "p"})
   if r.status == 500 then r:failure("server said 500") else r:failure("always") end
end
''')
        outs = []
        with Serve("--fault", "status500:2") as s:
            for i in range(2):
                out = os.path.join(tmp, f"r{i}.json")
                r = barrage("-t", "1", "-c", "1", "-n", "10", "--json", out, "-s", path, s.url)
                eq(name_entry(r, "p")["failure_reasons"], {"always": 5, "server said 500": 5}, f"run {i}")
                outs.append(out)
        m = barrage("merge", "-o", os.path.join(tmp, "m.json"), *outs)
        eq(m.rc, 0, f"{m}")
        with open(os.path.join(tmp, "m.json")) as f:
            doc = json.load(f)
        p = [n for n in doc["names"] if n["name"] == "p"][0]
        eq((p["failures"], p["failure_reasons"]), (20, {"always": 10, "server said 500": 10}), "merged by reason")
        eq(doc["summary"]["failed"], 20, "merged failed")


def test_marks_on_a_request_that_got_no_response_change_nothing():
    with tempfile.TemporaryDirectory() as tmp:
        with Serve("--fault", "reset:2") as s:
            r = barrage("-t", "1", "-c", "1", "-n", "10", "-d", "5s", "-s", script(tmp, ERRORED), s.url)
    got = lines(r.out, "ER")
    check(got and all(g == ["false,false,true,read"] for g in got), f"marks return false, it stays failed: {got}")
    e = name_entry(r, "e")
    eq(e["failures"], len(got), "the errored requests stay failed")
    eq(e["failure_reasons"], {"read": len(got)}, "their reason is the error class")
    eq(r.json["summary"]["failed"], r.json["summary"]["errors"]["read"], "failed are the read errors")


def test_every_response_marked_failed_is_named_as_such():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = script(tmp, 'function user(u) local r = u:get("/", {name = "p"}); r:failure("no") end')
        r = barrage("-q", "-t", "1", "-c", "1", "-n", "5", "-s", path, s.url)
    eq((r.rc, r.json["summary"]["failed"], r.json["summary"]["attempts"]), (0, 5, 5), f"{r}")
    check("the script marked every HTTP 200 response failed" in r.err and "--expect-status" not in r.err,
          f"the all-failed line names the script's marks, not --expect-status: {r.err}")


def test_marks_are_the_rows_of_the_failures_csv():
    """r:success() on a 500 takes its row out of PREFIX_failures.csv; r:failure(msg) on a 200 is a
    row of its own (Locust's CatchResponseError); the rows add up to the Failure Count."""
    import csv
    text = """
local n = 0
function user(u)
   n = n + 1
   local r = u:get("/", {name = "page"})
   if r.status == 500 then r:success() elseif n % 3 == 0 then r:failure("bad body") end
end
"""
    with tempfile.TemporaryDirectory() as tmp, Serve("--fault", "status500:2") as s:
        r = barrage("-t", "1", "-c", "1", "-n", "30", "--csv", os.path.join(tmp, "out"), "-s",
                    script(tmp, text), s.url)
        eq(r.rc, 0, f"{r}")
        with open(os.path.join(tmp, "out_failures.csv")) as f:
            rows = list(csv.DictReader(f))
        with open(os.path.join(tmp, "out_stats.csv")) as f:
            page = [x for x in csv.DictReader(f) if x["Name"] == "page"][0]
    errors = {x["Error"]: int(x["Occurrences"]) for x in rows}
    check(not any("500" in e for e in errors), f"the 500s marked ok have no row: {errors}")
    check(errors.get("CatchResponseError('bad body')", 0) > 0, f"r:failure's row: {errors}")
    eq(sum(errors.values()), int(page["Failure Count"]), "the rows add up to the Failure Count")
    eq(int(page["Failure Count"]), r.json["summary"]["failed"], "and to the JSON's failed")


# A user that computes for 80 ms (Lua, no wait) between its requests: that
# time is the script's, not the server's; the next request's latency starts
# when it is sent (as Locust and k6 time a request), not when the previous
# response came.
BUSY = """
function user(u)
   local r = u:get("/", {name = "after-busy"})
   local t = barrage.now()
   while barrage.now() - t < 80 do end
end
"""


def test_script_time_before_a_request_is_not_its_latency():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        r = barrage("-t", "1", "-c", "1", "-n", "6", "-s", script(tmp, BUSY), s.url)
    eq(r.rc, 0, f"{r}")
    n = name_entry(r, "after-busy")
    eq(n["requests"], 6, f"{n}")
    # the server answers at once: even a loaded machine stays far below the 80 ms of Lua
    p50 = n["latency"]["percentiles"]["50"]
    check(p50 < 40000, f"p50 {p50} us includes the script's 80 ms")


# The cookie jar goes on the wire as written: a number as a name is sent
# (as before), a name or value that would break the header (a line break: a
# second, smuggled request) is an exception at the script's line, and a
# u:get that cannot yield (inside a gsub callback) leaves no phantom row.
JAR = """
local n = 0
function user(u)
   n = n + 1
   if n == 1 then
      pcall(string.gsub, "a", "a", function() u:get("/x", {name = "ghost"}) end)
      u.cookies[7] = "num"
   end
   if n == 3 then u.cookies.bad = "x\\r\\n\\r\\nGET /smuggled HTTP/1.1\\r\\nHost: y" end
   if n == 4 then u.cookies.bad = nil end
   u:get("/", {name = "jar"})
end
"""


def test_cookie_jar_is_checked_and_a_failed_yield_leaves_no_row():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        r = barrage("-t", "1", "-c", "1", "-n", "5", "-s", script(tmp, JAR), s.url)
    eq(r.rc, 0, f"{r}")
    names = [n["name"] for n in r.json["names"]]
    check("ghost" not in names, f"a request that never yielded has a row: {names}")
    n = name_entry(r, "jar")
    eq(n["requests"], 5, f"{n}")
    eq(n["failures"], 0, f"{n}")
    exc = r.json["exceptions"]
    eq(len(exc), 1, f"{exc}")
    check("cookie 'bad'" in exc[0]["message"] and exc[0]["count"] == 1, f"{exc}")
    check(exc[0]["location"].endswith(":11"), f"the script's line: {exc}")
    check(r.parse == 0 and r.requests == 5, f"nothing smuggled: {r}")
