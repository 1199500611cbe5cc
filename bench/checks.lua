-- What post.lua and update_user.lua share: every answer checked, one JSON line at the end.
--
-- An answer counts as good only when it is HTTP 200 *and* its body holds <response code="0">: a
-- benchmark of 401s or 429s would be worthless. Each wrk thread keeps its own counts (the
-- globals good, bad_status and bad_code, set to 0 by the script's init); done() adds them up
-- and prints the BENCH_JSON line event_do.py reads.
--
--   local checks = dofile(<this directory> .. "checks.lua")
--   response = checks.response
--   done = checks.done(threads)       -- threads: the script's list, filled in setup()

local M = {}

function M.response(status, headers, body)
   if status ~= 200 then
      bad_status = bad_status + 1
   elseif not string.find(body, '<response code="0">', 1, true) then
      bad_code = bad_code + 1
   else
      good = good + 1
   end
end

function M.done(threads)
   return function(summary, latency, requests)
      local g, s, c = 0, 0, 0
      for _, thread in ipairs(threads) do
         g = g + thread:get("good")
         s = s + thread:get("bad_status")
         c = c + thread:get("bad_code")
      end
      local e = summary.errors
      io.write(string.format(
         'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
         '"good": %d, "bad_status": %d, "bad_code": %d, ' ..
         '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
         '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d}}\n',
         summary.requests, summary.duration, summary.bytes, g, s, c,
         e.connect, e.read, e.write, e.status, e.timeout,
         latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
         latency:percentile(99.9), latency.max))
   end
end

return M
