-- wrk script: POST a urlencoded body, check every answer, print one JSON line at the end.
--
-- The body comes from the environment (BENCH_BODY, e.g. "apiToken=cfo_live_…") so the token
-- never appears on a command line. An answer counts as good only when it is HTTP 200 *and* its
-- body holds <response code="0">: a benchmark of 401s or 429s would be worthless.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   good = 0
   bad_status = 0
   bad_code = 0
   wrk.method = "POST"
   wrk.body = os.getenv("BENCH_BODY") or ""
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function response(status, headers, body)
   if status ~= 200 then
      bad_status = bad_status + 1
   elseif not string.find(body, '<response code="0">', 1, true) then
      bad_code = bad_code + 1
   else
      good = good + 1
   end
end

function done(summary, latency, requests)
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
