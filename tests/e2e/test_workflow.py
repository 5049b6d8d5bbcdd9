"""Virtual-user workflows (user(u)) against the demo API of barrage serve."""
import os
import re
import tempfile

from harness import ROOT, Nginx, Serve, barrage, check, eq


def names(out):
    """{name: (count, failures)} from the 'Requests by name' table."""
    table = {}
    if "Requests by name" not in out:
        return table
    block = out.split("Requests by name")[1].split("Requests/sec")[0]
    for line in block.splitlines()[2:]:
        m = re.match(r"\s+\S+\s+(.+?)\s+(\d+)\s+(\d+)\s+[\d.]+\s", line)  # Type, Name, Count, Failures
        if m:
            table[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return table


def checks(out):
    return {m[1].strip(): (int(m[2]), int(m[3]))
            for m in re.findall(r"^\s+(ok  |FAIL) (.+?)\s+(\d+) passed\s+(\d+) failed", out, re.M)
            for m in [(None, m[1], m[2], m[3])]}


def run_script(text, *args, serve_args=(), timeout=30):
    with tempfile.TemporaryDirectory() as tmp, Serve(*serve_args) as s:
        path = os.path.join(tmp, "flow.lua")
        with open(path, "w") as f:
            f.write(text)
        r = barrage(*args, "-s", path, s.url, timeout=timeout)
        counts = s.stop()
    return r, counts


def test_login_example_runs_with_cookies_tokens_and_checks():
    with Serve() as s:
        r = barrage("-t", "2", "-c", "8", "-d", "2s", "-s", os.path.join(ROOT, "scripts", "login.lua"), s.url)
    eq(r.rc, 0, f"{r}")
    t = names(r.out)
    for step in ("login", "list items", "view item", "add to cart"):
        check(step in t and t[step][0] > 0, f"step {step!r} in the per-name table: {r.out}")
        eq(t[step][1], 0, f"failures of {step}")
    c = checks(r.out)
    for name in ("logged in", "five items listed", "item found", "cart accepted the session cookie"):
        check(name in c and c[name][0] > 0, f"check {name!r} passed: {r.out}")
        eq(c[name][1], 0, f"failed checks for {name!r}")


FLOW = """
function user(u)
   local r = u:post("/api/login", {json = {name = "ann", password = "pw"}, name = "login"})
   check(r.status == 200, "login 200")
   check(r.headers["set-cookie"] ~= nil, "cookie header lower-cased")
   u.headers["Authorization"] = "Bearer " .. r:json().token
   local i = u:get("/api/items/3", {name = "item"})
   check(i:json().name == "cherry", "json decoded")
   local me = u:get("/api/me", {name = "me"})
   check(me:json().name == "ann", "cookie sent back")
   local c = u:post("/api/cart", {body = "x", name = "cart"})
   check(c.status == 201, "cart")
end
"""


def test_sequential_steps_exact_counts():
    # one user, 8 responses: exactly two iterations of the 4-step flow
    r, c = run_script(FLOW, "-t", "1", "-c", "1", "-n", "8")
    eq(r.rc, 0, f"{r}")
    eq(r.requests, 8, "responses")
    eq(names(r.out), {"login": (2, 0), "item": (2, 0), "me": (2, 0), "cart": (2, 0)}, "per-name counts")
    eq(checks(r.out), {"login 200": (2, 0), "cookie header lower-cased": (2, 0), "json decoded": (2, 0),
                       "cookie sent back": (2, 0), "cart": (2, 0)}, "checks")
    eq(c["requests"], 8, "server saw exactly the 8 requests")


def test_failed_checks_and_failures_are_counted():
    flow = """
function user(u)
   local r = u:get("/api/items", {name = "no token"})
   check(r.status == 200, "authorised")
end
"""
    r, _ = run_script(flow, "-t", "1", "-c", "2", "-n", "10")
    eq(r.requests, 10, f"{r}")
    eq(names(r.out), {"no token": (10, 10)}, "401s are failures of the step")
    eq(checks(r.out), {"authorised": (0, 10)}, "checks failed")
    eq(r.non2xx, 10, "and non-2xx responses")


def test_think_time_does_not_block_other_users():
    flow = """
function user(u)
   u:get("/", {name = "root"})
   u:sleep(200)
end
"""
    r, _ = run_script(flow, "-t", "1", "-c", "10", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    # each of 10 users: ~5 requests in 1 s with 200 ms think time; a blocking sleep would allow ~5 in all
    check(40 <= r.requests <= 60, f"requests with 10 concurrent sleepers: {r.requests}")


def test_request_errors_reach_the_user_as_status_0():
    flow = """
function user(u)
   local r = u:get("/", {name = "get"})
   if r.status == 0 then
      check(r.error == "timeout", "error is named")
   else
      check(r.status == 200, "ok")
   end
end
"""
    r, _ = run_script(flow, "-t", "1", "-c", "1", "-n", "8", "--timeout", "200ms",
                      serve_args=("--fault", "hang:4"))
    eq(r.requests, 8, f"{r}")
    eq(r.timeout, 2, "timeouts")
    c = checks(r.out)
    eq(c.get("error is named"), (2, 0), f"the user saw the timeouts: {c}")
    eq(names(r.out)["get"], (10, 2), "failed attempts count as failures of the step")


def test_user_errors_are_counted_and_the_run_goes_on():
    # Locust's rule: an exception in user code ends that iteration, not the test; it is counted by message
    # and file:line, and the user starts again after a back-off
    flow = """
function user(u)
   local r = u:get("/", {name = "x"})
   local t = nil
   return t.field
end
"""
    r, _ = run_script(flow, "-t", "1", "-c", "2", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    exc = r.json["exceptions"]
    eq(len(exc), 1, f"one (message, location): {exc}")
    check(exc[0]["location"].endswith("flow.lua:5") and "attempt to index" in exc[0]["message"], f"{exc}")
    # back-off 100, 200, 400, 800 ms: at most 4 or 5 iterations per user in 1 s, at least 2
    check(4 <= exc[0]["count"] <= 10, f"two users, backed off: {exc}")
    eq(r.requests, exc[0]["count"], "one request per failing iteration")


def test_user_errors_stop_the_run_with_max_exceptions_0():
    flow = """
function user(u)
   local r = u:get("/", {name = "x"})
   local t = nil
   return t.field
end
"""
    r, _ = run_script(flow, "-t", "1", "-c", "2", "-d", "5s", "--max-exceptions", "0")
    eq(r.rc, 2, f"{r}")
    check(re.search(r"flow\.lua:5: .*attempt to index.*\(in user\(\)\); more than --max-exceptions 0", r.err), r.err)
    check(r.elapsed < 3, "stops at once")


def test_bad_api_argument_names_the_callers_line():
    flow = """
function user(u)
   u:get(42)
end
"""
    r, _ = run_script(flow, "-t", "1", "-c", "1", "-d", "5s", "--max-exceptions", "0")
    eq(r.rc, 2, f"{r}")
    check(re.search(r"flow\.lua:3: u:request: path must be a string", r.err), r.err)
    r, _ = run_script(flow, "-t", "1", "-c", "1", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    exc = r.json["exceptions"]
    check(len(exc) == 1 and exc[0]["location"].endswith("flow.lua:3") and
          exc[0]["message"].startswith("u:request: path must be a string"), f"{exc}")


def test_spinning_user_is_an_exception_with_back_off_not_a_hang():
    r, _ = run_script("function user(u) end\n", "-t", "1", "-c", "1", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    exc = r.json["exceptions"]
    check(len(exc) == 1 and "would spin" in exc[0]["message"] and exc[0]["location"].endswith("flow.lua:1"), f"{exc}")
    check(2 <= exc[0]["count"] <= 5, f"backed off, not spinning: {exc}")
    r, _ = run_script("function user(u) end\n", "-t", "1", "-c", "1", "-d", "5s", "--max-exceptions", "0")
    eq(r.rc, 2, f"{r}")
    check("would spin" in r.err, r.err)


def test_repeated_headers_and_several_cookies_against_nginx():
    # nginx sends three Set-Cookie headers (one deleting a cookie) and X-Dup twice; the user sees the
    # repeated header joined, keeps the two live cookies and sends them back in one sorted Cookie header
    script = """
function user(u)
   local r = u:get("/cookies", { name = "cookies" })
   check(r.headers["x-dup"] == "one, two", "repeated header joined")
   check(r.headers["set-cookie"] == "b=2; Path=/, a=1, gone=x; Max-Age=0", "set-cookie joined")
   local e = u:get("/echo-cookie", { name = "echo" })
   check(e.body == "a=1; b=2", "cookies sent back: " .. e.body)
   u.headers["Cookie"] = "mine=1"
   check(u:get("/echo-cookie", { name = "echo" }).body == "mine=1", "an explicit Cookie header wins")
   u.headers["Cookie"] = nil
end
"""
    with tempfile.TemporaryDirectory() as tmp, Nginx() as n:
        path = os.path.join(tmp, "flow.lua")
        with open(path, "w") as f:
            f.write(script)
        r = barrage("-t", "1", "-c", "2", "-n", "30", "-s", path, f"{n.url}/")
    eq(r.rc, 0, f"{r}")
    got = checks(r.out)
    for name in ("repeated header joined", "set-cookie joined", "an explicit Cookie header wins"):
        check(name in got and got[name][1] == 0 and got[name][0] >= 8, f"{name}: {got.get(name)} in {r.out}")
    echoed = {k: v for k, v in got.items() if k.startswith("cookies sent back: ")}
    check(list(echoed) == ["cookies sent back: a=1; b=2"] and echoed["cookies sent back: a=1; b=2"][1] == 0
          and echoed["cookies sent back: a=1; b=2"][0] >= 8, f"every echo was 'a=1; b=2': {echoed}")
