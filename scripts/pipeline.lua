-- pipeline.lua: send three requests at once (HTTP/1.1 pipelining); every
-- response is counted on its own.

local batch

function init(args)
   batch = wrk.format(nil, "/a") .. wrk.format(nil, "/b") .. wrk.format(nil, "/c")
end

function request()
   return batch
end
