"""Responses end where HTTP says they end, whatever sent the request
(RFC 9110/9112): 1xx, 204 and 304 end at their header section, HEAD is known
per request, an early response never desynchronises a connection, chunk
extensions parse as the RFC allows, and pipelined request strings are counted
exactly.

The servers are small raw-socket Python servers on 127.0.0.1 (one thread per
connection) that read requests with their bodies, answer with canned bytes
and record what they received, so a test can check what the server saw."""
import json
import os
import socket
import tempfile
import threading
import time

from harness import Nginx, Serve, barrage, check, eq


class RawServer:
    """Reads HTTP/1.1 requests (Content-Length bodies) on 127.0.0.1 and
    answers each with handler(req, conn) -> bytes (or None when the handler
    wrote itself). req: dict(method, path, headers (lower-case), body).
    A request with a body to a path under /early is answered as soon as its
    headers arrive, then its body is read (after body_delay seconds).
    `requests` lists every request read whole; `bad` every byte string that
    did not start a valid request line where one was due (a desync)."""

    def __init__(self, handler, rcvbuf=None, body_delay=0.0):
        self.handler, self.rcvbuf, self.body_delay = handler, rcvbuf, body_delay
        self.requests, self.bad = [], []
        self.lock = threading.Lock()
        self.stopped = False

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stopped = True
        self.sock.close()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf = bytearray()
        c.settimeout(10)

        def fill():
            nonlocal buf
            d = c.recv(65536)
            if not d:
                raise EOFError
            buf += d

        try:
            while not self.stopped:
                while b"\r\n\r\n" not in buf:
                    fill()
                i = buf.index(b"\r\n\r\n")
                head = bytes(buf[:i])
                del buf[:i + 4]
                lines = head.split(b"\r\n")
                parts = lines[0].split(b" ")
                if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or not parts[0].isalpha():
                    with self.lock:
                        self.bad.append(head[:80])
                    return
                hdrs = {}
                for ln in lines[1:]:
                    k, _, v = ln.partition(b":")
                    hdrs[k.strip().lower().decode()] = v.strip().decode()
                req = dict(method=parts[0].decode(), path=parts[1].decode(), headers=hdrs, body=b"")
                n = int(hdrs.get("content-length", "0"))
                out = self.handler(req, c) if n and req["path"].startswith("/early") else None
                if out:
                    c.sendall(out)
                if n and self.body_delay:
                    time.sleep(self.body_delay)
                while len(buf) < n:
                    fill()
                req["body"] = bytes(buf[:n])
                del buf[:n]
                with self.lock:
                    self.requests.append(req)
                if not (n and req["path"].startswith("/early")):
                    out = self.handler(req, c)
                    if out:
                        c.sendall(out)
        except (EOFError, OSError):
            pass
        finally:
            c.close()


def canned(data_for):
    """A handler answering data_for(req) (bytes)."""
    return lambda req, c: data_for(req)


def run_json(*args, timeout=30):
    """barrage ... --json -: (result, parsed JSON summary or None)."""
    r = barrage("--json", "-", *args, timeout=timeout)
    try:
        doc = json.loads(r.out)
    except ValueError:
        doc = None
    return r, doc


def errors_of(doc):
    e = doc["summary"]["errors"]
    return {k: e.get(k, 0) for k in ("connect", "read", "write", "timeout", "parse")}


def no_errors(doc, what):
    eq(errors_of(doc), dict(connect=0, read=0, write=0, timeout=0, parse=0), what)


