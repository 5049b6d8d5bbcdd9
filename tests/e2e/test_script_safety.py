"""Scripts can never hang or crash the process: endless hooks are stopped by
the duration, -n and the first signal (report and output files still
written); no Lua error reaches C unprotected (no LuaJIT PANIC); waits are
validated; thousands of request names cost a hash lookup each."""
import csv
import json
import os
import signal
import subprocess
import tempfile
import time

from harness import BARRAGE, SANITIZED, Serve, barrage, check, eq, no_sanitizer_report

SPIN = "while true do end"
# a loop whose work is all in C functions: few VM instructions per second
SPIN_C = 'local t = {} while true do t[1] = string.rep("x", 4096); t[2] = table.concat(t) end'

# hook -> script with the endless loop on line 5 (LOOP is replaced)
HOOKS = {
    "request": "local n = 0\nfunction request()\n  n = n + 1\n  if n > 50 then\n    LOOP\n  end\n"
               "  return wrk.format()\nend\n",
    "response": "local n = 0\nfunction response(status, headers, body)\n  n = n + 1\n  if n > 50 then\n"
                "    LOOP\n  end\nend\n",
    "delay": "local n = 0\nfunction delay()\n  n = n + 1\n  if n > 50 then\n    LOOP\n  end\n"
             "  return 0\nend\n",
    "user": "local n = 0\nfunction user(u)\n  u:get(\"/\")\n  n = n + 1\n  if n > 50 then LOOP end\nend\n",
    "done": "function done(summary, latency, requests)\n  local n = 0\n  n = n + 1\n  if n > 0 then\n"
            "    LOOP\n  end\nend\n",
}


