"""--html on real runs: a self-contained page whose numbers equal the JSON
result of the same run, and which a browser actually draws.

One 4 s workflow run (scripts/login.lua against `barrage serve --delay 2ms`,
four stages so there are stage boundaries, one passing and one failing
threshold) is shared by most tests; it writes --html and --json together.
The browser tests need Debian's `chromium` package: without it they fail
and say so."""
import atexit
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from html.parser import HTMLParser

from harness import ROOT, Fail, Serve, barrage, check, eq

CHROMIUM_PACKAGE = "chromium"
WINDOW = (1200, 2400)
CHARTS = ("rps-chart", "latency-chart", "dist-chart", "errors-chart", "status-chart")


# ---- a tiny DOM ------------------------------------------------------------

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.parts = [], []

    @property
    def text(self):
        return "".join(self.parts).strip()

    def walk(self):
        for c in self.children:
            yield c
            yield from c.walk()

    def find_all(self, tag=None, **attrs):
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [n for n in self.walk() if (tag is None or n.tag == tag)
                and all(n.attrs.get(k) == v for k, v in want.items())]

    def find(self, tag=None, **attrs):
        found = self.find_all(tag, **attrs)
        if not found:
            raise Fail(f"no <{tag or '*'} {attrs}> in the page")
        return found[0]


VOID = {"meta", "br", "img", "input", "link", "hr", "area", "base", "col", "embed", "source", "wbr"}


class Dom(HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.stack = [self.root]
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.stack[-1])
        self.stack[-1].children.append(n)
        if tag not in VOID:
            self.stack.append(n)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, attrs, self.stack[-1]))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        for n in self.stack:
            n.parts.append(data)


# ---- formatting as the terminal report does it -------------------------------

def fmt_us(us):
    """report_time_us: "635.91us", "12.92ms", "1.50s", "2.00m"."""
    v, units, scale, i = float(us), ["us", "ms", "s", "m", "h"], [1000, 1000, 60, 60], 0
    while i < 4 and v >= scale[i]:
        v /= scale[i]
        i += 1
    return "%.2f%s" % (v, units[i])


# ---- the shared run ------------------------------------------------------------

_RUN = {}
STAGES = "1s:10,1s:20,1s:20,1s:5"
THRESHOLDS = ("p(99)<2s", "login:p(95)<1us")


def run():
    """The shared 4 s run: {html, json, dom, dir, result}."""
    if _RUN:
        return _RUN
    tmp = tempfile.mkdtemp(prefix="barrage-html-")
    atexit.register(shutil.rmtree, tmp, True)
    html_path, json_path = os.path.join(tmp, "report.html"), os.path.join(tmp, "report.json")
    with Serve("--delay", "2ms") as s:
        r = barrage("-t", "2", "-c", "20", "--stages", STAGES, "-s", os.path.join(ROOT, "scripts", "login.lua"),
                    "--threshold", THRESHOLDS[0], "--threshold", THRESHOLDS[1],
                    "--html", html_path, "--json", json_path, s.url, timeout=60)
    eq(r.rc, 99, f"exit code with one failing threshold ({r})")
    with open(html_path, encoding="utf-8") as f:
        html = f.read()
    with open(json_path) as f:
        data = json.load(f)
    _RUN.update(html=html, json=data, dom=Dom(html).root, dir=tmp, result=r, path=html_path)
    return _RUN


def plotted_points(d):
    """The JSON series points the page plots: seconds that began before the end."""
    dur = d["duration_s"]
    return [p for p in d["series"] if p["t"] < dur or p["t"] == 0]


# ---- (a) the page's content ------------------------------------------------------

