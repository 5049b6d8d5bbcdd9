"""The live progress line: on a terminal only, refreshed about once a second,
erased before the report."""
import os
import pty
import re
import select
import subprocess
import time

from harness import BARRAGE, Serve, barrage, check, eq


def run_on_tty(*args, timeout=20):
    """Run barrage with stderr on a pseudo-terminal; return (rc, stdout, tty bytes)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([BARRAGE] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=slave,
                         stdin=subprocess.DEVNULL)
    os.close(slave)
    tty = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            tty += chunk
        elif p.poll() is not None:
            break
    out = p.stdout.read().decode()
    p.wait(timeout=5)
    os.close(master)
    return p.returncode, out, tty.decode(errors="replace")


def test_progress_line_on_a_tty():
    with Serve() as s:
        rc, out, tty = run_on_tty("-t", "1", "-c", "2", "-d", "3s", "-R", "500", s.url)
    eq(rc, 0, f"{out}{tty}")
    updates = re.findall(r"\r\x1b\[K\[(\d+)s/3s\] conns (\d+), (\d+) req/s, p50 \S+, p99 \S+, errors (\d+)", tty)
    check(len(updates) >= 2, f"refreshed about once a second: {tty!r}")
    check(all(c == "2" for _, c, _, _ in updates), f"connections shown: {updates}")
    check(any(480 <= int(n) <= 520 for _, _, n, _ in updates), f"req/s of the last second: {updates}")
    check(tty.endswith("\r\x1b[K"), f"erased at the end: {tty[-40:]!r}")
    check("\r" not in out and "requests in" in out, "the report on stdout is clean")


def test_quiet_and_non_tty_have_no_progress():
    with Serve() as s:
        rc, out, tty = run_on_tty("-q", "-t", "1", "-c", "2", "-d", "2s", s.url)
        eq(rc, 0, out)
        eq(tty, "", "--quiet prints nothing on the terminal")
        r = barrage("-t", "1", "-c", "2", "-d", "2s", s.url)
        eq(r.err, "", "stderr is not a terminal: no progress")


def test_stage_shown_in_progress():
    with Serve() as s:
        rc, out, tty = run_on_tty("-t", "1", "--stages", "1s:2,2s:2", s.url)
    eq(rc, 0, out)
    check(re.search(r"\] stage 2/2 conns 2", tty), f"stage 2 of 2 shown: {tty!r}")
