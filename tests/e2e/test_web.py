"""--web: the live dashboard, driven in headless Chromium over the DevTools
protocol (--remote-debugging-pipe: JSON messages on two pipes, so the
standard library is enough), and its controls over plain HTTP.

- the page loads from barrage itself, fills in from the server-sent
  snapshots and draws the report's charts; a change of users shows in the
  target's ESTABLISHED connections (ss); Stop ends the run as SIGINT does
  (report printed, exit 130, "interrupted" and the events in the JSON);
  the final report replaces the page and its requests equal the JSON's;
- a rate change keeps the schedule exact (the seconds' counts follow it);
- --web-linger serves the final report at "/" after the run; bad options
  are one line and exit 2.
Chromium is Debian's `chromium` package (deps/install.sh): without it the
browser test fails and says so."""
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import schema
from harness import BARRAGE, ROOT, Fail, Serve, barrage, check, eq, no_sanitizer_report

with open(os.path.join(ROOT, "src", "result", "result.schema.json")) as _f:
    SCHEMA = json.load(_f)


def chromium():
    exe = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise Fail("chromium is not installed: the --web dashboard is checked in a headless browser; install "
                   "Debian's `chromium` package (apt-get install chromium, or deps/install.sh)")
    return exe


class Cdp:
    """Headless Chromium with the DevTools protocol on pipes (fd 3: commands
    in, fd 4: replies and events out, each message ending in a NUL byte)."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="barrage-web-chromium-")
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # the child's fds 3 and 4 (dup2 in the child, before exec)
        def fds():
            a, b = os.dup(to_r), os.dup(from_w)  # out of the way of 3 and 4 first
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.proc = subprocess.Popen(
            [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "--window-size=1200,1600",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, pass_fds=(3, 4, to_r, from_w))
        os.close(to_r)
        os.close(from_w)
        self.buf, self.id, self.session = b"", 0, None
        targets = self.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"]
        check(page, f"chromium has no page: {targets}")
        self.session = self.call("Target.attachToTarget", targetId=page[0]["targetId"], flatten=True)["sessionId"]
        self.call("Runtime.enable")

    def call(self, method, timeout=15, **params):
        self.id += 1
        msg = {"id": self.id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        end = time.time() + timeout
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                m = json.loads(raw)
                if m.get("id") == self.id:
                    if "error" in m:
                        raise Fail(f"CDP {method}: {m['error']}")
                    return m.get("result", {})
            left = end - time.time()
            check(left > 0, f"CDP {method}: no answer in {timeout}s")
            r, _, _ = select.select([self.from_r], [], [], left)
            if r:
                chunk = os.read(self.from_r, 1 << 16)
                check(chunk, "chromium closed the DevTools pipe")
                self.buf += chunk

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise Fail(f"page script error in {expr!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expr, what, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            v = self.eval(expr)
            if v:
                return v
            time.sleep(0.1)
        raise Fail(f"{what}: not true after {timeout}s ({expr})")

    def close(self):
        try:
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            os.close(self.to_w)
            os.close(self.from_r)
            shutil.rmtree(self.profile, ignore_errors=True)


class Live:
    """barrage with --web 0 in the background: its URL from the stderr line."""

    def __init__(self, *args):
        fd, self.json_path = tempfile.mkstemp(prefix="barrage-web-", suffix=".json")
        os.close(fd)
        self.proc = subprocess.Popen([BARRAGE, "--web", "0", "--json", self.json_path, *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        m = re.match(r"barrage: dashboard on (http://127\.0\.0\.1:\d+/)$", line.rstrip("\n"))
        if not m:
            self.proc.kill()
            raise Fail(f"no dashboard line on stderr: {line!r}")
        self.url = m.group(1)

    def post(self, path, body=""):
        req = urllib.request.Request(self.url + path.lstrip("/"), data=body.encode(), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    def get(self, path):
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=5) as r:
            return r.read().decode()

    def finish(self, timeout=20):
        out, err = self.proc.communicate(timeout=timeout)
        no_sanitizer_report(err, "barrage --web")
        with open(self.json_path) as f:
            doc = json.load(f)
        os.unlink(self.json_path)
        eq(schema.errors(doc, SCHEMA), [], "the result follows the schema (events included)")
        return self.proc.returncode, out, err, doc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        if os.path.exists(self.json_path):
            os.unlink(self.json_path)


def established(port):
    """Client sockets ESTABLISHED to 127.0.0.1:port."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


