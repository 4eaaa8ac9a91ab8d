#!/usr/bin/env bash
# `make soak`: GaiaRouter (release) under sustained mixed load, its memory and CPU sampled over time.
# Not part of `make test`. What it does and how to read the report: docs/soak.md.
#
#   scripts/soak.sh                       # 10 minutes
#   SOAK_DURATION=3m scripts/soak.sh      # wrk duration syntax: 90s, 3m, 1h
#   SOAK_CONNECTIONS=32                   # concurrent connections (default 32)
#   SOAK_DELAY_MS=10                      # pause of each connection after every answer (default 10; 0 = flat out)
#   SOAK_SAMPLE_SECS=10                   # RSS / CPU sampling period (default 10)
#   SOAK_DATABASE_URL=postgres://…        # a database to use instead of a temporary SQLite file (must be empty)
#   SOAK_LOG=info                         # GaiaRouter's RUST_LOG (default info, as in production; to a file)
#   SOAK_NO_BUILD=1                       # use target/release binaries as they are (no staleness check)
#
# Exit status: 0 when no answer was unexpected and memory was flat over the last third; 1 otherwise.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
duration="${SOAK_DURATION:-10m}"
conns="${SOAK_CONNECTIONS:-32}"
pause_ms="${SOAK_DELAY_MS:-10}"
sample_secs="${SOAK_SAMPLE_SECS:-10}"
out="$root/target/soak"
gaiarouter="$root/target/release/gaiarouter"
mock="$root/target/release/mock-upstream"
lua="$root/scripts/soak/mixed.lua"

log() { printf '\033[1msoak:\033[0m %s\n' "$*" >&2; }
fail() {
  printf 'soak: %s\n' "$*" >&2
  exit 1
}

# --- tools and binaries (scripts/lib/release-tools.sh, shared with scripts/bench.sh) ---------------------
# shellcheck source=lib/release-tools.sh
source "$root/scripts/lib/release-tools.sh"
need_load_tools
ensure_release_binaries "${SOAK_NO_BUILD:-}"
"$mock" --help | grep -q -- '--fault' || fail "$mock has no --fault option: rebuild it"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- processes --------------------------------------------------------------------------------------------
mkdir -p "$out"
rm -f "$out"/samples.tsv "$out"/wrk.txt "$out"/results.json "$out"/results.md
work="$(mktemp -d "${TMPDIR:-/tmp}/gaia-soak.XXXXXX")"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ -s "$work/gaiarouter.log" ]]; then
    # Keep the warnings and errors; the per-request info lines would be hundreds of megabytes.
    grep -v '"level":"INFO"' "$work/gaiarouter.log" | tail -n 2000 >"$out/gaiarouter-warnings.log" || true
    if [[ $status -ne 0 && $status -ne 1 ]]; then
      echo "--- last lines of the GaiaRouter log:" >&2
      tail -n 30 "$work/gaiarouter.log" >&2
    fi
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=lib/mock-upstream.sh
source "$root/scripts/lib/mock-upstream.sh"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mock_url="$(start_mock fast)" && pids+=("$(cat "$work/fast.pid")")
chunky_url="$(start_mock chunky --chunks 10 --chunk-ms 10)" && pids+=("$(cat "$work/chunky.pid")")
failing_url="$(start_mock failing --fault status-503)" && pids+=("$(cat "$work/failing.pid")")
cutting_url="$(start_mock cutting --fault cut-stream)" && pids+=("$(cat "$work/cutting.pid")")
gone_url="http://127.0.0.1:$(free_port)" # nothing listens there
log "mock-upstream: $mock_url (answers), $chunky_url (10 chunks 10 ms apart), $failing_url (503), $cutting_url (cuts streams); $gone_url refuses connections"

{
  provider_toml chunky "$chunky_url"
  provider_toml failing "$failing_url"
  provider_toml cutting "$cutting_url"
  provider_toml gone "$gone_url"
} >"$work/gaiarouter.toml"

