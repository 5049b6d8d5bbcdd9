"""Reliability: signals, limits, IPv6, DNS, and scripts that misbehave."""
import json
import os
import resource
import signal
import subprocess
import tempfile
import time

from harness import BARRAGE, SANITIZED, Nginx, Serve, barrage, check, eq, free_port, wait_port


def script_file(tmp, text, name="s.lua"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_endless_init_is_stopped_by_the_duration():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = script_file(tmp, "function init(a)\n  local i = 0\n  while true do i = i + 1 end\nend\n")
        r = barrage("-t", "2", "-c", "2", "-d", "1s", "-s", path, s.url, timeout=15)
    eq(r.rc, 2, f"{r}")
    check(r.elapsed < 4, f"stopped at the end of the duration: {r.elapsed:.1f}s")
    check(f"{path}:3: stopped" in r.err and "(in init())" in r.err, r.err)
    check("requests in" in r.out, "the report still prints")


def test_endless_init_is_stopped_by_sigint():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = script_file(tmp, "function init(a)\n  while true do end\nend\n")
        p = subprocess.Popen([BARRAGE, "-t", "1", "-c", "1", "-d", "60s", "-s", path, s.url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        t0 = time.time()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    eq(p.returncode, 130, f"{out}{err}")
    check(time.time() - t0 < 3, "stopped promptly")
    check("stopped" in err, err)


def test_second_sigint_exits_at_once():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = script_file(tmp, "function done(s, l, r)\n  while true do end\nend\n")
        p = subprocess.Popen([BARRAGE, "-t", "1", "-c", "1", "-d", "1s", "-s", path, s.url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)  # the run is over, done() spins
        check(p.poll() is None, "done() is still spinning")
        p.send_signal(signal.SIGINT)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=5)
    eq(p.returncode, 130, f"{out}{err}")


def test_sigterm_prints_the_report_and_writes_valid_json():
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        path = os.path.join(tmp, "r.json")
        p = subprocess.Popen([BARRAGE, "-t", "2", "-c", "4", "-d", "60s", "--json", path, s.url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
        eq(p.returncode, 143, f"{out}{err}")
        check("requests in" in out, "report printed")
        d = json.load(open(path))
    eq(d["interrupted"], True, "interrupted recorded")
    eq(d["exit_code"], 143, "exit code recorded")
    check(d["summary"]["requests"] > 0 and 1 <= d["duration_s"] < 5, f"{d['summary']} {d['duration_s']}")


def test_ipv6_loopback_urls():
    proc = subprocess.Popen([BARRAGE, "serve", "--listen", "[::1]:0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        check(line.startswith("listening on [::1]:"), line)
        port = int(line.rsplit(":", 1)[1])
        r = barrage("-t", "1", "-c", "2", "-n", "100", f"http://[::1]:{port}/")
        eq(r.rc, 0, f"{r}")
        eq(r.requests, 100, "responses over IPv6")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=5)


def test_unresolvable_host_is_a_clear_error():
    # in a network namespace of its own no query can leave the machine
    cmd = ["unshare", "-n", BARRAGE, "-d", "1s", "http://no-such-host.invalid:8080/"]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    eq(p.returncode, 2, f"{p.stdout}{p.stderr}")
    check("cannot resolve host 'no-such-host.invalid'" in p.stderr, p.stderr)
    eq(p.stderr.count("\n"), 1, "one line")
    check(time.time() - t0 < 10, "fails fast")


def test_connections_above_the_fd_limit_are_refused_with_numbers():
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    with Serve() as s:
        p = subprocess.run([BARRAGE, "-t", "1", "-c", "1000", "-d", "1s", s.url], capture_output=True, text=True,
                           timeout=20, preexec_fn=limit)
    eq(p.returncode, 2, p.stderr)
    check("1000 connections need about" in p.stderr and "the limit is 256" in p.stderr and "ulimit -n" in p.stderr,
          p.stderr)


def test_ten_thousand_connections_from_one_thread():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    check(hard == resource.RLIM_INFINITY or hard >= 10300,
          f"the hard open-file limit ({hard}) is below 10,300: raise it to run this test")
    with Nginx(access_log=False) as n, tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.json")
        r = barrage("-t", "1", "-c", "10000", "-d", "5s", "--timeout", "10s", "--json", path, f"{n.url}/health",
                    timeout=60)
        d = json.load(open(path))
    eq(r.rc, 0, f"{r}")
    check("10000 connections" in r.out, r.out)
    eq(d["summary"]["connects"], 10000, "every connection opened, once")
    eq(d["summary"]["errors"], {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 0, "parse": 0},
       "no errors")
    check(r.requests >= 10000, f"requests: {r.requests}")


def test_huge_request_and_response_strings():
    text = """
local big = wrk.format("POST", "/", nil, string.rep("x", 4 * 1024 * 1024))
function request() return big end
local seen = 0
function response(status, headers, body) seen = math.max(seen, #body) end
function done(s, l, r) end
"""
    with tempfile.TemporaryDirectory() as tmp, Serve("--body-size", "8m") as s:
        path = script_file(tmp, text)
        r = barrage("-t", "1", "-c", "2", "-n", "6", "-s", path, s.url, timeout=60)
    eq(r.rc, 0, f"{r}")
    eq(r.requests, 6, "responses")
    eq(r.read + r.write + r.parse + r.timeout, 0, "no errors")


def test_api_from_the_wrong_phase_is_an_error_not_a_crash():
    cases = (
        ("function setup(t)\n  t:stop()\nend\n", "only be called while the thread is running", "setup()"),
        ("check(true, 'x')\n", "only be called while the test runs", "main chunk"),
        ("function init(a)\n  local u = barrage._user_new(1)\n  u:get('/')\nend\n", "can only be made while user()", "init()"),
        ("function done(s, l, r)\n  wrk.thread:stop()\nend\n", "index", "done()"),
    )
    for text, needle, hook in cases:
        with tempfile.TemporaryDirectory() as tmp, Serve() as s:
            path = script_file(tmp, text)
            r = barrage("-t", "1", "-c", "1", "-d", "1s", "-s", path, s.url, timeout=15)
        eq(r.rc, 2, f"{hook}: {r}")
        check(needle in r.err and hook in r.err, f"{hook}: {r.err}")
        check(r.err.startswith("barrage: "), f"{hook}: {r.err}")
