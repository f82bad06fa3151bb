-- Shared by the bench/wrk scripts: input files, a per-thread random stream, exact per-shape
-- tallies of statuses (wrk's own "errors.status" only counts >= 400), wall-clock timing of
-- the shapes whose requests wrk's histogram cannot tell apart, and the one JSON line each wrk
-- process prints in done() for bench/load.sh and bench/side_by_side.sh to read.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } pm_timespec;
  int clock_gettime(int clk_id, pm_timespec *tp);
]]
local ts = ffi.new("pm_timespec")

local M = {}

-- Monotonic wall clock in milliseconds (CLOCK_MONOTONIC = 1 on Linux).
function M.now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- The non-empty lines of a file under $PALLIMAP_LOAD_INPUTS.
function M.lines(name)
  local dir = os.getenv("PALLIMAP_LOAD_INPUTS") or "."
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "r"), "cannot read " .. path)
  local out = {}
  for line in f:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  f:close()
  assert(#out > 0, path .. " is empty")
  return out
end

function M.pick(list)
  return list[math.random(#list)]
end

function M.env_number(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return tonumber(v)
end

-- Main-thread side: collect the threads so done() can read their tallies.
local threads = {}
local counter = 0
function M.setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  threads[#threads + 1] = thread
end

-- Thread side: seed per thread so threads do not replay the same sequence.
function M.init_thread()
  local seed = (tid or 1) * 7919 + (M.env_number("PALLIMAP_LOAD_SEED", 1))
  math.randomseed(seed)
  for _ = 1, 10 do math.random() end
end

-- Thread-side tallies: per status class, a few samples of unexpected answers, and optional
-- per-label latencies (milliseconds) for shapes timed by the script itself. wrk copies only
-- flat tables between threads, so the latencies are two parallel flat lists.
ok2xx = 0
non2xx = 0
samples = {}
timed_label = {}
timed_ms = {}

function M.tally(status, body, label)
  if status >= 200 and status < 300 then
    ok2xx = ok2xx + 1
  else
    non2xx = non2xx + 1
    if #samples < 5 then
      -- Cut at 300 bytes without leaving half a UTF-8 character.
      local head = string.gsub(string.sub(body or "", 1, 300), "[\192-\255][\128-\191]*$", "")
      samples[#samples + 1] = (label or "") .. " " .. status .. " " .. head
    end
  end
end

function M.time(label, ms)
  timed_label[#timed_label + 1] = label
  timed_ms[#timed_ms + 1] = ms
end

local function percentile(sorted, p)
  if #sorted == 0 then return nil end
  local i = math.max(1, math.ceil(#sorted * p / 100))
  return sorted[i]
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

-- Main-thread side: one JSON line with wrk's histogram and the threads' tallies.
function M.report(shape, summary, latency)
  local ok, bad, sample_list, merged = 0, 0, {}, {}
  for _, t in ipairs(threads) do
    ok = ok + (t:get("ok2xx") or 0)
    bad = bad + (t:get("non2xx") or 0)
    for _, s in ipairs(t:get("samples") or {}) do
      if #sample_list < 5 then sample_list[#sample_list + 1] = json_string(s) end
    end
    local labels, values = t:get("timed_label") or {}, t:get("timed_ms") or {}
    for i, label in ipairs(labels) do
      local m = merged[label] or {}
      m[#m + 1] = values[i]
      merged[label] = m
    end
  end
  local e = summary.errors
  local parts = {
    string.format('"shape":%s', json_string(shape)),
    string.format('"requests":%d', summary.requests),
    string.format('"duration_s":%.3f', summary.duration / 1e6),
    string.format('"ok_2xx":%d', ok),
    string.format('"non_2xx":%d', bad),
    string.format('"socket_errors":%d', e.connect + e.read + e.write + e.timeout),
    string.format('"timeouts":%d', e.timeout),
    string.format('"p50_ms":%.3f', latency:percentile(50) / 1000),
    string.format('"p99_ms":%.3f', latency:percentile(99) / 1000),
    string.format('"max_ms":%.3f', latency.max / 1000),
    string.format('"mean_ms":%.3f', latency.mean / 1000),
  }
  local labels = {}
  for label, list in pairs(merged) do
    table.sort(list)
    labels[#labels + 1] = string.format('%s:{"count":%d,"p50_ms":%.3f,"p99_ms":%.3f}',
      json_string(label), #list, percentile(list, 50), percentile(list, 99))
  end
  parts[#parts + 1] = '"timed":{' .. table.concat(labels, ",") .. '}'
  parts[#parts + 1] = '"samples":[' .. table.concat(sample_list, ",") .. ']'
  io.write("PALLIMAP_RESULT {" .. table.concat(parts, ",") .. "}\n")
end

return M
