-- Near search: a point (points.txt, jittered facility locations) and one service or kind
-- (filters.txt, from /api/v1/vocabulary), the 20 nearest.
local c = dofile((os.getenv("PALLIMAP_WRK_DIR") or "bench/wrk") .. "/common.lua")
setup = c.setup
function init(args)
  c.init_thread()
  points = c.lines("points.txt")
  filters = c.lines("filters.txt")
end
function request()
  return wrk.format("GET", "/api/v1/facilities?near=" .. c.pick(points) .. "&" .. c.pick(filters) .. "&limit=20")
end
function response(status, headers, body) c.tally(status, body) end
function done(summary, latency, requests) c.report("near search", summary, latency) end
