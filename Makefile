# The two commands of the README. Both work on a fresh machine with python3, pip and npm.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: demo test lint bench clean docker-compose

demo: $(VENV)/.installed
	$(BIN)/x402-harness demo

test: $(VENV)/.installed-dev node_modules/.installed docker-compose
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(PYTEST_WORKERS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed-dev node_modules/.installed
	$(BIN)/python bench/verify.py

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

# docker-compose validates docker-compose.yml without an engine; Debian packages it.
docker-compose:
	@command -v docker-compose >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get install -y -q docker-compose >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q docker-compose >/dev/null; }; }

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis
