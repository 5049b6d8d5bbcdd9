"""README's "Coming from Locust / k6": every example runs. Each ```lua block
of the section is written out exactly as the README has it and run by the
section's own `barrage` command line (durations and the spawn rate made
short, nothing else changed) against `barrage serve`'s demo API; the
locustfile runs under the real /usr/bin/locust with the section's `locust`
command line and must give the same request rows as its barrage port. k6 is
not installable here (not a Debian package): its script is only read, the
port is what runs."""
import csv
import os
import re
import shlex
import subprocess
import tempfile

from harness import ROOT, Serve, barrage, check, eq, need_peer

LOCUST = "/usr/bin/locust"
HEADING = "## Coming from Locust / k6"


def section():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    check(HEADING + "\n" in text, f"README.md has no '{HEADING}' section")
    start = text.index(HEADING + "\n")
    end = text.find("\n## ", start + len(HEADING))
    return text, text[start:end if end >= 0 else len(text)]


def blocks():
    """{file name: (language, text)}: each fenced block of the section but
    the command lines is named by its first line (`-- shop.lua`)."""
    out = {}
    for lang, body in re.findall(r"```(\w+)\n(.*?)```", section()[1], re.S):
        if lang == "sh":
            continue
        m = re.match(r"(?:#|--|//) (\S+\.(?:py|lua|js))\n", body)
        check(m, f"a ```{lang} block of the section does not start with its file name: {body[:80]!r}")
        check(m.group(1) not in out, f"two blocks named {m.group(1)}")
        out[m.group(1)] = (lang, body)
    return out


def commands():
    """The section's command lines (```sh blocks), split as a shell would."""
    lines = []
    for body in re.findall(r"```sh\n(.*?)```", section()[1], re.S):
        lines += [shlex.split(x) for x in body.splitlines() if x.strip()]
    return lines


def command(tool, script):
    """The command line of `tool` that runs `script`."""
    found = [c for c in commands() if c[0] == tool and script in c]
    eq(len(found), 1, f"command lines of {tool} running {script}")
    return found[0]


def options(argv):
    """{option: value} of a command line (flags without a value map to
    None) and its one positional argument (the URL)."""
    opts, pos, i = {}, [], 1
    flags = {"--headless"}
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and a not in flags:
            opts[a] = argv[i + 1]
            i += 2
        else:
            if a in flags:
                opts[a] = None
            else:
                pos.append(a)
            i += 1
    return opts, pos




def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def csv_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return {(r[0], r[1]): dict(zip(rows[0], r)) for r in rows[1:]}


FLOATS = ("Average Response Time", "Min Response Time", "Max Response Time", "Average Content Size",
          "Requests/s", "Failures/s")


def python_floats(rows, who):
    """Locust's float cells are Python's repr of the float (20.0, never 2e+01)."""
    for k, row in rows.items():
        for col in FLOATS:
            eq(row[col], repr(float(row[col])), f"{who} {k} {col}: a float as Python writes it")


def test_the_section_is_linked_from_the_top_and_every_block_runs():
    text, sec = section()
    top = text[:text.index("\n## ")]
    check("](#coming-from-locust--k6)" in top, "the top of the README links the section")
    check(text.index(HEADING) > text.index("## Lua scripts"), "the section comes after the Lua scripts")
    b = blocks()
    lua = {n for n, (lang, _) in b.items() if lang == "lua"}
    run = {c[c.index("-s") + 1] for c in commands() if c[0] == "barrage" and "-s" in c}
    eq(run, lua, "every ```lua block is the -s of a barrage command line in the section, and only those")
    eq({n for n, (lang, _) in b.items() if lang == "python"},
       {c[c.index("-f") + 1] for c in commands() if c[0] == "locust"}, "the locustfile is the one locust runs")
    eq({n for n, (lang, _) in b.items() if lang == "js"},
       {c[-1] for c in commands() if c[0] == "k6"}, "the k6 script is the one `k6 run` names")
    check("the barrage port is what the test runs" in sec, "the section says k6 is not run")