def script(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    f.write(text)
    f.close()
    return f.name


# ---------------------------------------------------------------- 1. 1xx, 204, 304

def bodiless(resp):
    """-n 20 on one connection against a server that answers every request
    with `resp`: 20 responses, no error, and quick (no timeout waited)."""
    with RawServer(canned(lambda req: resp)) as s:
        r, doc = run_json("-t1", "-c1", "-n", "20", "-d", "4s", "-T", "1s", s.url, timeout=20)
    check(doc is not None, f"no JSON: {r}")
    eq(r.rc, 0, f"exit code ({r.err})")
    eq(doc["summary"]["requests"], 20, "responses")
    no_errors(doc, "errors")
    check(r.elapsed < 5, f"20 bodiless responses took {r.elapsed:.1f}s (waited for a body?)")


def test_304_with_content_length_ends_at_its_headers():
    bodiless(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n")


def test_204_with_content_length_ends_at_its_headers():
    bodiless(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n")


def test_204_with_transfer_encoding_ends_at_its_headers():
    bodiless(b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n")


def test_100_with_content_length_is_skipped_without_a_body():
    bodiless(b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n"
             b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def test_bytes_after_a_304_are_a_parse_error_not_a_body():
    """`hello` after a 304 with Content-Length: 5 is not its body: the 304
    counts, the bytes are unsolicited (a parse error, the connection is
    closed)."""
    with RawServer(canned(lambda req: b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello")) as s:
        r, doc = run_json("-t1", "-c1", "-n", "10", "-d", "4s", "-T", "1s", s.url, timeout=20)
    check(doc is not None, f"no JSON: {r}")
    eq(doc["summary"]["requests"], 10, "responses")
    e = errors_of(doc)
    check(e["parse"] >= 1, f"bytes after a 304 must be a parse error: {e}")
    eq((e["timeout"], e["read"]), (0, 0), "no timeouts, no read errors")


# ---------------------------------------------------------------- 2. HEAD per request

def head_server():
    """GET: 10-byte body; HEAD: the same headers, no body."""
    def h(req):
        hdr = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
        return hdr if req["method"] == "HEAD" else hdr + b"0123456789"
    return RawServer(canned(h))


def head_run(lua, *extra, n=30):
    path = script(lua)
    try:
        with head_server() as s:
            r, doc = run_json("-t1", "-c1", "-n", str(n), "-d", "4s", "-T", "1s", "-s", path, *extra, s.url, timeout=20)
            reqs = list(s.requests)
    finally:
        os.unlink(path)
    check(doc is not None, f"no JSON: {r}")
    eq(r.rc, 0, f"exit code ({r.err})")
    eq(doc["summary"]["requests"], n, "responses")
    no_errors(doc, "errors")
    return reqs


def test_head_in_a_pipelined_request_string():
    reqs = head_run('''
local batch = wrk.format("GET", "/a") .. wrk.format("HEAD", "/b") .. wrk.format("GET", "/c")
function request() return batch end
''')
    check(any(r["method"] == "HEAD" for r in reqs), "the server saw HEAD requests")


def test_head_from_request_alternating():
    head_run('''
local i = 0
function request()
  i = i + 1
  return wrk.format(i % 2 == 0 and "HEAD" or "GET", "/x" .. i)
end
''')


def test_wrk_method_head_with_response_hook():
    reqs = head_run('''
wrk.method = "HEAD"
function response(status, headers, body) if #body > 0 then error("HEAD got a body") end end
''', n=10)
    check(all(r["method"] == "HEAD" for r in reqs), "every request was HEAD")


def test_user_head_in_a_workflow():
    reqs = head_run('''
function user(u)
  local r = u:head("/h")
  check(r.status == 200 and r.body == "", "head")
  r = u:get("/g")
  check(r.body == "0123456789", "get")
end
''', n=20)
    check({r["method"] for r in reqs} == {"HEAD", "GET"}, "the server saw HEAD and GET")


def test_dash_m_head_with_request_sending_get_reads_bodies():
    reqs = head_run('''
function request() return wrk.format("GET", "/g") end
''', "-m", "HEAD")
    check(all(r["method"] == "GET" for r in reqs), "every request was GET")


# ---------------------------------------------------------------- 3. early responses

def early(status):
    """An 8 MiB POST (more than the kernel buffers, so the client is still writing it) answered as soon as its headers arrive (before the
    server reads the body), with keep-alive; the server then reads the body
    and checks that the next request starts where the body ends."""
    body = os.urandom(8 << 20)
    f = tempfile.NamedTemporaryFile(delete=False)
    f.write(body)
    f.close()
    resp = f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode()
    try:
        with RawServer(canned(lambda req: resp), rcvbuf=16384, body_delay=0.05) as s:
            r, doc = run_json("-t1", "-c1", "-d", "2s", "-T", "1s", "-m", "POST", "--body-file", f.name,
                              s.url + "/early", timeout=20)
            time.sleep(0.3)
            bad, reqs = list(s.bad), list(s.requests)
    finally:
        os.unlink(f.name)
    check(doc is not None, f"no JSON: {r}")
    eq(bad, [], "the server found no request inside a previous body")
    check(len(reqs) >= 2, f"the server read {len(reqs)} requests")
    check(all(q["body"] == body for q in reqs), "every body arrived whole")
    check(doc["summary"]["requests"] >= 2, f"responses counted: {doc['summary']['requests']}")


def test_early_413_does_not_desynchronise():
    early(413)


def test_early_200_does_not_desynchronise():
    early(200)


# ---------------------------------------------------------------- 4. chunk extensions

def chunked_run(size_line, dur="2s"):
    resp = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + size_line +
            b"\r\nhello\r\n0\r\n\r\n")
    with RawServer(canned(lambda req: resp)) as s:
        r, doc = run_json("-t1", "-c1", "-n", "5", "-d", dur, "-T", "1s", s.url, timeout=20)
    check(doc is not None, f"no JSON: {r}")
    return doc


VALID_EXT = [b"5", b"5;a", b"5;a=b", b"5;a=b;c=d", b'5;a="x y"', b"5 ; a=b", b"5;a = b",
             b"5\t;\ta\t=\tb", b'5;a="x\\"y";b', b'5;a="";b=c', b"5;a;b;c", b'5;a="x;y" ;z=1',
             b"05;!#$%&'*+-.^_`|~=x"]
INVALID_EXT = [b"5;", b"5;=b", b"5;a=", b"5 ", b"5;a=b ", b'5;a="x', b"5;a=b\x01", b"5;a b",
               b";a=b", b"5;a=\"x\x7fy\"", b"g"]


def test_valid_chunk_extensions_are_accepted():
    for line in VALID_EXT:
        doc = chunked_run(line)
        eq(doc["summary"]["requests"], 5, f"responses with {line!r}")
        no_errors(doc, f"errors with {line!r}")


def test_invalid_chunk_size_lines_are_parse_errors():
    for line in INVALID_EXT:
        doc = chunked_run(line, "500ms")
        e = errors_of(doc)
        check(e["parse"] >= 3, f"{line!r} must be a parse error: {e}")


def test_chunk_extensions_split_across_reads():
    """The size line arrives a byte at a time, and the body with it."""
    resp = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'3 ; a="q\\"x" ; b=c\r\nabc\r\n2;z\r\nde\r\n0;last=1\r\nX-T: 1\r\n\r\n')

    def h(req, c):
        for i in range(len(resp)):
            c.sendall(resp[i:i + 1])
            time.sleep(0.0005)
        return None
    lua = script('''
function response(status, headers, body) if body ~= "abcde" then error("body " .. body) end end
''')
    try:
        with RawServer(h) as s:
            r, doc = run_json("-t1", "-c1", "-n", "5", "-d", "4s", "-T", "2s", "-s", lua, s.url, timeout=20)
    finally:
        os.unlink(lua)
    check(doc is not None, f"no JSON: {r}")
    eq(r.rc, 0, f"exit code ({r.err})")
    eq(doc["summary"]["requests"], 5, "responses")
    no_errors(doc, "errors")


# ---------------------------------------------------------------- 5. pipelining

PIPE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "scripts", "pipeline.lua")


def test_pipelined_n_is_exact():
    with Nginx() as ng:
        for n in (10, 11, 7):
            r, doc = run_json("-t1", "-c2", "-n", str(n), "-d", "4s", "-s", PIPE, ng.url + "/health")
            check(doc is not None, f"no JSON: {r}")
            eq(doc["summary"]["requests"], n, f"-n {n} with depth 3: responses counted")
            no_errors(doc, "errors")


def test_pipeline_depth_per_request_result():
    lua = script('''
local i = 0
function request()
  i = i + 1
  if i % 3 == 2 then return wrk.format(nil, "/a") .. wrk.format(nil, "/b") .. wrk.format(nil, "/c") end
  return wrk.format(nil, "/one")
end
''')
    try:
        with Nginx() as ng:
            r, doc = run_json("-t1", "-c1", "-n", "50", "-d", "4s", "-s", lua, ng.url + "/health")
            logged = ng.requests_logged()
    finally:
        os.unlink(lua)
    check(doc is not None, f"no JSON: {r}")
    eq(r.rc, 0, f"exit code ({r.err})")
    eq(doc["summary"]["requests"], 50, "responses")
    no_errors(doc, "errors")
    check(50 <= logged <= 52, f"nginx logged {logged} requests")


def bad_request_script(second):
    lua = script('''
local i = 0
function request()
  i = i + 1
  if i == 1 then return wrk.format(nil, "/ok") end
  return %s
end
''' % second)
    try:
        with Nginx(access_log=False) as ng:
            r = barrage("-t1", "-c1", "-d", "2s", "-s", lua, ng.url + "/health", timeout=20)
    finally:
        os.unlink(lua)
    eq(r.rc, 2, f"exit code ({r})")
    check("request()" in r.err and "HTTP request" in r.err, f"a clear script error: {r.err!r}")


def test_request_string_checked_every_time_garbage():
    bad_request_script('"garbage\\r\\n\\r\\n"')


def test_request_string_checked_every_time_cut_short():
    bad_request_script('wrk.format("POST", "/p", nil, "hello"):sub(1, -3)')


def test_request_string_checked_every_time_trailing_bytes():
    bad_request_script('wrk.format(nil, "/a") .. "GET /b HTTP/1.1\\r\\n"')


def test_early_response_then_server_stops_reading():
    """Answered early, then the server never reads the rest of the body: the
    connection is closed at the request's timeout and a new one goes on; the
    answered request is no error, and the run ends on time."""
    body_file = tempfile.NamedTemporaryFile(delete=False)
    body_file.write(b"x" * (8 << 20))
    body_file.close()
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    try:
        with RawServer(canned(lambda req: resp), rcvbuf=16384, body_delay=30) as s:
            r, doc = run_json("-t1", "-c1", "-d", "2s", "-T", "300ms", "-m", "POST", "--body-file",
                              body_file.name, s.url + "/early", timeout=20)
    finally:
        os.unlink(body_file.name)
    check(doc is not None, f"no JSON: {r}")
    check(r.elapsed < 6, f"the run took {r.elapsed:.1f}s")
    check(doc["summary"]["requests"] >= 3, f"responses: {doc['summary']['requests']} (one per 300 ms)")
    no_errors(doc, "errors")


def test_early_response_in_a_workflow_with_think_time():
    """A virtual user answered early sleeps briefly: its next request waits
    for the rest of the body, however soon the think time ends."""
    lua = script('''
local big = string.rep("y", 8 * 1024 * 1024)
function user(u)
  local r = u:post("/early", {body = big})
  check(r.status == 200, "answered")
  u:sleep(1)
end
''')
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    try:
        with RawServer(canned(lambda req: resp), rcvbuf=16384, body_delay=0.05) as s:
            r, doc = run_json("-t1", "-c1", "-d", "2s", "-T", "2s", "-s", lua, s.url, timeout=20)
            time.sleep(0.3)
            bad, reqs = list(s.bad), list(s.requests)
    finally:
        os.unlink(lua)
    check(doc is not None, f"no JSON: {r}")
    eq(bad, [], "the server found no request inside a previous body")
    check(len(reqs) >= 2, f"the server read {len(reqs)} requests")
    check(all(q["body"] == b"y" * (8 << 20) for q in reqs), "every body arrived whole")
    no_errors(doc, "errors")


# ---------------------------------------------------------------- the same through `barrage serve`

def serve_fault(kind):
    """-n 20 on one connection against --fault KIND:4: 20 responses, no
    error, the server saw exactly 20 requests (5 of them faulty)."""
    with Serve("--fault", f"{kind}:4") as s:
        r, doc = run_json("-t1", "-c1", "-n", "20", "-d", "5s", "-T", "1s", s.url, timeout=20)
        counts = s.stop()
    check(doc is not None, f"no JSON: {r}")
    eq(r.rc, 0, f"exit code ({r.err})")
    eq(doc["summary"]["requests"], 20, "responses")
    no_errors(doc, "errors")
    eq((counts["requests"], counts["faults"]), (20, 5), "server requests and faults")


def test_serve_fault_notmodified_is_a_bodiless_response():
    serve_fault("notmodified")


def test_serve_fault_chunkext_is_a_valid_response():
    serve_fault("chunkext")
