"""The command line and the outputs tell the truth: connecting has a bound
(--connect-timeout), numbers are finite, --body-file has limits, --json is
valid UTF-8 that merge/compare read back, descriptors 0-2 stay free, an
unwritable report is an error, signals during start-up and done() exit with
the code the JSON records."""
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from harness import BARRAGE, Serve, barrage, check, eq, make_pki, no_sanitizer_report


class NoAccept:
    """A loopback listener that never calls accept(), with an accept queue
    of one (listen(0) on Linux): the start-up probe's connection fills it,
    and every later SYN is dropped, so connects hang in SYN-SENT. full=True
    fills the queue first, so the probe itself hangs."""

    def __init__(self, full=False):
        self.full, self.fillers = full, []

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        for _ in range(3 if self.full else 0):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(c)
        time.sleep(0.2 if self.full else 0)
        return self

    def __exit__(self, *exc):
        self.sock.close()
        for c in self.fillers:
            c.close()


class StallTLS:
    """Accepts TCP; the first two connections (the start-up probes: TCP, then
    TLS) get a real TLS handshake, every later one is held open without a
    byte sent back."""

    def __init__(self, pki):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(f"{pki}/server.crt", f"{pki}/server.key")
        self.held, self.accepted = [], 0

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}/"
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.accepted <= 2:
                c.settimeout(2)
                try:
                    t = self.ctx.wrap_socket(c, server_side=True)
                    t.close()
                except (OSError, ssl.SSLError):
                    c.close()
            else:
                self.held.append(c)

    def __exit__(self, *exc):
        self.sock.close()
        for c in self.held:
            c.close()


def run_json(*args, timeout=30):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.json")
        r = barrage(*args, "--json", path, timeout=timeout)
        doc = json.load(open(path)) if os.path.exists(path) else None
        return r, doc


# --- connecting has a bound -------------------------------------------------

def test_untimed_run_against_a_server_that_never_accepts_ends():
    with NoAccept() as s:
        r, doc = run_json("-n", "1", "-T", "1s", "-t", "1", "-c", "1", s.url, timeout=20)
    check(r.elapsed < 8, f"ended within a few seconds: {r.elapsed:.1f}s {r}")
    eq(r.rc, 1, f"exit code: {r}")
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    eq(len(lines), 1, f"one line on stderr: {r.err!r}")
    check("could be opened" in lines[0] and f"127.0.0.1:{s.port}" in lines[0], f"message: {lines[0]!r}")
    check(doc["summary"]["errors"]["connect"] >= 3, f"connect errors recorded: {doc['summary']['errors']}")
    eq(doc["config"]["connect_timeout_s"], 1, "--connect-timeout defaults to -T")
    with NoAccept(full=True) as s:  # the probe itself cannot connect: a set-up error after -T
        r = barrage("-n", "1", "-T", "1s", "-t", "1", "-c", "1", s.url, timeout=20)
    eq(r.rc, 2, f"probe: {r}")
    check(r.elapsed < 4 and "timed out" in r.err and len(r.err.strip().splitlines()) == 1, f"probe: {r}")


def test_timed_run_against_a_server_that_never_accepts_counts_connect_errors():
    with NoAccept() as s:
        r, doc = run_json("-d", "3s", "-T", "1s", "-t", "1", "-c", "2", s.url, timeout=20)
    eq(r.rc, 0, f"{r}")
    check(r.elapsed < 8, f"ends on time: {r}")
    eq(doc["summary"]["requests"], 0, "no responses")
    check(doc["summary"]["errors"]["connect"] >= 3, f"timed-out connects are connect errors: {doc['summary']['errors']}")
    check(r.connect == doc["summary"]["errors"]["connect"], f"the report says so too: {r.out}")


def test_connect_timeout_option_is_its_own_bound():
    with NoAccept() as s:
        # -T 10s would allow one connect in 2s; --connect-timeout 300ms several
        r, doc = run_json("-d", "2s", "-T", "10s", "--connect-timeout", "300ms", "-t", "1", "-c", "1",
                          s.url, timeout=20)
    eq(r.rc, 0, f"{r}")
    eq(doc["config"]["connect_timeout_s"], 0.3, "JSON records the connect timeout")
    check(doc["summary"]["errors"]["connect"] >= 3, f"connect errors every ~300ms: {doc['summary']['errors']}")
    r = barrage("--connect-timeout", "soon", "http://127.0.0.1:1/")
    eq(r.rc, 2, f"bad --connect-timeout: {r}")
    check("--connect-timeout" in r.err, f"names the option: {r.err!r}")


