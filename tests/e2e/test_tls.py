"""HTTPS against nginx with certificates made by the harness (openssl):
verification, --insecure, mutual TLS, session resumption, --no-keepalive
handshake counts, scripts over TLS."""
import collections
import os
import re
import tempfile
import time

from harness import Nginx, barrage, check, eq


def tls_line(r):
    m = re.search(r"TLS\s+(\S+) (\S+), (\d+) handshakes \((\d+) resumed\)", r.out)
    check(m, f"TLS line in the report: {r.out}")
    return m.group(1), m.group(2), int(m.group(3)), int(m.group(4))


def test_verified_keepalive_run():
    with Nginx(tls=True) as n:
        r = barrage("-t", "2", "-c", "4", "-n", "400", "--cacert", f"{n.pki}/ca.crt", f"{n.tls_url}/health")
        eq(r.rc, 0, f"{r}")
        eq(r.requests, 400, "responses")
        eq((r.connect, r.read, r.write, r.timeout, r.parse, r.non2xx), (0, 0, 0, 0, 0, 0), "no errors")
        version, cipher, handshakes, _ = tls_line(r)
        eq(version, "TLSv1.3", "negotiated version")
        eq(handshakes, 4, "one handshake per connection with keep-alive")
        check(re.search(r"Connect\s+4 connections, p50", r.out), f"connect time line: {r.out}")
        time.sleep(0.2)
        log = n.tls_log()
        eq(len(log), 400, "nginx saw 400 requests over TLS")
        eq(len({e["connection"] for e in log}), 4, "over 4 connections")


def test_wrong_ca_fails_at_start_with_the_reason():
    with Nginx(tls=True) as n:
        r = barrage("-t", "1", "-c", "1", "-d", "2s", "--cacert", f"{n.pki}/otherca.crt", f"{n.tls_url}/health")
        eq(r.rc, 2, f"{r}")
        lines = r.err.strip().splitlines()
        eq(len(lines), 1, f"one line: {r.err}")
        check("localhost" in lines[0] and "certificate verify failed" in lines[0], lines[0])
        check("unable to get local issuer certificate" in lines[0], lines[0])
        eq(n.tls_log(), [], "no request was made")


def test_system_store_does_not_trust_a_private_ca():
    with Nginx(tls=True) as n:
        r = barrage("-t", "1", "-c", "1", "-d", "2s", f"{n.tls_url}/health")
        eq(r.rc, 2, f"{r}")
        check("certificate verify failed" in r.err, r.err)


def test_wrong_host_name_fails():
    with Nginx(tls=True) as n:
        # the certificate is for localhost, not for 127.0.0.1
        r = barrage("-t", "1", "-c", "1", "-d", "2s", "--cacert", f"{n.pki}/ca.crt",
                    f"https://127.0.0.1:{n.tls_port}/health")
        eq(r.rc, 2, f"{r}")
        check("127.0.0.1" in r.err and "IP address mismatch" in r.err, r.err)


def test_insecure_skips_verification():
    with Nginx(tls=True) as n:
        r = barrage("-t", "1", "-c", "2", "-n", "50", "-k", f"https://127.0.0.1:{n.tls_port}/health")
        eq(r.rc, 0, f"{r}")
        eq(r.requests, 50, "responses")


def test_mutual_tls_accepted_and_refused():
    with Nginx(tls=True) as n:
        base = ("-t", "1", "-c", "2", "-n", "20", "--cacert", f"{n.pki}/ca.crt")
        r = barrage(*base, "--cert", f"{n.pki}/client.crt", "--key", f"{n.pki}/client.key", f"{n.tls_url}/mtls")
        eq((r.rc, r.requests, r.non2xx), (0, 20, 0), f"accepted client certificate: {r}")
        r = barrage(*base, f"{n.tls_url}/mtls")
        eq((r.rc, r.requests, r.non2xx), (0, 20, 20), f"no client certificate: refused: {r}")
        r = barrage(*base, "--cert", f"{n.pki}/rogue.crt", "--key", f"{n.pki}/rogue.key", f"{n.tls_url}/mtls")
        eq((r.rc, r.requests, r.non2xx), (0, 20, 20), f"untrusted client certificate: refused: {r}")
        time.sleep(0.2)
        verdicts = collections.Counter(e["client_verify"] for e in n.tls_log())
        eq(verdicts["SUCCESS"], 20, f"nginx verified the good certificate: {verdicts}")
        eq(verdicts["NONE"], 20, "no certificate")
        check(any(v.startswith("FAILED") for v in verdicts), f"rogue certificate failed: {verdicts}")


