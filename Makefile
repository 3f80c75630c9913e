# Waypoint: `make run` to try it, `make test` to check it. Both set everything up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=

.PHONY: run test lint format browser-deps benchmarks clean

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Waypoint needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-test.txt
	$(PIP) install --quiet -r requirements-test.txt
	touch $@

## run: set up, migrate, load demo data up to yesterday into an empty database (with proposals, and a few
## decisions made two weeks ago with their outcomes since), print the demo logins, serve on 127.0.0.1:8000;
## `make run MIX=1` also loads the channel mix world (weekly totals; see README "Channel mix")
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty $(if $(MIX),--mix,)
	$(PY) manage.py demo_outcomes --if-no-outcomes
	$(PY) manage.py generate_proposals
	@echo "Waypoint on Django's development server: for trying it, not for production (see README \"Production stack\")."
	$(PY) manage.py runserver 127.0.0.1:8000

## test: install the test requirements and run the whole suite (DATABASE_URL / REDIS_URL choose the services)
test: $(VENV)/.test-installed
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## browser-deps: Debian's Chromium for the browser tests (root, Debian/Ubuntu); never a downloaded browser
browser-deps:
	@if [ -x /usr/bin/chromium ]; then echo "chromium already installed"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.test-installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## benchmarks: print the benchmark tables (see README "Benchmarks"); needs DATABASE_URL for PostgreSQL numbers
benchmarks: $(VENV)/.test-installed
	$(PY) benchmarks/import_benchmark.py
	$(PY) benchmarks/engine_speed.py
	$(PY) -m benchmarks.engine_quality
	$(PY) -m benchmarks.pacing_benchmark
	$(PY) -m benchmarks.mix_benchmark
	$(PY) -m benchmarks.clv_benchmark
	$(PY) benchmarks/deal_import_benchmark.py
	$(PY) -m benchmarks.uplift_benchmark
	$(PY) -m benchmarks.data_health_benchmark

clean:
	rm -rf $(VENV) staticfiles test-artifacts
