-- workflow_user.lua (barrage only): a three-step workflow as a virtual user.
-- Each connection runs its own user(u): GET /health?step=1, then ?step=2,
-- then ?step=3, each waiting for the previous response, each named in the
-- report; a non-200 answer abandons the iteration (the next one starts over
-- at step 1). wrk's equivalent is workflow_wrk.lua.

function user(u)
   if u:get("/health?step=1", { name = "step1" }).status ~= 200 then return end
   if u:get("/health?step=2", { name = "step2" }).status ~= 200 then return end
   u:get("/health?step=3", { name = "step3" })
end
