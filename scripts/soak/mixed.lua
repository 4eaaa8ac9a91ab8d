-- wrk script for `make soak`: every connection cycles through a fixed mix of request kinds (all four
-- providers, streaming and not, and requests that must fail), tags each request with its kind in
-- x-request-id (GaiaRouter echoes it), and checks every answer against what its kind must get.
-- At the end it prints one line, "SOAK_JSON {...}", that scripts/soak/report.py reads.
--
--   SOAK_KEY       the tenant's API key
--   SOAK_DELAY_MS  pause of each connection after every answer, in milliseconds (0: none)
--   SOAK_KINDS     kinds present in this run, comma-separated (default: all of them)

local key = os.getenv("SOAK_KEY") or ""
local pause = tonumber(os.getenv("SOAK_DELAY_MS") or "0") or 0

local function chat(model, stream, messages)
  local body = '{"model":"' .. model .. '","messages":' .. (messages or
    '[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello to the soak test in a few words"}]')
  if stream then
    body = body .. ',"stream":true,"stream_options":{"include_usage":true}'
  end
  return body .. "}"
end

-- name → body, and what it must get: "ok" (200, a stream ends with [DONE] and no error event) or a status.
local all = {
  openai = { chat("openai/gpt-4o-mini"), "ok" },
  openai_stream = { chat("chunky/gpt-4o-mini", true), "ok" },
  anthropic = { chat("anthropic/claude-sonnet-4-5"), "ok" },
  anthropic_stream = { chat("anthropic/claude-sonnet-4-5", true), "ok" },
  gemini = { chat("google/gemini-2.5-flash"), "ok" },
  gemini_stream = { chat("google/gemini-2.5-flash", true), "ok" },
  openrouter = { chat("openrouter/meta-llama/llama-3.1-8b-instruct"), "ok" },
  openrouter_stream = { chat("openrouter/meta-llama/llama-3.1-8b-instruct", true), "ok" },
  unknown_model = { chat("openai/no-such-model"), 404 },
  bad_request = { chat("openai/gpt-4o-mini", false, '[{"role":"wizard","content":"x"}]'), 400 },
  unreachable = { chat("gone/gpt-4o-mini"), 502 },
  upstream_503 = { chat("failing/gpt-4o-mini"), 502 },
  stream_cut = { chat("cutting/gpt-4o-mini", true), "error_event" },
}
-- The cycle: two thirds succeed, one third must fail in a known way.
local cycle = {
  "openai", "openai_stream", "anthropic", "anthropic_stream", "gemini", "gemini_stream", "openrouter",
  "openrouter_stream", "unknown_model", "openai", "anthropic", "gemini", "openrouter", "bad_request",
  "openai_stream", "unreachable", "upstream_503", "stream_cut",
}
local enabled = {}
for name in string.gmatch(os.getenv("SOAK_KINDS") or "", "[^,]+") do
  enabled[name] = true
end
if next(enabled) ~= nil then
  local kept = {}
  for _, name in ipairs(cycle) do
    if enabled[name] then
      table.insert(kept, name)
    end
  end
  cycle = kept
end

local threads = {}
function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

local i = 0
local n = 0
counts = {}

function init()
  i = offset or 0 -- threads start at different points of the cycle
end

function request()
  i = i % #cycle + 1
  n = n + 1
  local kind = cycle[i]
  return wrk.format("POST", "/v1/chat/completions", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
    ["x-request-id"] = "soak-" .. kind .. "-" .. n,
  }, all[kind][1])
end

local function header(headers, name)
  for k, v in pairs(headers) do
    if string.lower(k) == name then
      return v
    end
  end
  return nil
end

local function count(name)
  counts[name] = (counts[name] or 0) + 1
end

function response(status, headers, body)
  local id = header(headers, "x-request-id") or ""
  local kind = string.match(id, "^soak%-([%w_]+)%-%d+$")
  if kind == nil or all[kind] == nil then
    count("unexpected|unknown|" .. status)
    return
  end
  local want = all[kind][2]
  local is_stream = string.find(kind, "stream") ~= nil
  local outcome
  if want == "ok" then
    local complete = not is_stream or (string.find(body, "data: [DONE]", 1, true) ~= nil
      and string.find(body, '"error"', 1, true) == nil)
    if status == 200 and complete then
      outcome = "ok"
    else
      local code = string.match(body, '"code"%s*:%s*"([^"]*)"') or ""
      outcome = "unexpected|" .. status .. "|" .. code
    end
  elseif want == "error_event" then
    -- A stream cut by the provider: 200, then an error event instead of a clean end.
    if status == 200 and string.find(body, '"error"', 1, true) ~= nil then
      outcome = "expected"
    else
      outcome = "unexpected|" .. status .. "|" .. (string.match(body, '"code"%s*:%s*"([^"]*)"') or "")
    end
  elseif status == want then
    outcome = "expected"
  else
    outcome = "unexpected|" .. status .. "|" .. (string.match(body, '"code"%s*:%s*"([^"]*)"') or "")
  end
  count(kind .. "|" .. outcome)
end

function delay()
  return pause
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts") or {}
    for k, v in pairs(c) do
      merged[k] = (merged[k] or 0) + v
    end
  end
  local parts = {}
  for k, v in pairs(merged) do
    table.insert(parts, string.format('"%s":%d', k, v))
  end
  local e = summary.errors
  io.write(string.format(
    'SOAK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"outcomes":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(parts, ",")))
end
