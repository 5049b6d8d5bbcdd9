# locustfile_shop.py - a small Locust 2.x locustfile against `barrage serve`'s demo API;
# scripts/locust_shop.lua is its port to barrage, line by line.
#   locust -f tests/e2e/data/locustfile_shop.py --headless -u 13 -r 13 -t 10s --host http://127.0.0.1:8080
import random

from locust import HttpUser, between, constant, task


class Shopper(HttpUser):
    weight = 10
    wait_time = between(1, 3)

    def on_start(self):
        r = self.client.post("/api/login", json={"name": "ann", "password": "pw"}, name="login")
        self.client.headers["Authorization"] = "Bearer " + r.json()["token"]

    @task(3)
    def browse(self):
        items = self.client.get("/api/items", name="items")
        assert len(items.json()) == 5, "five items"
        self.client.get(f"/api/items/{random.randint(1, 5)}", name="item")

    @task(1)
    def buy(self):
        self.client.post("/api/cart", json={"item": 1}, name="cart")

    def on_stop(self):
        self.client.get("/api/me", name="me")


class Browser(HttpUser):
    weight = 1
    wait_time = constant(2)

    @task
    def look(self):
        self.client.get("/", name="home")