def test_tls_handshake_is_bounded_by_the_connect_timeout():
    with tempfile.TemporaryDirectory() as d:
        pki = make_pki(d)
        with StallTLS(pki) as s:
            # -T 10s would allow none in 3s: the handshake is bounded by --connect-timeout
            r, doc = run_json("-k", "-d", "3s", "-T", "10s", "--connect-timeout", "500ms", "-t", "1", "-c", "1",
                              s.url, timeout=20)
    eq(r.rc, 0, f"{r}")
    check(doc["summary"]["errors"]["connect"] >= 3, f"stalled handshakes are connect errors: {doc['summary']['errors']} {r}")
    eq(doc["summary"]["requests"], 0, "no responses")


# --- numbers, --body-file, short durations ----------------------------------

def one_line_usage_error(r, needle):
    eq(r.rc, 2, f"exit code of {' '.join(r.args[1:])}: {r}")
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    eq(len(lines), 1, f"one line on stderr for {r.args[1:]}: {r.err!r}")
    check(lines[0].startswith("barrage: ") and needle in lines[0], f"{lines[0]!r} should mention {needle!r}")
    eq(r.out, "", "nothing on stdout")


def test_nan_and_inf_are_usage_errors_everywhere():
    bad = [("-R", "nan", "nan"), ("-R", "NaN/s", "NaN"), ("-R", "inf", "inf"),
           ("--start-at", "nan", "nan"), ("--start-at", "infinity", "infinity"),
           ("--start-at", "2030-01-01T00:00:nanZ", "nan"), ("-d", "nan", "nan"), ("-d", "infs", "inf"),
           ("-T", "inf", "inf"), ("--connect-timeout", "nan", "nan"), ("-n", "nan", "nan"),
           ("-c", "inf", "inf"), ("-t", "nan", "nan"), ("--stages", "1s:nan", "nan"),
           ("--stages", "nan:5", "nan"), ("--stages", "1s:inf", "inf"), ("--threshold", "p(95)<nan", "nan"),
           ("--threshold", "rps>inf", "inf"), ("--threshold", "errors<nan%", "nan"),
           ("--threshold", "p(nan)<1s", "nan")]
    with Serve() as s:
        for opt, val, needle in bad:
            r = barrage(opt, val, "-d", "1s", "-t", "1", "-c", "1", s.url, timeout=15)
            one_line_usage_error(r, needle)
            check(opt in r.err, f"names the option {opt}: {r.err!r}")


def test_body_file_must_be_a_bounded_regular_file():
    with tempfile.TemporaryDirectory() as d, Serve() as s:
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        big = os.path.join(d, "big")
        with open(big, "wb") as f:
            f.truncate((256 << 20) + 1)  # sparse: one byte over the limit
        for path, needle in (("/dev/zero", "device"), ("/dev/urandom", "device"), (d, "directory"),
                             (fifo, "FIFO"), (big, "256 MiB")):
            r = barrage("--body-file", path, "-d", "1s", "-t", "1", "-c", "1", s.url, timeout=15)
            one_line_usage_error(r, needle)
            check(path in r.err, f"names the file: {r.err!r}")
        ok = os.path.join(d, "ok")
        with open(ok, "wb") as f:
            f.write(b"x" * 1000)
        r = barrage("--body-file", ok, "-m", "POST", "-n", "5", "-t", "1", "-c", "1", s.url)
        eq(r.rc, 0, f"a regular file still works: {r}")
        eq(r.requests, 5, "responses")
    r = barrage("--help")
    check("256 MiB" in r.out, "--help states the limit")


def test_sub_millisecond_duration_reads_sanely():
    with Serve() as s:
        r, doc = run_json("-d", "500us", "-t", "1", "-c", "1", s.url)
    eq(r.rc, 0, f"{r}")
    first = r.out.splitlines()[0]
    check(first.startswith("Running 500us test @ "), f"header: {first!r}")
    check(r.requests is not None and " requests in " in r.out, f"report: {r.out}")
    eq(doc["config"]["duration_s"], 0.0005, "JSON duration")
    check(doc["duration_s"] < 1, f"measured a short run: {doc['duration_s']}")


# --- --json is valid UTF-8, and merge/compare read it back -------------------

WEIRD_SCRIPT = rb'''
function user(u)
  u:get("/", {name = "bad\255\254 \"q\" \\ \1 end"})
  u:get("/", {name = "\230\151\165\230\156\172 ok"})
  check(true, "chk\195(\237\160\128")
  u:sleep(5)
end
'''


