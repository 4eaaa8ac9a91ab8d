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
