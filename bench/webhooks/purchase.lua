-- wrk script: POST /api/events/{id}/purchases {"quantity":1} on one event as USER accounts,
-- paced to an offered rate or unpaced, for bench/webhooks/run-webhooks-bench.
-- Arguments (after --): TOKENS_FILE EVENT_ID THREADS RATE SECONDS RESULT_FILE
--   TOKENS_FILE bearer tokens, one a line; wrk thread i takes line (i mod #lines) + 1
--   THREADS     wrk's -t (each thread offers RATE / THREADS)
--   RATE        purchases per second offered by the whole run; 0: unpaced (each connection
--               sends its next request as soon as it has its answer, as bench/purchases hot)
--               Paced: each thread hands its connections send times on a fixed schedule
--               (start, start + 1/r, start + 2/r, ... for r = RATE / THREADS), in the order
--               they ask (delay()); a connection asking after its slot sends at once, so a
--               server that falls behind gets the missed requests as soon as connections are
--               free (no request of the schedule is dropped). "late" counts the requests sent
--               more than 50 ms after their slot: the connections could not keep the schedule.
--   SECONDS     the measured time: after it a thread sends no new request (delay() holds its
--               connections), waits for the answers of those in flight and of those already
--               given a send time ("issued"), then stops, so the
--               server made no purchase whose answer this script did not see. Each thread
--               writes RESULT_FILE.done-<thread> then, so that the caller can end wrk's own
--               timer (SIGINT) at once.
--   RESULT_FILE at the end, one JSON object: statuses ("201"; a 409 as "409 <problem type>";
--               anything else by its status), requests issued, sent and answered, "late", the measured
--               interval ("seconds": the first thread's start to the last answer, monotonic
--               clock), socket errors and wrk's latency percentiles (microseconds, from the
--               moment a request is written: the pacing's waits are not in them).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } webhooks_bench_timespec;
  int clock_gettime(int clock, webhooks_bench_timespec *t);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("webhooks_bench_timespec")
local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if #line > 0 then table.insert(out, line) end
  end
  return out
end

function init(args)
  local tokens = lines(args[1])
  local event = args[2]
  local thread_total = tonumber(args[3])
  local rate = tonumber(args[4]) / thread_total
  seconds = tonumber(args[5])
  result_file = args[6]
  interval = rate > 0 and 1 / rate or 0
  path = "/api/events/" .. event .. "/purchases"
  headers = {["Content-Type"] = "application/json",
             ["Authorization"] = "Bearer " .. tokens[(id % #tokens) + 1]}
  body = '{"quantity":1}'
  statuses = {}
  issued, sent, answered, late = 0, 0, 0, 0
  started, last_answer = 0, 0
  finishing, stopped = false, false
  -- wrk calls request() once on thread 0 right after init() to look at the request it makes,
  -- and throws that request away: it is not counted as sent
  probing = (id == 0)
end

local function stop_when_idle()
  if finishing and answered == issued and not stopped then
    stopped = true
    io.open(result_file .. ".done-" .. id, "w"):close()
    wrk.thread:stop()
  end
end

-- Called before each request of a connection: the milliseconds to wait before sending it; a
-- connection of a finishing thread never sends again (an hour's delay, beyond any -d).
function delay()
  local t = now()
  if started == 0 then
    started = t
    deadline = t + seconds
    slot = t
  end
  if not finishing then
    if interval == 0 then
      finishing = t >= deadline
    else
      finishing = slot >= deadline
    end
  end
  if finishing then
    stop_when_idle()
    return 3600000
  end
  issued = issued + 1 -- a request() follows: the connection sends once its wait is over
  if interval == 0 then return 0 end
  local wait = slot - t
  slot = slot + interval
  if wait <= 0 then
    if wait < -0.05 then late = late + 1 end
    return 0
  end
  return math.floor(wait * 1000 + 0.5)
end

function request()
  if probing then
    probing = false
  else
    sent = sent + 1
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  answered = answered + 1
  last_answer = now()
  local key = tostring(status)
  if status == 409 then key = "409 " .. (body:match('"type":"[^"]*/([%w%-]+)"') or "?") end
  statuses[key] = (statuses[key] or 0) + 1
  stop_when_idle()
end

function done(summary, latency, requests)
  local merged = {}
  local totals = {issued = 0, sent = 0, answered = 0, late = 0}
  local first, last = nil, 0
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do merged[code] = (merged[code] or 0) + n end
    for k in pairs(totals) do totals[k] = totals[k] + t:get(k) end
    local s, la = t:get("started"), t:get("last_answer")
    if s > 0 and (first == nil or s < first) then first = s end
    if la > last then last = la end
  end
  local parts = {}
  for code, n in pairs(merged) do table.insert(parts, string.format('"%s": %d', code, n)) end
  local f = io.open(threads[1]:get("result_file"), "w")
  local e = summary.errors
  f:write(string.format(
    '{"requests": %d, "seconds": %.6f, "wrk_seconds": %.3f, "issued": %d, "sent": %d, "answered": %d, "late": %d, ' ..
    '"errors": %d, "socket_errors_by_kind": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"statuses": {%s}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, first and (last - first) or 0, summary.duration / 1e6, totals.issued, totals.sent, totals.answered,
    totals.late, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout,
    table.concat(parts, ", "),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
  f:close()
end
