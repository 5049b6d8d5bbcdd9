-- stop.lua: each thread stops after 100 responses (thread:stop()).

local responses = 0

function response(status, headers, body)
   responses = responses + 1
   if responses == 100 then
      wrk.thread:stop()
   end
end
