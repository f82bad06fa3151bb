-- Detail of a facility by a real id (ids.txt, read from the served CSV export).
local c = dofile((os.getenv("PALLIMAP_WRK_DIR") or "bench/wrk") .. "/common.lua")
setup = c.setup
function init(args)
  c.init_thread()
  ids = c.lines("ids.txt")
end
function request()
  return wrk.format("GET", "/api/v1/facilities/" .. c.pick(ids))
end
function response(status, headers, body) c.tally(status, body) end
function done(summary, latency, requests) c.report("detail", summary, latency) end
