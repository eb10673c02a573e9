# Each target bootstraps .venv by itself: a fresh clone needs only `make demo` or `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m holysheep_client demo

test: $(STAMP)
	command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server) >/dev/null 2>&1 || echo "redis-server unavailable: the shared-state tests skip"
	$(BIN)/ruff check src tests examples $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests examples $(wildcard bench)
	$(BIN)/ruff format --check src tests examples $(wildcard bench)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.hedging

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
