#!/usr/bin/env bash
# Browser end-to-end test of the admin UI (issue #6): builds the UI, starts mock-upstream and the real
# gaiarouter binary (fresh SQLite database in a temp dir, providers pointed at the mock), then drives
# Debian's headless Chromium through frontend/e2e/flow.mjs. Prints the screenshot folder; exits with the
# test's exit code. Both servers are stopped on exit.
#
#   scripts/e2e.sh                       # or: cd frontend && npm run test:e2e
#   SCREENSHOT_DIR=/tmp/shots scripts/e2e.sh
#   E2E_SKIP_BUILD=1 scripts/e2e.sh      # reuse frontend/dist as it is
#   E2E_KEEP=1 scripts/e2e.sh            # keep the temp dir (database, server logs)
#   E2E_UPDATE_DOCS=1 scripts/e2e.sh     # on success, copy the screenshots into docs/user-guide/images/
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONTEND="$ROOT/frontend"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
GAIA_BIN="${GAIA_BIN:-$ROOT/target/debug/gaiarouter}"
MOCK_BIN="${MOCK_BIN:-$ROOT/target/debug/mock-upstream}"

say() { printf 'e2e: %s\n' "$*" >&2; }
die() { printf 'e2e: error: %s\n' "$*" >&2; exit 1; }

# ---- prerequisites ----
if [[ ! -x "$CHROMIUM" ]]; then
  cat >&2 <<EOF
e2e: error: no Chromium at $CHROMIUM.
  The browser tests drive Debian's chromium package through playwright-core (browser downloads are not
  possible, so never run 'npx playwright install'). Install it once:
      sudo apt-get install -y chromium fonts-wqy-zenhei
  or point CHROMIUM_PATH at another Chromium/Chrome binary.
EOF
  exit 1
fi
command -v node >/dev/null || die "node is not installed (Node >= 20.19 is needed)"
command -v curl >/dev/null || die "curl is not installed"
[[ -d "$FRONTEND/node_modules/playwright-core" ]] || die "frontend dependencies are missing: run 'npm ci' in frontend/"

# ---- the UI ----
# Rebuild when dist is missing or any source/config file is newer than dist/index.html.
needs_build() {
  [[ ! -f "$FRONTEND/dist/index.html" ]] && return 0
  [[ -n "$(find "$FRONTEND/src" "$FRONTEND/public" "$FRONTEND/index.html" "$FRONTEND/vite.config.ts" \
      "$FRONTEND/package.json" "$FRONTEND"/tsconfig*.json -newer "$FRONTEND/dist/index.html" -print -quit 2>/dev/null)" ]]
}
if [[ "${E2E_SKIP_BUILD:-}" != 1 ]] && needs_build; then
  say "building the UI (npm run build)"
  (cd "$FRONTEND" && npm run build --silent) >&2 || die "the UI build failed"
fi
[[ -f "$FRONTEND/dist/index.html" ]] || die "frontend/dist/index.html is missing (run 'npm run build' in frontend/)"

# ---- the binaries ----
if [[ ! -x "$GAIA_BIN" || ! -x "$MOCK_BIN" ]]; then
  say "building gaiarouter and mock-upstream (cargo build)"
  (cd "$ROOT" && cargo build -p gaiarouter -p mock-upstream) >&2 || die "cargo build failed"
fi

