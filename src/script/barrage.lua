-- barrage.lua: the Lua half of barrage's scripting API, embedded in the
-- binary at build time and run in every Lua state before the user's script.
-- It provides wrk's API unchanged (wrk.format, wrk.resolve, wrk.setup,
-- wrk.init, setup/init/delay/request/response/done hooks) and barrage's
-- virtual-user workflows (user(u), u:get/post/..., u:sleep, check).
-- The C half (script_api.c, script_request.c) registers: wrk.lookup, wrk.connect, and
-- barrage._check, barrage.now, barrage._send, barrage._mark before this
-- chunk runs.

local barrage = barrage
local wrk = wrk
local concat, lower = table.concat, string.lower

-- Header tables as users expect them: a name keeps the spelling it was
-- given (it goes out on the wire that way, as in wrk 4.1.0), and lookups and
-- assignments ignore case, so wrk.headers["host"] = "x" replaces the Host
-- header instead of adding a second one. Keys are stored raw (pairs() sees
-- them); the metamethods run only when the exact spelling is absent.
local function find_key(t, k)
   local l = lower(k)
   for name in pairs(t) do
      if type(name) == "string" and lower(name) == l then return name end
   end
end
local hdr_mt = {
   __index = function(t, k)
      if type(k) ~= "string" then return nil end
      local name = find_key(t, k)
      return name and rawget(t, name)
   end,
   __newindex = function(t, k, v)
      if type(k) == "string" then
         local name = find_key(t, k)
         if name then rawset(t, name, nil) end
      end
      rawset(t, k, v) -- the latest spelling wins
   end,
}
barrage.header_table = function(t)
   local h = setmetatable({}, hdr_mt)
   for k, v in pairs(t or {}) do h[k] = v end
   return h
end

wrk.scheme  = wrk.scheme or "http"
wrk.host    = wrk.host or "localhost"
wrk.method  = wrk.method or "GET"
wrk.path    = wrk.path or "/"
wrk.headers = barrage.header_table(wrk.headers)

function wrk.resolve(host, service)
   local addrs = wrk.lookup(host, service)
   for i = #addrs, 1, -1 do
      if not wrk.connect(addrs[i]) then table.remove(addrs, i) end
   end
   wrk.addrs = addrs
end

function wrk.setup(thread)
   thread.addr = wrk.addrs[1]
   local setup = rawget(_G, "setup") -- raw: a strict _G may raise on unknown names
   if type(setup) == "function" then setup(thread) end
end

local function host_header()
   local host, port = wrk.host, wrk.port
   if host:find(":", 1, true) then host = "[" .. host .. "]" end
   if port then host = host .. ":" .. port end
   return host
end

function wrk.init(args)
   -- a script may have replaced wrk.headers with a plain table: same rules
   if type(wrk.headers) == "table" and getmetatable(wrk.headers) == nil then setmetatable(wrk.headers, hdr_mt) end
   if not wrk.headers["Host"] then wrk.headers["Host"] = host_header() end
   local init = rawget(_G, "init")
   if type(init) == "function" then init(args) end
   local req = wrk.format()
   wrk.request = function() return req end
end

