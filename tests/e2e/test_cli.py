"""The command line: help, version, and one clear line with exit 2 for every
invalid input."""
import signal
import subprocess
import time

from harness import BARRAGE, Serve, barrage, check, eq, free_port


def usage_error(*args, needle):
    r = barrage(*args, timeout=15)
    eq(r.rc, 2, f"exit code of barrage {' '.join(map(str, args))}")
    lines = [line for line in r.err.splitlines() if line.strip()]
    eq(len(lines), 1, f"stderr lines of barrage {args}: {r.err!r}")
    check(lines[0].startswith("barrage: "), f"error names the program: {lines[0]!r}")
    check(needle in lines[0], f"error {lines[0]!r} should mention {needle!r}")
    eq(r.out, "", "nothing on stdout for a usage error")
    return lines[0]


def test_help_and_version():
    r = barrage("--help")
    eq(r.rc, 0, "--help exit code")
    for opt in ("--connections", "--duration", "--threads", "--header", "--script", "--timeout",
                "--latency", "--requests", "--no-pin", "--method", "--body", "--body-file"):
        check(opt in r.out, f"--help mentions {opt}")
    r = barrage("-v")
    eq(r.rc, 0, "-v exit code")
    check(r.out.startswith("barrage "), f"version line: {r.out!r}")


def test_invalid_inputs_exit_2_with_one_line():
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    usage_error(needle="no URL")
    usage_error("127.0.0.1:8080", needle="scheme")
    usage_error("http://127.0.0.1:99999/", needle="port")
    usage_error("--bogus", url, needle="unknown option '--bogus'")
    usage_error("-c", "0", url, needle="connections")
    usage_error("-c", "1", "-t", "2", url, needle="-c >= -t")
    usage_error("-d", "forever", url, needle="duration")
    usage_error("--timeout", "soon", url, needle="timeout")
    usage_error("-n", "0", url, needle="requests")
    usage_error("-H", "NoColon", url, needle="header")
    usage_error("--body-file", "/nonexistent/body", url, needle="cannot open")


def test_unreachable_host_at_start():
    port = free_port()  # nothing listens there
    t0 = time.time()
    line = usage_error("-d", "1s", f"http://127.0.0.1:{port}/", needle="cannot connect to 127.0.0.1")
    check("refused" in line.lower(), f"reason given: {line!r}")
    check(time.time() - t0 < 5, "fails fast")


def _unused():
    with Serve() as s:
        usage_error("-s", "x.lua", "-d", "1s", s.url, needle="-s/--script")


def test_sigint_prints_report_and_exits_130():
    with Serve() as s:
        p = subprocess.Popen([BARRAGE, "-t", "1", "-c", "4", "-d", "30s", s.url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        t0 = time.time()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
        check(time.time() - t0 < 3, "stops promptly after SIGINT")
        eq(p.returncode, 130, f"exit code after SIGINT ({err!r})")
        check("requests in" in out and "Requests/sec" in out, f"report printed: {out!r}")
        n = int(out.split(" requests in")[0].split()[-1])
        check(n > 0, "requests were counted before the interrupt")
