# Shared by tests/sdk/run.sh and tests/schema/run.sh (sourced, not run).

# ensure_venv VENV REQUIREMENTS: a Python venv with the pinned requirements, reinstalled when they change.
ensure_venv() {
  local venv=$1 requirements=$2
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
  fi
  if ! cmp -s "$requirements" "$venv/requirements.installed"; then
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.installed"
  fi
}

# ensure_debug_binaries: target/debug/{gaiarouter,mock-upstream}, built only when missing ($gaiarouter, $mock).
ensure_debug_binaries() {
  if [[ ! -x "$gaiarouter" || ! -x "$mock" ]]; then
    cargo build -p gaiarouter -p mock-upstream
  fi
}

# stop_pids PID...: stops each process still running and waits for it.
stop_pids() {
  local pid
  for pid in "$@"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}

# start_gateway_at_mock PORT DATABASE_URL ADMIN_KEY MOCK_URL: starts $gaiarouter in the background from $work
# (so no .env of the checkout is read), every provider pointed at the mock, logs in $work/gaiarouter.log;
# sets gaia_pid and waits (up to 30 s) until /ready answers.
start_gateway_at_mock() {
  local port=$1 database_url=$2 admin_key=$3 mock_url=$4
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
      "$gaiarouter" serve
  ) >"$work/gaiarouter.log" 2>&1 &
  gaia_pid=$!
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/ready" 2>/dev/null && return
    kill -0 "$gaia_pid" 2>/dev/null || fail "gaiarouter exited during start-up"
    sleep 0.1
  done
  fail "gaiarouter was not ready within 30 s"
}
