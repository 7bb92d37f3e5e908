-- The wrk script of every scenario (bench/run.py runs `wrk -s bench/wrk.lua ...`).
--
-- BENCH_IDS_FILE (optional): a file of ids, one per line; each request then asks for
--   BENCH_PATH_PREFIX .. <a random id of the list>, so that an item scenario reads many rows.
-- BENCH_SEED: seeds each thread's random ids (thread n uses BENCH_SEED + n).
--
-- Every response's status is counted, and done() prints one machine-readable line:
--   BENCH_RESULT {"requests": ..., "rps": ..., "p50_us": ..., "p99_us": ..., "statuses": {...}, ...}

local ids_file = os.getenv("BENCH_IDS_FILE")
local prefix = os.getenv("BENCH_PATH_PREFIX") or "/"
local seed = tonumber(os.getenv("BENCH_SEED") or "1")

local ids = nil
if ids_file and ids_file ~= "" then
  ids = {}
  for line in io.lines(ids_file) do
    if line ~= "" then
      ids[#ids + 1] = line
    end
  end
end

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  statuses = {}
  math.randomseed(seed + (thread_number or 0))
end

if ids then
  -- Defined only for the item scenario: without request(), wrk sends one prebuilt request.
  function request()
    return wrk.format(nil, prefix .. ids[math.random(#ids)])
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses") or {}
    for status, n in pairs(counted) do
      totals[status] = (totals[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(totals) do
    parts[#parts + 1] = string.format('"%d": %d', status, n)
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "rps": %.3f, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout, table.concat(parts, ", ")
  ))
end
