-- Writes: GET a facility for its ETag, then PATCH its notes with If-Match, as an admin's API
-- token. Run with one connection per thread (wrk -tN -cN) so a thread's requests and
-- answers alternate and the ETag read belongs to the PATCH that follows. Each thread edits
-- its own facilities (writes.txt, every N-th line), so no two writers race for a version and
-- every PATCH is valid. Pairs are paced to PALLIMAP_LOAD_RATE per second over all threads.
local c = dofile((os.getenv("PALLIMAP_WRK_DIR") or "bench/wrk") .. "/common.lua")
setup = c.setup
local mine, step, etag, id, sent_at, pair_at = {}, 0, nil, nil, 0, 0
function init(args)
  c.init_thread()
  local all = c.lines("writes.txt")
  local n = c.env_number("PALLIMAP_LOAD_THREADS", 1)
  for i, v in ipairs(all) do
    if (i - 1) % n == (tid - 1) then mine[#mine + 1] = v end
  end
  assert(#mine > 0, "no facility to edit for thread " .. tid)
  auth = "Bearer " .. os.getenv("PALLIMAP_LOAD_TOKEN")
  local rate = c.env_number("PALLIMAP_LOAD_RATE", 1)
  interval = rate > 0 and 1000 * n / rate or 0
end
function request()
  sent_at = c.now_ms()
  if etag == nil then
    pair_at = sent_at
    id = mine[math.random(#mine)]
    return wrk.format("GET", "/api/v1/facilities/" .. id, { ["Authorization"] = auth })
  end
  step = step + 1
  local body = string.format('{"notes":"負荷試験の編集 %d-%d"}', tid, step)
  return wrk.format("PATCH", "/api/v1/facilities/" .. id, {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/json",
    ["If-Match"] = etag,
  }, body)
end
function response(status, headers, body)
  local ms = c.now_ms() - sent_at
  if etag == nil then
    c.tally(status, body, "GET " .. id)
    c.time("GET for the ETag", ms)
    if status == 200 then etag = headers["ETag"] or headers["etag"] end
  else
    c.tally(status, body, "PATCH " .. id)
    c.time("PATCH", ms)
    etag = nil
  end
end
function delay()
  if etag ~= nil then return 0 end
  return math.max(0, interval - (c.now_ms() - pair_at))
end
function done(summary, latency, requests) c.report("write (GET + PATCH)", summary, latency) end
