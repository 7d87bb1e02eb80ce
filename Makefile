# linktrack.https: the two commands a newcomer runs are `make demo` and `make test`.
# Every target installs what it needs through tests/bin/bootstrap.sh first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.tmp/collections
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help bootstrap demo test units sanity lint docs-lint docs integration molecule \
        sandbox-up sandbox-down sandbox-status benchmark build clean

help:
	@echo "make demo      run the setup playbook against the local sandbox and print what it made"
	@echo "make test      run the whole suite (units, sanity, lint, docs, integration, molecule)"
	@echo "make sandbox-up / sandbox-down / sandbox-status"
	@echo "make units | sanity | lint | docs-lint | docs | integration | molecule | benchmark | build"

bootstrap:
	@bash tests/bin/bootstrap.sh

sandbox-up: bootstrap
	@$(PY) tests/sandbox/sandbox.py up

sandbox-down:
	@if [ -x "$(PY)" ]; then $(PY) tests/sandbox/sandbox.py down; else echo "sandbox: nothing to stop (no .venv)"; fi

sandbox-status: bootstrap
	@$(PY) tests/sandbox/sandbox.py status

demo: bootstrap
	@bash tests/bin/demo.sh

test: bootstrap
	@bash tests/bin/run-tests.sh all

units: bootstrap
	@bash tests/bin/run-tests.sh units

sanity: bootstrap
	@bash tests/bin/run-tests.sh sanity

lint: bootstrap
	@bash tests/bin/run-tests.sh lint

docs-lint: bootstrap
	@bash tests/bin/run-tests.sh docs-lint

docs: bootstrap
	@bash tests/bin/run-tests.sh docs

integration: bootstrap
	@bash tests/bin/run-tests.sh integration

molecule: bootstrap
	@bash tests/bin/run-tests.sh molecule

benchmark: bootstrap
	@$(PY) tests/benchmarks/bench.py --n $(or $(N),1 10 50) --rounds $(or $(ROUNDS),2)

build: bootstrap
	@mkdir -p build && ansible-galaxy collection build --force --output-path build .

clean: sandbox-down
	rm -rf .tmp build tests/output
