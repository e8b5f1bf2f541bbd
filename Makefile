# Every command a newcomer needs. `make run` and `make test` install what they need first.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.uv-bootstrap/bin/uv)
PG_URL ?= postgres://postgres@127.0.0.1:5432/paperclub
BENCH_DB_URL ?= postgres://postgres@127.0.0.1:5432/paperclub_bench
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-e2e test-postgres bench fmt lint migrations-check check-deploy serve-prod

# uv itself, when the machine has none: a private virtualenv holding it.
$(CURDIR)/.uv-bootstrap/bin/uv:
	python3 -m venv $(CURDIR)/.uv-bootstrap
	$(CURDIR)/.uv-bootstrap/bin/pip install --quiet uv

install: $(UV)
	$(UV) sync --frozen --quiet
	@# axe-core for the browser tests' accessibility checks, when npm is available.
	@if command -v npm >/dev/null && [ ! -f node_modules/axe-core/axe.min.js ]; then \
	  npm ci --no-audit --no-fund --silent; fi

run: install
	DEBUG=1 env -u DATABASE_URL $(UV) run python manage.py migrate --noinput
	DEBUG=1 env -u DATABASE_URL $(UV) run python manage.py seed_demo
	@echo "Paper Club is at http://$(HOST):$(PORT)/ (emails are printed here by the worker)"
	DEBUG=1 SITE_URL=http://$(HOST):$(PORT) env -u DATABASE_URL $(UV) run python manage.py db_worker --no-reload & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  DEBUG=1 SITE_URL=http://$(HOST):$(PORT) env -u DATABASE_URL $(UV) run python manage.py runserver $(HOST):$(PORT)

# The whole suite; the browser tests in it run when Chromium is installed.
test: install
	$(UV) run pytest $(PYTEST_ARGS)

# Only the browser tests (Playwright + Debian's Chromium); screenshots go to test-artifacts/.
test-e2e: install
	@command -v chromium >/dev/null || { echo "Install Chromium first: apt-get install chromium"; exit 1; }
	$(UV) run pytest tests/e2e $(PYTEST_ARGS)

test-postgres:
	DATABASE_URL=$(PG_URL) $(MAKE) test

# Load test on PostgreSQL (BENCHMARKS.md): recreates the database in BENCH_DB_URL, serves the
# app with gunicorn on 127.0.0.1:8901 and drives it with wrk. Takes about ten minutes.
bench: install
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "Install wrk first: sudo apt-get install wrk"; exit 1; fi; }
	DEBUG=0 DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=$(BENCH_DB_URL) \
	  SECRET_KEY=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  $(UV) run python -m bench.run $(BENCH_ARGS)

fmt: install
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

lint: install
	$(UV) run ruff format --check .
	$(UV) run ruff check .

migrations-check: install
	DEBUG=1 $(UV) run python manage.py makemigrations --check --dry-run

check-deploy: install
	DEBUG=0 SECRET_KEY=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  ALLOWED_HOSTS=paperclub.example.org $(UV) run python manage.py check --deploy --fail-level WARNING

# Production-style server: gunicorn, DEBUG off. Needs SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL.
serve-prod: install
	$(UV) run python manage.py collectstatic --noinput
	$(UV) run python manage.py migrate --noinput
	$(UV) run python manage.py db_worker --no-reload & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(UV) run gunicorn paperclub.wsgi --bind $(HOST):$(PORT) --workers 2
