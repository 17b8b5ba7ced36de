# The two commands of the README: `make run` and `make test`. Both build on `make install`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app epro
APT_PACKAGES := poppler-utils fonts-nanum chromium postgresql wrk libharfbuzz-subset0

.PHONY: install install-test run test test-sqlite test-postgres lint translations system-packages clean bench fonts

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip 2>&1 | grep -v 'is neither a file nor a directory' || true

# What running needs, nothing more. Re-installs only when pyproject.toml changes (a stamp file in .venv).
install: $(VENV)/.installed-runtime
	@$(MAKE) --no-print-directory translations

$(VENV)/.installed-runtime: pyproject.toml | $(BIN)/python
	@$(BIN)/pip install --quiet --disable-pip-version-check -e . 2>&1 | grep -v 'BuildBackendWarning\|^ *!!\|\*\*\*\|careful with folders\|same$$\|take precedence\|WheelFile\|is neither a file nor a directory\|^ *$$' || true
	@$(BIN)/python -c 'import epro, flask, weasyprint' && touch $@

# What the tests and the font build need on top: pytest, Playwright, ruff, mypy, fonttools; axe-core from npm.
install-test: install node_modules/.package-lock.json $(VENV)/.installed-test

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,build]'
	@touch $@

# axe-core for the browser tests (tests/e2e), pinned by package-lock.json; re-installed when the lock changes.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

translations:
	@$(FLASK) translate compile >/dev/null 2>&1

# The screen fonts (static/fonts/*.woff2) from the report fonts; committed, so only after changing the tool.
fonts: install-test
	$(BIN)/python tools/web_fonts.py

instance/config.py:
	@mkdir -p instance
	@printf '%s\n' '# Local settings for this installation (git-ignored). Environment variables EPRO_* override them.' \
	  '# CLINIC_TIMEZONE = "Asia/Seoul"' '# KIOSK_IDLE_SECONDS = 180' '# STAFF_IDLE_MINUTES = 30' > $@

# Prints the demo accounts and one line about the demo server; Flask's own start-up lines are left out.
run: install instance/config.py
	@$(FLASK) init-db >/dev/null
	@set -o pipefail; $(FLASK) seed-demo | { grep -v 'Seeded the demo\|already seeded' || true; }
	@echo "Demo server with made-up patients, not for real data: http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	@set -o pipefail; $(FLASK) run --host 127.0.0.1 --port $(PORT) 2>&1 \
	  | { grep --line-buffered -v 'development server\|CTRL+C\|Serving Flask app\|Debug mode\|Running on' || true; }

# Debian packages the tests need (PDF tools, Hangul fonts, the browser); only when run as root.
system-packages:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	else echo "not root: make sure these Debian packages are installed: $(APT_PACKAGES)"; fi

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite twice: every test on SQLite, then on a throwaway PostgreSQL server (started by the tests of
# that pass only) every test whose database is the run's (tests/database_plugin.py; EPRO_TEST_PG_ALL=1:
# all of them). Two pytest workers (pytest-xdist), each test module on one; TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup)

test: system-packages install-test lint
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	EPRO_TEST_DB=sqlite $(PYTEST)

test-postgres:
	EPRO_TEST_DB=postgresql $(PYTEST)

# Benchmarks (bench/README.md): every one prints its ratios beside their targets and merges them into
# bench/results.json; a missed target is reported there, not an error (each exits 0 when it ran).
# Sized for about an hour on a quiet 2-core machine: BENCH_BULK_PATIENTS summaries in the PDF pool,
# BENCH_RSS_SUMMARIES downloads from one gunicorn worker (or as many as BENCH_RSS_BUDGET seconds allow on a
# loaded machine; the count is reported), BENCH_BUDGET seconds per study-overview measure.
BENCH_BULK_PATIENTS ?= 100
BENCH_RSS_SUMMARIES ?= 1000
BENCH_RSS_BUDGET ?= 2400
BENCH_BUDGET ?= 60
bench: system-packages install-test
	$(BIN)/python -m bench.bench_tablet
	$(BIN)/python -m bench.bench_pdf --bulk-patients $(BENCH_BULK_PATIENTS) --rss-summaries $(BENCH_RSS_SUMMARIES) --rss-budget $(BENCH_RSS_BUDGET)
	$(BIN)/python -m bench.bench_study_size
	$(BIN)/python -m bench.bench_study_overview --budget $(BENCH_BUDGET)
	$(BIN)/python -m bench.bench_export_memory

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
