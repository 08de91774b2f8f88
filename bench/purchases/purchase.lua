-- wrk script: POST /api/events/{id}/purchases {"quantity":1} as USER accounts.
-- Each wrk thread takes its own token; every request picks one line of EVENTS_FILE at random: an
-- event id, or "event-id type-id" to buy that ticket type ({"quantity":1,"ticketTypeId":…}).
-- Arguments (after --): TOKENS_FILE EVENTS_FILE RESULT_FILE
-- Counts statuses per thread and writes, at the end, one JSON object with the statuses and the
-- latency percentiles (microseconds) to RESULT_FILE. A 409 counts as "409" only when it is the
-- sold-out problem (type .../sold-out); any other 409 (conflict, sales-closed) counts as
-- "409 other", so that the benchmark can refuse it.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
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
  events = lines(args[2])
  token = tokens[(id % #tokens) + 1]
  result_file = args[3]
  statuses = {}
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
  math.randomseed(os.time() + id)
end

function request()
  local event, type_id = events[math.random(#events)]:match("^(%d+)%s*(%d*)$")
  local body = '{"quantity":1}'
  if type_id ~= "" then body = '{"quantity":1,"ticketTypeId":' .. type_id .. '}' end
  return wrk.format("POST", "/api/events/" .. event .. "/purchases", headers, body)
end

function response(status, headers, body)
  local key = tostring(status)
  if status == 409 and not body:find('/sold-out"', 1, true) then key = "409 other" end
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do merged[code] = (merged[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(merged) do table.insert(parts, string.format('"%s": %d', code, n)) end
  local f = io.open(threads[1]:get("result_file"), "w")
  local e = summary.errors
  f:write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, ' ..
    '"socket_errors_by_kind": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, "statuses": {%s}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    e.connect, e.read, e.write, e.timeout,
    table.concat(parts, ", "),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
  f:close()
end
