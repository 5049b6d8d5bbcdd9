"""The engine against every fault mode of `barrage serve`: exact counts of
responses and of each error class, and runs that end on time.

With one thread and one connection the server's fault counter is
deterministic: with --fault KIND:5 and -n 20, requests 5, 10, 15, 20 (by
arrival) are faulty. A failed request is sent again, so the server sees
24 requests for 20 responses and 4 errors of the fault's class."""
from harness import Serve, barrage, check, eq

N = 20


def expect(r, responses, **errors):
    """r counted exactly `responses` responses (None: not checked) and the
    given errors by class (connect, read, write, timeout, parse, non2xx);
    every other class 0."""
    if responses is not None:
        eq(r.requests, responses, "responses")
    got = dict(connect=r.connect, read=r.read, write=r.write, timeout=r.timeout,
               parse=r.parse, non2xx=r.non2xx)
    eq(got, {k: errors.get(k, 0) for k in got}, "error counts")


def run_fault(kind, *extra, **errors):
    """-n N against --fault KIND:5 on one connection: the run exits 0 with N
    responses and the given errors (see expect). Returns the run and the
    server's counts."""
    with Serve("--fault", f"{kind}:5") as s:
        r = barrage("-t", "1", "-c", "1", "-n", N, *extra, s.url, timeout=30)
        counts = s.stop()
    eq(r.rc, 0, f"exit code ({r})")
    expect(r, N, **errors)
    return r, counts


def test_reset_mid_response_is_a_read_error():
    _, c = run_fault("reset", read=4)
    eq((c["requests"], c["faults"]), (24, 4), "server saw 24 requests, 4 reset")


def test_drop_without_answer_is_a_read_error():
    _, c = run_fault("drop", read=4)
    eq(c["faults"], 4, "faults injected")


def test_hang_is_a_timeout_and_the_run_goes_on():
    r, _ = run_fault("hang", "--timeout", "200ms", timeout=4)
    check(0.7 < r.elapsed < 3.0, f"4 timeouts of 200 ms: run took {r.elapsed:.2f}s")


def test_malformed_status_line_is_a_parse_error():
    run_fault("malformed", parse=4)


def test_bad_chunk_size_is_a_parse_error():
    run_fault("badchunk", parse=4)


def test_short_body_then_close_is_a_read_error():
    run_fault("shortbody", read=4)


def test_long_body_garbage_is_a_parse_error():
    # the response itself is complete and counts; the bytes after it do not belong to any request
    _, c = run_fault("longbody", parse=4)
    eq(c["requests"], 20, "nothing had to be re-sent")


def test_unsolicited_extra_response_is_a_parse_error():
    run_fault("extra", parse=4)


def test_100_continue_is_skipped():
    _, c = run_fault("continue")
    eq((c["requests"], c["faults"]), (20, 4), "server counts")


def test_status_500_counted_as_non2xx_response():
    run_fault("status500", non2xx=4)


def test_big_header_is_parsed():
    run_fault("bigheader")


def test_close_after_reconnects_without_errors():
    with Serve("--close-after", "5") as s:
        r = barrage("-t", "1", "-c", "1", "-n", N, s.url)
        c = s.stop()
    expect(r, N)
    # one probe connection at start (as wrk does), then a new one every 5 requests, none after the last
    eq(c["connections"], 1 + 4, "connections")


def test_delay_shows_in_latency_and_run_ends_on_time():
    with Serve("--delay", "100ms") as s:
        r = barrage("-t", "2", "-c", "4", "-d", "2s", "--latency", s.url)
    eq(r.rc, 0, f"exit ({r})")
    check(1.9 < r.elapsed < 3.5, f"2 s run took {r.elapsed:.2f}s")
    p50 = r.percentiles[50]
    check(0.099 <= p50 < 0.150, f"p50 {p50 * 1000:.1f} ms for a 100 ms delay")
    # 4 connections x 2 s / 100 ms = 80 responses at most, less the ones in flight at the end;
    # a loaded 2-core machine (the suites run side by side) loses turns; a doubled delay would give
    # 40 at most (and the p50 above catches it)
    check(45 <= r.requests <= 80, f"responses: {r.requests}")
    expect(r, None)


def test_trickle_one_byte_at_a_time():
    with Serve("--trickle", "1ms") as s:
        r = barrage("-t", "1", "-c", "2", "-n", "6", "--latency", s.url, timeout=30)
    expect(r, 6)
    check(r.percentiles[50] > 0.03, f"a trickled response takes a while: p50={r.percentiles[50]}")


def test_chunked_large_bodies():
    with Serve("--chunked", "--body-size", "1m") as s:
        r = barrage("-t", "1", "-c", "4", "-n", "50", s.url, timeout=30)
    expect(r, 50)
    check(" 50.0" in r.out.split(" read")[0], f"about 50 MB read: {r.out}")


def test_server_killed_midway_counts_and_does_not_hang():
    s = Serve()
    s.__enter__()
    import subprocess
    import threading
    import time
    threading.Timer(0.7, s.proc.kill).start()
    t0 = time.time()
    r = barrage("-t", "2", "-c", "4", "-d", "2s", s.url, timeout=20)
    s.stop()
    eq(r.rc, 0, f"exit ({r})")
    check(time.time() - t0 < 4, "run ended on time")
    check(r.requests > 0, "responses before the kill were counted")
    check(r.connect > 0, f"reconnects were refused and counted: {r.out}")
    _ = subprocess
