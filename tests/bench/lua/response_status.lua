-- response_status.lua: response(status, headers, body) counts the responses
-- by status in each thread; done() prints the totals. The request itself is
-- the static one of the URL (no request() hook). Run unchanged by wrk and
-- barrage with -s. Defining response() makes both tools parse and hand over
-- every response's headers and body.

local threads = {}
statuses = {}

function setup(thread)
   threads[#threads + 1] = thread
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      for status, n in pairs(t:get("statuses")) do total[status] = (total[status] or 0) + n end
   end
   local keys = {}
   for status in pairs(total) do keys[#keys + 1] = status end
   table.sort(keys)
   for _, status in ipairs(keys) do
      io.write(string.format("bench-script: status %d responses %d\n", status, total[status]))
   end
end