def test_the_two_command_lines_ask_for_the_same_run():
    lo, lpos = options(command("locust", "shop.py"))
    bo, bpos = options(command("barrage", "shop.lua"))
    eq(sorted(lo), ["--csv", "--headless", "--host", "-f", "-r", "-t", "-u"], "locust's options")
    eq(sorted(bo), ["--csv", "--run-time", "--spawn-rate", "--users", "-s"], "barrage's options")
    eq(lpos, [], "locust takes the host as --host")
    eq([bo["--users"], bo["--spawn-rate"], bo["--run-time"], bo["--csv"], bpos],
       [lo["-u"], lo["-r"], lo["-t"], lo["--csv"], [lo["--host"]]], "users, spawn rate, run time, CSV, host")


def shop_run(tmp, url):
    """The README's barrage command line for shop.lua, shortened: all users
    at once, 2 s."""
    b = blocks()
    argv = command("barrage", "shop.lua")
    bo, _ = options(argv)
    users = bo["--users"]
    args = ["--users", users, "--spawn-rate", users, "--run-time", "2s", "--csv", os.path.join(tmp, "B"),
            "-s", write(tmp, "shop.lua", b["shop.lua"][1]), "--seed", "1", url]
    return int(users), barrage(*args)


def locust_run(tmp, url):
    """The README's locust command line for shop.py, shortened to 3 s."""
    lo, _ = options(command("locust", "shop.py"))
    args = [LOCUST, "-f", write(tmp, "shop.py", blocks()["shop.py"][1]), "--headless", "-u", lo["-u"],
            "-r", lo["-u"], "-t", "3s", "--csv", os.path.join(tmp, "L"), "--host", url]
    p = subprocess.run(args, cwd=tmp, capture_output=True, text=True, timeout=60)
    check(os.path.exists(os.path.join(tmp, "L_stats.csv")), f"Locust wrote no CSV: {p.returncode} {p.stderr[-2000:]}")
    eq(p.returncode, 0, f"Locust's exit code (failures or errors): {p.stderr[-2000:]}")
    return p


def test_the_locustfile_and_its_port_run_alike():
    _, sec = section()
    with tempfile.TemporaryDirectory() as tmp, Serve() as s:
        users, r = shop_run(tmp, s.url)
        eq(r.rc, 0, f"the port runs clean: {r}")
        d = r.json
        eq(d["exceptions"], [], "no exception in the port")
        classes = {c["name"]: c["users"] for c in d["user_classes"]}
        m = re.search(r"barrage exactly: (\d+) Shoppers, (\d+) Visitors", sec)
        check(m, "the section says how barrage spreads the users")
        eq(classes, {"Shopper": int(m.group(1)), "Visitor": int(m.group(2))}, "users by class, as the README says")
        eq(sum(classes.values()), users, "every user has a class")
        names = {(n["method"], n["name"]): n for n in d["names"]}
        rows = re.search(r"the same rows\s+\(([^)]*)\)", sec)
        check(rows, "the section lists the rows")
        listed = re.findall(r"`([^`]+)`", rows.group(1).replace("\n", " "))
        want = [tuple(x.split(" ", 1)) if " " in x else ("", x) for x in listed]  # ("", "Aggregated")
        eq(set(names), {k for k in want if k[0]}, "the request names the README lists")
        eq(names[("POST", "/api/login")]["requests"], classes["Shopper"], "one login per Shopper (on_start)")
        for k, n in names.items():
            eq(n["failures"], 0, f"{k}: no failure")
        browse, item = names[("GET", "/api/items")]["requests"], names[("GET", "/api/items/[id]")]
        check(0 <= browse - item["requests"] <= 2, f"browse makes both requests: {browse} vs {item['requests']}")
        check(item["status"].get("404", 0) > 0, f"item 6 was asked for (seed 1): {item['status']}")
        eq(sum(item["status"].values()), item["requests"], "every item request answered")
        eq(names[("POST", "/api/cart")]["status"], {"201": names[("POST", "/api/cart")]["requests"]},
           "the cart got the session cookie of the login")
        brows = csv_rows(os.path.join(tmp, "B_stats.csv"))
        eq(set(brows), set(want), "barrage's stats.csv rows: the README's")
        for k, n in names.items():
            eq(int(brows[k]["Request Count"]), n["requests"], f"{k}: CSV count = JSON")
        python_floats(brows, "barrage")
        if not need_peer(LOCUST, "python3-locust"):
            return
        p = locust_run(tmp, s.url)
        lrows = csv_rows(os.path.join(tmp, "L_stats.csv"))
    eq(set(lrows), set(brows), "Locust's stats.csv rows = barrage's")
    python_floats(lrows, "Locust")
    for k, row in lrows.items():
        eq(row["Failure Count"], "0", f"Locust {k}: no failure (catch_response's success on 404)")
        check(int(row["Request Count"]) > 0, f"Locust {k}: requests")
    spawned = re.search(r"All users spawned: \{(.*?)\} \((\d+) total users\)", p.stderr)
    check(spawned, f"Locust says how it spread the users: {p.stderr[-1500:]}")
    lclasses = {k: int(v) for k, v in re.findall(r'"(\w+)": (\d+)', spawned.group(1))}
    eq(lclasses, classes, "Locust spreads the users over the classes as barrage does")


