-- Clustered GeoJSON while panning: a prefecture-sized box (0.8° × 0.5°, the size of 埼玉県)
-- shifted around the region in small steps, at zooms 7–10, each thread walking the list from
-- its own offset, so requests differ the way a panning map's do (no client cache: wrk sends no
-- If-None-Match).
--   wrk -t2 -c32 -d10s -s bench/wrk/pan.lua http://127.0.0.1:8181
-- FILTER=kind=pharmacy (or service=pcu, q=…) adds a filter to every request.

local filter = os.getenv("FILTER")
local paths = {}
for _, zoom in ipairs({7, 8, 9, 10}) do
  for i = -20, 20 do
    for j = -10, 10 do
      local w = 139.2 + i * 0.02
      local s = 35.7 + j * 0.025
      local p = string.format(
        "/api/v1/facilities.geojson?cluster=1&zoom=%d&bbox=%.3f,%.3f,%.3f,%.3f",
        zoom, w, s, w + 0.8, s + 0.5)
      if filter and filter ~= "" then
        p = p .. "&" .. filter
      end
      paths[#paths + 1] = p
    end
  end
end

local counter = 0
local step = 7919 -- a prime: consecutive requests jump across zooms and boxes

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 1000)
end

function init(args)
  n = offset or 0
end

function request()
  n = n + step
  return wrk.format("GET", paths[(n % #paths) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("distinct requests in the walk: %d\n", #paths))
  io.write(string.format("non-2xx or socket errors: %d\n",
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
