-- wrk script for bench/scheduling.py: every request is a scheduleSession.do (BENCH_RESOURCE=
-- scheduleSession) of a random user (clientID=C1…CN) at a random one of BENCH_TIMES session
-- times (ids BENCH_FIRST_TIME…+BENCH_TIMES-1), or an updateUser.do (BENCH_RESOURCE=updateUser)
-- of a random user changing its city: the baseline measured in the same run. Answers are
-- checked as post.lua does (checks.lua: HTTP 200 *and* <response code="0">).
--
-- Environment: BENCH_BODY ("apiToken=cfo_live_…"), BENCH_USERS, BENCH_RESOURCE, and for
-- scheduling BENCH_FIRST_TIME and BENCH_TIMES.

local threads = {}
local counter = 0
local CITIES = {"Lyon", "Porto", "Ghent", "Turku", "Graz", "Bergen", "Cork", "Lund"}

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

function init(args)
   good = 0
   bad_status = 0
   bad_code = 0
   math.randomseed(os.time() * 100 + id)
   prefix = (os.getenv("BENCH_BODY") or "") .. "&clientID=C"
   users = tonumber(os.getenv("BENCH_USERS") or "") or error("BENCH_USERS not set")
   scheduling = os.getenv("BENCH_RESOURCE") == "scheduleSession"
   first_time = tonumber(os.getenv("BENCH_FIRST_TIME") or "0")
   times = tonumber(os.getenv("BENCH_TIMES") or "1")
   headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
end

function request()
   local body
   if scheduling then
      body = prefix .. math.random(users) .. "&sessionTimeID=" .. (first_time + math.random(times) - 1)
   else
      body = prefix .. math.random(users) .. "&city=" .. CITIES[math.random(#CITIES)]
   end
   return wrk.format("POST", nil, headers, body)
end

local checks = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") .. "checks.lua")
response = checks.response
done = checks.done(threads)