def k6_port(tmp, *extra, serve=()):
    """The README's barrage command line for script.lua, with `extra`
    options before it (the command line wins over the script's options)."""
    argv = command("barrage", "script.lua")
    bo, pos = options(argv)
    eq((sorted(bo), len(pos)), (["-s"], 1), "barrage -s script.lua URL")
    path = write(tmp, "script.lua", blocks()["script.lua"][1])
    with Serve(*serve) as s:
        return barrage(*extra, "-s", path, s.url)


def test_the_k6_port_runs_its_own_stages_and_thresholds():
    js = blocks()["script.js"][1]
    with tempfile.TemporaryDirectory() as tmp:
        # -n ends it: the script's own schedule (k6's stages) runs as written
        r = k6_port(tmp, "-n", "4")
    eq(r.rc, 0, f"{r}")
    d = r.json
    eq(d["config"]["from_script"], ["stages", "threshold"], "stages and thresholds came from the script")
    stages = re.findall(r'\{ duration: "(\w+)", target: (\d+) \}', js)
    secs = {"30s": 30, "1m": 60, "10s": 10}
    eq([(s["duration_s"], s["target"]) for s in d["config"]["stages"]],
       [(secs[t], int(n)) for t, n in stages], "the k6 script's stages")
    k6_thresholds = {f"{m}:{e}" for m, es in re.findall(r'"?([\w{}:]+)"?: \[([^\]]*)\]',
                                                                js[js.index("thresholds:"):js.index("};")])
                     for e in re.findall(r'"([^"]+)"', es)}
    v = {t["expr"]: t["pass"] for t in d["thresholds"]}
    eq(set(v), k6_thresholds, "the k6 script's thresholds, as k6 writes them")
    eq(v, {k: True for k in v}, "every threshold passes")
    names = {n["name"]: n for n in d["names"]}
    eq(sorted(names), ["items", "login"], "the names of the port's requests")
    eq(sum(n["requests"] for n in names.values()), 4, "-n 4: exactly 4 requests")
    eq([n["failures"] for n in names.values()], [0, 0], "no failure")
    eq({c["name"]: (c["pass"], c["fail"]) for c in d["checks"]},
       {"logged in": (names["login"]["requests"], 0), "five items": (names["items"]["requests"], 0)},
       "one passed check per request")
    eq(d["exceptions"], [], "no exception")


def test_the_k6_ports_thresholds_gate_a_slow_server():
    with tempfile.TemporaryDirectory() as tmp:
        r = k6_port(tmp, "-d", "2s", "-c", "3", serve=("--delay", "600ms"))
    eq(r.rc, 99, f"a failed threshold exits 99: {r}")
    v = {t["expr"]: t["pass"] for t in r.json["thresholds"]}
    eq(v, {"http_req_duration:p(95)<500": False, "http_req_duration{name:items}:p(95)<300": False,
           "http_req_failed:rate<0.01": True, "checks:rate>0.99": True}, "600 ms answers fail the latency gates")
    check(r.json["summary"]["requests"] >= 3, f"requests made: {r.json['summary']}")
