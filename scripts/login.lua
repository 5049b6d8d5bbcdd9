-- login.lua: a virtual-user workflow (one coroutine per connection) against
-- the demo API of `barrage serve`:
--   ./barrage serve --listen 127.0.0.1:8080 &
--   ./barrage -t2 -c20 -d10s -s scripts/login.lua http://127.0.0.1:8080/
-- Each user logs in, keeps its token and its session cookie, browses with
-- think time and puts something in its cart. Requests are grouped by name in
-- the report; check() results are listed too.

function user(u)
   local r = u:post("/api/login", { json = { name = "user" .. u.id, password = "pw" }, name = "login" })
   if not check(r.status == 200, "logged in") then
      u:sleep(1000) -- back off, then start over
      return
   end
   u.headers["Authorization"] = "Bearer " .. r:json().token

   for _ = 1, 3 do
      local items = u:get("/api/items", { name = "list items" })
      check(items.status == 200 and #items:json() == 5, "five items listed")
      local item = u:get("/api/items/" .. math.random(1, 5), { name = "view item" })
      check(item.status == 200, "item found")
      u:sleep(u:between(10, 50)) -- think time: other users keep running
   end

   local cart = u:post("/api/cart", { json = { item = 1 }, name = "add to cart" })
   check(cart.status == 201, "cart accepted the session cookie")
end
