#!/usr/bin/env python3
"""test_serve_raw.py - `barrage serve` driven over raw sockets (stdlib only).

Every test starts its own `$BARRAGE serve --listen 127.0.0.1:0 ...`, reads the
port from the `listening on` line, talks HTTP/1.1 by hand to 127.0.0.1 and
kills the server in a finally block. Sockets time out after 2 s, so a broken
server fails a test instead of hanging the suite.

    BARRAGE=./barrage python3 tests/e2e/test_serve_raw.py [name-filter]

Prints `ok   e2e/<name>` or `FAIL e2e/<name>` per test, then `N passed, N
failed`; exits 1 when anything failed.
"""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import traceback

BARRAGE = os.environ.get("BARRAGE", "./barrage")
TIMEOUT = 2.0          # every socket operation
START_TIMEOUT = 10.0   # server start (sanitizer builds start slowly)
HOST = "127.0.0.1"

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
HEAD = b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"
NORMAL_HEAD = (b"HTTP/1.1 200 OK\r\nServer: barrage\r\nContent-Type: text/plain\r\n"
               b"Content-Length: 2\r\n\r\n")


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        g, w = repr(got), repr(want)
        raise TestFailure("%s: got %s, want %s" % (what, g[:300], w[:300]))


def pattern_body(n):
    """The --body-size body: 8-byte records "%07u\\n" of their own offset."""
    out = bytearray()
    for off in range(0, n, 8):
        out += b"%07d\n" % (off % 10000000)
    return bytes(out[:n])


