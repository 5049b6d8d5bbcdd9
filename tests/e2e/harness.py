"""Shared helpers for barrage's end-to-end tests (stdlib only).

Servers run on 127.0.0.1 only: nginx with a generated config, and
`barrage serve` with fault modes. Every process is bounded in time and
killed in a finally block."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SANITIZED = bool(os.environ.get("BARRAGE_SANITIZED"))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BARRAGE = os.path.abspath(os.environ.get("BARRAGE", os.path.join(ROOT, "barrage")))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Fail(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise Fail(f"{what}: expected {expected!r}, got {actual!r}")


def need_peer(path, package):
    """A real peer a test needs (Locust, Prometheus...): True if installed. deps/install.sh installs
    `package`; missing, it fails under CI=true, and elsewhere the test says so and does not run."""
    if os.path.exists(path):
        return True
    if os.environ.get("CI") == "true":
        raise Fail(f"{path} is missing: deps/install.sh installs {package}")
    print(f"    (no {path}: not run; deps/install.sh installs {package})")
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=5.0, host="127.0.0.1"):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise Fail(f"nothing listening on {host}:{port} after {timeout}s")


def wait_port_in(netns, host, port, timeout=5.0):
    """wait_port from inside a network namespace."""
    code = (f"import socket,time\nend=time.time()+{timeout}\n"
            f"while time.time()<end:\n"
            f"    try:\n        socket.create_connection(({host!r},{port}),0.2).close(); raise SystemExit(0)\n"
            f"    except OSError: time.sleep(0.02)\nraise SystemExit(1)\n")
    if subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", code]).returncode:
        raise Fail(f"nothing listening on {host}:{port} in {netns}")


class Result:
    """A finished barrage run. Counts come from its --json result (`doc`),
    which harness.barrage() asks for on every run; without one (a usage
    error, a crash) they are None, never a default 0. Where the text report
    prints a count too, it must agree with the JSON."""

    def __init__(self, args, rc, out, err, elapsed, doc=None):
        self.args, self.rc, self.out, self.err, self.elapsed = args, rc, out, err, elapsed
        self.json = doc
        text_requests = self._int(r"^\s*(\d+) requests in ")
        e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        text_errors = dict(zip(("connect", "read", "write", "timeout"), (int(x) for x in e.groups()))) if e else {}
        text_parse = self._int(r"Parse errors: (\d+)")
        text_status = self._int(r"Non-2xx or 3xx responses: (\d+)")
        if doc is not None:
            summ = doc["summary"]
            errs = summ["errors"]
            self.requests = summ["requests"]
            self.connect, self.read, self.write = errs["connect"], errs["read"], errs["write"]
            self.timeout, self.parse, self.non2xx = errs["timeout"], errs["parse"], errs["status"]
            for what, text, js in [("requests", text_requests, self.requests), ("parse errors", text_parse, self.parse),
                                   ("non-2xx", text_status, self.non2xx)] + \
                    [(k, v, errs[k]) for k, v in text_errors.items()]:
                if text is not None and text != js:
                    raise Fail(f"the report says {text} {what}, the JSON {js}: {' '.join(args)}\n{out}")
        else:
            self.requests = text_requests
            self.connect = self.read = self.write = self.timeout = self.parse = self.non2xx = None
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        self.rps = float(m.group(1)) if m else None
        # percentile table: seconds; with -R a second column holds the uncorrected service time
        unit = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
        self.percentiles, self.service_percentiles = {}, {}
        for p, v, u, v2, u2 in re.findall(
                r"^\s+([\d.]+)%\s+([\d.]+)(us|ms|s|m|h)(?:\s+([\d.]+)(us|ms|s|m|h))?(?:\s+[\u2580-\u259f]*)?\s*$",
                out, re.M):
            self.percentiles[float(p)] = float(v) * unit[u]
            if v2:
                self.service_percentiles[float(p)] = float(v2) * unit[u2]
        m = re.search(r"Rate\s+([\d.]+)/s asked, ([\d.]+)/s achieved", out)
        self.rate_asked, self.rate_achieved = (float(m.group(1)), float(m.group(2))) if m else (None, None)

    def _int(self, pat):
        m = re.search(pat, self.out, re.M)
        return int(m.group(1)) if m else None

    def __repr__(self):
        return f"<rc={self.rc} elapsed={self.elapsed:.2f}s\n{self.out}\n{self.err}>"


def no_sanitizer_report(err, what):
    """A run of the sanitizer build must print no ASan/UBSan/LSan report."""
    if "Sanitizer" in (err or "") or "runtime error:" in (err or ""):
        raise Fail(f"sanitizer report from {what}:\n{err}")


def _json_arg(args):
    """The FILE of a `--json FILE` among barrage's own options (before `--`)."""
    own = args[:args.index("--")] if "--" in args else args
    for i, a in enumerate(own):
        if a == "--json" and i + 1 < len(own):
            return own[i + 1]
        if a.startswith("--json="):
            return a[len("--json="):]
    return None


