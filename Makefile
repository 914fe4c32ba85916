# Developer entry points. Needs only python3 (with venv and pip) and network access to PyPI.
#   make demo    virtualenv + dependencies, local SQLite database, demo tenant, then the API server,
#                mock ERP and fleet simulator together, telling one cold-chain loop as it happens
#                (SUPPLYLINE_DEMO_EXIT_AFTER_LOOP=1: exit 0 after the loop, 1 without one in 120 s)
#   make test    ruff, ruff format --check, mypy, import-linter contracts, then pytest on
#                TEST_WORKERS processes (default 2; TEST_WORKERS=0 runs in one)
#   make lint    the static checks of `make test`, without the tests
#   make bench   the benchmarks (import, HTTP ingest, MQTT, rules, scoped reads, trace, forecast, console
#                page loads, Parquet export): one JSON object a line on stdout
#   make console the console's front end: `npm ci` in console/ (the npm registry, package-lock.json),
#                then its libraries and our own console/src copied into
#                src/supplyline/console/static/{vendor,app} (git-ignored; the wheel ships them)
#   make browser Debian's chromium for the browser tests (apt-get, only when /usr/bin/chromium is absent)
#   make screenshots  a PNG of every console view on the demo data (a temporary SQLite database),
#                taken by chromium as the person each view is for, into docs/screenshots/
#   make clean   remove the virtualenv and tool caches (the demo data in data/ is kept)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Dependencies are installed again only when pyproject.toml is newer than this stamp.
STAMP  := $(VENV)/.installed-dev
HERE   := $(abspath $(VENV))
# pytest-xdist workers: each has its own PostgreSQL schema, SQLite files and MQTT topics.
TEST_WORKERS ?= 2

# The stamp records which directory the venv was installed for; a venv that has been moved or
# copied (its scripts name their interpreter by absolute path) is not trusted.
ifneq ($(wildcard $(STAMP)),)
ifneq ($(file < $(STAMP)),$(HERE))
$(shell rm -f $(STAMP))
endif
endif

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint bench clean console browser screenshots

help:
	@echo "make demo | test | lint | bench | console | browser | screenshots | clean"

$(STAMP): pyproject.toml
	@if $(BIN)/python -c '' 2>/dev/null && \
	    case "$$(head -n1 $(BIN)/pip 2>/dev/null)" in "#!$(HERE)/bin/python"*) true;; *) false;; esac; \
	then :; else \
	    echo "$(PYTHON) -m venv --clear $(VENV)"; $(PYTHON) -m venv --clear $(VENV); \
	fi
	$(BIN)/python -m pip install --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	@echo '$(HERE)' > $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/supplyline demo --loop

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint console browser
	$(BIN)/pytest -n $(TEST_WORKERS)

# The console bench needs the built pages; building them says nothing on stdout.
bench: $(STAMP)
	@$(MAKE) --no-print-directory -s console >&2
	@$(BIN)/supplyline bench import --json
	@$(BIN)/supplyline bench ingest --json
	@$(BIN)/supplyline bench mqtt --json
	@$(BIN)/supplyline bench rules --json
	@$(BIN)/supplyline bench scoped-read --json
	@$(BIN)/supplyline bench trace --json
	@$(BIN)/supplyline bench forecast --json
	@$(BIN)/supplyline bench console --json
	@$(BIN)/supplyline bench export --json

# The console: npm ci again only when the lock file changes (npm ci writes this file last).
CONSOLE_STATIC := src/supplyline/console/static
CONSOLE_DEPS   := console/node_modules/.package-lock.json
NPM_MODULES    := console/node_modules

$(CONSOLE_DEPS): console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund
	@touch $@

console: $(CONSOLE_DEPS)
	rm -rf $(CONSOLE_STATIC)/vendor $(CONSOLE_STATIC)/app
	mkdir -p $(CONSOLE_STATIC)/vendor/uplot $(CONSOLE_STATIC)/app
	cp $(NPM_MODULES)/uplot/dist/uPlot.esm.js $(NPM_MODULES)/uplot/dist/uPlot.min.css \
	   $(NPM_MODULES)/uplot/LICENSE $(CONSOLE_STATIC)/vendor/uplot/
	cp -R console/src/. $(CONSOLE_STATIC)/app/

# Browser tests drive Debian's chromium (Playwright with executable_path; it never downloads
# a browser of its own). Root in CI; sudo elsewhere.
CHROMIUM ?= /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	@if [ -x $(CHROMIUM) ]; then echo "$(CHROMIUM) is there"; else \
	    export DEBIAN_FRONTEND=noninteractive; \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core </dev/null; \
	fi

screenshots: $(STAMP) console browser
	$(BIN)/supplyline console screenshots --out docs/screenshots --chromium $(CHROMIUM)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
	rm -rf $(NPM_MODULES) $(CONSOLE_STATIC)/vendor $(CONSOLE_STATIC)/app
	find src tests -name __pycache__ -type d -prune -exec rm -rf {} +
