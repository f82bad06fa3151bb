-- Sign-in: POST /api/v1/session with a professional's email and password, paced to
-- PALLIMAP_LOAD_RATE per second over this process's connections (argon2id makes each one
-- cost tens of milliseconds of CPU, so an unpaced loop would measure only the hash).
local c = dofile((os.getenv("PALLIMAP_WRK_DIR") or "bench/wrk") .. "/common.lua")
setup = c.setup
function init(args)
  c.init_thread()
  body = string.format('{"email":"%s","password":"%s"}',
    os.getenv("PALLIMAP_LOAD_EMAIL"), os.getenv("PALLIMAP_LOAD_PASSWORD"))
  local rate = c.env_number("PALLIMAP_LOAD_RATE", 1)
  local conns = c.env_number("PALLIMAP_LOAD_CONNECTIONS", 1)
  interval = rate > 0 and 1000 * conns / rate or 0
end
function request()
  return wrk.format("POST", "/api/v1/session", { ["Content-Type"] = "application/json" }, body)
end
function delay() return interval end
function response(status, headers, body) c.tally(status, body) end
function done(summary, latency, requests) c.report("sign-in", summary, latency) end
