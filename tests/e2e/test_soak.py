"""Soak drift: the first vs the last 10% of a long run's seconds, on a
server whose latency grows by a known amount each second, and on a flat one
(src/result/analysis.h has the method)."""
import http.server
import socketserver
import threading
import time

from harness import Serve, barrage, check
from test_analysis import run_concurrently


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


def test_soak_drift_is_found_and_a_flat_soak_is_stable():
    drift = drifting_server(3.0)   # 5 ms at the start, ~70 ms after 22 s
    try:
        with Serve("--delay", "5ms") as flat:
            up, steady = run_concurrently(
                lambda: barrage("-t", "1", "-c", "2", "-d", "22s", f"http://127.0.0.1:{drift.server_port}/",
                                timeout=60),
                lambda: barrage("-t", "1", "-c", "2", "-d", "22s", flat.url + "/", timeout=60))
    finally:
        drift.shutdown()
    s = up.json["analysis"]["soak"]
    check(s is not None, f"no soak analysis: {up.json.get('analysis')}")
    check(s["p90_drift"] > 1.0, f"latency grew ~8x, drift {s}")
    check(s["ok_rps_drift"] < -0.2, f"throughput fell with latency, drift {s}")
    check("degraded" in up.out, up.out)
    f = steady.json["analysis"]["soak"]
    check(abs(f["p90_drift"]) < 0.2 and abs(f["ok_rps_drift"]) < 0.2, f"flat soak drifted: {f}")
    check(": stable" in steady.out, steady.out)


