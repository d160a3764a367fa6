# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit tools bench bench-bridges chaos soak clean

$(STAMP): pyproject.toml
	bash scripts/test-tools.sh  # C headers the dev extras build against (mysqlclient)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	cd examples && ../$(BIN)/python demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/activejob

tools:
	bash scripts/test-tools.sh

unit: $(STAMP) tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-bridges: $(STAMP)
	$(BIN)/python bench/bridges.py
# Not part of `make test` (a small size of it is): kill -9 and server restarts.
chaos: $(STAMP)
	$(BIN)/python bench/chaos.py $(CHAOS_ARGS)

# 1,000,000 no-op jobs through one worker per backend: RSS, fds, speed, store size.
soak: $(STAMP)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
