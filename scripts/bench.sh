#!/usr/bin/env bash
# `make bench`: GaiaRouter against mock-upstream under wrk, side by side with the mock directly.
#
#   scripts/bench.sh            # every scenario, then the statistics-query benchmark
#   BENCH_DURATION=10 scripts/bench.sh   # seconds per wrk run (default 5)
#   BENCH_SKIP_STATS=1 scripts/bench.sh  # skip the statistics-query benchmark (a release test build)
#   BENCH_STATS_RECORDS=1000000          # records loaded by the statistics benchmark (default 1,000,000)
#   BENCH_WRITES=300000                  # records written by the three-writer PostgreSQL write-path benchmark
#   BENCH_STREAM_REQUESTS=200            # sequential requests per streaming probe (default 200)
#   BENCH_NO_BUILD=1                     # use target/release binaries as they are (no staleness check)
#   BENCH_MEMORY_REQUESTS=1000000        # also a long c=32 run with GaiaRouter's RSS sampled (default: off)
#   BENCH_RATE_LIMIT_RPM=N               # also set rate_limit_rpm on the tenant (default: unset, see below)
#   BENCH_NO_NGINX=1                     # leave out the nginx reference-proxy rows
#   BENCH_NO_CALLGRIND=1                 # leave out the instructions-per-request rows (valgrind)
#   BENCH_CALLGRIND_PACE_MS=5            # pause after each answer in those rows (default 5 ms)
#
# What it does (details and the latest figures: docs/performance.md):
# - builds target/release/{gaiarouter,mock-upstream} when missing or older than the sources;
# - installs wrk (and nginx, for the reference-proxy rows) with apt-get when missing (as root on
#   Debian/Ubuntu; otherwise says what to install, and leaves the nginx rows out);
# - starts four mock-upstream instances (no delay; 50 / 500 ms before the first byte; 10 chunks 10 ms apart) and
#   GaiaRouter (release, a temporary SQLite database, JSON logs at `warn`), every provider at the mock;
# - creates a real tenant through the API (an organization and an API key, both with a monthly request
#   limit far above what the run sends), so authentication, limit checks (request-slot claims included)
#   and usage recording run as in production;
# - runs the scenarios with wrk (scripts/bench/post.lua) and a streaming probe
#   (scripts/bench/stream_probe.py), reading GaiaRouter's CPU time and peak RSS from /proc around each;
# - writes target/bench/results.json and target/bench/results.md and prints the table.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
duration="${BENCH_DURATION:-5}"
stream_n="${BENCH_STREAM_REQUESTS:-200}"
stats_records="${BENCH_STATS_RECORDS:-1000000}"
out="$root/target/bench"
raw="$out/raw"
gaiarouter="$root/target/release/gaiarouter"
mock="$root/target/release/mock-upstream"
stream_load="$root/target/release/stream-load" # built with mock-upstream (bins/mock-upstream/src/bin)
lua="$root/scripts/bench/post.lua"

log() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }
fail() {
  printf 'bench: %s\n' "$*" >&2
  exit 1
}

# --- tools and binaries (scripts/lib/release-tools.sh) -----------------------------------------------
# shellcheck source=lib/release-tools.sh
source "$root/scripts/lib/release-tools.sh"
need_load_tools
ensure_release_binaries "${BENCH_NO_BUILD:-}"

# 1,000 connections need ~3,000 descriptors across wrk, GaiaRouter (in and out) and the mock; 10,000 idle
# streams need 10,000 in wrk and as many in GaiaRouter. Root may raise the hard limit too.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= 4096 )) || fail "open-file limit $(ulimit -n) is too low for 1,000 connections (raise ulimit -n to 4096+)"

# --- processes ------------------------------------------------------------------------------------------
rm -rf "$raw"
mkdir -p "$raw"
work="$(mktemp -d "${TMPDIR:-/tmp}/gaia-bench.XXXXXX")"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ $status -ne 0 && -s "$work/gaiarouter.log" ]]; then
    echo "--- last lines of the GaiaRouter log ($work/gaiarouter.log):" >&2
    tail -n 30 "$work/gaiarouter.log" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=lib/mock-upstream.sh
