#!/usr/bin/env bash
# `make perf-gate`: the regression gate on instructions per request (issue 19). GaiaRouter (release) runs under
# callgrind in front of mock-upstream; one connection sends paced requests of each kind — OpenAI, Anthropic and
# Gemini chat completions, and a stream from each (every stream decoder has its own per-event path) — and the
# user-space instructions executed per answered request (every thread) are compared with the committed budget,
# scripts/bench/instructions-budget.json. Instruction
# counts are stable on shared machines where time is not (about 2 % run to run).
#
# A kind more than PERF_GATE_TOLERANCE (default 5) % above its budget fails the gate, with the figures. A kind
# more than that below its budget is reported: lower the budget in the same change that saved it
# (PERF_GATE_WRITE=1 writes the measured figures, rounded up by 1 %, into the budget file).
#
#   scripts/perf-gate.sh                # builds target/release/{gaiarouter,mock-upstream} when stale
#   PERF_GATE_SECONDS=5 scripts/perf-gate.sh   # measured seconds per kind (default 4)
#   PERF_GATE_WRITE=1 scripts/perf-gate.sh     # measure and write the budget
#   PERF_GATE_PROFILE=profiling PERF_GATE_KEEP=DIR scripts/perf-gate.sh
#       # the `profiling` build as it is (line tables), each kind's callgrind dump kept in DIR for
#       # callgrind_annotate (docs/performance.md, "Profiling")
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
budget_file="$root/scripts/bench/instructions-budget.json"
tolerance="${PERF_GATE_TOLERANCE:-5}"
seconds="${PERF_GATE_SECONDS:-4}"
gaiarouter="$root/target/${PERF_GATE_PROFILE:-release}/gaiarouter"
mock="$root/target/${PERF_GATE_PROFILE:-release}/mock-upstream"
lua="$root/scripts/bench/post.lua"

log() { printf '\033[1mperf-gate:\033[0m %s\n' "$*" >&2; }
fail() {
  printf 'perf-gate: %s\n' "$*" >&2
  exit 1
}

# shellcheck source=lib/release-tools.sh
source "$root/scripts/lib/release-tools.sh"
need_load_tools
need_valgrind || fail "valgrind (callgrind) is needed: 'apt-get install valgrind'"
if [[ -n "${PERF_GATE_PROFILE:-}" ]]; then
  [[ -x "$gaiarouter" && -x "$mock" ]] ||
    fail "no $gaiarouter: cargo build --profile $PERF_GATE_PROFILE -p gaiarouter -p mock-upstream"
else
  ensure_release_binaries "${PERF_GATE_NO_BUILD:-}"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/gaia-perf-gate.XXXXXX")"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $status -ne 0 && -s "$work/gaiarouter.log" ]]; then
    echo "--- last lines of the GaiaRouter log ($work/gaiarouter.log):" >&2
    tail -n 20 "$work/gaiarouter.log" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT

# shellcheck source=lib/mock-upstream.sh
source "$root/scripts/lib/mock-upstream.sh"
mock_url="$(start_mock fast)" && pids+=("$(cat "$work/fast.pid")")
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
admin_key="gate-admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
gaia_url="http://127.0.0.1:$port"
chat="$gaia_url/v1/chat/completions"

log "GaiaRouter under callgrind (release build), mock-upstream at $mock_url"
# Kept dumps are read one by one: each must name its functions itself (callgrind otherwise refers later
# dumps to names defined in the first).
keep_names=""
[[ -n "${PERF_GATE_KEEP:-}" ]] && keep_names="--compress-strings=no --compress-pos=no"
gateway_wrapper="valgrind --tool=callgrind $keep_names --callgrind-out-file=$work/callgrind.out.%p" gateway_ready_secs=180 \
  start_gateway_at_mock "$port" "sqlite://$work/gaia.db?mode=rwc" "$admin_key" "$mock_url" \
  RUST_LOG=warn GAIA_JWT_SECRET="gate-jwt-secret-0123456789abcdef0123456789"
pids+=("$gaia_pid")

