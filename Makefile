# Dawra — one command for each thing a newcomer does. Every target installs what it needs first.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: help setup demo up test test-unit test-chaos test-browser lint bench clean

## help: list the targets and what each does
help:
	@grep -hE '^## [a-z-]+:' $(MAKEFILE_LIST) | sed -E 's/^## ([a-z-]+): /  make \1\t/' | expand -t 22


# Python environment: uv (pinned) installs exactly what uv.lock says.
$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(BIN)/python
	touch $@

## setup: the Python environment, exactly as uv.lock pins it (every other target runs this first)
setup: $(VENV)/.synced

## demo: seed catalog and stock, place orders, drive carrier webhooks over HTTP, print timelines and the outbox
demo: setup
	$(BIN)/python -m dawra.local demo

## up: run the local stack (HTTP gateway + AWS endpoint) until interrupted; FAULTS='{"dynamodb": {"throttle": 0.2}}'
## injects faults (dawra/local/faults.py)
up: setup infra-setup
	$(BIN)/python -m dawra.local up $(if $(FAULTS),--faults '$(FAULTS)')

## test: every test tier that runs offline (unit, adapters, integration, chaos, infra, bench counting; the browser
## tier too when /usr/bin/chromium is installed, as the README's setup does, and skipped saying so when it is not)
test: setup infra-setup
	$(BIN)/python -m pytest

## test-browser: the operators' console in headless Chromium (Playwright, Debian's /usr/bin/chromium); writes the
## screenshots in docs/screenshots/ (under 2 minutes)
test-browser: setup infra-setup
	$(BIN)/python -m pytest tests/e2e

## test-unit: domain and use cases with in-memory fakes (seconds; needs no AWS library)
test-unit: setup
	$(BIN)/python -m pytest tests/unit

## test-chaos: a mixed workload under injected throttling and ambiguous failures, then the invariants
test-chaos: setup
	$(BIN)/python -m pytest tests/chaos -s

## lint: ruff over the code, tests, infra and bench; mypy (strict) over dawra/ (rules in pyproject.toml)
lint: setup
	$(BIN)/ruff check dawra functions tests infra bench
	$(BIN)/mypy

## bench: benchmarks on the embedded cloud; writes bench/results.json and bench/RESULTS.md
bench: setup
	$(BIN)/python -m bench

## clean: remove the environment, node_modules and cdk.out
clean:
	rm -rf $(VENV) cdk.out node_modules

include infra/infra.mk
