"""Watching a run live: --metrics scraped by a real Prometheus, --metrics-push
to a real Pushgateway, --stream NDJSON and InfluxDB lines read while the run
goes on. Every peer runs on 127.0.0.1; counts are checked against the run's
--json result."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from harness import BARRAGE, Fail, Serve, barrage, check, eq, free_port, need_peer, no_sanitizer_report

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
PUSHGATEWAY = "/usr/bin/prometheus-pushgateway"




def http_get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def wait_ready(url, proc, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise Fail(f"{url}: the process exited with {proc.returncode}")
        try:
            if http_get(url, 0.5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise Fail(f"{url} not ready after {timeout}s")


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_barrage(*args):
    """barrage in the background; returns (proc, json path's dir)."""
    return subprocess.Popen([BARRAGE] + [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=30):
    out, err = proc.communicate(timeout=timeout)
    no_sanitizer_report(err, "barrage")
    return proc.returncode, out, err


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? '
                    r'(-?[0-9.e+]+|\+Inf|NaN)$')


def parse_exposition(text):
    """Strict parse of the text format: {(name, frozenset(labels)): value}.
    Every line is a comment (# HELP/# TYPE) or a sample; a family's samples
    follow its # TYPE."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            check(typ in ("counter", "gauge", "histogram"), f"type {typ}")
            types[name] = typ
            continue
        m = SAMPLE.match(line)
        check(m, f"not a sample line: {line!r}")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        base = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        check(base in types or name in types, f"{name} has no # TYPE before it")
        lab = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels))
        check((name, lab) not in samples, f"duplicate sample {line!r}")
        samples[(name, lab)] = float(value)
    return samples


def value(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    check(key in samples, f"no sample {name}{labels}")
    return samples[key]


def check_histogram(samples, name, count, **labels):
    """Cumulative buckets, +Inf == _count == count."""
    bk = sorted((float(dict(lab)["le"]), v) for (n, lab), v in samples.items()
                if n == name + "_bucket" and all(dict(lab).get(k) == v2 for k, v2 in labels.items()))
    check(len(bk) == 17, f"{name}: {len(bk)} buckets")
    check(all(a[1] <= b[1] for a, b in zip(bk, bk[1:])), f"{name}: buckets not cumulative: {bk}")
    eq(bk[-1], (float("inf"), count), f"{name} +Inf bucket")
    eq(value(samples, name + "_count", **labels), count, f"{name}_count")
    return bk


SCRIPT = """
function user(u)
  local r = u:get("/", {name = "home"})
  check(r.status == 200, "home ok")
  u:get("/api/items", {name = "items"})  -- 401: not logged in
end
"""


def write_script(tmp):
    path = os.path.join(tmp, "s.lua")
    with open(path, "w") as f:
        f.write(SCRIPT)
    return path


def test_metrics_endpoint_while_running():
    """/metrics mid-run: valid for promtool, counters consistent within one
    scrape (per name too), 404 elsewhere; the bound port printed on one
    stderr line."""
    if not need_peer(PROMTOOL, "prometheus"):
        return
    with Serve("--fault", "status500:10", "--delay", "1ms") as s, tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.json")
        p = start_barrage("-t", "1", "-c", "4", "-d", "3s", "--metrics", "0", "--json", path,
                          "-s", write_script(tmp), s.url)
        try:
            line = p.stderr.readline()
            m = re.match(r"barrage: metrics on (http://127\.0\.0\.1:(\d+)/metrics)\n$", line)
            check(m, f"first stderr line: {line!r}")
            url = m.group(1)
            text, deadline = "", time.time() + 10
            while "\nbarrage_vus 4\n" not in text and time.time() < deadline:  # after the first second
                time.sleep(0.1)
                status, ctype, text = http_get(url)
                eq(status, 200, "GET /metrics")
            check(p.poll() is None, "scraped while running")
            eq(ctype, "text/plain; version=0.0.4; charset=utf-8", "content type")
            try:
                http_get(url.replace("/metrics", "/nothing"))
                raise Fail("/nothing answered 200")
            except urllib.error.HTTPError as e:
                eq(e.code, 404, "/nothing")
        finally:
            rc, out, err = finish(p)
        eq(rc, 0, err)
        lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=10)
        eq((lint.returncode, lint.stdout + lint.stderr), (0, ""), "promtool check metrics")
        sm = parse_exposition(text)
        reqs = value(sm, "barrage_http_reqs_total")
        check(reqs > 0, "requests counted mid-run")
        codes = {dict(lab)["code"]: v for (n, lab), v in sm.items() if n == "barrage_http_responses_total"}
        eq(sum(codes.values()), reqs, "responses by code add up to the requests")
        check(codes.get("500", 0) > 0 and codes.get("401", 0) > 0, f"500s and 401s counted: {codes}")
        bad = codes["500"] + codes["401"]
        eq(value(sm, "barrage_http_req_failed_total"), bad, "failed = the 500s and 401s")
        eq(value(sm, "barrage_http_req_errors_total", **{"class": "status"}), bad, "status errors")
        by_name = {dict(lab)["name"]: v for (n, lab), v in sm.items() if n == "barrage_http_reqs_by_name_total"}
        eq(set(by_name), {"home", "items"}, "names mid-run")
        eq(sum(by_name.values()), reqs, "every request has a name")
        eq(sm[("barrage_http_req_failed_by_name_total", frozenset({("name", "items")}))], by_name["items"], "every 401 failed")
        check(not any(n.startswith("barrage_http_req_duration_by_name") for n, _ in sm), "per-name latency: final only")
        check_histogram(sm, "barrage_http_req_duration_seconds", reqs)
        eq(value(sm, "barrage_running"), 1, "running")
        eq(value(sm, "barrage_vus"), 4, "open connections")
        with open(path) as f:
            d = json.load(f)
        check(reqs < d["summary"]["requests"], f"mid-run {reqs} below the final {d['summary']['requests']}")


def test_prometheus_scrapes_a_run():
    """A real Prometheus scrapes --metrics every second during a 6 s run; its
    last samples agree with the JSON result."""
    if not need_peer(PROMETHEUS, "prometheus"):
        return
    mport, pport = free_port(), free_port()
    with Serve("--fault", "status500:10", "--delay", "2ms") as s, tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "prom.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
                    f"scrape_configs:\n  - job_name: barrage\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{mport}']\n")
        prom = subprocess.Popen([PROMETHEUS, f"--config.file={tmp}/prom.yml", f"--storage.tsdb.path={tmp}/data",
                                 f"--web.listen-address=127.0.0.1:{pport}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        api = f"http://127.0.0.1:{pport}"
        try:
            wait_ready(api + "/-/ready", prom)
            # Prometheus applies new targets up to 5 s after it starts: wait
            # for its first (failed) scrape so the run's 6 s are all scraped
            deadline = time.time() + 15
            while time.time() < deadline:
                t = json.loads(http_get(api + "/api/v1/targets")[2])["data"]["activeTargets"]
                if t and not t[0]["lastScrape"].startswith("0001"):
                    break
                time.sleep(0.1)
            else:
                raise Fail("Prometheus never scraped its target")
            path = os.path.join(tmp, "r.json")
            p = start_barrage("-t", "1", "-c", "4", "-d", "6s", "--metrics", f"127.0.0.1:{mport}",
                              "--json", path, s.url)
            rc, out, err = finish(p)
            end = time.time()
            eq(rc, 0, err)
            with open(path) as f:
                d = json.load(f)

            def query(q):
                url = f"{api}/api/v1/query?" + urllib.parse.urlencode({"query": q, "time": f"{end:.3f}"})
                res = json.loads(http_get(url)[2])
                eq(res["status"], "success", q)
                return res["data"]["result"]

            # raw samples of the last 20 s (range vectors skip the staleness
            # marker written when the target went away)
            def samples(q):
                r = query(q + "[20s]")
                check(len(r) == 1, f"{q}: {r}")
                return {float(t): float(v) for t, v in r[0]["values"]}

            reqs = samples("barrage_http_reqs_total")
            check(len(reqs) >= 4, f"at least 4 scrapes in 6 s: {sorted(reqs)}")
            last_t = max(reqs)
            last = reqs[last_t]
            total = d["summary"]["requests"]
            # The last scrape trails the end by up to the scrape interval (1 s),
            # the body it read by up to one render (1 s), and the totals in it by
            # the second a worker is still filling (1 s): at most the requests
            # of the run's last 3 seconds are missing, never any extra.
            tol = sum(pt["requests"] for pt in d["series"][-4:])
            check(total - tol <= last <= total, f"last scrape {last}, final {total}, tolerance {tol}")
            check(all(a <= b for a, b in zip([reqs[t] for t in sorted(reqs)], [reqs[t] for t in sorted(reqs)][1:])),
                  "the counter never decreases")
            # per scrape: the 200s and 500s add up, failed = 500s = status errors
            ok = samples('barrage_http_responses_total{code="200"}')
            bad = samples('barrage_http_responses_total{code="500"}')
            failed = samples("barrage_http_req_failed_total")
            status_err = samples('barrage_http_req_errors_total{class="status"}')
            for t, v in reqs.items():
                eq(ok.get(t, 0) + bad.get(t, 0), v, f"200s + 500s at {t}")
                eq(failed[t], bad.get(t, 0), f"failed at {t}")
                eq(status_err[t], bad.get(t, 0), f"status errors at {t}")
            eq(d["summary"]["status"].get("500", 0) >= bad[last_t], True, "500s never above the final")
            # every 10th request the server saw is a 500; at most the 4 in flight differ
            check(abs(bad[last_t] - last / 10) <= 5, f"every 10th is a 500: {bad[last_t]} of {last}")
            # quantiles: Prometheus interpolates inside the bucket that holds the
            # run's median (2 ms delay: the (0.001, 0.0025] or (0.0025, 0.005] bucket)
            q = query(f"histogram_quantile(0.5, max_over_time(barrage_http_req_duration_seconds_bucket[20s]))")
            est = float(q[0]["value"][1])
            p50 = d["latency"]["percentiles"]["50"] / 1e6
            bounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1]
            lo = max([b for b in bounds if b < p50], default=0)
            hi = min(b for b in bounds if b >= p50)
            check(lo <= est <= hi, f"Prometheus p50 {est} outside the bucket ({lo}, {hi}] of the run's p50 {p50}")
            up = query("max_over_time(up[20s])")
            eq(float(up[0]["value"][1]), 1, "the target was up")
        finally:
            stop(prom)


def gateway_samples(url):
    _, _, text = http_get(url + "/metrics")
    out = {}
    for line in text.splitlines():
        if line.startswith("barrage_"):
            m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            out.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return out


def one(gw, metric, **labels):
    hits = [v for lab, v in gw.get(metric, []) if all(lab.get(k) == v2 for k, v2 in labels.items())]
    check(len(hits) == 1, f"{metric}{labels}: {hits}")
    return hits[0]




def test_pushgateway_gets_the_final_counters():
    """--metrics-push: after a 1 s run the gateway holds barrage's final
    counters, equal to the JSON result; per name and checks too."""
    if not need_peer(PUSHGATEWAY, "prometheus-pushgateway"):
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        gw = subprocess.Popen([PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}",
                               "--persistence.file="],  # Debian's default file is shared
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url + "/-/ready", gw)
            script = write_script(tmp)
            with Serve("--fault", "status500:7") as s:
                r = barrage("-t", "1", "-c", "3", "-d", "1s", "-s", script, "--metrics-push", url, s.url)
            eq(r.rc, 0, f"{r}")
            check("warning" not in r.err, r.err)
            d = r.json
            g = gateway_samples(url)
            job = {"job": "barrage"}
            sm = d["summary"]
            eq(one(g, "barrage_http_reqs_total", **job), sm["requests"], "requests")
            eq(one(g, "barrage_http_req_failed_total", **job), sm["failed"], "failed")
            eq(one(g, "barrage_http_req_attempts_total", **job), sm["attempts"], "attempts")
            for cls, n in sm["errors"].items():
                eq(one(g, "barrage_http_req_errors_total", **job, **{"class": cls}), n, f"{cls} errors")
            for code, n in sm["status"].items():
                eq(one(g, "barrage_http_responses_total", **job, code=code), n, f"status {code}")
            eq(len(g["barrage_http_responses_total"]), len(sm["status"]), "no other status")
            eq(one(g, "barrage_http_req_duration_seconds_count", **job), d["latency"]["count"], "latency count")
            eq(one(g, "barrage_http_req_duration_seconds_sum", **job), d["latency"]["histogram"]["sum"] / 1e6,
               "latency sum")
            # the buckets below 10 ms are exact: recount them from the JSON's histogram
            for le in (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01):
                want = sum(c for i, c in d["latency"]["histogram"]["buckets"] if bucket_highest(i) < le * 1e6)
                eq(one(g, "barrage_http_req_duration_seconds_bucket", **job, le=f"{le:g}"), want, f"le={le}")
            eq(one(g, "barrage_data_received_bytes_total", **job), sm["bytes"], "bytes")
            eq(one(g, "barrage_connections_opened_total", **job), sm["connects"], "connections")
            eq(one(g, "barrage_running", **job), 0, "the final state")
            names = {n["name"]: n for n in d["names"]}
            eq(set(names), {"home", "items"}, "names")
            for n, st in names.items():
                eq(one(g, "barrage_http_reqs_by_name_total", **job, name=n), st["requests"], f"{n} requests")
                eq(one(g, "barrage_http_req_failed_by_name_total", **job, name=n), st["failures"], f"{n} failures")
                eq(one(g, "barrage_http_req_duration_by_name_seconds_count", **job, name=n), st["latency"]["count"],
                   f"{n} latency count")
            c = d["checks"][0]
            eq(one(g, "barrage_checks_total", **job, check="home ok", result="pass"), c["pass"], "check passes")
            eq(one(g, "barrage_checks_total", **job, check="home ok", result="fail"), c["fail"], "check fails")
            check(c["fail"] > 0 and c["pass"] > 0, f"the 500s fail the check: {c}")
            eq(names["items"]["failures"], names["items"]["requests"], "every 401 failed")
            # a shard pushes under its own instance
            with Serve() as s:
                r = barrage("-t", "1", "-c", "2", "-n", "50", "--shard", "1/2", "--metrics-push", url + "/", s.url)
            eq(r.rc, 0, f"{r}")
            g = gateway_samples(url)
            eq(one(g, "barrage_http_reqs_total", job="barrage", instance="shard-1"), 25, "shard 1's requests")
        finally:
            stop(gw)


def bucket_highest(i):
    """hist_highest of stats.c's loglinear-11-40 layout."""
    sub, half = 2048, 1024
    if i < sub:
        return i
    s = i // half - 1
    return ((i - s * half) << s) + (1 << s) - 1


def test_pushgateway_unreachable_is_a_warning():
    port = free_port()  # nothing listens there
    with Serve() as s:
        r = barrage("-t", "1", "-c", "1", "-n", "20", "--metrics-push", f"http://127.0.0.1:{port}", s.url)
    eq(r.rc, 0, f"{r}")
    lines = [ln for ln in r.err.splitlines() if "metrics-push" in ln]
    eq(len(lines), 1, r.err)
    check(lines[0].startswith("barrage: warning: --metrics-push: cannot connect to the Pushgateway at 127.0.0.1:"),
          lines[0])
    eq(r.requests, 20, "the run itself")


def test_stream_ndjson_flushed_each_second():
    """--stream FILE: one line per finished second, there while the run goes
    on; at the end the lines are the JSON result's series, point for point."""
    with Serve("--delay", "1ms") as s, tempfile.TemporaryDirectory() as tmp:
        path, stream = os.path.join(tmp, "r.json"), os.path.join(tmp, "s.ndjson")
        p = start_barrage("-t", "1", "-c", "2", "-d", "3s", "--stream", stream, "--json", path, s.url)
        try:
            mid, running = "", False
            deadline = time.time() + 10
            while not mid and time.time() < deadline:  # second 0 ends about 1 s in
                time.sleep(0.05)
                with open(stream) as f:
                    mid = f.read()
                running = p.poll() is None  # after the read: the line came first
        finally:
            rc, out, err = finish(p)
        eq(rc, 0, err)
        check(running, "a line was there while the run went on")
        check(mid.endswith("\n"), f"whole lines only mid-run: {mid!r}")
        mid_lines = mid.splitlines()
        with open(stream) as f:
            lines = [json.loads(ln) for ln in f.read().splitlines()]
        with open(path) as f:
            d = json.load(f)
        eq(lines, d["series"], "stream lines = the JSON series")
        check(len(mid_lines) < len(lines), f"{len(mid_lines)} of {len(lines)} lines mid-run")
        eq([json.loads(ln) for ln in mid_lines], d["series"][:len(mid_lines)], "written mid-run = final")
        eq([pt["t"] for pt in lines], list(range(len(lines))), "one line per second")
        eq([pt["unix_ms"] - lines[0]["unix_ms"] for pt in lines], [1000 * i for i in range(len(lines))], "timestamps")
        eq(lines[0]["unix_ms"], d["start_unix_ms"], "second 0 starts at the start")
        check("Requests/sec" in out, "the report on stdout")


INFLUX = re.compile(r"^([a-z_]+)((?:,[a-z_]+=[A-Za-z0-9_.-]+)*) ((?:[a-z0-9_]+=(?:-?\d+i|-?[\d.]+(?:e-?\d+)?),?)+) (\d{19})$")


def test_stream_influx_to_stdout():
    """--stream - --stream-format influx: line protocol on stdout, the report
    on stderr; http_reqs by status add up to the JSON's counts."""
    with Serve("--fault", "status500:5") as s, tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.json")
        r = barrage("-t", "1", "-c", "2", "-d", "2s", "--stream", "-", "--stream-format", "influx",
                    "--json", path, s.url)
    eq(r.rc, 0, f"{r}")
    check("Requests/sec" in r.err and "Requests/sec" not in r.out, "the report went to stderr")
    d = r.json
    by = {}
    times = set()
    for line in r.out.splitlines():
        m = INFLUX.match(line)
        check(m, f"not line protocol: {line!r}")
        meas, tags, fields, ts = m.groups()
        times.add(int(ts))
        f = dict(kv.split("=") for kv in fields.split(","))
        t = dict(kv.split("=") for kv in tags.strip(",").split(",")) if tags else {}
        by.setdefault(meas, []).append((t, f, int(ts)))
    eq(sorted(times), [(d["start_unix_ms"] + 1000 * i) * 1000000 for i in range(len(d["series"]))], "timestamps")
    for code, n in d["summary"]["status"].items():
        eq(sum(int(f["value"][:-1]) for t, f, _ in by["http_reqs"] if t["status"] == code), n, f"status {code}")
    eq(sum(int(f["value"][:-1]) for _, f, _ in by["http_req_failed"]), d["summary"]["failed"], "failed")
    eq(sum(int(f["status"][:-1]) for _, f, _ in by["barrage_errors"]), d["summary"]["errors"]["status"], "errors")
    eq([float(f["p99"]) for _, f, _ in by["http_req_duration"]], [pt["p99"] / 1000 for pt in d["series"]], "p99 in ms")
    eq([int(f["value"][:-1]) for _, f, _ in by["vus"]], [pt["active"] for pt in d["series"]], "vus")


def test_live_options_bad_input():
    """One line, exit code 2, before the run starts."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with Serve() as s:
            cases = [
                (["--metrics", str(port)], f"--metrics: cannot listen on {port}: Address already in use"),
                (["--metrics", "localhost"], "--metrics: 'localhost' is not [ADDR:]PORT"),
                (["--metrics-push", "https://127.0.0.1:9091"], "--metrics-push: 'https://127.0.0.1:9091': only plain http://"),
                (["--metrics-push", "gateway:9091"], "--metrics-push: invalid URL 'gateway:9091'"),
                (["--stream", "-", "--json", "-"], "--stream - and --json - both want stdout"),
                (["--stream-format", "csv"], "--stream-format: 'csv' is not a format"),
                (["--stream", "/nonexistent/dir/s.ndjson"], "--stream: cannot open '/nonexistent/dir/s.ndjson'"),
            ]
            for args, msg in cases:
                p = subprocess.run([BARRAGE, "-d", "1s"] + args + [s.url], capture_output=True, text=True, timeout=10)
                no_sanitizer_report(p.stderr, " ".join(args))
                eq(p.returncode, 2, f"{args}: {p.stderr}")
                eq(len(p.stderr.splitlines()), 1, f"{args}: one line: {p.stderr!r}")
                check(p.stderr.startswith("barrage: " + msg), f"{args}: {p.stderr!r}")
                eq(p.stdout, "", f"{args}: nothing ran")


def test_metrics_beyond_loopback_warns():
    """An explicit wildcard address works, with one warning line (the test's
    traffic stays on loopback)."""
    with Serve() as s:
        r = barrage("-t", "1", "-c", "1", "-n", "20", "--metrics", "0.0.0.0:0", s.url)
    eq(r.rc, 0, f"{r}")
    lines = r.err.splitlines()
    check(re.match(r"barrage: metrics on http://0\.0\.0\.0:\d+/metrics$", lines[0]), r.err)
    eq(lines[1], "barrage: warning: --metrics listens beyond this machine: anyone who reaches the port sees the run",
       "the warning")
    eq(r.requests, 20, "the run")


def test_abort_on_fail_sees_names_during_the_run():
    """The seconds now carry per-name counts, so --abort-on-fail stops on a
    broken per-name count gate within about a second, not at the end."""
    with Serve() as s, tempfile.TemporaryDirectory() as tmp:
        r = barrage("-t", "1", "-c", "2", "-d", "10s", "-s", write_script(tmp), "--threshold", "items:failed==0",
                    "--abort-on-fail", s.url)
    eq(r.rc, 99, f"{r}")
    check("--abort-on-fail: a threshold can no longer pass" in r.err, r.err)
    check(r.json["duration_s"] < 5, f"stopped early: {r.json['duration_s']} s")
    items = [n for n in r.json["names"] if n["name"] == "items"][0]
    check(items["failures"] > 0, f"{items}")
