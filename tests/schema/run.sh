#!/usr/bin/env bash
# Schemathesis against a real GaiaRouter: every operation of /openapi.json is fuzzed (examples, coverage,
# fuzzing and stateful phases) and every answer is checked against the document: no 5xx, documented status
# codes, documented content types and headers, bodies that match their schema.
#
#   tests/schema/run.sh [extra schemathesis arguments, applied to every pass...]
#
# Three passes, one per kind of caller, so the permission answers (403, scoped 404) are exercised too:
#   1. a read-only API key of an organization;
#   2. the login token (JWT) of a read-only admin-UI user;
#   3. the admin key (GAIA_ADMIN_KEY) — last, because it may change and deactivate things.
# Requests without credentials are part of every pass (schemathesis's coverage phase drops the header).
# /v1/chat/completions is included: its providers all point at mock-upstream.
#
# SCHEMA_POSTGRES_URL (a PostgreSQL server URL whose user may CREATE DATABASE, as printed by
# scripts/ensure-postgres.sh) runs the server on a fresh PostgreSQL database instead of SQLite;
# SCHEMA_MYSQL_URL (likewise, from scripts/ensure-mysql.sh) on a fresh MySQL/MariaDB database in the server's
# default character set. The database is dropped at the end.
#
# Generation is deterministic (no seed, no example database), so a clean clone fuzzes the same cases.
# SCHEMA_MAX_EXAMPLES (default 40) bounds the cases per operation in the admin pass; the two other
# passes use half as many. Needs target/debug/gaiarouter and target/debug/mock-upstream (built here
# only when missing), python3 and curl. Schemathesis lives in target/schema-venv, reinstalled when
# requirements.txt changes. Both servers are stopped on exit; the exit code is 0 only if every pass
# passed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$root/target/schema-venv"
requirements="$root/tests/schema/requirements.txt"
gaiarouter="$root/target/debug/gaiarouter"
mock="$root/target/debug/mock-upstream"
max_examples="${SCHEMA_MAX_EXAMPLES:-40}"

# --- the Python side and the binaries (scripts/lib/test-env.sh)
# shellcheck source=../../scripts/lib/test-env.sh
source "$root/scripts/lib/test-env.sh"
ensure_venv "$venv" "$requirements"
ensure_debug_binaries