def test_json_is_valid_utf8_and_round_trips_through_merge_and_compare():
    with tempfile.TemporaryDirectory() as d, Serve() as s:
        script = os.path.join(os.fsencode(d), b"w\xff.lua")
        with open(script, "wb") as f:
            f.write(WEIRD_SCRIPT)
        path = os.path.join(d, "r.json")
        cmd = [os.fsencode(BARRAGE), b"-d", b"2s", b"-t", b"1", b"-c", b"2", b"-H", b"X-Weird: a\xffb\xc3",
               b"-s", script, b"--threshold", b"bad\xff\xfe \"q\" \\ \x01 end:p(99)<10s",
               b"--json", os.fsencode(path), s.url.encode() + b"/p\xff\xfeath"]
        p = subprocess.run(cmd, capture_output=True, timeout=30)
        no_sanitizer_report(p.stderr.decode(errors="replace"), "weird run")
        eq(p.returncode, 0, f"run: {p.stderr!r}")
        raw = open(path, "rb").read()
        text = raw.decode("utf-8")  # strict: raises on invalid UTF-8
        doc = json.loads(text)
        names = set(doc["names"]) if isinstance(doc["names"], dict) else {n["name"] for n in doc["names"]}
        check("bad\ufffd\ufffd \"q\" \\ \x01 end" in names, f"invalid bytes as U+FFFD: {names}")
        check("\u65e5\u672c ok" in names, f"valid UTF-8 kept: {names}")
        checks = doc["checks"] if isinstance(doc["checks"], list) else [{"name": k} for k in doc["checks"]]
        check(any(c["name"] == "chk\ufffd(\ufffd\ufffd\ufffd" for c in checks), f"check name: {checks}")
        check(doc["config"]["url"].endswith("/p\ufffd\ufffdath"), f"url: {doc['config']['url']}")
        check("X-Weird: a\ufffdb\ufffd" in doc["config"]["headers"], f"headers: {doc['config']['headers']}")
        check("\ufffd" in doc["config"]["script"], f"script path: {doc['config']['script']}")
        eq(doc["thresholds"][0]["expr"], "bad\ufffd\ufffd \"q\" \\ \x01 end:p(99)<10s", "threshold expression")
        # barrage reads back what it wrote
        merged = os.path.join(d, "m.json")
        m = subprocess.run([BARRAGE, "merge", "-o", merged, path, path], capture_output=True, text=True, timeout=30)
        eq(m.returncode, 0, f"merge reads it: {m.stderr}")
        mdoc = json.loads(open(merged, "rb").read().decode("utf-8"))
        mnames = set(mdoc["names"]) if isinstance(mdoc["names"], dict) else {n["name"] for n in mdoc["names"]}
        eq(mnames, names, "merge keeps the names")
        for a, b in ((path, path), (path, merged), (merged, path)):
            c = subprocess.run([BARRAGE, "compare", "--no-color", a, b], capture_output=True, text=True, timeout=30)
            eq(c.returncode, 0, f"compare {a} {b}: {c.stderr}")


# --- descriptors 0-2, unwritable reports, SIGPIPE ----------------------------

def fd_targets(pid):
    out = {}
    for fd in (0, 1, 2):
        try:
            out[fd] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            out[fd] = None
    return out


def test_closed_std_fds_are_never_reused():
    with tempfile.TemporaryDirectory() as d, Serve() as s:
        for redir, closed, want_rc in (("<&- >&- 2>&-", (0, 1, 2), 1), ("<&-", (0,), 0), ("2>&-", (2,), 0),
                                       (">&-", (1,), 1)):
            path = os.path.join(d, "r.json")
            p = subprocess.Popen(f"exec '{BARRAGE}' -d 2s -t 2 -c 4 --json '{path}' {s.url} {redir}",
                                 shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1.0)
            fds = fd_targets(p.pid)
            _, err = p.communicate(timeout=20)
            no_sanitizer_report(err.decode(errors="replace"), redir)
            for fd in closed:
                check(fds[fd] in ("/dev/null", None), f"{redir}: fd {fd} is {fds[fd]}: an internal descriptor took it")
            eq(p.returncode, want_rc, f"{redir}: exit code ({err!r})")
            doc = json.load(open(path))
            eq(doc["exit_code"], want_rc, f"{redir}: the JSON records the exit code")
            check(doc["summary"]["requests"] > 0, "the run ran")


