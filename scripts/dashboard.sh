#!/usr/bin/env bash
# `make dashboard`: checks every query of the Grafana dashboard (docs/deployment/grafana/gaiarouter-dashboard.json)
# against a real Prometheus scraping two real GaiaRouter instances under mixed traffic, and renders its panels
# to docs/deployment/grafana/dashboard.png — a preview drawn by scripts/dashboard/render.mjs, not by Grafana
# (Grafana cannot be installed here: no Debian package, no download).
#
#   scripts/dashboard.sh                   # or: make dashboard
#   DASHBOARD_SECONDS=60 scripts/dashboard.sh   # seconds of traffic (default 150)
#   DASHBOARD_RATE=5 scripts/dashboard.sh       # requests/s of the paced mix (default 9; ~3/s more on top)
#   DASHBOARD_KEEP=1 scripts/dashboard.sh       # keep the temp dir (logs, Prometheus data, config)
#   DASHBOARD_NO_DOCS=1 scripts/dashboard.sh    # leave docs/deployment/grafana/dashboard.png alone
#   GAIA_BIN=… MOCK_BIN=… scripts/dashboard.sh  # other binaries (default target/debug/{gaiarouter,mock-upstream})
#
# What it does:
# - checks the tools: prometheus (Debian package `prometheus`, installed with apt-get as root when missing;
#   its service is never used: our own process, config, data dir and port), Chromium at /usr/bin/chromium,
#   playwright-core and echarts in frontend/node_modules (`npm ci` when missing), psql; waits (checking
#   every minute, up to 40 minutes) for the binaries when they are not built yet — it never runs cargo;
# - starts four mock-upstream processes (OpenAI-format at 25 ms, Anthropic at 140 ms, Gemini at 70 ms before
#   the first byte, and one answering every request 503), the prompt-cache upstream of
#   scripts/dashboard/traffic.py (mock-upstream never reports cache reads or writes), a throwaway database
#   on the PostgreSQL of scripts/ensure-postgres.sh, the Redis of scripts/ensure-redis.sh (a key prefix of
#   its own), and two `gaiarouter serve` instances on them; GAIA_CONFIG adds an OpenAI-compatible provider,
#   the prompt-cache one, three failing ones (503, 429, too slow), a channel at a port where nothing listens
#   and one that answers 503 (their circuits open), the alias `smart` (fallbacks), prices;
# - through the admin API: a tenant, a key with rate_limit_rpm 6, one with a monthly limit of 15 requests,
#   an organization with rate_limit_rpm 12, and a stored channel without a credential (the upstream refuses
#   it: the channel is disabled; the traffic enables it again every 30 s, as an operator might);
# - starts Prometheus (job `gaiarouter`, 5 s scrape interval, both instances, the admin key as a bearer
#   credential from a file), drives DASHBOARD_SECONDS of traffic (scripts/dashboard/traffic.py), then runs
#   scripts/dashboard/render.mjs over that window: every query of every panel must return data (and no
#   error), else the run fails listing them; the screenshot is written to target/dashboard/dashboard.png and,
#   when the check passes, copied to docs/deployment/grafana/dashboard.png;
# - stops everything it started on exit and drops the database; the temp dir is kept only with DASHBOARD_KEEP=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONTEND="$ROOT/frontend"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
GAIA_BIN="${GAIA_BIN:-$ROOT/target/debug/gaiarouter}"
MOCK_BIN="${MOCK_BIN:-$ROOT/target/debug/mock-upstream}"
SECONDS_OF_TRAFFIC="${DASHBOARD_SECONDS:-150}"
RATE="${DASHBOARD_RATE:-9}"
SCRAPE_SECS=5
DASHBOARD_JSON="$ROOT/docs/deployment/grafana/gaiarouter-dashboard.json"
OUT_DIR="$ROOT/target/dashboard"
DOCS_PNG="$ROOT/docs/deployment/grafana/dashboard.png"

say() { printf '\033[1mdashboard:\033[0m %s\n' "$*" >&2; }
fail() {
  printf 'dashboard: error: %s\n' "$*" >&2
  exit 1
}

