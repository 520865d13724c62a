-- wrk script: the upserts of upsert.lua at a fixed rate (BENCH_RATE requests/s over all threads),
-- open loop as wrk2 would be. Each thread sends on its own schedule of due times; a connection
-- that comes free takes the next due slot and waits for it, or sends at once when the slot has
-- passed. How late a request left its slot is its send lag: when every connection was busy at
-- a slot, the server, not the schedule, set the pace. done() prints one JSON line.

dofile(os.getenv("BENCH_SCRIPT_DIR") .. "/upsert.lua")

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *now);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}
local count_thread = setup

function setup(thread)
  count_thread(thread)
  table.insert(threads, thread)
end

local interval_ms = nil
local start_ms = nil
local slot = 0
lags = {}

function delay()
  local now = now_ms()
  if start_ms == nil then
    -- Each thread runs its share of the rate; threads start their schedules staggered.
    local thread_count = tonumber(os.getenv("BENCH_THREADS"))
    interval_ms = 1000 * thread_count / tonumber(os.getenv("BENCH_RATE"))
    start_ms = now + interval_ms * (thread_number - 1) / thread_count
  end
  local due = start_ms + slot * interval_ms
  slot = slot + 1
  local wait = due - now
  lags[#lags + 1] = math.max(0, -wait)
  -- wrk's timers count whole milliseconds: round, so a slot is kept to half a millisecond.
  return math.max(0, math.floor(wait + 0.5))
end

local function lag_p99()
  local all = {}
  for _, thread in ipairs(threads) do
    for _, lag in ipairs(thread:get("lags")) do
      all[#all + 1] = lag
    end
  end
  if #all == 0 then
    return 0
  end
  table.sort(all)
  return all[math.max(1, math.ceil(#all * 0.99))]
end

function done(summary, latency, requests)
  result_line(summary, latency, string.format(',"send_lag_p99_ms":%.3f', lag_p99()))
end