def test_page_is_self_contained():
    html = run()["html"]
    check(html.startswith("<!doctype html>"), "starts with a doctype")
    for pat, what in ((r"""\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", "network URL"),
                      (r"<script", "script element"), (r"@import", "CSS @import"), (r"url\s*\(", "url( in CSS"),
                      (r"<link\b", "link element"), (r"<iframe|<object|<embed|<img\b", "embedded resource"),
                      (r"@font-face", "web font")):
        m = re.search(pat, html, re.I)
        check(not m, f"{what} in the page: {html[max(0, m.start() - 60):m.end() + 60]!r}" if m else "")
    check("system-ui" in html, "system fonts are named")


def test_four_charts_with_lines_axes_and_legends():
    dom = run()["dom"]
    for cid in CHARTS:
        svg = dom.find("svg", id=cid)
        check(svg.find_all("polyline"), f"{cid}: no polyline drawn")
        ticks = [t.text for t in svg.find_all("text", **{"class": "tick"})]
        check(len(ticks) >= 6, f"{cid}: axis tick labels: {ticks}")
        check(svg.find_all("g", **{"class": "legend"}), f"{cid}: no legend")
        check("viewBox" in svg.attrs or "viewbox" in svg.attrs, f"{cid}: no viewBox")


def test_series_charts_match_the_json_series():
    r = run()
    d, dom = r["json"], r["dom"]
    pts = plotted_points(d)
    check(len(pts) >= 4, f"a 4 s run has 4 seconds of data: {len(pts)}")
    boundaries = [p["t"] for prev, p in zip(pts, pts[1:]) if p["stage"] != prev["stage"]]
    eq(boundaries, [1, 2, 3], "stage changes in the JSON series")
    for cid in ("rps-chart", "latency-chart", "errors-chart"):
        svg = dom.find("svg", id=cid)
        eq(svg.attrs["data-stage-boundaries"], ",".join(map(str, boundaries)), f"{cid} stage boundaries")
        eq(len(svg.find_all("line", **{"class": "stage"})), len(boundaries), f"{cid} dashed stage lines")
        labels = [t.text for t in svg.find_all("text", **{"class": "stage-label"})]
        eq([l.split(" ")[1] for l in labels], ["2", "3", "4"], f"{cid} stage labels {labels}")
    rps = dom.find("svg", id="rps-chart")
    # requests/s of each second; the last (partial) one scaled by the part of it the run spent
    dur = d["duration_s"]
    rates = []
    for p in pts:
        frac = min(1.0, dur - p["t"]) if dur > p["t"] else 1.0
        if frac >= 0.2 or len(pts) == 1:
            rates.append(p["requests"] / frac)
    eq(int(rps.attrs["data-points"]), len(rates), "rps-chart points")
    want = max(rates)
    got = float(rps.attrs["data-max"])
    check(abs(got - want) <= max(0.01, want * 0.002), f"rps-chart data-max {got}, JSON says {want:.2f}")
    line = rps.find("polyline", **{"class": "rps"})
    eq(len(line.attrs["points"].split()), len(rates), "points of the requests/s line")
    lat = dom.find("svg", id="latency-chart")
    eq(int(lat.attrs["data-max"]), max(p["max"] for p in pts), "latency-chart data-max (us)")
    for k in ("p50", "p90", "p99", "max"):
        check(lat.find_all("polyline", **{"class": k}), f"latency-chart has a {k} line")
    err = dom.find("svg", id="errors-chart")
    eq(int(err.attrs["data-total"]), sum(sum(p["errors"].values()) for p in pts), "errors-chart total")


def test_distribution_chart_equals_the_json_percentiles():
    r = run()
    lat, svg = r["json"]["latency"], r["dom"].find("svg", id="dist-chart")
    eq(int(svg.attrs["data-count"]), lat["count"], "dist-chart count")
    for attr, key in (("data-p50", "50"), ("data-p90", "90"), ("data-p99", "99"), ("data-p999", "99.9")):
        eq(int(svg.attrs[attr]), lat["percentiles"][key], f"dist-chart {attr}")
    eq(int(svg.attrs["data-max"]), lat["max"], "dist-chart max")
    ticks = [t.text for t in svg.find_all("text", **{"class": "tick"})]
    for label in ("50%", "90%", "99%", "99.9%"):
        check(label in ticks, f"percentile axis label {label} in {ticks}")
    # the whole-run curve plus one per name
    eq(len(svg.find_all("polyline", **{"class": "curve"})), 1 + len(r["json"]["names"]), "percentile curves")
    check(f"max {fmt_us(lat['max'])}" in [t.text for t in svg.find_all("text")], "the max is labelled")


def test_summary_equals_the_json():
    r = run()
    d, dom = r["json"], r["dom"]
    s = d["summary"]
    eq(dom.find("div", data_metric="requests").text, str(s["requests"]), "summary requests")
    eq(dom.find("div", data_metric="p99-card").text, fmt_us(d["latency"]["percentiles"]["99"]), "p99 card")
    table = dom.find("table", id="latency")
    for metric, key in (("p50", "50"), ("p90", "90"), ("p99", "99"), ("p99.9", "99.9")):
        cell = table.find("td", data_metric=metric)
        eq(cell.text, fmt_us(d["latency"]["percentiles"][key]), f"latency {metric}")
        eq(int(cell.attrs["data-us"]), d["latency"]["percentiles"][key], f"latency {metric} data-us")
    eq(table.find("td", data_metric="max").text, fmt_us(d["latency"]["max"]), "latency max")
    check(not table.find_all("td", data_metric="service-p99"), "no uncorrected column without -R")
    rps = float(dom.find(data_metric="rps").text)
    check(abs(rps - s["requests"] / d["duration_s"]) < 0.011, f"req/s {rps} vs JSON {s['rps']}")
    eq(dom.find("div", data_metric="duration").text, fmt_us(d["duration_s"] * 1e6), "duration")
    errs = s["errors"]
    eq(int(dom.find("div", data_metric="errors").text), sum(errs.values()), "errors card")
    for k, v in errs.items():
        eq(int(dom.find("td", data_metric=f"errors-{k}").text), v, f"errors of class {k}")
    cfg = dom.find("table", id="config")
    eq(cfg.find(data_metric="url").text, d["config"]["url"], "config URL")
    eq(cfg.find(data_metric="threads").text, "2", "config threads")
    eq(cfg.find(data_metric="connections").text, "20", "config connections")
    eq(cfg.find(data_metric="duration").text, "4s", "config duration")
    eq(cfg.find(data_metric="stages").text, "1s \u2192 10, 1s \u2192 20, 1s \u2192 20, 1s \u2192 5 connections",
       "config stages")
    eq(cfg.find(data_metric="rate").text, "unthrottled", "config rate")
    eq(int(dom.find(data_metric="exit-code").text), d["exit_code"], "exit code")


def test_names_table_equals_the_json_names():
    r = run()
    d, dom = r["json"], r["dom"]
    rows = [tr for tr in dom.find("table", id="names").find_all("tr") if "data-name" in tr.attrs]
    got = [(tr.attrs["data-name"], tr.find("td", **{"class": "l name"}).text,
            int(tr.find("td", data_metric="requests").text), int(tr.find("td", data_metric="failures").text),
            tr.find("td", data_metric="p99").text) for tr in rows]
    want = [(n["name"], n["name"], n["requests"], n["failures"], fmt_us(n["latency"]["percentiles"]["99"]))
            for n in d["names"]]
    eq(got, want, "requests by name")
    eq([n for n, *_ in got], ["login", "list items", "view item", "add to cart"], "login.lua's names")


def test_checks_and_thresholds_equal_the_json():
    r = run()
    d, dom = r["json"], r["dom"]
    rows = [tr for tr in dom.find("table", id="checks").find_all("tr") if "data-name" in tr.attrs]
    eq([(tr.attrs["data-name"], int(tr.find(data_metric="pass").text), int(tr.find(data_metric="fail").text))
        for tr in rows], [(c["name"], c["pass"], c["fail"]) for c in d["checks"]], "checks")
    rows = [tr for tr in dom.find("table", id="thresholds").find_all("tr") if "data-expr" in tr.attrs]
    eq([(tr.attrs["data-expr"], tr.attrs["data-pass"] == "1") for tr in rows],
       [(t["expr"], t["pass"]) for t in d["thresholds"]], "thresholds")
    eq([t["pass"] for t in d["thresholds"]], [True, False], "one threshold passes, one fails")
    marks = [tr.children[0].text for tr in rows]
    eq(marks, ["\u2713", "\u2717"], "pass/fail marks")
    eq(rows[0].find(data_metric="measured").text, fmt_us(d["latency"]["percentiles"]["99"]), "measured p99")
    eq(dom.find(id="verdict").text, "thresholds failed", "header verdict")


def test_user_text_is_escaped_and_rate_runs_show_uncorrected_latency():
    name = "<script>alert('x')</script> & \"q\""
    check_name = "<b>bold</b> check"
    script = f"""
function user(u)
   local r = u:get("/api/items", {{ name = {json.dumps(name)} }})
   check(r.status == 200, {json.dumps(check_name)})
   u:get("/api/items/1", {{ name = "item </td><td>" }})
end
"""
    with tempfile.TemporaryDirectory() as tmp:
        lua, html_path, json_path = (os.path.join(tmp, n) for n in ("evil.lua", "r.html", "r.json"))
        with open(lua, "w") as f:
            f.write(script)
        with Serve("--delay", "1ms") as s:
            r = barrage("-t", "1", "-c", "4", "-R", "200", "-d", "2s", "-s", lua, "--html", html_path,
                        "--json", json_path, s.url, timeout=30)
        eq(r.rc, 0, f"exit code ({r})")
        html = open(html_path, encoding="utf-8").read()
        d = json.load(open(json_path))
    check("<script" not in html and "<b>bold" not in html and "item </td><td>" not in html, "raw user markup")
    check("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;" in html, "escaped name")
    dom = Dom(html).root
    rows = [tr for tr in dom.find("table", id="names").find_all("tr") if "data-name" in tr.attrs]
    eq([(tr.attrs["data-name"], int(tr.find(data_metric="requests").text), int(tr.find(data_metric="failures").text))
        for tr in rows], [(n["name"], n["requests"], n["failures"]) for n in d["names"]], "names round-trip")
    eq(rows[0].attrs["data-name"], name, "hostile name survives as text")
    eq([tr.attrs["data-name"] for tr in dom.find("table", id="checks").find_all("tr") if "data-name" in tr.attrs],
       [check_name], "check name")
    # unauthenticated /api/items answers 401: status errors, drawn per second
    check(d["summary"]["errors"]["status"] > 0, f"status errors expected: {d['summary']}")
    err = dom.find("svg", id="errors-chart")
    check(err.find_all("polyline", **{"class": "status"}), "errors-chart has a status line")
    eq(int(err.attrs["data-total"]), sum(sum(p["errors"].values()) for p in plotted_points(d)), "errors total")
    # -R: corrected and uncorrected latency side by side, and the target rate
    table = dom.find("table", id="latency")
    eq(table.find("td", data_metric="p99").text, fmt_us(d["latency"]["percentiles"]["99"]), "corrected p99")
    eq(table.find("td", data_metric="service-p99").text, fmt_us(d["service"]["percentiles"]["99"]),
       "uncorrected p99")
    check(dom.find("svg", id="rps-chart").find_all("polyline", **{"class": "target"}), "target rate line")
    eq(len(dom.find("svg", id="dist-chart").find_all("polyline", **{"class": "curve"})), 2 + len(d["names"]),
       "curves: corrected, uncorrected, one per name")


# ---- (b) a browser draws it ------------------------------------------------------

def chromium():
    exe = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise Fail(f"chromium is not installed: the HTML report is checked in a headless browser; "
                   f"install Debian's `{CHROMIUM_PACKAGE}` package (apt-get install {CHROMIUM_PACKAGE}, "
                   f"or deps/install.sh)")
    return exe


def browse(html_path, *mode, timeout=120):
    """Run headless chromium on file://html_path with mode flags; stdout."""
    profile = tempfile.mkdtemp(prefix="barrage-chromium-")
    try:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}", *mode,
               "file://" + os.path.abspath(html_path)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise Fail(f"chromium exited {p.returncode}: {p.stderr[-2000:]}")
        return p.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def read_png(path):
    """(width, height, rows of RGB(A) bytes, bytes per pixel): 8-bit PNG, stdlib only."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat.append(body)
        elif typ == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = hdr
    check(depth == 8 and ctype in (2, 6) and interlace == 0, f"unexpected PNG format {hdr}")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        i = y * (stride + 1)
        ft, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        if ft == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif ft == 2:
            for x in range(stride):
                line[x] = (line[x] + prev[x]) & 255
        elif ft == 3:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((a + prev[x]) >> 1)) & 255
        elif ft == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
                pp = a + b - c
                pa, pb, pc = abs(pp - a), abs(pp - b), abs(pp - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


LAYOUT_PROBE = """<script>
(function () {
  var out = [];
  document.querySelectorAll('svg.chart').forEach(function (s) {
    var r = s.getBoundingClientRect(), len = 0, texts = 0;
    s.querySelectorAll('polyline').forEach(function (p) { len += p.getTotalLength(); });
    s.querySelectorAll('text').forEach(function (t) { if (t.getBBox().width > 0) texts++; });
    out.push([s.id, r.left + scrollX, r.top + scrollY, r.width, r.height, len.toFixed(0), texts].join(','));
  });
  document.documentElement.setAttribute('data-layout', out.join(';'));
})();
</script>"""


def layout(html_path):
    """Where chromium laid out each chart: {id: (x, y, w, h, polyline length, drawn texts)}, by
    loading a copy of the page with a probe script (the report itself has none)."""
    probe = html_path[:-5] + "-probe.html"
    with open(html_path, encoding="utf-8") as f:
        html = f.read()
    with open(probe, "w", encoding="utf-8") as f:
        f.write(html.replace("</body>", LAYOUT_PROBE + "</body>"))
    dom = browse(probe, "--dump-dom")
    m = re.search(r'data-layout="([^"]*)"', dom)
    check(m, f"no layout from --dump-dom: {dom[:300]!r}")
    out = {}
    for item in filter(None, m.group(1).split(";")):
        cid, *nums = item.split(",")
        out[cid] = tuple(float(v) for v in nums)
    return out


def test_chromium_lays_out_and_draws_the_charts():
    r = run()
    boxes = layout(r["path"])
    eq(sorted(boxes), sorted(CHARTS), "charts laid out")
    for cid, (x, y, w, h, length, texts) in boxes.items():
        check(w > 900 and 250 < h < 400, f"{cid} laid out at {w:.0f}x{h:.0f}")
        check(length > 500, f"{cid}: polylines {length:.0f} px long")
        check(texts >= 10, f"{cid}: {texts} text labels drawn")
    png = os.path.join(r["dir"], "report.png")
    browse(r["path"], f"--screenshot={png}")
    check(os.path.getsize(png) > 10000, f"screenshot {png} is {os.path.getsize(png)} bytes")
    w, h, rows, bpp = read_png(png)
    eq((w, h), WINDOW, "screenshot size")
    colours = set()
    for y in range(0, h, 7):
        row = rows[y]
        colours.update(row[x:x + 3] for x in range(0, w * bpp, bpp * 5))
    check(len(colours) > 200, f"screenshot looks blank: {len(colours)} distinct colours")

    def region(cid):
        x, y, bw, bh = (int(v) for v in boxes[cid][:4])
        return [(rows[yy][xx * bpp], rows[yy][xx * bpp + 1], rows[yy][xx * bpp + 2])
                for yy in range(max(0, y), min(h, y + bh)) for xx in range(max(0, x), min(w, x + bw))]

    def near(px, rgb, tol=40):
        return sum(1 for p in px if abs(p[0] - rgb[0]) + abs(p[1] - rgb[1]) + abs(p[2] - rgb[2]) <= tol)

    # each chart's region has ink (axes, labels, lines), and its lines' colours
    line_colours = {"rps-chart": [(0x25, 0x63, 0xeb)], "dist-chart": [(0x25, 0x63, 0xeb)],
                    "latency-chart": [(0x0e, 0xa5, 0xe9), (0x63, 0x66, 0xf1), (0xa2, 0x1c, 0xaf), (0xef, 0x44, 0x44)],
                    "errors-chart": [(0x16, 0xa3, 0x4a)], "status-chart": [(0x16, 0xa3, 0x4a), (0xdc, 0x26, 0x26)]}
    for cid in CHARTS:
        y, bh = boxes[cid][1], boxes[cid][3]
        if y + bh > h:
            check(cid in ("errors-chart", "status-chart"), f"{cid} is below the {h}px screenshot")
            continue
        px = region(cid)
        ink = sum(1 for p in px if p[0] + p[1] + p[2] < 600)
        check(ink > 2000, f"{cid}: only {ink} of {len(px)} pixels drawn")
        check(len(set(px)) > 100, f"{cid}: {len(set(px))} distinct colours")
        got = sum(near(px, c) for c in line_colours[cid])
        check(got > 300, f"{cid}: {got} pixels of its lines' colours {line_colours[cid]}")
