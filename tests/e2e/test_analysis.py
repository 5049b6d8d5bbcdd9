"""Answers, not just numbers: the breaking point of a ramp, the recovery
after a spike and the drift of a soak, each found on a synthetic server
whose answer is known (`barrage serve --capacity`, a drifting server here).

`--capacity RPS:SERVICE:QUEUE[:RECOVER]` answers c closed-loop connections
with min(c / SERVICE, RPS) responses/s: the knee is at RPS x SERVICE
connections, p95 doubles at twice that, and failures (503) begin at
RPS x (SERVICE + QUEUE). The stated tolerances are the ramp's resolution
(connections added per second) plus the noise of one-second samples."""
import http.server
import json
import os
import re
import socketserver
import tempfile
import threading
import time

import schema
from harness import Serve, barrage, check, eq

SCHEMA = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "src", "result", "result.schema.json")))

RAMP = "12s:120"          # 10 connections a second
CAP = "1000:30ms:60ms"    # knee at 30, p95 x2 at 60, failures from 90 connections


def between(v, lo, hi, what, res):
    check(v is not None and lo <= v <= hi, f"{what}: {v} not within [{lo}, {hi}]\n{res.out}")


def run_concurrently(*fns):
    """Run fns in threads (the runs are waiting-bound); return their results."""
    out = [None] * len(fns)
    errs = []

    def go(i, fn):
        try:
            out[i] = fn()
        except Exception as e:  # noqa: BLE001 - re-raised below
            errs.append(e)
    ts = [threading.Thread(target=go, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise errs[0]
    return out


HTML = os.path.join(tempfile.mkdtemp(prefix="barrage-analysis-"), "ramp.html")


def ramp_run():
    with Serve("--capacity", CAP) as s:
        return barrage("-t", "1", "--stages", RAMP, "--html", HTML, s.url + "/", timeout=60)


def spike_run():
    # open loop (-R stages: the offered rate does not fall when the server slows): 500 requests/s
    # (half the capacity), a spike to 3000/s (503s: the queue is full), back to 500/s; the server
    # stays slow (4 x 30 ms more) for 3 s after its last 503
    with Serve("--capacity", CAP + ":3s") as s:
        return barrage("-t", "1", "-c", "400", "-R", "1", "--stages", "2s:500,1s:500,1s:3000,1s:3000,1s:500,7s:500",
                       s.url + "/", timeout=60)


def test_breaking_point_spike_recovery_and_soak_drift():
    drift = drifting_server(3.0)   # 5 ms at the start, ~70 ms after 22 s
    try:
        # the flat server answers in 20 ms: the scheduling noise of four runs sharing two cores
        # (1-2 ms, more under ASan) is then well inside the 20% a soak verdict allows
        with Serve("--delay", "20ms") as flat:
            ramp, spike, up, steady = run_concurrently(
                ramp_run, spike_run,
                lambda: barrage("-t", "1", "-c", "2", "-d", "22s", f"http://127.0.0.1:{drift.server_port}/",
                                timeout=60),
                lambda: barrage("-t", "1", "-c", "2", "-d", "22s", flat.url + "/", timeout=60))
    finally:
        drift.shutdown()
    for r in (ramp, spike, up, steady):
        eq(r.rc, 0, "exit code")
        eq(schema.errors(r.json, SCHEMA), [], "schema violations")
    a = ramp.json["analysis"]["ramp"]
    check(a and a["enough_data"], f"no ramp analysis: {ramp.json['analysis']}")
    eq(ramp.json["analysis"]["latency_percentile"], 95, "the analysis reads each second's p95")
    eq(a["max_load"], 120, "max load")
    # knee: the plateau (1000 ok req/s) meets the baseline line at 30 connections
    between(a["plateau_rps"], 900, 1050, "plateau", ramp)
    between(a["knee"]["load"], 24, 36, "knee load", ramp)
    # latency: p95 = c / 1000 s beyond the knee, twice the 30 ms baseline at 60
    between(a["baseline_latency_us"], 29000, 36000, "baseline p95", ramp)
    between(a["latency"]["load"], 50, 75, "latency load", ramp)
    check(a["latency"]["after"] > 2 * a["latency"]["before"], f"latency evidence {a['latency']}")
    # failures: a wait over 60 ms beyond the service time is a 503: from 90 connections
    between(a["failures"]["load"], 80, 105, "failures load", ramp)
    check(a["failures"]["after"] > 0.01 >= a["failures"]["before"], f"failure evidence {a['failures']}")
    check(a["knee"]["second"] < a["latency"]["second"] < a["failures"]["second"], f"order {a}")
    # the findings are marked on the HTML page's time charts, at the seconds the JSON gives
    with open(HTML) as f:
        page = f.read()
    want = ",".join(f"{k}:{a[k]['second']}" for k in ("knee", "latency", "failures"))
    m = re.search(r'<svg[^>]*id="rps-chart"[^>]*data-findings="([^"]*)"', page)
    eq(m.group(1) if m else None, want, "the rps chart's marks")
    check(page.count('class="finding" data-finding="knee"') >= 3, "the knee on every time chart")
    # the same answers from the result file (barrage report; a merge's result too)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ramp.json")
        with open(path, "w") as f:
            json.dump(ramp.json, f)
        again = barrage("report", path, "--json", os.path.join(d, "again.json"))
        eq(again.rc, 0, f"barrage report: {again.err}")
        with open(os.path.join(d, "again.json")) as f:
            eq(json.load(f)["analysis"], ramp.json["analysis"], "the analysis of the result read back")
    tail = lambda out: out[out.index("Analysis:"):].split("\nThresholds")[0]  # noqa: E731
    eq(tail(again.out), tail(ramp.out), "the report's Analysis lines")
    for line in ("Breaking point (load rising to 120 connections)", "knee      throughput stops growing at about",
                 "latency   p95 above 2x its baseline", "failures  above 1%"):
        check(line in ramp.out, f"report lacks {line!r}:\n{ramp.out}")

    sp = spike.json["analysis"]["spike"]
    check(sp and sp["enough_data"], f"no spike analysis: {spike.json['analysis']}")
    eq((sp["start_s"], sp["end_s"], sp["load"], sp["base_load"]), (3, 6, 3000, 500), "spike window")
    eq(spike.json["analysis"]["load_unit"], "req/s", "rate stages: the load is the target rate")
    check(sp["worst_failed_rate"] > 0.1 and sp["pre_failed_rate"] == 0, f"spike failures {sp}")
    check(sp["worst_latency_us"] > 3 * sp["pre_latency_us"], f"spike latency {sp}")
    # the offered rate falls below the capacity (1000/s) at 5.8 s: the last 503 comes then (its
    # queue drains in 90 ms), then 3 s slow: recovered 2..4 s after the load is back down at 6 s
    check(sp["recovered"], f"not recovered: {sp}\n{[(p['t'], p['p95'], p['failed']) for p in spike.json['series']]}")
    between(sp["recovery_s"], 2, 4, "recovery time", spike)
    check("recovered" in spike.out and "after the spike" in spike.out, spike.out)

    s = up.json["analysis"]["soak"]
    check(s is not None, f"no soak analysis: {up.json.get('analysis')}")
    check(s["latency_drift"] > 1.0, f"latency grew ~8x, drift {s}")
    check(s["ok_rps_drift"] < -0.2, f"throughput fell with latency, drift {s}")
    check("degraded" in up.out, up.out)
    f = steady.json["analysis"]["soak"]
    check(abs(f["latency_drift"]) < 0.2 and abs(f["ok_rps_drift"]) < 0.2, f"flat soak drifted: {f}")
    check(": stable" in steady.out, steady.out)


class Drifting(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def drifting_server(ms_per_s):
    """A keep-alive server whose latency grows by ms_per_s each second."""
    t0 = time.monotonic()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - the stdlib's name
            time.sleep((5 + ms_per_s * (time.monotonic() - t0)) / 1000)
            # one write: a head and a body in two would meet Nagle and delayed ACKs
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")

        def log_message(self, *a):
            pass
    srv = Drifting(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_too_short_runs_say_not_enough_data_and_plain_runs_say_nothing():
    with Serve() as s:
        short = barrage("-t", "1", "-c", "2", "--stages", "2s:4", s.url + "/")
        plain = barrage("-t", "1", "-c", "2", "-d", "1s", s.url + "/")
    eq(short.rc, 0, "exit code")
    check("not enough data" in short.out, short.out)
    eq(short.json["analysis"]["ramp"]["enough_data"], False, "enough_data")
    check("Analysis:" not in plain.out and "analysis" not in plain.json, plain.out)


def test_capacity_usage_errors():
    for bad in ("x", "1000", "0:10ms", "1000:0ms", "1000:10ms:zz", "1000:1:2:3:4"):
        r = barrage("serve", "--capacity", bad)
        eq(r.rc, 2, f"--capacity {bad}")
        check(r.err.count("\n") == 1 and "--capacity" in r.err, r.err)
