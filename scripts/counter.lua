-- counter.lua: a different path for every request (/0, /1, /2, ...), counted
-- per thread; each thread's Lua state is its own, so the counters are too.

local counter = 0

function request()
   local path = "/item/" .. counter
   counter = counter + 1
   return wrk.format(nil, path)
end
