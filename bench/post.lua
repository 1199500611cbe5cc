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

-- Checking the answers and the final JSON line: checks.lua, next to this script.
local checks = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") .. "checks.lua")
response = checks.response
done = checks.done(threads)
