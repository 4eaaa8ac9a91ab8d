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
