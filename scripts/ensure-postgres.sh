#!/usr/bin/env bash
# Provides a PostgreSQL server for the test suite and prints its URL (and nothing else) on stdout.
#
# - If GAIA_TEST_POSTGRES_URL is already set, it is used as is.
# - Otherwise a throwaway cluster is created under $GAIA_PG_DIR (default /tmp/gaiarouter-test-pg), on a
#   free loopback port, with trust authentication for role `gaia`, and started (reused if already running).
# - If the PostgreSQL server binaries are missing: on Debian/Ubuntu as root, the `postgresql` package is
#   installed; anywhere else the script fails and says what to install. It never silently does nothing.
set -euo pipefail

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }

if [ -n "${GAIA_TEST_POSTGRES_URL:-}" ]; then
  echo "$GAIA_TEST_POSTGRES_URL"
  exit 0
fi

find_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

bindir=$(find_bindir || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    log "PostgreSQL server not found; installing the 'postgresql' package with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q postgresql >&2
    bindir=$(find_bindir || true)
  fi
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  log "ERROR: PostgreSQL server binaries (initdb, pg_ctl) are not installed."
  log "Install them (Debian/Ubuntu: 'sudo apt-get install postgresql'; macOS: 'brew install postgresql'),"
  log "or point GAIA_TEST_POSTGRES_URL at a server where the user may CREATE DATABASE."
  exit 1
fi

dir=${GAIA_PG_DIR:-${TMPDIR:-/tmp}/gaiarouter-test-pg}
data="$dir/data"
run_as=()
if [ "$(id -u)" = "0" ]; then
  # initdb and postgres refuse to run as root.
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /bin/sh postgres
  run_as=(runuser -u postgres --)
fi

if [ -f "$dir/port" ] && "${run_as[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  port=$(cat "$dir/port")
  log "reusing the running test cluster on port $port"
  echo "postgres://gaia@127.0.0.1:$port/postgres"
  exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"
[ "$(id -u)" = "0" ] && chown postgres "$dir"
log "creating a throwaway cluster in $data"
"${run_as[@]}" "$bindir/initdb" -D "$data" -U gaia --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || "${run_as[@]}" "$bindir/initdb" -D "$data" -U gaia --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
  || { log "initdb failed:"; cat "$dir/initdb.log" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
echo "$port" >"$dir/port"
log "starting PostgreSQL on 127.0.0.1:$port"
"${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >&2 || { log "pg_ctl start failed:"; cat "$dir/server.log" >&2; exit 1; }

echo "postgres://gaia@127.0.0.1:$port/postgres"
