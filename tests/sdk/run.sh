#!/usr/bin/env bash
# The official OpenAI and Anthropic Python SDKs against a real GaiaRouter whose four providers all point at
# mock-upstream: chat completions (test_openai_sdk.py), the Responses API with its stored responses
# (test_openai_responses.py) and the Messages API (test_anthropic_sdk.py).
#
#   tests/sdk/run.sh [pytest arguments...]
#
# Needs target/debug/gaiarouter and target/debug/mock-upstream (built here only when missing), python3 and
# curl. The SDKs and pytest live in a venv under target/sdk-venv, reinstalled when requirements.txt changes.
# Both servers are stopped on exit; the exit code is pytest's.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$root/target/sdk-venv"
requirements="$root/tests/sdk/requirements.txt"
gaiarouter="$root/target/debug/gaiarouter"
mock="$root/target/debug/mock-upstream"

# --- the Python side and the binaries (scripts/lib/test-env.sh)
# shellcheck source=../../scripts/lib/test-env.sh
source "$root/scripts/lib/test-env.sh"
ensure_venv "$venv" "$requirements"
ensure_debug_binaries

work="$(mktemp -d "${TMPDIR:-/tmp}/gaia-sdk.XXXXXX")"
mock_pid=""
gaia_pid=""
cleanup() {
  local status=$?
  stop_pids "$gaia_pid" "$mock_pid"
  if [[ $status -ne 0 && -s "$work/gaiarouter.log" ]]; then
    echo "--- last lines of the GaiaRouter log ($work/gaiarouter.log):" >&2
    tail -n 40 "$work/gaiarouter.log" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "tests/sdk/run.sh: $*" >&2
  exit 1
}

# --- mock-upstream on a port of its choosing; its first stdout line names it
# shellcheck source=../../scripts/lib/mock-upstream.sh
source "$root/scripts/lib/mock-upstream.sh"
"$mock" --bind 127.0.0.1:0 >"$work/mock.out" 2>"$work/mock.err" &
mock_pid=$!
mock_url="$(await_mock_url "$work/mock.out" "$work/mock.err" "$mock_pid")"

# --- GaiaRouter on a free port, a fresh SQLite database, every provider at the mock
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
admin_key="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
gaia_url="http://127.0.0.1:$port"
start_gateway_at_mock "$port" "sqlite://$work/gaia.db?mode=rwc" "$admin_key" "$mock_url"

# --- the tests
set +e
GAIA_URL="$gaia_url" GAIA_KEY="$admin_key" "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests/sdk" "$@"
status=$?
set -e
exit "$status"
