-- barrage.lua: the Lua half of barrage's scripting API, embedded in the
-- binary at build time and run in every Lua state before the user's script.
-- It provides wrk's API unchanged (wrk.format, wrk.resolve, wrk.setup,
-- wrk.init, setup/init/delay/request/response/done hooks) and barrage's
-- virtual-user workflows (user(u), u:get/post/..., u:sleep, check).
-- The C half (script_api.c) registers: wrk.lookup, wrk.connect, and
-- barrage._check, barrage.now, barrage._expect, barrage._mark before this
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
local response_mt = {}
response_mt.__index = response_mt
function response_mt:json()
   return json().decode(self.body)
end
-- Locust's catch_response: r:failure(msg) counts this response as failed
-- (msg is its reason), r:success() as not failed; the last call wins, until
-- the user's next request or sleep. False on a request that got no response.
function response_mt:failure(msg)
   local ok, err = barrage._mark(self._token, false, msg ~= nil and tostring(msg) or "r:failure()")
   if err then error(err, 2) end
   if ok then self.failed = true end
   return ok
end
function response_mt:success()
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

local function cookie_header(jar)
   local first, v = next(jar)
   if first == nil then return nil end
   if next(jar, first) == nil then return first .. "=" .. v end
   local parts = {}
   for k, val in pairs(jar) do parts[#parts + 1] = k .. "=" .. val end
   table.sort(parts)
   return concat(parts, "; ")
end

local function store_cookie(jar, value)
   local pair = value:match("^%s*([^;]*)")
   local k, v = pair:match("^([^=]+)=(.*)$")
   if k then
      k = k:match("^%s*(.-)%s*$")
      local attrs = lower(value)
      if attrs:find("max%-age=0") or attrs:find("max%-age=%-") or v == "" then
         jar[k] = nil
      else
         jar[k] = v
      end
   end
end

local methods_with_body = { POST = true, PUT = true, PATCH = true, DELETE = true }

-- Merge header table t into h, names case-insensitive (idx maps a lower-case
-- name to its spelling in h): the last spelling given goes out on the wire.
local function merge(h, idx, t)
   for k, v in pairs(t) do
      local l = lower(k)
      local old = idx[l]
      if old ~= nil and old ~= k then h[old] = nil end
      h[k], idx[l] = v, k
   end
end

function user_mt:request(method, path, opts)
   if type(method) ~= "string" then error("u:request(method, path, opts): method must be a string", 2) end
   if type(path) ~= "string" then error("u:request: path must be a string, got " .. type(path), 2) end
   if opts ~= nil and type(opts) ~= "table" then error("u:request: options must be a table, got " .. type(opts), 2) end
   opts = opts or {}
   local h, idx = {}, {}
   merge(h, idx, wrk.headers)
   merge(h, idx, self.headers)
   if opts.headers then merge(h, idx, opts.headers) end
   if not idx["cookie"] then h["Cookie"] = cookie_header(self.cookies) end
   local body = opts.body
   if opts.json ~= nil then
      body = json().encode(opts.json)
      if not idx["content-type"] then h["Content-Type"] = "application/json" end
   end
   if body ~= nil and type(body) ~= "string" then error("u:request: body must be a string", 2) end
   if body == nil and methods_with_body[method] then body = "" end
   local req = build_request(method, path, h, body)
   local name = opts.name or path
   local expect = opts.expect
   local bad = barrage._expect(expect ~= nil and expect_spec(expect) or nil)
   if bad then error(bad, 2) end
   self.yields = self.yields + 1
   local status, hdrs, cookies, rbody, err, failed, elapsed, connect, tls, ttfb, token =
      coroutine.yield("request", req, tostring(name))
   if cookies then
      local jar = self.cookies
      for i = 1, #cookies do store_cookie(jar, cookies[i]) end
   end
   return setmetatable({ status = status, headers = hdrs or {}, body = rbody or "", error = err, name = name,
                         failed = failed, elapsed = elapsed, _token = token,
                         timings = { connect = connect, tls = tls, ttfb = ttfb, waiting = ttfb, duration = elapsed } },
                       response_mt)
end

function user_mt:get(path, opts) return self:request("GET", path, opts) end
function user_mt:post(path, opts) return self:request("POST", path, opts) end
function user_mt:put(path, opts) return self:request("PUT", path, opts) end
function user_mt:patch(path, opts) return self:request("PATCH", path, opts) end
function user_mt:delete(path, opts) return self:request("DELETE", path, opts) end
function user_mt:head(path, opts) return self:request("HEAD", path, opts) end

function user_mt:sleep(ms)
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

-- k6's `iterations`: each completed user(u) run counts one (C's counter).
local iteration_done = barrage._iteration

-- Called by C: a new virtual user for connection `id` (1-based per thread).
function barrage._user_new(id)
   local u = setmetatable({ id = id, headers = {}, cookies = {}, iteration = 0, yields = 0, data = {} }, user_mt)
   u.co = coroutine.create(function()
      while true do
         u.iteration = u.iteration + 1
         local before = u.yields
         user(u)
         if u.yields == before then
            error("user(u) returned without making a request or sleeping: it would spin", 0)
         end
         iteration_done()
      end
   end)
   return u
end

-- Called by C: resume u's coroutine with a response (or nothing at first).
-- Returns what it yielded: "request", bytes, name | "sleep", ms.
function barrage._user_resume(u, ...)
   local ok, kind, a, b = coroutine.resume(u.co, ...)
   if not ok then error(kind, 0) end -- kind holds "file:line: message"
   if coroutine.status(u.co) == "dead" then error("user(u) ended", 0) end
   return kind, a, b
end
