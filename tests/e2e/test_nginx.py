"""The engine against a real server: nginx started on a free loopback port.
Counts are checked against nginx's own access log."""
import collections
import time

from harness import Nginx, barrage, check, eq


def test_exact_request_count_with_n():
    with Nginx() as n:
        r = barrage("-t", "2", "-c", "10", "-n", "1000", f"{n.url}/health")
        eq(r.rc, 0, f"exit code {r}")
        eq(r.requests, 1000, "responses reported")
        time.sleep(0.2)
        log = n.log()
        eq(len(log), 1000, "requests nginx received")
        check(all(e["status"] == 200 and e["method"] == "GET" for e in log), "all GET 200")
        eq(len({e["connection"] for e in log}), 10, "keep-alive: exactly 10 connections used")


def test_duration_is_honoured_and_keepalive_used():
    with Nginx() as n:
        r = barrage("-t", "2", "-c", "8", "-d", "2s", "--latency", f"{n.url}/health")
        eq(r.rc, 0, f"exit code {r}")
        check(1.9 < r.elapsed < 4.0, f"2 s run took {r.elapsed:.2f}s")
        check(r.requests and r.requests > 1000, f"requests: {r.requests}")
        time.sleep(0.2)
        log = n.log()
        # in-flight requests at the end are sent but not counted: at most one per connection
        check(r.requests <= len(log) <= r.requests + 8, f"logged {len(log)} vs reported {r.requests}")
        eq(len({e["connection"] for e in log}), 8, "connections used")
        for p in (50, 75, 90, 99, 99.9, 99.99):
            check(p in r.percentiles, f"--latency prints p{p}")
        check(r.percentiles[50] <= r.percentiles[99] <= r.percentiles[99.99], "percentiles ordered")


def test_non2xx_counted_exactly():
    with Nginx() as n:
        r = barrage("-t", "1", "-c", "3", "-n", "300", f"{n.url}/notfound")
        eq(r.requests, 300, "responses")
        eq(r.non2xx, 300, "Non-2xx or 3xx responses")
        eq((r.connect, r.read, r.write, r.timeout, r.parse), (0, 0, 0, 0, 0), "no socket errors")


def test_post_with_body_and_headers():
    with Nginx() as n:
        body = "x" * 1000
        r = barrage("-t", "1", "-c", "2", "-n", "50", "-m", "POST", "--body", body,
                    "-H", "X-Test: 1", f"{n.url}/health")
        eq(r.requests, 50, "responses")
        time.sleep(0.2)
        log = n.log()
        eq(len(log), 50, "logged")
        check(all(e["method"] == "POST" for e in log), "method POST")
        check(all(e["length"] == 1000 for e in log), "Content-Length: 1000 sent")
        # bodies framed right: the two connections carried every request, none was reopened (a loaded machine
        # may split them 26/24: one connection's response came back first more often)
        per = {}
        for e in log:
            per.setdefault(e["connection"], []).append(e["n"])
        eq(len(per), 2, f"two connections, never reopened: {per}")
        check(all(sorted(v) == list(range(1, len(v) + 1)) for v in per.values()),
              f"each connection's requests numbered 1..k by nginx (keep-alive throughout): {per}")


def test_head_skips_bodies():
    with Nginx() as n:
        r = barrage("-t", "1", "-c", "2", "-n", "100", "-m", "HEAD", f"{n.url}/big.bin", timeout=20)
        eq(r.rc, 0, f"{r}")
        eq(r.requests, 100, "HEAD responses (a body would have stalled the parser)")
        eq(r.timeout + r.read + r.parse + r.non2xx, 0, "no errors")


def test_large_bodies_streamed():
    with Nginx() as n:
        r = barrage("-t", "1", "-c", "4", "-n", "200", f"{n.url}/big.bin", timeout=30)
        eq(r.requests, 200, "1 MiB responses")
        check("200.0" in r.out.split(" read")[0], f"about 200 MB read reported: {r.out}")
        eq(r.read + r.parse + r.timeout + r.non2xx, 0, "no errors")


def test_connection_close_reconnects_without_errors():
    with Nginx() as n:
        r = barrage("-t", "1", "-c", "4", "-n", "200", f"{n.url}/close")
        eq(r.requests, 200, "responses")
        eq((r.connect, r.read, r.write, r.timeout, r.parse), (0, 0, 0, 0, 0), "no errors")
        time.sleep(0.2)
        log = n.log()
        eq(len(log), 200, "logged")
        per_conn = collections.Counter(e["connection"] for e in log)
        eq(len(per_conn), 200, "one request per connection (server closes each)")
