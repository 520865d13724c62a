-- wrk script: POST a nested upsert payload with token auth, a fresh person on every request.
-- BENCH_PATH and BENCH_TOKEN come from the environment; done() prints one JSON line.

local path = os.getenv("BENCH_PATH")
local token = os.getenv("BENCH_TOKEN")
local areas = {"212", "415", "312", "617", "305", "206", "512", "303", "404", "702"}
local states = {"New York", "California", "IL", "ma", "Florida", "WA", "texas", "CO"}
local next_thread = 0
local counter = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_number", next_thread)
end

function request()
  counter = counter + 1
  local n = (thread_number or 0) * 10000000 + counter
  local phone = string.format("(%s) %03d-%04d", areas[n % 10 + 1],
    200 + math.floor(n / 100000) % 700, math.floor(n / 10) % 10000)
  local body = string.format(
    '{"lead":{"id":"wrk-%d","submitted_at":"2026-11-02T14:05:00Z"},' ..
    '"contact":{"first_name":"Jane","last_name":"Doe","phone":"%s",' ..
    '"email":" Jane.Doe.%d@Example.com "},' ..
    '"address":{"street":"%d Market St","city":"Springfield","state":"%s","zip":"%05d"},' ..
    '"loan":{"amount":"%d","purpose":"refinance"},' ..
    '"consent":{"tcpa":true,"ip":"203.0.113.%d"},' ..
    '"tracking":{"utm_source":"search","utm_campaign":"spring-%d"}}',
    n, phone, n, n % 9000 + 1, states[n % 8 + 1], 10000 + n % 89999,
    200000 + n % 500000, n % 250 + 1, n % 7)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Token " .. token,
  }, body)
end

-- The JSON line both scripts print; ``extra`` is more fields, each starting with a comma.
function result_line(summary, latency, extra)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_s":%.6f,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f%s}\n',
    summary.requests, summary.duration / 1e6, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, extra))
end

function done(summary, latency, requests)
  result_line(summary, latency, "")
end
