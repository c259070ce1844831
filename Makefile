# openssl-recipes — `make certs` and `make test` do everything on a fresh machine.
# Override: make certs RECIPE=other.yaml OUT=/tmp/pki   (PYTHON=python3.12, JOBS=4)

PYTHON ?= python3
VENV   ?= .venv
RECIPE ?= recipes.yaml
OUT    ?=
JOBS   ?=
# `make handshake` also tries your NanoMQ when one is found: $(NANOMQ), or `nanomq` on PATH
NANOMQ ?= $(shell command -v nanomq 2>/dev/null)

BIN    := $(VENV)/bin
TOOL   := $(BIN)/openssl-recipes
ARGS   := --recipe $(RECIPE) $(if $(OUT),--out $(OUT),)

.PHONY: certs plan script conf verify handshake test test-fast lint bench clean distclean help

help:
	@echo "make certs      build the PKI from $(RECIPE) (creates $(VENV) if needed)"
	@echo "make plan       print the openssl commands a build runs (dry run)"
	@echo "make script     print a standalone bash script that builds the PKI without the tool"
	@echo "make conf       render the NanoMQ configuration for the PKI"
	@echo "make verify     check every certificate (chain, key, names, expiry, modes)"
	@echo "make handshake  live mutual-TLS check on 127.0.0.1 (and in your NanoMQ when one is found)"
	@echo "make test       run the whole test suite (real openssl, mosquitto, NanoMQ, Go, mbedTLS)"
	@echo "make test-fast  all but tests/brokers, tests/verifiers and tests/e2e, on two workers (about 40 s)"
	@echo "make lint       ruff (lint and format) and import-linter (the folders' layers)"
	@echo "make bench      each performance target beside its figure (bench/run.py)"
	@echo "make clean      remove the generated certificates (only the recipe's files)"
	@echo "make distclean  clean, then remove $(VENV) and the test caches"

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,nanomq]'
	@touch $@

# The package's bytecode, written even where PYTHONDONTWRITEBYTECODE is set (an editable install
# otherwise compiles every module on every run: ~30 ms of each start-up, measured)
$(VENV)/.compiled: $(VENV)/.installed $(shell find openssl_recipes -name "*.py")
	@$(BIN)/python -m compileall -q openssl_recipes >/dev/null
	@touch $@

certs: $(VENV)/.compiled
	$(TOOL) build $(ARGS) $(if $(JOBS),--jobs $(JOBS),)

plan: $(VENV)/.compiled
	$(TOOL) plan $(ARGS)

script: $(VENV)/.compiled
	$(TOOL) plan --script $(ARGS)

conf: $(VENV)/.compiled
	$(TOOL) conf nanomq --recipe $(RECIPE) $(if $(OUT),--certs $(OUT),)

verify: $(VENV)/.compiled
	$(TOOL) verify $(ARGS)

handshake: $(VENV)/.compiled
	$(TOOL) handshake $(ARGS) $(if $(NANOMQ),--nanomq $(NANOMQ),)

test: $(VENV)/.compiled
	$(BIN)/python -m pytest -q

test-fast: $(VENV)/.compiled
	$(BIN)/python -m pytest -q -m "not broker and not verifier and not e2e" -n 2

lint: $(VENV)/.installed
	$(BIN)/ruff check openssl_recipes tests bench
	$(BIN)/ruff format --check openssl_recipes tests bench
	$(BIN)/lint-imports

bench: $(VENV)/.compiled
	$(BIN)/python bench/run.py

clean: $(VENV)/.compiled
	$(TOOL) clean $(ARGS)

distclean: clean
	rm -rf $(VENV) .pytest_cache .hypothesis
