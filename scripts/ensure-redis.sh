#!/usr/bin/env bash
# Provides a Redis server for the test suite and prints its URL (and nothing else) on stdout.
#
# - If GAIA_TEST_REDIS_URL is already set, it is used as is.
# - Otherwise a throwaway server (no persistence) is started under $GAIA_REDIS_DIR (default
#   /tmp/gaiarouter-test-redis) on a free loopback port, or reused if it is still running. It is our own,
#   not the machine's: tests flush and stop servers of their own, never someone else's.
# - If redis-server is missing: on Debian/Ubuntu as root, the `redis-server` package is installed; anywhere
#   else the script fails and says what to install. It never silently does nothing.
set -euo pipefail

log() { printf 'ensure-redis: %s\n' "$*" >&2; }

if [ -n "${GAIA_TEST_REDIS_URL:-}" ]; then
  echo "$GAIA_TEST_REDIS_URL"
  exit 0
fi

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    log "redis-server not found; installing the 'redis-server' package with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends redis-server >&2
  fi
fi
if ! command -v redis-server >/dev/null 2>&1; then
  log "ERROR: redis-server is not installed."
  log "Install it (Debian/Ubuntu: 'sudo apt-get install redis-server'; macOS: 'brew install redis'),"
  log "or point GAIA_TEST_REDIS_URL at a Redis server the tests may use."
  exit 1
fi

dir=${GAIA_REDIS_DIR:-${TMPDIR:-/tmp}/gaiarouter-test-redis}
ping() { command -v redis-cli >/dev/null 2>&1 && redis-cli -p "$1" ping 2>/dev/null | grep -q PONG \
  || python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),1); s.sendall(b"PING\r\n"); sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)' "$1" 2>/dev/null; }

if [ -f "$dir/port" ] && ping "$(cat "$dir/port")"; then
  port=$(cat "$dir/port")
  log "reusing the running test server on port $port"
  echo "redis://127.0.0.1:$port"
  exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
echo "$port" >"$dir/port"
log "starting redis-server on 127.0.0.1:$port"
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --dir "$dir" --logfile "$dir/server.log" --pidfile "$dir/redis.pid" >&2
for _ in $(seq 1 100); do
  if ping "$port"; then
    echo "redis://127.0.0.1:$port"
    exit 0
  fi
  sleep 0.1
done
log "redis-server did not answer:"
cat "$dir/server.log" >&2 || true
exit 1