# ---- servers ----
WORK="$(mktemp -d -t gaia-e2e.XXXXXX)"
MOCK_PID=""
GAIA_PID=""
cleanup() {
  local rc=$?
  for pid in "$GAIA_PID" "$MOCK_PID"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  for pid in "$GAIA_PID" "$MOCK_PID"; do
    [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
  done
  if [[ "${E2E_KEEP:-}" == 1 || $rc -ne 0 ]]; then
    say "server logs and database kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

random() { node -e "console.log(require('crypto').randomBytes(48).toString('base64url').slice(0, $1))"; }

# mock-upstream picks its own port; its first stdout line names it. A small delay between stream chunks
# lets the test see the playground's answer grow token by token.
"$MOCK_BIN" --bind 127.0.0.1:0 --chunk-ms 40 >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
MOCK_URL=""
for _ in $(seq 1 100); do
  MOCK_URL="$(sed -n 's/^mock-upstream listening on \(http:\/\/[^ ]*\).*/\1/p' "$WORK/mock.log" | head -1)"
  [[ -n "$MOCK_URL" ]] && break
  kill -0 "$MOCK_PID" 2>/dev/null || { cat "$WORK/mock.log" >&2; die "mock-upstream exited"; }
  sleep 0.1
done
[[ -n "$MOCK_URL" ]] || die "mock-upstream did not report its address (log: $WORK/mock.log)"

PORT="$(free_port)"
BASE_URL="http://127.0.0.1:$PORT"
ADMIN_USER=admin
ADMIN_PASSWORD="e2e-$(random 20)"
(
  cd "$WORK"
  exec env \
    GAIA_BIND="127.0.0.1:$PORT" \
    DATABASE_URL="sqlite://$WORK/gaiarouter.db?mode=rwc" \
    GAIA_STATIC_DIR="$FRONTEND/dist" \
    GAIA_ADMIN_USERNAME="$ADMIN_USER" \
    GAIA_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    GAIA_JWT_SECRET="$(random 40)" \
    GAIA_LOG_FORMAT=pretty \
    OPENAI_API_KEY=sk-e2e-dummy \
    ANTHROPIC_API_KEY=sk-ant-e2e-dummy \
    GEMINI_API_KEY=e2e-dummy \
    OPENROUTER_API_KEY=sk-or-e2e-dummy \
    OPENAI_BASE_URL="$MOCK_URL/v1" \
    ANTHROPIC_BASE_URL="$MOCK_URL" \
    GEMINI_BASE_URL="$MOCK_URL" \
    OPENROUTER_BASE_URL="$MOCK_URL/api/v1" \
    "$GAIA_BIN"
) >"$WORK/gaiarouter.log" 2>&1 &
GAIA_PID=$!

ready=""
for _ in $(seq 1 300); do
  if curl -fsS "$BASE_URL/ready" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$GAIA_PID" 2>/dev/null || { tail -n 40 "$WORK/gaiarouter.log" >&2; die "gaiarouter exited"; }
  sleep 0.1
done
[[ -n "$ready" ]] || { tail -n 40 "$WORK/gaiarouter.log" >&2; die "gaiarouter did not become ready at $BASE_URL"; }
say "gaiarouter at $BASE_URL (mock upstream $MOCK_URL, temp dir $WORK)"

# ---- the browser test ----
SCREENSHOT_DIR="${SCREENSHOT_DIR:-$FRONTEND/e2e/screenshots/$(date -u +%Y-%m-%dT%H-%M-%SZ)}"
mkdir -p "$SCREENSHOT_DIR"
export SCREENSHOT_DIR
set +e
(
  cd "$FRONTEND"
  BASE_URL="$BASE_URL" ADMIN_USER="$ADMIN_USER" ADMIN_PASSWORD="$ADMIN_PASSWORD" CHROMIUM_PATH="$CHROMIUM" \
    E2E_ORG_NAME=research-team E2E_KEY_NAME=notebook-experiments \
    node --test-reporter=tap e2e/flow.mjs
)
rc=$?
set -e
say "screenshots: $SCREENSHOT_DIR"
# E2E_UPDATE_DOCS=1: refresh the user guide's screenshots from a green run.
if [[ $rc -eq 0 && "${E2E_UPDATE_DOCS:-}" == 1 ]]; then
  mkdir -p "$ROOT/docs/user-guide/images"
  for name in login organization-form organizations-usage key-form key-secret api-keys \
      key-revoke-confirm playground dashboard request-log dashboard-organization models \
      models-aliases channels channel-test channels-disabled api-usage users dashboard-zh key-session \
      session-ended; do
    src="$(find "$SCREENSHOT_DIR" -maxdepth 1 -name "[0-9]*-$name.png" | head -1)"
    [[ -n "$src" ]] && cp "$src" "$ROOT/docs/user-guide/images/$name.png"
  done
  say "updated docs/user-guide/images/"
fi
if [[ $rc -ne 0 ]]; then
  say "FAILED (exit $rc); the server log is $WORK/gaiarouter.log"
fi
exit "$rc"
