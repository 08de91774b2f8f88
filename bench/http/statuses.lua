-- wrk script: counts the answers per HTTP status, so that a benchmark can tell a real answer from
-- an error page or a redirect (wrk itself counts only statuses above 399, and not per code).
-- The requests are wrk's own (GET of the URL given on the command line).
-- At the end it prints one line to stdout, after wrk's report:
--   statuses: {"200": 123456, "404": 3}
--   socket errors: connect 0 read 0 write 0 timeout 0
-- Only the status is looked at; headers and body are left alone.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do merged[code] = (merged[code] or 0) + n end
  end
  local codes = {}
  for code in pairs(merged) do table.insert(codes, code) end
  table.sort(codes)
  local parts = {}
  for _, code in ipairs(codes) do table.insert(parts, string.format('"%d": %d', code, merged[code])) end
  local e = summary.errors
  io.write(string.format("statuses: {%s}\nsocket errors: connect %d read %d write %d timeout %d\n",
                         table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout))
end
