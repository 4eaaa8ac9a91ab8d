-- wrk script: POST one JSON body with the headers given in the environment, and print a one-line JSON
-- summary (prefixed "BENCH_JSON ") that scripts/bench/report.py reads.
--   BENCH_BODY     the request body (JSON)
--   BENCH_HEADERS  extra headers, "Name: value" separated by "|" (e.g. "Authorization: Bearer gaia_…")
--   BENCH_DELAY_MS optional: each connection waits on average this long after an answer before its next
--                  request (paced load: the rate stays below saturation, so latency is not CPU queueing)
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"
for h in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
  local name, value = string.match(h, "^%s*([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end

-- The pause is drawn uniformly from 0..2×BENCH_DELAY_MS (mean BENCH_DELAY_MS), so the connections drift
-- apart instead of firing together after every pause, which would measure bursts, not the hop.
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause then
  math.randomseed(os.time())
  function delay()
    return math.random(0, 2 * pause)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
