-- wrk script: check-ins of one event as STAFF, every request on tickets never scanned before.
-- Arguments (after --): TOKEN_FILE EVENT_ID CODES_FILE THREADS SCANS SECONDS RESULT_FILE
--   TOKEN_FILE  bearer tokens, one a line; wrk thread i takes line (i mod #lines) + 1
--   CODES_FILE  ticket codes (EH1.<event>.<ticket>.<nonce>.<signature>), one a line: wrk thread
--               i (of THREADS, wrk's -t) takes the lines i, i + THREADS, i + 2 THREADS, ... and
--               hands them out in order to its connections, so no two requests of the run carry
--               the same ticket
--   SCANS       1: POST /api/events/{id}/checkins {code, scanId}; the one right answer is a 201
--               naming that ticket and that scanId ("201"), anything else is counted under its
--               own key ("201 other ticket", "409 already-checked-in", "503", ...)
--               n > 1: POST /api/events/{id}/checkins/batch with n scans {code, scanId,
--               scannedAt}; a 200 whose n results are all CHECKED_IN of the ticket each scan
--               named counts as "200", a 200 with fewer as "200 not all CHECKED_IN"
--   SECONDS     the measured time: after it a thread sends no new request (delay() holds its
--               connections), waits for the answers of those in flight, then stops, so the
--               server never gets a check-in whose answer this script did not see. A thread
--               whose codes run out stops the same way (counted in "threads_exhausted")
--   RESULT_FILE at the end, one JSON object: statuses, requests and scans sent and answered,
--               the measured interval ("seconds": first request sent to last answer, monotonic
--               clock), socket errors and wrk's latency percentiles (microseconds). Each thread
--               writes RESULT_FILE.done-<thread> when it stops, so that the caller can end wrk's
--               own timer (SIGINT) at once instead of idling until -d.
-- scanIds are "s-<ticket id>" (single) and "b-<ticket id>" (batch): PostgreSQL keeps the scanId
-- of each check-in, so the caller can tell afterwards which scan checked each ticket in.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } checkin_timespec;
  int clock_gettime(int clock, checkin_timespec *t);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("checkin_timespec")
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
  event = args[2]
  local thread_total = tonumber(args[4])
  scans = tonumber(args[5])
  seconds = tonumber(args[6])
  result_file = args[7]
  codes, tickets = {}, {}
  local n = 0
  for line in io.lines(args[3]) do
    if #line > 0 then
      if n % thread_total == id then
        table.insert(codes, line)
        table.insert(tickets, line:match("^EH1%.%d+%.(%d+)%."))
      end
      n = n + 1
    end
  end
  next_code, code_count = 1, #codes
  headers = {["Content-Type"] = "application/json",
             ["Authorization"] = "Bearer " .. tokens[(id % #tokens) + 1]}
  path = "/api/events/" .. event .. (scans == 1 and "/checkins" or "/checkins/batch")
  scanned_at = os.date("!%Y-%m-%dT%H:%M:%SZ")
  statuses, not_checked_in = {}, 0
  sent, answered, scans_sent, scans_checked_in = 0, 0, 0, 0
  first_sent, last_answer = 0, 0
  finishing, exhausted, stopped = false, 0, false
  -- wrk calls request() once on thread 0 right after init() to look at the request it makes, and
  -- throws that request away: that call must not use up a ticket
  probing = (id == 0)
end

local function take(count)
  local first = next_code
  next_code = next_code + count
  return first
end

-- Once finishing, and every request sent answered: this thread is done.
local function stop_when_idle()
  if finishing and answered == sent and not stopped then
    stopped = true
    io.open(result_file .. ".done-" .. id, "w"):close()
    wrk.thread:stop()
  end
end

-- Called before each request of a connection: 0 sends it now; a connection of a finishing
-- thread never sends again (an hour's delay, beyond any -d).
function delay()
  if not finishing then
    if next_code + scans - 1 > #codes then
      exhausted, finishing = 1, true
    elseif deadline and now() >= deadline then
      finishing = true
    end
  end
  if finishing then
    stop_when_idle()
    return 3600000
  end
  return 0
end

function request()
  local first = probing and next_code or take(scans)
  if first + scans - 1 > #codes then
    -- only for the probe of a thread without codes: a request wrk never sends
    return wrk.format("POST", path, headers, "{}")
  end
  local body
  if scans == 1 then
    body = '{"code":"' .. codes[first] .. '","scanId":"s-' .. tickets[first] .. '"}'
  else
    local parts = {}
    for i = first, first + scans - 1 do
      parts[#parts + 1] = '{"code":"' .. codes[i] .. '","scanId":"b-' .. tickets[i] ..
                          '","scannedAt":"' .. scanned_at .. '"}'
    end
    body = '{"scans":[' .. table.concat(parts, ",") .. ']}'
  end
  if probing then
    probing = false
    return wrk.format("POST", path, headers, body)
  end
  sent = sent + 1
  scans_sent = scans_sent + scans
  if first_sent == 0 then
    first_sent = now()
    deadline = first_sent + seconds
  end
  return wrk.format("POST", path, headers, body)
end

local function count(key)
  statuses[key] = (statuses[key] or 0) + 1
end

function response(status, headers, body)
  answered = answered + 1
  last_answer = now()
  if scans == 1 then
    if status == 201 then
      -- the ticket checked in is the one of the code: the answer names it and its scanId
      local t = body:match('"ticket":{"id":(%d+)')
      if t and body:find('"scanId":"s-' .. t .. '"', 1, true) then
        scans_checked_in = scans_checked_in + 1
        count("201")
      else
        count("201 other ticket")
      end
    elseif status == 409 then
      count("409 " .. (body:match('"type":"[^"]*/([%w%-]+)"') or "?"))
    else
      count(tostring(status))
    end
  else
    if status == 200 then
      local ok = 0
      for scan, ticket in body:gmatch('"scanId":"b%-(%d+)","result":"CHECKED_IN","ticketId":(%d+)') do
        if scan == ticket then ok = ok + 1 end
      end
      scans_checked_in = scans_checked_in + ok
      if ok == scans then
        count("200")
      else
        not_checked_in = not_checked_in + (scans - ok)
        count("200 not all CHECKED_IN")
      end
    else
      count(tostring(status))
    end
  end
  stop_when_idle()
end

function done(summary, latency, requests)
  local merged = {}
  local totals = {sent = 0, answered = 0, scans_sent = 0, scans_checked_in = 0, not_checked_in = 0,
                  exhausted = 0, code_count = 0}
  local first, last = nil, 0
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do merged[code] = (merged[code] or 0) + n end
    for k in pairs(totals) do totals[k] = totals[k] + t:get(k) end
    local fs, la = t:get("first_sent"), t:get("last_answer")
    if fs > 0 and (first == nil or fs < first) then first = fs end
    if la > last then last = la end
  end
  local parts = {}
  for code, n in pairs(merged) do table.insert(parts, string.format('"%s": %d', code, n)) end
  local f = io.open(threads[1]:get("result_file"), "w")
  local e = summary.errors
  f:write(string.format(
    '{"requests": %d, "seconds": %.6f, "wrk_seconds": %.3f, "sent": %d, "answered": %d, ' ..
    '"scans_sent": %d, "scans_checked_in": %d, "not_checked_in": %d, "threads_exhausted": %d, ' ..
    '"codes": %d, "errors": %d, ' ..
    '"socket_errors_by_kind": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, "statuses": {%s}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, first and (last - first) or 0, summary.duration / 1e6, totals.sent, totals.answered,
    totals.scans_sent, totals.scans_checked_in, totals.not_checked_in, totals.exhausted, totals.code_count,
    e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout,
    table.concat(parts, ", "),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
  f:close()
end