def barrage(*args, timeout=30, binary=None, stdin=subprocess.DEVNULL):
    """Run barrage; a benchmark run also writes its --json result (to a
    temporary file unless the test gave --json), which Result reads."""
    args = [str(a) for a in args]
    subcommand = args[:1] in (["serve"], ["merge"], ["compare"], ["report"])
    info = any(a in ("-h", "--help", "-v", "--version") for a in args)
    path, tmp = _json_arg(args), None
    if path is None and not subcommand and not info:
        fd, tmp = tempfile.mkstemp(prefix="barrage-e2e-", suffix=".json")
        os.close(fd)
        os.unlink(tmp)  # barrage creates it; absent afterwards = not written
        path, args = tmp, ["--json", tmp] + args
    cmd = [binary or BARRAGE] + args
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=stdin)
        elapsed = time.time() - t0
        no_sanitizer_report(p.stderr, " ".join(cmd))
        doc = None
        if path not in (None, "-") and not subcommand and os.path.exists(path):
            try:
                with open(path) as f:
                    doc = json.load(f)
            except (OSError, ValueError):
                doc = None
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
    return Result(cmd, p.returncode, p.stdout, p.stderr, elapsed, doc)


class Serve:
    """`barrage serve` on a free loopback port; counts printed at stop."""

    def __init__(self, *args):
        self.args = [str(a) for a in args]
        self.proc = None
        self.counts = {}

    def __enter__(self):
        self.proc = subprocess.Popen([BARRAGE, "serve", "--listen", "127.0.0.1:0"] + self.args,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line or "")
        if not m:
            self.proc.kill()
            raise Fail(f"serve did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def stop(self):
        """SIGTERM, then parse `serve: connections=C requests=R ...`."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                _, err = self.proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                _, err = self.proc.communicate()
            for k, v in re.findall(r"(\w+)=(\d+)", err or ""):
                self.counts[k] = int(v)
            no_sanitizer_report(err, "barrage serve")
            if self.proc.returncode != 0:
                raise Fail(f"barrage serve exited {self.proc.returncode}: {err}")
        return self.counts

    def __exit__(self, *exc):
        self.stop()


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 20000; }}
worker_rlimit_nofile 30000;
http {{
    log_format counts '$connection $connection_requests $request_method $uri $status $content_length $http_x_thread $http_authorization';
    access_log {access};
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000000;
    keepalive_timeout 60s;
    server {{
        listen {listen}:{port} reuseport backlog=4096;
        root {dir}/www;
        location = /health {{ default_type text/plain; return 200 "ok\\n"; }}
        location = /notfound {{ return 404; }}
        location = /error {{ return 500; }}
        location = /close {{ keepalive_timeout 0; default_type text/plain; return 200 "bye\\n"; }}
        location = /cookies {{
            add_header Set-Cookie "b=2; Path=/"; add_header Set-Cookie "a=1";
            add_header Set-Cookie "gone=x; Max-Age=0"; add_header X-Dup one; add_header X-Dup two;
            default_type text/plain; return 200 "ok\\n";
        }}
        location = /echo-cookie {{ default_type text/plain; return 200 "$http_cookie"; }}
        location / {{ try_files $uri @ok; }}
        location @ok {{ default_type text/plain; return 200 "ok\n"; }}
    }}
    {tls_server}
}}
"""

TLS_SERVER = """
    log_format tls '$connection $connection_requests $uri $status $ssl_session_reused $ssl_protocol $ssl_server_name $ssl_client_verify';
    server {{
        listen 127.0.0.1:{port} ssl reuseport backlog=4096;
        access_log {access};
        ssl_certificate {pki}/server.crt;
        ssl_certificate_key {pki}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets on;
        ssl_session_cache shared:SSL:1m;
        ssl_client_certificate {pki}/clientca.crt;
        ssl_verify_client optional;
        root {dir}/www;
        location = /health {{ default_type text/plain; return 200 "ok\n"; }}
        location = /mtls {{
            if ($ssl_client_verify != SUCCESS) {{ return 403; }}
            default_type text/plain;
            return 200 "hello $ssl_client_s_dn\n";
        }}
        location / {{ try_files $uri @ok; }}
        location @ok {{ default_type text/plain; return 200 "ok\n"; }}
    }}
"""


def make_pki(d):
    """A CA and a server certificate for localhost (not for 127.0.0.1), a second
    (untrusted) CA, and a client CA with a client certificate, made with the
    openssl command at test time."""
    os.makedirs(d, exist_ok=True)

    def sh(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    for ca in ("ca", "otherca", "clientca"):
        sh("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", f"{ca}.key", "-out", f"{ca}.crt", "-days", "2", "-subj", f"/CN=barrage test {ca}")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n")
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    for name, ca, ext, cn in (("server", "ca", "server.ext", "localhost"),
                              ("client", "clientca", "client.ext", "barrage client"),
                              ("rogue", "otherca", "client.ext", "rogue client")):
        sh("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        sh("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
           "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", ext)
    return d


class Nginx:
    """nginx on a free loopback port with a generated config and docroot.
    access_log: True to log requests (for counting), False for speed."""

    def __init__(self, access_log=True, cpu=None, tls=False, listen="127.0.0.1", netns=None):
        """listen/netns: serve on another address inside a network namespace
        the test made (tests/e2e/test_fleet.py)."""
        self.access_log, self.cpu, self.tls = access_log, cpu, tls
        self.listen, self.netns = listen, netns

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="barrage-nginx-")
        os.chmod(self.dir, 0o755)  # workers run as an unprivileged user
        os.makedirs(f"{self.dir}/www")
        with open(f"{self.dir}/www/index.html", "w") as f:
            f.write("<html>hello from nginx</html>\n")
        with open(f"{self.dir}/www/big.bin", "wb") as f:
            f.write(os.urandom(1 << 20))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        access = f"{self.dir}/access.log counts" if self.access_log else "off"
        tls_server = ""
        if self.tls:
            self.pki = make_pki(f"{self.dir}/pki")
            self.tls_port = free_port()
            self.tls_url = f"https://localhost:{self.tls_port}"
            tls_access = f"{self.dir}/tls.log tls" if self.access_log else "off"
            tls_server = TLS_SERVER.format(dir=self.dir, port=self.tls_port, pki=self.pki, access=tls_access)
        with open(f"{self.dir}/nginx.conf", "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, port=self.port, access=access, tls_server=tls_server,
                                      listen=self.listen))
        cmd = [NGINX, "-p", self.dir, "-c", f"{self.dir}/nginx.conf", "-e", f"{self.dir}/error.log"]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        if self.cpu is not None:
            cmd = ["taskset", "-c", str(self.cpu)] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            if self.netns:
                wait_port_in(self.netns, self.listen, self.port)
            else:
                wait_port(self.port)
            if self.tls:
                wait_port(self.tls_port)
        except Fail:
            self.__exit__()
            raise
        return self

    def log(self):
        """Access-log entries as dicts: connection, n (request on that
        connection), method, uri, status, length."""
        try:
            with open(f"{self.dir}/access.log") as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            parts = line.split(" ", 7)
            if len(parts) == 8:
                out.append(dict(connection=int(parts[0]), n=int(parts[1]), method=parts[2],
                                uri=parts[3], status=int(parts[4]),
                                length=0 if parts[5] == "-" else int(parts[5]),
                                thread=None if parts[6] == "-" else parts[6],
                                authorization=None if parts[7] == "-" else parts[7]))
        return out

    def tls_log(self):
        """TLS access-log entries: connection, n, uri, status, reused ('r' or
        '.'), protocol, sni (the server name the client sent, '' for none),
        client_verify."""
        try:
            with open(f"{self.dir}/tls.log") as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            return []
        keys = ("connection", "n", "uri", "status", "reused", "protocol", "sni", "client_verify")
        out = []
        for line in lines:
            parts = line.split(" ", 7)
            if len(parts) == 8:
                e = dict(zip(keys, parts))
                e["connection"], e["n"], e["status"] = int(e["connection"]), int(e["n"]), int(e["status"])
                e["sni"] = "" if e["sni"] == "-" else e["sni"]
                out.append(e)
        return out

    def requests_logged(self):
        return len(self.log())

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