def write(tmp, text, name="s.lua"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def outputs(tmp):
    return ["--json", os.path.join(tmp, "r.json"), "--csv", os.path.join(tmp, "r"),
            "--html", os.path.join(tmp, "r.html")]


def check_outputs(tmp, exit_code, what):
    """Every output file is written and tells the exit code."""
    d = json.load(open(os.path.join(tmp, "r.json")))
    eq(d["exit_code"], exit_code, f"{what}: exit code in the JSON")
    check(os.path.getsize(os.path.join(tmp, "r.html")) > 1000, f"{what}: HTML written")
    csvs = [f for f in os.listdir(tmp) if f.startswith("r") and f.endswith(".csv")]
    check(csvs, f"{what}: CSV written: {os.listdir(tmp)}")
    for f in csvs:
        list(csv.reader(open(os.path.join(tmp, f))))
    return d


def run_stuck(hook, loop):
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = write(tmp, HOOKS[hook].replace("LOOP", loop))
        r = barrage("-t", "1", "-c", "2", "-d", "1s", "-s", path, *outputs(tmp), s.url, timeout=20)
        what = f"{hook}() {loop[:20]}"
        eq(r.rc, 2, f"{what}: {r}")
        limit = 1 + 5 + 2.5 if hook == "done" else 1 + 1 + 2.5  # duration + grace + slack
        check(r.elapsed < limit, f"{what}: stopped {r.elapsed:.1f}s after the start")
        check(f"barrage: script error: {path}:5: stopped" in r.err and f"(in {hook}())" in r.err,
              f"{what}: the error names FILE:LINE and the hook: {r.err}")
        check("requests in" in r.out, f"{what}: the report prints")
        d = check_outputs(tmp, 2, what)
        check(d["summary"]["requests"] > 20, f"{what}: what was measured is kept: {d['summary']}")


def test_endless_request_is_stopped_by_the_duration():
    run_stuck("request", SPIN)
    run_stuck("request", SPIN_C)


def test_endless_response_is_stopped_by_the_duration():
    run_stuck("response", SPIN)
    run_stuck("response", SPIN_C)


def test_endless_delay_is_stopped_by_the_duration():
    run_stuck("delay", SPIN)
    run_stuck("delay", SPIN_C)


def test_endless_user_is_stopped_by_the_duration():
    run_stuck("user", SPIN)
    run_stuck("user", SPIN_C)


def test_endless_done_is_stopped_after_five_seconds():
    run_stuck("done", SPIN)
    run_stuck("done", SPIN_C)


def test_endless_loop_caught_by_pcall_is_stopped_again():
    bodies = ("  pcall(function() while true do end end)\n  while true do end\n",
              "  while true do pcall(function() while true do end end) end\n",
              "  while true do pcall(string.rep, 'x', 1000) end\n")
    for body in bodies:
        with tempfile.TemporaryDirectory() as tmp, Serve() as s:
            path = write(tmp, "local n = 0\nfunction response()\n  n = n + 1\n  if n < 50 then return end\n"
                              + body + "end\n")
            r = barrage("-t", "1", "-c", "1", "-d", "1s", "-s", path, s.url, timeout=20)
        eq(r.rc, 2, f"{body}: {r}")
        check(f"{path}:5: stopped" in r.err and "(in response())" in r.err, f"{body}: {r.err}")


def signal_stuck(hook, sig, tmp, url, at=1.5):
    path = write(tmp, HOOKS[hook].replace("LOOP", SPIN))
    dur = "1s" if hook == "done" else "60s"
    p = subprocess.Popen([BARRAGE, "-t", "2", "-c", "2", "-d", dur, "-s", path, *outputs(tmp), url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(at)
    check(p.poll() is None, f"{hook}() is still running at {at}s")
    t0 = time.time()
    p.send_signal(sig)
    out, err = p.communicate(timeout=10)
    no_sanitizer_report(err, f"{hook} {sig}")
    eq(p.returncode, 128 + sig, f"{hook}: {out}{err}")
    check(time.time() - t0 < 2.5, f"{hook}: stopped {time.time() - t0:.1f}s after the signal")
    check("requests in" in out, f"{hook}: the report prints: {out}")
    check(f"{path}:5: stopped" in err and f"(in {hook}())" in err, f"{hook}: {err}")
    check_outputs(tmp, 128 + sig, hook)


def test_endless_hooks_are_stopped_by_the_first_signal():
    for hook, sig in (("response", signal.SIGINT), ("request", signal.SIGTERM), ("user", signal.SIGINT)):
        with tempfile.TemporaryDirectory() as tmp, Serve() as s:
            signal_stuck(hook, sig, tmp, s.url)


def test_endless_done_is_stopped_by_the_first_signal():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        signal_stuck("done", signal.SIGTERM, tmp, s.url, at=2.5)


def test_n_ends_a_run_stuck_in_its_last_response():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = write(tmp, "local n = 0\nfunction response()\n  n = n + 1\n  if n == 100 then\n"
                          "    while true do end\n  end\nend\n")
        r = barrage("-t", "2", "-c", "2", "-n", "200", "-s", path, "--json", os.path.join(tmp, "r.json"),
                    s.url, timeout=20)
        eq(r.rc, 2, f"{r}")
        check(r.elapsed < 5, f"ended soon after the 200th response: {r.elapsed:.1f}s")
        check(f"{path}:5: stopped" in r.err and "(in response())" in r.err, r.err)
        d = json.load(open(os.path.join(tmp, "r.json")))
    eq(d["summary"]["requests"], 200, "every response of -n counted")


# ---------------------------------------------------------------- no PANIC

STRICT = ("setmetatable(_G, {\n"
          "  __index = function(t, k) error('strict: undefined global ' .. tostring(k), 2) end,\n"
          "  __newindex = function(t, k, v) error('strict: assignment to ' .. tostring(k), 2) end,\n"
          "})\n")


def test_strict_globals_in_init_run_normally():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        # hooks looked up (request, delay, user, done...) and thread:get of a
        # missing global in done() must not meet the raising __index
        path = write(tmp, "local threads = {}\nfunction setup(t) table.insert(threads, t) end\n"
                          "function init(args)\n" + STRICT + "end\n"
                          "function response(status, headers, body) end\n"
                          "function done(s, l, r)\n  for _, t in ipairs(threads) do\n"
                          "    assert(t:get('missing') == nil)\n  end\n  io.write('done ok\\n')\nend\n")
        r = barrage("-t", "2", "-c", "2", "-d", "1s", "-s", path, s.url, timeout=20)
    check("PANIC" not in r.err, r.err)
    eq(r.rc, 0, f"{r}")
    check(r.requests and r.requests > 0 and "done ok" in r.out, f"{r}")


def test_a_global_named_barrage_does_not_break_workflows():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = write(tmp, "function init(args) barrage = nil end\nfunction user(u) u:get('/') end\n")
        r = barrage("-t", "1", "-c", "1", "-d", "1s", "-s", path, s.url, timeout=20)
    check("PANIC" not in r.err, r.err)
    eq(r.rc, 0, f"{r}")
    check(r.requests and r.requests > 0, f"{r}")


def test_strict_globals_in_the_main_chunk_run_normally():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = write(tmp, "function request() return wrk.format() end\n" + STRICT)
        r = barrage("-t", "1", "-c", "1", "-d", "1s", "-s", path, s.url, timeout=20)
    check("PANIC" not in r.err, r.err)
    eq(r.rc, 0, f"{r}")
    check(r.requests and r.requests > 0, f"{r}")


def test_read_only_wrk_proxy_is_a_script_error():
    proxy = ("wrk = setmetatable({}, {\n"
             "  __index = function(t, k) error('wrk is read-only here: ' .. tostring(k)) end,\n"
             "  __newindex = function(t, k) error('wrk is read-only here: ' .. tostring(k)) end,\n"
             "})\n")
    cases = {
        "main chunk": proxy,
        "init()": "function init(args)\n" + proxy + "end\n",
        "init() with response()": "function init(args)\n" + proxy + "end\nfunction response() end\n",
    }
    for what, text in cases.items():
        with tempfile.TemporaryDirectory() as tmp, Serve() as s:
            path = write(tmp, text)
            r = barrage("-t", "1", "-c", "1", "-d", "1s", "-s", path, s.url, timeout=20)
        check("PANIC" not in r.err, f"{what}: {r.err}")
        eq(r.rc, 2, f"{what}: {r}")
        check("script error:" in r.err and "read-only" in r.err, f"{what}: {r.err}")


def test_errors_in_every_hook_are_script_errors():
    # error objects that are not strings, errors from metamethods of values
    # the C side reads, and a table where a request string is expected
    cases = {
        "request() error(table)": ("function request() error({}) end\n", "(in request())"),
        "response() error(nil)": ("function response() error() end\n", "(in response())"),
        "delay() returns a table with __index": (
            "function delay() return setmetatable({}, {__index = function() error('x') end}) end\n",
            "(in delay())"),
        "done() error(42)": ("function done() error(42) end\n", "(in done())"),
        "response() error(table with __tostring)": (
            "function response() error(setmetatable({}, {__tostring = function() error('y') end})) end\n",
            "(in response())"),
        "init() sets wrk = nil": ("function init(args) wrk = nil end\n", "(in wrk.request())"),
        "init() sets wrk = nil, response()": ("function init(args) wrk = nil end\nfunction response() end\n",
                                              "(in init())"),
        "user() yields by hand": ("function user(u) coroutine.yield('request', 42, {}) end\n",
                                  "yielded something unexpected (do not call coroutine.yield in user()) (in user())"),
    }
    for what, (text, hook) in cases.items():
        with tempfile.TemporaryDirectory() as tmp, Serve() as s:
            path = write(tmp, text)
            r = barrage("-t", "1", "-c", "1", "-d", "1s", "-s", path, s.url, timeout=20)
        check("PANIC" not in r.err, f"{what}: {r.err}")
        eq(r.rc, 2, f"{what}: {r}")
        check("script error:" in r.err and hook in r.err, f"{what}: {r.err}")


# ----------------------------------------------------------- delays, sleeps

def wait_run(text, *args, timeout=20):
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = write(tmp, text)
        r = barrage("-t", "1", "-c", "2", *args, "-s", path, "--json", os.path.join(tmp, "r.json"), s.url,
                    timeout=timeout)
        d = json.load(open(os.path.join(tmp, "r.json"))) if os.path.exists(os.path.join(tmp, "r.json")) else None
    return r, d


def test_bad_delays_are_script_errors():
    for value in ("0/0", "-1", "-math.huge"):
        # a 10 s run: reported at once (not at its end) even when a loaded machine starts it slowly
        r, _ = wait_run(f"function delay() return {value} end\n", "-d", "10s")
        eq(r.rc, 2, f"delay {value}: {r}")
        check("delay() waits" in r.err and "must be a number of milliseconds >= 0" in r.err
              and "(in delay())" in r.err, f"delay {value}: {r.err}")
        check(r.elapsed < 5, f"delay {value}: reported at once: {r.elapsed:.1f}s")


def test_bad_sleeps_are_script_errors():
    # in a virtual user, an error is an exception (counted, the run goes on: test_users.py); with
    # --max-exceptions 0 the first one ends the run as a script error
    for value in ("0/0", "-1", "-math.huge"):
        r, _ = wait_run(f"function user(u)\n  u:get('/')\n  u:sleep({value})\nend\n", "-d", "2s",
                        "--max-exceptions", "0")
        eq(r.rc, 2, f"sleep {value}: {r}")
        check("u:sleep(ms): ms must be a non-negative number" in r.err and ":3:" in r.err and "(in user())" in r.err,
              f"sleep {value}: {r.err}")


def test_endless_waits_last_until_the_end_of_the_run():
    for text in ("function delay() return math.huge end\n", "function delay() return 1e300 end\n",
                 "function user(u)\n  u:get('/')\n  u:sleep(math.huge)\nend\n",
                 "function user(u)\n  u:get('/')\n  u:sleep(1e300)\nend\n"):
        r, d = wait_run(text, "-d", "1s")
        eq(r.rc, 0, f"{text}: {r}")
        check(r.elapsed < 3, f"{text}: ended on time: {r.elapsed:.1f}s")
        if "user" in text:
            eq(d["summary"]["requests"], 2, f"{text}: one request per virtual user, then the wait")
        else:
            eq(d["summary"]["requests"], 0, f"{text}: nothing sent, never a zero delay")


def test_endless_wait_with_only_n_is_a_script_error():
    for text, hook in (("function delay() return math.huge end\n", "(in delay())"),
                       ("function user(u)\n  u:get('/')\n  u:sleep(math.huge)\nend\n", "(in u:sleep())")):
        r, _ = wait_run(text, "-n", "100")
        eq(r.rc, 2, f"{text}: {r}")
        check("would never end" in r.err and hook in r.err, f"{text}: {r.err}")


def test_finite_delays_still_wait():
    r, d = wait_run("function delay() return 100 end\n", "-d", "1s")
    eq(r.rc, 0, f"{r}")
    # 2 connections, 100 ms before each request: about 20 in a second
    check(8 <= d["summary"]["requests"] <= 24, f"{d['summary']}")


# ------------------------------------------------------------------ names

def test_twenty_thousand_names_are_counted_exactly():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = write(tmp, "local n = 0\nfunction user(u)\n  n = n + 1\n"
                          "  u:get('/', { name = 'item ' .. (n % 20000) })\nend\n")
        jpath = os.path.join(tmp, "r.json")
        t0 = time.time()
        r = barrage("-t", "2", "-c", "8", "-n", "40000", "-s", path, "--json", jpath, s.url,
                    timeout=120 if SANITIZED else 60)
        took = time.time() - t0
        eq(r.rc, 0, f"{r.rc} {r.err}")
        d = json.load(open(jpath))
    names = d["names"]
    eq(len(names), 20000, "distinct names")
    counts = {n["name"]: n["requests"] for n in names}
    eq(sorted(set(counts.values())), [2], "each name: once per thread")
    check("item 0" in counts and "item 19999" in counts, "the names as given")
    if not SANITIZED:
        check(took < 30, f"a sane time: {took:.1f}s")


# ------------------------------------------------- float-to-integer casts

def test_rate_nan_is_refused():
    r = barrage("-R", "nan", "-d", "1s", "http://127.0.0.1:9/")
    eq(r.rc, 2, f"{r}")
    check("is not a rate" in r.err, r.err)


def test_tiny_rate_ends_on_time():
    # slot times beyond uint64_t's range of ns: never, not an undefined cast
    with Serve() as s:
        r = barrage("-t", "1", "-c", "1", "-R", "1e-300", "-d", "1s", s.url, timeout=20)
    eq(r.rc, 0, f"{r}")
    check(r.elapsed < 4, f"ended on time: {r.elapsed:.1f}s")
    check(r.requests is not None and r.requests <= 1, f"at most the first slot: {r}")


# ------------------------------------------------------------- huge bodies

def test_a_body_too_large_for_lua_is_a_script_error():
    # 2 GiB + 1 MiB, chunked: past LuaJIT's string limit (a PANIC when it was
    # pushed unprotected); now bodies past 1 GiB are not kept, and the hook
    # that would get one ends the run with a clear error
    if SANITIZED:
        return  # gigabytes through ASan: the plain build covers it
    import socket
    import threading
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    chunk = b"100000\r\n" + b"x" * (1 << 20) + b"\r\n"

    def serve():
        try:
            while True:
                conn, _ = srv.accept()
                with conn:
                    if not conn.recv(65536):
                        continue  # the start-up probe
                    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    for _ in range(2049):
                        conn.sendall(chunk)
                    conn.sendall(b"0\r\n\r\n")
                    time.sleep(2)
        except OSError:
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    with tempfile.TemporaryDirectory() as tmp:
        path = write(tmp, "function response(status, headers, body) end\n")
        r = barrage("-t", "1", "-c", "1", "-d", "60s", "--timeout", "60s", "-s", path,
                    f"http://127.0.0.1:{port}/", timeout=90)
    srv.close()
    check("PANIC" not in r.err, r.err)
    eq(r.rc, 2, f"{r}")
    check("a response body of 2148532224 bytes is too large for a script (at most 1 GiB)" in r.err
          and "(in response())" in r.err, r.err)
    check(r.elapsed < 30, f"{r.elapsed:.1f}s")
