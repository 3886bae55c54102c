# Better Work buyer-engagement API. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help setup sysdeps run test lint typecheck pytest replicas fmt token bench audit lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q "uv==$(UV_VERSION)" || true
	@if [ -x $(BIN)/uv ]; then \
		$(BIN)/uv pip sync -q --python $(PY) requirements.lock && \
		$(BIN)/uv pip install -q --python $(PY) --no-deps -e . ; \
	else \
		$(PY) -m pip install -q -r requirements.lock && $(PY) -m pip install -q --no-deps -e . ; \
	fi
	@rm -f $(VENV)/.installed-*; touch $@

setup: $(STAMP) ## Create the virtual environment and install the locked dependencies

sysdeps: ## Install the Debian packages the tests use (deploy/system-packages.txt), only those missing
	@deploy/system-packages.sh

run: setup ## Start the gateway and all services on SQLite under var/ (Ctrl-C stops all)
	@$(PY) -m shared.stack

lint: setup ## Check style (ruff); `make fmt` fixes
	@$(BIN)/ruff check .

typecheck: setup ## Check types (mypy)
	@$(BIN)/mypy shared gateway services bench deploy tests

pytest: setup ## Run the test suite only
	@$(PY) -m pytest $(PYTEST_ARGS)

# A pass of its own, after the main suite has let go of its database connections: the e2e
# directory on two processes of every service and of the gateway (issue 13).
replicas: setup ## Run the e2e suite on two replicas of every component
	@BW_TEST_REPLICAS=2 $(PY) -m pytest tests/e2e --ignore=tests/e2e/test_pgbouncer.py -p no:cacheprovider

test: sysdeps lint typecheck pytest replicas ## Lint, type-check and run the whole suite, then its replica pass (PostgreSQL at 127.0.0.1:5432)

fmt: setup ## Fix formatting and the lint findings that can be fixed
	@$(BIN)/ruff check --fix . ; $(BIN)/ruff format .

token: setup ## Print a dev token: make token ROLE=partner ORG=brand-1 [COUNTRIES=BD,KH]
	@$(PY) -m shared.tokens --role "$(ROLE)" --org "$(ORG)" --countries "$(COUNTRIES)"

bench: setup ## Run the benchmarks and print the figures
	@$(PY) -m bench $(BENCH_ARGS)

audit: setup ## After an incident: cross-check unlocks against billing (make audit [URL=http://127.0.0.1:8000])
	@$(PY) -m services.reports.cli --url "$(or $(URL),http://127.0.0.1:8000)"

lock: ## Re-resolve requirements.lock from pyproject.toml
	@$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11 -q

clean: ## Remove the virtual environment and local databases
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