# A real tenant, as production runs: authentication, limit checks (request-slot claims) and usage recording.
api() {
  curl -fsS -X "$1" "$gaia_url$2" -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' -d "$3"
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
org_id="$(api POST /v1/organizations '{"name":"gate","monthly_requests_limit":1000000000}' | json_field id)"
key="$(api POST /v1/api-keys "{\"organization_id\":\"$org_id\",\"name\":\"gate\",\"monthly_requests_limit\":1000000000}" | json_field key)"
headers="Authorization: Bearer $key"
body() { # body MODEL [stream]
  local stream=""
  [[ "${2:-}" == stream ]] && stream=',"stream":true,"stream_options":{"include_usage":true}'
  echo "{\"model\":\"$1\",\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"Say hello to the benchmark in a few words\"}]$stream}"
}

# The first few hundred requests of a fresh process cost more (pools, statement caches): not measured.
BENCH_BODY="$(body openai/gpt-4o-mini)" BENCH_HEADERS="$headers" wrk -t1 -c1 -d5s --timeout 10s -s "$lua" "$chat" >/dev/null 2>&1 || true

# measure NAME BODY → instructions per answered request
measure() {
  local name=$1 body=$2 before dump n errors total
  BENCH_BODY="$body" BENCH_HEADERS="$headers" wrk -t1 -c1 -d2s --timeout 10s -s "$lua" "$chat" >/dev/null 2>&1 || true
  callgrind_control -z "$gaia_pid" >/dev/null
  # Paced (a pause after every answer), so the rate — and with it how many records share a usage batch's fixed
  # cost — is set by the pause, not by how fast the build under test runs.
  BENCH_DELAY_MS=5 BENCH_BODY="$body" BENCH_HEADERS="$headers" \
    wrk -t1 -c1 -d"${seconds}s" --timeout 10s -s "$lua" "$chat" >"$work/$name.wrk.txt" 2>&1 ||
    fail "wrk failed for $name: $(tail -n 5 "$work/$name.wrk.txt")"
  before="$(ls "$work"/callgrind.out.* 2>/dev/null | wc -l)"
  callgrind_control -d "$gaia_pid" >/dev/null
  for _ in $(seq 100); do
    (($(ls "$work"/callgrind.out.* 2>/dev/null | wc -l) > before)) && break
    sleep 0.1
  done
  dump="$(ls -t "$work"/callgrind.out.* | head -n 1)"
  n="$(sed -n 's/^BENCH_JSON {"requests":\([0-9]*\).*/\1/p' "$work/$name.wrk.txt")"
  errors="$(sed -n 's/.*"errors_status":\([0-9]*\).*/\1/p' "$work/$name.wrk.txt")"
  [[ "${errors:-1}" == 0 && "${n:-0}" -gt 0 ]] || fail "$name: $n requests, $errors errors (see $work)"
  total="$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")"
  if [[ -n "${PERF_GATE_KEEP:-}" ]]; then
    mkdir -p "$PERF_GATE_KEEP" && cp "$dump" "$PERF_GATE_KEEP/$name.callgrind"
  fi
  echo "$name $n $total"
}

results="$work/results.txt"
: >"$results"
measure ir-openai "$(body openai/gpt-4o-mini)" >>"$results"
measure ir-anthropic "$(body anthropic/claude-sonnet-4-5)" >>"$results"
measure ir-gemini "$(body google/gemini-2.5-flash)" >>"$results"
measure ir-openai-stream "$(body openai/gpt-4o-mini stream)" >>"$results"
measure ir-anthropic-stream "$(body anthropic/claude-sonnet-4-5 stream)" >>"$results"
measure ir-gemini-stream "$(body google/gemini-2.5-flash stream)" >>"$results"

python3 - "$results" "$budget_file" "$tolerance" "${PERF_GATE_WRITE:-}" <<'PY'
import json, math, sys
results, budget_path, tolerance, write = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4] == "1"
measured = {}
for line in open(results):
    name, n, total = line.split()
    measured[name] = (int(n), int(total) / int(n))
try:
    budget = json.load(open(budget_path))
except FileNotFoundError:
    budget = {"instructions_per_request": {}}
limits = budget.setdefault("instructions_per_request", {})
print(f"{'kind':<18} {'requests':>8} {'measured':>10} {'budget':>10} {'change':>8}")
failed, lower = [], []
for name, (n, per) in measured.items():
    b = limits.get(name)
    change = f"{(per / b - 1) * 100:+.1f} %" if b else "–"
    print(f"{name:<18} {n:>8} {per:>10,.0f} {b if b else '–':>10} {change:>8}")
    if b and per > b * (1 + tolerance / 100):
        failed.append(name)
    elif b and per < b * (1 - tolerance / 100):
        lower.append(name)
if write:
    for name, (_, per) in measured.items():
        limits[name] = int(math.ceil(per * 1.01 / 1000) * 1000)
    with open(budget_path, "w") as f:
        json.dump(budget, f, indent=2)
        f.write("\n")
    print(f"budget written: {budget_path}")
    sys.exit(0)
if lower:
    print(f"below budget by more than {tolerance:g} %: {', '.join(lower)} — lower the budget in this change "
          f"(PERF_GATE_WRITE=1 scripts/perf-gate.sh)")
if failed:
    print(f"FAILED: {', '.join(failed)} cost more than {tolerance:g} % above the budget ({budget_path}); "
          f"profile it (docs/performance.md) or, if the cost is wanted, raise the budget in the same change "
          f"and say why")
    sys.exit(1)
missing = [n for n in measured if n not in limits]
if missing:
    print(f"FAILED: no budget for {', '.join(missing)}")
    sys.exit(1)
print("within budget")
PY
