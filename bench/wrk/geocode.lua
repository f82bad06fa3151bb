-- Geocode a patient's address (addresses.txt: the served facilities' addresses, encoded).
local c = dofile((os.getenv("PALLIMAP_WRK_DIR") or "bench/wrk") .. "/common.lua")
setup = c.setup
function init(args)
  c.init_thread()
  addresses = c.lines("addresses.txt")
end
function request()
  return wrk.format("GET", "/api/v1/geocode?address=" .. c.pick(addresses))
end
function response(status, headers, body) c.tally(status, body) end
function done(summary, latency, requests) c.report("geocode", summary, latency) end
