"""The plain path's fast response scan (http_parse without a capture) counts
what llhttp would: a body split across writes completes at its last byte,
keep-alive follows HTTP/1.0 and `Connection: close` rules, and bytes after a
response nobody asked for are still a parse error. Each run is repeated
with a script whose response() hook makes barrage capture (llhttp alone),
and both must agree. Servers: test_protocol's raw-socket RawServer."""
import time

from harness import check, eq
from test_protocol import RawServer, no_errors, run_json, script

RESPONSE_HOOK = "function response(status, headers, body) end\n"


def both(handler, *args):
    """Run barrage with the fast path (no script) and with llhttp alone (a
    response() hook); returns the two JSON summaries."""
    out = []
    for extra in ([], ["-s", script(RESPONSE_HOOK)]):
        with RawServer(handler) as s:
            r, doc = run_json(*extra, *args, s.url, timeout=30)
        check(doc is not None, f"no JSON: {r}")
        out.append((r, doc))
    return out


def split_body(req, c):
    """A 20-byte body in three writes, 30 ms apart."""
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123")
    time.sleep(0.03)
    c.sendall(b"456789")
    time.sleep(0.03)
    c.sendall(b"abcdefghij")
    return None


def test_body_split_across_writes_completes_at_its_last_byte():
    for r, doc in both(split_body, "-t1", "-c1", "-n", "5", "-d", "10s", "-T", "2s"):
        eq(r.rc, 0, f"exit code ({r.err})")
        eq(doc["summary"]["requests"], 5, "responses")
        no_errors(doc, "errors")
        # completes only with the last write: at least the two 30 ms gaps
        check(r.elapsed >= 5 * 0.06, f"5 split responses took {r.elapsed:.2f}s: completed early?")


def test_http10_keep_alive_and_close_rules():
    # HTTP/1.0 with keep-alive stays open; without it every response closes
    for resp, conns in ((b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 1),
                        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 10),
                        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 10)):
        for r, doc in both(lambda req, c, resp=resp: resp, "-t1", "-c1", "-n", "10", "-d", "10s"):
            eq(r.rc, 0, f"exit code ({r.err})")
            eq(doc["summary"]["requests"], 10, f"responses to {resp[:40]!r}")
            no_errors(doc, f"errors with {resp[:40]!r}")


def test_bytes_after_a_fast_response_are_unsolicited():
    extra = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    for r, doc in both(lambda req, c: extra, "-t1", "-c1", "-n", "3", "-d", "10s"):
        check(doc["summary"]["errors"]["parse"] >= 1, f"no parse error for an extra response: {r}")


def test_malformed_content_length_is_a_parse_error():
    bad = b"HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok"
    for r, doc in both(lambda req, c: bad, "-t1", "-c1", "-n", "3", "-d", "1s"):
        eq(doc["summary"]["requests"], 0, "responses")
        check(doc["summary"]["errors"]["parse"] >= 1, f"no parse error: {r}")
