"""Every example in scripts/ run end to end, asserting its effect on the
server (nginx's access log) or in the output; plus script errors."""
import collections
import os
import re
import time

from harness import ROOT, Nginx, Serve, barrage, check, eq

S = os.path.join(ROOT, "scripts")


def script(name):
    return os.path.join(S, name)


def test_auth_header_from_script_args():
    with Nginx() as n:
        r = barrage("-t", "1", "-c", "2", "-n", "20", "-s", script("auth.lua"), f"{n.url}/", "--", "s3cr3t")
        eq(r.rc, 0, f"{r}")
        time.sleep(0.2)
        log = n.log()
        eq(len(log), 20, "requests")
        check(all(e["authorization"] == "Bearer s3cr3t" for e in log), f"Authorization sent: {log[:2]}")


def test_counter_makes_distinct_paths_per_thread():
    with Nginx() as n:
        r = barrage("-t", "2", "-c", "2", "-n", "100", "-s", script("counter.lua"), f"{n.url}/")
        eq(r.requests, 100, f"responses {r}")
        time.sleep(0.2)
        uris = collections.Counter(e["uri"] for e in n.log())
        # two threads, 50 requests each, each counting /item/0../item/49 on its own
        eq(sorted(uris), sorted(f"/item/{i}" for i in range(50)), "paths")
        check(all(v == 2 for v in uris.values()), "each path once per thread")


def test_delay_paces_requests():
    with Nginx() as n:
        r = barrage("-t", "1", "-c", "1", "-d", "1s", "-s", script("delay.lua"), f"{n.url}/")
        eq(r.rc, 0, f"{r}")
        # 10-50 ms between requests: about 33 in a second, never more than 100
        check(15 <= r.requests <= 100, f"requests with think time: {r.requests}")


def test_pipeline_counts_every_response():
    with Nginx() as n:
        r = barrage("-t", "1", "-c", "2", "-n", "30", "-s", script("pipeline.lua"), f"{n.url}/")
        eq(r.requests, 30, f"responses {r}")
        eq(r.read + r.parse + r.timeout, 0, "no errors")
        time.sleep(0.2)
        log = n.log()
        eq(len(log), 30, "requests")
        eq(collections.Counter(e["uri"] for e in log), {"/a": 10, "/b": 10, "/c": 10}, "paths")
        # pipelined: each connection carries whole batches of /a, /b, /c back to back
        per_conn = collections.Counter(e["connection"] for e in log)
        check(len(per_conn) <= 2 and all(v % 3 == 0 for v in per_conn.values()), f"batches of 3: {per_conn}")
        for conn in per_conn:
            uris = [e["uri"] for e in sorted((e for e in log if e["connection"] == conn), key=lambda e: e["n"])]
            eq(uris, ["/a", "/b", "/c"] * (len(uris) // 3), f"order on connection {conn}")


def test_post_sends_the_body():
    with Nginx() as n:
        r = barrage("-t", "1", "-c", "1", "-n", "5", "-s", script("post.lua"), f"{n.url}/health")
        eq(r.requests, 5, f"{r}")
        time.sleep(0.2)
        log = n.log()
        check(all(e["method"] == "POST" and e["length"] == 35 for e in log), f"POST with body: {log}")


def test_report_prints_custom_summary():
    with Nginx() as n:
        r = barrage("-t", "2", "-c", "4", "-n", "500", "-s", script("report.lua"), f"{n.url}/health")
        eq(r.rc, 0, f"{r}")
        m = re.search(r"requests\s+(\d+) in", r.out)
        check(m, f"custom report printed: {r.out}")
        eq(int(m.group(1)), 500, "summary.requests")
        for p in ("p50", "p90", "p99", "p99.9"):
            check(re.search(rf"latency\s+{re.escape(p)}\s+\d+ us", r.out), f"{p} line in {r.out}")


def test_setup_gives_each_thread_its_data():
    with Nginx() as n:
        r = barrage("-t", "2", "-c", "2", "-n", "40", "-s", script("setup.lua"), f"{n.url}/health")
        eq(r.rc, 0, f"{r}")
        lines = re.findall(r"thread (\d+) made (\d+) requests and got (\d+) responses", r.out)
        eq(sorted(int(t) for t, _, _ in lines), [1, 2], f"one line per thread: {r.out}")
        eq(sum(int(g) for _, _, g in lines), 40, "responses counted by the threads")
        time.sleep(0.2)
        eq(collections.Counter(e["thread"] for e in n.log()), {"1": 20, "2": 20}, "X-Thread per thread")


def test_stop_after_n_responses():
    with Nginx() as n:
        r = barrage("-t", "2", "-c", "2", "-d", "10s", "-s", script("stop.lua"), f"{n.url}/health")
        eq(r.rc, 0, f"{r}")
        eq(r.requests, 200, "each of 2 threads stops at 100")
        check(r.elapsed < 5, "stopped early")


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def script_error(text, *args, needle, hook):
    import tempfile
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = write(tmp, "bad.lua", text)
        r = barrage("-t", "1", "-c", "2", "-d", "2s", *args, "-s", path, s.url, timeout=20)
        eq(r.rc, 2, f"exit code for a script error ({r})")
        line = [x for x in r.err.splitlines() if x.startswith("barrage:")]
        eq(len(line), 1, f"one error line: {r.err!r}")
        check(f"{path}:" in line[0], f"names file:line: {line[0]}")
        check(needle in line[0], f"says {needle!r}: {line[0]}")
        check(f"(in {hook})" in line[0], f"names the hook {hook}: {line[0]}")
        check(r.elapsed < 5, "stops promptly")
        return r


def test_syntax_error():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = write(tmp, "bad.lua", "function request(\n  return 1\nend\n")
        r = barrage("-t", "1", "-c", "1", "-d", "1s", "-s", path, s.url)
        eq(r.rc, 2, f"{r}")
        check(f"{path}:2:" in r.err, f"file:line of the syntax error: {r.err}")


def test_runtime_error_in_each_hook():
    script_error("function response(s, h, b)\n  local x = nil\n  return x.y\nend\n",
                 needle="attempt to index", hook="response()")
    script_error("function request()\n  error('boom')\nend\n", needle="boom", hook="request()")
    script_error("function init(args)\n  error('init failed')\nend\n", needle="init failed", hook="init()")
    script_error("function delay()\n  return {} + 1\nend\n", needle="arithmetic", hook="delay()")
    script_error("function setup(t)\n  t:set('f', function() end)\nend\n", needle="transferred", hook="setup()")
    r = script_error("function done(s, l, r)\n  error('in done')\nend\n", needle="in done", hook="done()")
    check("requests in" in r.out, "the report of what was measured still prints")


def test_wrong_return_types():
    script_error("function request()\n  return 42\nend\n", needle="must return a string, got number",
                 hook="request()")
    script_error("function request()\n  return 'not http'\nend\n", needle="not a complete HTTP request",
                 hook="request()")
    script_error("function delay()\n  return 'soon'\nend\n", needle="must return a number", hook="delay()")


def test_bad_api_arguments():
    script_error("function init(a)\n  wrk.thread:stop(1, 2)\n  wrk.lookup()\nend\n",
                 needle="bad argument", hook="init()")
    script_error("function done(s, l, r)\n  l:percentile(101)\nend\n", needle="between 0 and 100", hook="done()")


def test_missing_script_file():
    with Serve() as s:
        r = barrage("-s", "/nonexistent/x.lua", "-d", "1s", s.url)
        eq(r.rc, 2, "exit code")
        check("cannot open script" in r.err, r.err)
