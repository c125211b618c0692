# The front door. `make demo` and `make test` do all their set-up themselves.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
DEMO_DATE ?= 2026-11-30T21:00:00Z
DEMO_SIZE ?= 300
# More options for the demo, e.g. DEMO_ARGS="--parameter ThresholdSource=Parameters --parameter EnableLoginEvents=false"
DEMO_ARGS ?=

.PHONY: setup demo invoke test unit integration bench bench-logins lint clean

# --compile-bytecode: uv writes no .pyc by default, and this machine sets PYTHONDONTWRITEBYTECODE,
# so every process (each pytest worker, the demo, the SAM CLI) would compile its imports again.
setup: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed

$(VENV)/.installed: requirements-dev.txt layers/ws_autopilot/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt $(VENV)/.installed
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(SAM_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(SAM_VENV)/bin/python -r requirements-sam.txt
	touch $@

# checkov pins its own dependencies: it gets a virtual environment of its own, like the SAM CLI.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt $(VENV)/.installed
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(CHECKOV_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

## Runs the daily optimization end to end on a simulated fleet (no AWS account needed).
demo: $(VENV)/.installed
	$(PY) -m tools.demo --date $(DEMO_DATE) --size $(DEMO_SIZE) $(DEMO_ARGS)

## One handler with one sample event against a seeded simulator (`sam local invoke` needs Docker):
## make invoke FUNCTION=optimize_directory EVENT=events/optimize_directory.json
invoke: $(VENV)/.installed
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<functions/ folder> EVENT=events/<file>.json"; exit 2; }
	$(PY) -m tools.invoke --function $(FUNCTION) --event $(EVENT)

## The daily optimization on simulated fleets of 1,000, 10,000 and 50,000 WorkSpaces (not part of `make test`).
BENCH_SIZES ?= 1000,10000,50000
bench: $(VENV)/.installed
	mkdir -p build
	$(PY) -m tools.bench --sizes $(BENCH_SIZES) --json build/bench.json

## A login storm: 10,000 logins in 10 minutes (virtual time), half from WorkSpaces the daily run
## has not seen (not part of `make test`).
BENCH_LOGINS ?= 10000
bench-logins: $(VENV)/.installed
	mkdir -p build
	$(PY) -m tools.bench_logins --logins $(BENCH_LOGINS) --json build/bench_logins.json

## Remediation scans of 200 accounts and regions (20 x 10) with an incident (not part of `make test`).
.PHONY: bench-remediation
bench-remediation: $(VENV)/.installed
	mkdir -p build
	$(PY) -m tools.bench_remediation --json build/bench_remediation.json

## Lint, types, template checks (cfn-lint, checkov, sam validate and build) and every test, once,
## with the machine's clock moved years past every date the tests freeze (libfaketime): nothing a
## test reads may depend on the wall clock except through its frozen clock. The simulator's SQS,
## for one, drops messages 4 days old by the clock it reads. Under libfaketime a timed wait on a
## lock or queue never times out (docs/decisions.md). `make test CLOCK_CHECK_DATE=` runs the
## suite on the real clock; so does a machine without faketime (not Debian, not root), saying so,
## except under CI (CI=true), which insists on the moved clock.
# Tests run on every core (pytest-xdist), the slow ones first, and a worker that runs out takes
# tests queued for another: each test has its own simulator and frozen clock.
CLOCK_CHECK_DATE ?= 2030-06-15 12:00:00
PYTEST := $(PY) -m pytest -n auto --dist worksteal
test: setup lint
	@if [ -n "$(CLOCK_CHECK_DATE)" ] && ! command -v faketime >/dev/null && command -v apt-get >/dev/null \
		&& [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq faketime) >/dev/null 2>&1 || true; fi
	@if [ -z "$(CLOCK_CHECK_DATE)" ]; then \
		echo "pytest with the machine's clock at its real time"; $(PYTEST); \
	elif command -v faketime >/dev/null; then \
		echo "pytest with the machine's clock at $(CLOCK_CHECK_DATE)"; faketime '$(CLOCK_CHECK_DATE)' $(PYTEST); \
	elif [ "$(CI)" = "true" ]; then \
		echo "CI runs the suite with the clock moved: it needs faketime (Debian package faketime)"; exit 1; \
	else \
		echo "NOTE: faketime is not installed (Debian package faketime): the suite runs on the real clock,"; \
		echo "      so it cannot show that no test depends on today's date. CI does."; $(PYTEST); \
	fi

## The unit tests alone (no simulator, no SAM CLI): seconds.
unit: $(VENV)/.installed
	$(PYTEST) tests/unit

## The integration tests alone: the handlers and state machines end to end on the simulator.
integration: $(VENV)/.installed
	$(PYTEST) tests/integration

## The digest sample (docs/digest-sample.html) regenerated and rendered to build/digest-sample.png
## with headless Chromium (Debian package chromium; not part of `make test`), to look at it.
CHROMIUM ?= chromium
DIGEST_PNG_SIZE ?= 900,4400
.PHONY: digest-png
digest-png: $(VENV)/.installed
	@command -v $(CHROMIUM) >/dev/null || { echo "digest-png needs Chromium: apt-get install chromium (or make digest-png CHROMIUM=<path>)"; exit 1; }
	$(PY) -m tools.digest_sample > docs/digest-sample.html
	mkdir -p build
	@# Chromium's own chatter (D-Bus, GPU) goes to a log, shown only when it fails.
	$(CHROMIUM) --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot=build/digest-sample.png \
		--window-size=$(DIGEST_PNG_SIZE) file://$(CURDIR)/docs/digest-sample.html 2>build/chromium.log \
		|| { cat build/chromium.log; exit 1; }
	@echo "written: build/digest-sample.png"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam build
