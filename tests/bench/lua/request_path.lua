-- request_path.lua: request() returns a new path every time, /health?i=1,
-- /health?i=2, ... (nginx's `location = /health` ignores the query, so every
-- answer is still 200 "ok"). Run unchanged by wrk and barrage:
--   wrk     -t1 -c50 -d5s -s tests/bench/lua/request_path.lua http://127.0.0.1:PORT/health
--   barrage -t1 -c50 -d5s -s tests/bench/lua/request_path.lua http://127.0.0.1:PORT/health
-- `calls` is a global so that done() can read it back with thread:get(); the
-- bench checks it against the requests the tool reports.

local threads = {}
calls = 0

function setup(thread)
   threads[#threads + 1] = thread
end

function request()
   calls = calls + 1
   return wrk.format(nil, "/health?i=" .. calls)
end

function done(summary, latency, requests)
   local n = 0
   for _, t in ipairs(threads) do n = n + t:get("calls") end
   io.write(string.format("bench-script: request() calls %d\n", n))
end
