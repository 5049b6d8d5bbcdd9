-- auth.lua: send an Authorization header with every request.
--   barrage -t2 -c10 -d10s -s scripts/auth.lua http://127.0.0.1:8080/ -- s3cr3t
-- The token comes from the first script argument (after --), or a default.

function init(args)
   local token = args[1] or "demo-token"
   wrk.headers["Authorization"] = "Bearer " .. token
end