def test_unwritable_report_exits_1_with_a_message():
    with tempfile.TemporaryDirectory() as d, Serve() as s:
        path = os.path.join(d, "r.json")
        cases = [("/dev/full", "No space left"), ("closed", "Bad file descriptor"), ("pipe", "Broken pipe")]
        for how, reason in cases:
            args = [BARRAGE, "-d", "500ms", "-t", "1", "-c", "1", "--json", path, s.url]
            if how == "/dev/full":
                with open("/dev/full", "w") as full:
                    p = subprocess.run(args, stdout=full, stderr=subprocess.PIPE, text=True, timeout=20)
                rc, err = p.returncode, p.stderr
            elif how == "closed":
                p = subprocess.run(" ".join(f"'{a}'" for a in args) + " >&-", shell=True,
                                   stderr=subprocess.PIPE, text=True, timeout=20)
                rc, err = p.returncode, p.stderr
            else:
                p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                p.stdout.close()  # `| head -c0`
                err = p.stderr.read()
                rc = p.wait(timeout=20)
            no_sanitizer_report(err, how)
            eq(rc, 1, f"report to {how}: exit code ({err!r})")
            lines = [ln for ln in err.splitlines() if ln.strip()]
            eq(len(lines), 1, f"one line on stderr: {err!r}")
            check("cannot write the report to stdout" in lines[0] and reason in lines[0], f"message: {lines[0]!r}")
            eq(json.load(open(path))["exit_code"], 1, f"{how}: JSON exit code agrees")
        # compare and merge: a closed pipe is an error message and exit 1, not a silent SIGPIPE death
        for sub in (["compare", path, path], ["merge", path, path]):
            rd, wr = os.pipe()
            os.close(rd)  # closed before the child writes: no race with a fast writer
            p = subprocess.Popen([BARRAGE] + sub, stdout=wr, stderr=subprocess.PIPE, text=True)
            os.close(wr)
            err = p.stderr.read()
            rc = p.wait(timeout=20)
            eq(rc, 1, f"{sub[0]} into a closed pipe: exit code ({err!r})")
            check("cannot write" in err and "Broken pipe" in err, f"{sub[0]}: message {err!r}")
        with open("/dev/full", "w") as full:
            p = subprocess.run([BARRAGE, "--help"], stdout=full, stderr=subprocess.PIPE, text=True)
        eq(p.returncode, 1, f"--help into /dev/full ({p.stderr!r})")


# --- signals during start-up and done() ---------------------------------------

def test_sigint_during_the_start_up_probe_exits_130_at_once():
    with NoAccept(full=True) as s:
        p = subprocess.Popen([BARRAGE, "-d", "5s", "-T", "30s", "-t", "1", "-c", "1", s.url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        check(p.poll() is None, "still probing")
        t0 = time.time()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        no_sanitizer_report(err, "probe SIGINT")
        check(time.time() - t0 < 1.5, f"exits at once: {time.time() - t0:.1f}s")
        eq(p.returncode, 130, f"exit code ({err!r})")
        check("interrupted" in err, f"says why: {err!r}")


DONE_SCRIPTS = {  # each first leaves a marker file (MARKER) so the test knows done() runs
    "sleep": "function done(summary, latency, requests)\n  io.open(MARKER, 'w'):close()\n"
             "  os.execute('sleep 3')\nend\n",
    "busy": "function done(summary, latency, requests)\n  io.open(MARKER, 'w'):close()\n"
            "  local t = os.clock() + 2\n  while os.clock() < t do end\nend\n",
}


def test_sigterm_during_done_exit_code_and_json_agree():
    with tempfile.TemporaryDirectory() as d, Serve() as s:
        for kind, body in DONE_SCRIPTS.items():
            script = os.path.join(d, f"{kind}.lua")
            marker = os.path.join(d, f"{kind}.in-done")
            with open(script, "w") as f:
                f.write(f"MARKER = {json.dumps(marker)}\n" + body)
            path = os.path.join(d, f"{kind}.json")
            p = subprocess.Popen([BARRAGE, "-d", "1s", "-t", "1", "-c", "1", "-s", script, "--json", path, s.url],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            t0 = time.time()
            while not os.path.exists(marker) and time.time() - t0 < 15:
                time.sleep(0.05)
            check(os.path.exists(marker), f"{kind}: done() was reached")
            time.sleep(0.2)
            check(p.poll() is None, f"{kind}: done() still running")
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=30)
            no_sanitizer_report(err, f"done() {kind}")
            doc = json.load(open(path))
            eq(p.returncode, 143, f"{kind}: exit code ({err!r})")
            eq(doc["exit_code"], p.returncode, f"{kind}: JSON exit_code agrees")
            eq(doc["interrupted"], True, f"{kind}: JSON says interrupted")
            check(doc["summary"]["requests"] > 0, "the measured run is reported")
