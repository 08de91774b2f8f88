-- wrk script: POST /api/events/{id}/purchases {"quantity":1} as USER accounts.
-- Each wrk thread takes its own token; every request picks one of the events at random.
-- Arguments (after --): TOKENS_FILE EVENTS_FILE RESULT_FILE
-- Counts statuses per thread and writes, at the end, one JSON object with the statuses and the
-- latency percentiles (microseconds) to RESULT_FILE.

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
  local event = events[math.random(#events)]
  return wrk.format("POST", "/api/events/" .. event .. "/purchases", headers, '{"quantity":1}')
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do merged[code] = (merged[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(merged) do table.insert(parts, string.format('"%d": %d', code, n)) end
  local f = io.open(threads[1]:get("result_file"), "w")
  f:write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "statuses": {%s}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", "),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
  f:close()
end
