-- One query shape at random points (points.txt: lat,lng per line, the same file the PostGIS
-- side loads into bench_points): PALLIMAP_PATH is the request path with {lat}, {lng} and
-- {bbox} (a PALLIMAP_BOX_W x PALLIMAP_BOX_H degree box centred on the point) filled in.
local c = dofile((os.getenv("PALLIMAP_WRK_DIR") or "bench/wrk") .. "/common.lua")
setup = c.setup
function init(args)
  c.init_thread()
  points = {}
  for _, p in ipairs(c.lines("points.txt")) do
    local a, b = string.match(p, "([^,]+),([^,]+)")
    points[#points + 1] = { a, b, tonumber(a), tonumber(b) }
  end
  template = assert(os.getenv("PALLIMAP_PATH"), "PALLIMAP_PATH is not set")
  w = c.env_number("PALLIMAP_BOX_W", 1.2)
  h = c.env_number("PALLIMAP_BOX_H", 0.55)
end
function request()
  local p = points[math.random(#points)]
  local bbox = string.format("%.5f,%.5f,%.5f,%.5f", p[4] - w / 2, p[3] - h / 2, p[4] + w / 2, p[3] + h / 2)
  local path = string.gsub(template, "{(%a+)}", { lat = p[1], lng = p[2], bbox = bbox })
  return wrk.format("GET", path)
end
function response(status, headers, body) c.tally(status, body) end
function done(summary, latency, requests) c.report(os.getenv("PALLIMAP_SHAPE") or os.getenv("PALLIMAP_PATH"), summary, latency) end
