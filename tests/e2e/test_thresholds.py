"""--threshold pass/fail gates (exit code 99), per name, and --abort-on-fail."""
import os
import re
import tempfile

from harness import ROOT, Serve, barrage, check, eq


def verdicts(out):
    """{expression: (passed, measured text)} from the Thresholds block."""
    res = {}
    if "Thresholds" not in out:
        return res
    for line in out.split("Thresholds", 1)[1].splitlines()[1:]:
        m = re.match(r"\s+(\u2713|\u2717) (.+?)\s{2,}(\S+)", line)
        if m:
            res[m.group(2).strip()] = (m.group(1) == "\u2713", m.group(3))
    return res


def test_passing_thresholds_exit_0():
    with Serve() as s:
        r = barrage("-t", "1", "-c", "4", "-n", "2000", "--threshold", "p(99)<500ms", "--threshold", "errors<0.1%",
                    "--threshold", "non2xx==0", "--threshold", "rps>10", "--threshold", "mean<200ms", s.url)
    eq(r.rc, 0, f"{r}")
    v = verdicts(r.out)
    eq(sorted(v), sorted(["p(99)<500ms", "errors<0.1%", "non2xx==0", "rps>10", "mean<200ms"]), f"{r.out}")
    check(all(ok for ok, _ in v.values()), f"all pass: {v}")
    eq(v["non2xx==0"][1], "0", "measured value shown")


def test_failing_latency_threshold_exits_99_with_the_measured_value():
    with Serve("--delay", "20ms") as s:
        r = barrage("-t", "1", "-c", "2", "-n", "40", "--threshold", "p(99)<5ms", "--threshold", "max<1s", s.url)
    eq(r.rc, 99, f"{r}")
    v = verdicts(r.out)
    eq(v["p(99)<5ms"][0], False, f"{v}")
    m = re.match(r"([\d.]+)(ms|s)$", v["p(99)<5ms"][1])
    check(m and float(m.group(1)) * (1000 if m.group(2) == "s" else 1) >= 20, f"measured >= the 20 ms delay: {v}")
    eq(v["max<1s"][0], True, f"{v}")


def test_error_rate_and_non2xx_thresholds():
    with Serve("--fault", "status500:4") as s:
        r = barrage("-t", "1", "-c", "1", "-n", "100", "--threshold", "non2xx<=25", "--threshold", "non2xx<10%", s.url)
    eq(r.rc, 99, f"{r}")
    v = verdicts(r.out)
    eq(v["non2xx<=25"], (True, "25"), f"{v}")
    eq(v["non2xx<10%"][0], False, f"{v}")
    with Serve("--fault", "drop:10") as s:
        r = barrage("-t", "1", "-c", "1", "-n", "90", "--threshold", "errors<5%", s.url)
    # 90 responses need 99 requests when every 10th is dropped: 9 errors in 99 attempts
    eq(r.rc, 99, f"{r}")
    eq(r.read, 9, "dropped requests")
    eq(verdicts(r.out)["errors<5%"], (False, f"{100 * 9 / 99:.2f}%"), r.out)


def test_per_name_thresholds():
    login = os.path.join(ROOT, "scripts", "login.lua")
    with Serve() as s:
        r = barrage("-t", "1", "-c", "4", "-d", "2s", "-s", login, "--threshold", "login:p(95)<500ms",
                    "--threshold", "view item:errors==0", "--threshold", "checks>99%",
                    "--threshold", "nosuch:p(95)<1s", s.url)
    eq(r.rc, 99, f"{r}")
    v = verdicts(r.out)
    eq(v["login:p(95)<500ms"][0], True, f"{v}")
    eq(v["view item:errors==0"][0], True, f"{v}")
    eq(v["checks>99%"][0], True, f"{v}")
    eq(v["nosuch:p(95)<1s"][0], False, f"a name that never occurred fails: {v}")
    check("no requests with this name" in r.out, r.out)


def test_bad_expressions_are_usage_errors_naming_the_token():
    with Serve() as s:
        for expr, token in (("p(95)<30xs", "30xs"), ("p95<1s", "p95"), ("rps>>5", ">"), ("latency<1s", "latency")):
            r = barrage("--threshold", expr, "-n", "1", s.url)
            eq(r.rc, 2, f"{expr}: {r}")
            check(f"'{token}'" in r.err or token in r.err, f"{expr}: {r.err}")
            eq(r.err.count("\n"), 1, f"one line: {r.err!r}")


def test_abort_on_fail_stops_early():
    with Serve("--fault", "status500:50") as s:
        r = barrage("-t", "1", "-c", "2", "-d", "20s", "--threshold", "non2xx==0", "--abort-on-fail", s.url,
                    timeout=30)
    eq(r.rc, 99, f"{r}")
    check(r.elapsed < 4, f"stopped soon after the first 500: {r.elapsed:.1f}s")
    check("--abort-on-fail" in r.err, r.err)