# ---- prerequisites ---------------------------------------------------------------------------------------
command -v node >/dev/null || fail "node is not installed (Node >= 20 is needed)"
command -v python3 >/dev/null || fail "python3 is needed (scripts/dashboard/traffic.py)"
command -v curl >/dev/null || fail "curl is needed"
command -v psql >/dev/null || fail "psql is needed to create the throwaway database ('sudo apt-get install postgresql-client')"

if ! command -v prometheus >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    # Only the binary is used: our own process with our own config, data dir and port, never the service.
    say "prometheus not found; installing the 'prometheus' package with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends prometheus >&2 ||
      { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends prometheus >&2; }
  fi
fi
command -v prometheus >/dev/null ||
  fail "prometheus is not installed: 'sudo apt-get install prometheus' (Debian/Ubuntu), or put a Prometheus 2.x binary on PATH"
PROMETHEUS="$(command -v prometheus)"

if [[ ! -x "$CHROMIUM" ]]; then
  fail "no Chromium at $CHROMIUM: 'sudo apt-get install -y chromium fonts-wqy-zenhei', or point CHROMIUM_PATH at one (never 'npx playwright install')"
fi
if [[ ! -d "$FRONTEND/node_modules/playwright-core" || ! -f "$FRONTEND/node_modules/echarts/dist/echarts.min.js" ]]; then
  say "frontend dependencies missing: npm ci in frontend/"
  (cd "$FRONTEND" && npm ci --no-audit --no-fund) >&2 || fail "npm ci failed in frontend/"
fi

# The binaries come from the build (`cargo build --workspace --all-targets`); this script never builds, so
# two cargo builds never run at once. A build that is under way produces them: wait for it.
waited=0
while [[ ! -x "$GAIA_BIN" || ! -x "$MOCK_BIN" ]]; do
  if ((waited >= 40)); then
    fail "$GAIA_BIN or $MOCK_BIN still missing after 40 minutes: build them ('cargo build -p gaiarouter -p mock-upstream')"
  fi
  say "waiting for $(basename "$GAIA_BIN") and $(basename "$MOCK_BIN") to be built (minute $waited of 40; checking every minute)"
  sleep 60
  waited=$((waited + 1))
done

