# GaiaRouter — the commands. `make run` and `make test` are the two that matter.
SHELL := /bin/bash
CARGO ?= cargo
FRONTEND := frontend

.PHONY: run build frontend test test-rust test-sdk test-schema test-frontend test-dashboard lint fmt bench perf-gate soak dashboard clean-pg clean-mysql help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

run: build ## build everything (release) and start the server on the embedded SQLite database
	./target/release/gaiarouter serve

build: frontend ## build the release binary (and the admin UI when present)
	$(CARGO) build --release -p gaiarouter

frontend: ## build the admin UI into frontend/dist (skipped until the UI exists)
	@if [ -f $(FRONTEND)/package.json ]; then \
	  cd $(FRONTEND) && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build; \
	else echo "frontend: no package.json yet, skipping"; fi

test: test-rust test-sdk test-schema test-frontend test-dashboard ## run every test (Rust on SQLite, PostgreSQL and MySQL, the OpenAI and Anthropic SDKs end to end, the OpenAPI fuzzer, the UI, the dashboard's queries)

# PostgreSQL, MySQL (MariaDB) and Redis are provided by scripts/ensure-postgres.sh, scripts/ensure-mysql.sh
# and scripts/ensure-redis.sh (throwaway servers; installed with apt when missing on Debian as root).
# GAIA_REQUIRE_POSTGRES=1, GAIA_REQUIRE_MYSQL=1 and GAIA_REQUIRE_REDIS=1 turn any skipped server test into a
# failure. The multi-instance tests (cluster::, three gaiarouter processes on one PostgreSQL and one Redis)
# run in the first pass only: the reruns change the database of in-process servers, which they do not use.
# The binaries (gaiarouter, mock-upstream) are built first: some tests start them as real processes.
test-rust:
	$(CARGO) build --workspace --all-targets
	@set -e; pg_url=$$(scripts/ensure-postgres.sh); mysql_url=$$(scripts/ensure-mysql.sh); \
	redis_url=$$(scripts/ensure-redis.sh); \
	export GAIA_TEST_POSTGRES_URL="$$pg_url" GAIA_REQUIRE_POSTGRES=1; \
	export GAIA_TEST_MYSQL_URL="$$mysql_url" GAIA_REQUIRE_MYSQL=1; \
	export GAIA_TEST_REDIS_URL="$$redis_url" GAIA_REQUIRE_REDIS=1; \
	if command -v cargo-nextest >/dev/null 2>&1; then run="$(CARGO) nextest run"; else run="$(CARGO) test"; fi; \
	$$run --workspace --all-targets --no-fail-fast; \
	echo "== the API suite again, every server on PostgreSQL =="; \
	GAIA_TEST_BACKEND=postgres $$run -p gaiarouter --test api --no-fail-fast -- --skip cluster::; \
	echo "== the API suite again, every server on MySQL (MariaDB) =="; \
	GAIA_TEST_BACKEND=mysql $$run -p gaiarouter --test api --no-fail-fast -- --skip cluster::

# The official SDKs (openai and anthropic for Python, openai for Node) against the real binary and the mock
# upstream; the run must match docs/sdk-matrix.md.
test-sdk: ## the official SDKs end to end: openai and anthropic for Python, openai for Node (writes docs/sdk-matrix.md with GAIA_UPDATE_SDK_MATRIX=1)
	$(CARGO) build --workspace --all-targets  # same feature set as the test run: no rebuild
	bash tests/sdk/run.sh

# Schemathesis fuzzes every operation of /openapi.json on the real binary (read-only key, user login token,
# admin key): no 5xx, and every status, content type, header and body as documented. Once on SQLite, then
# (with fewer cases) on PostgreSQL, which refuses some text SQLite takes, and on MySQL (MariaDB).
test-schema:
	$(CARGO) build --workspace --all-targets  # same feature set as the test run: no rebuild
	bash tests/schema/run.sh
	SCHEMA_POSTGRES_URL="$$(scripts/ensure-postgres.sh)" SCHEMA_MAX_EXAMPLES=20 bash tests/schema/run.sh
	SCHEMA_MYSQL_URL="$$(scripts/ensure-mysql.sh)" SCHEMA_MAX_EXAMPLES=20 bash tests/schema/run.sh

# The admin UI: type check, lint, unit tests, then the browser flow in headless Chromium against the
# real binary, a real database and mock upstreams (scripts/e2e.sh; it prints where the screenshots are).
test-frontend:
	@if [ -f $(FRONTEND)/package.json ]; then \
	  cd $(FRONTEND) && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm test && npm run test:e2e; \
	else echo "test-frontend: no frontend yet, skipping"; fi

# Every query of the Grafana dashboard against a real Prometheus scraping two instances under mixed traffic
# (scripts/dashboard.sh, about 3 minutes); docs/deployment/grafana/dashboard.png is left as it is.
test-dashboard:
	DASHBOARD_NO_DOCS=1 bash scripts/dashboard.sh

lint: ## formatting and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## format the code
	$(CARGO) fmt --all

bench: ## run the benchmarks and print the figures (see docs/performance.md)
	@if [ -x scripts/bench.sh ]; then scripts/bench.sh; else echo "bench: not written yet"; exit 1; fi

perf-gate: ## instructions per request under callgrind against scripts/bench/instructions-budget.json (fails above +5 %)
	scripts/perf-gate.sh

soak: ## sustained mixed load on the release binary, memory over time; SOAK_DURATION=10m (see docs/soak.md)
	scripts/soak.sh

dashboard: ## every query of the Grafana dashboard against a real Prometheus scraping two instances under mixed traffic; writes docs/deployment/grafana/dashboard.png
	bash scripts/dashboard.sh

clean-pg: ## stop and remove the throwaway test PostgreSQL cluster
	@d=$${GAIA_PG_DIR:-$${TMPDIR:-/tmp}/gaiarouter-test-pg}; b=$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1); \
	if [ -d "$$d/data" ]; then runuser -u postgres -- $$b/pg_ctl -D $$d/data stop -m fast || true; rm -rf "$$d"; fi

clean-mysql: ## stop and remove the throwaway test MySQL (MariaDB) server
	@d=$${GAIA_MYSQL_DIR:-$${TMPDIR:-/tmp}/gaiarouter-test-mysql}; \
	if [ -f "$$d/mysqld.pid" ]; then kill "$$(cat $$d/mysqld.pid)" 2>/dev/null || true; sleep 2; fi; rm -rf "$$d"