def test_bad_client_key_is_a_usage_error():
    with Nginx(tls=True) as n:
        r = barrage("-n", "1", "--cacert", f"{n.pki}/ca.crt", "--cert", f"{n.pki}/client.crt",
                    "--key", f"{n.pki}/rogue.key", f"{n.tls_url}/mtls")
        eq(r.rc, 2, f"{r}")
        check("--key" in r.err and "rogue.key" in r.err, r.err)
        r = barrage("-n", "1", "--cacert", "/nonexistent/ca.pem", f"{n.tls_url}/health")
        eq(r.rc, 2, f"{r}")
        check("--cacert" in r.err and "/nonexistent/ca.pem" in r.err, r.err)


def test_no_keepalive_exact_handshakes_with_resumption():
    with Nginx(tls=True) as n:
        r = barrage("-t", "1", "-c", "1", "-n", "50", "--no-keepalive", "--cacert", f"{n.pki}/ca.crt",
                    f"{n.tls_url}/health")
        eq(r.rc, 0, f"{r}")
        eq(r.requests, 50, "responses")
        _, _, handshakes, resumed = tls_line(r)
        eq(handshakes, 50, "one handshake per request")
        eq(resumed, 49, "every reconnect resumed the previous session")
        time.sleep(0.2)
        log = n.tls_log()
        eq(len(log), 50, "requests")
        eq(len({e["connection"] for e in log}), 50, "one connection each")
        eq(collections.Counter(e["reused"] for e in log), {".": 1, "r": 49}, "nginx's $ssl_session_reused")
        eq(collections.Counter(e["sni"] for e in log), {"localhost": 50}, "SNI on every reconnect")


def test_no_tls_resume_forces_full_handshakes():
    with Nginx(tls=True) as n:
        r = barrage("-t", "2", "-c", "2", "-n", "30", "--no-keepalive", "--no-tls-resume",
                    "--cacert", f"{n.pki}/ca.crt", f"{n.tls_url}/health")
        eq(r.rc, 0, f"{r}")
        _, _, handshakes, resumed = tls_line(r)
        eq((handshakes, resumed), (30, 0), "full handshakes")
        time.sleep(0.2)
        log = n.tls_log()
        eq(collections.Counter(e["reused"] for e in log), {".": 30}, "nginx resumed none")
        eq(collections.Counter(e["sni"] for e in log), {"localhost": 30}, "SNI on every reconnect")


def test_plain_no_keepalive_counts_connections():
    with Nginx() as n:
        # one connection per thread: with two sharing a quota, both may reconnect for the last request
        r = barrage("-t", "2", "-c", "2", "-n", "40", "--no-keepalive", f"{n.url}/health")
        eq(r.requests, 40, f"{r}")
        check(re.search(r"Connect\s+40 connections", r.out), r.out)
        time.sleep(0.2)
        eq(len({e["connection"] for e in n.log()}), 40, "40 connections")


def test_plain_http_server_at_https_url():
    with Nginx() as n:
        r = barrage("-t", "1", "-c", "1", "-d", "1s", f"https://localhost:{n.port}/health")
        eq(r.rc, 2, f"{r}")
        check("TLS handshake with localhost" in r.err, r.err)


def test_scripts_and_workflows_over_tls():
    flow = """
function user(u)
   local a = u:get("/health", {name = "one"})
   check(a.status == 200, "ok")
   u:get("/x", {name = "two"})
end
"""
    with Nginx(tls=True) as n, tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "flow.lua")
        with open(path, "w") as f:
            f.write(flow)
        # one user per thread, 20 responses each: exactly 10 runs of the two-step flow
        r = barrage("-t", "2", "-c", "2", "-n", "40", "--cacert", f"{n.pki}/ca.crt", "-s", path,
                    f"{n.tls_url}/")
        eq(r.rc, 0, f"{r}")
        eq(r.requests, 40, "responses")
        check(re.search(r"^\s+ok\s+ok\s+20 passed\s+0 failed", r.out, re.M), r.out)
        time.sleep(0.2)
        eq(collections.Counter(e["uri"] for e in n.tls_log()), {"/health": 20, "/x": 20}, "paths")