-- The request bytes, as wrk's wrk.format makes them: header names as the
-- caller spelled them; like wrk's, it fills the caller's table: Host (from
-- wrk.headers) when it has none, and Content-Length from the body (any given
-- one, in any spelling, is replaced, or removed when there is no body). One
-- pass over the headers: it runs for every request of request() scripts and
-- workflows.
local function build_request(method, path, headers, body)
   local s, n, host, clen = { method, " ", path, " HTTP/1.1\r\n" }, 4, false, nil
   for name, value in pairs(headers) do
      local l = type(name) == "string" and lower(name) or name
      if l == "content-length" then
         clen = name
      else
         if l == "host" then host = true end
         if type(value) ~= "string" and type(value) ~= "number" then value = tostring(value) end
         s[n + 1], s[n + 2], s[n + 3], s[n + 4] = name, ": ", value, "\r\n"
         n = n + 4
      end
   end
   if not host then
      local h = wrk.headers["Host"]
      if h then
         rawset(headers, "Host", h)
         s[n + 1], s[n + 2], s[n + 3], s[n + 4] = "Host", ": ", h, "\r\n"
         n = n + 4
      end
   end
   if clen ~= nil and (clen ~= "Content-Length" or not body) then rawset(headers, clen, nil) end
   if body then
      rawset(headers, "Content-Length", #body)
      s[n + 1], s[n + 2], s[n + 3], s[n + 4] = "Content-Length", ": ", #body, "\r\n"
      n = n + 4
   end
   s[n + 1], s[n + 2] = "\r\n", body or ""
   return concat(s)
end

function wrk.format(method, path, headers, body)
   return build_request(method or wrk.method, path or wrk.path, headers or wrk.headers, body or wrk.body)
end

-- check(cond, name): count a pass or a failure under `name`; returns cond.
function check(cond, name)
   barrage._check(tostring(name or "check"), cond and true or false)
   return cond
end

-- JSON through lua-cjson, loaded on first use.
local cjson
local function json()
   if not cjson then
      local ok, mod = pcall(require, "cjson")
      if not ok then error("JSON needs lua-cjson (apt-get install lua-cjson): " .. tostring(mod), 3) end
      cjson = mod
   end
   return cjson
end
barrage.json = json

---------------------------------------------------------------------------
-- Virtual users: user(u) runs as one coroutine per connection.
---------------------------------------------------------------------------
-- A response: status, body, name, error, failed, elapsed and _token are
-- fields; headers and timings are made on first use (most workflows read
-- neither, and the headers table is the costliest part of a response),
-- from the raw header block _h and the times _c, _s, _f.
local response_mt, methods = {}, {}
local parse_headers = barrage._headers
response_mt.__index = function(r, k)
   if k == "headers" then
      local h = parse_headers(rawget(r, "_h"))
      rawset(r, "headers", h)
      return h
   elseif k == "timings" then
      local f = rawget(r, "_f")
      local t = { connect = rawget(r, "_c"), tls = rawget(r, "_s"), ttfb = f, waiting = f, duration = rawget(r, "elapsed") }
      rawset(r, "timings", t)
      return t
   end
   return methods[k]
end
function methods:json()
   return json().decode(self.body)
end
-- Locust's catch_response: r:failure(msg) counts this response as failed
-- (msg is its reason), r:success() as not failed; the last call wins, until
-- the user's next request or sleep. False on a request that got no response.
function methods:failure(msg)
   local ok, err = barrage._mark(self._token, false, msg ~= nil and tostring(msg) or "r:failure()")
   if err then error(err, 2) end
   if ok then self.failed = true end
   return ok
end
function methods:success()
   local ok, err = barrage._mark(self._token, true)
   if err then error(err, 2) end
   if ok then self.failed = false end
   return ok
end

-- expect = 200 | "200-299" | {200, 429, "500-503"} as --expect-status's list
local function expect_spec(e)
   local t = type(e)
   if t == "number" then return tostring(e) end
   if t == "string" then return e end
   if t == "table" then
      local parts = {}
      for i = 1, #e do
         local v = e[i]
         if type(v) ~= "number" and type(v) ~= "string" then
            error("u:request: expect must list statuses or ranges such as 200 or \"200-299\", got a " .. type(v), 3)
         end
         parts[i] = tostring(v)
      end
      if #parts == 0 then error("u:request: expect is an empty list: give statuses, e.g. expect = {200, 429}", 3) end
      return concat(parts, ",")
   end
   error("u:request: expect must be a status, a range such as \"200-299\" or a list of them, got a " .. t, 3)
end

local user_mt = {}
user_mt.__index = user_mt

-- The request is built, sent and its response made in C (script_request.c,
-- barrage._send: the workflow's hot path); the options are read here.
local send = barrage._send
function user_mt:request(method, path, opts)
   if type(method) ~= "string" then error("u:request(method, path, opts): method must be a string", 2) end
   if type(path) ~= "string" then error("u:request: path must be a string, got " .. type(path), 2) end
   local name, headers, body, expect, is_json = path, nil, nil, nil, false
   if opts ~= nil then
      if type(opts) ~= "table" then error("u:request: options must be a table, got " .. type(opts), 2) end
      name, headers, body = opts.name or path, opts.headers, opts.body
      if opts.json ~= nil then body, is_json = json().encode(opts.json), true end
      if body ~= nil and type(body) ~= "string" then error("u:request: body must be a string", 2) end
      if headers ~= nil and type(headers) ~= "table" then error("u:request: headers must be a table, got " .. type(headers), 2) end
      if opts.expect ~= nil then expect = expect_spec(opts.expect) end
   end
   self.yields = self.yields + 1
   local r = send(self, method, path, name, headers, body, expect, is_json) -- not a tail call: errors name the caller's line
   return r
end

local request = user_mt.request
function user_mt:get(path, opts) return request(self, "GET", path, opts) end
function user_mt:post(path, opts) return request(self, "POST", path, opts) end
function user_mt:put(path, opts) return request(self, "PUT", path, opts) end
function user_mt:patch(path, opts) return request(self, "PATCH", path, opts) end
function user_mt:delete(path, opts) return request(self, "DELETE", path, opts) end
function user_mt:head(path, opts) return request(self, "HEAD", path, opts) end

-- u:sleep(ms) or u:sleep("1.5s"): a number is milliseconds (as before), a
-- string a duration in the command line's grammar (units.c, through C).
function user_mt:sleep(ms)
   if type(ms) == "string" then
      local v = barrage._duration_ms(ms)
      if not v then error("u:sleep: cannot read '" .. ms .. "' as a duration (e.g. \"1.5s\", \"200ms\", or a number of ms)", 2) end
      ms = v
   end
   if type(ms) ~= "number" or not (ms >= 0) then error("u:sleep(ms): ms must be a non-negative number, got " .. tostring(ms), 2) end
   self.yields = self.yields + 1
   coroutine.yield("sleep", ms)
end

function user_mt:between(a, b)
   if type(a) ~= "number" or type(b) ~= "number" or b < a then
      error("u:between(a, b): a and b must be numbers with a <= b", 2)
   end
   return a + math.random() * (b - a)
end

-- k6's `iterations`: each completed user(u) run or task counts one (C's counter).
local iteration_done = barrage._iteration

---------------------------------------------------------------------------
-- Locust's user model: barrage.user{} classes, tasks, wait_time helpers.
---------------------------------------------------------------------------
local classes = {}
local mono = barrage._mono

-- Wait objects (Locust's wait_time): seconds, as in Locust.
local wait_mt = {}
wait_mt.__index = wait_mt
local function seconds_arg(v, what)
   if type(v) ~= "number" or not (v >= 0) or v == math.huge then
      error(what .. ": seconds must be a number >= 0, got " .. tostring(v), 3)
   end
end
function between(a, b)
   seconds_arg(a, "between(a, b)")
   seconds_arg(b, "between(a, b)")
   if b < a then error("between(a, b): a must be <= b (seconds)", 2) end
   return setmetatable({ kind = "between", a = a, b = b }, wait_mt)
end
function constant(s)
   seconds_arg(s, "constant(s)")
   return setmetatable({ kind = "constant", a = s }, wait_mt)
end
function constant_pacing(s)
   seconds_arg(s, "constant_pacing(s)")
   return setmetatable({ kind = "pacing", a = s }, wait_mt)
end
function constant_throughput(n)
   if type(n) ~= "number" or not (n > 0) or n == math.huge then
      error("constant_throughput(n): n must be a number of task runs per second > 0, got " .. tostring(n), 2)
   end
   return setmetatable({ kind = "pacing", a = 1 / n }, wait_mt)
end
-- Seconds to wait after a task that started at `t0` (barrage._mono()).
function wait_mt:seconds(t0)
   local k = self.kind
   if k == "between" then return self.a + math.random() * (self.b - self.a) end
   if k == "constant" then return self.a end
   local left = self.a - (mono() - t0)
   return left > 0 and left or 0
end

local function where_defined(fn)
   local info = debug.getinfo(fn, "S")
   return info.short_src .. ":" .. info.linedefined
end

-- A task with a weight: barrage.task(3, fn), Locust's @task(3).
function barrage.task(weight, fn)
   if type(weight) == "function" and fn == nil then weight, fn = 1, weight end
   if type(weight) ~= "number" or not (weight > 0) or weight == math.huge then
      error("barrage.task(weight, fn): weight must be a number > 0, got " .. tostring(weight), 2)
   end
   if type(fn) ~= "function" then error("barrage.task(weight, fn): fn must be a function, got " .. type(fn), 2) end
   return { weight, fn }
end

local function is_pair(v)
   return type(v) == "table" and type(v[1]) == "number" and type(v[2]) == "function"
end

-- The forms of `tasks`: { [3] = fn, [1] = fn2 } (the key is the weight),
-- { {3, fn}, {1, fn2} } or { barrage.task(3, fn), ... }, { [fn] = 3 }
-- (Locust's dict), { browse = fn } (weight 1), and a plain list
-- { fn, fn2 } (keys exactly 1..n: equal weights, Locust's list).
local function normalize_tasks(t)
   if type(t) == "function" then t = { t } end
   if type(t) ~= "table" then error("barrage.user{}: tasks must be a table of functions, got " .. type(t), 3) end
   local n, count, list = #t, 0, true
   for _, v in pairs(t) do
      count = count + 1
      if type(v) ~= "function" then list = false end
   end
   list = list and count == n
   local out = {}
   for k, v in pairs(t) do
      local w, fn
      if is_pair(v) then w, fn = v[1], v[2]
      elseif type(k) == "function" and type(v) == "number" then w, fn = v, k
      elseif type(v) == "function" then
         w, fn = (not list and type(k) == "number") and k or 1, v
      else
         error("barrage.user{}: cannot read the task " .. tostring(k) .. " = " .. tostring(v) ..
               " (use [weight] = fn, {weight, fn}, barrage.task(weight, fn) or [fn] = weight)", 3)
      end
      if not (w > 0) or w == math.huge then error("barrage.user{}: a task weight must be a number > 0, got " .. tostring(w), 3) end
      local info = debug.getinfo(fn, "S")
      out[#out + 1] = { w = w, fn = fn, src = info.short_src, line = info.linedefined }
   end
   if #out == 0 then error("barrage.user{}: tasks is empty: give at least one task function", 3) end
   -- a fixed order (not pairs'), so that a seeded math.random picks the same tasks
   table.sort(out, function(x, y)
      if x.src ~= y.src then return x.src < y.src end
      if x.line ~= y.line then return x.line < y.line end
      return x.w < y.w
   end)
   local total = 0
   for i = 1, #out do total = total + out[i].w; out[i].upto = total end
   return out, total
end

-- The class's name: `name = "..."`, else the variable it is assigned to on
-- the line of the call (`local Shopper = barrage.user{`), else UserN.
local function class_name(spec, n)
   if spec.name ~= nil then return tostring(spec.name) end
   local info = debug.getinfo(3, "Sl")
   if info and info.source:sub(1, 1) == "@" and info.currentline > 0 then
      local f = io.open(info.source:sub(2), "r")
      if f then
         local i, found = 0, nil
         for line in f:lines() do
            i = i + 1
            if i == info.currentline then found = line:match("([%a_][%w_]*)%s*=%s*barrage%.user"); break end
         end
         f:close()
         if found then return found end
      end
   end
   return "User" .. n
end

-- barrage.user{ weight | fixed_count, wait, on_start, on_stop, tasks, headers, name }
function barrage.user(spec)
   if type(spec) ~= "table" then error("barrage.user{...}: expects a table (tasks = ..., weight = ...)", 2) end
   local cls = { weight = spec.weight, fixed_count = spec.fixed_count, wait = spec.wait or spec.wait_time,
                 on_start = spec.on_start, on_stop = spec.on_stop, headers = spec.headers }
   if cls.weight ~= nil and (type(cls.weight) ~= "number" or not (cls.weight >= 0) or cls.weight == math.huge) then
      error("barrage.user{}: weight must be a number >= 0, got " .. tostring(cls.weight), 2)
   end
   if cls.fixed_count ~= nil then
      local f = cls.fixed_count
      if type(f) ~= "number" or f < 0 or f ~= math.floor(f) or f == math.huge then
         error("barrage.user{}: fixed_count must be a whole number >= 0, got " .. tostring(f), 2)
      end
      if cls.weight ~= nil then error("barrage.user{}: give weight or fixed_count, not both", 2) end
   end
   cls.weight = cls.weight or 1
   local w = cls.wait
   if type(w) == "number" then cls.wait = constant(w)
   elseif w ~= nil and getmetatable(w) ~= wait_mt and type(w) ~= "function" then
      error("barrage.user{}: wait must be between(a, b), constant(s), constant_pacing(s), constant_throughput(n), " ..
            "a number of seconds or a function(u) returning seconds, got " .. type(w), 2)
   end
   for _, k in ipairs({ "on_start", "on_stop" }) do
      if cls[k] ~= nil and type(cls[k]) ~= "function" then error("barrage.user{}: " .. k .. " must be a function(u)", 2) end
   end
   if cls.headers ~= nil and type(cls.headers) ~= "table" then error("barrage.user{}: headers must be a table", 2) end
   cls.tasks, cls.total = normalize_tasks(spec.tasks)
   cls.name = class_name(spec, #classes + 1)
   classes[#classes + 1] = cls
   return cls
end

-- "user", "classes", "both" or nil: which model the script uses; and
-- whether a class has an on_stop (the end of the run then waits for it).
function barrage._users_mode()
   local f = rawget(_G, "user")
   local has_fn, stops = type(f) == "function", false
   for i = 1, #classes do stops = stops or classes[i].on_stop ~= nil end
   if has_fn and #classes > 0 then return "both", stops end
   return has_fn and "user" or (#classes > 0 and "classes" or nil), stops
end

-- The class of every run-wide user id 1..total, a pure function of total
-- (threads and shards agree without talking): fixed_count classes first
-- (Locust spawns them first), then the weights' exact shares (largest
-- remainder, ties to the class defined first), interleaved by smooth
-- weighted round robin so that any prefix (a ramp) sees the mix.
local plans = {}
local function plan(total)
   local p = plans[total]
   if p then return p end
   p = {}
   local K, left, quota = #classes, total, {}
   for i = 1, K do
      local f = classes[i].fixed_count
      quota[i] = f and math.min(f, left) or 0
      left = left - quota[i]
   end
   for i = 1, K do for _ = 1, quota[i] do p[#p + 1] = i end end
   local W = 0
   for i = 1, K do if not classes[i].fixed_count then W = W + classes[i].weight end end
   local weighted = W > 0
   if not weighted then -- only fixed counts: the rest goes by them
      for i = 1, K do W = W + (classes[i].fixed_count or 0) end
   end
   if W <= 0 then error("barrage.user{}: every class has weight 0 (and no fixed_count): no user could run", 0) end
   local share, frac, given = {}, {}, 0
   for i = 1, K do
      local w = (weighted == not classes[i].fixed_count) and (classes[i].fixed_count or classes[i].weight) or 0
      local exact = left * w / W
      share[i] = math.floor(exact)
      frac[i] = exact - share[i]
      given = given + share[i]
   end
   local order = {}
   for i = 1, K do order[i] = i end
   table.sort(order, function(x, y) if frac[x] ~= frac[y] then return frac[x] > frac[y] end return x < y end)
   for j = 1, left - given do share[order[j]] = share[order[j]] + 1 end
   local cur = {}
   for i = 1, K do cur[i] = 0 end
   for _ = 1, left do
      local best
      for i = 1, K do
         cur[i] = cur[i] + share[i]
         if share[i] > 0 and (not best or cur[i] > cur[best]) then best = i end
      end
      cur[best] = cur[best] - left
      p[#p + 1] = best
   end
   plans[total] = p
   return p
end

-- Called by C at a thread's start: { name1, users1, name2, users2, ... }
-- for its users first..first+n-1 (every class, zeros too), or nil.
function barrage._class_counts(first, n, total)
   if #classes == 0 then return nil end
   local p, counts, out = plan(total), {}, {}
   for i = 1, #classes do counts[i] = 0 end
   for g = first, first + n - 1 do counts[p[g]] = counts[p[g]] + 1 end
   for i = 1, #classes do out[#out + 1] = classes[i].name; out[#out + 1] = counts[i] end
   return out
end

local function pick(cls)
   local tasks = cls.tasks
   if #tasks == 1 then return tasks[1].fn end
   local r = math.random() * cls.total
   for i = 1, #tasks do if r < tasks[i].upto then return tasks[i].fn end end
   return tasks[#tasks].fn
end

-- One user's life (a coroutine; an exception ends it, C backs off and
-- _user_resume starts a new one): on_start until it succeeds, then tasks.
local function class_body(u)
   local cls = u.class
   if not u._started then
      u._in = "on_start of class " .. cls.name -- the hook an error names (script_user.c)
      if cls.on_start then cls.on_start(u) end
      u._started = true
   end
   u._in = "a task of class " .. cls.name
   while true do
      u.iteration = u.iteration + 1
      local before, t0 = u.yields, mono()
      local fn = pick(cls)
      fn(u)
      iteration_done()
      u._fails = 0
      local w = cls.wait
      local s = w == nil and 0 or (type(w) == "function" and w(u) or w:seconds(t0))
      if type(s) ~= "number" or not (s >= 0) then error("wait: must give seconds >= 0, got " .. tostring(s), 0) end
      if s > 0 then u:sleep(s * 1000)
      elseif u.yields == before then
         error(where_defined(fn) .. ": a task returned without making a request, and its class has no wait: it would spin", 0)
      end
   end
end

local function user_body(u)
   while true do
      u.iteration = u.iteration + 1
      local before = u.yields
      user(u)
      if u.yields == before then
         error(where_defined(user) .. ": user(u) returned without making a request or sleeping: it would spin", 0)
      end
      iteration_done()
      u._fails = 0
   end
end

-- Called by C: a new virtual user for connection `id` (1-based per
-- thread), run-wide user `gid` (1-based) of `total`.
function barrage._user_new(id, gid, total)
   local u = setmetatable({ id = id, gid = gid, headers = {}, cookies = {}, iteration = 0, yields = 0, data = {},
                            _fails = 0 }, user_mt)
   if #classes > 0 then
      local p = plan(total)
      local cls = classes[p[gid] or p[(gid - 1) % total + 1]]
      u.class, u.class_name = cls, cls.name
      for k, v in pairs(cls.headers or {}) do u.headers[k] = v end
   end
   return u
end

-- Called by C when the user must stop (stages ramping down, the end of the
-- run): true if it has an on_stop to run first (its requests go out).
function barrage._user_stop(u)
   u._stopping = true
   local cls = u.class
   if not (cls and cls.on_stop and u._started) then return false end
   u._in = "on_stop of class " .. cls.name
   u.co = coroutine.create(function() cls.on_stop(u) end)
   return true
end

-- An error's message and "file:line": from the message, else the innermost
-- frame of the script in the dead coroutine.
local function split_error(co, e)
   local msg = e
   if type(msg) == "number" then
      msg = tostring(msg)
   elseif type(msg) ~= "string" then -- as lua.c: an address would make each error an exception of its own
      local mt, text = debug.getmetatable(msg), nil
      if type(mt) == "table" and mt.__tostring then -- a __tostring that raises must not end the run
         local ok, t = pcall(tostring, msg)
         if ok and type(t) == "string" then text = t end
      end
      msg = text or "(error object is a " .. type(msg) .. " value)"
   end
   local where, rest = msg:match("^([^\n]-:%d+): (.*)$")
   if where then return rest, where end
   for level = 0, 64 do
      local info = debug.getinfo(co, level, "Sl")
      if not info then break end
      if info.currentline and info.currentline > 0 and info.short_src ~= "barrage.lua" then
         return msg, info.short_src .. ":" .. info.currentline
      end
   end
   return msg, "?"
end

-- What a resume of u's coroutine gave, for C: what it yielded (true: a
-- request barrage._send made ready | "sleep", ms) | "exception", message,
-- location, back-off ms (-1: the user ends) | "stopped" (on_stop finished).
local function resumed(u, co, ok, kind, a, b)
   if not ok then
      u.co = nil
      local msg, where = split_error(co, kind)
      if u._stopping then return "exception", msg, where, -1 end
      local backoff = 100 * 2 ^ u._fails -- 100 ms, doubling to 1 s while it keeps failing
      u._fails = u._fails + 1
      return "exception", msg, where, backoff < 1000 and backoff or 1000
   end
   -- a yield always gives a value: only a coroutine that ended gives none
   if kind == nil and coroutine.status(co) == "dead" then
      u.co = nil
      if u._stopping then return "stopped" end
      error("user(u) ended", 0)
   end
   return kind, a, b
end

-- Called by C: resume u's coroutine (with nothing: its first step, or the
-- end of a wait), or start a new one (the first, or after an exception).
function barrage._user_resume(u, ...)
   local co = u.co
   if co then return resumed(u, co, coroutine.resume(co, ...)) end
   co = coroutine.create(u.class and class_body or user_body)
   u.co = co
   return resumed(u, co, coroutine.resume(co, u))
end

-- Called by C with a response (script_push_response): u:request's result,
-- the table made here (a constructor is the cheapest way to make it).
local user_resume = barrage._user_resume
function barrage._user_respond(u, status, h, body, err, name, failed, elapsed, c, s, f, token)
   local r = setmetatable({ status = status, _h = h, body = body, error = err, name = name, failed = failed,
                            elapsed = elapsed, _c = c, _s = s, _f = f, _token = token }, response_mt)
   local co = u.co
   if co then return resumed(u, co, coroutine.resume(co, r)) end
   return user_resume(u, r)
end
