# linktrack.https: the two commands a newcomer runs are `make demo` and `make test`.
# Every target installs what it needs through tests/bin/bootstrap.sh first.
# Two supported Ansible lines, "legs" (tests/bin/legs.sh): oldest = ansible 12
# (ansible-core 2.19, Python 3.11, .venv), newest = ansible 14 (ansible-core
# 2.21, Python 3.12, .tmp/venv-newest). `make test` runs both; LEGS=newest (or
# oldest) narrows the test targets and the benchmark to one, LEG picks the demo's.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.tmp/collections
export PYTHONDONTWRITEBYTECODE := 1
LEGS ?= oldest newest
export LEGS
LEG ?= oldest

.PHONY: help bootstrap demo test units sanity lint docs-lint docs integration molecule \
        sandbox-up sandbox-down sandbox-status benchmark build clean

help:
	@echo "make demo      run the setup playbook against the local sandbox and print what it made (LEG=oldest|newest)"
	@echo "make test      run the whole suite (units, sanity, lint, docs, integration, molecule) on both legs"
	@echo "make sandbox-up / sandbox-down / sandbox-status"
	@echo "make units | sanity | lint | docs-lint | docs | integration | molecule | benchmark | build"
	@echo "               (LEGS=\"oldest newest\" by default; e.g. make integration LEGS=newest)"

bootstrap:
	@bash tests/bin/bootstrap.sh $(LEGS)

sandbox-up:
	@bash tests/bin/bootstrap.sh oldest
	@$(PY) sandbox/sandbox.py up

sandbox-down:
	@if [ -x "$(PY)" ]; then $(PY) sandbox/sandbox.py down; else echo "sandbox: nothing to stop (no .venv)"; fi

sandbox-status:
	@bash tests/bin/bootstrap.sh oldest
	@$(PY) sandbox/sandbox.py status

demo:
	@bash tests/bin/bootstrap.sh $(LEG)
	@LEG=$(LEG) bash tests/bin/demo.sh

# always both legs, whatever LEGS says: a missing Python 3.12 fails here
test:
	@bash tests/bin/bootstrap.sh oldest newest
	@LEGS="oldest newest" bash tests/bin/run-tests.sh all

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
	@$(PY) tests/benchmarks/bench.py --leg $(LEGS) --n $(or $(N),1 10 50) --rounds $(or $(ROUNDS),2)

build:
	@bash tests/bin/bootstrap.sh oldest
	@mkdir -p build && ansible-galaxy collection build --force --output-path build .

clean: sandbox-down
	rm -rf .tmp build tests/output
