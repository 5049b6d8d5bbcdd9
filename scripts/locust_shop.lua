-- locust_shop.lua - a Locust locustfile ported line by line (the original:
-- tests/e2e/data/locustfile_shop.py), against the demo API of `barrage serve`:
--   ./barrage serve --listen 127.0.0.1:8080 &
--   ./barrage -t2 -c13 -d10s -s scripts/locust_shop.lua http://127.0.0.1:8080/
-- Locust                                   barrage
--   class Shopper(HttpUser): weight = 10     local Shopper = barrage.user{ weight = 10,
--   wait_time = between(1, 3)  (seconds)       wait = between(1, 3)  (seconds)
--   def on_start(self) / on_stop(self)         on_start = function(u) / on_stop = function(u)
--   @task(3) def browse(self)                  tasks = { barrage.task(3, browse), ... }
--   self.client.get(path, name=...)            u:get(path, { name = ... })
--   self.client.headers[...] = ...             u.headers[...] = ...
--   assert cond, "msg"                         assert(cond, "msg")  (an exception: counted, the user goes on)
-- 13 users split 10:1 give 12 Shoppers and 1 Browser, run-wide (threads and --shard agree).

local function browse(u)
   local items = u:get("/api/items", { name = "items" })
   assert(#items:json() == 5, "five items")
   u:get("/api/items/" .. math.random(1, 5), { name = "item" })
end

local function buy(u)
   u:post("/api/cart", { json = { item = 1 }, name = "cart" })
end

local Shopper = barrage.user{
   weight = 10,
   wait = between(1, 3),
   on_start = function(u)
      local r = u:post("/api/login", { json = { name = "ann", password = "pw" }, name = "login" })
      u.headers.Authorization = "Bearer " .. r:json().token
   end,
   tasks = { barrage.task(3, browse), barrage.task(1, buy) },
   on_stop = function(u)
      u:get("/api/me", { name = "me" })
   end,
}

local Browser = barrage.user{
   weight = 1,
   wait = constant(2),
   tasks = { function(u) u:get("/", { name = "home" }) end },
}