# ---- processes -------------------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/gaia-dashboard.XXXXXX")"
pids=()
pg_server=""
db_name=""
cleanup() {
  local status=$? pid i
  # Stop in reverse order of start (Prometheus and the gateways before their upstreams).
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$db_name" ]]; then
    psql -q "$pg_server" -c "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [[ $status -ne 0 ]]; then
    for f in "$work"/gaiarouter-*.log; do
      [[ -s "$f" ]] || continue
      echo "--- last lines of $f:" >&2
      tail -n 15 "$f" >&2
    done
  fi
  if [[ "${DASHBOARD_KEEP:-}" == 1 ]]; then
    say "temp dir kept: $work"
  else
    rm -rf "$work"
    [[ $status -ne 0 ]] && say "(run with DASHBOARD_KEEP=1 to keep the logs, config and Prometheus data)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
random_hex() { python3 -c "import secrets; print(secrets.token_hex($1))"; }

# await_line FILE PREFIX PID: waits (10 s) for a first stdout line "PREFIX http://…" and prints the URL.
await_line() {
  local file=$1 prefix=$2 pid=$3 line
  for _ in $(seq 1 100); do
    line="$(head -n 1 "$file" 2>/dev/null || true)"
    if [[ "$line" == "$prefix"* ]]; then
      echo "${line#"$prefix"}"
      return
    fi
    kill -0 "$pid" 2>/dev/null || fail "$prefix… exited: $(cat "$file")"
    sleep 0.1
  done
  fail "no '$prefix' line within 10 s in $file"
}

# The mocks (scripts/lib/mock-upstream.sh: start_mock NAME [flags] → its URL; pid in $work/NAME.pid).
mock="$MOCK_BIN"
# shellcheck source=lib/mock-upstream.sh
source "$ROOT/scripts/lib/mock-upstream.sh"
mock_openai="$(start_mock openai --workers 1 --ttfb-ms 25 --chunk-ms 12)" && pids+=("$(cat "$work/openai.pid")")
mock_anthropic="$(start_mock anthropic --workers 1 --ttfb-ms 140 --chunk-ms 20)" && pids+=("$(cat "$work/anthropic.pid")")
mock_gemini="$(start_mock gemini --workers 1 --ttfb-ms 70 --chunk-ms 15)" && pids+=("$(cat "$work/gemini.pid")")
mock_503="$(start_mock failing --workers 1 --fault status-503)" && pids+=("$(cat "$work/failing.pid")")

python3 "$ROOT/scripts/dashboard/traffic.py" cache-upstream >"$work/cache-upstream.log" 2>&1 &
pids+=($!)
cache_url="$(await_line "$work/cache-upstream.log" "cache-upstream listening on " "$!")"
dead_port="$(free_port)" # nothing listens there: connections are refused
say "upstreams: OpenAI-format $mock_openai, Anthropic $mock_anthropic, Gemini $mock_gemini, 503 $mock_503, prompt cache $cache_url, nothing at :$dead_port"

# The database and Redis.
pg_server="$("$ROOT/scripts/ensure-postgres.sh")"
db_name="gaia_dashboard_$(random_hex 8)"
psql -q "$pg_server" -c "CREATE DATABASE \"$db_name\"" >/dev/null || fail "could not create database $db_name on $pg_server"
database_url="${pg_server%/*}/$db_name"
redis_url="$("$ROOT/scripts/ensure-redis.sh")"
say "PostgreSQL database $database_url, Redis $redis_url"

cat >"$work/gaiarouter.toml" <<EOF
# Written by scripts/dashboard.sh.
[upstream]
timeout_secs = 3          # the slowpoke provider answers after 5 s: kind "timeout"
max_retries = 1

[upstream.circuit]
max_cooldown_secs = 30    # a dead channel opens again every ≤ 30 s within the traffic window

# An OpenAI-compatible server (vLLM, Ollama, …).
[[providers]]
name = "compat"
kind = "openai"
base_url = "$mock_openai/v1"
api_key = "sk-compat-mock"
[[providers.models]]
name = "llama-3.1-8b"
input_price = 0.05
output_price = 0.08

# Anthropic-format, reporting prompt-cache reads and writes (scripts/dashboard/traffic.py cache-upstream).
[[providers]]
name = "claudecache"
kind = "anthropic"
base_url = "$cache_url"
api_key = "sk-ant-cache-mock"
[[providers.models]]
name = "claude-sonnet-4-5"
input_price = 3.0
output_price = 15.0
cached_input_price = 0.3
cache_write_price = 3.75

# Three failing providers: every answer a 503, every answer a 429, every answer after the timeout.
[[providers]]
name = "flaky"
kind = "openai"
base_url = "$mock_openai/v1"
api_key = "sk-flaky-mock"
headers = { "x-mock-fault" = "status-503" }
[[providers.models]]
name = "gpt-lite"
input_price = 0.1
output_price = 0.4

[[providers]]
name = "throttled"
kind = "openai"
base_url = "$mock_openai/v1"
api_key = "sk-throttled-mock"
headers = { "x-mock-fault" = "status-429" }
[[providers.models]]
name = "gpt-lite"
input_price = 0.1
output_price = 0.4

[[providers]]
name = "slowpoke"
kind = "openai"
base_url = "$mock_openai/v1"
api_key = "sk-slowpoke-mock"
headers = { "x-mock-ttfb-ms" = "5000" }
[[providers.models]]
name = "gpt-lite"
input_price = 0.1
output_price = 0.4

# A second OpenAI channel where nothing listens, a second Anthropic one that answers 503: their circuits open.
[[channels]]
provider = "openai"
name = "eu-backup"
base_url = "http://127.0.0.1:$dead_port/v1"
api_key = "sk-openai-eu-mock"

[[channels]]
provider = "anthropic"
name = "us-east"
base_url = "$mock_503"
api_key = "sk-ant-east-mock"

# Fallbacks: the first two targets fail, the third serves.
[[aliases]]
name = "smart"
targets = ["flaky/gpt-lite", "throttled/gpt-lite", "openai/gpt-4o-mini"]
EOF

admin_key="dashboard-admin-$(random_hex 16)"
jwt_secret="dashboard-jwt-$(random_hex 24)"
secret_key="$(random_hex 32)"
redis_prefix="dash$(random_hex 4):"
ports=()
gateways=()
# start_instance N: `gaiarouter serve` from its own directory (no .env of the checkout is read), with a
# clean environment; waits (60 s) until /ready answers.
start_instance() {
  local n=$1 port pid
  port="$(free_port)"
  mkdir -p "$work/instance-$n"
  (
    cd "$work/instance-$n"
    exec env -i PATH="$PATH" HOME="${HOME:-/root}" \
      GAIA_BIND="127.0.0.1:$port" \
      DATABASE_URL="$database_url" \
      GAIA_ADMIN_KEY="$admin_key" \
      GAIA_JWT_SECRET="$jwt_secret" \
      GAIA_SECRET_KEY="$secret_key" \
      GAIA_REDIS_URL="$redis_url" \
      GAIA_REDIS_PREFIX="$redis_prefix" \
      GAIA_CONFIG="$work/gaiarouter.toml" \
      GAIA_LOG_FORMAT=json \
      OPENAI_BASE_URL="$mock_openai/v1" OPENAI_API_KEY=sk-openai-mock \
      ANTHROPIC_BASE_URL="$mock_anthropic" ANTHROPIC_API_KEY=sk-ant-mock \
      GEMINI_BASE_URL="$mock_gemini" GEMINI_API_KEY=gemini-mock-key \
      OPENROUTER_BASE_URL="$mock_openai/api/v1" OPENROUTER_API_KEY=sk-or-mock \
      "$GAIA_BIN" serve
  ) >"$work/gaiarouter-$n.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/ready" 2>/dev/null; then
      ports+=("$port")
      gateways+=("http://127.0.0.1:$port")
      say "gaiarouter $n: http://127.0.0.1:$port (pid $pid, log $work/gaiarouter-$n.log)"
      return
    fi
    kill -0 "$pid" 2>/dev/null || fail "gaiarouter $n exited during start-up: $(tail -n 5 "$work/gaiarouter-$n.log")"
    sleep 0.1
  done
  fail "gaiarouter $n was not ready within 60 s"
}
start_instance 1 # migrates the database
start_instance 2

# ---- the tenant ------------------------------------------------------------------------------------------
api() { # api METHOD PATH BODY → the JSON answer (fails on non-2xx); on instance 1, seen by 2 through Redis
  curl -fsS -X "$1" "${gateways[0]}$2" -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' -d "$3"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
org="$(api POST /v1/organizations '{"name":"dashboard"}' | field id)"
small_org="$(api POST /v1/organizations '{"name":"dashboard-small","rate_limit_rpm":12}' | field id)"
key_main="$(api POST /v1/api-keys "{\"organization_id\":\"$org\",\"name\":\"traffic\"}" | field key)"
key_rpm="$(api POST /v1/api-keys "{\"organization_id\":\"$org\",\"name\":\"rpm-6\",\"rate_limit_rpm\":6}" | field key)"
key_quota="$(api POST /v1/api-keys "{\"organization_id\":\"$org\",\"name\":\"quota-15\",\"monthly_requests_limit\":15}" | field key)"
key_org_rpm="$(api POST /v1/api-keys "{\"organization_id\":\"$small_org\",\"name\":\"small-org\"}" | field key)"
# A stored channel without a credential on an upstream that wants one: its first request is refused (401)
# and the channel is disabled for every instance (the traffic enables it again now and then).
channel="$(api POST /v1/admin/channels "{\"provider\":\"compat\",\"name\":\"gpu-2\",\"base_url\":\"$mock_openai/v1\"}" | field id)"
printf '{"main":"%s","rpm":"%s","quota":"%s","org_rpm":"%s","admin":"%s","channel":"%s"}\n' \
  "$key_main" "$key_rpm" "$key_quota" "$key_org_rpm" "$admin_key" "$channel" >"$work/keys.json"
say "tenant: organizations dashboard and dashboard-small (rate_limit_rpm 12), four keys, stored channel compat/gpu-2"

# ---- Prometheus ------------------------------------------------------------------------------------------
mkdir -p "$work/prometheus/data"
printf '%s\n' "$admin_key" >"$work/prometheus/gaiarouter-key"
chmod 0400 "$work/prometheus/gaiarouter-key"
{
  echo "# Written by scripts/dashboard.sh."
  echo "global:"
  echo "  scrape_interval: ${SCRAPE_SECS}s"
  echo "  evaluation_interval: ${SCRAPE_SECS}s"
  echo "scrape_configs:"
  echo "  - job_name: gaiarouter"
  echo "    metrics_path: /metrics"
  echo "    scrape_interval: ${SCRAPE_SECS}s"
  echo "    scrape_timeout: 4s"
  echo "    authorization:"
  echo "      type: Bearer"
  echo "      credentials_file: $work/prometheus/gaiarouter-key"
  echo "    static_configs:"
  echo "      - targets: [\"127.0.0.1:${ports[0]}\", \"127.0.0.1:${ports[1]}\"]"
} >"$work/prometheus/prometheus.yml"
prom_port="$(free_port)"
prom_url="http://127.0.0.1:$prom_port"
"$PROMETHEUS" --config.file="$work/prometheus/prometheus.yml" --storage.tsdb.path="$work/prometheus/data" \
  --web.listen-address="127.0.0.1:$prom_port" --storage.tsdb.retention.time=1d --log.level=warn \
  >"$work/prometheus.log" 2>&1 &
pids+=($!)
prom_pid=$!
up=""
for _ in $(seq 1 300); do # 30 s: both targets scraped successfully once
  kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited: $(tail -n 5 "$work/prometheus.log")"
  up="$(curl -fsS "$prom_url/api/v1/query" --data-urlencode 'query=sum(up{job="gaiarouter"})' 2>/dev/null |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null || true)"
  [[ "$up" == 2 ]] && break
  sleep 0.1
done
[[ "$up" == 2 ]] || fail "Prometheus did not scrape both instances within 30 s (up = '${up:-none}'); see its targets at $prom_url/targets"
say "prometheus: $prom_url (scrape interval ${SCRAPE_SECS}s, both targets up)"

# ---- traffic ---------------------------------------------------------------------------------------------
start_ts="$(date +%s)"
say "driving ${SECONDS_OF_TRAFFIC} s of mixed traffic (about $RATE requests/s plus the limit, unknown-key and timeout scenarios)"
python3 "$ROOT/scripts/dashboard/traffic.py" drive --gateways "$(
  IFS=,
  echo "${gateways[*]}"
)" --keys "$work/keys.json" --seconds "$SECONDS_OF_TRAFFIC" --rate "$RATE" ||
  fail "the traffic did not get the answers it expects (see above)"
# The window ends with the traffic (so its last points are not rates over idle seconds); one more scrape
# first, so every sample up to its end is stored.
end_ts="$(date +%s)"
sleep $((SCRAPE_SECS + 1))

# ---- the check and the screenshot ------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
set +e
node "$ROOT/scripts/dashboard/render.mjs" \
  --prometheus "$prom_url" --dashboard "$DASHBOARD_JSON" \
  --start "$start_ts" --end "$end_ts" --scrape-interval "$SCRAPE_SECS" \
  --chromium "$CHROMIUM" --out "$OUT_DIR/dashboard.png" --summary "$OUT_DIR/summary.txt"
rc=$?
set -e

# What the instances logged that nobody asked for.
for n in 1 2; do
  log="$work/gaiarouter-$n.log"
  panics="$(grep -c -i 'panic' "$log" || true)"
  fivehundreds="$(grep -c -E ' 500 |"status":500[,}]|"status_code":500[,}]' "$log" || true)"
  say "gaiarouter $n log: $(wc -l <"$log") lines, $panics mentioning 'panic', $fivehundreds with a 500 status"
  if [[ "$panics" != 0 || "$fivehundreds" != 0 ]]; then
    grep -i -E 'panic| 500 |"status":500[,}]|"status_code":500[,}]' "$log" | head -n 5 >&2
    say "FAILED: gaiarouter $n panicked or answered 500 (none of the traffic should make it)"
    rc=1
  fi
done

if [[ $rc -ne 0 ]]; then
  say "FAILED: the screenshot of this run is $OUT_DIR/dashboard.png (docs/ left alone)"
  exit "$rc"
fi
if [[ "${DASHBOARD_NO_DOCS:-}" != 1 ]]; then
  cp "$OUT_DIR/dashboard.png" "$DOCS_PNG"
  say "screenshot: $DOCS_PNG (also $OUT_DIR/dashboard.png; per-panel summary $OUT_DIR/summary.txt)"
else
  say "screenshot: $OUT_DIR/dashboard.png (per-panel summary $OUT_DIR/summary.txt)"
fi
