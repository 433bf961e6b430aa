-- wrk script for the read phase of bench/api_load.py: GET /api/v1/cases/{id} of random cases.
-- Environment: VORGANG_BENCH_TOKEN, VORGANG_BENCH_MIN_ID and VORGANG_BENCH_MAX_ID (the ids in
-- between all exist; any answer other than 200 is counted as an error).

local token = os.getenv("VORGANG_BENCH_TOKEN")
local min_id = tonumber(os.getenv("VORGANG_BENCH_MIN_ID"))
local max_id = tonumber(os.getenv("VORGANG_BENCH_MAX_ID"))

local threads = {}

function setup(thread)
  thread:set("seed", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 100 + seed)
  headers = { ["Authorization"] = "Bearer " .. token }
  errors, first_error = 0, ""
end

function request()
  return wrk.format("GET", "/api/v1/cases/" .. math.random(min_id, max_id), headers)
end

function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

function done(summary, latency, requests)
  local total_errors, first = 0, ""
  for _, thread in ipairs(threads) do
    total_errors = total_errors + thread:get("errors")
    local e = thread:get("first_error")
    if first == "" and e ~= "" then first = e end
  end
  io.write(string.format(
    'RESULT {"requests":%d,"errors":%d,"seconds":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,"p90_ms":%.3f,"max_ms":%.3f,"first_error":"%s"}\n',
    summary.requests, total_errors, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(90) / 1000, latency.max / 1000,
    (first:gsub('[%c"\\]', ' '))))
end
