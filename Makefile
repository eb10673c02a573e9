# Each target bootstraps .venv by itself: a fresh clone needs only `make demo` or `make test`.
# `make demo` installs the package alone (its runtime dependencies); the other targets
# install the dev extra (tests, linters, the SDKs, mkdocs). Neither touches the system.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUM := $(shell cksum < pyproject.toml | cut -d' ' -f1)
DEV := $(VENV)/.installed-dev-$(SUM)
RUN := $(VENV)/.installed-run-$(SUM)

.PHONY: demo test test-httpcore docs lint typecheck bench clean

$(DEV): pyproject.toml
	@echo "Installing holysheep-client with the dev extra into $(VENV) (tests, linters, SDKs, mkdocs)"
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip -q
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(DEV) $(RUN)

# The demo needs only the package: no dev tools, no SDKs. For a fast first run the
# venv gets no pip of its own when the outer one can install into it (pip --python),
# and nothing is byte-compiled ahead (imports compile what they use). pip's own lines
# show the progress.
$(RUN): pyproject.toml
	@echo "Installing holysheep-client (runtime dependencies only) into $(VENV); pip's progress follows"
	@test -x $(BIN)/python || $(PY) -m venv --without-pip $(VENV)
	@if $(BIN)/python -m pip --version >/dev/null 2>&1; then pip="$(BIN)/python -m pip"; \
	elif $(PY) -m pip --python $(BIN)/python --version >/dev/null 2>&1; then \
		pip="$(PY) -m pip --python $(BIN)/python"; \
	else $(BIN)/python -m ensurepip -q && pip="$(BIN)/python -m pip"; fi; \
	$$pip install --no-input --no-compile -e .
	@rm -f $(VENV)/.installed-run-*
	@touch $(RUN)

demo: $(RUN)
	$(BIN)/python -m holysheep_client demo

test: $(DEV)
	$(BIN)/ruff check src tests examples $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site
	$(BIN)/python -m pytest -q

# The whole suite with httpcore as the async pool default (aiohttp is the default).
test-httpcore: $(DEV)
	HOLYSHEEP_TEST_POOL_BACKEND=httpcore $(BIN)/python -m pytest -q

docs: $(DEV)
	$(BIN)/mkdocs build --strict --site-dir $(VENV)/site

lint: $(DEV)
	$(BIN)/ruff check src tests examples $(wildcard bench)
	$(BIN)/ruff format --check src tests examples $(wildcard bench)
	$(BIN)/mypy

bench: $(DEV)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.hedging
	$(BIN)/python -m bench.shadow

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
