-- A common word near a point: q=クリニック within 5 km of points spread over the region (the
-- 300,000-facility synthetic set is densest around さいたま市).
--   wrk -t2 -c32 -d10s -s bench/wrk/near.lua http://127.0.0.1:8181
-- WORD=薬局 changes the word.

local word = os.getenv("WORD") or "クリニック"
local function enc(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local paths = {}
for i = 0, 15 do
  for j = 0, 15 do
    local lat = 35.80 + i * 0.02
    local lng = 139.40 + j * 0.03
    paths[#paths + 1] = string.format(
      "/api/v1/facilities?q=%s&near=%.4f,%.4f&radius_km=5&limit=10", enc(word), lat, lng)
  end
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 97)
end

function init(args)
  n = offset or 0
end

function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: %d\n",
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
