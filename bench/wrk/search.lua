-- Text search as people type it into the list: /api/v1/facilities?q=<word> (words.txt holds
-- common words, place + word pairs and facility names, already percent-encoded).
local c = dofile((os.getenv("PALLIMAP_WRK_DIR") or "bench/wrk") .. "/common.lua")
setup = c.setup
function init(args)
  c.init_thread()
  words = c.lines("words.txt")
end
function request()
  return wrk.format("GET", "/api/v1/facilities?q=" .. c.pick(words) .. "&limit=20")
end
function response(status, headers, body) c.tally(status, body) end
function done(summary, latency, requests) c.report("text search", summary, latency) end
