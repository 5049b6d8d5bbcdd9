"""weighted.py (Locust 2.12): the weighted-task workload of locust_bench.py,
the same as lua/weighted.lua: one user class, two tasks 3:1 (GET /items,
GET /), no think time. Two classes with the same tasks, picked on the
command line (`locust -f weighted.py WeightedHttp` or `... WeightedFast`):
HttpUser (requests) and FastHttpUser (geventhttpclient, Locust's fast client).

When BENCH_LOCUST_JSON names a file, the final stats (per name: requests,
failures; the total's first and last request times) are written there as
JSON when Locust quits: exact counts, without parsing the console table."""
import json
import os

from locust import FastHttpUser, HttpUser, constant, events


def items(user):
    user.client.get("/items")


def index(user):
    user.client.get("/")


class WeightedHttp(HttpUser):
    wait_time = constant(0)
    tasks = {items: 3, index: 1}


class WeightedFast(FastHttpUser):
    wait_time = constant(0)
    tasks = {items: 3, index: 1}


@events.quitting.add_listener
def _write_stats(environment, **_kw):
    path = os.environ.get("BENCH_LOCUST_JSON")
    if not path:
        return
    st = environment.stats
    doc = {
        "names": {e.name: {"requests": e.num_requests, "failures": e.num_failures}
                  for e in st.entries.values()},
        "requests": st.total.num_requests,
        "failures": st.total.num_failures,
        "start_time": st.total.start_time,
        "last_request_timestamp": st.total.last_request_timestamp,
    }
    with open(path, "w") as f:
        json.dump(doc, f)