work="$(mktemp -d "${TMPDIR:-/tmp}/gaia-schema.XXXXXX")"
mock_pid=""
gaia_pid=""
pg_database=""
my_database=""
# Runs one statement on the SCHEMA_MYSQL_URL server with the mariadb/mysql client.
mysql_exec() {
  local args
  mapfile -t args < <(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print("-h"); print(u.hostname or "127.0.0.1"); print("-P"); print(u.port or 3306)
print("-u"); print(urllib.parse.unquote(u.username or "root"))
if u.password: print("-p" + urllib.parse.unquote(u.password))' "$SCHEMA_MYSQL_URL")
  "$(command -v mariadb || command -v mysql)" --no-defaults "${args[@]}" -e "$1"
}
cleanup() {
  local status=$?
  stop_pids "$gaia_pid" "$mock_pid"
  if [[ -n "$pg_database" ]]; then
    psql "${SCHEMA_POSTGRES_URL}" -qc "DROP DATABASE IF EXISTS $pg_database" >/dev/null 2>&1 || true
  fi
  if [[ -n "$my_database" ]]; then
    mysql_exec "DROP DATABASE IF EXISTS $my_database" >/dev/null 2>&1 || true
  fi
  if [[ $status -ne 0 ]]; then
    if [[ -s "$work/gaiarouter.log" ]]; then
      echo "--- panics and errors in the GaiaRouter log ($work/gaiarouter.log):" >&2
      grep -E '"level":"(ERROR|WARN)"|panicked' "$work/gaiarouter.log" | tail -n 40 >&2 || true
    fi
    echo "--- reports kept in $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "tests/schema/run.sh: $*" >&2
  exit 1
}

# --- mock-upstream on a port of its choosing; its first stdout line names it
# shellcheck source=../../scripts/lib/mock-upstream.sh
source "$root/scripts/lib/mock-upstream.sh"
"$mock" --bind 127.0.0.1:0 >"$work/mock.out" 2>"$work/mock.err" &
mock_pid=$!
mock_url="$(await_mock_url "$work/mock.out" "$work/mock.err" "$mock_pid")"

# --- the database: a fresh SQLite file, or a fresh PostgreSQL database
database_url="sqlite://$work/gaia.db?mode=rwc"
if [[ -n "${SCHEMA_POSTGRES_URL:-}" ]]; then
  pg_database="gaia_schema_$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
  psql "$SCHEMA_POSTGRES_URL" -qc "CREATE DATABASE $pg_database" >/dev/null ||
    fail "could not create a PostgreSQL database"
  database_url="$(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(u._replace(path="/" + sys.argv[2])))' "$SCHEMA_POSTGRES_URL" "$pg_database")"
  echo "== on PostgreSQL (database $pg_database) =="
elif [[ -n "${SCHEMA_MYSQL_URL:-}" ]]; then
  my_database="gaia_schema_$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
  mysql_exec "CREATE DATABASE $my_database" >/dev/null || fail "could not create a MySQL database"
  database_url="$(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(u._replace(path="/" + sys.argv[2])))' "$SCHEMA_MYSQL_URL" "$my_database")"
  echo "== on MySQL (database $my_database) =="
fi

# --- GaiaRouter on a free port, every provider at the mock
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# An admin key in GaiaRouter's own format (gaia_<12 lowercase alphanumerics>_<40 alphanumerics>).
admin_key="$(python3 -c '
import secrets, string
low = string.ascii_lowercase + string.digits
alnum = string.ascii_letters + string.digits
print("gaia_" + "".join(secrets.choice(low) for _ in range(12)) + "_" + "".join(secrets.choice(alnum) for _ in range(40)))')"
gaia_url="http://127.0.0.1:$port"
start_gateway_at_mock "$port" "$database_url" "$admin_key" "$mock_url"

# --- the callers (a read-only API key, a read-only admin-UI user's login token) and the ids of real
# objects for the fuzzer's config
GAIA_URL="$gaia_url" GAIA_KEY="$admin_key" "$venv/bin/python" "$root/tests/schema/setup_callers.py" "$work" ||
  fail "could not create the test callers"
read_key="$(cat "$work/read.key")"
user_token="$(cat "$work/user.token")"

checks="${SCHEMA_CHECKS:-all}"
# Every check, positive_data_acceptance included: a request the document allows is never refused with 400
# (rules no schema can state — an expiry in the past, dates in the wrong order, an unknown provider or
# model — answer 422, which the check accepts: setup_callers.py). Not checked: use_after_free, which
# expects a deleted object to read as 404; GaiaRouter's DELETE deactivates organizations, keys and users,
# which stay readable with their status — the contract of the API it replaces, kept for its users' scripts.
exclude_checks="${SCHEMA_EXCLUDE_CHECKS:-use_after_free}"

# One worker: with two, Hypothesis parses lambda sources in parallel threads and CPython 3.11's ast
# module can fail with "AST constructor recursion depth mismatch" — a crash of the tool, not of the API.
pass() {
  local name="$1" token="$2" examples="$3"
  shift 3
  echo "== schemathesis, pass '$name' ($examples examples per operation) =="
  # From the work directory: nothing is written into the checkout.
  (cd "$work" && "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$gaia_url/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks "$checks" \
    --exclude-checks "$exclude_checks" \
    --max-examples "$examples" \
    --generation-deterministic \
    --workers 1 \
    --request-timeout 30 \
    --continue-on-failure \
    --suppress-health-check all \
    --no-color \
    --report junit --report-junit-path "$work/junit-$name.xml" \
    "$@")
}

start=$SECONDS
status=0
pass read-key "$read_key" $((max_examples / 2)) "$@" || status=1
pass user-token "$user_token" $((max_examples / 2)) "$@" || status=1
pass admin "$admin_key" "$max_examples" "$@" || status=1
echo "== schemathesis: 3 passes in $((SECONDS - start)) s =="

if grep -q 'panicked' "$work/gaiarouter.log"; then
  echo "tests/schema/run.sh: the server panicked:" >&2
  grep -A 3 'panicked' "$work/gaiarouter.log" | head -n 40 >&2
  status=1
fi
exit "$status"
