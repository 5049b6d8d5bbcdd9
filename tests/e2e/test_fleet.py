"""Scale-out across real hosts: network namespaces joined by veth links to a
bridge (made here, removed whatever happens), nginx in one, three barrage
shards in the others with a common --start-at, then `barrage merge`.
Traffic stays inside the namespaces."""
import json
import os
import subprocess
import tempfile
import time

from harness import BARRAGE, Fail, Nginx, check, eq

SHARDS = 3
SUBNET = "10.77.0"  # private addresses of the test's own hosts, inside its namespaces


def sh(*args):
    subprocess.run(list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Fleet:
    def __init__(self):
        tag = os.getpid() % 10000
        self.srv = f"bsrv{tag}"
        self.gens = [f"bgen{tag}_{i}" for i in range(SHARDS)]
        self.made = []

    def __enter__(self):
        try:
            sh("ip", "netns", "add", self.srv)
            self.made.append(self.srv)
            sh("ip", "-n", self.srv, "link", "set", "lo", "up")
            sh("ip", "-n", self.srv, "link", "add", "br0", "type", "bridge")
            sh("ip", "-n", self.srv, "addr", "add", f"{SUBNET}.1/24", "dev", "br0")
            sh("ip", "-n", self.srv, "link", "set", "br0", "up")
            for i, g in enumerate(self.gens):
                sh("ip", "netns", "add", g)
                self.made.append(g)
                sh("ip", "-n", g, "link", "set", "lo", "up")
                sh("ip", "link", "add", f"bv{os.getpid() % 10000}g{i}", "netns", g, "type", "veth",
                   "peer", "name", f"p{i}", "netns", self.srv)
                sh("ip", "-n", g, "link", "set", f"bv{os.getpid() % 10000}g{i}", "name", "eth0")
                sh("ip", "-n", g, "addr", "add", f"{SUBNET}.{10 + i}/24", "dev", "eth0")
                sh("ip", "-n", g, "link", "set", "eth0", "up")
                sh("ip", "-n", self.srv, "link", "set", f"p{i}", "master", "br0")
                sh("ip", "-n", self.srv, "link", "set", f"p{i}", "up")
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        self.made = []


def percentile_bucket(buckets, total, p):
    """The bucket holding rank ceil(p/100 * total): hist_percentile's rule (src/engine/stats.c)."""
    rank = max(1, -(-p * total // 100))
    seen = 0
    for idx, cnt in sorted(buckets):
        seen += cnt
        if seen >= rank:
            return idx
    return None


def hist_highest(i):
    """The highest value stored in bucket i (layout loglinear-11-40, src/engine/stats.c)."""
    if i < 2048:
        return i
    shift = i // 1024 - 1
    sub = i % 1024 + 1024
    return ((sub + 1) << shift) - 1


def test_three_shards_merge_exactly_and_start_together():
    # the 50 ms start alignment is a timing measurement on a shared VM: a second attempt, each asserting all
    try:
        three_shards_once()
    except Fail as first:
        print(f"     first attempt: {str(first).splitlines()[0]} (measuring again)")
        three_shards_once()


def three_shards_once():
    n_total = 3000
    with tempfile.TemporaryDirectory() as tmp, Fleet() as fleet, \
            Nginx(listen=f"{SUBNET}.1", netns=fleet.srv) as n:
        url = f"http://{SUBNET}.1:{n.port}/health"
        start = time.time() + 3
        procs = []
        for i, g in enumerate(fleet.gens):
            out = os.path.join(tmp, f"s{i}.json")
            procs.append((out, subprocess.Popen(
                ["ip", "netns", "exec", g, BARRAGE, "-t", "1", "-c", "8", "-n", str(n_total), "--shard", f"{i}/{SHARDS}",
                 "--start-at", f"{start:.3f}", "--json", out, url],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        for out, p in procs:
            o, e = p.communicate(timeout=60)
            eq(p.returncode, 0, f"shard {out}: {o}{e}")
        merged = os.path.join(tmp, "total.json")
        m = subprocess.run([BARRAGE, "merge", "-o", merged] + [o for o, _ in procs], capture_output=True, text=True)
        eq(m.returncode, 0, m.stderr)
        eq(m.stderr, "", "shards complete, distinct and aligned: no warning")
        time.sleep(0.3)
        logged = n.requests_logged()
        shards = [json.load(open(o)) for o, _ in procs]
        total = json.load(open(merged))
    eq(sorted(s["config"]["shard"]["index"] for s in shards), [0, 1, 2], "every shard ran")
    eq([s["summary"]["requests"] for s in shards], [1000, 1000, 1000], "each shard's exact share of -n")
    eq(total["summary"]["requests"], n_total, "merged requests")
    eq(logged, n_total, "the server's access log counts exactly the merged requests")
    starts = [s["start_actual_unix_us"] for s in shards]
    check(max(starts) - min(starts) < 50000, f"shards started within 50 ms: {starts}")
    check(all(abs(s / 1e6 - start) < 0.05 for s in starts), f"at the --start-at instant {start}: {starts}")
    # merged histogram = one histogram of all shards' samples
    union = {}
    for s in shards:
        for idx, cnt in s["latency"]["histogram"]["buckets"]:
            union[idx] = union.get(idx, 0) + cnt
    eq(dict((i, c) for i, c in total["latency"]["histogram"]["buckets"]), union, "merged buckets")
    eq(total["latency"]["count"], n_total, "count")
    eq(total["latency"]["min"], min(s["latency"]["min"] for s in shards), "min")
    eq(total["latency"]["max"], max(s["latency"]["max"] for s in shards), "max")
    for p in ("50", "90", "99", "99.9"):
        idx = percentile_bucket(list(union.items()), n_total, float(p))
        want = min(max(hist_highest(idx), total["latency"]["min"]), total["latency"]["max"])
        eq(total["latency"]["percentiles"][p], want, f"merged p{p} from all samples")


def test_shard_shares_and_usage_errors():
    from harness import Serve, barrage
    with Serve() as s, tempfile.TemporaryDirectory() as tmp:
        outs = []
        for i in range(3):
            out = os.path.join(tmp, f"s{i}.json")
            r = barrage("-t", "1", "-c", "10", "-n", "100", "--shard", f"{i}/3", "--json", out, s.url)
            eq(r.rc, 0, f"{r}")
            outs.append(json.load(open(out)))
            time.sleep(0.1)  # no common --start-at: these shards start apart
        # remainders go to the first shards: 10 = 4+3+3 connections, 100 = 34+33+33 requests
        eq([o["config"]["connections"] for o in outs], [4, 3, 3], "connection shares")
        eq([o["summary"]["requests"] for o in outs], [34, 33, 33], "-n shares")
        m = subprocess.run([BARRAGE, "merge", os.path.join(tmp, "s0.json"), os.path.join(tmp, "s2.json")],
                           capture_output=True, text=True)
        eq(m.returncode, 0, m.stderr)
        check("shard 1 of 3 is missing" in m.stderr, m.stderr)
        check("started" in m.stderr and "apart" in m.stderr, f"not started together: {m.stderr}")
        env = dict(os.environ, JOB_COMPLETION_INDEX="1")
        p = subprocess.run([BARRAGE, "-t", "1", "-c", "4", "-n", "10", "--shards", "2", "--json", "-", s.url],
                           capture_output=True, text=True, env=env)
        eq(p.returncode, 0, p.stderr)
        eq(json.loads(p.stdout)["config"]["shard"], {"index": 1, "count": 2}, "index from JOB_COMPLETION_INDEX")
        lua = os.path.join(tmp, "shard.lua")
        with open(lua, "w") as f:
            f.write("function init(a) wrk.path = '/shard-' .. barrage.shard.index .. '-of-' .. barrage.shard.count end\n")
        r = barrage("-t", "1", "-c", "5", "-n", "5", "--shard", "2/5", "-s", lua, "--json", os.path.join(tmp, "l.json"),
                    s.url)
        eq(r.rc, 0, f"scripts see barrage.shard: {r}")
        for args, needle in ((("--shard", "3/3"), "0 <= I < N"), (("--shard", "x"), "I/N"),
                             (("--shards", "2"), "JOB_COMPLETION_INDEX"), (("--start-at", "yesterday"), "RFC 3339"),
                             (("--start-at", "2001-01-01T00:00:00Z"), "in the past"),
                             (("--start-at", "2099-01-01T00:00:00Z"), "24 hours"),
                             (("-c", "2", "--shard", "2/3"), "spread over 3 shards")):
            r = barrage(*args, "-n", "3", s.url)
            eq(r.rc, 2, f"{args}: {r}")
            check(needle in r.err and r.err.count("\n") == 1, f"{args}: {r.err!r}")
