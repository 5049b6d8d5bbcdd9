-- setup.lua: per-thread data. setup() runs in the main thread once per
-- thread, before they start; thread:set() puts a global into that thread's
-- own Lua state; done() reads them back with thread:get().

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   requests = 0
   responses = 0
   wrk.headers["X-Thread"] = tostring(id)
end

function request()
   requests = requests + 1
   return wrk.request()
end

function response(status, headers, body)
   responses = responses + 1
end

function done(summary, latency, requests)
   for _, thread in ipairs(threads) do
      io.write(string.format("thread %d made %d requests and got %d responses\n",
         thread:get("id"), thread:get("requests"), thread:get("responses")))
   end
end
