-- wrk script for bench/exhibitors.py: every request is a sendMessage.do from a random user
-- (acting by clientID=C1…CN) to another random user, named by userRef (the file BENCH_REFS holds
-- user Ci's userRef on line i), with a subject and a body that change from call to call.
-- Answers are checked and the result printed as post.lua does (checks.lua).
--
-- Environment: BENCH_BODY ("apiToken=cfo_live_…", never on a command line), BENCH_REFS (path).

local threads = {}
local counter = 0

local WORDS = {
   "keynote", "booth", "lunch", "badge", "speaker", "workshop", "panel", "demo",
   "coffee", "network", "session", "hall", "poster", "track", "schedule", "parking",
}

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

function init(args)
   good = 0
   bad_status = 0
   bad_code = 0
   calls = 0
   math.randomseed(os.time() * 100 + id)
   prefix = (os.getenv("BENCH_BODY") or "") .. "&clientID=C"
   refs = {}
   for line in io.lines(os.getenv("BENCH_REFS") or error("BENCH_REFS not set")) do
      refs[#refs + 1] = line
   end
   headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
end

local function words(n)
   local out = {}
   for i = 1, n do
      out[i] = WORDS[math.random(#WORDS)]
   end
   return table.concat(out, "+")
end

function request()
   calls = calls + 1
   local from = math.random(#refs)
   local to = (from + math.random(#refs - 1) - 1) % #refs + 1 -- never the sender
   local body = table.concat({
      prefix, from,
      "&toUserRef=", refs[to],
      "&subject=t", id, "c", calls, "+", words(math.random(2, 6)),
      "&body=", words(math.random(5, 60)), "+%3Cb%3Esee+you%3C%2Fb%3E",
   })
   return wrk.format("POST", nil, headers, body)
end

local checks = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") .. "checks.lua")
response = checks.response
done = checks.done(threads)
