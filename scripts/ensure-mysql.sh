#!/usr/bin/env bash
# Provides a MySQL-compatible server (MariaDB) for the test suite and prints its URL (and nothing else) on
# stdout — the MySQL counterpart of scripts/ensure-postgres.sh.
#
# - If GAIA_TEST_MYSQL_URL is already set, it is used as is.
# - Otherwise a throwaway server is initialised under $GAIA_MYSQL_DIR (default /tmp/gaiarouter-test-mysql),
#   started on a free loopback port with a passwordless `gaia` user that may create databases, and reused
#   while it is running.
# - If the server binaries are missing: on Debian/Ubuntu as root, the `mariadb-server` package is
#   installed; anywhere else the script fails and says what to install. It never silently does nothing.
set -euo pipefail

log() { printf 'ensure-mysql: %s\n' "$*" >&2; }

if [ -n "${GAIA_TEST_MYSQL_URL:-}" ]; then
  echo "$GAIA_TEST_MYSQL_URL"
  exit 0
fi

find_server() { command -v mariadbd || command -v mysqld || ls /usr/sbin/mariadbd /usr/sbin/mysqld 2>/dev/null | head -n 1; }

server=$(find_server || true)
if [ -z "$server" ] || ! command -v mariadb-install-db >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    log "MariaDB server not found; installing the 'mariadb-server' package with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    # The package's scripts try to start a system service; policy-rc.d refuses that in containers, which
    # is fine: the test server below is our own.
    apt-get install -y -q mariadb-server >&2
    server=$(find_server || true)
  fi
fi
if [ -z "$server" ] || ! command -v mariadb-install-db >/dev/null 2>&1; then
  log "ERROR: MariaDB/MySQL server binaries (mariadbd, mariadb-install-db) are not installed."
  log "Install them (Debian/Ubuntu: 'sudo apt-get install mariadb-server'; macOS: 'brew install mariadb'),"
  log "or point GAIA_TEST_MYSQL_URL at a server where the user may CREATE DATABASE."
  exit 1
fi
client=$(command -v mariadb || command -v mysql)

dir=${GAIA_MYSQL_DIR:-${TMPDIR:-/tmp}/gaiarouter-test-mysql}
data="$dir/data"
sock="$dir/mysqld.sock"
run_as=()
user_opt=()
if [ "$(id -u)" = "0" ]; then
  # mariadbd refuses to run as root unless told to; run it as the package's `mysql` user instead.
  id mysql >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /bin/false mysql
  run_as=(runuser -u mysql --)
  user_opt=(--user=mysql)
fi

alive() { "$client" --no-defaults --protocol=socket -S "$sock" -u root -e 'SELECT 1' >/dev/null 2>&1; }

if [ -f "$dir/port" ] && [ -S "$sock" ] && alive; then
  port=$(cat "$dir/port")
  log "reusing the running test server on port $port"
  echo "mysql://gaia@127.0.0.1:$port/mysql"
  exit 0
fi

if [ -f "$dir/mysqld.pid" ]; then
  kill "$(cat "$dir/mysqld.pid")" 2>/dev/null || true
  sleep 1
fi
rm -rf "$dir"
mkdir -p "$dir"
[ "$(id -u)" = "0" ] && chown mysql "$dir"
log "initialising a throwaway server in $data"
"${run_as[@]}" mariadb-install-db --no-defaults --datadir="$data" --auth-root-authentication-method=socket \
  --skip-test-db "${user_opt[@]}" >"$dir/install.log" 2>&1 \
  || { log "mariadb-install-db failed:"; cat "$dir/install.log" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
echo "$port" >"$dir/port"
log "starting MariaDB on 127.0.0.1:$port"
# Durability is traded for speed: this server only ever holds scratch test data.
"${run_as[@]}" "$server" --no-defaults --datadir="$data" --socket="$sock" --pid-file="$dir/mysqld.pid" \
  --bind-address=127.0.0.1 --port="$port" --skip-name-resolve --max-connections=500 \
  --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --sync-binlog=0 \
  "${user_opt[@]}" >"$dir/server.log" 2>&1 &
for _ in $(seq 120); do
  alive && break
  sleep 0.5
done
alive || { log "MariaDB did not start:"; cat "$dir/server.log" >&2; exit 1; }
"$client" --no-defaults --protocol=socket -S "$sock" -u root -e \
  "CREATE USER IF NOT EXISTS 'gaia'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'gaia'@'127.0.0.1' WITH GRANT OPTION;" \
  || { log "creating the gaia user failed"; exit 1; }

echo "mysql://gaia@127.0.0.1:$port/mysql"
