-- wrk script for `make bench` (bench/run.py starts wrk with it; BENCHMARKS.md has the method).
--
-- One connection per wrk thread (run.py passes -t N -c N): wrk never pipelines, so each
-- thread's request() and response() calls strictly alternate and a response answers the
-- request made just before it. That is what lets the vote toggle account for every
-- acknowledged vote exactly.
--
-- Latencies are measured here, per request, on the monotonic clock: wrk's own histogram
-- adds "coordinated omission" samples, which suit a constant-rate load, not this closed
-- loop. wrk's thread:get cannot copy tables, so each thread keeps its latencies and its
-- vote pairs' states in C arrays (LuaJIT FFI) and publishes their addresses; done() runs
-- after the threads have ended, in the same process, and reads them from there.
--
-- Settings come from the environment:
--   BENCH_MODE     vote | floor_insert | club_page | session_page | timeline | poll_page |
--                  calendar | floor_select
--   BENCH_CONNECTIONS  the number of connections (= threads)
--   BENCH_MEMBERS  members file: user id, membership id, session key, CSRF secret (tab-separated)
--   BENCH_PLAN     (vote) the pairs to toggle: connection, session key, CSRF secret,
--                  membership id, suggestion id, 1 if voted now else 0
--   BENCH_SLUG, BENCH_POLL, BENCH_SESSIONS (how many numbered sessions), BENCH_PAPERS (max paper id),
--   BENCH_CLOSED_POLLS (closed polls' ids, comma-separated)

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local MAX_SAMPLES = 200000 -- per thread; more than any run here makes
local ts = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local function split(line)
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do
    fields[#fields + 1] = field
  end
  return fields
end

-- Main state: number the threads from 0, and keep them for done().
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  thread:set("thread_count", tonumber(os.getenv("BENCH_CONNECTIONS")))
  threads[#threads + 1] = thread
end

-- Thread state. Globals are what done() reads through thread:get (numbers and strings).
local mode, slug, poll, sessions, papers
local members = {} -- {session key, csrf secret}
local closed_polls = {} -- poll_page: closed polls' ids
local owned = {} -- vote: {session key, csrf, membership id, suggestion id}
local states -- vote: C array, 1 if the owned pair is voted (as last acknowledged)
local latencies -- C array of microseconds
local current -- vote: index of the owned pair the request in flight toggles
local sent_at
local followups = {} -- vote: HX-Target of each region a vote's answer makes the page fetch
local pending = 0 -- vote: follow-up requests still to send after the last answered vote
local clicks = 0 -- vote: votes sent (follow-ups are not clicks)
local is_followup = false -- the request in flight is a follow-up
responses, ok, body_bytes, adds, removes, refused, first_us, last_us = 0, 0, 0, 0, 0, 0, 0, 0
statuses = "" -- "200:12,409:1": updated when a response's status is not 2xx or 409
local other = {}
in_flight = nil -- vote: "membership:suggestion" of a request sent and not yet answered
latencies_addr, states_addr, pair_count = 0, 0, 0

local function address(array)
  return tonumber(ffi.cast("uintptr_t", array))
end

function init(args)
  mode = os.getenv("BENCH_MODE")
  for target in string.gmatch(os.getenv("BENCH_FOLLOWUPS") or "", "[^,]+") do
    followups[#followups + 1] = target
  end
  slug = os.getenv("BENCH_SLUG")
  poll = os.getenv("BENCH_POLL")
  sessions = tonumber(os.getenv("BENCH_SESSIONS"))
  for id in string.gmatch(os.getenv("BENCH_CLOSED_POLLS") or "", "[^,]+") do
    closed_polls[#closed_polls + 1] = id
  end
  papers = tonumber(os.getenv("BENCH_PAPERS"))
  for line in io.lines(os.getenv("BENCH_MEMBERS")) do
    local f = split(line)
    members[#members + 1] = { f[3], f[4] }
  end
  local initial = {}
  if mode == "vote" then
    for line in io.lines(os.getenv("BENCH_PLAN")) do
      local f = split(line)
      if tonumber(f[1]) == thread_index then
        owned[#owned + 1] = { f[2], f[3], f[4], f[5] }
        initial[#initial + 1] = tonumber(f[6])
      end
    end
  end
  pair_count = #owned
  states = ffi.new("uint8_t[?]", pair_count + 1)
  for i, state in ipairs(initial) do
    states[i - 1] = state
  end
  latencies = ffi.new("uint32_t[?]", MAX_SAMPLES)
  latencies_addr, states_addr = address(latencies), address(states)
end

local function signed_in(member)
  return { ["Cookie"] = "sessionid=" .. member[1] .. "; csrftoken=" .. member[2] }
end

local function htmx_post(session_key, csrf, target)
  local origin = "http://" .. wrk.host .. ":" .. wrk.port
  return {
    ["Cookie"] = "sessionid=" .. session_key .. "; csrftoken=" .. csrf,
    ["X-CSRFToken"] = csrf,
    ["Origin"] = origin,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["HX-Request"] = "true",
    ["HX-Current-URL"] = origin .. "/c/" .. slug .. "/",
    ["HX-Target"] = target,
  }
end

-- The n-th request of this thread. Members, sessions and papers go round, each thread
-- starting at its own offset.
local function build(n)
  local spread = thread_index + n * thread_count
  local member = members[spread % #members + 1]
  if mode == "vote" then
    current = n % pair_count
    local pair = owned[current + 1]
    -- Toggle: a voted pair is un-voted, an un-voted pair is voted.
    local approve = states[current] == 1 and "0" or "1"
    local path = "/c/" .. slug .. "/polls/" .. poll .. "/vote/" .. pair[4] .. "/"
    return wrk.format("POST", path, htmx_post(pair[1], pair[2], "suggestion-" .. pair[4]),
      "approve=" .. approve)
  elseif mode == "floor_insert" then
    return wrk.format("POST", "/bench/floor/insert/", htmx_post(member[1], member[2], "floor"),
      "approve=1")
  elseif mode == "club_page" then
    return wrk.format("GET", "/c/" .. slug .. "/", signed_in(member))
  elseif mode == "session_page" then
    local number = spread % sessions + 1
    return wrk.format("GET", "/c/" .. slug .. "/sessions/" .. number .. "/", signed_in(member))
  elseif mode == "poll_page" then
    local id = closed_polls[spread % #closed_polls + 1]
    return wrk.format("GET", "/c/" .. slug .. "/polls/" .. id .. "/", signed_in(member))
  elseif mode == "timeline" then
    return wrk.format("GET", "/c/" .. slug .. "/sessions/", signed_in(member))
  elseif mode == "calendar" then
    -- Calendar apps subscribe without cookies.
    return wrk.format("GET", "/c/" .. slug .. "/calendar.ics", {})
  elseif mode == "floor_select" then
    return wrk.format("GET", "/bench/floor/select/?pk=" .. spread % papers + 1, signed_in(member))
  end
  error("unknown BENCH_MODE " .. tostring(mode))
end

-- Called for each request wrk writes (and once more, unsent, by wrk's request check on
-- thread 0 before it starts: harmless, nothing changes until a response). After a broken
-- connection the same request is made again; a vote is idempotent, so that is safe.
local function followup()
  -- What htmx sends for a region that fetches itself again: the page's URL, its target.
  local pair = owned[current + 1]
  local target = followups[#followups - pending + 1]
  pending = pending - 1
  local headers = signed_in({ pair[1], pair[2] })
  headers["HX-Request"] = "true"
  headers["HX-Target"] = target
  headers["HX-Current-URL"] = "http://" .. wrk.host .. ":" .. wrk.port .. "/c/" .. slug .. "/"
  return wrk.format("GET", "/c/" .. slug .. "/", headers)
end

function request()
  sent_at = now_us()
  is_followup = mode == "vote" and pending > 0
  if is_followup then
    return followup()
  end
  local req = build(mode == "vote" and clicks or responses)
  if mode == "vote" then
    clicks = clicks + 1
    in_flight = owned[current + 1][3] .. ":" .. owned[current + 1][4]
  end
  return req
end

function response(status, headers, body)
  local t = now_us()
  if responses == 0 then
    first_us = sent_at -- the first request that was really sent and answered
  end
  if responses < MAX_SAMPLES then
    latencies[responses] = t - sent_at
  end
  responses = responses + 1
  last_us = t
  if is_followup and status >= 200 and status < 300 then
    ok = ok + 1 -- part of the click before it: it changes no vote
    body_bytes = body_bytes + #body
    return
  end
  in_flight = nil
  if status >= 200 and status < 300 then
    ok = ok + 1
    body_bytes = body_bytes + #body
    if mode == "vote" then
      pending = #followups
      -- Acknowledged: the toggle happened; it is now the pair's known state.
      if states[current] == 1 then
        removes = removes + 1
        states[current] = 0
      else
        adds = adds + 1
        states[current] = 1
      end
    end
  elseif mode == "vote" and status == 409 and not is_followup then
    refused = refused + 1 -- a refusal (over budget): nothing changed
  else
    other[status] = (other[status] or 0) + 1
    local parts = {}
    for code, n in pairs(other) do
      parts[#parts + 1] = code .. ":" .. n
    end
    statuses = table.concat(parts, ",")
  end
end

-- JSON for run.py, on one line after "BENCH_JSON ".
local function encode(value)
  local kind = type(value)
  if kind == "table" then
    local items = {}
    if value[1] ~= nil then
      for i, item in ipairs(value) do
        items[i] = encode(item)
      end
      return "[" .. table.concat(items, ",") .. "]"
    end
    for k, item in pairs(value) do
      items[#items + 1] = encode(tostring(k)) .. ":" .. encode(item)
    end
    return "{" .. table.concat(items, ",") .. "}"
  elseif kind == "string" then
    return '"' .. value:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif kind == "number" then
    return string.format("%.17g", value)
  elseif kind == "boolean" then
    return tostring(value)
  end
  return "null"
end

function done(summary, latency, requests)
  local out = {
    summary = {
      duration_us = summary.duration,
      requests = summary.requests,
      bytes = summary.bytes,
      errors = summary.errors,
      wrk_p50_us = latency:percentile(50),
      wrk_p99_us = latency:percentile(99),
    },
    threads = {},
  }
  for i, thread in ipairs(threads) do
    local n = thread:get("responses")
    local samples = ffi.cast("uint32_t *", thread:get("latencies_addr"))
    local lat = {}
    for j = 0, math.min(n, MAX_SAMPLES) - 1 do
      lat[j + 1] = samples[j]
    end
    local states_of = ffi.cast("uint8_t *", thread:get("states_addr"))
    local flags = {}
    for j = 0, thread:get("pair_count") - 1 do
      flags[j + 1] = tostring(states_of[j])
    end
    out.threads[i] = {
      thread = i - 1,
      responses = n,
      ok = thread:get("ok"),
      body_bytes = thread:get("body_bytes"),
      adds = thread:get("adds"),
      removes = thread:get("removes"),
      refused = thread:get("refused"),
      other_statuses = thread:get("statuses"),
      first_us = thread:get("first_us"),
      last_us = thread:get("last_us"),
      in_flight = thread:get("in_flight") or "",
      states = table.concat(flags),
      latencies_us = lat,
    }
  end
  io.write("BENCH_JSON ", encode(out), "\n")
end