source "$root/scripts/lib/mock-upstream.sh"
# Command substitution runs in a subshell, so the mocks' pids come back through pid files.
mock_url="$(start_mock fast)" && pids+=("$(cat "$work/fast.pid")")
slow_url="$(start_mock slow --ttfb-ms 50)" && pids+=("$(cat "$work/slow.pid")")
chunky_url="$(start_mock chunky --chunks 10 --chunk-ms 10)" && pids+=("$(cat "$work/chunky.pid")")
slower_url="$(start_mock slower --ttfb-ms 500)" && pids+=("$(cat "$work/slower.pid")")
idle_url="$(start_mock idle --chunks 10 --chunk-ms 800)" && pids+=("$(cat "$work/idle.pid")")
log "mock-upstream: $mock_url (no delay), $slow_url / $slower_url (50 / 500 ms before the first byte), $chunky_url (10 chunks, 10 ms apart)"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
admin_key="bench-admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
gaia_url="http://127.0.0.1:$port"
# Two extra OpenAI-compatible providers point at the delayed mocks: mock headers are not forwarded upstream.
{
  provider_toml slow "$slow_url"
  provider_toml slower "$slower_url"
  # The idle streams reach their mock over HTTP/2 without TLS (h2c): many streams share one connection.
  provider_toml idle "$idle_url" | sed 's/^api_key = .*/&\nhttp_version = "2"/'
  provider_toml chunky "$chunky_url"
} >"$work/gaiarouter.toml"
# The same database and tenant across restarts; a restart gives a scenario its own peak RSS (memory the
# allocator keeps after a busy run would otherwise carry over).
gaia_pid=""
admin_password="bench-password-$RANDOM$RANDOM" # the admin-UI user `admin`: the sign-in storm (2e) uses it
start_gateway() {
  start_gateway_at_mock "$port" "sqlite://$work/gaia.db?mode=rwc" "$admin_key" "$mock_url" \
    GAIA_ADMIN_PASSWORD="$admin_password" \
    GAIA_JWT_SECRET="bench-jwt-secret-0123456789abcdef0123456789" \
    RUST_LOG="${gateway_log:-warn}" GAIA_CONFIG="$work/gaiarouter.toml"
  pids+=("$gaia_pid")
}
stop_gateway() {
  kill "$gaia_pid" 2>/dev/null || true
  wait "$gaia_pid" 2>/dev/null || true
}
start_gateway
log "gaiarouter: $gaia_url (pid $gaia_pid, SQLite at $work/gaia.db)"

# --- the tenant -----------------------------------------------------------------------------------------
api() { # api METHOD PATH BODY → the JSON answer (fails on non-2xx)
  curl -fsS -X "$1" "$gaia_url$2" -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' -d "$3"
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
# rate_limit_rpm stays unset by default: the limiter's GCRA works in whole milliseconds, so any rpm above
# 60,000 behaves as 60,000/min (1,000 req/s after a 60,000-request burst), which these runs exceed within
# seconds. BENCH_RATE_LIMIT_RPM=N sets it on the key and the organization anyway.
rpm="${BENCH_RATE_LIMIT_RPM:-null}"
# A second tenant without any limit, to attribute the cost of the limit checks (the *-nolimits rows).
free_org="$(api POST /v1/organizations '{"name":"bench-nolimits"}' | json_field id)"
free_key="$(api POST /v1/api-keys "{\"organization_id\":\"$free_org\",\"name\":\"bench-nolimits\"}" | json_field key)"
org_id="$(api POST /v1/organizations "{\"name\":\"bench\",\"monthly_requests_limit\":1000000000,\"rate_limit_rpm\":$rpm}" | json_field id)"
gaia_key="$(api POST /v1/api-keys "{\"organization_id\":\"$org_id\",\"name\":\"bench\",\"monthly_requests_limit\":1000000000,\"rate_limit_rpm\":$rpm}" | json_field key)"
log "tenant: organization $org_id, key ${gaia_key:0:18}… (monthly_requests_limit 1e9 on both, rate_limit_rpm $rpm)"

# --- measurement helpers ----------------------------------------------------------------------------------
clk_tck="$(getconf CLK_TCK)"
# utime + stime of the measured processes: GaiaRouter, or nginx's master and workers for the reference rows
# (field 2 has no spaces: the names are ours).
cpu_ticks() {
  local t=0 pid
  for pid in ${measured_pids:-$gaia_pid}; do # a space-separated list
    t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  echo "$t"
}
# GaiaRouter's own time per request (gaia_request_overhead_seconds on /metrics) as [[le, cumulative], …];
# "null" for other targets.
overhead_buckets() {
  [[ "$1" == gaiarouter ]] || { echo null; return; }
  curl -fsS "$gaia_url/metrics" -H "Authorization: Bearer $admin_key" | python3 -c '
import json, sys
out = []
for line in sys.stdin:
    if line.startswith("gaia_request_overhead_seconds_bucket{le="):
        le, count = line.split("\"")[1], int(line.rsplit(" ", 1)[1])
        out.append([None if le == "+Inf" else float(le), count])
print(json.dumps(out))'
}
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$gaia_pid/status"; }
reset_peak() { echo 5 >"/proc/$gaia_pid/clear_refs" 2>/dev/null || true; } # resets VmHWM (Linux 4.0+)

body_openai='{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello to the benchmark in a few words"}]}'
body_anthropic='{"model":"claude-sonnet-4-5","max_tokens":256,"system":"You are terse.","messages":[{"role":"user","content":"Say hello to the benchmark in a few words"}]}'
body_gemini='{"systemInstruction":{"parts":[{"text":"You are terse."}]},"contents":[{"role":"user","parts":[{"text":"Say hello to the benchmark in a few words"}]}]}'
gw_body() { # gw_body MODEL [stream]
  local stream=""
  [[ "${2:-}" == stream ]] && stream=',"stream":true,"stream_options":{"include_usage":true}'
  echo "{\"model\":\"$1\",\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"Say hello to the benchmark in a few words\"}]$stream}"
}
with_stream() { echo "${1%\}},\"stream\":true}"; } # appends "stream":true to a JSON object
h_openai="Authorization: Bearer sk-openai-mock"
h_anthropic="x-api-key: sk-ant-mock|anthropic-version: 2023-06-01"
h_gemini="x-goog-api-key: gemini-mock-key"
h_gaia="Authorization: Bearer $gaia_key"
h_free="Authorization: Bearer $free_key"

# meta NAME GROUP TARGET DIALECT CONNECTIONS BASELINE → JSON fields common to every record
meta() {
  printf '"name":"%s","group":"%s","target":"%s","dialect":"%s","connections":%s,"baseline":%s' \
    "$1" "$2" "$3" "$4" "$5" "$([[ -n "$6" ]] && echo "\"$6\"" || echo null)"
}