def test_dashboard_in_chromium_users_stop_and_final_report():
    with Serve("--delay", "1ms") as s:
        live = Live("-t", "2", "-c", "6", "-d", "20s", s.url)
        cdp = None
        try:
            cdp = Cdp()
            cdp.call("Page.enable")
            cdp.call("Page.navigate", url=live.url)
            cdp.wait("document.title == 'barrage: live'", "the dashboard loads")
            cdp.wait("Number(document.querySelector('[data-metric=requests]').textContent) > 0",
                     "requests counted on the page")
            # the report's charts, drawn by the same code, arrive as SVG
            cdp.wait("document.querySelector('#chart-rps svg#rps-chart polyline.rps') !== null", "the rps chart")
            check(cdp.eval("document.querySelector('#chart-latency svg#latency-chart polyline.p95') !== null"),
                  "the latency chart with p95")
            check(cdp.eval("document.querySelector('#chart-errors svg#errors-chart') !== null"), "errors chart")
            check(cdp.eval("[].slice.call(document.scripts).every(function (s) { return !s.src; })"),
                  "no external scripts")
            eq(cdp.eval("document.querySelector('[data-metric=active]').textContent"), "6", "users shown")
            eq(established(s.port), 6, "connections before the change")
            # fewer users: the page's control, the server's connections
            cdp.eval("document.getElementById('users').value = 2; document.getElementById('set-users').click()")
            cdp.wait("document.getElementById('message').textContent == 'users: 2'", "the users change answered")
            end = time.time() + 3
            while established(s.port) != 2 and time.time() < end:
                time.sleep(0.05)
            eq(established(s.port), 2, "connections after setting 2 users")
            cdp.wait("document.querySelector('[data-metric=active]').textContent == '2'", "2 users on the page")
            # more than -c is refused with the reason
            cdp.eval("document.getElementById('users').value = 7; document.getElementById('set-users').click()")
            cdp.wait("document.getElementById('message').getAttribute('data-status') == '400'", "7 users refused")
            check("at most 6 users" in cdp.eval("document.getElementById('message').textContent"), "the reason")
            # Stop: the run ends as at SIGINT and the final report replaces the page
            cdp.eval("document.getElementById('stop').click()")
            rc, out, err, doc = live.finish()
            eq(rc, 130, f"exit code after Stop ({err})")
            check(re.search(r"^\s*\d+ requests in ", out, re.M), f"the report printed: {out}")
            check(re.search(r"^  Control   at [\d.]+s: 2 users \(from the dashboard\)$", out, re.M), f"users line: {out}")
            eq(doc["interrupted"], True, "JSON interrupted")
            eq([e["action"] for e in doc["events"]], ["users", "stop"], f"events {doc['events']}")
            eq(doc["events"][0]["value"], 2, "the users event's value")
            check(doc["events"][0]["t"] < doc["events"][1]["t"] <= doc["duration_s"] + 0.01, f"{doc['events']}")
            check(doc["duration_s"] < 15, f"Stop ended the run early: {doc['duration_s']}s")
            actives = [p["active"] for p in doc["series"]]
            check(6 in actives and actives[-1] == 2, f"per-second active {actives}")
            shown = cdp.wait("document.title.indexOf('barrage: http') == 0 && "
                             "document.querySelector('div[data-metric=requests]').textContent",
                             "the final report in the page")
            eq(int(shown), doc["summary"]["requests"], "requests on the final page vs the JSON")
        finally:
            if cdp:
                cdp.close()
            live.kill()


