-- workflow_wrk.lua (for wrk; barrage runs it too): the same three steps as
-- workflow_user.lua written in wrk's idiom, a request()/response() state
-- machine. wrk's Lua state is per thread and its hooks receive no connection,
-- so the state machine is per thread, not per connection: `step` is the step
-- the thread's workflow is at; request() sends it, and each 200 response
-- moves it on (1 -> 2 -> 3 -> 1), a non-2xx one starts over at step 1. With
-- 50 connections sharing one state, consecutive requests of one connection
-- are not the three steps in order (the closest wrk can get without a
-- connection id); the mix of steps over the run is the same, a third each.

local threads = {}
local reqs = {}
step = 1
sent = { 0, 0, 0 }

function setup(thread)
   threads[#threads + 1] = thread
end

function init(args)
   for i = 1, 3 do reqs[i] = wrk.format(nil, "/health?step=" .. i) end
end

function request()
   sent[step] = sent[step] + 1
   return reqs[step]
end

function response(status, headers, body)
   if status == 200 then
      step = step % 3 + 1
   else
      step = 1
   end
end

function done(summary, latency, requests)
   local n = { 0, 0, 0 }
   for _, t in ipairs(threads) do
      local s = t:get("sent")
      for i = 1, 3 do n[i] = n[i] + s[i] end
   end
   io.write(string.format("bench-script: steps sent %d %d %d\n", n[1], n[2], n[3]))
end
