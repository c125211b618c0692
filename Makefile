# The front door. `make demo` and `make test` do all their set-up themselves.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
DEMO_DATE ?= 2026-11-30T21:00:00Z
DEMO_SIZE ?= 300

.PHONY: setup demo test bench lint clean

setup: $(VENV)/.installed $(SAM_VENV)/.installed

$(VENV)/.installed: requirements-dev.txt layers/ws_autopilot/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv
	$(UV) pip install --quiet --python $(PY) -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt $(VENV)/.installed
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(SAM_VENV)
	$(UV) pip install --quiet --python $(SAM_VENV)/bin/python -r requirements-sam.txt
	touch $@

## Runs the daily optimization end to end on a simulated fleet (no AWS account needed).
demo: $(VENV)/.installed
	$(PY) -m tests.support.demo --date $(DEMO_DATE) --size $(DEMO_SIZE)

## The daily optimization on simulated fleets of 1,000, 10,000 and 50,000 WorkSpaces (not part of `make test`).
BENCH_SIZES ?= 1000,10000,50000
bench: $(VENV)/.installed
	mkdir -p build
	$(PY) -m tests.support.bench --sizes $(BENCH_SIZES) --json build/bench.json

## Lint, template checks and every test.
test: setup lint
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam build