def test_rate_change_keeps_the_schedule():
    html = tempfile.NamedTemporaryFile(prefix="barrage-web-", suffix=".html", delete=False).name
    with Serve() as s:
        live = Live("-t", "2", "-c", "4", "-R", "100", "-d", "4s", "--html", html, s.url)
        try:
            time.sleep(1.2)
            before = json.loads(live.get("/snapshot.json"))["t"]  # elapsed at the last tick
            code, ans = live.post("/rate", "r=400")
            eq((code, ans["ok"]), (200, True), f"rate change answer {ans}")
            code, ans = live.post("/rate", "r=abc")
            eq(code, 400, f"a bad rate: {ans}")
            code, ans = live.post("/users")
            eq(code, 400, f"users without n: {ans}")
            end = time.time() + 2.5  # the next snapshot (once a second) has it
            while json.loads(live.get("/snapshot.json"))["rate_target"] != 400 and time.time() < end:
                time.sleep(0.1)
            snap = json.loads(live.get("/snapshot.json"))
            eq(snap["rate_target"], 400, "the snapshot's rate target")
            eq([e["action"] for e in snap["events"]], ["rate"], "the snapshot's events")
            rc, out, err, doc = live.finish()
        finally:
            live.kill()
    eq(rc, 0, f"exit code ({err})")
    ev = doc["events"]
    eq([(e["action"], e["value"]) for e in ev], [("rate", 400)], "events")
    t = ev[0]["t"]
    # 0.2 s after it was asked, which was after the tick that said `before`
    check(before + 0.19 < t < before + 2.5, f"the change took effect at {t}s, the last tick before it said {before}s")
    # The target count is 100/s until t, 400/s after. A response completes
    # after its slot's intended instant and at most the run's slowest latency
    # after it, so the responses completed by each second's end lie between
    # the target count then and the target count that much earlier (a
    # loaded machine stretches the lower bound, never the upper one).
    def target(x):
        x = max(0.0, x)
        return 100 * x if x <= t else 100 * t + 400 * (x - t)
    done, slowest = 0, doc["latency"]["max"] / 1e6
    for p in doc["series"]:
        done += p["requests"]
        end = min(p["t"] + 1, doc["duration_s"])
        lo, hi = target(end - slowest - 0.01) - 4, target(end + 0.01) + 4
        check(lo <= done <= hi, f"by {end:.2f}s: {done} responses, the schedule allows {lo:.0f} to {hi:.0f} "
              f"(slowest {slowest * 1e3:.1f} ms): {doc['series']}")
    check(done > target(doc["duration_s"]) * 0.5, f"{done} responses: the rate went up")
    # the report's target line steps from 100/s to 400/s at the change
    with open(html, encoding="utf-8") as f:
        page = f.read()
    os.unlink(html)
    m = re.search(r'<polyline class="target"[^>]* points="([^"]+)"', page)
    check(m, "a target line in the report's rps chart")
    pts = [tuple(map(float, p.split(","))) for p in m.group(1).split()]
    eq(len(pts), 4, f"target line points {pts}")
    check(pts[0][1] == pts[1][1] and pts[2][1] == pts[3][1] and pts[2][1] < pts[1][1] and pts[1][0] == pts[2][0],
          f"a step up at the change: {pts}")
    rps = page[page.index('<svg id="rps-chart"'):]
    base = float(re.search(r'<line class="axis" x1="[^"]+" x2="[^"]+" y1="([^"]+)"', rps).group(1))  # y of 0/s
    check(abs((base - pts[2][1]) - 4 * (base - pts[0][1])) < 2, f"400/s is 4 times 100/s: {pts}, 0 at {base}")


