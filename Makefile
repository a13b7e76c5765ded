# werkplek — the two set-up commands are `make run` and `make test`; everything else is for developers.
SHELL := /bin/bash
PY := .venv/bin/python
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: ## install what is missing (Debian packages, Kafka jars, Python virtualenv)
	@bash infra/install.sh

infra-up: ## start PostgreSQL and Kafka, create topics, apply migrations (idempotent)
	@bash infra/up.sh

infra-down: ## stop the local stack (data is kept under .data/)
	@bash infra/down.sh

infra-status: ## one line per part of the stack
	@bash infra/status.sh && $(PY) -m werkplek_common.cli status

run: ## install, start the stack and every service, show a live status line (Ctrl-C stops the services)
	@bash infra/run.sh

test: ## install, start a fresh test stack, run all tests, stop it
	@bash infra/test.sh

test-up: ## start the test stack without wiping it (for running single tests: make pytest T=tests/unit)
	@source infra/testenv.sh && bash infra/up.sh

pytest: ## run pytest against the running test stack; T= selects tests
	@source infra/testenv.sh && $(PY) -m pytest $(T)

lint: ## ruff and mypy, and the event contract's drift check
	@$(PY) -m ruff check .
	@$(PY) -m mypy events services tests
	@$(PY) -m werkplek_events.schemas --check
	@$(PY) -m werkplek_mentor_feedback.contract --check

schemas: ## regenerate JSON Schemas and the AsyncAPI document from the models (refuses breaking changes)
	@$(PY) -m werkplek_events.schemas
	@$(PY) -m werkplek_mentor_feedback.contract

lock: ## re-resolve requirements.lock from pyproject.toml (after adding or changing a pin); UPGRADE=pkg moves one
	@$(PY) -m uv pip compile pyproject.toml --group dev --group build --group bench-peers --universal --python-version 3.11 \
	  --generate-hashes --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade-package $(UPGRADE)) \
	  -o requirements.lock --quiet
	@$(PY) -m uv pip compile bench/peers/quix-requirements.in --universal --python-version 3.11 \
	  --generate-hashes --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade-package $(UPGRADE)) \
	  -o bench/peers/quix.lock --quiet
	@bash infra/install.sh

bench: ## run the benchmarks and write bench/out/*.json
	@bash infra/bench.sh

chaos: ## the multi-replica chaos run on a stack of its own (not in make test; ARGS="--replicas 1" ...)
	@bash infra/chaos.sh $(ARGS)

.PHONY: help install infra-up infra-down infra-status run test test-up pytest lint schemas lock bench chaos
