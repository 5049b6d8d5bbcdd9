"""wrk scripts run unchanged. The same script runs under wrk 4.1.0 (the
reference, when `wrk` is installed) and under barrage against one recording
HTTP server on 127.0.0.1, and the tests compare what the server received
(request line, header names as spelled on the wire, body) or what done()
printed. Where barrage differs from wrk on purpose (README, "Compatibility
with wrk") only barrage is checked."""
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from harness import barrage, check, eq

WRK = shutil.which("wrk")
TMP = tempfile.mkdtemp(prefix="barrage-wrkcompat-")
atexit.register(shutil.rmtree, TMP, True)


class Recorder:
    """A keep-alive HTTP/1.1 server that records the raw bytes of every
    request (head and Content-Length body) and answers 200 "ok" (405 to
    CONNECT, which keeps normal framing; no body to HEAD)."""

    KEEP = 2000  # requests kept; all are counted

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.requests, self.count, self.active = [], 0, 0
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def take(self):
        """The requests recorded since the last take(), once the client's
        connections are all closed (so none of them leaks into the next run)."""
        quiet_since, end = None, time.time() + 10
        while time.time() < end:
            with self.lock:
                active = self.active
            if active:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.time()
            elif time.time() - quiet_since > 0.2:
                break
            time.sleep(0.02)
        with self.lock:
            out, self.requests, self.count = self.requests, [], 0
        return out

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.active += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.settimeout(10)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, _, rest = buf.partition(b"\r\n\r\n")
                n = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length" and v.strip().isdigit():
                        n = int(v.strip())
                while len(rest) < n:
                    d = c.recv(65536)
                    if not d:
                        return
                    rest += d
                with self.lock:
                    self.count += 1
                    if len(self.requests) < self.KEEP:
                        self.requests.append(head + b"\r\n\r\n" + rest[:n])
                buf = rest[n:]
                method = head.split(b" ", 1)[0]
                if method == b"CONNECT":
                    c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 2\r\n\r\nno")
                elif method == b"HEAD":
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
                else:
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        finally:
            c.close()
            with self.lock:
                self.active -= 1