class Server:
    """One `barrage serve` process; use as a context manager (kills on exit)."""

    def __init__(self, *args):
        self.args = [BARRAGE, "serve", "--listen", "%s:0" % HOST] + list(args)
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.port = None
        self.stderr_seen = ""
        try:
            line = self._first_line()
            m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
            check(m, "unexpected first line %r" % line)
            self.port = int(m.group(1))
            check(self.port > 0, "port 0 in %r" % line)
            self.started = time.monotonic()
        except BaseException:
            self.kill()
            raise

    def _first_line(self):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + START_TIMEOUT
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            check(left > 0, "no 'listening on' line within %ss" % START_TIMEOUT)
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    err = self.proc.stderr.read().decode(errors="replace")
                    raise TestFailure("server exited before listening: %s" % err.strip())
                data += chunk
        return data.decode()

    def connect(self, timeout=TIMEOUT):
        return Conn(self.port, timeout)

    def stop(self):
        """SIGTERM; returns (exit code, stdout after the first line, stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TestFailure("server did not stop within 10s of SIGTERM")
        self.stderr_seen = err.decode(errors="replace")
        return self.proc.returncode, out.decode(errors="replace"), self.stderr_seen

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.communicate(timeout=5)
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        # Stop with SIGTERM so a sanitizer build gets to report leaks, and
        # fail the test on any sanitizer report; SIGKILL whatever remains.
        err = ""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                err = self.proc.communicate(timeout=10)[1].decode(errors="replace")
        except Exception:
            pass
        finally:
            self.kill()
        err += self.stderr_seen
        if exc_type is None and ("Sanitizer" in err or "runtime error" in err):
            raise TestFailure("sanitizer report:\n" + err)


class Response:
    def __init__(self, raw_head):
        self.raw_head = raw_head
        lines = raw_head[:-4].split(b"\r\n")
        self.status_line = lines[0].decode("latin-1")
        parts = self.status_line.split(" ", 2)
        self.code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        self.headers = {}
        self.header_list = []
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            name, value = k.strip().lower().decode("latin-1"), v.strip().decode("latin-1")
            self.headers[name] = value
            self.header_list.append((name, value))
        self.body = b""
        self.chunk_sizes = []


class Conn:
    """A client connection with a receive buffer (responses may be pipelined)."""

    def __init__(self, port, timeout=TIMEOUT):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def settimeout(self, t):
        self.sock.settimeout(t)

    def _fill(self):
        d = self.sock.recv(1 << 20)
        if not d:
            raise EOFError("connection closed by the server")
        self.buf += d

    def read_until(self, delim):
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                out, self.buf = self.buf[:i + len(delim)], self.buf[i + len(delim):]
                return out
            self._fill()

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_eof(self):
        """Everything until EOF."""
        while True:
            d = self.sock.recv(1 << 20)
            if not d:
                out, self.buf = self.buf, b""
                return out
            self.buf += d

    def read_response(self, head=False):
        r = Response(self.read_until(b"\r\n\r\n"))
        if head or r.code in (204, 304) or (r.code is not None and r.code < 200):
            return r
        if "chunked" in r.headers.get("transfer-encoding", ""):
            body = b""
            while True:
                size_line = self.read_until(b"\r\n")
                size = int(size_line[:-2].split(b";")[0], 16)
                r.chunk_sizes.append(size)
                if size == 0:
                    self.read_until(b"\r\n")  # no trailers: the final CRLF
                    break
                body += self.read_exact(size)
                check_eq(self.read_exact(2), b"\r\n", "chunk terminator")
            r.body = body
        elif "content-length" in r.headers:
            r.body = self.read_exact(int(r.headers["content-length"]))
        else:
            r.body = self.read_eof()
        return r

    def expect_silence(self, seconds=0.3):
        """No byte (and no EOF) arrives within `seconds`."""
        check_eq(self.buf, b"", "buffered bytes")
        self.sock.settimeout(seconds)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return
        finally:
            self.sock.settimeout(TIMEOUT)
        raise TestFailure("expected silence, got %r" % d[:200] if d else "expected silence, got EOF")

    def expect_eof(self):
        check_eq(self.buf, b"", "bytes before EOF")
        check_eq(self.sock.recv(65536), b"", "EOF")

    def close(self):
        self.sock.close()


def expect_ok(r, body=b"OK"):
    check_eq(r.status_line, "HTTP/1.1 200 OK", "status line")
    check_eq(r.body, body, "body")


def stats_line(err):
    lines = [l for l in err.splitlines() if l.strip()]
    check_eq(len(lines), 1, "stderr lines (%r)" % err)
    return lines[0]


# --------------------------------------------------------------------------
# Protocol behaviour

def test_keepalive():
    with Server() as srv:
        c = srv.connect()
        for _ in range(5):
            c.send(GET)
            r = c.read_response()
            check_eq(r.raw_head, NORMAL_HEAD, "response head")
            check_eq(r.body, b"OK", "body")
        c.expect_silence(0.1)


def test_pipelining():
    with Server() as srv:
        c = srv.connect()
        # GET, HEAD, POST in one send: only in-order answers parse as full,
        # head-only, full; each carries the same response.
        c.send(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n"
               b"HEAD /b HTTP/1.1\r\nHost: t\r\n\r\n"
               b"POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        r1 = c.read_response()
        r2 = c.read_response(head=True)
        r3 = c.read_response()
        expect_ok(r1)
        check_eq(r2.raw_head, NORMAL_HEAD, "HEAD response head")
        expect_ok(r3)
        c.expect_silence(0.2)  # no stray body after the HEAD answer
        # many tiny pipelined requests
        c.send(GET * 200)
        for _ in range(200):
            expect_ok(c.read_response())
        c.expect_silence(0.1)


def test_head():
    with Server() as srv:
        c = srv.connect()
        c.send(HEAD)
        r = c.read_response(head=True)
        check_eq(r.raw_head, NORMAL_HEAD, "HEAD head")
        c.send(GET)  # a body after the HEAD answer would show up here
        expect_ok(c.read_response())
    with Server("--body-size", "1m") as srv:
        c = srv.connect()
        c.send(HEAD)
        r = c.read_response(head=True)
        check_eq(r.headers.get("content-length"), "1048576", "HEAD Content-Length")
        c.expect_silence(0.2)
    with Server("--chunked") as srv:
        c = srv.connect()
        c.send(HEAD)
        r = c.read_response(head=True)
        check_eq(r.headers.get("transfer-encoding"), "chunked", "HEAD Transfer-Encoding")
        c.expect_silence(0.2)


def test_post_body():
    with Server() as srv:
        c = srv.connect()
        body = os.urandom(100000)
        c.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        expect_ok(c.read_response())
        c.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
        expect_ok(c.read_response())
        # a 1 MiB body sent in pieces, then another request on the same connection
        big = b"x" * (1 << 20)
        c.send(b"PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(big))
        for i in range(0, len(big), 65536):
            c.send(big[i:i + 65536])
        expect_ok(c.read_response())
        c.send(GET)
        expect_ok(c.read_response())
        c.expect_silence(0.1)
        rc, _, err = srv.stop()
        check_eq(rc, 0, "exit code")
        check_eq(stats_line(err), "serve: connections=1 requests=4 responses=4 faults=0",
                 "stats")


def test_expect_continue():
    with Server() as srv:
        c = srv.connect()
        c.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        r = c.read_response()
        check_eq(r.status_line, "HTTP/1.1 100 Continue", "interim response")
        c.send(b"data")
        expect_ok(c.read_response())


def test_body_size_1m():
    want = pattern_body(1 << 20)
    with Server("--body-size", "1m") as srv:
        c = srv.connect()
        for _ in range(2):
            c.send(GET)
            r = c.read_response()
            check_eq(r.headers.get("content-length"), "1048576", "Content-Length")
            check(r.body == want, "1 MiB body differs from the pattern")
        c.send(GET * 3)  # pipelined big responses: partial writes, EAGAIN
        for _ in range(3):
            check(c.read_response().body == want, "pipelined 1 MiB body differs")
    with Server("--body-size", "0") as srv:
        c = srv.connect()
        c.send(GET)
        r = c.read_response()
        check_eq((r.headers.get("content-length"), r.body), ("0", b""), "empty body")


def test_chunked():
    n = 40000
    want = pattern_body(n)
    with Server("--chunked", "--body-size", str(n)) as srv:
        c = srv.connect()
        for _ in range(2):
            c.send(GET)
            r = c.read_response()
            check_eq(r.headers.get("transfer-encoding"), "chunked", "Transfer-Encoding")
            check("content-length" not in r.headers, "Content-Length with chunked")
            check_eq(r.chunk_sizes, [16384, 16384, n - 32768, 0], "chunk sizes")
            check(r.body == want, "chunked body differs from the pattern")
        # HTTP/1.0 clients cannot take chunked: Content-Length instead
        c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = c.read_response()
        check_eq(r.headers.get("content-length"), str(n), "HTTP/1.0 Content-Length")
        check(r.body == want, "HTTP/1.0 body differs")
    with Server("--chunked", "--body-size", "1m") as srv:
        c = srv.connect()
        c.send(GET)
        r = c.read_response()
        check_eq(len(r.chunk_sizes), 65, "chunks in 1 MiB")
        check(max(r.chunk_sizes) <= 16384, "chunk larger than 16 KiB")
        check(r.body == pattern_body(1 << 20), "1 MiB chunked body differs")
    with Server("--chunked") as srv:
        c = srv.connect()
        c.send(GET)
        r = c.read_response()
        check_eq((r.body, r.chunk_sizes), (b"OK", [2, 0]), "default chunked body")


def test_status():
    with Server("--status", "503") as srv:
        c = srv.connect()
        c.send(GET)
        r = c.read_response()
        check_eq(r.status_line, "HTTP/1.1 503 Service Unavailable", "status line")
        check_eq(r.body, b"OK", "body")
    with Server("--status", "204") as srv:
        c = srv.connect()
        c.send(GET + GET)
        for _ in range(2):
            r = c.read_response()
            check_eq(r.status_line, "HTTP/1.1 204 No Content", "status line")
            check("content-length" not in r.headers, "204 with Content-Length")
        c.expect_silence(0.2)


def test_delay():
    with Server("--delay", "200ms") as srv:
        c = srv.connect()
        for _ in range(2):
            t0 = time.monotonic()
            c.send(GET)
            expect_ok(c.read_response())
            dt = time.monotonic() - t0
            check(0.2 <= dt < 1.5, "response after %.3fs, want >= 0.2s" % dt)
        # pipelined requests are each held, not serialized: both come ~200ms later
        t0 = time.monotonic()
        c.send(GET * 3)
        for _ in range(3):
            expect_ok(c.read_response())
        dt = time.monotonic() - t0
        check(0.2 <= dt < 0.39, "3 pipelined responses after %.3fs, want 0.2-0.39s" % dt)


def test_stall():
    # stalls during [0, 400ms) of every second counted from server start
    with Server("--stall", "400ms:1s") as srv:
        t0 = srv.started  # just after the server's start
        c = srv.connect()
        c.send(GET)
        expect_ok(c.read_response())
        dt = time.monotonic() - t0
        check(0.3 <= dt < 0.9, "first response at +%.3fs, want about +0.4s" % dt)
        time.sleep(max(0.0, t0 + 0.6 - time.monotonic()))
        t1 = time.monotonic()
        c.send(GET)
        expect_ok(c.read_response())
        check(time.monotonic() - t1 < 0.2, "response outside the stall was held")
        time.sleep(max(0.0, t0 + 1.1 - time.monotonic()))
        c.send(GET)
        expect_ok(c.read_response())
        dt = time.monotonic() - t0
        check(1.3 <= dt < 1.9, "response in the 2nd stall at +%.3fs, want about +1.4s" % dt)


def test_trickle():
    with Server("--trickle", "5ms") as srv:
        c = srv.connect()
        t0 = time.monotonic()
        c.send(GET)
        want = NORMAL_HEAD + b"OK"
        got, recvs = b"", 0
        while len(got) < len(want):
            d = c.sock.recv(65536)
            check(d, "EOF while trickling")
            check(len(d) <= 3, "received %d bytes at once while trickling" % len(d))
            got += d
            recvs += 1
        dt = time.monotonic() - t0
        check_eq(got, want, "trickled response")
        check(recvs >= len(want) // 3, "only %d reads for %d bytes" % (recvs, len(want)))
        check(dt >= (len(want) - 1) * 0.005 * 0.9, "trickled in %.3fs, too fast" % dt)


def test_close_after():
    with Server("--close-after", "2") as srv:
        for _ in range(2):  # every connection
            c = srv.connect()
            c.send(GET)
            r = c.read_response()
            expect_ok(r)
            check("connection" not in r.headers, "Connection header before the Nth")
            c.send(GET)
            r = c.read_response()
            expect_ok(r)
            check_eq(r.headers.get("connection"), "close", "Connection header")
            c.expect_eof()
            c.close()
    with Server("--close-after", "1") as srv:  # pipelined: the rest is ignored
        c = srv.connect()
        c.send(GET * 3)
        r = c.read_response()
        check_eq(r.headers.get("connection"), "close", "Connection header")
        c.expect_eof()


def test_client_close_and_http10():
    with Server() as srv:
        c = srv.connect()
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        r = c.read_response()
        expect_ok(r)
        check_eq(r.headers.get("connection"), "close", "Connection header")
        c.expect_eof()

        c = srv.connect()
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        r = c.read_response()
        expect_ok(r)
        check_eq(r.headers.get("connection"), "close", "HTTP/1.0 Connection header")
        c.expect_eof()

        c = srv.connect()
        for _ in range(2):
            c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = c.read_response()
            expect_ok(r)
            check_eq(r.headers.get("connection"), "keep-alive", "HTTP/1.0 keep-alive")
        c.expect_silence(0.1)

        # a client that half-closes after its request still gets the answer,
        # then the server's EOF
        c = srv.connect(timeout=4)
        c.send(GET)
        c.sock.shutdown(socket.SHUT_WR)
        expect_ok(c.read_response())
        c.expect_eof()


def test_bad_request():
    with Server() as srv:
        c = srv.connect()
        c.send(b"NOT HTTP AT ALL\r\n\r\n")
        r = c.read_response()
        check_eq(r.status_line, "HTTP/1.1 400 Bad Request", "status line")
        c.expect_eof()


def test_threads():
    with Server("--threads", "2") as srv:
        conns = [srv.connect() for _ in range(8)]
        for c in conns:
            c.send(GET * 3)
        for c in conns:
            for _ in range(3):
                expect_ok(c.read_response())
        rc, _, err = srv.stop()
        check_eq(rc, 0, "exit code")
        check_eq(stats_line(err), "serve: connections=8 requests=24 responses=24 faults=0",
                 "stats")


# --------------------------------------------------------------------------
# Faults

def test_fault_reset():
    with Server("--fault", "reset:2") as srv:
        a = srv.connect()
        a.send(GET)  # request 1: normal
        head = a.read_response().raw_head
        b = srv.connect()
        b.send(GET)  # request 2: half the head, then RST
        got = b""
        try:
            while True:
                d = b.sock.recv(65536)
                check(d, "EOF instead of a reset (got %r)" % got)
                got += d
        except ConnectionResetError:
            pass
        check_eq(got, head[:len(head) // 2], "bytes before the reset")


def test_fault_drop():
    with Server("--fault", "drop") as srv:
        c = srv.connect()
        c.send(GET)
        try:
            d = c.sock.recv(65536)
        except ConnectionResetError:
            raise TestFailure("reset instead of a FIN")
        check_eq(d, b"", "bytes before EOF")


def test_fault_hang():
    with Server("--fault", "hang:2") as srv:
        c = srv.connect()
        c.send(GET)  # request 1: normal
        expect_ok(c.read_response())
        c.send(GET)  # request 2: never answered
        c.expect_silence(0.3)
        c.send(GET)  # later requests on it are ignored; it stays open
        c.expect_silence(0.3)
        d = srv.connect()
        d.send(GET)  # request 3 (its own connection): normal
        expect_ok(d.read_response())


def test_fault_malformed():
    with Server("--fault", "malformed") as srv:
        c = srv.connect()
        c.send(GET)
        head = c.read_until(b"\r\n\r\n")
        check(head.startswith(b"HTTP/1.1 2x0 BAD\r\n"), "head %r" % head)


def test_fault_malformed_every_3rd():
    with Server("--fault", "malformed:3") as srv:
        c = srv.connect()
        for i in range(1, 7):
            c.send(GET)
            r = c.read_response()
            if i % 3 == 0:
                check_eq(r.status_line, "HTTP/1.1 2x0 BAD", "request %d status line" % i)
            else:
                expect_ok(r)
        rc, _, err = srv.stop()
        check_eq(rc, 0, "exit code")
        check_eq(stats_line(err), "serve: connections=1 requests=6 responses=4 faults=2",
                 "stats")


def test_fault_badchunk():
    with Server("--fault", "badchunk") as srv:
        c = srv.connect()
        c.send(GET)
        r = Response(c.read_until(b"\r\n\r\n"))
        check_eq(r.headers.get("transfer-encoding"), "chunked", "Transfer-Encoding")
        size_line = c.read_until(b"\r\n")
        check_eq(size_line, b"zz\r\n", "chunk size line")


def test_fault_bigheader():
    with Server("--fault", "bigheader") as srv:
        c = srv.connect()
        c.send(GET)
        r = c.read_response()
        check_eq(r.status_line, "HTTP/1.1 200 OK", "status line")
        check_eq(r.headers.get("x-barrage-big"), "a" * 98304, "96 KiB header value")
        check_eq(r.body, b"OK", "body")


def test_fault_shortbody():
    with Server("--body-size", "100", "--fault", "shortbody") as srv:
        c = srv.connect()
        c.send(GET)
        r = Response(c.read_until(b"\r\n\r\n"))
        check_eq(r.headers.get("content-length"), "100", "Content-Length")
        body = c.read_eof()
        check_eq(body, pattern_body(100)[:50], "body before EOF")
    with Server("--fault", "shortbody") as srv:
        c = srv.connect()
        c.send(GET)
        r = Response(c.read_until(b"\r\n\r\n"))
        body = c.read_eof()
        check(len(body) < int(r.headers["content-length"]), "body not short: %r" % body)


def test_fault_longbody():
    with Server("--fault", "longbody") as srv:
        c = srv.connect()
        c.send(GET)
        expect_ok(c.read_response())  # Content-Length: 2, "OK" ...
        c.settimeout(0.3)
        extra = c.buf
        c.buf = b""
        try:
            while len(extra) < 16:
                d = c.sock.recv(65536)
                if not d:
                    break
                extra += d
        except socket.timeout:
            pass
        check_eq(extra, b"#garbage#garbage", "bytes after the body")
        check(not extra.startswith(b"HTTP/"), "extra bytes look like a response")


def test_fault_continue():
    with Server("--fault", "continue") as srv:
        c = srv.connect()
        for _ in range(2):
            c.send(GET)
            r = c.read_response()
            check_eq(r.raw_head, b"HTTP/1.1 100 Continue\r\n\r\n", "interim response")
            expect_ok(c.read_response())
        c.expect_silence(0.1)


def test_fault_extra():
    with Server("--fault", "extra") as srv:
        c = srv.connect()
        c.send(GET)
        expect_ok(c.read_response())
        r = c.read_response()  # unsolicited
        check_eq((r.status_line, r.body), ("HTTP/1.1 200 OK", b"extra"), "second response")
        c.expect_silence(0.2)


def test_fault_status500():
    with Server("--fault", "status500") as srv:
        c = srv.connect()
        for _ in range(2):
            c.send(GET)
            r = c.read_response()
            check_eq(r.status_line, "HTTP/1.1 500 Internal Server Error", "status line")
            check_eq(r.body, b"Internal Server Error", "body")
        c.expect_silence(0.1)


# --------------------------------------------------------------------------
# Stats and the command line

def test_stats_line():
    with Server() as srv:
        a = srv.connect()
        for _ in range(3):
            a.send(GET)
            expect_ok(a.read_response())
        b = srv.connect()
        b.send(HEAD)
        b.read_response(head=True)
        b.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        expect_ok(b.read_response())
        rc, out, err = srv.stop()
        check_eq(rc, 0, "exit code")
        check_eq(out, "", "more stdout")
        check_eq(stats_line(err), "serve: connections=2 requests=5 responses=5 faults=0",
                 "stats")
    with Server("--fault", "drop:2") as srv:
        a = srv.connect()
        a.send(GET)
        expect_ok(a.read_response())
        a.send(GET)  # request 2: dropped
        a.expect_eof()
        b = srv.connect()
        b.send(GET)
        expect_ok(b.read_response())
        rc, _, err = srv.stop()
        check_eq(rc, 0, "exit code")
        check_eq(stats_line(err), "serve: connections=2 requests=3 responses=2 faults=1",
                 "stats")
    with Server("--fault", "status500:2") as srv:
        a = srv.connect()
        for _ in range(4):
            a.send(GET)
            a.read_response()
        a.send(b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")  # incomplete
        time.sleep(0.05)
        proc = srv.proc
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        srv.stderr_seen = err.decode(errors="replace")
        check_eq(proc.returncode, 0, "exit code after SIGINT")
        check_eq(stats_line(err.decode()),
                 "serve: connections=1 requests=4 responses=2 faults=2", "stats")


def run_cli(*args):
    p = subprocess.run([BARRAGE, "serve"] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=10)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def test_bad_arguments():
    cases = [
        (["--delay", "abc"],
         "barrage serve: --delay: cannot parse 'abc' as a duration (use e.g. 50ms, 2s)"),
        (["--fault", "nosuch"], "barrage serve: --fault: unknown fault kind 'nosuch'"),
        (["--listen", "nonsense"], "barrage serve: --listen: cannot parse 'nonsense'"),
        (["--fault", "reset:0"], "barrage serve: --fault:"),
        (["--body-size", "12q"], "barrage serve: --body-size:"),
        (["--status", "99"], "barrage serve: --status:"),
        (["--stall", "2s:1s"], "barrage serve: --stall:"),
        (["--threads", "0"], "barrage serve: --threads:"),
        (["--close-after"], "barrage serve: --close-after: missing value"),
        (["--nosuch"], "barrage serve: unknown option '--nosuch'"),
    ]
    for args, want in cases:
        rc, out, err = run_cli(*args)
        check_eq(rc, 2, "exit code for %s" % args)
        check_eq(out, "", "stdout for %s" % args)
        check(err.endswith("\n") and err.count("\n") == 1, "not one line for %s: %r" % (args, err))
        check(err.startswith(want), "stderr for %s: %r, want %r..." % (args, err, want))
    rc, out, err = run_cli("--help")
    check_eq(rc, 0, "--help exit code")
    check(out.startswith("usage: barrage serve"), "--help output %r" % out[:80])


TESTS = [(name[5:], fn) for name, fn in list(globals().items())
         if name.startswith("test_") and callable(fn)]


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else None
    passed = failed = 0
    for name, fn in TESTS:
        if only and only not in name:
            continue
        try:
            fn()
        except Exception as e:
            failed += 1
            print("FAIL e2e/serve_%s" % name, flush=True)
            if isinstance(e, TestFailure):
                print("    %s" % e, file=sys.stderr, flush=True)
            else:
                traceback.print_exc()
        else:
            passed += 1
            print("ok   e2e/serve_%s" % name, flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
