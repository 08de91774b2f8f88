-- wrk script: hold-then-confirm as USER accounts. Each wrk thread takes its own token and
-- alternates steps: POST /api/events/{id}/holds {"quantity":1} and, for every hold it got,
-- POST /api/holds/{holdId}/confirm. Arguments (after --): TOKENS_FILE EVENTS_FILE RESULT_FILE
-- Counts statuses per step ("hold 201", "confirm 201", "hold 409 sold-out", anything else as
-- "<step> <status>") and writes, at the end, one JSON object with the statuses and the
-- latency percentiles over both steps (microseconds) to RESULT_FILE, as purchase.lua does.

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
  to_confirm = {} -- hold ids this thread got and has not confirmed yet
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
  confirm_headers = {["Authorization"] = "Bearer " .. token}
  math.randomseed(os.time() + id)
end

function request()
  local hold = table.remove(to_confirm)
  if hold then
    return wrk.format("POST", "/api/holds/" .. hold .. "/confirm", confirm_headers, nil)
  end
  local event = events[math.random(#events)]
  return wrk.format("POST", "/api/events/" .. event .. "/holds", headers, '{"quantity":1}')
end

function response(status, headers, body)
  -- A hold answers a Hold (it has "expiresAt"), a confirmation a Purchase ("purchasedAt").
  local step = body:find('"purchasedAt"', 1, true) and "confirm" or "hold"
  if status == 201 and step == "hold" then
    table.insert(to_confirm, body:match('^{"id":(%d+)'))
  end
  local key = step .. " " .. tostring(status)
  if status == 409 and body:find('/sold-out"', 1, true) then key = key .. " sold-out" end
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
