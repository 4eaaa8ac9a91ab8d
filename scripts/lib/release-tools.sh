# Shared by scripts/bench.sh and scripts/soak.sh (sourced, not run): the load tools and fresh release binaries.
# Expects: $gaiarouter and $mock (binary paths), and log/fail functions.

# python3, curl and wrk; wrk is installed with apt-get when missing (as root on Debian/Ubuntu).
need_load_tools() {
  command -v python3 >/dev/null || fail "python3 is needed (for the reports)"
  command -v curl >/dev/null || fail "curl is needed"
  if ! command -v wrk >/dev/null; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
      log "installing wrk with apt-get"
      apt_install wrk || fail "could not install wrk with apt-get"
    else
      fail "wrk is not installed: 'sudo apt-get install wrk' (Debian/Ubuntu), 'brew install wrk' (macOS), or build https://github.com/wg/wrk"
    fi
  fi
}

# nginx for the reference-proxy rows: true when it is there or was installed (as root, with apt-get).
need_nginx() {
  command -v nginx >/dev/null && return 0
  [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null || return 1
  log "installing nginx (light) with apt-get, for the reference-proxy rows"
  apt_install nginx-light || apt_install nginx || return 1
  command -v nginx >/dev/null
}

# apt_install PACKAGE: installs it, refreshing the package lists first when they are too old to have it.
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$1" >&2 && return 0
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$1" >&2
}

# valgrind for the instructions-per-request rows: true when it is there or was installed (as root, apt-get).
need_valgrind() {
  command -v valgrind >/dev/null && command -v callgrind_control >/dev/null && return 0
  [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null || return 1
  log "installing valgrind with apt-get, for the instructions-per-request rows"
  apt_install valgrind || return 1
  command -v callgrind_control >/dev/null
}

# Whether a source file is newer than the older of the two binaries.
release_binaries_stale() {
  [[ ! -x "$gaiarouter" || ! -x "$mock" ]] && return 0
  local oldest="$gaiarouter"
  [[ "$mock" -ot "$oldest" ]] && oldest="$mock"
  [[ -n "$(find Cargo.toml Cargo.lock bins crates migration -newer "$oldest" -type f \
    \( -name '*.rs' -o -name '*.toml' -o -name '*.json' -o -name '*.sql' -o -name Cargo.lock \) \
    -not -path '*/tests/*' -print -quit 2>/dev/null)" ]]
}

# ensure_release_binaries NO_BUILD: with NO_BUILD=1 use them as they are; otherwise let cargo rebuild them
# when our quick check says they may be stale.
ensure_release_binaries() {
  if [[ "${1:-}" == 1 ]]; then
    [[ -x "$gaiarouter" && -x "$mock" ]] || fail "no build requested, but $gaiarouter or $mock is missing"
  elif release_binaries_stale; then
    log "building the release binaries (a first build takes several minutes)"
    cargo build --release -p gaiarouter -p mock-upstream
  fi
}
