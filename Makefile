# Two commands do everything: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON310 ?= $(shell command -v python3.10 2>/dev/null || echo "$$(pyenv root 2>/dev/null)/versions/3.10.13/bin/python")
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: install run test train eval lint validate

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

lint: install
	$(BIN)/ruff check bot actions tests

test: install
	$(BIN)/python -m pytest
