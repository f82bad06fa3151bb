-- The map while panning: clustered GeoJSON of a 1024x640 px viewport whose centre walks a
-- quarter of the box per request and whose zoom drifts between 8 and 14; a walk that leaves
-- the data's box (region.txt: min_lng,min_lat,max_lng,max_lat) restarts at a random point.
local c = dofile((os.getenv("PALLIMAP_WRK_DIR") or "bench/wrk") .. "/common.lua")
setup = c.setup
local lat, lng, zoom, dlat, dlng
local function restart()
  local p = c.pick(points)
  local a, b = string.match(p, "([^,]+),([^,]+)")
  lat, lng = tonumber(a), tonumber(b)
  local angle = math.random() * 2 * math.pi
  dlat, dlng = math.sin(angle), math.cos(angle)
end
function init(args)
  c.init_thread()
  points = c.lines("points.txt")
  local r = c.lines("region.txt")[1]
  local a, b, x, y = string.match(r, "([^,]+),([^,]+),([^,]+),([^,]+)")
  min_lng, min_lat, max_lng, max_lat = tonumber(a), tonumber(b), tonumber(x), tonumber(y)
  zoom = 10
  restart()
end
function request()
  local w = 1024 / 256 * 360 / 2 ^ zoom
  local h = 640 / 256 * 360 / 2 ^ zoom * math.cos(math.rad(lat))
  lng = lng + dlng * w / 4
  lat = lat + dlat * h / 4
  if math.random() < 0.1 then zoom = math.max(8, math.min(14, zoom + (math.random(2) == 1 and -1 or 1))) end
  if math.random() < 0.05 then
    local angle = math.random() * 2 * math.pi
    dlat, dlng = math.sin(angle), math.cos(angle)
  end
  if lng < min_lng or lng > max_lng or lat < min_lat or lat > max_lat then restart() end
  local bbox = string.format("%.5f,%.5f,%.5f,%.5f", lng - w / 2, lat - h / 2, lng + w / 2, lat + h / 2)
  return wrk.format("GET", "/api/v1/facilities.geojson?cluster=1&zoom=" .. zoom .. "&bbox=" .. bbox)
end
function response(status, headers, body) c.tally(status, body) end
function done(summary, latency, requests) c.report("clustered geojson (panning)", summary, latency) end
