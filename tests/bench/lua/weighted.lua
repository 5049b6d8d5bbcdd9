-- weighted.lua (barrage): the weighted-task workload of locust_bench.py, the
-- same as locust/weighted.py: one user class, two tasks 3:1, no think time
-- (Locust's wait_time = constant(0)). Requests are named by path, as Locust
-- names them, so both tools' per-name counts can be compared.

Weighted = barrage.user{
   wait = constant(0),
   tasks = {
      [3] = function(u) u:get("/items") end,
      [1] = function(u) u:get("/") end,
   },
}