def parse(raw):
    """(request line, header (name, value) pairs as sent, sorted, body)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k, v.strip()))
    return lines[0], sorted(headers), body


def lua(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", dir=TMP, delete=False)
    f.write(text)
    f.close()
    return f.name


def run_wrk(rec, script, path="/", args=(), headers=()):
    """wrk -t1 -c1 -d1s; returns (proc, requests received), or None without wrk."""
    if not WRK:
        return None
    cmd = [WRK, "-t1", "-c1", "-d1s"]
    for h in headers:
        cmd += ["-H", h]
    cmd += ["-s", script, rec.url + path] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return p, rec.take()


def run_barrage(rec, script, path="/", args=(), headers=(), n=20):
    """barrage -t1 -c1 -n N; returns (result, requests received)."""
    cmd = ["-t", "1", "-c", "1", "-n", str(n)]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd += [rec.url + path]
    if args:
        cmd += ["--"] + list(args)
    r = barrage(*cmd)
    return r, rec.take()


def first(reqs, what):
    check(reqs, f"{what}: the server received no request")
    return parse(reqs[0])


def both_send(rec, script, expected, path="/", args=(), headers=()):
    """barrage, and wrk when installed, send `expected` (parsed) first."""
    r, got = run_barrage(rec, script, path, args, headers)
    eq(r.rc, 0, f"barrage exit code: {r}")
    eq(first(got, "barrage"), expected, "what barrage sent")
    w = run_wrk(rec, script, path, args, headers)
    if w:
        eq(w[0].returncode, 0, f"wrk exit code: {w[0].stderr}")
        eq(first(w[1], "wrk"), expected, "what wrk sent (the reference)")


def test_header_names_keep_their_spelling():
    s = lua('wrk.headers["X-Api-Key"] = "k"\n'
            'function init(args) wrk.headers["X-Init-Header"] = "i" end\n')
    with Recorder() as rec:
        host = f"127.0.0.1:{rec.port}"
        both_send(rec, s, ("GET / HTTP/1.1",
                           sorted([("Host", host), ("X-Api-Key", "k"), ("X-Custom-Header", "v"),
                                   ("X-Init-Header", "i")]), b""),
                  headers=["X-Custom-Header: v"])
        # request() formatting each request: the same spelling
        s2 = lua('wrk.headers["X-Api-Key"] = "k"\n'
                 'function request() return wrk.format("POST", "/r", {["X-Per-Request"] = "1"}, "b") end\n')
        both_send(rec, s2, ("POST /r HTTP/1.1",
                            sorted([("Host", host), ("X-Per-Request", "1"), ("Content-Length", "1")]), b"b"))


def test_workflow_header_names_keep_their_spelling():
    s = lua('function user(u)\n'
            '  u.headers["X-User-Header"] = "1"\n'
            '  u:post("/w", {headers = {["X-Opt-Header"] = "o", ["x-user-header"] = "2"}, json = {a = 1}})\n'
            'end\n')
    with Recorder() as rec:
        r, got = run_barrage(rec, s, headers=["X-Custom-Header: v"], n=3)
        eq(r.rc, 0, f"{r}")
        line, hdrs, body = first(got, "barrage")
        eq(line, "POST /w HTTP/1.1", "request line")
        # the last spelling given wins: opts.headers over u.headers
        eq(hdrs, sorted([("Host", f"127.0.0.1:{rec.port}"), ("X-Custom-Header", "v"), ("X-Opt-Header", "o"),
                         ("x-user-header", "2"), ("Content-Type", "application/json"),
                         ("Content-Length", str(len(body)))]), "headers")


def test_lowercase_host_key_replaces_host():
    # wrk 4.1.0 sends two Host headers for each of these (its headers table is
    # case-sensitive); barrage sends the user's one
    scripts = {
        "top level": 'wrk.headers["host"] = "example.test"\nwrk.headers["X-A"] = "1"\n',
        "in init()": 'function init(args) wrk.headers["host"] = "example.test"; wrk.headers["X-A"] = "1" end\n',
        "plain table": 'wrk.headers = {}\nwrk.headers["host"] = "example.test"\nwrk.headers["X-A"] = "1"\n',
        "request()": 'function request() return wrk.format(nil, "/", {host = "example.test", ["X-A"] = "1"}) end\n',
    }
    with Recorder() as rec:
        for what, text in scripts.items():
            r, got = run_barrage(rec, lua(text))
            eq(r.rc, 0, f"{what}: {r}")
            eq(first(got, what), ("GET / HTTP/1.1", [("X-A", "1"), ("host", "example.test")], b""),
               f"{what}: one Host header, the script's")


def test_wrk_format_fills_the_callers_table():
    s = lua('function init(args)\n'
            '  local h = {["X-A"] = "1"}\n'
            '  wrk.format("POST", "/ignored", h, "abc")\n'
            '  local h2 = {["X-B"] = "2", ["Content-Length"] = "7"}\n'
            '  wrk.format("GET", "/ignored", h2)\n'
            '  req = wrk.format("POST", "/f?host=" .. tostring(h.Host) .. "&cl=" .. tostring(h["Content-Length"])\n'
            '                   .. "&h2cl=" .. tostring(h2["Content-Length"]) .. "&h2host=" .. tostring(h2.Host), h, "abc")\n'
            'end\n'
            'function request() return req end\n')
    with Recorder() as rec:
        host = f"127.0.0.1:{rec.port}"
        both_send(rec, s, (f"POST /f?host={host}&cl=3&h2cl=nil&h2host={host} HTTP/1.1",
                           sorted([("Host", host), ("X-A", "1"), ("Content-Length", "3")]), b"abc"))
        # a Content-Length in another spelling is replaced, not sent twice (wrk 4.1.0 sends both)
        s2 = lua('local h = {["content-length"] = "99"}\n'
                 'wrk.format("POST", "/", h, "abc")\n'
                 'local path = "/g?lc=" .. tostring(h["content-length"]) .. "&cl=" .. tostring(h["Content-Length"])\n'
                 'function request() return wrk.format("POST", path, h, "abc") end\n')
        r, got = run_barrage(rec, s2)
        eq(r.rc, 0, f"{r}")
        eq(first(got, "barrage"), ("POST /g?lc=nil&cl=3 HTTP/1.1", [("Content-Length", "3"), ("Host", host)], b"abc"),
           "one Content-Length, from the body")


def test_methods_wrk_accepts_are_sent():
    with Recorder() as rec:
        host = f"127.0.0.1:{rec.port}"
        for m in ("CONNECT", "PURGE", "M-SEARCH"):
            both_send(rec, lua(f'wrk.method = "{m}"\n'), (f"{m} /p HTTP/1.1", [("Host", host)], b""), path="/p")
        # every method llhttp (and wrk's http_parser) knows; HEAD is left to the
        # framing tests (its response has no body whatever Content-Length says)
        for m in ("DELETE GET POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH "
                  "SEARCH UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY "
                  "SUBSCRIBE UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE").split():
            r, got = run_barrage(rec, lua(f'function request() return wrk.format("{m}", "/m") end\n'), n=2)
            eq((r.rc, r.requests), (0, 2), f"{m}: {r}")
            eq([parse(x)[0] for x in got], [f"{m} /m HTTP/1.1"] * 2, f"{m} sent")
        # CONNECT pipelined with other requests: each one counts
        s = lua('local r = wrk.format("CONNECT", "/a") .. wrk.format("GET", "/b")\n'
                'function request() return r end\n')
        r, got = run_barrage(rec, s, n=4)
        eq((r.rc, r.requests), (0, 4), f"{r}")
        eq([parse(x)[0] for x in got], ["CONNECT /a HTTP/1.1", "GET /b HTTP/1.1"] * 2, "pipelined CONNECT")


def test_delay_returning_nil_means_no_delay():
    s = lua('function delay() end\n')
    with Recorder() as rec:
        both_send(rec, s, ("GET / HTTP/1.1", [("Host", f"127.0.0.1:{rec.port}")], b""))
        r, got = run_barrage(rec, s, n=50)
        eq((r.rc, r.requests, len(got)), (0, 50, 50), f"50 requests without waiting: {r}")
        check(r.elapsed < 10, f"no delay: {r.elapsed:.1f}s")


def test_args0_is_the_url_and_wrk_path_keeps_the_fragment():
    s = lua('function init(args)\n'
            '  wrk.headers["X-Args0"] = tostring(args[0])\n'
            '  wrk.headers["X-Args1"] = tostring(args[1])\n'
            '  wrk.headers["X-Nargs"] = tostring(#args)\n'
            '  wrk.headers["X-Path"] = wrk.path\n'
            'end\n')
    with Recorder() as rec:
        url = f"{rec.url}/p?q=1#frag"
        both_send(rec, s, ("GET /p?q=1#frag HTTP/1.1",
                           sorted([("Host", f"127.0.0.1:{rec.port}"), ("X-Args0", url), ("X-Args1", "x"),
                                   ("X-Nargs", "1"), ("X-Path", "/p?q=1#frag")]), b""),
                  path="/p?q=1#frag", args=["x"])
        # without a script barrage does not send the fragment (a deliberate difference)
        r, got = run_barrage(rec, None, path="/p?q=1#frag")
        eq((r.rc, first(got, "plain run")[0]), (0, "GET /p?q=1 HTTP/1.1"), "plain run")


DONE_SCRIPT = '''
top = "toplevel"
local threads = {}
function setup(thread)
  thread:set("seen", thread:get("top"))
  thread:set("nope", tostring(thread:get("missing")))
  table.insert(threads, thread)
end
function init(args) wrk.headers["X-Seen"] = tostring(seen) .. "," .. nope end
function done(summary, latency, requests)
  local t = threads[1]
  t:set("late", "L")
  print("DONE late=" .. tostring(t:get("late")) .. " seen=" .. tostring(t:get("seen")))
  print("DONE foo=" .. tostring(latency.foo) .. " total=" .. tostring(requests.total))
  local f = {}
  for _, k in ipairs({"duration", "requests", "bytes"}) do f[#f + 1] = k .. ":" .. type(summary[k]) end
  for _, k in ipairs({"connect", "read", "write", "status", "timeout"}) do
    f[#f + 1] = k .. ":" .. type(summary.errors[k])
  end
  print("DONE summary " .. table.concat(f, " "))
  print("DONE positive=" .. tostring(summary.duration > 0 and summary.requests > 0 and summary.bytes > 0
                                     and latency.max >= latency.min and latency:percentile(50) > 0))
  print("DONE n=" .. summary.requests)
end
'''


def done_lines(out):
    return [line for line in out.splitlines() if line.startswith("DONE ") and not line.startswith("DONE n=")]


def test_thread_get_set_and_done_objects_like_wrk():
    s = lua(DONE_SCRIPT)
    expected = ["DONE late=L seen=toplevel",
                "DONE foo=foo total=total",  # wrk answers an unknown field with its name
                "DONE summary duration:number requests:number bytes:number connect:number read:number "
                "write:number status:number timeout:number",
                "DONE positive=true"]
    with Recorder() as rec:
        sent = ("GET / HTTP/1.1", [("Host", f"127.0.0.1:{rec.port}"), ("X-Seen", "toplevel,nil")], b"")
        r, got = run_barrage(rec, s)
        eq(r.rc, 0, f"{r}")
        eq(first(got, "barrage"), sent, "thread:get() in setup() reads the script's globals")
        eq(done_lines(r.out), expected, "done() output")
        check("DONE n=20" in r.out, f"summary.requests: {r.out}")
        w = run_wrk(rec, s)
        if w:
            eq(w[0].returncode, 0, f"wrk: {w[0].stderr}")
            eq(first(w[1], "wrk"), sent, "wrk sent")
            eq(done_lines(w[0].stdout), expected, "wrk's done() output (the reference)")


def test_script_load_errors_exit_2_on_one_line():
    cases = {
        "syntax error": ("function init(\n", ":2: "),
        "missing module": ('local x = require "nonexistent_module_xyz"\n', ":1: module 'nonexistent_module_xyz' not found"),
    }
    with Recorder() as rec:
        for what, (text, needle) in cases.items():
            s = lua(text)
            r, got = run_barrage(rec, s)
            eq(r.rc, 2, f"{what}: exit code {r}")
            err = r.err.strip()
            check("\n" not in err and needle in err and os.path.basename(s) in err,
                  f"{what}: one line naming file:line: {r.err!r}")
            eq(len(got), 0, f"{what}: nothing sent")
            w = run_wrk(rec, s)
            if w and not w[1]:  # the reference, not barrage: one more second on a loaded machine
                w = run_wrk(rec, s)
            if w:  # wrk prints the error and runs a plain benchmark anyway
                check(w[0].returncode == 0 and w[1], f"{what}: wrk ran anyway: {w[0].returncode}")
