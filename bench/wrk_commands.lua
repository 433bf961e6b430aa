-- wrk script for the command phase of bench/api_load.py: every connection (one per thread, so a
-- thread's state belongs to exactly one client) drives its own cases through ki-antrag:
-- POST /cases (201) -> PATCH /cases/{id}/data (200) -> POST .../actions/beteiligung_starten (200),
-- then starts the next case. Each accepted request is one command (one database transaction).
-- Environment: VORGANG_BENCH_TOKENS (file with one bearer token per line; connection i uses line
-- i, cycling, so each acts for its own applicant), VORGANG_BENCH_DATA (file with the JSON data).

local tokens_file = os.getenv("VORGANG_BENCH_TOKENS")
local data_file = os.getenv("VORGANG_BENCH_DATA")

local tokens = {}
for line in io.lines(tokens_file) do
  if line ~= "" then table.insert(tokens, line) end
end

local threads = {}

function setup(thread)
  thread:set("token", tokens[(#threads % #tokens) + 1])
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(data_file, "r"))
  application = f:read("*a")
  f:close()
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  stage = 0 -- 0: create next, 1: patch, 2: action
  case_id, case_version = nil, nil
  commands, errors, first_error = 0, 0, ""
end

function request()
  if stage == 0 then
    return wrk.format("POST", "/api/v1/cases", headers, '{"workflow":"ki-antrag"}')
  elseif stage == 1 then
    return wrk.format("PATCH", "/api/v1/cases/" .. case_id .. "/data", headers,
      '{"version":' .. case_version .. ',"data":' .. application .. '}')
  else
    return wrk.format("POST", "/api/v1/cases/" .. case_id .. "/actions/beteiligung_starten", headers,
      '{"version":' .. case_version .. '}')
  end
end

local expected = { [0] = 201, [1] = 200, [2] = 200 }

function response(status, headers, body)
  if status ~= expected[stage] then
    errors = errors + 1
    if first_error == "" then
      first_error = "stage " .. stage .. ": " .. status .. " " .. string.sub(body or "", 1, 300)
    end
    stage = 0 -- start over with a fresh case
    return
  end
  commands = commands + 1
  if stage == 2 then
    stage = 0
    return
  end
  -- The case document starts with "id"; "version" is the only key spelled exactly that way
  -- (the pattern needs the quote, so "workflow_version" does not match).
  case_id = string.match(body, '"id":(%d+)')
  case_version = string.match(body, '"version":(%d+)')
  stage = stage + 1
end

function done(summary, latency, requests)
  local total_commands, total_errors, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_commands = total_commands + thread:get("commands")
    total_errors = total_errors + thread:get("errors")
    local e = thread:get("first_error")
    if first == "" and e ~= "" then first = e end
  end
  io.write(string.format(
    'RESULT {"commands":%d,"errors":%d,"seconds":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,"p90_ms":%.3f,"max_ms":%.3f,"first_error":"%s"}\n',
    total_commands, total_errors, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(90) / 1000, latency.max / 1000,
    (first:gsub('[%c"\\]', ' '))))
end
