# Trellis: the two commands are `make run` and `make test`. Everything they need is installed
# by the targets below, on a machine that starts with Python 3.11, Node 20 and apt.

SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
NPM := npm --prefix ui
HOST ?= 127.0.0.1
PORT ?= 8000
PG_SERVER ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_WORKERS ?= auto
CHROMIUM := /usr/bin/chromium

export UV_LINK_MODE := copy
# Carbon's packages phone home after install unless told not to.
export IBM_TELEMETRY_DISABLED := true

.PHONY: help run test install uv ui-deps ui-build ui-test chromium postfix lint typecheck \
        test-sqlite test-postgres test-e2e openapi api-client api-client-check bench

help:
	@echo "make run    install everything, migrate the embedded SQLite database and serve on http://$(HOST):$(PORT)"
	@echo "make test   install what the tests need and run lint, types, both databases, UI and browser tests"
	@echo "make bench  run the benchmarks at a size that finishes in a few minutes"

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) --version

install: uv
	$(UV) sync --frozen

ui-deps:
	@if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then \
		$(NPM) ci --no-audit --no-fund; \
	fi

ui-build: install
	$(UV) run python scripts/build_ui.py

run: install ui-build
	$(UV) run trellis db upgrade
	$(UV) run trellis serve --host $(HOST) --port $(PORT)

openapi: install
	$(UV) run python scripts/export_openapi.py ui/openapi.json

api-client: openapi ui-deps
	$(NPM) run gen:api

# Fails when ui/openapi.json or the client generated from it is not what the API now describes.
api-client-check: install ui-deps
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	$(UV) run python scripts/export_openapi.py "$$scratch/openapi.json" 2>/dev/null && \
	$(NPM) exec --no -- openapi-typescript "$$scratch/openapi.json" -o "$$scratch/schema.gen.ts" >/dev/null && \
	if cmp -s "$$scratch/openapi.json" ui/openapi.json && cmp -s "$$scratch/schema.gen.ts" ui/src/api/schema.gen.ts; then \
		echo "the generated API client matches the API"; \
	else \
		echo "the generated API client differs from the API: run make api-client and commit ui/openapi.json and ui/src/api/schema.gen.ts"; \
		exit 1; \
	fi

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# The SMTP client's conformance tests run Debian's Postfix (and Cyrus SASL's saslpasswd2) on
# loopback from a temporary directory (tests/fixtures/postfix.py, ADR 0017). "No configuration":
# the package installs the programs without setting up or starting a system mail server.
postfix:
	@if [ ! -x /usr/sbin/postfix ] || [ ! -x /usr/sbin/saslpasswd2 ]; then \
		echo "installing Debian's postfix and sasl2-bin for the SMTP conformance tests"; \
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			postfix sasl2-bin libsasl2-modules; \
	fi

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run lint-imports

typecheck: install
	$(UV) run mypy

test-sqlite: install postfix
	$(UV) run pytest -n $(PYTEST_WORKERS) -m "not e2e" --ignore=tests/e2e

test-postgres: install postfix
	@if $(UV) run python scripts/pg_ready.py "$(PG_SERVER)"; then \
		TRELLIS_TEST_DATABASE_URL="$(PG_SERVER)" $(UV) run pytest -n $(PYTEST_WORKERS) -m "not e2e" --ignore=tests/e2e; \
	elif [ -n "$$CI" ]; then \
		echo "PostgreSQL is not reachable at $(PG_SERVER), and CI must test it"; exit 1; \
	else \
		echo; echo "!!!! SKIPPING the PostgreSQL suite: no server at $(PG_SERVER) !!!!"; echo; \
	fi

ui-test: ui-deps api-client-check
	$(NPM) run typecheck
	$(NPM) run lint
	$(NPM) run format:check
	$(NPM) test

test-e2e: install chromium ui-build
	$(UV) run pytest -m e2e tests/e2e

test: lint typecheck test-sqlite test-postgres ui-test test-e2e

# Every benchmarks/*.py once, each in about a minute or less on a quiet two-core machine: at
# its default size, or at the smaller one given here (docs/performance.md has the commands of
# the published figures). campaign_workers.py needs PostgreSQL (BENCH_POSTGRES) and a Redis
# broker on 6379; it is skipped, loudly, when that server does not answer. canvas_frames.py
# needs Chromium and the built UI.
BENCH_POSTGRES ?= $(PG_SERVER)
bench: install chromium ui-build
	@for script in benchmarks/[!_]*.py; do \
		case "$$script" in \
			*/campaign_page.py) args="--contacts 200000";; \
			*/campaign_workers.py) \
				if ! $(UV) run python scripts/pg_ready.py "$(BENCH_POSTGRES)"; then \
					echo "!!!! SKIPPING $$script: no PostgreSQL at $(BENCH_POSTGRES) !!!!"; continue; \
				fi; \
				args="--contacts 20000 --db $(BENCH_POSTGRES)";; \
			*) args="";; \
		esac; \
		echo "== $$script $$args"; $(UV) run python "$$script" $$args || exit 1; \
	done