port="$(free_port)"
admin_key="soak-admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
gaia_url="http://127.0.0.1:$port"
database_url="${SOAK_DATABASE_URL:-sqlite://$work/gaia.db?mode=rwc}"
start_gateway_at_mock "$port" "$database_url" "$admin_key" "$mock_url" \
  GAIA_ADMIN_PASSWORD="soak-password-$RANDOM$RANDOM" \
  GAIA_JWT_SECRET="soak-jwt-secret-0123456789abcdef0123456789" \
  RUST_LOG="${SOAK_LOG:-info}" GAIA_CONFIG="$work/gaiarouter.toml"
pids+=("$gaia_pid")
log "gaiarouter: $gaia_url (pid $gaia_pid, database ${database_url%%\?*})"

# --- a real tenant: an organization and a key, both with limits far above what the run sends --------------
api() { # api METHOD PATH [BODY] → the JSON answer (fails on non-2xx)
  curl -fsS -X "$1" "$gaia_url$2" -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' ${3:+-d "$3"}
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
org_id="$(api POST /v1/organizations '{"name":"soak","monthly_requests_limit":1000000000}' | json_field id)"
soak_key="$(api POST /v1/api-keys "{\"organization_id\":\"$org_id\",\"name\":\"soak\",\"monthly_requests_limit\":1000000000}" | json_field key)"
log "tenant: organization $org_id, key ${soak_key:0:18}…"

# --- sanity: every kind answers as it must, once, before the clock starts ----------------------------------
SOAK_KEY="$soak_key" SOAK_DELAY_MS=0 wrk -t1 -c1 -d2s --timeout 10s -s "$lua" "$gaia_url" >"$work/sanity.txt" 2>&1 ||
  fail "the sanity run failed: $(tail -n 5 "$work/sanity.txt")"
python3 "$root/scripts/soak/report.py" sanity "$work/sanity.txt" || fail "a request kind does not answer as expected (above)"

# --- the run, sampled ----------------------------------------------------------------------------------------
clk_tck="$(getconf CLK_TCK)"
sample() { # epoch seconds, RSS kB, CPU ticks (utime + stime), usage records written so far
  local rss ticks records
  rss="$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$gaia_pid/status" 2>/dev/null || echo 0)"
  ticks="$(awk '{ print $14 + $15 }' "/proc/$gaia_pid/stat" 2>/dev/null || echo 0)"
  records="$(curl -fsS --max-time 5 "$gaia_url/v1/requests?limit=1" -H "Authorization: Bearer $admin_key" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["pagination"]["total"])' 2>/dev/null || echo -1)"
  printf '%s\t%s\t%s\t%s\n' "$(date +%s.%N)" "$rss" "$ticks" "$records"
}
printf 'epoch\trss_kb\tcpu_ticks\trecords\n' >"$out/samples.tsv"
sample >>"$out/samples.tsv"
{
  while sleep "$sample_secs"; do
    kill -0 "$gaia_pid" 2>/dev/null || break
    sample
  done
} >>"$out/samples.tsv" &
sampler=$!
pids+=("$sampler")
log "mixed load for $duration: $conns connections, ${pause_ms} ms pause after each answer; samples every ${sample_secs} s"
SOAK_KEY="$soak_key" SOAK_DELAY_MS="$pause_ms" \
  wrk -t2 -c"$conns" -d"$duration" --timeout 30s --latency -s "$lua" "$gaia_url" >"$out/wrk.txt" 2>&1 ||
  fail "wrk failed: $(tail -n 5 "$out/wrk.txt")"
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sample >>"$out/samples.tsv"

# Usage records: wait (bounded) until the count stops moving, then take the final one.
previous=-2
for _ in $(seq 1 30); do
  now="$(sample | cut -f4)"
  [[ "$now" == "$previous" ]] && break
  previous="$now"
  sleep 1
done
ps_line="$(sample)"
echo "$ps_line" >>"$out/samples.tsv"
if ! kill -0 "$gaia_pid" 2>/dev/null; then
  code=0
  wait "$gaia_pid" 2>/dev/null || code=$?
  fail "gaiarouter died during the run (exit status $code$( ((code > 128)) && echo ", signal $((code - 128))")); its warnings: $out/gaiarouter-warnings.log"
fi

python3 "$root/scripts/soak/report.py" report "$out" --clk-tck "$clk_tck" --duration "$duration" \
  --connections "$conns" --pause-ms "$pause_ms" --sample-secs "$sample_secs" \
  --machine "$(nproc) cores, $(uname -sr), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