def test_unpaced_rate_refused_linger_serves_the_report():
    with Serve() as s:
        live = Live("-t", "1", "-c", "2", "-d", "1s", "--web-linger", "3s", s.url)
        try:
            code, ans = live.post("/rate", "r=50")
            eq(code, 400, f"rate change without -R: {ans}")
            check("-R" in ans["message"], f"the reason names -R: {ans}")
            time.sleep(1.6)  # the run is over, the page lingers
            page = live.get("/")
            check(page.startswith("<!doctype html>") and "benchmark report" in page, f"the report at /: {page[:200]}")
            m = re.search(r'data-metric="requests">(\d+)<', page)
            code, ans = live.post("/stop")
            eq(code, 409, f"Stop after the run: {ans}")
            t0 = time.time()
            rc, out, err, doc = live.finish()
        finally:
            live.kill()
    eq(rc, 0, f"exit code ({err})")
    check(m and int(m.group(1)) == doc["summary"]["requests"], "the lingering report's requests equal the JSON's")
    check(time.time() - t0 > 0.8, "barrage lingered")
    eq(doc["events"], [], "no control actions")


def test_bad_web_options():
    for args, want in ((["--web", "nope:x"], "--web"), (["--web-linger", "3s"], "--web-linger"),
                       (["--web", "0", "--web-linger", "forever"], "--web-linger")):
        r = barrage(*args, "-d", "1s", "http://127.0.0.1:1/")
        eq(r.rc, 2, f"{args}: exit code ({r})")
        lines = r.err.strip().splitlines()
        eq(len(lines), 1, f"{args}: one line: {r.err}")
        check(want in lines[0], f"{args}: names the option: {lines[0]}")


def test_names_checks_and_thresholds_so_far_are_exact():
    # each user makes 3 named requests and 3 checks, then sleeps: by the
    # second second the live sums are complete and must equal the result
    script = """
function user(u)
   for i = 1, 3 do
      local r = u:get("/", { name = "front" })
      check(r.status == 200, "front ok")
   end
   u:sleep(60000)
end
"""
    with tempfile.TemporaryDirectory() as tmp:
        lua = os.path.join(tmp, "three.lua")
        with open(lua, "w") as f:
            f.write(script)
        with Serve() as s:
            live = Live("-t", "2", "-c", "4", "-d", "4s", "-s", lua, "--threshold", "front:p(99)<10s",
                        "--threshold", "front:requests>100", s.url)
            try:
                end = time.time() + 6  # the run lasts 4 s; a slow start (ASan) takes some of it
                snap = {}
                while time.time() < end:
                    snap = json.loads(live.get("/snapshot.json"))
                    if snap.get("last") and snap["last"]["second"] >= 1:
                        break
                    time.sleep(0.1)
                check(snap.get("last") and snap["last"]["second"] >= 1, f"no second second: {snap}")
                rc, out, err, doc = live.finish()
            finally:
                live.kill()
    eq(rc, 99, f"one threshold fails ({err})")
    eq([(n["name"], n["requests"], n["failures"]) for n in snap["names"]],
       [(n["name"], n["requests"], n["failures"]) for n in doc["names"]], "live names vs the result")
    eq(doc["names"][0]["requests"], 12, "3 requests per user")
    for k in ("50", "95", "99"):
        eq(snap["names"][0]["latency"]["p" + k], doc["names"][0]["latency"]["percentiles"][k], f"live p{k}")
    eq(snap["names"][0]["latency"]["max"], doc["names"][0]["latency"]["max"], "live max")
    eq([(c["name"], c["pass"], c["fail"]) for c in snap["checks"]],
       [(c["name"], c["pass"], c["fail"]) for c in doc["checks"]], "live checks vs the result")
    eq([(t["expr"], t["pass"]) for t in snap["thresholds"]], [(t["expr"], t["pass"]) for t in doc["thresholds"]],
       "thresholds so far vs the final verdicts")