# load NAME GROUP TARGET DIALECT CONNECTIONS BASELINE URL BODY HEADERS [SECONDS]
load() {
  local name=$1 group=$2 target=$3 dialect=$4 conns=$5 baseline=$6 url=$7 body=$8 headers=$9
  local secs=${10:-$duration} threads=2
  ((conns < threads)) && threads=$conns
  # Warm-up: opens the connections (and GaiaRouter's upstream pool) outside the measured run.
  if [[ -z "${BENCH_NO_WARMUP:-}" ]]; then
    BENCH_BODY="$body" BENCH_HEADERS="$headers" wrk -t"$threads" -c"$conns" -d1s -s "$lua" "$url" >/dev/null 2>&1 || true
  fi
  local t0 r0 o0 o1 rss0 rss_mid=0 sampler=""
  reset_peak
  rss0="$(status_kb VmRSS)"
  # BENCH_MID_RSS_AT=S: GaiaRouter's RSS S seconds into the run as well (the idle streams: memory while they
  # are all open, beside the peak of the burst that opens them).
  if [[ -n "${BENCH_MID_RSS_AT:-}" ]]; then
    (sleep "$BENCH_MID_RSS_AT" && status_kb VmRSS >"$raw/$name.mid-rss") &
    sampler=$!
  fi
  o0="$(overhead_buckets "$target")"
  t0="$(cpu_ticks)"
  BENCH_BODY="$body" BENCH_HEADERS="$headers" \
    wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout "${BENCH_TIMEOUT:-10}s" --latency -s "$lua" "$url" >"$raw/$name.wrk.txt" 2>&1 ||
    fail "wrk failed for $name: $(tail -n 5 "$raw/$name.wrk.txt")"
  r0="$(cpu_ticks)"
  o1="$(overhead_buckets "$target")"
  if [[ -n "$sampler" ]]; then
    wait "$sampler" 2>/dev/null || true
    rss_mid="$(cat "$raw/$name.mid-rss" 2>/dev/null || echo 0)"
  fi
  local wrk_json
  wrk_json="$(sed -n 's/^BENCH_JSON //p' "$raw/$name.wrk.txt")"
  [[ -n "$wrk_json" ]] || fail "no summary from wrk for $name: $(tail -n 5 "$raw/$name.wrk.txt")"
  if [[ "$wrk_json" != *'"errors_status":0,'* ]]; then # keep one refused answer, to say why
    curl -sS -w '\nHTTP %{http_code}\n' -X POST "$url" -H 'Content-Type: application/json' \
      -H "${headers%%|*}" -d "$body" >"$raw/$name.error-sample.txt" 2>&1 || true
  fi
  printf '{%s,"kind":"load","gateway_cpu_ticks":%s,"clk_tck":%s,"gateway_peak_rss_kb":%s,"gateway_rss_kb":%s,"gateway_rss_before_kb":%s,"gateway_rss_mid_kb":%s,"overhead_before":%s,"overhead_after":%s,"wrk":%s}\n' \
    "$(meta "$name" "$group" "$target" "$dialect" "$conns" "$baseline")" "$((r0 - t0))" "$clk_tck" \
    "$(status_kb VmHWM)" "$(status_kb VmRSS)" "${rss0:-0}" "${rss_mid:-0}" "$o0" "$o1" "$wrk_json" >"$raw/$name.json"
  python3 "$root/scripts/bench/report.py" line "$raw/$name.json" >&2
}

# stream NAME GROUP TARGET DIALECT BASELINE URL BODY HEADERS...
stream() {
  local name=$1 group=$2 target=$3 dialect=$4 baseline=$5 url=$6 body=$7
  shift 7
  local t0 r0 o0 o1 probe
  reset_peak
  o0="$(overhead_buckets "$target")"
  t0="$(cpu_ticks)"
  probe="$(python3 "$root/scripts/bench/stream_probe.py" "$url" "$body" "$stream_n" "$@")"
  r0="$(cpu_ticks)"
  o1="$(overhead_buckets "$target")"
  printf '{%s,"kind":"stream","gateway_cpu_ticks":%s,"clk_tck":%s,"gateway_peak_rss_kb":%s,"gateway_rss_kb":%s,"overhead_before":%s,"overhead_after":%s,"probe":%s}\n' \
    "$(meta "$name" "$group" "$target" "$dialect" 1 "$baseline")" "$((r0 - t0))" "$clk_tck" \
    "$(status_kb VmHWM)" "$(status_kb VmRSS)" "$o0" "$o1" "$probe" >"$raw/$name.json"
  python3 "$root/scripts/bench/report.py" line "$raw/$name.json" >&2
}

