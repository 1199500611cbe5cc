-- wrk script for bench/update_user.py: every request is an updateUser.do of a random user
-- (clientID=C1…CN) that sets the 5 custom fields of the benchmark event and one contact field,
-- with values that change from call to call. Answers are checked and the result printed as
-- post.lua does (HTTP 200 *and* <response code="0">, one BENCH_JSON line at the end).
--
-- Environment: BENCH_BODY ("apiToken=cfo_live_…", never on a command line), BENCH_USERS (N).
-- The field codes and values are those of the JSON file update_user.py imports.

local threads = {}
local counter = 0

local SIZES = {"XS", "S", "M", "L", "XL", "XXL"}
local DIETS = {"none", "vegetarian", "vegan", "halal", "kosher", "gluten_free"}
local TOPICS = {"ai", "cloud", "data", "security", "devops", "mobile", "web", "iot"}
local CITIES = {"Lyon", "Porto", "Ghent", "Turku", "Graz", "Bergen", "Cork", "Lund"}
local WORDS = {
   "keynote", "booth", "lunch", "badge", "speaker", "workshop", "panel", "demo",
   "coffee", "network", "session", "hall", "poster", "track", "schedule", "parking",
}
local REFERRALS = {"Newsletter", "A+colleague", "LinkedIn", "Last+year%27s+event", "Search"}

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
   -- Each thread its own sequence (both threads start within the same second).
   math.randomseed(os.time() * 100 + id)
   prefix = (os.getenv("BENCH_BODY") or "") .. "&clientID=C"
   users = tonumber(os.getenv("BENCH_USERS") or "") or error("BENCH_USERS not set")
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
   local t1 = math.random(#TOPICS)
   local t2 = (t1 + math.random(#TOPICS - 1) - 1) % #TOPICS + 1 -- never t1
   local body = table.concat({
      prefix, math.random(users),
      "&size=", SIZES[calls % #SIZES + 1],
      "&diet=", DIETS[(calls + id) % #DIETS + 1],
      "&topics=", TOPICS[t1],
      "&topics=", TOPICS[t2],
      "&notes=t", id, "c", calls, "%3A+", words(math.random(3, 30)),
      "&referral=", REFERRALS[math.random(#REFERRALS)], "+", math.random(1000),
      "&city=", CITIES[math.random(#CITIES)],
   })
   return wrk.format("POST", nil, headers, body)
end

-- Checking the answers and the final JSON line: checks.lua, next to this script.
local checks = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") .. "checks.lua")
response = checks.response
done = checks.done(threads)
