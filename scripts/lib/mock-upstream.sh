# Starting bins/mock-upstream from the scripts (sourced, not run): scripts/bench.sh, scripts/soak.sh,
# tests/sdk/run.sh and tests/schema/run.sh. Callers define `fail`.

# await_mock_url OUT ERR PID: waits (up to 10 s) for the mock's first stdout line, which names its address,
# and prints its base URL.
await_mock_url() {
  local out=$1 err=$2 pid=$3 line
  for _ in $(seq 1 100); do
    line="$(head -n 1 "$out" 2>/dev/null || true)"
    if [[ "$line" == "mock-upstream listening on "* ]]; then
      echo "${line#mock-upstream listening on }"
      return
    fi
    kill -0 "$pid" 2>/dev/null || fail "mock-upstream exited: $(cat "$err")"
    sleep 0.1
  done
  fail "mock-upstream did not start within 10 s"
}

# start_mock NAME [flags...]: starts $mock on a free port (output in $work/NAME.out and .err, pid in
# $work/NAME.pid, since a command substitution runs in a subshell) and prints its base URL.
start_mock() {
  local name=$1
  shift
  "$mock" --bind 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  echo "$pid" >"$work/$name.pid"
  await_mock_url "$work/$name.out" "$work/$name.err" "$pid"
}

# provider_toml NAME BASE_URL: a GAIA_CONFIG block for an OpenAI-compatible provider serving gpt-4o-mini.
provider_toml() {
  printf '[[providers]]\nname = "%s"\nbase_url = "%s/v1"\napi_key = "sk-%s-mock"\n[[providers.models]]\nname = "gpt-4o-mini"\n\n' \
    "$1" "$2" "$1"
}

# start_gateway_at_mock PORT DATABASE_URL ADMIN_KEY MOCK_URL [NAME=VALUE...]: starts $gaiarouter in the
# background from $work (so no .env of the checkout is read) with every built-in provider at the mock and the
# extra environment given, appending to $work/gaiarouter.log; sets gaia_pid and waits (up to 30 s, or
# $gateway_ready_secs) until /ready answers. $gateway_wrapper, when set, is a command line it runs under
# (e.g. valgrind; word-split).
start_gateway_at_mock() {
  local port=$1 database_url=$2 admin_key=$3 mock_url=$4
  shift 4
  (
    cd "$work"
    exec env \
      GAIA_BIND="127.0.0.1:$port" \
      DATABASE_URL="$database_url" \
      GAIA_ADMIN_KEY="$admin_key" \
      GAIA_LOG_FORMAT=json \
      OPENAI_BASE_URL="$mock_url/v1" OPENAI_API_KEY=sk-openai-mock \
      ANTHROPIC_BASE_URL="$mock_url" ANTHROPIC_API_KEY=sk-ant-mock \
      GEMINI_BASE_URL="$mock_url" GEMINI_API_KEY=gemini-mock-key \
      OPENROUTER_BASE_URL="$mock_url/api/v1" OPENROUTER_API_KEY=sk-or-mock \
      "$@" \
      ${gateway_wrapper:-} "$gaiarouter" serve # shellcheck disable=SC2086 # a command line
  ) >>"$work/gaiarouter.log" 2>&1 &
  gaia_pid=$!
  for _ in $(seq 1 $((${gateway_ready_secs:-30} * 10))); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/ready" 2>/dev/null && return
    kill -0 "$gaia_pid" 2>/dev/null || fail "gaiarouter exited during start-up: $(tail -n 5 "$work/gaiarouter.log")"
    sleep 0.1
  done
  fail "gaiarouter was not ready within ${gateway_ready_secs:-30} s"
}