# streamload NAME GROUP TARGET CONNECTIONS BASELINE URL BODY HEADER: kept-alive connections asking for stream
# after stream (bins/mock-upstream/src/bin/stream-load.rs): streams/s, time to the first event and to the last
# byte (p50, p99), errors; GaiaRouter's (or nginx's) CPU around the measured seconds.
streamload() {
  local name=$1 group=$2 target=$3 conns=$4 baseline=$5 url=$6 body=$7 header=$8
  local t0 r0 o0 o1 rss0 out warm=1
  [[ -n "${BENCH_NO_WARMUP:-}" ]] && warm=0
  reset_peak
  rss0="$(status_kb VmRSS)"
  "$stream_load" --url "$url" --connections "$conns" --seconds "$duration" --warmup "$warm" --body "$body" \
    --header "$header" >"$raw/$name.sl.txt" 2>&1 &
  local client=$!
  sleep "$warm"
  o0="$(overhead_buckets "$target")"
  t0="$(cpu_ticks)"
  wait "$client" || fail "stream-load failed for $name: $(tail -n 5 "$raw/$name.sl.txt")"
  r0="$(cpu_ticks)"
  o1="$(overhead_buckets "$target")"
  out="$(sed -n 's/^STREAM_LOAD //p' "$raw/$name.sl.txt")"
  [[ -n "$out" ]] || fail "no summary from stream-load for $name: $(tail -n 5 "$raw/$name.sl.txt")"
  printf '{%s,"kind":"streamload","gateway_cpu_ticks":%s,"clk_tck":%s,"gateway_peak_rss_kb":%s,"gateway_rss_kb":%s,"gateway_rss_before_kb":%s,"overhead_before":%s,"overhead_after":%s,"sl":%s}\n' \
    "$(meta "$name" "$group" "$target" openai "$conns" "$baseline")" "$((r0 - t0))" "$clk_tck" \
    "$(status_kb VmHWM)" "$(status_kb VmRSS)" "${rss0:-0}" "$o0" "$o1" "$out" >"$raw/$name.json"
  python3 "$root/scripts/bench/report.py" line "$raw/$name.json" >&2
}

gemini_path="/v1beta/models/gemini-2.5-flash:generateContent"
chat="$gaia_url/v1/chat/completions"

# --- sanity: one request of each kind answers 200 before anything is measured ---------------------------
for model in openai/gpt-4o-mini anthropic/claude-sonnet-4-5 google/gemini-2.5-flash slow/gpt-4o-mini; do
  curl -fsS -o /dev/null "$chat" -H "$h_gaia" -H 'Content-Type: application/json' -d "$(gw_body "$model")" ||
    fail "a request for $model through GaiaRouter failed"
done

# --- 1. the mock directly ---------------------------------------------------------------------------------
log "1. mock-upstream directly (${duration} s per run)"
load direct-openai-c1 direct mock openai 1 "" "$mock_url/v1/chat/completions" "$body_openai" "$h_openai"
load direct-openai-c32 direct mock openai 32 "" "$mock_url/v1/chat/completions" "$body_openai" "$h_openai"
load direct-anthropic-c32 direct mock anthropic 32 "" "$mock_url/v1/messages" "$body_anthropic" "$h_anthropic"
load direct-gemini-c32 direct mock gemini 32 "" "$mock_url$gemini_path" "$body_gemini" "$h_gemini"
load direct-openai-c256 direct mock openai 256 "" "$mock_url/v1/chat/completions" "$body_openai" "$h_openai"
load direct-anthropic-c256 direct mock anthropic 256 "" "$mock_url/v1/messages" "$body_anthropic" "$h_anthropic"
load direct-gemini-c256 direct mock gemini 256 "" "$mock_url$gemini_path" "$body_gemini" "$h_gemini"

# --- 2. through GaiaRouter, non-streaming -------------------------------------------------------------------
log "2. through GaiaRouter, non-streaming, with a tenant key (auth, limits, usage recording)"
load gw-openai-c1 gateway gaiarouter openai 1 direct-openai-c1 "$chat" "$(gw_body openai/gpt-4o-mini)" "$h_gaia"
for c in 32 256; do
  load "gw-openai-c$c" gateway gaiarouter openai "$c" "direct-openai-c$c" "$chat" "$(gw_body openai/gpt-4o-mini)" "$h_gaia"
  load "gw-anthropic-c$c" gateway gaiarouter anthropic "$c" "direct-anthropic-c$c" "$chat" "$(gw_body anthropic/claude-sonnet-4-5)" "$h_gaia"
  load "gw-gemini-c$c" gateway gaiarouter gemini "$c" "direct-gemini-c$c" "$chat" "$(gw_body google/gemini-2.5-flash)" "$h_gaia"
