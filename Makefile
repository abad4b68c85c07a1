# The two commands of the README. Both work on a fresh machine with python3, pip and npm.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: demo test lint bench clean docker-compose wrk chromium

demo: $(VENV)/.installed
	$(BIN)/x402-harness demo

test: $(VENV)/.installed-dev node_modules/.installed docker-compose wrk chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(PYTEST_WORKERS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Each benchmark with its defaults: the facilitator, the mock server, the load the stack sustains.
bench: $(VENV)/.installed-dev node_modules/.installed wrk
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/server.py
	$(BIN)/python bench/load.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev,load]'
	touch $@ $(VENV)/.installed

# Anvil (the local chain) and solc (the token compiler) come from the npm registry, pinned in
# package.json; the Anvil binary ships inside the registry package.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# A Debian package, installed when its command is missing: $(call apt_install,COMMAND,PACKAGE).
define apt_install
	@command -v $(1) >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get install -y -q $(2) >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q $(2) >/dev/null; }; }
endef

# docker-compose validates docker-compose.yml without an engine; Debian packages it.
docker-compose:
	$(call apt_install,docker-compose,docker-compose)

# wrk sends the benchmarks' HTTP load (and tests/bench checks that it runs its script).
wrk:
	$(call apt_install,wrk,wrk)

# The inspector's browser test drives Debian's chromium with Playwright (Playwright's own browser
# download does not work offline).
chromium:
	$(call apt_install,chromium,chromium)

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis
