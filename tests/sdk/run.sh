#!/usr/bin/env bash
# The official SDKs against a real GaiaRouter whose four providers all point at mock-upstream:
# - Python (pytest, tests/sdk/): the OpenAI SDK's chat completions (test_openai_sdk.py), Responses API with its
#   stored responses (test_openai_responses.py) and structured output (test_openai_structured.py), and the
#   Anthropic SDK's Messages API (test_anthropic_sdk.py);
# - Node (node --test, tests/sdk-node/): the OpenAI SDK's streamed chat completions and Responses API and its
#   embeddings (*.test.mjs).
#
#   tests/sdk/run.sh [pytest arguments...]
#
# Needs target/debug/gaiarouter and target/debug/mock-upstream (built here only when missing), python3, curl,
# node and npm. The Python SDKs and pytest live in a venv under target/sdk-venv, reinstalled when
# requirements.txt changes; the Node SDK in tests/sdk-node/node_modules, `npm ci`-ed when it is missing or
# older than package-lock.json. Both suites run even when the first fails.
#
# Every test's outcome goes to a JSON-lines file (GAIA_SDK_RESULTS, written by tests/sdk/conftest.py and
# tests/sdk-node/matrix-reporter.mjs), from which scripts/sdk-matrix.py writes target/sdk-matrix.md. After a
# full run (no pytest arguments, or only output ones: -q, -v, -s, -r…, --tb=…, --color=…, --durations=…) it
# must equal docs/sdk-matrix.md: with GAIA_UPDATE_SDK_MATRIX=1 it is copied there, otherwise a difference is
# printed and fails the run. Both servers are stopped on exit; the exit code is non-zero when either suite
# failed or the matrix drifted.
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

# --- the tests: each outcome a JSON line in $results
results="$work/sdk-results.jsonl"
node_results="$work/node-results.jsonl"
: >"$results"
set +e
GAIA_URL="$gaia_url" GAIA_KEY="$admin_key" GAIA_SDK_RESULTS="$results" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests/sdk" "$@"
python_status=$?
set -e

node_dir="$root/tests/sdk-node"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  fail "node and npm are needed for tests/sdk-node"
fi
lock="$node_dir/package-lock.json"
if [[ ! -d "$node_dir/node_modules" || "$lock" -nt "$node_dir/node_modules/.package-lock.json" ]]; then
  (cd "$node_dir" && npm ci --no-audit --no-fund)
fi
set +e
(
  cd "$node_dir" &&
    GAIA_URL="$gaia_url" GAIA_KEY="$admin_key" node --test \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=./matrix-reporter.mjs --test-reporter-destination="$node_results" \
      ./*.test.mjs
)
node_status=$?
set -e
if [[ -f "$node_results" ]]; then
  cat "$node_results" >>"$results"
fi

# --- the matrix
matrix="$root/target/sdk-matrix.md"
documented="$root/docs/sdk-matrix.md"
python3 "$root/scripts/sdk-matrix.py" "$results" -o "$matrix"
echo "tests/sdk/run.sh: the SDK matrix of this run is in target/sdk-matrix.md"
# A full run: no pytest argument, or only ones that change the output, not which tests run or how far.
full_run=1
for argument in "$@"; do
  if [[ ! "$argument" =~ ^(-q+|-v+|-s|-r[a-zA-Z]+|--tb=[a-z]+|--color=[a-z]+|--durations=[0-9]+)$ ]]; then
    full_run=0
  fi
done
matrix_status=0
if [[ $full_run -eq 0 ]]; then
  echo "tests/sdk/run.sh: pytest arguments select tests, so not a full run: docs/sdk-matrix.md is not checked"
elif [[ "${GAIA_UPDATE_SDK_MATRIX:-}" == 1 ]]; then
  cp "$matrix" "$documented"
  echo "tests/sdk/run.sh: docs/sdk-matrix.md updated"
elif ! diff -u --label docs/sdk-matrix.md --label target/sdk-matrix.md "$documented" "$matrix"; then
  echo "tests/sdk/run.sh: docs/sdk-matrix.md does not match this run (diff above); if the change is meant," \
    "rerun with GAIA_UPDATE_SDK_MATRIX=1 bash tests/sdk/run.sh and commit docs/sdk-matrix.md" >&2
  matrix_status=1
fi

if [[ $python_status -ne 0 ]]; then
  echo "tests/sdk/run.sh: the Python SDK suite failed (pytest exit $python_status)" >&2
fi
if [[ $node_status -ne 0 ]]; then
  echo "tests/sdk/run.sh: the Node SDK suite failed (node --test exit $node_status)" >&2
fi
if [[ $python_status -ne 0 ]]; then
  exit "$python_status"
elif [[ $node_status -ne 0 ]]; then
  exit "$node_status"
fi
exit "$matrix_status"
