# Two commands do everything: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON310 ?= $(shell command -v python3.10 2>/dev/null || echo "$$(pyenv root 2>/dev/null)/versions/3.10.13/bin/python")
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL := 3

WIDGET_TESTS := tests/e2e/widget
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver

PYTEST := $(BIN)/python -m pytest
# A test run that collects nothing (pytest's exit code 5) proves nothing: it fails, saying so.
define pytest
	$(PYTEST) $(1) || { status=$$?; [ $$status -ne 5 ] || echo "pytest collected no tests: $(1)" >&2; exit $$status; }
endef

.PHONY: install run test test-fast train eval lint validate browser bench

# Reinstall only when the dependencies change.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON310) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<24.1" "setuptools>=64" wheel
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/healthbot run

train: install
	$(BIN)/healthbot train

eval: install
	@$(BIN)/healthbot eval

validate: install
	$(BIN)/healthbot validate

# Load figures of this system (PostgreSQL + Redis) and of a plain `rasa run`, as JSON lines.
bench: install
	$(BIN)/healthbot bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check bot actions channels tests

# The browser tests need Debian's Chromium and axe-core from the npm registry.
browser: $(WIDGET_TESTS)/node_modules/.package-lock.json
	@command -v chromium >/dev/null || $(APT_INSTALL) || (apt-get update -q && $(APT_INSTALL))

$(WIDGET_TESTS)/node_modules/.package-lock.json: $(WIDGET_TESTS)/package-lock.json
	npm ci --prefix $(WIDGET_TESTS) --no-audit --no-fund

# The fast tier: in-process, no service, no trained model, no browser (tests/unit/conftest.py
# fails a test that reaches for one unless it is marked `integration`).
test-fast: install
	$(call pytest,tests/unit -m "not integration")

# Everything: the fast tier first (a failure stops here), then the tests on PostgreSQL,
# Redis and subprocesses, then the end-to-end tests against the trained model and Chromium.
test: test-fast browser
	$(call pytest,tests/integration tests/unit tests/e2e -m "integration or e2e" --durations=25)