done
load gw-openai-c32-nolimits gateway gaiarouter openai 32 direct-openai-c32 "$chat" "$(gw_body openai/gpt-4o-mini)" "$h_free"
# The default log level (info): one JSON line per request, written to the log file.
stop_gateway && gateway_log=info start_gateway
load gw-openai-c32-infolog gateway gaiarouter openai 32 direct-openai-c32 "$chat" "$(gw_body openai/gpt-4o-mini)" "$h_gaia"
stop_gateway && start_gateway

# Paced: the same 32 connections, each pausing a random 0..2×${pace_ms} ms after every answer (a few thousand req/s,
# well below what the machine can serve), so the added latency is GaiaRouter's own work, not queueing for a
# saturated CPU.
pace_ms="${BENCH_PACE_MS:-10}"
log "2b. paced: 32 connections, ${pace_ms} ms pause after each answer"
export BENCH_DELAY_MS="$pace_ms"
load direct-openai-c32-paced paced mock openai 32 "" "$mock_url/v1/chat/completions" "$body_openai" "$h_openai"
load gw-openai-c32-paced paced gaiarouter openai 32 direct-openai-c32-paced "$chat" "$(gw_body openai/gpt-4o-mini)" "$h_gaia"
load direct-anthropic-c32-paced paced mock anthropic 32 "" "$mock_url/v1/messages" "$body_anthropic" "$h_anthropic"
load gw-anthropic-c32-paced paced gaiarouter anthropic 32 direct-anthropic-c32-paced "$chat" "$(gw_body anthropic/claude-sonnet-4-5)" "$h_gaia"
load direct-gemini-c32-paced paced mock gemini 32 "" "$mock_url$gemini_path" "$body_gemini" "$h_gemini"
load gw-gemini-c32-paced paced gaiarouter gemini 32 direct-gemini-c32-paced "$chat" "$(gw_body google/gemini-2.5-flash)" "$h_gaia"
unset BENCH_DELAY_MS

# The mock's whole stream (every event at once, then the body's end), for the streams-at-load rows.
stream_body_openai="$(with_stream "${body_openai%\}},\"stream_options\":{\"include_usage\":true}}")"

# --- 2c. reference: nginx as a plain pass-through proxy in front of the same mock -------------------------------
# What one more proxy hop costs on this machine with no gateway work at all: nginx, upstream keep-alive, no
# buffering, no logging. GaiaRouter's added latency is read against it (docs/performance.md). The rows are
# left out when nginx cannot be had (not root, no apt-get) or with BENCH_NO_NGINX=1.
if [[ -z "${BENCH_NO_NGINX:-}" ]] && need_nginx; then
  nginx_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  nginx_slow_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
daemon off;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  upstream mock { server ${mock_url#http://}; keepalive 256; }
  upstream slow { server ${slow_url#http://}; keepalive 1024; }
  server {
    listen 127.0.0.1:$nginx_slow_port backlog=4096;
    keepalive_requests 10000000;
    location / {
      proxy_pass http://slow;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
  server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    keepalive_requests 10000000;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
  nginx -c "$work/nginx/nginx.conf" >"$work/nginx/out.log" 2>&1 &
  nginx_master=$!
  pids+=("$nginx_master")
  nginx_url="http://127.0.0.1:$nginx_port"
  for _ in $(seq 100); do
    curl -s -o /dev/null "$nginx_url/" && break
    sleep 0.05
  done
  measured_pids="$nginx_master $(pgrep -d ' ' -P "$nginx_master" || true)"
  log "2c. reference: nginx $(nginx -v 2>&1 | sed 's/.*\///') at $nginx_url → the mock (pids $measured_pids)"
  load nginx-openai-c1 reference nginx openai 1 direct-openai-c1 "$nginx_url/v1/chat/completions" "$body_openai" "$h_openai"
  load nginx-openai-c32 reference nginx openai 32 direct-openai-c32 "$nginx_url/v1/chat/completions" "$body_openai" "$h_openai"
  BENCH_DELAY_MS="$pace_ms" load nginx-openai-c32-paced reference nginx openai 32 direct-openai-c32-paced \
    "$nginx_url/v1/chat/completions" "$body_openai" "$h_openai"
  # Streams at load through nginx (2d has the mock's and GaiaRouter's rows).
  for c in 32 256; do
    streamload "nginx-stream-c$c" streamload nginx "$c" "direct-stream-c$c" "$nginx_url/v1/chat/completions" \
      "$stream_body_openai" "$h_openai"
  done
  streamload nginx-stream-slow50-c1000 streamload nginx 1000 direct-stream-slow50-c1000 \
    "http://127.0.0.1:$nginx_slow_port/v1/chat/completions" "$stream_body_openai" "$h_openai"
  unset measured_pids
  kill "$nginx_master" 2>/dev/null || true
else
  log "2c. reference proxy skipped (BENCH_NO_NGINX set, or nginx unavailable)"
fi

# --- 2d. streams at load: kept-alive connections, each asking for stream after stream -------------------------------
# How clients really stream: the official SDKs keep their connections alive, so stream after stream goes over
# one connection. wrk does the same (HTTP/1.1 keep-alive) and reads each chunked body to its end, so req/s
# here is streams/s and p50/p99 the time to the last byte. The mock sends its whole stream at once, so any
# wait is the proxy's (a Nagle / delayed-ACK stall showed up here as 40 ms per stream: docs/performance.md).
log "2d. streams at load, kept-alive connections (c=32 and c=256; c=1,000 with 50 ms before the first event)"
for c in 32 256; do
  streamload "direct-stream-c$c" streamload mock "$c" "" "$mock_url/v1/chat/completions" "$stream_body_openai" "$h_openai"
  streamload "gw-stream-c$c" streamload gaiarouter "$c" "direct-stream-c$c" "$chat" "$(gw_body openai/gpt-4o-mini stream)" "$h_gaia"
done
streamload direct-stream-slow50-c1000 streamload mock 1000 "" "$slow_url/v1/chat/completions" "$stream_body_openai" "$h_openai"
streamload gw-stream-slow50-c1000 streamload gaiarouter 1000 direct-stream-slow50-c1000 "$chat" \
  "$(gw_body slow/gpt-4o-mini stream)" "$h_gaia"

# --- 2e. a sign-in storm beside chat traffic ---------------------------------------------------------------------------
# 50 connections signing in as fast as they can (each an argon2id verification: ~20 ms of CPU) while the paced
# 32-connection chat load of 2b runs; compared with 2b's row, the chat requests' p99 must not move much, since
# hashing runs on a bounded blocking pool, never on the threads that serve requests.
log "2e. 50 concurrent sign-ins beside the paced chat load of 2b"
login_body="{\"username\":\"admin\",\"password\":\"$admin_password\"}"
storm_secs=$((duration + 2))
BENCH_BODY="$login_body" BENCH_HEADERS="" wrk -t1 -c50 -d"${storm_secs}s" --timeout 20s --latency -s "$lua" \
  "$gaia_url/v1/admin/login" >"$raw/sign-in-storm.wrk.txt" 2>&1 &
storm_pid=$!
sleep 1 # the storm is under way before the chat load starts
BENCH_NO_WARMUP=1 BENCH_DELAY_MS="$pace_ms" load gw-openai-c32-paced-signins signins gaiarouter openai 32 gw-openai-c32-paced \
  "$chat" "$(gw_body openai/gpt-4o-mini)" "$h_gaia"
wait "$storm_pid" || true
storm_json="$(sed -n 's/^BENCH_JSON //p' "$raw/sign-in-storm.wrk.txt")"
[[ -n "$storm_json" ]] || fail "no summary from the sign-in storm: $(tail -n 5 "$raw/sign-in-storm.wrk.txt")"
printf '{%s,"kind":"load","gateway_cpu_ticks":0,"clk_tck":%s,"gateway_peak_rss_kb":0,"gateway_rss_kb":0,"wrk":%s}\n' \
  "$(meta sign-in-storm-c50 signins client signin 50 "")" "$clk_tck" "$storm_json" >"$raw/sign-in-storm-c50.json"
python3 "$root/scripts/bench/report.py" line "$raw/sign-in-storm-c50.json" >&2

# --- 3. streaming: time to first token and total time, sequential requests ------------------------------------
log "3. streaming, $stream_n sequential requests per probe"
stream stream-direct-openai stream mock openai "" "$mock_url/v1/chat/completions" \
  "$(with_stream "${body_openai%\}},\"stream_options\":{\"include_usage\":true}}")" "$h_openai"
stream stream-gw-openai stream gaiarouter openai stream-direct-openai "$chat" \
  "$(gw_body openai/gpt-4o-mini stream)" "$h_gaia"
stream stream-direct-anthropic stream mock anthropic "" "$mock_url/v1/messages" \
  "$(with_stream "$body_anthropic")" "x-api-key: sk-ant-mock" "anthropic-version: 2023-06-01"
stream stream-gw-anthropic stream gaiarouter anthropic stream-direct-anthropic "$chat" \
  "$(gw_body anthropic/claude-sonnet-4-5 stream)" "$h_gaia"
stream stream-direct-gemini stream mock gemini "" "$mock_url/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse" \
  "$body_gemini" "$h_gemini"
stream stream-gw-gemini stream gaiarouter gemini stream-direct-gemini "$chat" \
  "$(gw_body google/gemini-2.5-flash stream)" "$h_gaia"
# 10 chunks 10 ms apart: a gateway that buffered would show a first token near the total time.
stream stream-direct-chunked stream mock openai "" "$chunky_url/v1/chat/completions" \
  "$(with_stream "$body_openai")" "$h_openai"
stream stream-gw-chunked stream gaiarouter openai stream-direct-chunked "$chat" \
  "$(gw_body chunky/gpt-4o-mini stream)" "$h_gaia"

# --- 4. 1,000 connections against an upstream that takes 50 ms ----------------------------------------------
log "4. 50 ms (and 500 ms) upstream at 1,000 connections"
load direct-slow50-c1000 slow50 mock openai 1000 "" "$slow_url/v1/chat/completions" "$body_openai" "$h_openai"
stop_gateway && start_gateway
load gw-slow50-c1000 slow50 gaiarouter openai 1000 direct-slow50-c1000 "$chat" "$(gw_body slow/gpt-4o-mini)" "$h_gaia"
# 1,000 requests in flight at 50 ms each is 20,000 req/s — more than two shared cores serve, so the run
# above measures saturation. With 500 ms upstream the same 1,000 in-flight requests need only 2,000 req/s.
load direct-slow500-c1000 slow50 mock openai 1000 "" "$slower_url/v1/chat/completions" "$body_openai" "$h_openai" "$((duration + 3))"
stop_gateway && start_gateway
load gw-slow500-c1000 slow50 gaiarouter openai 1000 direct-slow500-c1000 "$chat" "$(gw_body slower/gpt-4o-mini)" "$h_gaia" "$((duration + 3))"
stop_gateway && start_gateway
load gw-slow500-c1000-nolimits slow50 gaiarouter openai 1000 direct-slow500-c1000 "$chat" "$(gw_body slower/gpt-4o-mini)" "$h_free" "$((duration + 3))"

# --- 4b. 10,000 concurrent, mostly idle streams -------------------------------------------------------------------
# Each stream sends 10 chunks 800 ms apart (8 s); every connection holds one stream at a time for 20 s.
# The `idle` provider speaks HTTP/2 to its mock (h2c), so GaiaRouter needs one descriptor per stream (the
# client's socket) plus one upstream connection per worker thread; wrk needs one per stream too. The default
# is 10,000, or what the open-file limit allows with 2,000 to spare.
fd_limit="$(ulimit -n)"
idle_default=$(( fd_limit - 2000 ))
(( idle_default > 10000 )) && idle_default=10000
idle_conns="${BENCH_IDLE_STREAMS:-$idle_default}"
[[ -z "${BENCH_IDLE_STREAMS:-}" ]] && (( idle_conns < 10000 )) && log "open-file limit $fd_limit (hard $(ulimit -Hn)): $idle_conns streams, not 10,000 (raise the limit to 12,000+ for 10,000)"
log "4b. $idle_conns concurrent streams (10 chunks, 800 ms apart)"
stop_gateway && start_gateway
BENCH_NO_WARMUP=1 BENCH_TIMEOUT=30 load "direct-idle-c$idle_conns" idle mock openai "$idle_conns" "" "$idle_url/v1/chat/completions" \
  "$(with_stream "$body_openai")" "$h_openai" 20
BENCH_MID_RSS_AT=6 BENCH_NO_WARMUP=1 BENCH_TIMEOUT=30 load "gw-idle-c$idle_conns" idle gaiarouter openai "$idle_conns" "direct-idle-c$idle_conns" "$chat" \
  "$(gw_body idle/gpt-4o-mini stream)" "$h_gaia" 20

# --- 5. optional: memory over a long run (BENCH_MEMORY_REQUESTS, e.g. 1000000) ---------------------------------
if (( ${BENCH_MEMORY_REQUESTS:-0} > 0 )); then
  rps="$(python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["wrk"]; print(w["requests"] * 1e6 / w["duration_us"])' "$raw/gw-openai-c32.json")"
  # 1.5× the time the c=32 run's rate needs: the long run is slower than a 5-second one.
  secs="$(python3 -c "import sys; print(int(1.5 * ${BENCH_MEMORY_REQUESTS} / $rps) + 1)")"
  log "5. memory: ~${BENCH_MEMORY_REQUESTS} requests at c=32 (~${secs} s), GaiaRouter's RSS sampled every 5 s"
  stop_gateway && start_gateway
  {
    while kill -0 "$gaia_pid" 2>/dev/null; do
      echo "$(date +%s) $(status_kb VmRSS)"
      sleep 5
    done
  } >"$raw/memory.samples" &
  sampler=$!
  BENCH_BODY="$(gw_body openai/gpt-4o-mini)" BENCH_HEADERS="$h_gaia" \
    wrk -t2 -c32 -d"${secs}s" --timeout 10s -s "$lua" "$chat" >"$raw/memory.wrk.txt" 2>&1 || true
  echo "$(date +%s) $(status_kb VmRSS)" >>"$raw/memory.samples"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
fi

# --- 6. instructions per request (callgrind) -------------------------------------------------------------------
# Wall-clock and CPU figures on a shared VM vary by ±20 % from run to run; instruction counts do not. GaiaRouter
# runs under callgrind, one connection sends requests of each kind, and the user-space instructions executed
# between zeroing the counters and dumping them (every thread: workers, usage writer, reloads) are divided by
# the requests answered. Kernel work (system calls, wake-ups) is not counted — the CPU/req column has it.
if [[ -z "${BENCH_NO_CALLGRIND:-}" ]] && need_valgrind; then
  log "6. instructions per request: GaiaRouter under callgrind, one connection, ${BENCH_CALLGRIND_SECONDS:-5} s per kind"
  stop_gateway
  gateway_wrapper="valgrind --tool=callgrind --callgrind-out-file=$work/callgrind.out.%p" gateway_ready_secs=180 start_gateway
  # The first few hundred requests of a fresh process cost more (pools, statement caches): not measured.
  BENCH_BODY="$(gw_body openai/gpt-4o-mini)" BENCH_HEADERS="$h_gaia" wrk -t1 -c1 -d5s --timeout 10s -s "$lua" "$chat" >/dev/null 2>&1 || true
  instructions() { # instructions NAME BODY
    local name=$1 body=$2 before dump n
    BENCH_BODY="$body" BENCH_HEADERS="$h_gaia" wrk -t1 -c1 -d2s --timeout 10s -s "$lua" "$chat" >/dev/null 2>&1 || true
    callgrind_control -z "$gaia_pid" >/dev/null
    # Paced (a pause after every answer), so the rate — and with it how many records share a usage batch's
    # fixed cost — is set by the pause rather than by how fast the build under test runs.
    BENCH_DELAY_MS="${BENCH_CALLGRIND_PACE_MS:-5}" BENCH_BODY="$body" BENCH_HEADERS="$h_gaia" \
      wrk -t1 -c1 -d"${BENCH_CALLGRIND_SECONDS:-5}s" --timeout 10s -s "$lua" "$chat" \
      >"$raw/$name.wrk.txt" 2>&1 || fail "wrk failed for $name: $(tail -n 5 "$raw/$name.wrk.txt")"
    before="$(ls "$work"/callgrind.out.* 2>/dev/null | wc -l)"
    callgrind_control -d "$gaia_pid" >/dev/null
    for _ in $(seq 100); do
      (( $(ls "$work"/callgrind.out.* 2>/dev/null | wc -l) > before )) && break
      sleep 0.1
    done
    dump="$(ls -t "$work"/callgrind.out.* | head -n 1)"
    n="$(sed -n 's/^BENCH_JSON {"requests":\([0-9]*\).*/\1/p' "$raw/$name.wrk.txt")"
    printf '{"name":"%s","kind":"instructions","requests":%s,"instructions":%s,"errors_status":%s}\n' "$name" "$n" \
      "$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")" \
      "$(sed -n 's/.*"errors_status":\([0-9]*\).*/\1/p' "$raw/$name.wrk.txt")" >"$raw/$name.json"
    python3 "$root/scripts/bench/report.py" line "$raw/$name.json" >&2
  }
  instructions ir-openai "$(gw_body openai/gpt-4o-mini)"
  instructions ir-anthropic "$(gw_body anthropic/claude-sonnet-4-5)"
  instructions ir-gemini "$(gw_body google/gemini-2.5-flash)"
  instructions ir-openai-stream "$(gw_body openai/gpt-4o-mini stream)"
  stop_gateway
  unset gateway_wrapper
  start_gateway
else
  log "6. instructions per request skipped (BENCH_NO_CALLGRIND set, or valgrind unavailable)"
fi

# --- proof that the tenant's requests were recorded (usage recording really on) -----------------------------
sleep 2 # the usage sink writes in batches
curl -fsS "$gaia_url/v1/organizations/$org_id" -H "Authorization: Bearer $admin_key" >"$raw/tenant.json" || true

# --- the statistics-query benchmark -----------------------------------------------------------------------------
if [[ "${BENCH_SKIP_STATS:-}" == 1 ]]; then
  log "statistics-query benchmark skipped (BENCH_SKIP_STATS=1)"
else
  log "statistics-query benchmark: $stats_records records on SQLite (a release test build the first time)"
  GAIA_BENCH_RECORDS="$stats_records" cargo test --release -p gaia-stats --test it \
    bench_statistics_queries_on_sqlite -- --ignored --nocapture >"$raw/stats-sqlite.txt" 2>&1 ||
    fail "statistics benchmark failed: $(tail -n 20 "$raw/stats-sqlite.txt")"
  if pg_url="$(scripts/ensure-postgres.sh 2>"$raw/ensure-postgres.txt")"; then
    log "statistics-query benchmark: $stats_records records on PostgreSQL"
    GAIA_TEST_POSTGRES_URL="$pg_url" GAIA_BENCH_RECORDS="$stats_records" cargo test --release -p gaia-stats --test it \
      bench_statistics_queries_on_postgres -- --ignored --nocapture >"$raw/stats-postgres.txt" 2>&1 ||
      fail "statistics benchmark (PostgreSQL) failed: $(tail -n 20 "$raw/stats-postgres.txt")"
    log "write path: three usage writers on one PostgreSQL (${BENCH_WRITES:-300000} records)"
    GAIA_TEST_POSTGRES_URL="$pg_url" GAIA_BENCH_WRITES="${BENCH_WRITES:-300000}" cargo test --release -p gaia-stats --test it \
      bench_three_usage_writers_on_postgres -- --ignored --nocapture >"$raw/write-path-postgres.txt" 2>&1 ||
      fail "write-path benchmark failed: $(tail -n 20 "$raw/write-path-postgres.txt")"
  else
    log "no PostgreSQL (scripts/ensure-postgres.sh: $(tail -n 1 "$raw/ensure-postgres.txt")); statistics benchmark on SQLite only"
  fi
fi

# --- report ------------------------------------------------------------------------------------------------------
python3 "$root/scripts/bench/report.py" report "$raw" "$out" \
  --machine "$(nproc) cores, $(uname -sr), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
